/**
 * Sorting and rank normalization (Vehtari et al. 2021, sec. 4.1; `posterior::z_scale`).
 *
 *   z_i = qnorm((r_i - 3/8) / (S - 2 * 3/8 + 1)),
 *
 * with r_i the rank of draw i among all S draws, ties given their average rank (R's
 * `rank(ties.method = "average")`) and c = 3/8 Blom's offset.
 *
 * Ranking 4 million draws per parameter is the hot spot of a many-chain summary, so the
 * sort is an LSD radix sort over the order-preserving 32-bit image of each value
 * (its float32 rounding, which is monotone), carrying the index along; runs whose float32
 * keys tie are then finished by insertion sort on the full float64 values. Sorted values
 * are carried too, so nothing is gathered at random afterwards.
 */
import { qnorm } from './special.ts';

/** Blom's offset c = 3/8 (Blom 1958; `posterior::z_scale(c = 3/8)`). */
export const BLOM_OFFSET = 3 / 8;

/** Result of `argsort`: `values[order[i]] === sorted[i]`, ascending. */
export interface Sorted {
  readonly sorted: Float64Array;
  readonly order: Uint32Array;
}

const RADIX_BITS = 11;
const RADIX = 1 << RADIX_BITS;
const RADIX_MASK = RADIX - 1;

interface SortScratch {
  n: number;
  /** float32 images of the input (when it is not float32 already) and of the sorted output. */
  f32in: Float32Array;
  f32out: Float32Array;
  bitsA: Int32Array;
  bitsB: Int32Array;
  idxA: Uint32Array;
  idxB: Uint32Array;
  valA: Float64Array;
  valB: Float64Array;
  hist: Uint32Array;
}
let sortScratch: SortScratch | null = null;

function getScratch(n: number): SortScratch {
  if (!sortScratch || sortScratch.n < n) {
    sortScratch = {
      n,
      f32in: new Float32Array(n),
      f32out: new Float32Array(n),
      bitsA: new Int32Array(n),
      bitsB: new Int32Array(n),
      idxA: new Uint32Array(n),
      idxB: new Uint32Array(n),
      valA: new Float64Array(0),
      valB: new Float64Array(0),
      hist: new Uint32Array(3 * RADIX),
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
  return u ^ ((u >> 31) | 0x80000000);
}

/**
 * LSD radix sort (3 digits of 11 bits) of float32 bit patterns `bits`, carrying the index
 * and, when `vals` is given, a float64 payload. Writes the sorted bits, indices and
 * payload into the `out*` arrays. Passes whose digit is the same for every key are skipped.
 */
function radixSort32(
  bits: Int32Array,
  vals: Float64Array | null,
  s: SortScratch,
  outBits: Int32Array,
  outIdx: Uint32Array,
  outVals: Float64Array | null,
): void {
  const n = bits.length;
  const hist = s.hist;
  hist.fill(0);
  for (let i = 0; i < n; i++) {
    const k = keyOf(bits[i]);
    hist[k & RADIX_MASK]++;
    hist[RADIX + ((k >>> RADIX_BITS) & RADIX_MASK)]++;
    hist[2 * RADIX + (k >>> (2 * RADIX_BITS))]++;
  }
  const passes: number[] = [];
  for (let pass = 0; pass < 3; pass++) {
    const off = pass * RADIX;
    let skip = false;
    let sum = 0;
    for (let b = 0; b < RADIX; b++) {
      const c = hist[off + b];
      if (c === n) skip = true;
      hist[off + b] = sum;
      sum += c;
    }
    if (!skip) passes.push(pass);
  }
  if (passes.length === 0) {
    outBits.set(bits);
    for (let i = 0; i < n; i++) outIdx[i] = i;
    if (vals && outVals) outVals.set(vals);
    return;
  }
  if (vals && s.valA.length < n) {
    s.valA = new Float64Array(s.n);
    s.valB = new Float64Array(s.n);
  }
  let srcBits = bits;
  let srcIdx: Uint32Array | null = null;
  let srcVals = vals;
  for (let pi = 0; pi < passes.length; pi++) {
    const last = pi === passes.length - 1;
    const even = pi % 2 === 0;
    const dstBits = last ? outBits : (even ? s.bitsA : s.bitsB).subarray(0, n);
    const dstIdx = last ? outIdx : (even ? s.idxA : s.idxB).subarray(0, n);
    const dstVals = vals ? (last ? outVals! : (even ? s.valA : s.valB).subarray(0, n)) : null;
    const off = passes[pi] * RADIX;
    const shift = passes[pi] * RADIX_BITS;
    if (srcIdx === null) {
      for (let i = 0; i < n; i++) {
        const u = srcBits[i];
        const pos = hist[off + ((keyOf(u) >>> shift) & RADIX_MASK)]++;
        dstBits[pos] = u;
        dstIdx[pos] = i;
        if (dstVals) dstVals[pos] = srcVals![i];
      }
    } else if (dstVals) {
      for (let i = 0; i < n; i++) {
        const u = srcBits[i];
        const pos = hist[off + ((keyOf(u) >>> shift) & RADIX_MASK)]++;
        dstBits[pos] = u;
        dstIdx[pos] = srcIdx[i];
        dstVals[pos] = srcVals![i];
      }
    } else {
      for (let i = 0; i < n; i++) {
        const u = srcBits[i];
        const pos = hist[off + ((keyOf(u) >>> shift) & RADIX_MASK)]++;
        dstBits[pos] = u;
        dstIdx[pos] = srcIdx[i];
      }
    }
    srcBits = dstBits;
    srcIdx = dstIdx;
    srcVals = dstVals;
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
  if (exact32) {
    radixSort32(bits, null, s, outBits, order, null);
    sorted.set(outF32);
    return { sorted, order };
  }
  // float64: sort on the float32 image (monotone), carrying the values, then finish
  // runs of equal float32 images on the float64 values.
  radixSort32(bits, values, s, outBits, order, sorted);
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

/**
 * Ascending order of |v - m| given the ascending order of v (`posterior:::fold_draws`
 * without a second sort): the values below m, read backwards, and those at or above m
 * are both ascending in |v - m|, so one merge orders them.
 */
export function foldSorted(
  sorted: Float64Array,
  order: Uint32Array,
  m: number,
  outSorted: Float64Array,
  outOrder: Uint32Array,
): void {
  const S = sorted.length;
  const lo = lowerBound(sorted, m);
  let left = lo - 1;
  let right = lo;
  // |v - m| is m - v below the median and v - m above (IEEE subtraction is antisymmetric).
  let fl = left >= 0 ? m - sorted[left] : Infinity;
  let fr = right < S ? sorted[right] - m : Infinity;
  for (let k = 0; k < S; k++) {
    if (fl < fr) {
      outSorted[k] = fl;
      outOrder[k] = order[left];
      left--;
      fl = left >= 0 ? m - sorted[left] : Infinity;
    } else {
      outSorted[k] = fr;
      outOrder[k] = order[right];
      right++;
      fr = right < S ? sorted[right] - m : Infinity;
    }
  }
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
 * them (`foldSorted` fused with `zChainSums`).
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
  const lo = lowerBound(sorted, m);
  let left = lo - 1;
  let right = lo;
  let fl = left >= 0 ? m - sorted[left] : Infinity;
  let fr = right < S ? sorted[right] - m : Infinity;
  // members of the current group of equal folded values (ties are rare; grows on demand)
  let members = new Uint32Array(16);
  let groupSize = 0;
  let groupValue = NaN;
  let groupStart = 0;
  for (let k = 0; k <= S; k++) {
    let f = NaN;
    let o = 0;
    if (k < S) {
      if (fl < fr) {
        f = fl;
        o = order[left];
        left--;
        fl = left >= 0 ? m - sorted[left] : Infinity;
      } else {
        f = fr;
        o = order[right];
        right++;
        fr = right < S ? sorted[right] - m : Infinity;
      }
      if (f === groupValue) {
        if (groupSize === members.length) {
          const grown = new Uint32Array(2 * members.length);
          grown.set(members);
          members = grown;
        }
        members[groupSize++] = o;
        continue;
      }
    }
    // flush the finished group (ranks groupStart+1 .. k)
    if (groupSize === 1) {
      const z = table[2 * groupStart + 2];
      const c = (members[0] / n) | 0;
      sums[c] += z;
      squares[c] += z * z;
    } else if (groupSize > 1) {
      const z = table[groupStart + 1 + k];
      const z2 = z * z;
      for (let g = 0; g < groupSize; g++) {
        const c = (members[g] / n) | 0;
        sums[c] += z;
        squares[c] += z2;
      }
    }
    groupStart = k;
    groupValue = f;
    members[0] = o;
    groupSize = 1;
  }
  return { sums, squares };
}
