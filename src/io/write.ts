import { rename, writeFile, unlink } from 'node:fs/promises';
import { unlinkSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';

/** Temporary files being written now (removed by `removePendingTemporaries` on a hard exit). */
const pending = new Set<string>();

/**
 * Writes `text` (a string, or an iterable of string chunks for outputs larger than one
 * JavaScript string may be) to `path` atomically: to a temporary file in the same
 * directory, then renamed over `path`, so a reader (or a crash) never sees a half-written
 * file.
 */
export async function writeFileAtomic(path: string, text: string | Iterable<string>): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  pending.add(tmp);
  try {
    await writeFile(tmp, text);
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  } finally {
    pending.delete(tmp);
  }
}

/** Removes the temporary files of writes still under way (before `process.exit` cuts them short). */
export function removePendingTemporaries(): void {
  for (const tmp of pending) {
    try {
      unlinkSync(tmp);
    } catch {
      // already renamed or never created
    }
  }
  pending.clear();
}
