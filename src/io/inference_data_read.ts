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
import { readFile, stat } from 'node:fs/promises';
import { InputError } from '../errors.ts';
import type { DrawsTable } from './draws_csv.ts';

/** One variable as read: dimension names, shape, values as float64, labels of each dimension. */
interface RawVar {
  readonly name: string;
  readonly dims: readonly string[];
  readonly shape: readonly number[];
  readonly values: Float64Array;
}

type Coords = Map<string, readonly string[]>;

/** netCDF-C names the scale of a dimension without a coordinate variable like this. */
const NETCDF_PHONY_SCALE = 'This is a netCDF dimension but not a netCDF variable';

function toFloat64(v: unknown, what: string, source: string): Float64Array {
  if (v instanceof Float64Array) return v;
  if (ArrayBuffer.isView(v) || Array.isArray(v)) return Float64Array.from(v as ArrayLike<number | bigint | boolean>, (x) => Number(x));
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return Float64Array.of(Number(v));
  if (v && typeof (v as Iterable<unknown>)[Symbol.iterator] === 'function') return Float64Array.from(v as Iterable<number | boolean>, (x) => Number(x));
  throw new InputError(source, `${what}: values are not numeric`);
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

/** Reads (groups → variables, coords) from a netCDF-4 file. */
async function readNetcdf(path: string, groups: readonly string[]): Promise<Map<string, { vars: RawVar[]; coords: Coords }>> {
  const h5 = await import('h5wasm');
  const m = await h5.ready;
  const bytes = await readFile(path);
  checkHdf5Signature(bytes, path);
  const name = `/diagnose-${process.pid}-${Date.now()}.nc`;
  m.FS!.writeFile(name, new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  const out = new Map<string, { vars: RawVar[]; coords: Coords }>();
  let f: import('h5wasm').File | undefined;
  try {
    f = new h5.File(name, 'r');
    for (const g of groups) {
      const grp = f.get(g);
      if (!(grp instanceof h5.Group)) continue;
      const vars: RawVar[] = [];
      const coords: Coords = new Map();
      for (const key of grp.keys()) {
        const ds = grp.get(key);
        if (!(ds instanceof h5.Dataset)) continue;
        const shape = ds.shape ?? [];
        const scaleName = ds.get_scale_name();
        if (scaleName !== null) {
          // A dimension: its coordinate values, unless netCDF-C's placeholder.
          if (!scaleName.startsWith(NETCDF_PHONY_SCALE) && shape.length === 1) coords.set(key, labelsOf(ds.value, shape[0]));
          continue;
        }
        const dims = shape.map((_, i) => {
          const scales = ds.get_attached_scales(i);
          return scales.length ? scales[0].split('/').pop()! : `${key}_dim_${i}`;
        });
        vars.push({ name: key, dims, shape, values: toFloat64(ds.value, `${g}/${key}`, path) });
      }
      out.set(g, { vars, coords });
    }
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(path, `cannot read as netCDF-4/HDF5 (${err instanceof Error ? err.message : String(err)})`);
  } finally {
    f?.close();
    m.FS!.unlink(name);
  }
  return out;
}

/** Reads (groups → variables, coords) from a Zarr store (v2 or v3; consolidated or not). */
async function readZarr(path: string, groups: readonly string[]): Promise<Map<string, { vars: RawVar[]; coords: Coords }>> {
  const zarr = await import('zarrita');
  const { default: FileSystemStore } = await import('@zarrita/storage/fs');
  const out = new Map<string, { vars: RawVar[]; coords: Coords }>();
  try {
    const store = await zarr.withMaybeConsolidatedMetadata(new FileSystemStore(path));
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
      const loc = zarr.root(store).resolve(g);
      for (const n of names) {
        let arr;
        try {
          arr = await zarr.open(loc.resolve(n), { kind: 'array' });
        } catch {
          continue;
        }
        const attrs = arr.attrs as Record<string, unknown>;
        const dims = (attrs._ARRAY_DIMENSIONS as string[] | undefined) ?? (attrs.dimension_names as string[] | undefined) ?? arr.shape.map((_, i) => `${n}_dim_${i}`);
        const chunk = await zarr.get(arr);
        if (dims.length === 1 && dims[0] === n) {
          coords.set(n, labelsOf(chunk.data, arr.shape[0]));
          continue;
        }
        vars.push({ name: n, dims, shape: arr.shape, values: toFloat64(chunk.data, `${g}/${n}`, path) });
      }
      out.set(g, { vars, coords });
    }
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(path, `cannot read as Zarr (${err instanceof Error ? err.message : String(err)})`);
  }
  return out;
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
 * @throws InputError when the file cannot be read, has no posterior group, or no
 *   variable with dimensions (chain, draw, ...)
 */
export async function readInferenceDataDraws(path: string): Promise<DrawsTable> {
  const p = path.replace(/\/+$/, '');
  try {
    await stat(p);
  } catch {
    throw new InputError(path, 'no such file');
  }
  const groups = ['posterior', 'sample_stats'];
  const read = p.endsWith('.zarr') ? await readZarr(p, groups) : await readNetcdf(p, groups);
  const post = read.get('posterior');
  if (!post) throw new InputError(path, "no 'posterior' group");
  const sampleVars = post.vars.filter((v) => v.dims[0] === 'chain' && v.dims[1] === 'draw');
  if (sampleVars.length === 0) throw new InputError(path, "posterior: no variable with dimensions (chain, draw, ...)");
  const chains = sampleVars[0].shape[0];
  const draws = sampleVars[0].shape[1];
  if (chains < 1 || draws < 1) throw new InputError(path, `posterior: ${chains} chains x ${draws} draws`);
  const params: Record<string, Float64Array> = {};
  for (const v of sampleVars) {
    if (v.shape[0] !== chains || v.shape[1] !== draws) {
      throw new InputError(path, `posterior/${v.name}: ${v.shape[0]} x ${v.shape[1]} (chain x draw), other variables ${chains} x ${draws}`);
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
    if (v.shape[0] !== chains || v.shape[1] !== draws) throw new InputError(path, `sample_stats/${name}: shape ${v.shape.join(' x ')} differs from the posterior's ${chains} x ${draws}`);
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
