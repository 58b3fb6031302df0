/**
 * Reads the draws of an ArviZ InferenceData file (`.nc` netCDF-4/HDF5 through h5wasm,
 * `.zarr` Zarr v2 or v3 through zarrita, any compressor numcodecs knows) into a
 * DrawsTable for `funnelweb diagnose`.
 *
 * Parameters are the `posterior` group's variables whose first two dimensions are
 * (chain, draw); a variable with more dimensions becomes one parameter per element,
 * named `theta[label]` from the dimension's coordinate values (`theta[1,2]` for two),
 * or from 0-based indices where a dimension has no coordinate. From `sample_stats`:
 * `energy` (E-BFMI), `diverging` (divergences), `acceptance_rate` (acceptance).
 */
import { stat } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import { workerLaunch } from '../worker_launch.ts';
import { readUserFile, ReadTextError } from './read_text.ts';
import { clip, InputError } from '../errors.ts';
import type { DrawsTable } from './draws_csv.ts';

/** One variable as read: dimension names, shape, values as float64, labels of each dimension. */
export interface RawVar {
  readonly name: string;
  readonly dims: readonly string[];
  readonly shape: readonly number[];
  readonly values: Float64Array;
}

export type Coords = Map<string, readonly string[]>;

/** netCDF-C names the scale of a dimension without a coordinate variable like this. */
const NETCDF_PHONY_SCALE = 'This is a netCDF dimension but not a netCDF variable';

function toFloat64(v: unknown, what: string, source: string): Float64Array {
  if (v instanceof Float64Array) return v;
  if (ArrayBuffer.isView(v) || Array.isArray(v)) return Float64Array.from(v as ArrayLike<number | bigint | boolean>, (x) => Number(x));
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return Float64Array.of(Number(v));
  if (v && typeof (v as Iterable<unknown>)[Symbol.iterator] === 'function') return Float64Array.from(v as Iterable<number | boolean>, (x) => Number(x));
  throw new InputError(source, `${clip(what)}: values are not numeric`);
}

function labelsOf(v: unknown, n: number): string[] {
  if (v && typeof (v as Iterable<unknown>)[Symbol.iterator] === 'function') {
    const out = Array.from(v as Iterable<unknown>, (x) => (typeof x === 'bigint' ? x.toString() : String(x)));
    if (out.length === n) return out;
  }
  return Array.from({ length: n }, (_, i) => String(i));
}

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

/** Whether the library's own diagnostics are wanted (the CLI's `--verbose`). */
function verbose(): boolean {
  return process.env.FUNNELWEB_VERBOSE === '1';
}

/** Shows HDF5's own text about a file it cannot read, with --verbose only. */
export function reportHdf5(text: string): void {
  if (verbose()) process.stderr.write(text);
}

/** The product of a shape's sizes (1 for a scalar). */
function count(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * Records each dimension's size in a group, and raises InputError when an array's shape
 * disagrees with a size seen before (a coordinate of 8 labels but a variable 9 wide).
 */
function checkDims(sizes: Map<string, number>, dims: readonly string[], shape: readonly number[], what: string, source: string): void {
  if (dims.length !== shape.length) {
    throw new InputError(source, `${clip(what)}: ${dims.length} dimension names for ${shape.length} dimensions (shape ${shape.join(' x ') || 'scalar'})`);
  }
  dims.forEach((d, i) => {
    const seen = sizes.get(d);
    if (seen === undefined) sizes.set(d, shape[i]);
    else if (seen !== shape[i]) throw new InputError(source, `${clip(what)}: dimension '${clip(d)}' has size ${shape[i]}, elsewhere in the group ${seen}`);
  });
}

/** Most bytes of a netCDF file read into h5wasm's memory (WebAssembly's 32-bit addresses; the file is copied in whole). */
const MAX_NETCDF_BYTES = 2 ** 31 - 1;

/** One group as read: its variables and the coordinate values of its dimensions. */
export type GroupRead = { vars: RawVar[]; coords: Coords };

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
    worker.once('exit', () => resolve(false));
  });
  const r = { worker, ready };
  worker.once('exit', () => {
    if (reader === r) reader = undefined;
  });
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
async function readNetcdf(path: string, groups: readonly string[], limitMs?: number): Promise<Map<string, GroupRead>> {
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

/** A v2 `.zarray` document's fields that the checks below use. */
interface ZarrayDoc {
  readonly zarr_format?: unknown;
  readonly shape?: unknown;
  readonly chunks?: unknown;
  readonly dtype?: unknown;
  readonly compressor?: unknown;
  readonly filters?: unknown;
  readonly fill_value?: unknown;
}

/** Bytes per element of a numpy dtype string (`<f8` 8, `<U3` 12), or undefined (objects). */
function itemSize(dtype: unknown): number | undefined {
  const m = typeof dtype === 'string' ? /^[<>|=]?([biufcmMSUV])(\d+)$/.exec(dtype) : null;
  if (!m) return undefined;
  return Number(m[2]) * (m[1] === 'U' ? 4 : 1);
}

/** Deep equality of two parsed JSON values (key order ignored). */
function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** A store's file as parsed JSON, undefined when absent; InputError when not JSON. */
function parseJsonFile(bytes: Uint8Array | undefined, key: string, source: string): unknown {
  if (bytes === undefined) return undefined;
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw new InputError(source, `${clip(key)}: not valid JSON (damaged metadata)`);
  }
}

type Store = { get(key: `/${string}`, opts?: unknown): Promise<Uint8Array | undefined> };

/**
 * Zarr v2 consolidated metadata must agree with the metadata files it copies: every
 * `.zarray`/`.zattrs`/`.zgroup` it lists exists with the same content, and every array
 * on disk is listed. A store where they disagree was damaged or half-rewritten.
 */
async function checkConsolidated(root: string, fs: Store, source: string): Promise<void> {
  const meta = parseJsonFile(await fs.get('/.zmetadata'), '.zmetadata', source) as { metadata?: unknown; zarr_consolidated_format?: unknown } | undefined;
  if (meta === undefined) return;
  if (typeof meta !== 'object' || meta === null || meta.zarr_consolidated_format !== 1 || typeof meta.metadata !== 'object' || meta.metadata === null) {
    throw new InputError(source, '.zmetadata: not Zarr consolidated metadata (zarr_consolidated_format 1 with a metadata object)');
  }
  const listed = meta.metadata as Record<string, unknown>;
  for (const [key, doc] of Object.entries(listed)) {
    if (!/(^|\/)\.z(array|attrs|group)$/.test(key)) continue;
    const file = parseJsonFile(await fs.get(`/${key}`), key, source);
    if (file === undefined) throw new InputError(source, `${clip(key)}: listed in .zmetadata but missing`);
    if (!jsonEqual(file, doc)) throw new InputError(source, `${clip(key)}: differs from its copy in .zmetadata`);
  }
  // Arrays on disk that the consolidated metadata does not list would be skipped unseen.
  const { readdir } = await import('node:fs/promises');
  const walk = async (dir: string, depth: number): Promise<void> => {
    if (depth > 8) return;
    const entries = await readdir(dir === '' ? root : `${root}/${dir}`, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const rel = dir === '' ? e.name : `${dir}/${e.name}`;
      if (e.isFile() && (e.name === '.zarray' || e.name === '.zgroup') && !(rel in listed)) {
        throw new InputError(source, `${clip(rel)}: not listed in .zmetadata`);
      }
      // Only groups hold further metadata; an array's directory holds chunks.
      if (e.isDirectory() && `${rel}/.zgroup` in listed) await walk(rel, depth + 1);
      else if (e.isDirectory() && !(`${rel}/.zarray` in listed)) {
        const inner = await readdir(`${root}/${rel}`).catch(() => [] as string[]);
        if (inner.includes('.zarray') || inner.includes('.zgroup')) throw new InputError(source, `${clip(rel)}: not listed in .zmetadata`);
      }
    }
  };
  await walk('', 0);
}

/** Reads (groups → variables, coords) from a Zarr store (v2 or v3; consolidated or not). */
async function readZarr(path: string, groups: readonly string[]): Promise<Map<string, GroupRead>> {
  // The path as messages show it (a name with control bytes stays one line).
  const source = clip(path, 200);
  const zarr = await import('zarrita');
  const { default: FileSystemStore } = await import('@zarrita/storage/fs');
  const out = new Map<string, GroupRead>();
  const fsStore = new FileSystemStore(path);
  // Every read of a chunk is seen here: whether its file was there and its size.
  let fetched: { key: string; bytes: Uint8Array | undefined }[] = [];
  const recorder = {
    async get(key: `/${string}`, opts?: unknown) {
      const bytes = await fsStore.get(key, opts as never);
      fetched.push({ key, bytes });
      return bytes;
    },
    getRange: fsStore.getRange.bind(fsStore),
  };
  try {
    await checkConsolidated(path, fsStore, source);
    const store = await zarr.withMaybeConsolidatedMetadata(recorder);
    const listing = 'contents' in store ? store.contents() : undefined;
    for (const g of groups) {
      let names: string[];
      if (listing) {
        names = listing.filter((e) => e.kind === 'array' && e.path.startsWith(`/${g}/`) && e.path.split('/').length === 3).map((e) => e.path.split('/')[2]);
      } else {
        // Without consolidated metadata: the directory listing of the group.
        const { readdir } = await import('node:fs/promises');
        names = await readdir(`${path}/${g}`).catch(() => [] as string[]);
        names = names.filter((n) => !n.startsWith('.'));
      }
      if (names.length === 0) continue;
      const vars: RawVar[] = [];
      const coords: Coords = new Map();
      const sizes = new Map<string, number>();
      const loc = zarr.root(store).resolve(g);
      for (const n of names) {
        const what = `${g}/${n}`;
        const zarrayKey = `/${g}/${n}/.zarray` as const;
        const v2 = parseJsonFile(await fsStore.get(zarrayKey), zarrayKey.slice(1), source) as ZarrayDoc | undefined;
        let arr;
        try {
          arr = await zarr.open(loc.resolve(n), { kind: 'array' });
        } catch (err) {
          // A directory that is no array (no .zarray, no zarr.json) is not ours to read;
          // one whose metadata is there but unreadable is damage.
          const { readdir } = await import('node:fs/promises');
          const inner = await readdir(`${path}/${g}/${n}`).catch(() => [] as string[]);
          if (v2 === undefined && !inner.includes('zarr.json') && !listing) continue;
          throw new InputError(source, `${clip(what)}: cannot open the array (${clip(err instanceof Error ? err.message : String(err), 200)})`);
        }
        const attrs = arr.attrs as Record<string, unknown>;
        const dims = (attrs._ARRAY_DIMENSIONS as string[] | undefined) ?? (attrs.dimension_names as string[] | undefined) ?? arr.shape.map((_, i) => `${n}_dim_${i}`);
        if (!Array.isArray(dims) || dims.some((d) => typeof d !== 'string')) throw new InputError(source, `${clip(what)}: dimension names are not a list of strings`);
        checkDims(sizes, dims, arr.shape, what, source);
        const values = await readZarrArray(arr, v2, what, source, () => {
          const f = fetched;
          fetched = [];
          return f;
        });
        if (dims.length === 1 && dims[0] === n) {
          coords.set(n, labelsOf(values, arr.shape[0]));
          continue;
        }
        vars.push({ name: n, dims, shape: arr.shape, values: toFloat64(values, what, source) });
      }
      out.set(g, { vars, coords });
    }
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(source, `cannot read as Zarr (${clip(err instanceof Error ? err.message : String(err), 200)})`);
  }
  return out;
}

/**
 * Every chunk of an array, each checked before its values are used: present (a v2 array
 * whose fill_value is null has no value for a missing chunk: it is damage, not zeros),
 * uncompressed chunks exactly chunk shape x item size bytes, and every chunk decoding to
 * the declared chunk shape. Returns the values in C order.
 */
async function readZarrArray(
  arr: import('zarrita').Array<import('zarrita').DataType, import('zarrita').Readable>,
  v2: ZarrayDoc | undefined,
  what: string,
  source: string,
  takeFetched: () => { key: string; bytes: Uint8Array | undefined }[],
): Promise<Float64Array | unknown[]> {
  const shape = arr.shape;
  const chunkShape = arr.chunks;
  if (chunkShape.length !== shape.length || chunkShape.some((c) => !Number.isInteger(c) || c < 1) || shape.some((s) => !Number.isInteger(s) || s < 0)) {
    throw new InputError(source, `${clip(what)}: chunks [${chunkShape.join(', ')}] do not fit shape [${shape.join(', ')}]`);
  }
  const total = count(shape);
  const numeric = !arr.is('string') && !arr.is('object');
  const out: Float64Array | unknown[] = numeric ? new Float64Array(total) : new Array<unknown>(total);
  const grid = shape.map((s, d) => Math.ceil(s / chunkShape[d]));
  const nChunks = count(grid);
  const chunkSize = count(chunkShape);
  const rawSize = v2 && v2.compressor === null && (v2.filters === null || v2.filters === undefined) ? itemSize(v2.dtype) : undefined;
  const mustExist = v2 !== undefined && v2.fill_value === null;
  const outStride = shape.map((_, d) => count(shape.slice(d + 1)));
  const coord = new Array<number>(shape.length).fill(0);
  takeFetched();
  for (let c = 0; c < nChunks; c++) {
    const label = `${what}: chunk ${coord.join('.') || '0'}`;
    let chunk;
    try {
      chunk = await arr.getChunk(coord);
    } catch (err) {
      throw new InputError(source, `${clip(label)} cannot be decoded (${clip(err instanceof Error ? err.message : String(err), 120)})`);
    }
    const reads = takeFetched();
    const stored = reads[reads.length - 1]?.bytes;
    if (reads.some((r) => r.bytes === undefined)) {
      if (mustExist) throw new InputError(source, `${clip(label)} is missing (the array has no fill_value)`);
    } else if (rawSize !== undefined) {
      const got = stored?.byteLength;
      if (got !== chunkSize * rawSize) throw new InputError(source, `${clip(label)} has ${got} bytes, expected ${chunkSize * rawSize} (${chunkShape.join(' x ')} x ${rawSize})`);
    } else if (stored && isBlosc(v2)) {
      checkBloscHeader(stored, v2!.filters ? undefined : chunkSize * (itemSize(v2!.dtype) ?? NaN), label, source);
    }
    const data = chunk.data as ArrayLike<unknown> & { get?: (i: number) => unknown };
    if (chunk.shape.length !== chunkShape.length || chunk.shape.some((s, d) => s !== chunkShape[d]) || data.length !== chunkSize) {
      throw new InputError(source, `${clip(label)} decodes to ${data.length} values, expected ${chunkSize} (${chunkShape.join(' x ')})`);
    }
    const at = typeof data.get === 'function' ? (i: number) => data.get!(i) : (i: number) => data[i];
    // Numbers (not bigint) in a typed array copy a row at a time.
    const rows = numeric && ArrayBuffer.isView(data) && !(data instanceof BigInt64Array) && !(data instanceof BigUint64Array) ? (data as unknown as Float64Array) : undefined;
    copyChunk(out, shape, outStride, coord.map((k, d) => k * chunkShape[d]), chunkShape, chunk.stride, at, numeric, rows);
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++coord[d] < grid[d]) break;
      coord[d] = 0;
    }
  }
  return out;
}

function isBlosc(v2: ZarrayDoc | undefined): boolean {
  return typeof v2?.compressor === 'object' && v2.compressor !== null && (v2.compressor as { id?: unknown }).id === 'blosc';
}

/**
 * A Blosc frame names its sizes in its 16-byte header (c-blosc README_HEADER: nbytes, the
 * decoded size, at byte 4; cbytes, the frame's size, at byte 12, little-endian). A frame
 * cut short still decodes, to garbage, so the sizes are checked here: cbytes no more than
 * the chunk file holds, nbytes the chunk's size (when no filter changes it).
 */
function checkBloscHeader(bytes: Uint8Array, expected: number | undefined, label: string, source: string): void {
  if (bytes.byteLength < 16) throw new InputError(source, `${clip(label)}: ${bytes.byteLength} bytes, shorter than a Blosc header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const nbytes = view.getUint32(4, true);
  const cbytes = view.getUint32(12, true);
  if (cbytes > bytes.byteLength) throw new InputError(source, `${clip(label)}: ${bytes.byteLength} bytes, but its Blosc header says ${cbytes} (cut short)`);
  if (expected !== undefined && Number.isFinite(expected) && nbytes !== expected) {
    throw new InputError(source, `${clip(label)}: decodes to ${nbytes} bytes, expected ${expected}`);
  }
}

/** Copies the part of a decoded chunk inside the array into `out` (C order). */
function copyChunk(
  out: Float64Array | unknown[],
  shape: readonly number[],
  outStride: readonly number[],
  start: readonly number[],
  chunkShape: readonly number[],
  stride: readonly number[],
  at: (i: number) => unknown,
  numeric: boolean,
  rows?: Float64Array,
): void {
  const nd = shape.length;
  const put = numeric ? (o: number, v: unknown) => ((out as Float64Array)[o] = Number(v)) : (o: number, v: unknown) => ((out as unknown[])[o] = v);
  if (nd === 0) {
    put(0, at(0));
    return;
  }
  const ext = shape.map((s, d) => Math.min(chunkShape[d], s - start[d]));
  if (ext.some((e) => e <= 0)) return;
  const idx = new Array<number>(nd).fill(0);
  const last = nd - 1;
  for (;;) {
    let o = start[last];
    let c = 0;
    for (let d = 0; d < last; d++) {
      o += (start[d] + idx[d]) * outStride[d];
      c += idx[d] * stride[d];
    }
    if (rows && stride[last] === 1) (out as Float64Array).set(rows.subarray(c, c + ext[last]), o);
    else for (let j = 0; j < ext[last]; j++) put(o + j, at(c + j * stride[last]));
    let d = last - 1;
    while (d >= 0 && ++idx[d] === ext[d]) idx[d--] = 0;
    if (d < 0) break;
  }
}

/** Element names of a variable with extra dimensions: name[l1,l2,...] in C order. */
function elementNames(v: RawVar, coords: Coords): string[] {
  const extra = v.dims.slice(2);
  if (extra.length === 0) return [v.name];
  const labels = extra.map((d, i) => coords.get(d) ?? Array.from({ length: v.shape[2 + i] }, (_, j) => String(j)));
  let names: string[][] = [[]];
  for (const l of labels) names = names.flatMap((prefix) => l.map((x) => [...prefix, x]));
  return names.map((parts) => `${v.name}[${parts.join(',')}]`);
}

/**
 * Reads an InferenceData file's posterior (and sample_stats) as draws.
 *
 * @param opts.netcdfLimitMs time a `.nc` read may take before the file is called damaged
 *   (default `netcdfReadLimitMs` of its size)
 * @throws InputError when the file cannot be read, has no posterior group, or no
 *   variable with dimensions (chain, draw, ...)
 */
export async function readInferenceDataDraws(path: string, opts: { netcdfLimitMs?: number } = {}): Promise<DrawsTable> {
  const p = path.replace(/\/+$/, '');
  const source = clip(path, 200);
  try {
    await stat(p);
  } catch {
    throw new InputError(source, 'no such file');
  }
  const groups = ['posterior', 'sample_stats'];
  const read = p.endsWith('.zarr') ? await readZarr(p, groups) : await readNetcdf(p, groups, opts.netcdfLimitMs);
  const post = read.get('posterior');
  if (!post) throw new InputError(source, "no 'posterior' group");
  const sampleVars = post.vars.filter((v) => v.dims[0] === 'chain' && v.dims[1] === 'draw');
  if (sampleVars.length === 0) throw new InputError(source, "posterior: no variable with dimensions (chain, draw, ...)");
  const chains = sampleVars[0].shape[0];
  const draws = sampleVars[0].shape[1];
  if (chains < 1 || draws < 1) throw new InputError(source, `posterior: ${chains} chains x ${draws} draws`);
  const params: Record<string, Float64Array> = {};
  for (const v of sampleVars) {
    if (v.shape[0] !== chains || v.shape[1] !== draws) {
      throw new InputError(source, `posterior/${clip(v.name)}: ${v.shape[0]} x ${v.shape[1]} (chain x draw), other variables ${chains} x ${draws}`);
    }
    const names = elementNames(v, post.coords);
    const E = names.length;
    names.forEach((name, e) => {
      const x = new Float64Array(chains * draws);
      for (let i = 0; i < chains * draws; i++) x[i] = v.values[i * E + e];
      params[name] = x;
    });
  }
  const stats = read.get('sample_stats');
  const stat1 = (name: string): Float64Array | undefined => {
    const v = stats?.vars.find((s) => s.name === name && s.dims[0] === 'chain' && s.dims[1] === 'draw' && s.dims.length === 2);
    if (!v) return undefined;
    if (v.shape[0] !== chains || v.shape[1] !== draws) throw new InputError(source, `sample_stats/${name}: shape ${v.shape.join(' x ')} differs from the posterior's ${chains} x ${draws}`);
    return v.values;
  };
  const div = stat1('diverging');
  return {
    chains,
    draws,
    chainIds: Array.from({ length: chains }, (_, i) => i),
    params,
    energy: stat1('energy'),
    divergent: div && Uint8Array.from(div, (x) => (x !== 0 ? 1 : 0)),
    acceptProb: stat1('acceptance_rate'),
  };
}
