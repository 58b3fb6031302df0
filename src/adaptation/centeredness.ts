import type { GroupStats } from '../model/suffstats.ts';
import type { Centeredness } from '../model/parameterization.ts';
import type { ModelLayout } from '../model/layout.ts';
import { thetaOf } from '../model/model.ts';

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
 * tau. The rule needs tau, which is what is being sampled. Before warmup it is estimated
 * from the data by DerSimonian & Laird's moment estimator (1986, "Meta-analysis in clinical
 * trials", Control. Clin. Trials 7, eq. 8; `dersimonianLairdTau2`), so that the first
 * warmup window already runs in a sensible parameterization (rounded to 0 or 1, see
 * `init`); at the end of each window in
 * CENTEREDNESS_WINDOW_ENDS, from the ensemble of chains: tau^2 = the median over chains of
 * their current tau^2 (`ensembleTau2`; a median, so that the few chains still far out in
 * the funnel early in warmup do not move it).
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
    let v = r > 0 ? r / (r + 1) : 0;
    if (binary) v = v >= 0.5 ? 1 : 0;
    else if (v <= SNAP_DISTANCE) v = 0;
    else if (v >= 1 - SNAP_DISTANCE) v = 1;
    c[k] = v;
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
 * 1/se_k^2 of every group at theta_k = `theta[k]`: the family's Fisher information there
 * (`family.approx(fields, k, theta_k).se^-2`); 0 for a group without data, and the data's
 * `stats.precision[k]` where theta_k is not finite.
 */
export function precisionAt(stats: GroupStats, theta: ArrayLike<number>): Float64Array {
  const fields = { K: stats.K, n: stats.n, a: stats.a, b: stats.b, logConst: stats.logConst };
  const out = new Float64Array(stats.K);
  for (let k = 0; k < stats.K; k++) {
    if (!(stats.n[k] > 0)) continue;
    if (!Number.isFinite(theta[k])) {
      out[k] = stats.precision[k];
      continue;
    }
    const se = stats.family.approx(fields, k, theta[k]).se;
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
    const v = col.subarray(0, n).sort();
    const m = n >> 1;
    out[k] = n % 2 ? v[m] : 0.5 * (v[m - 1] + v[m]);
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
  /** The DerSimonian–Laird tau the initial c came from. */
  readonly initialTau: number;
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
 * The initial c, from the data alone: the rule at DerSimonian–Laird's tau, rounded to 0 or
 * 1 (a mixed model, which the kernels run fastest) whatever the rule — the start is a guess
 * (the moment estimate is noisy: 8.0 for the weak seed set, whose posterior median tau is
 * 3.6), and the first window end refines it from the ensemble.
 */
export function init(stats: GroupStats, warmup: number, rule: CenterednessRule): CenterednessState {
  const tau2 = dersimonianLairdTau2(stats);
  return {
    rule,
    c: centerednessFor(stats, tau2, true),
    initialTau: Math.sqrt(tau2),
    windowEnds: centerednessWindowEnds(warmup),
    updates: [],
    settledWindow: 0,
    settledIteration: 0,
  };
}

/**
 * The re-estimate at the end of a window (after `iteration` warmup iterations) from the
 * ensemble's tau^2 and, for a family whose se depends on theta, the groups' precision at the
 * ensemble's theta (`precisionAt(stats, ensembleTheta(...))`; default: the data's). Returns
 * the next state; `changed` says whether c moved (then every chain's state must be
 * transformed to it, see `reparameterizePositions`).
 */
export function update(
  state: CenterednessState,
  stats: GroupStats,
  iteration: number,
  tau2: number,
  precision: ArrayLike<number> = stats.precision,
): { state: CenterednessState; changed: boolean } {
  const next = Number.isFinite(tau2) ? centerednessFor(stats, tau2, state.rule === 'auto-binary', precision) : state.c;
  let change = 0;
  for (let k = 0; k < next.length; k++) change = Math.max(change, Math.abs(next[k] - state.c[k]));
  const changed = change > CHANGE_TOLERANCE;
  const updates = [...state.updates, { iteration, tau: Math.sqrt(tau2), changed }];
  return {
    state: {
      ...state,
      c: changed ? next : state.c,
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
