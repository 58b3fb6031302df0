/**
 * InferenceData as a Zarr format 2 store (a directory), built in memory as a map from
 * store keys to bytes, so Node and the browser share it. A small writer of the published
 * format (Zarr storage specification version 2, zarr-specs `v2/v2.0.rst`, and xarray's
 * conventions for it):
 *
 * - `.zgroup` `{"zarr_format": 2}` at the root and in each InferenceData group;
 * - per array `.zarray` (shape, chunks, dtype, `compressor: null`, `fill_value: null`,
 *   `order: "C"`, `filters: null`, `dimension_separator: "."`) and `.zattrs` with
 *   `_ARRAY_DIMENSIONS` (xarray's dimension names) plus the variable's attributes;
 * - chunks split only along the first axis (about CHUNK_BYTES each), uncompressed,
 *   C order, little-endian; keys `i.0.0` (the chunk grid index joined by `.`);
 * - dtypes `<f8 <f4 <i4 <i8 |b1` and fixed-width UTF-32 strings `<U{n}` (numpy `str_`);
 * - consolidated metadata `.zmetadata` (`zarr_consolidated_format: 1`, every `.zgroup`,
 *   `.zattrs`, `.zarray` document by key), which `xarray.open_zarr(consolidated=True)`
 *   and zarr-python 2 and 3 read.
 */
import type { AttrValue, IdGroup, IdVariable, InferenceData } from './inference_data.ts';

/** Target size of one chunk (8 MiB): large enough for few files, small enough to stream. */
export const CHUNK_BYTES = 8 * 2 ** 20;

/** A Zarr store as key (relative path with '/' separators) → bytes. */
export type ZarrFiles = Map<string, Uint8Array>;

const encoder = new TextEncoder();

function json(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value, null, 4));
}

/** numpy dtype string and little-endian bytes of a variable's values. */
function encode(v: IdVariable): { dtype: string; itemSize: number; bytes: Uint8Array } {
  const d = v.data;
  const raw = (a: ArrayBufferView, dtype: string, itemSize: number) => ({
    dtype,
    itemSize,
    bytes: new Uint8Array(a.buffer, a.byteOffset, a.byteLength),
  });
  if (d instanceof Float64Array) return raw(d, '<f8', 8);
  if (d instanceof Float32Array) return raw(d, '<f4', 4);
  if (d instanceof Int32Array) return raw(d, '<i4', 4);
  if (d instanceof BigInt64Array) return raw(d, '<i8', 8);
  if (d instanceof Uint8Array) return raw(d, v.bool ? '|b1' : '|u1', 1);
  // Strings: fixed width in code points, UTF-32LE, zero padded.
  const cps = (d as readonly string[]).map((s) => Array.from(s, (ch) => ch.codePointAt(0)!));
  const width = Math.max(1, ...cps.map((c) => c.length));
  const out = new Uint32Array(cps.length * width);
  cps.forEach((c, i) => out.set(c, i * width));
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error('zarr writer needs a little-endian host');
  return raw(out, `<U${width}`, 4 * width);
}

function attrsOf(v: IdVariable): Record<string, AttrValue | readonly string[]> {
  const a: Record<string, AttrValue | readonly string[]> = { _ARRAY_DIMENSIONS: v.dims };
  if (v.coordinates?.length) a.coordinates = v.coordinates.join(' ');
  return { ...a, ...(v.attrs ?? {}) };
}

function writeArray(files: ZarrFiles, meta: Record<string, unknown>, prefix: string, shape: number[], v: IdVariable): void {
  const { dtype, itemSize, bytes } = encode(v);
  const inner = shape.slice(1).reduce((a, b) => a * b, 1);
  const rowBytes = inner * itemSize;
  const rowsPerChunk = shape.length === 0 ? 1 : Math.max(1, Math.min(shape[0], Math.floor(CHUNK_BYTES / Math.max(1, rowBytes))));
  const chunks = shape.length === 0 ? [] : [rowsPerChunk, ...shape.slice(1)];
  const zarray = {
    zarr_format: 2,
    shape,
    chunks,
    dtype,
    compressor: null,
    fill_value: null,
    order: 'C',
    filters: null,
    dimension_separator: '.',
  };
  const zattrs = attrsOf(v);
  files.set(`${prefix}/.zarray`, json(zarray));
  files.set(`${prefix}/.zattrs`, json(zattrs));
  meta[`${prefix}/.zarray`] = zarray;
  meta[`${prefix}/.zattrs`] = zattrs;
  if (shape.length === 0) {
    files.set(`${prefix}/0`, bytes.slice());
    return;
  }
  const rest = shape.slice(1).map(() => '0');
  for (let c = 0, row = 0; row < shape[0]; c++, row += rowsPerChunk) {
    // The last chunk is padded to the full chunk shape, as the spec requires.
    const chunk = new Uint8Array(rowsPerChunk * rowBytes);
    chunk.set(bytes.subarray(row * rowBytes, Math.min(shape[0], row + rowsPerChunk) * rowBytes));
    files.set(`${prefix}/${[String(c), ...rest].join('.')}`, chunk);
  }
}

function writeGroup(files: ZarrFiles, meta: Record<string, unknown>, g: IdGroup): void {
  const zgroup = { zarr_format: 2 };
  files.set(`${g.name}/.zgroup`, json(zgroup));
  files.set(`${g.name}/.zattrs`, json(g.attrs));
  meta[`${g.name}/.zgroup`] = zgroup;
  meta[`${g.name}/.zattrs`] = g.attrs;
  for (const v of g.variables) writeArray(files, meta, `${g.name}/${v.name}`, v.dims.map((d) => g.dims[d]), v);
}

/**
 * Serialises InferenceData as a Zarr v2 store with consolidated metadata.
 *
 * @returns store key → bytes; write each under the `.zarr` directory (`writeDirAtomic`)
 */
export function toZarr(idata: InferenceData): ZarrFiles {
  const files: ZarrFiles = new Map();
  const meta: Record<string, unknown> = {};
  const zgroup = { zarr_format: 2 };
  files.set('.zgroup', json(zgroup));
  files.set('.zattrs', json(idata.attrs));
  meta['.zgroup'] = zgroup;
  meta['.zattrs'] = idata.attrs;
  for (const g of idata.groups) writeGroup(files, meta, g);
  files.set('.zmetadata', json({ metadata: meta, zarr_consolidated_format: 1 }));
  return files;
}
