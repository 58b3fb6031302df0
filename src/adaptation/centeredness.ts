import { medianSorted } from '../diagnostics/quantile.ts';
import { fieldsOf, type GroupStats } from '../model/suffstats.ts';
import type { Centeredness } from '../model/parameterization.ts';
import type { ModelLayout } from '../model/layout.ts';
import { thetaOf } from '../model/model.ts';
import { logMarginalTau } from '../model/posterior.ts';
import { DEFAULT_PRIORS, type Priors } from '../model/priors.ts';
import { familyGlobals } from '../model/family.ts';

/**
 * Per-group centeredness learned during warmup (`--param auto`, `auto-binary`).
 *
 * The rule. In the normal–normal model with tau (and the data) fixed, the group mean has
 * the conjugate posterior
 *
 *   theta_k | mu, tau, y  ~  Normal( w_k ybar_k + (1 - w_k) mu,  w_k se_k^2 ),
 *   w_k = tau^2 / (tau^2 + se_k^2),   se_k = P_k^{-1/2}.
 *
 * With the partially non-centred coordinate (`parameterization.ts`, at tau = 1)
 * z_k = theta_k - (1 - c_k) mu, the posterior mean of z_k given mu is
 * w_k ybar_k + (w_k - c_k) mu, free of mu exactly when c_k = w_k. The posterior is
 * Gaussian in (mu, z), so z_k and mu are then a posteriori independent, and a Gibbs or HMC
 * sampler no longer has to move along the ridge between them: that is the optimum of
 * partial non-centring (Papaspiliopoulos, Roberts & Sköld 2003, 2007, "A general framework
 * for the parametrization of hierarchical models", Statist. Sci. 22, sec. 3; Gorinova,
 * Moore & Hoffman 2020, "Automatic reparameterisation of probabilistic programs", ICML,
 * sec. 3, who use the same c for the scale tau^c as for the location, as we do):
 *
 *   c_k = tau^2 / (tau^2 + se_k^2)          (c_k = 0 for a group with no data).
 *
 * A strongly informed group (se_k << tau) gets c_k ~ 1 (centred), a weakly informed one
 * (se_k >> tau) c_k ~ 0 (non-centred).
 *
 * Other likelihoods. For a binomial or Poisson group the likelihood is not Gaussian in
 * theta_k; the rule takes its normal approximation at the current state, se_k = the Fisher
 * information^-1/2 at theta_k (`family.approx`; binomial: (T p (1 - p))^-1/2, Poisson:
 * (E e^theta)^-1/2), the local curvature of the conditional posterior that the
 * parameterization has to match. Before warmup theta_k is the data estimate (the empirical
 * logit or log rate, `GroupStats.se`); at each window end it is the median over chains of
 * theta_k (`ensembleTheta`), so that a group whose data estimate is extreme (0 of 2, where
 * the Haldane estimate says p = 0.17 but the hierarchy pulls p to the population's) gets the
 * information at the theta it is sampled at. The normal family's information is free of
 * theta (a location family: `family.scalable`), and its se_k stays the data's, bit for bit.
 *
 * The tails. That c_k = w_k is optimal at one tau; the chains visit a range of tau. Given
 * tau = e^s (and mu), z_k has conditional sd tau^c_k / sqrt(1 + tau^2 / se_k^2), i.e.
 * log sd = c_k s - g_k(s) with g_k(s) = log sqrt(1 + e^{2s} / se_k^2), whose slope is w_k(s).
 * With a half-normal (or half-Cauchy) prior and a likelihood finite at tau = 0 the posterior
 * density of tau is positive at 0, so for c_k > 0 the sd goes to 0 like tau^c_k: a funnel
 * neck, which a run of millions of transitions reaches (the surgical data: the tangent rule
 * centred the hospitals with se ~0.15 and diverged in hundreds of 4 M transitions). The rule
 * is therefore the secant slope of g_k over [lo, hi], the TAIL_PROBABILITY and
 * 1 - TAIL_PROBABILITY quantiles of the posterior of s:
 *
 *   c_k = (g_k(hi) - g_k(lo)) / (hi - lo)   (the mean of w_k(s) over s in [lo, hi]),
 *
 * the c that makes the sd of z_k equal at both ends; as c_k s - g_k(s) is concave in s, it is
 * also the c that minimises the range (max/min ratio) of that sd over [lo, hi] (a smaller c
 * deepens the upper end, a larger one the lower). Where the posterior of tau is far from 0
 * against se_k (the strongly informed seed set) w_k is ~1 over the whole range and c_k = 1
 * as before; weakly informed groups stay near 0. The quantiles come from the approximate
 * marginal posterior of log tau (`logTauRange`: each group's likelihood as Normal(estimate_k,
 * se_k), mu and theta integrated out by `posterior.ts`'s `logMarginalTau`; exact for the
 * normal family) under the model's priors, which the ensemble could not show (4,096 chains
 * do not reach a 1e-5 quantile in one snapshot).
 *
 * Start and window ends. `init` computes the range from the data and priors and starts from
 * the rule's c (snapped), so for the normal family the first window already runs in the final
 * parameterization. At the end of each window in CENTEREDNESS_WINDOW_ENDS c is recomputed
 * with the model's priors and, for a family whose se depends on theta, each group's se_k at
 * the ensemble's median theta_k; the ensemble's median tau^2 (`ensembleTau2`) is recorded in
 * the update as a check of the approximate marginal's median. DerSimonian & Laird's moment
 * estimate (`dersimonianLairdTau2`, 1986, Control. Clin. Trials 7, eq. 8), which started
 * earlier versions of the rule, is kept for callers of the library.
 *
 * Snapping. c_k within SNAP_DISTANCE of 0 or 1 is set to 0 or 1 (`auto`); `auto-binary`
 * rounds every c_k to 0 or 1. A partial c costs the GPU kernel an exp per block of four
 * groups per gradient (1.6–1.7x per leapfrog step on SwiftShader at c = 0.5, README),
 * which a c of 0.95 does not repay.
 *
 * Changes smaller than CHANGE_TOLERANCE in every group are not applied (no state
 * transform, no kernel rebuild); the window after which c last changed is where it
 * settled.
 */

/** Warmup fractions at whose ends c is re-estimated from the ensemble (four updates, the last half-way). */
export const CENTEREDNESS_WINDOW_ENDS = [0.075, 0.15, 0.3, 0.5] as const;
/**
 * c within this distance of 0 or 1 is snapped to it (`auto`). Measured on SwiftShader
 * (`npm run bench -- --only auto`, 4,096 chains, weak data): the rule's c = 0.14 gave 14%
 * more min bulk ESS than c = 0 but 24% fewer gradients per second (the exp per block), a net
 * loss; with 0.2 such nearly pure groups run the cheaper pure forms.
 */
export const SNAP_DISTANCE = 0.2;
/** A new c is applied only when some group's c moves by more than this. */
export const CHANGE_TOLERANCE = 0.05;
/**
 * The tail of the posterior of log tau the rule balances over: c equalises the conditional
 * scale of z_k at the TAIL_PROBABILITY and 1 - TAIL_PROBABILITY quantiles (`logTauRange`).
 * Measured (CPU backend, default warmup and target acceptance; docs/auto-centeredness.md):
 * 1e-5 removes the surgical data's neck divergences (0 of 512,000 transitions at 512 chains,
 * 1 of 4.1 M at 4,096, against 99 and hundreds with the tangent rule) and keeps the
 * unbalanced seed set's 1,000-observation group centred (tau's 1e-5 quantile, 0.20, is still
 * near its se, 0.32); 3e-6 gave surgical 0 of 4.1 M too but moved that group to c = 0.73 and
 * cost the set 40% of its ESS per gradient, 1e-6 60%.
 */
export const TAIL_PROBABILITY = 1e-5;

export type CenterednessRule = 'auto' | 'auto-binary';

/** Is `text` one of the learned parameterizations (`auto`, `auto-binary`)? */
export function isCenterednessRule(text: unknown): text is CenterednessRule {
  return text === 'auto' || text === 'auto-binary';
}

/**
 * DerSimonian–Laird moment estimate of tau^2 from the group means and their standard errors
 * (groups with data only): with w_k = 1/se_k^2 = P_k, ybar_w = sum w ybar / sum w and
 * Q = sum w_k (ybar_k - ybar_w)^2,
 *
 *   tau^2 = max(0, (Q - (K' - 1)) / (sum w - sum w^2 / sum w)),   K' = groups with data.
 *
 * 0 with fewer than two groups with data.
 */
export function dersimonianLairdTau2(stats: GroupStats): number {
  let sw = 0;
  let sw2 = 0;
  let swy = 0;
  let n = 0;
  for (let k = 0; k < stats.K; k++) {
    const w = stats.precision[k];
    if (!(w > 0)) continue;
    sw += w;
    sw2 += w * w;
    swy += w * stats.ybar[k];
    n++;
  }
  if (n < 2) return 0;
  const m = swy / sw;
  let q = 0;
  for (let k = 0; k < stats.K; k++) {
    const w = stats.precision[k];
    if (w > 0) q += w * (stats.ybar[k] - m) ** 2;
  }
  const t2 = (q - (n - 1)) / (sw - sw2 / sw);
  return Number.isFinite(t2) ? Math.max(0, t2) : 0;
}

/**
 * The centeredness of every group for a given tau^2 (see the module comment):
 * c_k = tau^2 / (tau^2 + se_k^2) = tau^2 P_k / (tau^2 P_k + 1), snapped within
 * SNAP_DISTANCE of 0 or 1, or rounded to 0 or 1 when `binary`. `precision` (1/se_k^2)
 * defaults to the data's (`stats.precision`); `precisionAt` gives it at a theta.
 */
export function centerednessFor(stats: GroupStats, tau2: number, binary: boolean, precision: ArrayLike<number> = stats.precision): Centeredness {
  const c = new Float64Array(stats.K);
  const t2 = Number.isFinite(tau2) && tau2 > 0 ? tau2 : 0;
  for (let k = 0; k < stats.K; k++) {
    const r = t2 * precision[k];
    c[k] = snap(r > 0 ? r / (r + 1) : 0, binary);
  }
  return c;
}

/** c snapped within SNAP_DISTANCE of 0 or 1 (`auto`), or rounded at 1/2 (`binary`). */
function snap(v: number, binary: boolean): number {
  if (binary) return v >= 0.5 ? 1 : 0;
  if (v <= SNAP_DISTANCE) return 0;
  if (v >= 1 - SNAP_DISTANCE) return 1;
  return v;
}

/**
 * g_k(s) = log sqrt(1 + e^{2s} P_k) = softplus(2 s + log P_k) / 2: minus the log of the
 * conditional sd of the non-centred z_k (c = 0) given tau = e^s; its slope is the tangent
 * rule's w_k(s) = tau^2 P_k / (1 + tau^2 P_k).
 */
function logScaleGain(s: number, P: number): number {
  const x = 2 * s + Math.log(P);
  return 0.5 * (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x)));
}

/**
 * The range of log tau the rule balances over: the TAIL_PROBABILITY and 1 - TAIL_PROBABILITY
 * quantiles (`lo`, `hi`) and the median of the marginal posterior of s = log tau.
 */
export interface LogTauRange {
  readonly lo: number;
  readonly median: number;
  readonly hi: number;
}

/** Coarse and fine grid spacings in s, and how far below its maximum log f the grid ends. */
const RANGE_COARSE = 0.25;
const RANGE_FINE = 0.02;
const RANGE_LOG_DROP = 40;
/** The coarse search spans log(prior scale) - 60 to + 40 (HalfCauchy with no data: f ~ e^-s). */
const RANGE_BELOW = 60;
const RANGE_ABOVE = 40;

/**
 * Quantiles of the marginal posterior of s = log tau with every group's likelihood taken as
 * its normal approximation Normal(estimate_k, se_k) (`GroupStats.ybar`, `.precision`: the
 * data's own for the normal family, where this is exact; `family.approx` at the data
 * estimate otherwise), from `logMarginalTau` (mu and theta integrated out in closed form) on
 * a grid: a coarse pass finds where log f is within RANGE_LOG_DROP of its maximum, a fine
 * one integrates it there by the trapezoid rule; quantiles interpolate the cumulative sums
 * linearly. O(K) per grid point, a few thousand points.
 */
export function logTauRange(stats: GroupStats, priors: Priors = DEFAULT_PRIORS, tail: number = TAIL_PROBABILITY): LogTauRange {
  const lf = (s: number) => logMarginalTau(stats, priors, s);
  const centre = Math.log(priors.tau.scale);
  const n0 = Math.round((RANGE_BELOW + RANGE_ABOVE) / RANGE_COARSE) + 1;
  const coarse = new Float64Array(n0);
  let top = -Infinity;
  for (let i = 0; i < n0; i++) {
    const v = lf(centre - RANGE_BELOW + i * RANGE_COARSE);
    coarse[i] = Number.isFinite(v) ? v : -Infinity;
    top = Math.max(top, coarse[i]);
  }
  if (!Number.isFinite(top)) return { lo: centre, median: centre, hi: centre };
  let i0 = 0;
  while (i0 < n0 - 1 && coarse[i0] < top - RANGE_LOG_DROP) i0++;
  let i1 = n0 - 1;
  while (i1 > 0 && coarse[i1] < top - RANGE_LOG_DROP) i1--;
  const a = centre - RANGE_BELOW + Math.max(0, i0 - 1) * RANGE_COARSE;
  const b = centre - RANGE_BELOW + Math.min(n0 - 1, i1 + 1) * RANGE_COARSE;
  const n = Math.max(2, Math.round((b - a) / RANGE_FINE) + 1);
  const h = (b - a) / (n - 1);
  const f = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v = lf(a + i * h);
    f[i] = Number.isFinite(v) ? Math.exp(v - top) : 0;
  }
  const cum = new Float64Array(n);
  for (let i = 1; i < n; i++) cum[i] = cum[i - 1] + 0.5 * h * (f[i - 1] + f[i]);
  const total = cum[n - 1];
  const quantile = (p: number): number => {
    const target = p * total;
    let i = 1;
    while (i < n - 1 && cum[i] < target) i++;
    const d = cum[i] - cum[i - 1];
    const t = d > 0 ? (target - cum[i - 1]) / d : 0;
    return a + (i - 1 + Math.min(1, Math.max(0, t))) * h;
  };
  return { lo: quantile(tail), median: quantile(0.5), hi: quantile(1 - tail) };
}

/**
 * The centeredness that balances the scale of every z_k over the range of log tau the run
 * visits (see the module comment): c_k = (g_k(hi) - g_k(lo)) / (hi - lo), the secant slope
 * of g_k(s) = log sqrt(1 + e^{2s} P_k) (`logScaleGain`) over [lo, hi] = `range` (the tangent
 * rule's w_k at the median where the range is a point), 0 for a group without data; snapped
 * within SNAP_DISTANCE of 0 or 1, or rounded to 0 or 1 when `binary`. `precision` (1/se_k^2)
 * defaults to the data's (`stats.precision`).
 */
export function centerednessOver(stats: GroupStats, range: LogTauRange, binary: boolean, precision: ArrayLike<number> = stats.precision): Centeredness {
  const { lo, hi } = range;
  if (!(hi - lo > 1e-9)) return centerednessFor(stats, Math.exp(2 * range.median), binary, precision);
  const c = new Float64Array(stats.K);
  for (let k = 0; k < stats.K; k++) {
    const P = precision[k];
    const v = P > 0 && Number.isFinite(P) ? (logScaleGain(hi, P) - logScaleGain(lo, P)) / (hi - lo) : 0;
    c[k] = snap(Math.min(1, Math.max(0, v)), binary);
  }
  return c;
}

/**
 * tau^2 of the ensemble: the median over chains of exp(2 s), s = log tau, from chain-major
 * positions (`chains` rows of `dim` values, log tau at `logTauIndex`). Non-finite values
 * are ignored; NaN when none is finite.
 */
export function ensembleTau2(positions: ArrayLike<number>, chains: number, dim: number, logTauIndex: number): number {
  const s: number[] = [];
  for (let c = 0; c < chains; c++) {
    const v = positions[c * dim + logTauIndex];
    if (Number.isFinite(v)) s.push(v);
  }
  if (s.length === 0) return NaN;
  s.sort((a, b) => a - b);
  const m = s.length >> 1;
  // exp is monotone: the median of tau^2 is exp(2 median(s)).
  const med = s.length % 2 ? s[m] : 0.5 * (s[m - 1] + s[m]);
  return Math.exp(2 * med);
}

/**
 * Does the family's se_k depend on theta_k? Not for a location family in theta (normal,
 * `family.scalable`: its Fisher information is the data's precision at every theta), whose
 * rule then reads `stats.precision` as it always did.
 */
export function seDependsOnTheta(stats: GroupStats): boolean {
  return !stats.family.scalable;
}

/**
 * Does the family's se_k depend on the sampler's state: on theta_k (`seDependsOnTheta`) or on
 * a global parameter of the family (the normal family's unknown sigma: se_k = sigma/sqrt(n_k))?
 */
export function seDependsOnState(stats: GroupStats): boolean {
  return seDependsOnTheta(stats) || familyGlobals(stats.family).length > 0;
}

/**
 * The median over chains of coordinate `index` (a family's global, e.g. log sigma) of
 * chain-major positions with `dim` coordinates each; non-finite values are ignored (NaN when
 * none is finite).
 */
export function ensembleMedian(positions: ArrayLike<number>, chains: number, dim: number, index: number): number {
  const col = new Float64Array(chains);
  let n = 0;
  for (let ch = 0; ch < chains; ch++) {
    const v = positions[ch * dim + index];
    if (Number.isFinite(v)) col[n++] = v;
  }
  return n > 0 ? medianSorted(col.subarray(0, n).sort()) : NaN;
}

/**
 * The statistics with each group's normal approximation taken at the precision `precision`
 * (se_k = precision^-1/2, estimates unchanged): what `logTauRange` reads when se_k depends on
 * a family global (the range of log tau at the ensemble's sigma).
 */
export function withPrecision(stats: GroupStats, precision: ArrayLike<number>): GroupStats {
  const p = Float64Array.from(precision);
  return { ...stats, precision: p, se: p.map((v, k) => (stats.n[k] > 0 && v > 0 ? 1 / Math.sqrt(v) : Infinity)) };
}

/**
 * 1/se_k^2 of every group at theta_k = `theta[k]` (and the family global `x`, for a family
 * with one): the family's Fisher information there (`family.approx(fields, k, theta_k,
 * x).se^-2`); 0 for a group without data, and the data's
 * `stats.precision[k]` where theta_k is not finite.
 */
export function precisionAt(stats: GroupStats, theta: ArrayLike<number>, x?: number): Float64Array {
  const fields = fieldsOf(stats);
  const out = new Float64Array(stats.K);
  for (let k = 0; k < stats.K; k++) {
    if (!(stats.n[k] > 0)) continue;
    if (!Number.isFinite(theta[k])) {
      out[k] = stats.precision[k];
      continue;
    }
    const se = stats.family.approx(fields, k, theta[k], Number.isFinite(x) ? x : undefined).se;
    const p = 1 / (se * se);
    out[k] = Number.isFinite(p) ? p : stats.precision[k];
  }
  return out;
}

/**
 * theta_k of the ensemble: for every group the median over chains of theta_k =
 * mu + tau^(1 - c_k) (z_k - c_k mu) (`thetaOf`), from chain-major positions laid out as
 * `layout` under centeredness `c`. Non-finite values are ignored; NaN for a group where none
 * is finite.
 */
export function ensembleTheta(positions: ArrayLike<number>, chains: number, layout: ModelLayout, c: Centeredness): Float64Array {
  const D = layout.dim;
  const iMu = layout.global('mu');
  const iS = layout.global('log_tau');
  const out = new Float64Array(layout.K);
  const col = new Float64Array(chains);
  for (let k = 0; k < layout.K; k++) {
    const iz = layout.group(k);
    let n = 0;
    for (let ch = 0; ch < chains; ch++) {
      const row = ch * D;
      const t = thetaOf(positions[row + iMu], positions[row + iS], positions[row + iz], c[k]);
      if (Number.isFinite(t)) col[n++] = t;
    }
    if (n === 0) {
      out[k] = NaN;
      continue;
    }
    out[k] = medianSorted(col.subarray(0, n).sort());
  }
  return out;
}

/** One re-estimate of c (at a window end). */
export interface CenterednessUpdate {
  /** Warmup iterations done when c was re-estimated. */
  readonly iteration: number;
  /** The tau estimate used (sqrt of the ensemble's tau^2). */
  readonly tau: number;
  /** Whether the new c was applied (some group moved by more than CHANGE_TOLERANCE). */
  readonly changed: boolean;
}

export interface CenterednessState {
  readonly rule: CenterednessRule;
  /** The current centeredness. */
  readonly c: Centeredness;
  /** The approximate marginal posterior median of tau (`logTauRange`) of the initial c. */
  readonly initialTau: number;
  /** The range of log tau the current c balances over (`logTauRange`). */
  readonly range: LogTauRange;
  /** Warmup iterations after which c is re-estimated (ascending). */
  readonly windowEnds: readonly number[];
  readonly updates: readonly CenterednessUpdate[];
  /** Number of the window (1-based) after which c last changed; 0: the initial c was kept. */
  readonly settledWindow: number;
  /** Warmup iterations done when c last changed (0: never). */
  readonly settledIteration: number;
}

/** Window ends (iterations) for a warmup of `warmup` iterations: distinct, in 1..warmup-1. */
export function centerednessWindowEnds(warmup: number): number[] {
  const ends = CENTEREDNESS_WINDOW_ENDS.map((f) => Math.floor(f * warmup)).filter((e) => e >= 1 && e < warmup);
  return [...new Set(ends)];
}

/**
 * The initial c, from the data and priors alone: the rule over the range of log tau of the
 * approximate marginal posterior (`logTauRange`, exact for the normal family), each group's
 * se_k its data estimate's. `priors` are the model's (the sampler's units); the window ends
 * recompute the range with the model's priors in any case.
 */
export function init(stats: GroupStats, warmup: number, rule: CenterednessRule, priors: Priors = DEFAULT_PRIORS): CenterednessState {
  const range = logTauRange(stats, priors);
  return {
    rule,
    c: centerednessOver(stats, range, rule === 'auto-binary'),
    initialTau: Math.exp(range.median),
    range,
    windowEnds: centerednessWindowEnds(warmup),
    updates: [],
    settledWindow: 0,
    settledIteration: 0,
  };
}

/**
 * The re-estimate at the end of a window (after `iteration` warmup iterations): the rule over
 * `range` (default: the state's) with each group's precision `precision` (for a family whose
 * se depends on theta, the Fisher information at the ensemble's median theta,
 * `precisionAt(stats, ensembleTheta(...))`; default: the data's). `tau2`, the ensemble's
 * median tau^2 (`ensembleTau2`), is recorded in the update (a check of the approximate
 * marginal's median). Returns the next state; `changed` says whether c moved by more than
 * CHANGE_TOLERANCE in some group (then every chain's state must be transformed to it, see
 * `reparameterizePositions`).
 */
export function update(
  state: CenterednessState,
  stats: GroupStats,
  iteration: number,
  tau2: number,
  precision: ArrayLike<number> = stats.precision,
  range: LogTauRange = state.range,
): { state: CenterednessState; changed: boolean } {
  const next = centerednessOver(stats, range, state.rule === 'auto-binary', precision);
  let change = 0;
  for (let k = 0; k < next.length; k++) change = Math.max(change, Math.abs(next[k] - state.c[k]));
  const changed = change > CHANGE_TOLERANCE;
  const updates = [...state.updates, { iteration, tau: Math.sqrt(tau2), changed }];
  return {
    state: {
      ...state,
      c: changed ? next : state.c,
      range: changed ? range : state.range,
      updates,
      settledWindow: changed ? updates.length : state.settledWindow,
      settledIteration: changed ? iteration : state.settledIteration,
    },
    changed,
  };
}

/**
 * Advice for a fixed parameterization, from the posterior tau^2: the groups whose c is on
 * the wrong side of 1/2 from the rule's (strongly informed groups run non-centred, weakly
 * informed ones centred). Undefined when none is.
 */
export function parameterizationAdvice(stats: GroupStats, c: Centeredness, tau2: number): string | undefined {
  const best = centerednessFor(stats, tau2, true);
  let strongNc = 0;
  let weakC = 0;
  let strong = 0;
  for (let k = 0; k < stats.K; k++) {
    if (best[k] === 1) strong++;
    if (best[k] === 1 && c[k] < 0.5) strongNc++;
    if (best[k] === 0 && c[k] >= 0.5) weakC++;
  }
  if (strongNc + weakC === 0) return undefined;
  const tau = Math.sqrt(tau2).toPrecision(3);
  const parts: string[] = [];
  if (strongNc > 0) parts.push(`${strongNc} of ${stats.K} groups are strongly informed (se_k < posterior tau ≈ ${tau}) but non-centered`);
  if (weakC > 0) parts.push(`${weakC} of ${stats.K} groups are weakly informed (se_k > posterior tau ≈ ${tau}) but centered`);
  const alt = strong === stats.K ? ' or centered' : strong === 0 ? ' or noncentered' : '';
  return `${parts.join('; ')}: try --param auto${alt}.`;
}
