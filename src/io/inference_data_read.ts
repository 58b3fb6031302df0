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
import { clip, InputError } from '../errors.ts';
import type { DrawsTable } from './draws_csv.ts';
import { checkDims, count, labelsOf, toFloat64, type Coords, type GroupRead, type RawVar } from './inference_data_vars.ts';
import { readNetcdf } from './netcdf_read.ts';

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
 *   (default `netcdfReadLimitMs` of its size, netcdf_read.ts)
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
