/**
 * The figures of a run, reduced in the sampling worker to what the page draws: strided
 * subsets of the draws for funnels and traces (a plot of 65,536 chains × 1,000 draws shows
 * a sample, and says so), histograms, autocorrelations, posterior predictive intervals and
 * the per-chain E-BFMI. The page's main thread then only draws, so no task there runs long.
 *
 * The funnels, traces, tau, autocorrelation and E-BFMI are the hierarchy's and the same for
 * every likelihood family. A family's own global parameters (`familyGlobals`: the normal
 * likelihood's unknown sigma, sampled as log sigma) get a trace and a histogram against their
 * prior, the exact posterior's quantiles and the truth, each found by name in the model's
 * layout. The data and the predictive check are shown on the family's outcome scale where it
 * has one (binomial: p), with draws of new observations made by the family itself
 * (`family.predict`, at each draw's global where the family has one); the exact posterior
 * exists for the normal likelihoods only, and the figures leave it out otherwise.
 *
 * Data with population-level predictors (eta_i = theta[g_i] + x_i·beta) add a figure per
 * coefficient beta[name]: its draws as a histogram against its Normal prior and the exact
 * posterior's 5%, 50% and 95% points, with the posterior mean and 90% interval for a forest
 * plot of all of them. Their predictive check draws a new observation of group k at the
 * group's mean predictors (eta = theta_k + xbar_k·beta at each draw).
 *
 * Every array is chain-major on input (chain * draws + draw), as `sample()` returns them.
 */
import { autocorrelation } from '../src/diagnostics/acf.ts';
import type { ParamSummary, Summary } from '../src/diagnostics/index.ts';
import type { HierData } from '../src/model/data.ts';
import { familyGlobals, type Family, type FamilyGlobal } from '../src/model/family.ts';
import { familyOf } from '../src/model/families/index.ts';
import { thetaOf, type HierModel } from '../src/model/model.ts';
import { betaName, makeLayout, type ModelLayout } from '../src/model/layout.ts';
import type { ExactPosterior, PosteriorSummary } from '../src/model/posterior.ts';
import { DEFAULT_BETA_PRIOR, logScalePriorNormalizer, logScalePriorUnconstrained, logTauPriorNormalizer, logTauPriorUnconstrained } from '../src/model/priors.ts';
import { keyFromSeed } from '../src/sampler/rng.ts';
import type { SampleResult } from '../src/sampler/sample.ts';
import { counterVariates } from './generate.ts';
import type { Truth } from './data_source.ts';

/** Most draws per funnel panel (a strided subset of all retained draws; the same draws in every panel). */
export const MAX_FUNNEL_POINTS = 3000;
/** Most divergent transitions drawn per panel (a strided subset when there are more). */
export const MAX_DIVERGENT_POINTS = 3000;
/** Chains in trace plots, and most points per trace (strided beyond). */
export const TRACE_CHAINS = 4;
export const MAX_TRACE_POINTS = 1000;
/** Chains averaged in the autocorrelation plot, and the largest lag shown. */
export const ACF_CHAINS = 64;
export const MAX_ACF_LAG = 60;
/** Draws used per group for the posterior predictive intervals (strided). */
export const PPC_DRAWS = 20_000;
/**
 * Most new observations drawn for the predictive check in all: with many groups each gets
 * fewer draws (at least PPC_MIN_DRAWS), so a binomial draw's cost times 1,000 groups stays
 * within a second or two.
 */
export const PPC_BUDGET = 2_000_000;
export const PPC_MIN_DRAWS = 1000;
/** Observations drawn per group in the data strip plot and the predictive check (strided beyond). */
export const MAX_POINTS_PER_GROUP = 200;
/** Philox stream of the y_rep draws (counter word 3), apart from the sampler's. */
const PPC_STREAM = 0x99c;

/** Draws of one funnel run: the sampled coordinate and theta of each group against log tau. */
export interface FunnelData {
  /** Retained draws in all, and the stride of the subset shown (1: all). */
  readonly total: number;
  readonly stride: number;
  readonly logTau: Float32Array;
  /** Per group: the sampled coordinate z_k (theta_k centered, eta_k non-centered) and theta_k. */
  readonly z: Float32Array[];
  readonly theta: Float32Array[];
  /** Divergent transitions of the retained chains, where they diverged (a strided subset beyond MAX_DIVERGENT_POINTS). */
  readonly divTotal: number;
  readonly divLogTau: Float32Array;
  readonly divZ: Float32Array[];
  readonly divTheta: Float32Array[];
}

export interface TraceData {
  readonly chains: number;
  readonly stride: number;
  readonly x: Float64Array;
  /** Per chain shown. */
  readonly mu: Float32Array[];
  readonly logTau: Float32Array[];
}

export interface TauData {
  /** Histogram of the tau draws (density scale), bin edges (bins + 1). */
  readonly edges: Float64Array;
  readonly density: Float64Array;
  /** Exact posterior density (empty where the likelihood has none) and prior density of tau on a grid of tau. */
  readonly grid: Float64Array;
  readonly exact: Float64Array;
  readonly prior: Float64Array;
  readonly trueTau?: number;
}

export interface PpcData {
  /** Per group: the 5, 25, 50, 75, 95% quantiles of y_rep (a new observation of the group), on `scale`. */
  readonly q: Float64Array;
  /** Observed values shown (strided per group), with their group, on `scale`. */
  readonly obsGroup: Float64Array;
  readonly obsY: Float64Array;
  /** Observations per group. */
  readonly n: Int32Array;
  /** The axis: `y`, or the family's outcome (`p`, `rate`) of each observation. */
  readonly scale: string;
  /** The columns a new observation of group k has, in words (`sigma`, `trials`: each group's median). */
  readonly columns: string;
  /** The outcome's posterior per group (the same quantiles), where the family has one: p[k], rate[k]. */
  readonly outcome?: { readonly name: string; readonly q: Float64Array };
  /** The predictors a new observation of group k has (each at the group's mean), where the data have any. */
  readonly predictors?: string;
}

/**
 * A family global parameter's figures: the trace of its sampled coordinate x (log sigma) and
 * the histogram of its natural-scale draws (sigma = e^x) against the prior, the exact
 * posterior's 5%, 50% and 95% points and the true value.
 */
export interface GlobalData {
  /** The sampled coordinate's name (`log_sigma`), the natural-scale parameter's (`sigma`) and its help. */
  readonly name: string;
  readonly constrained: string;
  readonly help: string;
  /** x per chain shown, at the trace's draws (`TraceData.x`). */
  readonly trace: Float32Array[];
  /** Histogram of the natural-scale draws on [edges[0], edges[bins]] (density scale), bin edges (bins + 1). */
  readonly edges: Float64Array;
  readonly density: Float64Array;
  /** Prior density on a grid of the natural scale over the histogram's range. */
  readonly grid: Float64Array;
  readonly prior: Float64Array;
  /** The exact posterior of the natural-scale parameter, where the likelihood has one. */
  readonly exact?: PosteriorSummary;
  readonly truth?: number;
}

/**
 * A population-level coefficient's figures: its draws as a density histogram against its
 * Normal prior and the exact posterior's 5%, 50% and 95% points (where there is one), and the
 * posterior mean and 5%, 50%, 95% points of the draws (the run's summary) for the forest plot.
 */
export interface BetaData {
  /** The output name (`beta[x1]`) and the predictor's (`x1`, `a:b`). */
  readonly name: string;
  readonly predictor: string;
  readonly mean: number;
  readonly sd: number;
  readonly q05: number;
  readonly q50: number;
  readonly q95: number;
  /** Histogram of the draws (density scale) on [edges[0], edges[bins]], bin edges (bins + 1). */
  readonly edges: Float64Array;
  readonly density: Float64Array;
  /** The prior's density on a grid over the histogram's range. */
  readonly grid: Float64Array;
  readonly prior: Float64Array;
  /** The prior, in words (`N(0, 5)`). */
  readonly priorText: string;
  readonly exact?: PosteriorSummary;
}

export interface AcfData {
  readonly lags: Float64Array;
  readonly mu: Float64Array;
  readonly tau: Float64Array;
  readonly chains: number;
}

/** What the page draws for a finished run. */
export interface RunFigures {
  readonly labels: readonly string[];
  readonly c: Float64Array;
  readonly funnel: FunnelData;
  readonly trace: TraceData;
  readonly tau: TauData;
  /** One per family global (`familyGlobals`), in layout order; empty for most families. */
  readonly globals: readonly GlobalData[];
  /** One per predictor's coefficient, in the data's order; empty without predictors. */
  readonly beta: readonly BetaData[];
  readonly ppc: PpcData;
  readonly acf: AcfData;
  readonly ebfmi: Float64Array;
}

/** Indices 0, s, 2s, ... below n, with s the smallest stride giving at most `max` of them. */
function strided(n: number, max: number): { stride: number; count: number } {
  const stride = Math.max(1, Math.ceil(n / max));
  return { stride, count: Math.ceil(n / stride) };
}

/**
 * The layout of the model of `data` (`src/model/layout.ts`): what a position snapshot's
 * coordinates are before the run's model exists (the page's live funnels).
 */
export function dataLayout(data: HierData): ModelLayout {
  return makeLayout(data.K, familyGlobals(familyOf(data.likelihood)).map((g) => g.name), data.predictors?.names);
}

/** theta_k = mu + tau^(1-c) (z - c mu) at a position (float64). */
function thetaAt(layout: ModelLayout, pos: ArrayLike<number>, row: number, k: number, c: number): number {
  return thetaOf(pos[row + layout.global('mu')], pos[row + layout.global('log_tau')], pos[row + layout.group(k)], c);
}

export function funnelData(result: SampleResult): FunnelData {
  const { records: rec, model } = result;
  const K = model.stats.K;
  const D = model.dim;
  const iLogTau = model.layout.global('log_tau');
  const iZ0 = model.layout.group(0);
  const total = rec.retainedChains * rec.draws;
  const { stride, count } = strided(total, MAX_FUNNEL_POINTS);
  const logTau = new Float32Array(count);
  const z = Array.from({ length: K }, () => new Float32Array(count));
  const theta = Array.from({ length: K }, () => new Float32Array(count));
  for (let j = 0, i = 0; i < total; i += stride, j++) {
    const row = i * D;
    logTau[j] = rec.positions[row + iLogTau];
    for (let k = 0; k < K; k++) {
      z[k][j] = rec.positions[row + iZ0 + k];
      theta[k][j] = thetaAt(model.layout, rec.positions, row, k, model.c[k]);
    }
  }
  const divTotal = rec.divergentChain.length;
  const dv = strided(divTotal, MAX_DIVERGENT_POINTS);
  const divLogTau = new Float32Array(dv.count);
  const divZ = Array.from({ length: K }, () => new Float32Array(dv.count));
  const divTheta = Array.from({ length: K }, () => new Float32Array(dv.count));
  for (let j = 0, i = 0; i < divTotal; i += dv.stride, j++) {
    const row = i * D;
    divLogTau[j] = rec.divergentPositions[row + iLogTau];
    for (let k = 0; k < K; k++) {
      divZ[k][j] = rec.divergentPositions[row + iZ0 + k];
      divTheta[k][j] = thetaAt(model.layout, rec.divergentPositions, row, k, model.c[k]);
    }
  }
  return { total, stride, logTau, z, theta, divTotal, divLogTau, divZ, divTheta };
}

export function traceData(result: SampleResult): TraceData {
  const draws = result.draws;
  const chains = Math.min(TRACE_CHAINS, result.retainedChains);
  const { stride, count } = strided(draws, MAX_TRACE_POINTS);
  const x = Float64Array.from({ length: count }, (_, j) => j * stride);
  const pick = (values: Float32Array | Float64Array, c: number) => Float32Array.from({ length: count }, (_, j) => values[c * draws + j * stride]);
  return {
    chains,
    stride,
    x,
    mu: Array.from({ length: chains }, (_, c) => pick(result.params.mu, c)),
    logTau: Array.from({ length: chains }, (_, c) => pick(result.params.log_tau, c)),
  };
}

/** Bins of the tau histogram: about sqrt(n), between 20 and 80. */
function binCount(n: number): number {
  return Math.max(20, Math.min(80, Math.round(Math.sqrt(n))));
}

/**
 * tau's draws as a histogram on [0, hi] (hi: the exact posterior's 99.5% point, roughly,
 * from the grid; or the draws' largest value if they reach further out), against the exact
 * posterior density p(tau | y) = p(s | y) / tau from the quadrature grid in s = log tau, and
 * the prior density.
 */
export function tauData(result: SampleResult, exact: ExactPosterior | null, trueTau?: number): TauData {
  const tau = result.params.tau;
  let hi: number;
  if (exact) {
    // Upper end: where the exact CDF passes 0.995 (grid weights sum to 1).
    const { grid } = exact;
    let acc = 0;
    hi = Math.exp(grid.s[grid.s.length - 1]);
    for (let i = 0; i < grid.s.length; i++) {
      acc += grid.weight[i];
      if (acc >= 0.995) {
        hi = Math.exp(grid.s[i]);
        break;
      }
    }
  } else {
    // No exact posterior: the draws' 99.5% point.
    hi = quantileOf(Float64Array.from(tau).sort(), 0.995);
  }
  if (trueTau !== undefined) hi = Math.max(hi, trueTau * 1.1);
  const bins = binCount(tau.length);
  const w = hi / bins;
  const counts = new Float64Array(bins);
  for (let i = 0; i < tau.length; i++) {
    const b = Math.floor(tau[i] / w);
    if (b >= 0 && b < bins) counts[b]++;
  }
  const edges = Float64Array.from({ length: bins + 1 }, (_, i) => i * w);
  const density = Float64Array.from({ length: bins + 1 }, (_, i) => counts[Math.min(i, bins - 1)] / (tau.length * w));
  const prior = result.model.priors.tau;
  const logNorm = logTauPriorNormalizer(prior);
  const gx: number[] = [];
  const gy: number[] = [];
  const gp: number[] = [];
  // The exact posterior's grid in s = log tau, or (without one) 200 points of tau up to hi.
  const s = exact ? exact.grid.s : Float64Array.from({ length: 200 }, (_, i) => Math.log((hi * (i + 1)) / 200));
  for (let i = 0; i < s.length; i++) {
    const t = Math.exp(s[i]);
    if (t > hi) break;
    gx.push(t);
    if (exact) gy.push(exact.grid.density[i] / t);
    gp.push(Math.exp(logTauPriorUnconstrained(prior, s[i]).value - s[i] + logNorm));
  }
  return { edges, density, grid: Float64Array.from(gx), exact: Float64Array.from(gy), prior: Float64Array.from(gp), trueTau };
}

/** Points of a global's prior density curve. */
const GLOBAL_PRIOR_POINTS = 200;
/** Tail mass left out of a global's histogram range on each side (the draws' 0.5% and 99.5% points). */
const GLOBAL_TAIL = 0.005;

/**
 * The exact posterior of a family global, by its natural-scale or coordinate name (`sigma`,
 * `log_sigma`), where the exact posterior has one (`ExactPosterior.globals`).
 */
export function exactGlobal(exact: ExactPosterior | null | undefined, name: string): PosteriorSummary | undefined {
  const globals = exact?.globals;
  return globals && Object.hasOwn(globals, name) ? globals[name] : undefined;
}

/**
 * Each draw's value of the family global `g`'s sampled coordinate x, read from the recorded
 * positions where the layout puts it (chain-major over the retained chains, as `params`).
 */
export function globalDraws(result: SampleResult, g: FamilyGlobal): Float64Array {
  const { records: rec, model } = result;
  const D = model.dim;
  const at = model.layout.global(g.name);
  const n = rec.retainedChains * rec.draws;
  return Float64Array.from({ length: n }, (_, i) => rec.positions[i * D + at]);
}

/**
 * A family global's figures (`GlobalData`): its coordinate's trace for the first chains
 * (strided as `traceData`), and its natural-scale draws v = constrained.of(x) as a density
 * histogram on the draws' 0.5%..99.5% range (widened to take in the truth and the exact 90%
 * interval), with the prior density of v there: p(v) = exp(L(x) - x + log Z) at x = log v,
 * where L(x) = log p(e^x) + x is the prior of x up to its normalizer Z
 * (`logScalePriorUnconstrained`, `logScalePriorNormalizer`; the model's prior of a family
 * global is a ScalePrior on v = e^x) and -x takes off the log-Jacobian of v = e^x.
 */
export function globalData(result: SampleResult, g: FamilyGlobal, exact: ExactPosterior | null, truth?: number): GlobalData {
  const x = globalDraws(result, g);
  const draws = result.draws;
  const chains = Math.min(TRACE_CHAINS, result.retainedChains);
  const { stride, count } = strided(draws, MAX_TRACE_POINTS);
  const trace = Array.from({ length: chains }, (_, c) => Float32Array.from({ length: count }, (_, j) => x[c * draws + j * stride]));
  const v = x.map((t) => g.constrained.of(t));
  const sorted = Float64Array.from(v).sort();
  const ex = exactGlobal(exact, g.constrained.name);
  const marks = [quantileOf(sorted, GLOBAL_TAIL), quantileOf(sorted, 1 - GLOBAL_TAIL), ...(ex ? [ex.q05, ex.q95] : []), ...(truth !== undefined ? [truth] : [])].filter(Number.isFinite);
  // (No finite draw at all: an empty histogram on [0, 1].)
  let lo = marks.length ? Math.min(...marks) : 0;
  let hi = marks.length ? Math.max(...marks) : 1;
  const pad = 0.05 * (hi - lo || Math.abs(hi) || 1);
  lo -= pad;
  hi += pad;
  if (g.logScaleOfY) lo = Math.max(0, lo);
  const bins = binCount(v.length);
  const w = (hi - lo) / bins;
  const counts = new Float64Array(bins);
  for (let i = 0; i < v.length; i++) {
    const b = Math.floor((v[i] - lo) / w);
    if (b >= 0 && b < bins) counts[b]++;
  }
  const edges = Float64Array.from({ length: bins + 1 }, (_, i) => lo + i * w);
  const density = Float64Array.from({ length: bins + 1 }, (_, i) => counts[Math.min(i, bins - 1)] / (v.length * w));
  const prior = result.model.priors.family?.[g.name] ?? g.prior.default;
  const logNorm = logScalePriorNormalizer(prior);
  const grid = new Float64Array(GLOBAL_PRIOR_POINTS);
  const pd = new Float64Array(GLOBAL_PRIOR_POINTS);
  for (let i = 0; i < GLOBAL_PRIOR_POINTS; i++) {
    const at = lo + ((hi - lo) * (i + 0.5)) / GLOBAL_PRIOR_POINTS;
    const s = Math.log(at);
    grid[i] = at;
    pd[i] = Math.exp(logScalePriorUnconstrained(prior, s).value - s + logNorm);
  }
  return {
    name: g.name,
    constrained: g.constrained.name,
    help: g.constrained.help,
    trace,
    edges,
    density,
    grid,
    prior: pd,
    ...(ex && { exact: ex }),
    ...(truth !== undefined && { truth }),
  };
}

/** Points of a coefficient's prior density curve. */
const BETA_PRIOR_POINTS = 200;
/** A coefficient's histogram spans its posterior mean ± this many posterior sds (widened to the exact 90% interval). */
const BETA_HALF_WIDTH_SDS = 4;

/**
 * The exact posterior of the coefficient of predictor `predictor`, where the exact posterior
 * has the coefficients (`ExactPosterior.beta`: the normal likelihoods with predictors).
 */
export function exactBeta(exact: ExactPosterior | null | undefined, predictor: string): PosteriorSummary | undefined {
  return exact?.beta?.find((b) => b.name === predictor);
}

/** Mean, sd and the 5%, 50%, 95% points of draws (where the run's summary has none). */
function drawSummary(v: ArrayLike<number>): Pick<ParamSummary, 'mean' | 'sd' | 'q5' | 'q50' | 'q95'> {
  const sorted = Float64Array.from(v).sort();
  let m = 0;
  for (const x of sorted) m += x;
  m /= sorted.length;
  let ss = 0;
  for (const x of sorted) ss += (x - m) ** 2;
  return { mean: m, sd: Math.sqrt(ss / Math.max(1, sorted.length - 1)), q5: quantileOf(sorted, 0.05), q50: quantileOf(sorted, 0.5), q95: quantileOf(sorted, 0.95) };
}

/**
 * The figures of each population-level coefficient (`BetaData`): the draws of beta[name]
 * (`result.params`) as a density histogram over the posterior mean ± 4 sd (widened to take in
 * the exact 90% interval), the Normal prior's density there (`priors.beta`, else
 * DEFAULT_BETA_PRIOR), and the summary's mean and 5%, 50%, 95% points. Empty without
 * predictors.
 */
export function betaData(result: SampleResult, summary: Summary | null, exact: ExactPosterior | null): BetaData[] {
  const names = result.model.predictors?.names ?? [];
  const prior = result.model.priors.beta ?? DEFAULT_BETA_PRIOR;
  const logNorm = -Math.log(prior.scale * Math.sqrt(2 * Math.PI));
  return names.map((predictor) => {
    const name = betaName(predictor);
    const v = result.params[name];
    const s = summary?.params[name] ?? drawSummary(v);
    const ex = exactBeta(exact, predictor);
    const marks = [s.mean - BETA_HALF_WIDTH_SDS * s.sd, s.mean + BETA_HALF_WIDTH_SDS * s.sd, ...(ex ? [ex.q05, ex.q95] : [])].filter(Number.isFinite);
    let lo = marks.length ? Math.min(...marks) : -1;
    let hi = marks.length ? Math.max(...marks) : 1;
    if (!(hi > lo)) {
      const w = Math.abs(lo) * 1e-3 || 1;
      lo -= w;
      hi += w;
    }
    const bins = binCount(v.length);
    const w = (hi - lo) / bins;
    const counts = new Float64Array(bins);
    for (let i = 0; i < v.length; i++) {
      const b = Math.floor((v[i] - lo) / w);
      if (b >= 0 && b < bins) counts[b]++;
    }
    const edges = Float64Array.from({ length: bins + 1 }, (_, i) => lo + i * w);
    const density = Float64Array.from({ length: bins + 1 }, (_, i) => counts[Math.min(i, bins - 1)] / (v.length * w));
    const grid = Float64Array.from({ length: BETA_PRIOR_POINTS }, (_, i) => lo + ((hi - lo) * (i + 0.5)) / BETA_PRIOR_POINTS);
    const pd = grid.map((x) => Math.exp(logNorm - 0.5 * ((x - prior.loc) / prior.scale) ** 2));
    return {
      name,
      predictor,
      mean: s.mean,
      sd: s.sd,
      q05: s.q5,
      q50: s.q50,
      q95: s.q95,
      edges,
      density,
      grid,
      prior: pd,
      priorText: `N(${prior.loc}, ${prior.scale})`,
      ...(ex && { exact: ex }),
    };
  });
}

/**
 * Each group's mean of each predictor (K x P, row-major; 0 for a group without data), and the
 * draws of each coefficient: a new observation of group k then has eta = theta_k + xbar_k·beta.
 * Undefined without predictors.
 */
function groupMeanPredictors(result: SampleResult, data: HierData): { xbar: Float64Array; beta: (Float32Array | Float64Array)[] } | undefined {
  const pred = data.predictors;
  if (!pred || pred.names.length === 0) return undefined;
  const P = pred.names.length;
  const K = data.K;
  const xbar = new Float64Array(K * P);
  const n = new Float64Array(K);
  for (let i = 0; i < data.y.length; i++) {
    const k = data.group[i];
    n[k]++;
    for (let p = 0; p < P; p++) xbar[k * P + p] += pred.X[i * P + p];
  }
  for (let k = 0; k < K; k++) for (let p = 0; p < P; p++) if (n[k] > 0) xbar[k * P + p] /= n[k];
  return { xbar, beta: pred.names.map((name) => result.params[betaName(name)]) };
}

/** The k-th of the sorted values' quantiles p (linear interpolation, type 7). */
function quantileOf(sorted: Float64Array, p: number): number {
  const h = (sorted.length - 1) * p;
  const lo = Math.floor(h);
  return sorted[lo] + (h - lo) * ((sorted[Math.min(lo + 1, sorted.length - 1)] ?? sorted[lo]) - sorted[lo]);
}

/** Quantile levels of the predictive intervals. */
export const PPC_LEVELS = [0.05, 0.25, 0.5, 0.75, 0.95] as const;

/**
 * Each observation's own estimate on the outcome scale: y itself where theta is the outcome
 * (no `outcome`: normal), else the family's estimate of theta from that one observation
 * (`approx`; binomial: the empirical logit with half counts) mapped to the outcome (p =
 * (y + 1/2)/(trials + 1)). Works for any family from its contract; `(y, column)` takes the
 * observation's y and its column values by name. Count families' estimates are cached by y
 * and columns (a predictive check asks for the same few values many times).
 */
export function observationOutcome(family: Family): (y: number, column: (name: string) => number) => number {
  const of = family.outcome?.of;
  if (!of) return (y) => y;
  const yOne = new Float64Array(1);
  const cols = Object.fromEntries(family.columns.map((c) => [c.name, new Float64Array(1)]));
  const { sigma = new Float64Array(0), ...columns } = cols;
  const one: HierData = { likelihood: family.id, y: yOne, group: new Int32Array(1), sigma, columns, K: 1, labels: ['0'] };
  const cache = new Map<string, number>();
  return (y, column) => {
    const key = family.yInteger ? [y, ...family.columns.map((c) => column(c.name))].join(',') : '';
    const hit = family.yInteger ? cache.get(key) : undefined;
    if (hit !== undefined) return hit;
    yOne[0] = y;
    for (const c of family.columns) cols[c.name][0] = column(c.name);
    const v = of(family.approx(family.reduce(one), 0).estimate);
    if (family.yInteger && cache.size < 100_000) cache.set(key, v);
    return v;
  };
}

/** A column's values: `sigma` is HierData's own field, the others are in `columns`. */
function columnOf(data: HierData, name: string): Float64Array {
  return name === 'sigma' ? data.sigma : data.columns![name];
}

/**
 * Posterior predictive check per group: a new observation of group k, y_rep =
 * family.predict at theta_k from the draws, with each column at the group's median (the
 * normal family's sigma_k; all sigma are equal in the study's data), against the observed y
 * of the group; on the outcome scale where the family has one (`observationOutcome`), where
 * the outcome's posterior (p[k]) is given too. A family with a global parameter draws each
 * y_rep at that draw's value of it (the normal likelihood with unknown sigma: y_rep ~
 * Normal(theta_k, sigma) with the draw's sigma), so the check carries sigma's uncertainty.
 * The variates are Philox draws keyed by the run's seed: the same run draws the same check.
 * With predictors the new observation has the group's mean predictors: it is drawn at eta =
 * theta_k + xbar_k·beta of each draw (`groupMeanPredictors`), and so is the outcome.
 */
export function ppcData(result: SampleResult, data: HierData, seed: number): PpcData {
  const family = familyOf(data.likelihood);
  const K = data.K;
  const n = new Int32Array(K);
  for (let i = 0; i < data.y.length; i++) n[data.group[i]]++;
  const byGroup: number[][] = Array.from({ length: K }, () => []);
  for (let i = 0; i < data.y.length; i++) byGroup[data.group[i]].push(i);
  const names = family.columns.map((c) => c.name);
  const values = names.map((c) => columnOf(data, c));
  // Each group's median of each column (0 for a group without data: it draws nothing real).
  const medians = byGroup.map((idx) =>
    values.map((v) => (idx.length === 0 ? 0 : quantileOf(Float64Array.from(idx, (i) => v[i]).sort(), 0.5))),
  );
  const toScale = observationOutcome(family);
  const obsGroup: number[] = [];
  const obsY: number[] = [];
  for (let k = 0; k < K; k++) {
    const idx = byGroup[k];
    const { stride } = strided(idx.length, MAX_POINTS_PER_GROUP);
    for (let j = 0; j < idx.length; j += stride) {
      obsGroup.push(k);
      obsY.push(toScale(data.y[idx[j]], (c) => values[names.indexOf(c)][idx[j]]));
    }
  }
  // One observation, its columns set per group, for family.predict.
  const cols = Object.fromEntries(names.map((c) => [c, new Float64Array(1)]));
  const { sigma = new Float64Array(0), ...columns } = cols;
  const one: HierData = { likelihood: family.id, y: new Float64Array(1), group: new Int32Array(1), sigma, columns, K: 1, labels: ['0'] };
  // The family's global (at most one: MAX_FAMILY_GLOBALS) at each draw, where it has one.
  const global = familyGlobals(family)[0];
  const x = global ? globalDraws(result, global) : undefined;
  const linear = groupMeanPredictors(result, data);
  const P = data.predictors?.names.length ?? 0;
  // Draw j of group k: blocks (k, j, b, PPC_STREAM).
  const rng = counterVariates(keyFromSeed(seed), 0, PPC_STREAM, 2);
  const total = result.params.mu.length;
  const { stride, count } = strided(total, Math.min(PPC_DRAWS, Math.max(PPC_MIN_DRAWS, Math.floor(PPC_BUDGET / K))));
  const L = PPC_LEVELS.length;
  const q = new Float64Array(K * L);
  const oq = family.outcome ? new Float64Array(K * L) : undefined;
  const rep = new Float64Array(count);
  const out = new Float64Array(count);
  for (let k = 0; k < K; k++) {
    const th = result.params[`theta[${data.labels[k]}]`];
    names.forEach((c, m) => (cols[c][0] = medians[k][m]));
    const column = (c: string) => cols[c][0];
    for (let j = 0, i = 0; i < total; i += stride, j++) {
      let eta = th[i];
      if (linear) for (let p = 0; p < P; p++) eta += linear.xbar[k * P + p] * linear.beta[p][i];
      rep[j] = toScale(family.predict(one, 0, eta, rng.start(k, j), x?.[i]), column);
      if (oq) out[j] = family.outcome!.of(eta);
    }
    rep.sort();
    // A group without data has no columns to draw at; on an outcome scale its new observation is left out (NaN).
    PPC_LEVELS.forEach((p, l) => (q[k * L + l] = n[k] === 0 && family.outcome ? NaN : quantileOf(rep, p)));
    if (oq) {
      out.sort();
      PPC_LEVELS.forEach((p, l) => (oq[k * L + l] = quantileOf(out, p)));
    }
  }
  return {
    q,
    obsGroup: Float64Array.from(obsGroup),
    obsY: Float64Array.from(obsY),
    n,
    scale: family.outcome?.name ?? 'y',
    columns: names.join(', '),
    ...(oq && { outcome: { name: family.outcome!.name, q: oq } }),
    ...(linear && { predictors: data.predictors!.names.join(', ') }),
  };
}

/** Autocorrelation of mu and tau averaged over the first ACF_CHAINS chains, lags 0..MAX_ACF_LAG. */
export function acfData(result: SampleResult): AcfData {
  const draws = result.draws;
  const chains = Math.min(ACF_CHAINS, result.retainedChains);
  const L = Math.min(MAX_ACF_LAG, draws - 1);
  const mean = (values: Float32Array | Float64Array) => {
    const out = new Float64Array(L + 1);
    let used = 0;
    for (let c = 0; c < chains; c++) {
      const r = autocorrelation(values.subarray(c * draws, (c + 1) * draws));
      if (!Number.isFinite(r[0])) continue;
      used++;
      for (let l = 0; l <= L; l++) out[l] += r[l];
    }
    for (let l = 0; l <= L; l++) out[l] = used ? out[l] / used : NaN;
    return out;
  };
  return { lags: Float64Array.from({ length: L + 1 }, (_, l) => l), mu: mean(result.params.mu), tau: mean(result.params.tau), chains };
}

/** Every figure of a run, for the page; `truth`: the parameters behind simulated data. */
export function runFigures(result: SampleResult, summary: Summary, exact: ExactPosterior | null, data: HierData, seed: number, truth?: Truth): RunFigures {
  return {
    labels: result.model.stats.labels,
    c: Float64Array.from(result.model.c),
    funnel: funnelData(result),
    trace: traceData(result),
    tau: tauData(result, exact, truth?.tau),
    globals: familyGlobals(result.model.stats.family).map((g) => globalData(result, g, exact, truth?.globals?.[g.constrained.name])),
    beta: betaData(result, summary, exact),
    ppc: ppcData(result, data, seed),
    acf: acfData(result),
    ebfmi: Float64Array.from(summary.ebfmi),
  };
}

/** Every ArrayBuffer behind the figures' typed arrays (to transfer, not copy). */
export function figureBuffers(f: RunFigures): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  const visit = (v: unknown) => {
    // A SharedArrayBuffer is shared, not transferred (and may not stand in a transfer list).
    if (ArrayBuffer.isView(v)) {
      if (v.buffer instanceof ArrayBuffer) out.add(v.buffer);
    } else if (Array.isArray(v)) v.forEach(visit);
    else if (v && typeof v === 'object') Object.values(v).forEach(visit);
  };
  visit(f);
  return [...out];
}

/**
 * Whether a reported parameter is per group (`theta[label]`, `p[label]`: a name ending in a
 * bracketed label, as the sampler names them) rather than global (mu, tau, log_tau, a
 * family's sigma and log_sigma).
 */
export function isPerGroup(name: string): boolean {
  return /\[.*\]$/s.test(name);
}

/** The sampled coordinate's name for centeredness c: theta (centered), eta (non-centered), z (partial). */
export function coordinateName(c: number, label: string): string {
  if (!Number.isFinite(c)) return `z[${label}]`;
  if (c === 1) return `theta[${label}]`;
  if (c === 0) return `eta[${label}]`;
  return `z[${label}] (c = ${+c.toFixed(2)})`;
}

export type { HierModel };
