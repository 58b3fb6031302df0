/**
 * The variables of an InferenceData group as the readers hand them over (netcdf_read.ts for
 * `.nc`, inference_data_read.ts for `.zarr`), and the checks both apply to them.
 */
import { clip, InputError } from '../errors.ts';

/** One variable as read: dimension names, shape, values as float64, labels of each dimension. */
export interface RawVar {
  readonly name: string;
  readonly dims: readonly string[];
  readonly shape: readonly number[];
  readonly values: Float64Array;
}

export type Coords = Map<string, readonly string[]>;

/** One group as read: its variables and the coordinate values of its dimensions. */
export type GroupRead = { vars: RawVar[]; coords: Coords };

export function toFloat64(v: unknown, what: string, source: string): Float64Array {
  if (v instanceof Float64Array) return v;
  if (ArrayBuffer.isView(v) || Array.isArray(v)) return Float64Array.from(v as ArrayLike<number | bigint | boolean>, (x) => Number(x));
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return Float64Array.of(Number(v));
  if (v && typeof (v as Iterable<unknown>)[Symbol.iterator] === 'function') return Float64Array.from(v as Iterable<number | boolean>, (x) => Number(x));
  throw new InputError(source, `${clip(what)}: values are not numeric`);
}

export function labelsOf(v: unknown, n: number): string[] {
  if (v && typeof (v as Iterable<unknown>)[Symbol.iterator] === 'function') {
    const out = Array.from(v as Iterable<unknown>, (x) => (typeof x === 'bigint' ? x.toString() : String(x)));
    if (out.length === n) return out;
  }
  return Array.from({ length: n }, (_, i) => String(i));
}

/** The product of a shape's sizes (1 for a scalar). */
export function count(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * Records each dimension's size in a group, and raises InputError when an array's shape
 * disagrees with a size seen before (a coordinate of 8 labels but a variable 9 wide).
 */
export function checkDims(sizes: Map<string, number>, dims: readonly string[], shape: readonly number[], what: string, source: string): void {
  if (dims.length !== shape.length) {
    throw new InputError(source, `${clip(what)}: ${dims.length} dimension names for ${shape.length} dimensions (shape ${shape.join(' x ') || 'scalar'})`);
  }
  dims.forEach((d, i) => {
    const seen = sizes.get(d);
    if (seen === undefined) sizes.set(d, shape[i]);
    else if (seen !== shape[i]) throw new InputError(source, `${clip(what)}: dimension '${clip(d)}' has size ${shape[i]}, elsewhere in the group ${seen}`);
  });
}
