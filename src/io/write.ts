/**
 * Every file FunnelWeb writes goes through here: into a temporary next to the final name,
 * every write checked (a short write is continued, an error such as ENOSPC stops it), the
 * file flushed to the disk (fsync), renamed into place, and the directory flushed after the
 * rename where the system allows. On any failure the temporary is removed and an
 * `OutputError` names the final path and the cause in plain words with the system's code
 * ("cannot write d.csv: no space left on the device: ENOSPC"): the final name never holds a
 * cut file, and a file already there is left as it was.
 */
import { mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { OutputError } from '../errors.ts';

/** Temporary files and directories being written now (see `removePendingTemporaries`). */
const pending = new Set<string>();
let tempCounter = 0;

/** A temporary name next to `path`, registered as pending until `settle` is called. */
function tempName(path: string): string {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.${tempCounter++}.tmp`);
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
 * The lowest level of a write: puts `length` bytes of `bytes` from `offset` at file position
 * `position` and returns how many it wrote, which may be fewer (a short write, as at a
 * nearly full disk); a failure throws an error with a system `code` (ENOSPC, EIO, ...).
 * The default is `FileHandle.write`; tests pass their own to inject faults.
 */
export type ByteWriter = (fh: FileHandle, bytes: Uint8Array, offset: number, length: number, position: number) => Promise<number>;

/** `FileHandle.write`, returning the number of bytes written. */
export const fileHandleWriter: ByteWriter = async (fh, bytes, offset, length, position) => (await fh.write(bytes, offset, length, position)).bytesWritten;

/** Options of the atomic writers. */
export interface WriteOptions {
  /** The low-level writer (default `fileHandleWriter`); for tests injecting ENOSPC or short writes. */
  readonly writer?: ByteWriter;
}

/** Plain words for the system error codes a write can meet. */
const CAUSES: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EIO: 'input/output error',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOENT: 'the directory does not exist',
  ENOTDIR: 'a part of the path is not a directory',
  EISDIR: 'it is a directory',
  EEXIST: 'something else is in the way',
  ENOTEMPTY: 'a non-empty directory is in the way',
  EFBIG: 'the file is too large for the file system',
  ENAMETOOLONG: 'the name is too long',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in the system',
  EXDEV: 'the temporary and the final name are on different file systems',
  ELOOP: 'too many levels of symbolic links',
  EBUSY: 'the file or device is busy',
  ESTALE: 'stale network file handle',
  ETXTBSY: 'the file is busy',
};

/** An error's system code (`ENOSPC`), or undefined for errors not from the system. */
function systemCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^E[0-9A-Z]+$/.test(code) ? code : undefined;
}

/**
 * The `OutputError` for a failed write of `path`: plain words and the code for a system
 * error; errors that are not the system's (a bug in the bytes' producer) pass unchanged.
 */
function outputError(path: string, err: unknown): unknown {
  if (err instanceof OutputError) return err;
  const code = systemCode(err);
  if (code === undefined) return err;
  return new OutputError(path, `${CAUSES[code] ?? 'system error'}: ${code}`, { cause: err });
}

/** Writes all of `bytes` at `position`, continuing after short writes; returns the new position. */
async function writeAll(fh: FileHandle, bytes: Uint8Array, position: number, writer: ByteWriter, finalPath: string): Promise<number> {
  let done = 0;
  while (done < bytes.byteLength) {
    const n = await writer(fh, bytes, done, bytes.byteLength - done, position + done);
    if (!Number.isInteger(n) || n < 0 || n > bytes.byteLength - done) {
      throw new OutputError(finalPath, `the system reported ${n} bytes written of ${bytes.byteLength - done}`);
    }
    // write(2) returns 0 for a non-empty buffer only when it cannot go on (a full device).
    if (n === 0) throw new OutputError(finalPath, `no bytes written at byte ${position + done} (no space left on the device?)`);
    done += n;
  }
  return position + done;
}

const encoder = new TextEncoder();

/** Writes the pieces to a new file `file` (which must not exist), fsyncs and closes it. */
async function writeNewFile(file: string, chunks: Iterable<string | Uint8Array>, writer: ByteWriter, finalPath: string): Promise<void> {
  const fh = await open(file, 'wx');
  let closed = false;
  try {
    let position = 0;
    for (const chunk of chunks) {
      const bytes = typeof chunk === 'string' ? encoder.encode(chunk) : chunk;
      position = await writeAll(fh, bytes, position, writer, finalPath);
    }
    await fh.sync();
    closed = true;
    // close can report a deferred write error (NFS): it is checked too.
    await fh.close();
  } finally {
    if (!closed) await fh.close().catch(() => {});
  }
}

/** Flushes a directory's entries (a rename into it) to the disk, where the system allows it. */
async function syncDir(dir: string): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch {
    // Some systems and file systems cannot open or fsync a directory; the rename stands.
  } finally {
    await fh?.close().catch(() => {});
  }
}

/**
 * Writes `data` to `path` atomically: to a temporary file in the same directory, flushed
 * and renamed over `path`, so a reader (or a crash) never sees a half-written file.
 *
 * @throws OutputError naming `path` and the cause (ENOSPC, EIO, EACCES, ...); the temporary
 *   is removed and a file already at `path` is left untouched.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array, opts: WriteOptions = {}): Promise<void> {
  return writeChunksAtomic(path, [data], opts);
}

/**
 * Writes pieces of text (as UTF-8) or bytes to `path` atomically, one piece at a time (for
 * outputs larger than one string): a temporary file in the same directory, every write
 * checked and continued after a short write, fsynced, renamed over `path`, the directory
 * fsynced after the rename.
 *
 * @throws OutputError naming `path` and the cause; the temporary is removed and a file
 *   already at `path` is left untouched. An error thrown by `chunks` itself passes unchanged
 *   (after the same clean-up).
 */
export async function writeChunksAtomic(path: string, chunks: Iterable<string | Uint8Array>, opts: WriteOptions = {}): Promise<void> {
  const writer = opts.writer ?? fileHandleWriter;
  const tmp = tempName(path);
  try {
    await writeNewFile(tmp, chunks, writer, path);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => {});
    throw outputError(path, err);
  } finally {
    settle(tmp);
  }
  await syncDir(dirname(path));
}

/**
 * Writes a directory of files (key → bytes, keys with '/' separators) as `path`: into a
 * temporary directory next to it, each file written and fsynced as by `writeChunksAtomic`,
 * renamed into place once every file is written. An existing `path` is first renamed aside
 * and removed after the new one is in place (put back if the new one cannot be), so `path`
 * is at every moment either the old complete directory or the new one (absent only between
 * the two renames).
 *
 * @throws OutputError naming `path` and the cause; the temporary directory is removed.
 */
export async function writeDirAtomic(path: string, files: ReadonlyMap<string, Uint8Array>, opts: WriteOptions = {}): Promise<void> {
  const writer = opts.writer ?? fileHandleWriter;
  for (const key of files.keys()) {
    if (key.split('/').some((p) => p === '..' || p === '.' || p === '')) throw new Error(`bad store key '${key}'`);
  }
  const tmp = tempName(path);
  let old: string | undefined;
  try {
    await mkdir(tmp);
    const dirs = new Set<string>([tmp]);
    for (const [key, bytes] of files) {
      const file = join(tmp, key);
      const parent = dirname(file);
      if (!dirs.has(parent)) {
        await mkdir(parent, { recursive: true });
        for (let d = parent; d !== tmp && !dirs.has(d); d = dirname(d)) dirs.add(d);
      }
      await writeNewFile(file, [bytes], writer, path);
    }
    for (const d of dirs) await syncDir(d);
    try {
      await rename(tmp, path);
    } catch (err) {
      const code = systemCode(err);
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'EISDIR' && code !== 'ENOTDIR') throw err;
      // Not registered as pending: if the process dies between the two renames, the old
      // directory stays beside `path` under this name rather than being removed.
      old = `${tmp}.old`;
      await rename(path, old);
      try {
        await rename(tmp, path);
      } catch (err2) {
        await rename(old, path).catch(() => {});
        throw err2;
      }
    }
  } catch (err) {
    await rm(tmp, { recursive: true, force: true }).catch(() => {});
    throw outputError(path, err);
  } finally {
    settle(tmp);
  }
  await syncDir(dirname(path));
  if (old) await rm(old, { recursive: true, force: true }).catch(() => {});
}
