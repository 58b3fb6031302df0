import { mkdir, open, rename, rm, writeFile, unlink } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';

/** Temporary files and directories being written now (see `removePendingTemporaries`). */
const pending = new Set<string>();

/** A temporary name next to `path`, registered as pending until `settle` is called. */
function tempName(path: string): string {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  pending.add(tmp);
  return tmp;
}

function settle(tmp: string): void {
  pending.delete(tmp);
}

/**
 * Removes the temporary files of writes still under way, for a process about to end at
 * once (`process.exit` on a second Ctrl-C), so that no half-written file stays behind.
 */
export function removePendingTemporaries(): void {
  for (const tmp of pending) rmSync(tmp, { recursive: true, force: true });
  pending.clear();
}

/**
 * Writes `data` to `path` atomically: to a temporary file in the same directory, then
 * renamed over `path`, so a reader (or a crash) never sees a half-written file.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  return writeChunksAtomic(path, [data]);
}

/**
 * Writes pieces of text or bytes to `path` atomically, one piece at a time (for outputs
 * larger than one string): a temporary file in the same directory, renamed over `path`.
 */
export async function writeChunksAtomic(path: string, chunks: Iterable<string | Uint8Array>): Promise<void> {
  const tmp = tempName(path);
  try {
    const fh = await open(tmp, 'w');
    try {
      for (const chunk of chunks) await (typeof chunk === 'string' ? fh.write(chunk) : fh.write(chunk));
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  } finally {
    settle(tmp);
  }
}

/**
 * Writes a directory of files (key → bytes, keys with '/' separators) as `path`: into a
 * temporary directory next to it, renamed into place once every file is written. An
 * existing `path` is first renamed aside and removed after the new one is in place, so
 * `path` is at every moment either the old complete directory or the new one (absent
 * only between the two renames).
 */
export async function writeDirAtomic(path: string, files: ReadonlyMap<string, Uint8Array>): Promise<void> {
  const tmp = tempName(path);
  try {
    for (const [key, bytes] of files) {
      if (key.split('/').some((p) => p === '..' || p === '')) throw new Error(`bad store key '${key}'`);
      const file = join(tmp, key);
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, bytes);
    }
    await mkdir(tmp, { recursive: true });
    let old: string | undefined;
    try {
      await rename(tmp, path);
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'EISDIR' && code !== 'ENOTDIR') throw err;
      old = `${tmp}.old`;
      await rename(path, old);
      await rename(tmp, path);
    }
    if (old) await rm(old, { recursive: true, force: true });
  } catch (err) {
    await rm(tmp, { recursive: true, force: true }).catch(() => {});
    throw err;
  } finally {
    settle(tmp);
  }
}
