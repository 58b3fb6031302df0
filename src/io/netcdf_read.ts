/**
 * Reads the groups of a netCDF-4 (HDF5) file with h5wasm. HDF5 can loop for ever on a
 * damaged file (a few flipped bytes of a small file were seen to), and that loop is
 * synchronous: the read runs in a worker thread (netcdf_worker.ts) under a time limit, and
 * a read that runs over ends the worker and is an InputError.
 */
import { Worker } from 'node:worker_threads';
import { workerLaunch } from '../worker_launch.ts';
import { readUserFile, ReadTextError } from './read_text.ts';
import { clip, InputError } from '../errors.ts';
import { nativeVerbose } from '../gpu/native_env.ts';
import { checkDims, count, labelsOf, toFloat64, type Coords, type GroupRead, type RawVar } from './inference_data_vars.ts';

/** netCDF-C names the scale of a dimension without a coordinate variable like this. */
const NETCDF_PHONY_SCALE = 'This is a netCDF dimension but not a netCDF variable';

/** HDF5's superblock signature, at byte 0, 512, 1024, 2048, ... (HDF5 file format spec, "Superblock"). */
const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

function checkHdf5Signature(bytes: Uint8Array, path: string): void {
  const at = (off: number) => HDF5_SIGNATURE.every((b, i) => bytes[off + i] === b);
  for (let off = 0; off + 8 <= bytes.length; off = off === 0 ? 512 : off * 2) if (at(off)) return;
  const classic = bytes[0] === 0x43 && bytes[1] === 0x44 && bytes[2] === 0x46; // "CDF"
  throw new InputError(
    path,
    classic
      ? 'is a netCDF-3 (classic) file: only netCDF-4 (HDF5) is read; convert with nccopy -k nc4, or save with xarray engine netcdf4/h5netcdf'
      : 'cannot read as netCDF-4/HDF5 (no HDF5 signature)',
  );
}

/** Shows HDF5's own text about a file it cannot read, with --verbose only (as other native libraries' text). */
export function reportHdf5(text: string): void {
  if (nativeVerbose()) process.stderr.write(text);
}

/** Most bytes of a netCDF file read into h5wasm's memory (WebAssembly's 32-bit addresses; the file is copied in whole). */
const MAX_NETCDF_BYTES = 2 ** 31 - 1;

/**
 * Reads (groups → variables, coords) from the bytes of a netCDF-4 file with h5wasm, on the
 * calling thread. HDF5 can loop forever on a damaged file, so the library runs this in a
 * worker (`netcdf_worker.ts`) under a time limit; see `readNetcdf`. HDF5's own text about
 * a file it cannot read goes to `report` (default: stderr with --verbose).
 */
export async function readNetcdfBytes(
  bytes: Uint8Array,
  groups: readonly string[],
  source: string,
  report: (text: string) => void = reportHdf5,
): Promise<Map<string, GroupRead>> {
  const h5 = await import('h5wasm');
  const m = await h5.ready;
  const name = `/diagnose-${process.pid}-${Date.now()}.nc`;
  m.FS!.writeFile(name, bytes);
  const out = new Map<string, GroupRead>();
  let f: import('h5wasm').File | undefined;
  // HDF5 prints its error stack (dozens of lines) to stderr unless told otherwise: while
  // reading, an error throws instead, its text shown only with --verbose. The read below is
  // synchronous, so no other use of the module (the writer) runs meanwhile.
  m.activate_throwing_error_handler();
  try {
    f = new h5.File(name, 'r');
    for (const g of groups) {
      if (!f.keys().includes(g)) continue;
      const grp = f.get(g);
      if (!(grp instanceof h5.Group)) continue;
      const vars: RawVar[] = [];
      const coords: Coords = new Map();
      const sizes = new Map<string, number>();
      const pending: { key: string; dims: string[]; shape: number[]; value: unknown }[] = [];
      for (const key of grp.keys()) {
        const ds = grp.get(key);
        if (!(ds instanceof h5.Dataset)) continue;
        const shape = ds.shape ?? [];
        const value = ds.value;
        const n = value !== null && typeof value === 'object' && 'length' in value ? (value as ArrayLike<unknown>).length : 1;
        if (n !== count(shape)) throw new InputError(source, `${g}/${clip(key)}: ${n} values for shape ${shape.join(' x ')}`);
        const scaleName = ds.get_scale_name();
        if (scaleName !== null) {
          // A dimension: its coordinate values, unless netCDF-C's placeholder.
          if (shape.length !== 1) throw new InputError(source, `${g}/${clip(key)}: a dimension with ${shape.length} axes`);
          checkDims(sizes, [key], shape, `${g}/${key}`, source);
          if (!scaleName.startsWith(NETCDF_PHONY_SCALE)) coords.set(key, labelsOf(value, shape[0]));
          continue;
        }
        const dims = shape.map((_, i) => {
          const scales = ds.get_attached_scales(i);
          return scales.length ? scales[0].split('/').pop()! : `${key}_dim_${i}`;
        });
        pending.push({ key, dims, shape, value });
      }
      for (const v of pending) {
        checkDims(sizes, v.dims, v.shape, `${g}/${v.key}`, source);
        vars.push({ name: v.key, dims: v.dims, shape: v.shape, values: toFloat64(v.value, `${g}/${v.key}`, source) });
      }
      out.set(g, { vars, coords });
    }
  } catch (err) {
    if (err instanceof InputError) throw err;
    report(`${err instanceof Error ? err.message : String(err)}\n`);
    throw new InputError(source, 'not a readable netCDF-4/HDF5 file (truncated or damaged)');
  } finally {
    try {
      f?.close();
    } catch {
      // A file that failed to open has nothing to close.
    }
    m.deactivate_throwing_error_handler();
    m.FS!.unlink(name);
  }
  return out;
}

/**
 * Time a netCDF read may take before the file is called damaged: HDF5 loops forever on
 * some damaged files (a few flipped bytes of a small file were seen to), and a read of a
 * sound file takes well under a second per 100 MB. Base, plus the per-MiB allowance below.
 */
export const NETCDF_READ_BASE_MS = 30_000;
/** Milliseconds per MiB of file added to NETCDF_READ_BASE_MS (2 GiB: 30 s + 102 s). */
const NETCDF_READ_MS_PER_MIB = 50;

/** The time limit of a netCDF read of `bytes` bytes (ms). */
export function netcdfReadLimitMs(bytes: number): number {
  return NETCDF_READ_BASE_MS + Math.ceil((bytes / 2 ** 20) * NETCDF_READ_MS_PER_MIB);
}

type ReaderReply =
  | { ready: true }
  | { failed: string }
  | { id: number; out: Map<string, GroupRead> }
  | { id: number; inputError: { field: string; reason: string }; hdf5?: string }
  | { id: number; error: string };

/** The worker that reads netCDF files, started on first use and kept (idle, it does not keep Node alive). */
interface Reader {
  readonly worker: Worker;
  /** Resolves when h5wasm is loaded in the worker; false when the worker could not start. */
  readonly ready: Promise<boolean>;
}

let reader: Reader | undefined;
/** Reads run one at a time (one worker); each waits for the one before. */
let queue: Promise<unknown> = Promise.resolve();
let nextId = 1;

function startReader(): Reader | null {
  const launch = workerLaunch(import.meta.url, 'netcdf_worker');
  if (launch === null) return null;
  const worker = new Worker(launch.script, { eval: launch.eval, workerData: launch.data });
  worker.unref();
  const ready = new Promise<boolean>((resolve) => {
    const onMessage = (m: ReaderReply) => {
      if ('ready' in m || 'failed' in m) {
        worker.off('message', onMessage);
        resolve('ready' in m);
      }
    };
    worker.on('message', onMessage);
    worker.once('error', () => resolve(false));
    worker.once('exit', () => {
      resolve(false);
      if (reader === r) reader = undefined;
    });
  });
  const r: Reader = { worker, ready };
  return r;
}

/**
 * One read in the worker: resolves with the groups, rejects with InputError for a file
 * h5wasm cannot read, or one whose read did not end within `limitMs` (the worker is then
 * ended, and the next read starts a new one). Null when no worker can start (the
 * TypeScript sources without tsx): the caller reads on its own thread.
 */
async function readInWorker(bytes: Uint8Array, groups: readonly string[], source: string, limitMs: number): Promise<Map<string, GroupRead> | null> {
  reader ??= startReader() ?? undefined;
  const r = reader;
  if (r === undefined || !(await r.ready)) {
    if (r !== undefined) void r.worker.terminate();
    reader = undefined;
    return null;
  }
  const id = nextId++;
  const { worker } = r;
  worker.ref();
  try {
    return await new Promise<Map<string, GroupRead>>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('exit', onExit);
      };
      const onMessage = (m: ReaderReply) => {
        if (!('id' in m) || m.id !== id) return;
        done();
        if ('out' in m) resolve(m.out);
        else if ('inputError' in m) {
          if (m.hdf5 !== undefined) reportHdf5(m.hdf5);
          reject(new InputError(m.inputError.field, m.inputError.reason));
        }
        else reject(new Error(m.error));
      };
      const onExit = () => {
        done();
        reject(new InputError(source, 'not a readable netCDF-4/HDF5 file (reading it stopped the reader)'));
      };
      const timer = setTimeout(() => {
        done();
        if (reader === r) reader = undefined;
        void worker.terminate();
        reject(new InputError(source, `not a readable netCDF-4/HDF5 file (damaged: its read had not ended after ${Math.round(limitMs / 1000)} s)`));
      }, limitMs);
      worker.on('message', onMessage);
      worker.once('exit', onExit);
      // The bytes are the worker's from here: moved when this view owns its buffer, else copied.
      const owned = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer;
      const sent = owned ? bytes : bytes.slice();
      worker.postMessage({ id, bytes: sent, groups, source }, [sent.buffer as ArrayBuffer]);
    });
  } finally {
    worker.unref();
  }
}

/**
 * Reads (groups → variables, coords) from a netCDF-4 file: the bytes on this thread, the
 * HDF5 structure in a worker under a time limit (`limitMs`, default `netcdfReadLimitMs`
 * of the file's size), so that a damaged file gives InputError instead of a hang.
 */
export async function readNetcdf(path: string, groups: readonly string[], limitMs?: number): Promise<Map<string, GroupRead>> {
  // The path as messages show it (a name with control bytes stays one line).
  const source = clip(path, 200);
  let bytes: Buffer;
  try {
    bytes = await readUserFile(path, MAX_NETCDF_BYTES, 'a netCDF file can be read into (WebAssembly memory)');
  } catch (err) {
    if (err instanceof ReadTextError) throw new InputError(source, err.reason);
    throw err;
  }
  checkHdf5Signature(bytes, source);
  const view = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const limit = limitMs ?? netcdfReadLimitMs(view.byteLength);
  const turn = queue.then(() => readInWorker(view, groups, source, limit));
  queue = turn.catch(() => undefined);
  return (await turn) ?? readNetcdfBytes(view, groups, source);
}
