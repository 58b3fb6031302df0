/**
 * Potential scale reduction R-hat.
 *
 * Basic split R-hat (Gelman et al. 2013, BDA3 sec. 11.4), for C chains of N draws with
 * chain means m_c and variances s_c^2:
 *   B = N var(m_c),  W = mean(s_c^2),  R-hat = sqrt(((N - 1)/N W + B/N) / W).
 * Rank-normalized split R-hat (Vehtari, Gelman, Simpson, Carpenter & Bürkner 2021,
 * "Rank-normalization, folding, and localization", Bayesian Analysis 16(2)) applies it to
 * the rank-normalized split chains (bulk) and to the rank-normalized |x - median(x)|
 * (tail), and reports the larger: `posterior::rhat`.
 */
import { argsort, foldedZChainSums, zScaleFromSorted } from './rank.ts';
import { medianSorted } from './quantile.ts';
import { type ChainMatrix, splitChains } from './split.ts';
import { type DrawsArray, type Estimate, checkShape, nan, sampleProblem, toFloat64 } from './validate.ts';
import { chainMean } from './fft.ts';

/** Sample variance (n - 1 denominator) of v[0..n), two-pass. */
export function sampleVariance(v: Float64Array, n = v.length): number {
  const m = chainMean(v, 0, n);
  let s = 0;
  for (let i = 0; i < n; i++) {
    const d = v[i] - m;
    s += d * d;
  }
  return s / (n - 1);
}

/** `posterior:::.rhat` on a chain matrix: NaN when N < 2 or the sample is constant or non-finite. */
export function rhatKernel(m: ChainMatrix): Estimate {
  const { data, chains, n } = m;
  if (n < 2) return nan(`R-hat needs at least 2 draws per split chain (4 per chain), got ${n}`);
  if (chains < 2) return nan('R-hat needs at least 2 (split) chains');
  const problem = sampleProblem(data);
  if (problem) return nan(problem);
  const means = new Float64Array(chains);
  let sumVar = 0;
  for (let c = 0; c < chains; c++) {
    const off = c * n;
    const mc = chainMean(data, off, n);
    means[c] = mc;
    let s = 0;
    for (let i = 0; i < n; i++) {
      const d = data[off + i] - mc;
      s += d * d;
    }
    sumVar += s / (n - 1);
  }
  const varWithin = sumVar / chains;
  const varBetween = n * sampleVariance(means);
  return { value: Math.sqrt((varBetween / varWithin + n - 1) / n) };
}

/** The two halves of the rank-normalized R-hat. */
export interface RhatParts {
  readonly bulk: Estimate;
  readonly tail: Estimate;
  /** max(bulk, tail), NaN if either is NaN (R's `max` with NA). */
  readonly rhat: Estimate;
}

/**
 * Rank-normalized bulk and folded (tail) split R-hat of split chains `split`, whose
 * ascending order is (sorted, order); `median` is the median of the unsplit draws.
 * The tail part reads the folded ranks off the same sort (`rhatTailFromSorted`).
 */
export function rhatFromSorted(split: ChainMatrix, sorted: Float64Array, order: Uint32Array, median: number): RhatParts {
  const S = split.data.length;
  const z = new Float64Array(S);
  zScaleFromSorted(sorted, order, z);
  const bulk = rhatKernel({ data: z, chains: split.chains, n: split.n });
  const tail = rhatTailFromSorted(sorted, order, median, split.chains, split.n);
  return { bulk, tail, rhat: maxEstimate(bulk, tail) };
}

function maxEstimate(a: Estimate, b: Estimate): Estimate {
  if (Number.isNaN(a.value)) return a;
  if (Number.isNaN(b.value)) return b;
  return { value: Math.max(a.value, b.value) };
}

/** All parts of the rank-normalized R-hat, with reasons. */
export function rhatParts(values: DrawsArray, chains: number, draws: number): RhatParts {
  checkShape(values, chains, draws);
  const x = toFloat64(values);
  const problem = sampleProblem(x);
  if (problem) {
    const e = nan(problem);
    return { bulk: e, tail: e, rhat: e };
  }
  const split = splitChains(x, chains, draws);
  if (split.n < 2) {
    const e = nan(`R-hat needs at least 4 draws per chain, got ${draws}`);
    return { bulk: e, tail: e, rhat: e };
  }
  const { sorted, order } = argsort(split.data);
  const med = draws % 2 === 0 ? medianSorted(sorted) : medianSorted(argsort(x).sorted);
  return rhatFromSorted(split, sorted, order, med);
}

/**
 * Rank-normalized split R-hat, the maximum of the bulk and folded (tail) versions
 * (Vehtari et al. 2021; `posterior::rhat`). NaN for fewer than 4 draws per chain, or a
 * constant or non-finite sample. Draws are chain-major: (c, d) at c * draws + d.
 */
export function rhat(values: DrawsArray, chains: number, draws: number): number {
  return rhatParts(values, chains, draws).rhat.value;
}

/**
 * Basic R-hat without rank normalization (`posterior::rhat_basic`), split by default.
 */
export function rhatBasic(values: DrawsArray, chains: number, draws: number, split = true): number {
  checkShape(values, chains, draws);
  const x = toFloat64(values);
  const m = split ? splitChains(x, chains, draws) : { data: x, chains, n: draws };
  return rhatKernel(m).value;
}

/** R-hat from per-chain sums of x and x^2 (chains of n draws): B = n var(means), W = mean(vars). */
export function rhatFromSums(sums: Float64Array, squares: Float64Array, n: number): Estimate {
  const chains = sums.length;
  if (n < 2 || chains < 2) return nan('R-hat needs at least 2 split chains of 2 draws');
  const means = new Float64Array(chains);
  let w = 0;
  for (let c = 0; c < chains; c++) {
    const m = sums[c] / n;
    means[c] = m;
    w += Math.max(0, squares[c] - sums[c] * m) / (n - 1);
  }
  w /= chains;
  const b = n * sampleVariance(means, chains);
  return { value: Math.sqrt((b / w + n - 1) / n) };
}

/**
 * Folded (tail) rank-normalized R-hat: ranks of |y - median| from the ascending order of
 * the split chains y (chain-major, `chains` × `n`), merged rather than re-sorted.
 */
export function rhatTailFromSorted(
  sorted: Float64Array,
  order: Uint32Array,
  median: number,
  chains: number,
  n: number,
): Estimate {
  const { sums, squares } = foldedZChainSums(sorted, order, median, chains, n);
  return rhatFromSums(sums, squares, n);
}

/** Bulk rank-normalized R-hat from the FFT kernel's outputs: W = acov(0) N/(N-1), B = N var(means). */
export function rhatFromAcov(acov0: number, means: Float64Array, n: number): Estimate {
  const chains = means.length;
  if (n < 2 || chains < 2) return nan('R-hat needs at least 2 split chains of 2 draws');
  const w = (acov0 * n) / (n - 1);
  const b = n * sampleVariance(means, chains);
  return { value: Math.sqrt((b / w + n - 1) / n) };
}
