/**
 * Sample quantiles, R's default `quantile(type = 7)` (Hyndman & Fan 1996, definition 7),
 * which `posterior::quantile2` uses:
 *   h = 1 + (S - 1) p,  lo = floor(h),  Q(p) = (1 - (h - lo)) x_(lo) + (h - lo) x_(lo+1),
 * with x_(k) the k-th smallest draw (1-based), written as R evaluates it so that ties
 * and exact hits reproduce R bit for bit.
 */
import { argsort } from './rank.ts';
import { type DrawsArray, checkShape, toFloat64 } from './validate.ts';

/** Type-7 quantile of an ascending array (NaN when empty). */
export function quantileSorted(sorted: Float64Array, p: number): number {
  const n = sorted.length;
  if (n === 0 || !(p >= 0 && p <= 1)) return NaN;
  const index = 1 + Math.max(n - 1, 0) * p;
  const lo = Math.floor(index);
  const hi = Math.ceil(index);
  const qs = sorted[lo - 1];
  const xhi = sorted[hi - 1];
  if (index > lo && xhi !== qs) {
    const h = index - lo;
    return (1 - h) * qs + h * xhi;
  }
  return qs;
}

/** R's `median` of an ascending array: the middle value, or the mean of the middle two. */
export function medianSorted(sorted: Float64Array): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const half = (n + 1) >> 1;
  if (n % 2 === 1) return sorted[half - 1];
  return (sorted[half - 1] + sorted[half]) / 2;
}

/** Ascending copy of all draws (all chains pooled); NaN anywhere gives null. */
export function sortedDraws(x: Float64Array): Float64Array | null {
  for (let i = 0; i < x.length; i++) if (Number.isNaN(x[i])) return null;
  return argsort(x).sorted;
}

/**
 * Posterior quantile(s) of the pooled draws (`posterior::quantile2`, R type 7).
 * NaN if any draw is NaN (R: NA without na.rm).
 */
export function quantile(values: DrawsArray, chains: number, draws: number, probs: number): number;
export function quantile(values: DrawsArray, chains: number, draws: number, probs: readonly number[]): Float64Array;
export function quantile(
  values: DrawsArray,
  chains: number,
  draws: number,
  probs: number | readonly number[],
): number | Float64Array {
  checkShape(values, chains, draws);
  const sorted = sortedDraws(toFloat64(values));
  const one = (p: number) => (sorted ? quantileSorted(sorted, p) : NaN);
  return typeof probs === 'number' ? one(probs) : Float64Array.from(probs, one);
}

/**
 * Smallest finite value of `xs` (NaN when there is none), in a loop: `Math.min(...xs)`
 * passes every element as an argument and overflows the stack for large arrays (about
 * 10^5 elements; one per chain at a million chains).
 */
export function minFinite(xs: ArrayLike<number>): number {
  let m = Infinity;
  for (let i = 0; i < xs.length; i++) {
    const v = xs[i];
    if (v < m) m = v;
  }
  return m === Infinity ? NaN : m;
}

/** R's `median(xs[is.finite(xs)])` of unsorted values (NaN when none is finite); `xs` is not modified. */
export function medianFinite(xs: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < xs.length; i++) if (Number.isFinite(xs[i])) n++;
  const s = new Float64Array(n);
  for (let i = 0, j = 0; i < xs.length; i++) if (Number.isFinite(xs[i])) s[j++] = xs[i];
  s.sort();
  return medianSorted(s);
}
