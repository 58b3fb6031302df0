/**
 * Input checks shared by the diagnostics. Shape errors (a caller's bug) throw at the
 * door; statistical impossibilities (too few draws, a constant or non-finite sample) are
 * reported as a reason string and the estimate becomes NaN, never an exception inside a
 * loop (as ArviZ and `posterior` return NaN / NA).
 */

/** Draws of one parameter, chain-major: element (c, d) at c * draws + d. */
export type DrawsArray = Float32Array | Float64Array;

/** R's `.Machine$double.eps`, the tolerance of `posterior:::is_constant`. */
export const CONSTANT_TOLERANCE = 2.220446049250313e-16;

/** Throws RangeError unless `values` holds chains × draws elements (positive integers). */
export function checkShape(values: ArrayLike<number>, chains: number, draws: number): void {
  if (!Number.isInteger(chains) || chains < 1) throw new RangeError(`chains must be a positive integer, got ${chains}`);
  if (!Number.isInteger(draws) || draws < 1) throw new RangeError(`draws must be a positive integer, got ${draws}`);
  if (values.length !== chains * draws) {
    throw new RangeError(`expected chains * draws = ${chains * draws} values, got ${values.length}`);
  }
}

/**
 * Copies (or passes through) draws as float64; into `into` (length >= values.length) when
 * given. A typed array's `set` converts natively (`Float64Array.from` iterates).
 */
export function toFloat64(values: DrawsArray, into?: Float64Array): Float64Array {
  if (values instanceof Float64Array) return values;
  const out = into ? into.subarray(0, values.length) : new Float64Array(values.length);
  out.set(values);
  return out;
}

/** min and max, or NaN for both when any value is not finite. */
export function finiteRange(x: Float64Array): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  let bad = false;
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    if (v < min) min = v;
    if (v > max) max = v;
    if (v - v !== 0) bad = true;
  }
  return bad ? { min: NaN, max: NaN } : { min, max };
}

/** `posterior:::should_return_NA` as a reason: non-finite values, or max - min < eps. */
export function sampleProblem(x: Float64Array): string | null {
  if (x.length === 0) return 'no draws';
  const { min, max } = finiteRange(x);
  if (Number.isNaN(min)) return 'non-finite values (NaN or Inf) in the draws';
  if (Math.abs(max - min) < CONSTANT_TOLERANCE) return 'all draws are equal (constant parameter)';
  return null;
}

/** A value with the reason it is NaN, if it is. */
export interface Estimate {
  readonly value: number;
  readonly reason?: string;
}

export function nan(reason: string): Estimate {
  return { value: NaN, reason };
}
