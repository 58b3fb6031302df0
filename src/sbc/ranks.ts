/**
 * SBC's statistics: the rank of each true value among thinned posterior draws (Talts et al.
 * 2018), and whether the ranks' empirical CDF stays inside the simultaneous band of a uniform
 * (Säilynoja, Bürkner & Vehtari 2022, "Graphical test for discrete uniformity and its
 * applications in goodness-of-fit evaluation and multiple sample comparison", Statistics and
 * Computing 32:32), with the band's level adjusted by simulation as the R packages `SBC` and
 * `bayesplot` do (`adjust_gamma_simulate`).
 */
import { lgamma } from '../diagnostics/special.ts';
import { xorshift32Uniforms } from '../sampler/rng.ts';

/** Thinned draws per fit the ranks are taken among (ranks 0..RANK_DRAWS); SBC's usual 99 + 1 bins' worth. */
export const RANK_DRAWS = 99;
/** Simulated uniform samples that set the band's adjusted level (the R packages' default M). */
export const BAND_SIMULATIONS = 1000;
/** Seed of those simulations: the band depends only on (N, L, alpha). */
const BAND_SEED = 0x5bc;

/**
 * Indices (chain-major, chain * draws + draw) of `L` draws spread over the chains and the
 * draws: draw i is from chain i mod C, at the (floor(i / C) + 1)-th of ceil(L / C) evenly
 * spaced points counted back from the last draw, so that draws of one chain are
 * draws / ceil(L / C) apart and close to independent.
 */
export function thinIndices(chains: number, draws: number, L: number = RANK_DRAWS): Int32Array {
  if (chains * draws < L) throw new RangeError(`thinIndices: ${chains} chains x ${draws} draws hold fewer than ${L} draws`);
  const perChain = Math.ceil(L / chains);
  const stride = Math.floor(draws / perChain);
  const out = new Int32Array(L);
  for (let i = 0; i < L; i++) {
    const c = i % chains;
    const j = Math.floor(i / chains);
    out[i] = c * draws + (draws - 1 - j * stride);
  }
  return out;
}

/** Rank of `truth` among values[idx]: how many are below it (0..idx.length). NaN draws count as not below. */
export function rankOf(values: ArrayLike<number>, idx: ArrayLike<number>, truth: number): number {
  let r = 0;
  for (let i = 0; i < idx.length; i++) if (values[idx[i]] < truth) r++;
  return r;
}

/** Binomial(N, p) CDF P(X <= k) and upper tail P(X >= k) for k = 0..N, each summed from its own end (no cancellation). */
function binomialTails(N: number, p: number): { cdf: Float64Array; sf: Float64Array } {
  const pmf = new Float64Array(N + 1);
  const lp = Math.log(p);
  const lq = Math.log1p(-p);
  const lnN = lgamma(N + 1);
  for (let k = 0; k <= N; k++) pmf[k] = Math.exp(lnN - lgamma(k + 1) - lgamma(N - k + 1) + k * lp + (N - k) * lq);
  const cdf = new Float64Array(N + 1);
  const sf = new Float64Array(N + 1);
  let s = 0;
  for (let k = 0; k <= N; k++) cdf[k] = s += pmf[k];
  s = 0;
  for (let k = N; k >= 0; k--) sf[k] = s += pmf[k];
  return { cdf, sf };
}

/** The simultaneous band of the ECDF of N ranks in 0..L, at the points z_i = i / (L + 1), i = 1..L. */
export interface EcdfBand {
  readonly N: number;
  readonly L: number;
  /** 1 - the band's simultaneous coverage. */
  readonly alpha: number;
  /** The pointwise level that gives it (adjusted by simulation). */
  readonly gamma: number;
  readonly z: Float64Array;
  /** Bounds on N F(z_i), the count of ranks below i: lower_i <= count_i <= upper_i. */
  readonly lower: Int32Array;
  readonly upper: Int32Array;
}

const bands = new Map<string, EcdfBand>();

/** Counts of ranks below i (N F(z_i)), i = 1..L. */
export function ecdfCounts(ranks: ArrayLike<number>, L: number): Int32Array {
  const hist = new Int32Array(L + 1);
  for (let i = 0; i < ranks.length; i++) hist[ranks[i]]++;
  const out = new Int32Array(L);
  let s = 0;
  for (let i = 1; i <= L; i++) out[i - 1] = s += hist[i - 1];
  return out;
}

/**
 * The band for N ranks in 0..L at simultaneous level 1 - alpha (Säilynoja et al. 2022, sec.
 * 3): gamma is the alpha-quantile over BAND_SIMULATIONS uniform samples of
 *   min_i 2 min(P(X_i <= n_i), P(X_i >= n_i)),  X_i ~ Binomial(N, z_i),
 * n_i the sample's count below z_i; the band is the binomial's gamma/2 and 1 - gamma/2
 * quantiles at each z_i. Cached per (N, L, alpha).
 */
export function ecdfBand(N: number, L: number = RANK_DRAWS, alpha = 0.05): EcdfBand {
  const key = `${N},${L},${alpha}`;
  const hit = bands.get(key);
  if (hit) return hit;
  if (!(Number.isInteger(N) && N >= 1 && Number.isInteger(L) && L >= 1)) throw new RangeError(`ecdfBand: N = ${N}, L = ${L}`);
  const z = Float64Array.from({ length: L }, (_, i) => (i + 1) / (L + 1));
  const tails = Array.from(z, (p) => binomialTails(N, p));
  const u = xorshift32Uniforms(BAND_SEED);
  const gammas = new Float64Array(BAND_SIMULATIONS);
  const ranks = new Int32Array(N);
  for (let m = 0; m < BAND_SIMULATIONS; m++) {
    for (let j = 0; j < N; j++) ranks[j] = Math.min(L, Math.floor(u() * (L + 1)));
    const n = ecdfCounts(ranks, L);
    let g = Infinity;
    for (let i = 0; i < L; i++) g = Math.min(g, 2 * Math.min(tails[i].cdf[n[i]], tails[i].sf[n[i]]));
    gammas[m] = g;
  }
  const gamma = alphaQuantile(gammas, alpha);
  const quantile = (t: Float64Array, q: number) => {
    let k = 0;
    while (k < N && t[k] < q) k++;
    return k;
  };
  const band: EcdfBand = {
    N,
    L,
    alpha,
    gamma,
    z,
    lower: Int32Array.from(tails, (t) => quantile(t.cdf, gamma / 2)),
    upper: Int32Array.from(tails, (t) => quantile(t.cdf, 1 - gamma / 2)),
  };
  bands.set(key, band);
  return band;
}

/**
 * The alpha-quantile of the simulated gammas (R's default type 7), moved to the largest value
 * below it when the quantile sits on a run of ties (the R packages' `alpha_quantile`).
 */
function alphaQuantile(gammas: Float64Array, alpha: number, tol = 0.001): number {
  const s = Float64Array.from(gammas).sort();
  const q = (p: number) => {
    const h = (s.length - 1) * p;
    const lo = Math.floor(h);
    return s[lo] + (h - lo) * ((s[Math.min(lo + 1, s.length - 1)] ?? s[lo]) - s[lo]);
  };
  let a = q(alpha);
  if (a === q(alpha + tol)) {
    let below = -Infinity;
    for (const g of s) if (g < a) below = g;
    if (below > -Infinity) a = below;
  }
  return a;
}

/** Whether the ranks' ECDF stays inside `band`, and the largest |F(z_i) - z_i|. */
export function inBand(ranks: ArrayLike<number>, band: EcdfBand): { inBand: boolean; maxDeviation: number } {
  const n = ecdfCounts(ranks, band.L);
  let ok = true;
  let dev = 0;
  for (let i = 0; i < band.L; i++) {
    if (n[i] < band.lower[i] || n[i] > band.upper[i]) ok = false;
    dev = Math.max(dev, Math.abs(n[i] / band.N - band.z[i]));
  }
  return { inBand: ok, maxDeviation: dev };
}

/** Central interval levels whose coverage is reported. */
export const COVERAGE_LEVELS = [0.5, 0.8, 0.9, 0.95] as const;

/**
 * Coverage of the central intervals: the share of simulations whose true value lies inside the
 * central `level` interval of its L thinned draws, i.e. whose rank r has (r + 1/2)/(L + 1)
 * within (1 -+ level)/2 (expected: about `level`).
 */
export function coverage(ranks: ArrayLike<number>, L: number = RANK_DRAWS): Record<string, number> {
  const out: Record<string, number> = {};
  for (const level of COVERAGE_LEVELS) {
    let inside = 0;
    for (let i = 0; i < ranks.length; i++) {
      const u = (ranks[i] + 0.5) / (L + 1);
      if (u >= (1 - level) / 2 && u <= (1 + level) / 2) inside++;
    }
    out[String(level)] = ranks.length ? inside / ranks.length : NaN;
  }
  return out;
}
