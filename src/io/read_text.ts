/**
 * Reads a user's file (data, draws CSV, CmdStan CSV, netCDF) whole, in Node, with the reasons
 * it cannot be said plainly: no such file, a directory, a device (e.g. /dev/zero, which
 * never ends), or larger than one JavaScript string can hold. A named pipe is read as the
 * shell's `cat` would (it waits for its writer).
 */
import { open } from 'node:fs/promises';

/**
 * Most bytes of a text file: V8's longest string is 2^29 - 24 UTF-16 units (Node 20), and a
 * UTF-8 file of n bytes decodes to at most n units.
 */
export const MAX_TEXT_BYTES = 2 ** 29 - 24;

/** Why a text file cannot be read, in words ("no such file", "is a directory", ...). */
export class ReadTextError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'ReadTextError';
  }
}

function reasonOf(err: unknown): string {
  const code = (err as { code?: string }).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EISDIR') return 'is a directory, not a file';
  if (code === 'EACCES' || code === 'EPERM') return `permission denied (${code})`;
  if (code === 'ERR_STRING_TOO_LONG') return `larger than the ${MAX_TEXT_BYTES.toLocaleString('en-US')} bytes a text file can be read into`;
  return `cannot be read (${code ?? (err instanceof Error ? err.message.slice(0, 200) : String(err).slice(0, 200))})`;
}

/** The file's text (UTF-8); a ReadTextError with the reason when it cannot be had. */
export async function readTextFile(path: string): Promise<string> {
  return (await readUserFile(path, MAX_TEXT_BYTES, 'a text file can be read into')).toString('utf8');
}

/**
 * The file's bytes, at most `maxBytes` (checked from its size before reading; `what` says
 * in the message what the limit is for); a ReadTextError with the reason otherwise.
 */
export async function readUserFile(path: string, maxBytes: number, what = 'can be read'): Promise<Buffer> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    throw new ReadTextError(reasonOf(err));
  }
  try {
    const st = await fh.stat();
    if (st.isDirectory()) throw new ReadTextError('is a directory, not a file');
    if (st.isCharacterDevice() || st.isBlockDevice() || st.isSocket()) throw new ReadTextError('is a device or socket, not a file');
    if (st.size > maxBytes) {
      throw new ReadTextError(`is ${st.size.toLocaleString('en-US')} bytes: larger than the ${maxBytes.toLocaleString('en-US')} ${what}`);
    }
    const bytes = await fh.readFile();
    if (bytes.length > maxBytes) throw new ReadTextError(`is larger than the ${maxBytes.toLocaleString('en-US')} bytes ${what}`);
    return bytes;
  } catch (err) {
    throw err instanceof ReadTextError ? err : new ReadTextError(reasonOf(err));
  } finally {
    await fh.close();
  }
}
