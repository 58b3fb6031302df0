/**
 * Sorting and rank normalization (Vehtari et al. 2021, sec. 4.1; `posterior::z_scale`).
 *
 *   z_i = qnorm((r_i - 3/8) / (S - 2 * 3/8 + 1)),
 *
 * with r_i the rank of draw i among all S draws, ties given their average rank (R's
 * `rank(ties.method = "average")`) and c = 3/8 Blom's offset.
 *
 * Ranking 4 million draws per parameter is the hot spot of a many-chain summary, so the
 * sort is a radix sort (MSD by the top 12 bits, then LSD in each bucket) over the
 * order-preserving 32-bit image of each value
 * (its float32 rounding, which is monotone), carrying the index along; runs whose float32
 * keys tie are then finished by insertion sort on the full float64 values (gathered by
 * the order; float32 draws, the usual case, need no gather).
 */
import { qnorm } from './special.ts';

/** Blom's offset c = 3/8 (Blom 1958; `posterior::z_scale(c = 3/8)`). */
export const BLOM_OFFSET = 3 / 8;

/** Result of `argsort`: `values[order[i]] === sorted[i]`, ascending. */
export interface Sorted {
  readonly sorted: Float64Array;
  readonly order: Uint32Array;
}

/**
 * Most-significant-digit first, then least: one scatter of the whole array by the top
 * TOP_BITS of the key into buckets, then each bucket sorted on its remaining 20 bits by
 * two LSD passes of LOW_BITS (a digit that is the same for the whole bucket is skipped).
 * The draws of a parameter fall in a few dozen top buckets, each small enough to stay in
 * cache for its local passes, where a plain LSD sort makes three scatters of the whole
 * array over 2,048 buckets: 1.3-1.5x faster at 4 million float32 draws (2-core machine).
 */
const TOP_BITS = 12;
const TOP = 1 << TOP_BITS;
const TOP_SHIFT = 32 - TOP_BITS;
const LOW_BITS = 10;
const LOW = 1 << LOW_BITS;
const LOW_MASK = LOW - 1;
/** Buckets of at most this many keys are finished by insertion sort. */
const SMALL_BUCKET = 32;

interface SortScratch {
  n: number;
  /** float32 images of the input (when it is not float32 already) and of the sorted output. */
  f32in: Float32Array;
  f32out: Float32Array;
  keysA: Uint32Array;
  keysB: Uint32Array;
  idxA: Uint32Array;
  idxB: Uint32Array;
  top: Uint32Array;
  low: Uint32Array;
}
let sortScratch: SortScratch | null = null;

function getScratch(n: number): SortScratch {
  if (!sortScratch || sortScratch.n < n) {
    sortScratch = {
      n,
      f32in: new Float32Array(n),
      f32out: new Float32Array(n),
      keysA: new Uint32Array(n),
      keysB: new Uint32Array(n),
      idxA: new Uint32Array(n),
      idxB: new Uint32Array(n),
      top: new Uint32Array(TOP + 1),
      low: new Uint32Array(2 * LOW),
    };
  }
  return sortScratch;
}

/** Releases the module's sort buffers (they are kept between calls for speed). */
export function releaseSortScratch(): void {
  sortScratch = null;
}

/**
 * Order-preserving map of IEEE-754 float32 bits (as int32) to an unsigned key: flip all
 * bits of negatives, only the sign bit of non-negatives. (-0 and +0 get adjacent keys;
 * ties are decided on values afterwards.)
 */
function keyOf(u: number): number {
  return (u ^ ((u >> 31) | 0x80000000)) >>> 0;
}

/** The float32 bits (as int32) of a key: `keyOf` inverted. */
function bitsOfKey(k: number): number {
  return k ^ ((~k >> 31) | 0x80000000);
}

/**
 * Stable radix sort of float32 bit patterns `bits` (MSD by the top digit, then LSD within
 * each bucket), carrying the index. Writes the sorted bits and indices into `outBits` and
 * `outIdx`.
 */
function radixSort32(bits: Int32Array, s: SortScratch, outBits: Int32Array, outIdx: Uint32Array): void {
  const n = bits.length;
  const { keysA, keysB, idxA, idxB, top, low } = s;
  // Keys and the top digit's histogram; then one stable scatter into the top buckets (A).
  top.fill(0);
  for (let i = 0; i < n; i++) {
    const k = keyOf(bits[i]);
    keysB[i] = k;
    top[(k >>> TOP_SHIFT) + 1]++;
  }
  for (let b = 0; b < TOP; b++) top[b + 1] += top[b];
  const fill = top.slice(0, TOP);
  for (let i = 0; i < n; i++) {
    const k = keysB[i];
    const p = fill[k >>> TOP_SHIFT]++;
    keysA[p] = k;
    idxA[p] = i;
  }
  // Each bucket on its low 20 bits: A -> B -> out, or A -> out when one digit is constant.
  const h0 = low.subarray(0, LOW);
  const h1 = low.subarray(LOW, 2 * LOW);
  for (let b = 0; b < TOP; b++) {
    const a = top[b];
    const e = top[b + 1];
    const m = e - a;
    if (m === 0) continue;
    if (m <= SMALL_BUCKET) {
      // insertion sort (stable: equal keys keep their order from the scatter)
      for (let i = a; i < e; i++) {
        const k = keysA[i];
        const ix = idxA[i];
        let j = i - 1;
        while (j >= a && keysA[j] > k) {
          keysA[j + 1] = keysA[j];
          idxA[j + 1] = idxA[j];
          j--;
        }
        keysA[j + 1] = k;
        idxA[j + 1] = ix;
      }
      for (let i = a; i < e; i++) {
        outBits[i] = bitsOfKey(keysA[i]);
        outIdx[i] = idxA[i];
      }
      continue;
    }
    h0.fill(0);
    h1.fill(0);
    for (let i = a; i < e; i++) {
      const k = keysA[i];
      h0[k & LOW_MASK]++;
      h1[(k >>> LOW_BITS) & LOW_MASK]++;
    }
    let pass0 = true;
    let pass1 = true;
    let s0 = a;
    let s1 = a;
    for (let d = 0; d < LOW; d++) {
      const c0 = h0[d];
      const c1 = h1[d];
      if (c0 === m) pass0 = false;
      if (c1 === m) pass1 = false;
      h0[d] = s0;
      h1[d] = s1;
      s0 += c0;
      s1 += c1;
    }
    let srcK = keysA;
    let srcI = idxA;
    if (pass0 && pass1) {
      for (let i = a; i < e; i++) {
        const k = keysA[i];
        const p = h0[k & LOW_MASK]++;
        keysB[p] = k;
        idxB[p] = idxA[i];
      }
      srcK = keysB;
      srcI = idxB;
    }
    if (pass0 && !pass1) {
      for (let i = a; i < e; i++) {
        const k = srcK[i];
        const p = h0[k & LOW_MASK]++;
        outBits[p] = bitsOfKey(k);
        outIdx[p] = srcI[i];
      }
    } else if (pass1) {
      for (let i = a; i < e; i++) {
        const k = srcK[i];
        const p = h1[(k >>> LOW_BITS) & LOW_MASK]++;
        outBits[p] = bitsOfKey(k);
        outIdx[p] = srcI[i];
      }
    } else {
      for (let i = a; i < e; i++) {
        outBits[i] = bitsOfKey(srcK[i]);
        outIdx[i] = srcI[i];
      }
    }
  }
}

/** Runs longer than this are finished with a comparison sort instead of insertion sort. */
const INSERTION_RUN = 16;

/**
 * Stable ascending argsort of finite values (NaN-free input; the callers check).
 * Writes into `out` when given (both arrays of length values.length). `float32Source`,
 * when given, must hold the same values as float32 (the GPU's draws): its bits are the
 * keys and no float32 image has to be made.
 */
export function argsort(
  values: Float64Array,
  out?: { sorted: Float64Array; order: Uint32Array },
  float32Source?: Float32Array,
): Sorted {
  const n = values.length;
  const sorted = out?.sorted ?? new Float64Array(n);
  const order = out?.order ?? new Uint32Array(n);
  if (n === 0) return { sorted, order };
  const s = getScratch(n);
  let f32: Float32Array;
  let exact32 = true;
  if (float32Source && float32Source.length === n) {
    f32 = float32Source;
  } else {
    f32 = s.f32in.subarray(0, n);
    f32.set(values);
    // Does every value survive the round trip through float32? Then the 32-bit key is exact.
    for (let i = 0; i < n; i++) {
      if (f32[i] !== values[i]) {
        exact32 = false;
        break;
      }
    }
  }
  const bits = new Int32Array(f32.buffer, f32.byteOffset, n);
  const outF32 = s.f32out.subarray(0, n);
  const outBits = new Int32Array(outF32.buffer, outF32.byteOffset, n);
  radixSort32(bits, s, outBits, order);
  if (exact32) {
    sorted.set(outF32);
    return { sorted, order };
  }
  // float64: sorted on the float32 image (monotone); the values are gathered, and runs of
  // equal float32 images finished on them.
  for (let i = 0; i < n; i++) sorted[i] = values[order[i]];
  let i = 0;
  while (i < n) {
    let j = i + 1;
    while (j < n && outBits[j] === outBits[i]) j++;
    if (j - i > INSERTION_RUN) {
      const run = order.subarray(i, j);
      run.sort((a, b) => values[a] - values[b] || a - b);
      for (let k = i; k < j; k++) sorted[k] = values[order[k]];
    } else if (j - i > 1) {
      for (let a = i + 1; a < j; a++) {
        const v = sorted[a];
        const o = order[a];
        let b = a - 1;
        while (b >= i && (sorted[b] > v || (sorted[b] === v && order[b] > o))) {
          sorted[b + 1] = sorted[b];
          order[b + 1] = order[b];
          b--;
        }
        sorted[b + 1] = v;
        order[b + 1] = o;
      }
    }
    i = j;
  }
  return { sorted, order };
}

/** z by twice the average rank, for the last sample size S used (see `zByDoubleRank`). */
let zCache: { size: number; table: Float64Array } | null = null;

/**
 * z of every possible average rank of a sample of size S: table[m] = z of average rank m/2,
 *   qnorm((m/2 - 3/8) / (S - 2 * 3/8 + 1)),  m = 2 .. 2S
 * (a group of ties at sorted positions i..j-1 has average rank (i + 1 + j)/2, an integer
 * or a half-integer, so m = i + 1 + j). Cached for the last S. Only half the entries are
 * computed: ranks r and S + 1 - r have probabilities p and 1 - p, and qnorm(1 - p) =
 * -qnorm(p); the mirrored half differs from a direct evaluation by rounding of p alone
 * (relative 1e-16). At 4 million draws many thousands of ties per parameter (float32
 * draws) read the table instead of calling qnorm.
 */
export function zByDoubleRank(S: number): Float64Array {
  if (zCache?.size === S) return zCache.table;
  const table = new Float64Array(2 * S + 1);
  const denom = S - 2 * BLOM_OFFSET + 1;
  const top = 2 * S + 2;
  for (let m = 2; 2 * m <= top; m++) {
    const z = qnorm((m / 2 - BLOM_OFFSET) / denom);
    table[m] = z;
    table[top - m] = -z;
  }
  table[0] = table[1] = NaN;
  zCache = { size: S, table };
  return table;
}

/**
 * Rank-normalized values from an ascending order: out[order[i]] = z of the average rank
 * of sorted[i] among its ties. `sorted` only decides ties.
 */
export function zScaleFromSorted(sorted: Float64Array, order: Uint32Array, out: Float64Array): Float64Array {
  const S = sorted.length;
  const table = zByDoubleRank(S);
  let i = 0;
  while (i < S) {
    const v = sorted[i];
    let j = i + 1;
    while (j < S && sorted[j] === v) j++;
    if (j === i + 1) {
      out[order[i]] = table[2 * i + 2];
    } else {
      const z = table[i + 1 + j];
      for (let k = i; k < j; k++) out[order[k]] = z;
    }
    i = j;
  }
  return out;
}

/**
 * Rank normalization of arbitrary draws (`posterior::z_scale`): z of the average rank.
 * Non-finite input gives NaN everywhere.
 */
export function zScale(values: ArrayLike<number>): Float64Array {
  const n = values.length;
  const x = Float64Array.from(values as ArrayLike<number>);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) if (!Number.isFinite(x[i])) return out.fill(NaN);
  const { sorted, order } = argsort(x);
  return zScaleFromSorted(sorted, order, out);
}

/** First index k of ascending `sorted` with sorted[k] >= m (binary search). */
function lowerBound(sorted: Float64Array, m: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < m) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Per-chain sums of z and z^2 of the rank-normalized draws, read in ascending order
 * (no scatter): draw `order[i]` belongs to chain floor(order[i] / n).
 */
export function zChainSums(
  sorted: Float64Array,
  order: Uint32Array,
  chains: number,
  n: number,
): { sums: Float64Array; squares: Float64Array } {
  const S = sorted.length;
  const table = zByDoubleRank(S);
  const sums = new Float64Array(chains);
  const squares = new Float64Array(chains);
  let i = 0;
  while (i < S) {
    const v = sorted[i];
    let j = i + 1;
    while (j < S && sorted[j] === v) j++;
    const z = table[i + 1 + j];
    const z2 = z * z;
    for (let k = i; k < j; k++) {
      const c = (order[k] / n) | 0;
      sums[c] += z;
      squares[c] += z2;
    }
    i = j;
  }
  return { sums, squares };
}

/**
 * Per-chain sums of z and z^2 of the rank-normalized |y - m| (the folded draws of
 * `posterior:::fold_draws`), from the ascending order of y: the draws below m read
 * backwards and those at or above m are both ascending in |y - m|, and one merge ranks
 * them, fused with the sums (as `zChainSums` does for the draws themselves).
 *
 * Equal folded values are contiguous on each side (a run of equal draws, or draws that
 * fold to one value), so a group of ties is a run read backwards from the left cursor plus
 * a run read forwards from the right one, and all its members take the z of its average
 * rank. A draw whose neighbour on its side and the other side's next draw both differ from
 * it is a group of one, handled without looking for a run (float32 draws of 4 million
 * have hundreds of thousands of tied pairs, but most draws are still alone).
 */
export function foldedZChainSums(
  sorted: Float64Array,
  order: Uint32Array,
  m: number,
  chains: number,
  n: number,
): { sums: Float64Array; squares: Float64Array } {
  const S = sorted.length;
  const table = zByDoubleRank(S);
  const sums = new Float64Array(chains);
  const squares = new Float64Array(chains);
  let left = lowerBound(sorted, m) - 1;
  let right = left + 1;
  let fl = left >= 0 ? m - sorted[left] : Infinity;
  let fr = right < S ? sorted[right] - m : Infinity;
  // k: draws ranked so far; the next group's ranks start at k + 1
  let k = 0;
  while (k < S) {
    // a lone draw: its neighbour on its side and the other side's next draw both differ
    let lone = -1;
    if (fl < fr) {
      const next = left > 0 ? m - sorted[left - 1] : Infinity;
      if (next !== fl) {
        lone = left--;
        fl = next;
      }
    } else if (fr < fl) {
      const next = right + 1 < S ? sorted[right + 1] - m : Infinity;
      if (next !== fr) {
        lone = right++;
        fr = next;
      }
    }
    if (lone >= 0) {
      const z = table[2 * k + 2];
      const c = (order[lone] / n) | 0;
      sums[c] += z;
      squares[c] += z * z;
      k++;
      continue;
    }
    // A group of ties: left members (l1, left], right members [right, r1), ranks k+1 .. k+g.
    const f = fl < fr ? fl : fr;
    let l1 = left;
    while (l1 >= 0 && m - sorted[l1] === f) l1--;
    let r1 = right;
    while (r1 < S && sorted[r1] - m === f) r1++;
    const g = left - l1 + (r1 - right);
    const z = table[2 * k + 1 + g];
    const z2 = z * z;
    for (let i = l1 + 1; i <= left; i++) {
      const c = (order[i] / n) | 0;
      sums[c] += z;
      squares[c] += z2;
    }
    for (let i = right; i < r1; i++) {
      const c = (order[i] / n) | 0;
      sums[c] += z;
      squares[c] += z2;
    }
    k += g;
    left = l1;
    right = r1;
    fl = left >= 0 ? m - sorted[left] : Infinity;
    fr = right < S ? sorted[right] - m : Infinity;
  }
  return { sums, squares };
}
