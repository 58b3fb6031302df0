/**
 * Per-parameter summary of chain-major draws: the TypeScript counterpart of
 * `posterior::summarise_draws(x, "mean", "sd", ~quantile2(.x, c(.05, .5, .95)),
 * "mcse_mean", "mcse_sd", "ess_bulk", "ess_tail", "rhat")` and ArviZ's `az.summary`,
 * plus the quantile MCSEs, nested R-hat and the sampler diagnostics.
 *
 * One sort per parameter feeds the quantiles, the rank normalization (z of every average
 * rank from one table, `zByDoubleRank`), the folded ranks (by a merge, `foldedZChainSums`) and
 * the quantile indicators; the three ESS series (ranks, draws, squared deviations) take
 * their autocovariance from direct sums over the first lags when Geyer's sequence stops
 * there (`essOfSeries`), else from the FFT. A summary of 4,096 chains × 1,000 draws costs
 * about 0.2–0.3 s of CPU per parameter (2-core machine, under load).
 */
import { ebfmi as ebfmiOf, divergences as divergencesOf, acceptanceRate, EBFMI_THRESHOLD } from './energy.ts';
import { essOfSeries, MIN_ESS_SPLIT_DRAWS } from './ess.ts';
import { indicatorEss } from './indicator.ts';
import { mcseQuantileFrom } from './mcse.ts';
import { nestedRhatEstimate, type Superchains } from './nested_rhat.ts';
import { medianSorted, quantileSorted } from './quantile.ts';
import { argsort, zChainSums, zScaleFromSorted } from './rank.ts';
import { rhatFromAcov, rhatFromSums, rhatTailFromSorted } from './rhat.ts';
import { clip, listCapped } from '../errors.ts';
import { splitChains } from './split.ts';
import { type DrawsArray, type Estimate, checkShape, CONSTANT_TOLERANCE, toFloat64 } from './validate.ts';

/** R-hat above this flags non-convergence (Vehtari et al. 2021, sec. 4.3). */
export const RHAT_THRESHOLD = 1.01;
/** Bulk/tail ESS below this many per chain, with at least 4 chains' worth in total, is flagged (Vehtari et al. 2021: 100 per chain). */
export const MIN_ESS_PER_CHAIN = 100;

export interface ParamSummary {
  mean: number;
  sd: number;
  q5: number;
  q50: number;
  q95: number;
  mcse_mean: number;
  mcse_sd: number;
  /** MCSE of the 5% and 95% quantiles (`posterior::mcse_quantile`). */
  mcse_q5: number;
  mcse_q95: number;
  ess_bulk: number;
  ess_tail: number;
  rhat: number;
  /** Present when `superchains` was given. */
  rhat_nested?: number;
  /** Why an estimate is NaN (or was capped); empty when all is well. */
  reasons: string[];
}

export interface Summary {
  chains: number;
  draws: number;
  params: Record<string, ParamSummary>;
  /** E-BFMI per chain (empty without an energy trace). */
  ebfmi: number[];
  /** Total divergent transitions (NaN without divergence flags). */
  divergences: number;
  divergencesPerChain: number[];
  /** Mean acceptance probability (NaN without acceptance probabilities). */
  acceptRate: number;
  /** Convergence warnings (R-hat, ESS, E-BFMI, divergences). */
  warnings: string[];
}

export interface SummarizeOptions {
  /** Superchain count (consecutive equal groups) or ids per chain, for nested R-hat. */
  superchains?: Superchains;
  /** Hamiltonian at every draw, chain-major. */
  energy?: DrawsArray;
  /** Divergence flag (0/1) at every draw, chain-major. */
  divergent?: Uint8Array;
  /** Acceptance probability at every draw. */
  acceptProb?: DrawsArray;
  /**
   * Called with the parameters summarised so far and their total, after each one (with
   * `summarizeParallel`: on the calling thread, after each parameter it finishes, counting
   * the workers' too, and at the end).
   */
  onProgress?: (done: number, total: number) => void;
}

function addReason(reasons: string[], name: string, e: Estimate): number {
  if (e.reason) {
    const r = `${name}: ${e.reason}`;
    if (!reasons.includes(r)) reasons.push(r);
  }
  return e.value;
}

/** Pooled moments of all draws in one pass plus a correction pass (R's mean and var). */
function moments(x: Float64Array): { mean: number; variance: number; min: number; max: number; finite: boolean } {
  const S = x.length;
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < S; i++) {
    const v = x[i];
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const finite = Number.isFinite(sum) && Number.isFinite(min) && Number.isFinite(max);
  const m0 = sum / S;
  let c = 0;
  let ss = 0;
  for (let i = 0; i < S; i++) {
    const d = x[i] - m0;
    c += d;
    ss += d * d;
  }
  // corrected two-pass variance (Chan, Golub & LeVeque 1983); mean as R's mean.default
  return { mean: m0 + c / S, variance: (ss - (c * c) / S) / (S - 1), min, max, finite };
}

/** Number of sorted values <= q. */
function countAtMost(sorted: Float64Array, q: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] <= q) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Buffers reused from one parameter to the next (same size). */
interface Workspace {
  size: number;
  /** The draws as float64 (when they come as float32). */
  x: Float64Array;
  sorted: Float64Array;
  order: Uint32Array;
  work: Float64Array;
}
let workspace: Workspace | null = null;

function getWorkspace(S: number): Workspace {
  if (workspace?.size !== S) {
    workspace = {
      size: S,
      x: new Float64Array(S),
      sorted: new Float64Array(S),
      order: new Uint32Array(S),
      work: new Float64Array(S),
    };
  }
  return workspace;
}

/** Releases the buffers `summarize` keeps between calls (about 48 bytes per draw). */
export function releaseSummaryWorkspace(): void {
  workspace = null;
}

/** Summary of one parameter's draws (chain-major). */
export function summarizeParam(
  values: DrawsArray,
  chains: number,
  draws: number,
  superchains?: Superchains,
): ParamSummary {
  checkShape(values, chains, draws);
  const S = values.length;
  const ws = getWorkspace(S);
  const x = toFloat64(values, ws.x);
  const reasons: string[] = [];
  const mom = moments(x);
  const out: ParamSummary = {
    mean: mom.mean,
    sd: S > 1 ? Math.sqrt(mom.variance) : NaN,
    q5: NaN,
    q50: NaN,
    q95: NaN,
    mcse_mean: NaN,
    mcse_sd: NaN,
    mcse_q5: NaN,
    mcse_q95: NaN,
    ess_bulk: NaN,
    ess_tail: NaN,
    rhat: NaN,
    reasons,
  };
  if (S === 1) reasons.push('sd: needs at least 2 draws');
  if (superchains !== undefined) {
    out.rhat_nested = addReason(reasons, 'rhat_nested', nestedRhatEstimate(x, chains, draws, superchains));
  }
  if (!mom.finite) {
    reasons.push('non-finite values (NaN or Inf) in the draws: quantiles, R-hat, ESS and MCSE are NaN');
    return out;
  }
  if (Math.abs(mom.max - mom.min) < CONSTANT_TOLERANCE) {
    out.q5 = out.q50 = out.q95 = x[0];
    reasons.push('all draws are equal (constant parameter): R-hat, ESS and MCSE are NaN');
    return out;
  }
  const split = splitChains(x, chains, draws);
  const { data: y, n } = split;
  const C2 = split.chains;
  const f32 = values instanceof Float32Array && y === x ? values : undefined;
  const { sorted, order } = argsort(y, { sorted: ws.sorted.subarray(0, y.length), order: ws.order.subarray(0, y.length) }, f32);
  const sortedAll = y === x ? sorted : argsort(x).sorted;
  out.q5 = quantileSorted(sortedAll, 0.05);
  out.q50 = quantileSorted(sortedAll, 0.5);
  out.q95 = quantileSorted(sortedAll, 0.95);
  if (n < 2) {
    reasons.push(`R-hat needs at least 4 draws per chain, got ${draws}`);
    return out;
  }
  // split chains of the (non-constant) draws: is the split sample itself constant?
  if (Math.abs(sorted[sorted.length - 1] - sorted[0]) < CONSTANT_TOLERANCE) {
    reasons.push('the split chains (middle draw dropped) are constant: R-hat, ESS and MCSE are NaN');
    return out;
  }
  const tail = rhatTailFromSorted(sorted, order, medianSorted(sortedAll), C2, n);
  if (n < MIN_ESS_SPLIT_DRAWS) {
    // R-hat without the FFT (no ESS): bulk from chain sums of z
    const { sums, squares } = zChainSums(sorted, order, C2, n);
    out.rhat = maxRhat(reasons, rhatFromSums(sums, squares, n), tail);
    reasons.push(`ESS and MCSE need at least ${2 * MIN_ESS_SPLIT_DRAWS} draws per chain, got ${draws}`);
    return out;
  }
  const acov = new Float64Array(n);
  const means = new Float64Array(C2);
  const work = ws.work.subarray(0, y.length);

  // Bulk: rank-normalized split chains → ESS and (from the same moments) bulk R-hat.
  zScaleFromSorted(sorted, order, work);
  out.ess_bulk = addReason(reasons, 'ess_bulk', essOfSeries(work, C2, n, acov, means));
  out.rhat = maxRhat(reasons, rhatFromAcov(acov[0], means, n), tail);

  // Tail: quantile indicators, read off the sort.
  const e5 = indicatorEss(order, countAtMost(sorted, out.q5), C2, n);
  const e95 = indicatorEss(order, countAtMost(sorted, out.q95), C2, n);
  const t5 = addReason(reasons, 'ess_tail', e5);
  const t95 = addReason(reasons, 'ess_tail', e95);
  out.ess_tail = Number.isNaN(t5) || Number.isNaN(t95) ? NaN : Math.min(t5, t95);
  out.mcse_q5 = mcseQuantileFrom(sortedAll, 0.05, t5);
  out.mcse_q95 = mcseQuantileFrom(sortedAll, 0.95, t95);

  // MCSE of the mean: ESS of the raw split chains.
  const essMean = addReason(reasons, 'mcse_mean', essOfSeries(y, C2, n, acov, means));
  out.mcse_mean = out.sd / Math.sqrt(essMean);

  // MCSE of the sd: ESS of the squared deviations (posterior 1.4's mcse_sd).
  const mean = out.mean;
  let e2 = 0;
  let e4 = 0;
  for (let i = 0; i < S; i++) {
    const d = x[i] - mean;
    const d2 = d * d;
    e2 += d2;
    e4 += d2 * d2;
  }
  const evar = e2 / S;
  const m4 = e4 / S;
  let dmin = Infinity;
  let dmax = -Infinity;
  for (let i = 0; i < y.length; i++) {
    const d = y[i] - mean;
    const d2 = d * d;
    work[i] = d2;
    if (d2 < dmin) dmin = d2;
    if (d2 > dmax) dmax = d2;
  }
  if (Math.abs(dmax - dmin) < CONSTANT_TOLERANCE) {
    reasons.push('mcse_sd: squared deviations are constant');
  } else {
    const essSd = addReason(reasons, 'mcse_sd', essOfSeries(work, C2, n, acov, means));
    out.mcse_sd = Math.sqrt((m4 - evar * evar) / essSd / evar / 4);
  }
  return out;
}

/**
 * R-hat and bulk ESS of one parameter alone, by `summarizeParam`'s own path (one sort, the
 * same estimates to the bit), for callers that need only these two per fit (SBC's many fits):
 * NaN for a constant, non-finite or too short sample.
 */
export function rhatEssBulk(values: DrawsArray, chains: number, draws: number): { rhat: number; ess_bulk: number } {
  checkShape(values, chains, draws);
  const none = { rhat: NaN, ess_bulk: NaN };
  const S = values.length;
  const ws = getWorkspace(S);
  const x = toFloat64(values, ws.x);
  const mom = moments(x);
  if (S < 2 || !mom.finite || Math.abs(mom.max - mom.min) < CONSTANT_TOLERANCE) return none;
  const split = splitChains(x, chains, draws);
  const { data: y, n } = split;
  if (n < MIN_ESS_SPLIT_DRAWS) return none;
  const f32 = values instanceof Float32Array && y === x ? values : undefined;
  const { sorted, order } = argsort(y, { sorted: ws.sorted.subarray(0, y.length), order: ws.order.subarray(0, y.length) }, f32);
  if (Math.abs(sorted[sorted.length - 1] - sorted[0]) < CONSTANT_TOLERANCE) return none;
  const sortedAll = y === x ? sorted : argsort(x).sorted;
  const tail = rhatTailFromSorted(sorted, order, medianSorted(sortedAll), split.chains, n);
  const acov = new Float64Array(n);
  const means = new Float64Array(split.chains);
  const work = ws.work.subarray(0, y.length);
  zScaleFromSorted(sorted, order, work);
  const reasons: string[] = [];
  const ess = addReason(reasons, 'ess_bulk', essOfSeries(work, split.chains, n, acov, means));
  return { rhat: maxRhat(reasons, rhatFromAcov(acov[0], means, n), tail), ess_bulk: ess };
}

function maxRhat(reasons: string[], bulk: Estimate, tail: Estimate): number {
  const b = addReason(reasons, 'rhat', bulk);
  const t = addReason(reasons, 'rhat', tail);
  return Number.isNaN(b) || Number.isNaN(t) ? NaN : Math.max(b, t);
}

/**
 * Summarises every parameter of chain-major draws (element (c, d) of a parameter at
 * c * draws + d): mean, sd, 5/50/95% quantiles, MCSE of mean/sd/quantiles, bulk and tail
 * ESS, rank-normalized folded split R-hat (all equal to R's `posterior` 1.4), nested
 * R-hat when `superchains` is given, and E-BFMI, divergences and acceptance when the
 * sampler's traces are given. Invalid estimates are NaN, with the reason in `reasons`.
 */
export function summarize(
  params: Record<string, DrawsArray>,
  chains: number,
  draws: number,
  opts: SummarizeOptions = {},
): Summary {
  const perParam: Record<string, ParamSummary> = {};
  const entries = Object.entries(params);
  entries.forEach(([name, values], i) => {
    perParam[name] = summarizeParam(values, chains, draws, opts.superchains);
    opts.onProgress?.(i + 1, entries.length);
  });
  return assembleSummary(perParam, chains, draws, opts);
}

/**
 * The sampler-level part of a summary (E-BFMI, divergences, acceptance, warnings)
 * around per-parameter summaries already computed (by `summarizeParam`).
 */
export function assembleSummary(
  perParam: Record<string, ParamSummary>,
  chains: number,
  draws: number,
  opts: SummarizeOptions = {},
): Summary {
  const summary: Summary = {
    chains,
    draws,
    params: perParam,
    ebfmi: [],
    divergences: NaN,
    divergencesPerChain: [],
    acceptRate: NaN,
    warnings: [],
  };
  if (opts.energy) summary.ebfmi = Array.from(ebfmiOf(opts.energy, chains, draws));
  if (opts.divergent) {
    const d = divergencesOf(opts.divergent, chains, draws);
    summary.divergences = d.total;
    summary.divergencesPerChain = Array.from(d.perChain);
  }
  if (opts.acceptProb) {
    checkShape(opts.acceptProb, chains, draws);
    summary.acceptRate = acceptanceRate(opts.acceptProb);
  }
  summary.warnings = convergenceWarnings(summary);
  return summary;
}

/** Parameters named in a warning: at most 10, each name at most 40 characters, control bytes escaped. */
const named = (names: readonly string[]): string => listCapped(names.map((n) => clip(n, 40)));

function convergenceWarnings(s: Summary): string[] {
  const w: string[] = [];
  const names = Object.keys(s.params);
  const highRhat = names.filter((n) => s.params[n].rhat > RHAT_THRESHOLD);
  if (highRhat.length) w.push(`R-hat > ${RHAT_THRESHOLD} for ${named(highRhat)}`);
  const highNested = names.filter((n) => (s.params[n].rhat_nested ?? 0) > RHAT_THRESHOLD);
  if (highNested.length) w.push(`nested R-hat > ${RHAT_THRESHOLD} for ${named(highNested)}`);
  const minEss = MIN_ESS_PER_CHAIN * Math.min(s.chains, 4);
  const lowEss = names.filter((n) => s.params[n].ess_bulk < minEss || s.params[n].ess_tail < minEss);
  if (lowEss.length) w.push(`bulk or tail ESS < ${minEss} for ${named(lowEss)}`);
  const lowBfmi = s.ebfmi.filter((e) => e < EBFMI_THRESHOLD).length;
  if (lowBfmi) w.push(`E-BFMI < ${EBFMI_THRESHOLD} in ${lowBfmi} of ${s.chains} chains`);
  if (s.divergences > 0) w.push(`${s.divergences} divergent transitions`);
  return w;
}
