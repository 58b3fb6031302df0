import * as centeredness from '../adaptation/centeredness.ts';
import { familyGlobalOf, reparameterizePositions, withCenteredness, type HierModel } from '../model/model.ts';
import type { Backend } from './backend.ts';
import type { GroupStats } from '../model/suffstats.ts';
import { predictorFit, predictorOffsets, type PredictorStats } from '../model/predictors.ts';

/**
 * `--param auto`'s step at the end of a warmup window (see `adaptation/centeredness.ts` for
 * the rule): reads every chain's position, estimates tau^2 from the ensemble (and, for a
 * family whose se_k depends on theta, each group's se_k at the ensemble's median theta_k,
 * `ensembleTheta` and `precisionAt`, and for one with a global parameter at its ensemble
 * median, e.g. se_k = sigma/sqrt(n_k); the normal family with known sd keeps its data se), and when c
 * moves, transforms every chain's state exactly to the new coordinates (theta, mu and tau
 * unchanged; z recomputed in float64; the backend re-evaluates log p and its gradient), so
 * no chain is lost and the target is the same. Returns the model now in use.
 */
export async function centerednessWindowEnd(
  backend: Pick<Backend, 'chains' | 'positions' | 'reparameterize'>,
  model: HierModel,
  state: centeredness.CenterednessState,
  iteration: number,
): Promise<{ model: HierModel; state: centeredness.CenterednessState; changed: boolean }> {
  // Float32 on WebGPU: the transform runs in float64 from the stored values.
  const positions = Float64Array.from(await backend.positions());
  const tau2 = centeredness.ensembleTau2(positions, backend.chains, model.dim, model.layout.global('log_tau'));
  // A family global (the normal family's log sigma) at the ensemble's median.
  const fg = familyGlobalOf(model);
  const x = fg ? centeredness.ensembleMedian(positions, backend.chains, model.dim, fg.index) : undefined;
  const beta = ensembleBeta(model, positions, backend.chains);
  const precision = centeredness.seDependsOnState(model.stats)
    ? statePrecision(model, positions, backend.chains, x, beta)
    : model.stats.precision;
  // Each group's estimate net of its predictors' share at the ensemble's coefficients: the
  // groups' spread about mu, from which the range of log tau follows, is what is left of them.
  const stats = beta ? withOffsets(model.stats, groupOffsets(model, beta)) : model.stats;
  // The range of log tau from the model's priors (those of the sampler's units); where se_k
  // depends on a family global, at its ensemble value.
  const range = centeredness.logTauRange(fg ? centeredness.withPrecision(stats, precision) : stats, model.priors);
  const r = centeredness.update(state, stats, iteration, tau2, precision, range);
  if (!r.changed) return { model, state: r.state, changed: false };
  const next = withCenteredness(model, r.state.c);
  await backend.reparameterize(next, reparameterizePositions(model, next, positions, backend.chains));
  return { model: next, state: r.state, changed: true };
}

/** The ensemble's median of each coefficient beta_p (0 where no chain has a finite one); undefined without predictors. */
export function ensembleBeta(model: HierModel, positions: Float64Array, chains: number): Float64Array | undefined {
  const { start, count } = model.layout.beta;
  if (count === 0) return undefined;
  return Float64Array.from({ length: count }, (_, p) => {
    const b = centeredness.ensembleMedian(positions, chains, model.dim, start + p);
    return Number.isFinite(b) ? b : 0;
  });
}

/**
 * Each group's share of the linear predictor at the coefficients `beta`: o_k = m_k . beta on
 * the group path, the mean of x_i . beta over the group's observations on the observation
 * path (`model/predictors.ts`); 0 for a group without data.
 */
export function groupOffsets(model: HierModel, beta: Float64Array): Float64Array {
  return predictorOffsets(model.predictors!, model.stats.K, beta);
}

/**
 * The statistics for the initial centeredness of data with predictors (before any chain has
 * moved): each group's estimate net of a precision-weighted least-squares fit of the groups'
 * estimates on their predictors (a meta-regression; group means of x on the observation
 * path), so that the range of log tau is the one left after the predictors; `stats` as they
 * are without predictors or with fewer groups with data than coefficients.
 */
export function initialStats(stats: GroupStats, pr: PredictorStats | undefined): GroupStats {
  const fit = pr && predictorFit(stats, pr);
  return fit ? withOffsets(stats, predictorOffsets(pr, stats.K, fit.subarray(1))) : stats;
}

/** The statistics with each group's estimate moved by -offset (the normal approximation's centre net of the predictors). */
function withOffsets(stats: GroupStats, offsets: Float64Array): GroupStats {
  return { ...stats, ybar: stats.ybar.map((y, k) => (stats.n[k] > 0 ? y - offsets[k] : y)) };
}

/**
 * Each group's 1/se_k^2 at the ensemble's state: the family's information at the median
 * theta_k (and family global x). With population-level predictors the likelihood is taken
 * where the data put it, at the linear predictor with the ensemble's median coefficients
 * `beta`: theta_k + m_k . beta for the group path, and for the observation path the sum over
 * the group's observations of their information at theta_k + x_i . beta (`predictors.ts`).
 */
export function statePrecision(model: HierModel, positions: Float64Array, chains: number, x: number | undefined, beta?: Float64Array): Float64Array {
  const theta = centeredness.ensembleTheta(positions, chains, model.layout, model.c);
  const pr = model.predictors;
  if (!pr || !beta) return centeredness.precisionAt(model.stats, theta, x);
  const P = pr.P;
  if (pr.path === 'group') {
    const o = groupOffsets(model, beta);
    return centeredness.precisionAt(model.stats, theta.map((t, k) => t + o[k]), x);
  }
  const { N, a, b, group, X } = pr.obs!;
  const fields = { K: N, n: new Int32Array(N).fill(1), a, b, logConst: 0 };
  const out = new Float64Array(model.stats.K);
  for (let i = 0; i < N; i++) {
    const k = group[i];
    if (!Number.isFinite(theta[k])) continue;
    let eta = theta[k];
    for (let p = 0; p < P; p++) eta += X[i * P + p] * beta[p];
    const se = model.stats.family.approx(fields, i, eta, Number.isFinite(x) ? x : undefined).se;
    if (se > 0 && Number.isFinite(se)) out[k] += 1 / (se * se);
  }
  for (let k = 0; k < model.stats.K; k++) if (!(out[k] > 0)) out[k] = model.stats.precision[k];
  return out;
}

/** What a run with a learned centeredness reports (SampleResult.centeredness). */
export interface CenterednessReport {
  readonly rule: centeredness.CenterednessRule;
  /** The centeredness sampled with (also `model.c`). */
  readonly c: Float64Array;
  /** tau of the data-based start (DerSimonian–Laird). */
  readonly initialTau: number;
  /** Re-estimates at the window ends: warmup iteration, ensemble tau, applied or not. */
  readonly updates: readonly centeredness.CenterednessUpdate[];
  /** The window (1-based) after which c last changed (0: the initial c was kept), and its iteration. */
  readonly settledWindow: number;
  readonly settledIteration: number;
}

export function centerednessReport(state: centeredness.CenterednessState): CenterednessReport {
  return {
    rule: state.rule,
    c: state.c,
    initialTau: state.initialTau,
    updates: state.updates,
    settledWindow: state.settledWindow,
    settledIteration: state.settledIteration,
  };
}
