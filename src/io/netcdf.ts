/**
 * InferenceData as a netCDF-4 file (HDF5 underneath), built in memory with h5wasm (the
 * HDF5 C library compiled to WebAssembly; usnistgov/h5wasm) and returned as bytes, so
 * Node and the browser share it.
 *
 * netCDF-4 on HDF5 (the netCDF-C "NetCDF-4 Format" spec, and what h5netcdf writes):
 * - each group of the InferenceData is an HDF5 group (creation order tracked);
 * - each dimension is a dataset in that group marked as an HDF5 dimension scale
 *   (H5DSset_scale; `CLASS = "DIMENSION_SCALE"`, `NAME`) holding its coordinate values,
 *   with `_Netcdf4Dimid` (int32, unique in the file) as netCDF-C numbers dimensions;
 * - every variable has each axis attached to its dimension's scale (H5DSattach_scale,
 *   which writes `DIMENSION_LIST` / `REFERENCE_LIST`): xarray's netcdf4 and h5netcdf
 *   engines name dimensions from these;
 * - booleans are int8 with the attribute `dtype = "bool"` (xarray's encoding for netCDF,
 *   decoded back to bool by xarray); strings are variable-length UTF-8 (NC_STRING);
 * - non-dimension coordinates are listed in the variable's CF `coordinates` attribute;
 * - the root has `_NCProperties` naming the writer (as h5netcdf writes it).
 */
import type { AttrValue, IdArray, IdGroup, IdVariable, InferenceData } from './inference_data.ts';
import { FUNNELWEB_VERSION } from './inference_data.ts';

type H5Module = typeof import('h5wasm');

let h5: Promise<H5Module> | undefined;
/** Loads h5wasm once (its WebAssembly is embedded in the module). */
async function loadH5(): Promise<H5Module> {
  h5 ??= import('h5wasm').then(async (m) => {
    await m.ready;
    return m;
  });
  return h5;
}

let fileCounter = 0;

function dtypeOf(v: IdVariable): string | null {
  const d = v.data;
  if (d instanceof Float64Array) return '<d';
  if (d instanceof Float32Array) return '<f';
  if (d instanceof Int32Array) return '<i';
  if (d instanceof BigInt64Array) return '<q';
  if (d instanceof Uint8Array) return v.bool ? '<b' : '<B';
  return null; // strings: h5wasm's variable-length UTF-8
}

/** The values as h5wasm takes them: booleans as int8, strings as a plain array. */
function payload(v: IdVariable): Exclude<IdArray, readonly string[]> | Int8Array | string[] {
  if (v.data instanceof Uint8Array && v.bool) return new Int8Array(v.data.buffer, v.data.byteOffset, v.data.length);
  if (Array.isArray(v.data)) return [...v.data];
  return v.data as Exclude<IdArray, readonly string[]>;
}

/**
 * Serialises InferenceData to netCDF-4/HDF5 bytes.
 *
 * @returns the bytes of a `.nc` file that `xarray.open_dataset(path, group=...)` (netcdf4
 *   or h5netcdf engine), `xarray.open_datatree` and `arviz.from_netcdf` read
 */
export async function toNetcdf(idata: InferenceData): Promise<Uint8Array> {
  const m = await loadH5();
  const FS = m.FS!;
  const name = `/funnelweb-${Date.now()}-${fileCounter++}.nc`;
  const f = new m.File(name, 'w', { track_order: true });
  let dimid = 0;
  try {
    f.create_attribute('_NCProperties', `version=2,funnelweb=${FUNNELWEB_VERSION},hdf5=h5wasm`);
    for (const [k, v] of Object.entries(idata.attrs)) setAttr(f, k, v);
    for (const g of idata.groups) dimid = writeGroup(f, g, dimid);
    f.flush();
  } finally {
    f.close();
  }
  try {
    return FS.readFile(name);
  } finally {
    FS.unlink(name);
  }
}

/** Numbers are int32 when they fit, else float64; strings variable-length UTF-8. */
function setAttr(obj: { create_attribute: import('h5wasm').Group['create_attribute'] }, name: string, v: AttrValue): void {
  if (typeof v === 'string') obj.create_attribute(name, v);
  else obj.create_attribute(name, v, null, Number.isInteger(v) && Math.abs(v) < 2 ** 31 ? '<i' : '<d');
}

function writeGroup(f: import('h5wasm').File, g: IdGroup, firstDimid: number): number {
  const grp = f.create_group(g.name, true);
  let dimid = firstDimid;
  const path = `/${g.name}`;
  const coords = new Set<string>();
  // Dimension scales first (their coordinate variables).
  for (const v of g.variables) {
    if (v.dims.length === 1 && v.dims[0] === v.name && g.dims[v.name] !== undefined) coords.add(v.name);
  }
  for (const dim of Object.keys(g.dims)) {
    if (!coords.has(dim)) throw new Error(`${g.name}: dimension '${dim}' has no coordinate variable`);
  }
  for (const v of g.variables) {
    const shape = v.dims.map((d) => g.dims[d]);
    const ds = grp.create_dataset({ name: v.name, data: payload(v), shape, dtype: dtypeOf(v) });
    if (coords.has(v.name)) {
      ds.make_scale(v.name);
      ds.create_attribute('_Netcdf4Dimid', dimid++, null, '<i');
    }
    if (v.bool) ds.create_attribute('dtype', 'bool');
    if (v.coordinates?.length) ds.create_attribute('coordinates', v.coordinates.join(' '));
    for (const [k, a] of Object.entries(v.attrs ?? {})) setAttr(ds, k, a);
  }
  for (const v of g.variables) {
    if (coords.has(v.name)) continue;
    const ds = grp.get(v.name) as import('h5wasm').Dataset;
    v.dims.forEach((d, i) => ds.attach_scale(i, `${path}/${d}`));
  }
  for (const [k, a] of Object.entries(g.attrs)) setAttr(grp, k, a);
  return dimid;
}
