import type { HierData } from './data.ts';
import type { Family, GroupFields } from './family.ts';
import type { GroupStats } from './suffstats.ts';
import { choleskyInPlace, choleskySolve } from './cholesky.ts';

/**
 * Population-level predictors reduced for the gradient: the linear predictor of observation i
 * is eta_i = theta[g_i] + x_i . beta, and the data reduce as far as the family and the design
 * allow (O(K P) or O(N P) per gradient instead of O(N P) always).
 *
 * **Group path** (`path: 'group'`). Where x_i is constant within each group (group-level
 * predictors: seeds, a Poisson series, one observation per group), eta_i = theta_k + m_k .
 * beta for every observation of group k, so group k's log-likelihood is the family's
 * l_k(theta_k + o_k) at the offset o_k = m_k . beta, O(K P) per gradient.
 *
 * Where the family is Gaussian in eta (`Family.gaussian`: the normal families) the same holds
 * for predictors that vary within groups, with weights w_i (1/sigma_i^2 or 1), W_k = sum w_i,
 * group means m_k = sum w_i x_i / W_k and ybar_k = sum w_i y_i / W_k:
 *
 *   sum_i w_i (y_i - theta_k - x_i beta)^2
 *     = sum_k W_k (ybar_k - theta_k - m_k beta)^2 + sum_i w_i ((y_i - ybar_k) - (x_i - m_k) beta)^2,
 *
 * and the last sum is R(beta) = SS - 2 beta . Cxy + beta' Cxx beta with the within-group
 * cross products Cxx = sum_i w_i (x_i - m_k)(x_i - m_k)', Cxy = sum_i w_i (x_i - m_k)(y_i -
 * ybar_k) (SS is already in the family's fields). The log-likelihood adds
 * coefficient(x) (R(beta) - SS) (`Family.gaussian.withinCoefficient`): O(K P + P^2) per
 * gradient, whatever N is.
 *
 * **Observation path** (`path: 'observation'`). A non-Gaussian family (binomial, Poisson) with
 * predictors that vary within a group: every observation is its own term, the family's
 * fields of one observation (a_i, b_i) (`Family.reduce` with each observation as a group) at
 * eta_i, O(N P) per gradient.
 */
export interface PredictorStats {
  /** Number of predictors. */
  readonly P: number;
  readonly names: readonly string[];
  readonly path: 'group' | 'observation';
  /** Group path: the per-group means m_k (K x P, row-major; 0 for a group without data). */
  readonly m: Float64Array;
  /** Group path, Gaussian family with predictors varying within groups: Cxx (P x P) and Cxy (P); absent when zero. */
  readonly within?: { readonly xx: Float64Array; readonly xy: Float64Array };
  /** Observation path: one family field pair per observation, its group, and the design (N x P). */
  readonly obs?: { readonly N: number; readonly a: Float64Array; readonly b: Float64Array; readonly group: Int32Array; readonly X: Float64Array };
}

/** Whether every group's rows of X are equal (predictors constant within groups). */
export function constantWithinGroups(data: HierData): boolean {
  const pr = data.predictors;
  if (!pr) return true;
  const P = pr.names.length;
  const first = new Int32Array(data.K).fill(-1);
  for (let i = 0; i < data.y.length; i++) {
    const k = data.group[i];
    const f = first[k];
    if (f < 0) {
      first[k] = i;
      continue;
    }
    for (let p = 0; p < P; p++) if (pr.X[i * P + p] !== pr.X[f * P + p]) return false;
  }
  return true;
}

/** Reduces the data's predictors under `family` (undefined without predictors); float64, O(N P^2). */
export function predictorStats(data: HierData, family: Family): PredictorStats | undefined {
  const pr = data.predictors;
  if (!pr || pr.names.length === 0) return undefined;
  const P = pr.names.length;
  const { K, y, group } = data;
  const N = y.length;
  const X = pr.X;
  const constant = constantWithinGroups(data);
  if (!constant && !family.gaussian) {
    // Every observation its own group: the family's fields of one observation.
    const single: HierData = { ...data, K: N, group: Int32Array.from({ length: N }, (_, i) => i), labels: [], predictors: undefined };
    const f: GroupFields = family.reduce(single);
    return { P, names: pr.names, path: 'observation', m: new Float64Array(0), obs: { N, a: f.a, b: f.b, group: data.group, X } };
  }
  const weight = family.gaussian ? family.gaussian.weight : () => 1;
  const W = new Float64Array(K);
  const m = new Float64Array(K * P);
  const ybar = new Float64Array(K);
  for (let i = 0; i < N; i++) {
    const k = group[i];
    const w = weight(data, i);
    W[k] += w;
    ybar[k] += w * y[i];
    for (let p = 0; p < P; p++) m[k * P + p] += w * X[i * P + p];
  }
  for (let k = 0; k < K; k++) {
    if (!(W[k] > 0)) continue;
    ybar[k] /= W[k];
    for (let p = 0; p < P; p++) m[k * P + p] /= W[k];
  }
  if (constant) {
    // Exactly the group's row (the weighted mean of equal rows may round).
    const seen = new Uint8Array(K);
    for (let i = 0; i < N; i++) {
      const k = group[i];
      if (seen[k]) continue;
      seen[k] = 1;
      for (let p = 0; p < P; p++) m[k * P + p] = X[i * P + p];
    }
    return { P, names: pr.names, path: 'group', m };
  }
  const xx = new Float64Array(P * P);
  const xy = new Float64Array(P);
  const d = new Float64Array(P);
  for (let i = 0; i < N; i++) {
    const k = group[i];
    const w = weight(data, i);
    const r = y[i] - ybar[k];
    for (let p = 0; p < P; p++) d[p] = X[i * P + p] - m[k * P + p];
    for (let p = 0; p < P; p++) {
      xy[p] += w * d[p] * r;
      for (let q = 0; q <= p; q++) xx[p * P + q] += w * d[p] * d[q];
    }
  }
  for (let p = 0; p < P; p++) for (let q = 0; q < p; q++) xx[q * P + p] = xx[p * P + q];
  return { P, names: pr.names, path: 'group', m, within: { xx, xy } };
}

/**
 * The Gaussian within-group term at beta: R(beta) - SS = beta' Cxx beta - 2 beta . Cxy, and its
 * gradient 2 (Cxx beta - Cxy) added, times `scale`, into `grad` (length P).
 */
export function withinQuadratic(within: NonNullable<PredictorStats['within']>, beta: ArrayLike<number>, betaAt: number, grad: Float64Array | undefined, scale: number, gradAt = 0): number {
  const { xx, xy } = within;
  const P = xy.length;
  let v = 0;
  for (let p = 0; p < P; p++) {
    let row = 0;
    for (let q = 0; q < P; q++) row += xx[p * P + q] * beta[betaAt + q];
    const bp = beta[betaAt + p];
    v += bp * row - 2 * bp * xy[p];
    if (grad) grad[gradAt + p] += scale * 2 * (row - xy[p]);
  }
  return v;
}

/**
 * Each group's share of the linear predictor at the coefficients `beta`: m_k . beta on the
 * group path, the mean of x_i . beta over the group's observations on the observation path;
 * 0 for a group without data.
 */
export function predictorOffsets(pr: PredictorStats, K: number, beta: ArrayLike<number>): Float64Array {
  const P = pr.P;
  const out = new Float64Array(K);
  if (pr.path === 'group') {
    for (let k = 0; k < K; k++) for (let p = 0; p < P; p++) out[k] += pr.m[k * P + p] * beta[p];
    return out;
  }
  const { N, group, X } = pr.obs!;
  const n = new Int32Array(K);
  for (let i = 0; i < N; i++) {
    n[group[i]]++;
    for (let p = 0; p < P; p++) out[group[i]] += X[i * P + p] * beta[p];
  }
  for (let k = 0; k < K; k++) if (n[k] > 0) out[k] /= n[k];
  return out;
}

/**
 * A precision-weighted least-squares fit of the groups' estimates on their predictors
 * (intercept first, then one coefficient per predictor): a meta-regression of the data alone,
 * for the initial centeredness and the chains' starts. Undefined where fewer groups than
 * coefficients have data.
 */
export function predictorFit(stats: GroupStats, pr: PredictorStats): Float64Array | undefined {
  const P = pr.P;
  const Q = P + 1;
  const K = stats.K;
  const rows = predictorRows(pr, K);
  const A = new Float64Array(Q * Q);
  const r = new Float64Array(Q);
  const u = new Float64Array(Q);
  let groups = 0;
  for (let k = 0; k < K; k++) {
    const w = stats.precision[k];
    if (!(stats.n[k] > 0 && w > 0 && Number.isFinite(w) && Number.isFinite(stats.ybar[k]))) continue;
    groups++;
    u[0] = 1;
    for (let p = 0; p < P; p++) u[p + 1] = rows[k * P + p];
    for (let i = 0; i < Q; i++) {
      r[i] += w * u[i] * stats.ybar[k];
      for (let j = 0; j < Q; j++) A[i * Q + j] += w * u[i] * u[j];
    }
  }
  if (groups <= Q) return undefined;
  // A small ridge keeps a design the groups do not resolve (a predictor constant among them) solvable.
  let trace = 0;
  for (let i = 0; i < Q; i++) trace += A[i * Q + i];
  for (let i = 0; i < Q; i++) A[i * Q + i] += 1e-9 * trace;
  if (choleskyInPlace(A, Q) === -Infinity) return undefined;
  const coef = choleskySolve(A, Q, r, new Float64Array(Q));
  return coef.every(Number.isFinite) ? coef : undefined;
}

/** Each group's predictor row: m_k on the group path, the mean of its observations' x on the observation path (K x P). */
export function predictorRows(pr: PredictorStats, K: number): Float64Array {
  if (pr.path === 'group') return pr.m;
  const P = pr.P;
  const { N, group, X } = pr.obs!;
  const out = new Float64Array(K * P);
  const n = new Int32Array(K);
  for (let i = 0; i < N; i++) {
    n[group[i]]++;
    for (let p = 0; p < P; p++) out[group[i] * P + p] += X[i * P + p];
  }
  for (let k = 0; k < K; k++) if (n[k] > 0) for (let p = 0; p < P; p++) out[k * P + p] /= n[k];
  return out;
}
