import type { HierData } from './data.ts';
import { groupStats, type GroupStats } from './suffstats.ts';
import type { Centeredness } from './parameterization.ts';
import { InputError } from '../errors.ts';
import { makeLayout, type ModelLayout } from './layout.ts';
import { familyOf } from './families/index.ts';
import { familyGlobals, type FamilyGlobal } from './family.ts';
import { DEFAULT_BETA_PRIOR, DEFAULT_PRIORS, logScalePriorUnconstrained, logTauPriorUnconstrained, type Priors, type ScalePrior } from './priors.ts';
import { predictorStats, withinQuadratic, type PredictorStats } from './predictors.ts';

/**
 * A hierarchical model (its likelihood family in `stats.family`) in unconstrained coordinates
 *   q = (mu, s = log tau[, x], z_0, ..., z_{K-1}),   dimension D = K + 2 (+ 1 for a family global x),
 * with per-group centeredness c (see `parameterization.ts`).
 */
export interface HierModel {
  readonly stats: GroupStats;
  readonly c: Centeredness;
  readonly priors: Priors;
  /** Number of unconstrained coordinates, K + globals (= layout.dim). */
  readonly dim: number;
  /** Where each coordinate lives (`layout.ts`). */
  readonly layout: ModelLayout;
  /** The family's global parameter, its index and prior (`familyGlobalOf`), resolved once; absent when the family has none. */
  readonly familyGlobal?: FamilyGlobalOf;
  /** Population-level predictors, reduced (`predictors.ts`); absent without predictors. Their coefficients are `layout.beta`. */
  readonly predictors?: PredictorStats;
}

/** A model's family global: the family's description, its coordinate's index, its prior. */
export interface FamilyGlobalOf {
  readonly global: FamilyGlobal;
  readonly index: number;
  readonly prior: ScalePrior;
}

/** Index of mu and log tau in an unconstrained position vector (`layout.ts`; for this module's loops); z_0 is at `layout.groupStart`. */
const MU = 0;
const LOG_TAU = 1;

export function makeModel(data: HierData, c: Centeredness, priors: Priors = DEFAULT_PRIORS): HierModel {
  if (c.length !== data.K) throw new InputError('parameterization', `has ${c.length} groups, data has ${data.K}`);
  const stats = groupStats(data);
  const predictors = predictorStats(data, stats.family);
  const layout = makeLayout(data.K, familyGlobals(stats.family).map((g) => g.name), predictors?.names);
  const g = familyGlobals(stats.family)[0];
  const familyGlobal = g && { global: g, index: layout.global(g.name), prior: priors.family?.[g.name] ?? g.prior.default };
  return { stats, c, priors, dim: layout.dim, layout, ...(familyGlobal && { familyGlobal }), ...(predictors && { predictors }) };
}

/**
 * The family's global parameter of a model (at most one: `MAX_FAMILY_GLOBALS`), its index and
 * prior, as `makeModel` resolved it (no work per call: `logDensityGrad` asks at every
 * gradient); undefined when the family has none.
 */
export function familyGlobalOf(model: HierModel): FamilyGlobalOf | undefined {
  return model.familyGlobal;
}

/** Names of the unconstrained coordinates: mu, log_tau, z[<label>]. */
export function unconstrainedNames(model: HierModel): string[] {
  return model.layout.names(model.stats.labels);
}

/**
 * Log-density (up to an additive constant independent of q) and its gradient, float64.
 *
 *   log p(q) = log N(mu | m0, s0) + log p_tau(e^s) + s
 *            + sum_k [ -u_k^2/2 - c_k s  +  l_k(theta_k) ],
 *   u_k = (z_k - c_k mu) tau^{-c_k},   theta_k = mu + tau^{1-c_k} (z_k - c_k mu),
 *
 * l_k the family's log-likelihood of group k (`family.ts`; normal: -P_k (theta_k - ybar_k)^2/2).
 * With d_k = z_k - c_k mu, b_k = tau^{1-c_k} and l'_k = dl_k/dtheta_k, the chain rule
 * dtheta/dz = b, dtheta/dmu = 1 - c b, dtheta/ds = (1 - c) b d gives
 *   d/dz_k  = -u_k tau^{-c_k} + l'_k b_k
 *   d/dmu   = -(mu - m0)/s0^2 + sum_k [ c_k u_k tau^{-c_k} + l'_k (1 - c_k b_k) ]
 *   d/ds    = d/ds[log p_tau + s] + sum_k [ c_k (u_k^2 - 1) + l'_k (1 - c_k) b_k d_k ]
 *
 * A family with a global parameter x (`family.ts`; the normal family's log sigma) adds
 * log p_x(e^x) + x (its prior and log-Jacobian) and its theta-free term g(x), and l_k
 * depends on x too:
 *   d/dx    = d/dx[log p_x + x] + g'(x) + sum_k dl_k/dx.
 *
 * `grad` (length D) is overwritten; the return value is log p(q).
 */
export function logDensityGrad(model: HierModel, q: ArrayLike<number>, grad: Float64Array): number {
  if (model.predictors) return logDensityGradPredictors(model, model.predictors, q, grad);
  const { stats, c, priors } = model;
  const Z0 = model.layout.groupStart;
  const family = stats.family;
  const fa = stats.a;
  const fb = stats.b;
  const mu = q[MU];
  const s = q[LOG_TAU];
  const muz = (mu - priors.mu.loc) / priors.mu.scale;
  const tauPrior = logTauPriorUnconstrained(priors.tau, s);
  let lp = -0.5 * muz * muz + tauPrior.value;
  let gmu = -muz / priors.mu.scale;
  let gs = tauPrior.grad;
  const dl = likGrad;
  const fg = familyGlobalOf(model);
  const x = fg ? q[fg.index] : undefined;
  let gx = 0;
  for (let k = 0; k < stats.K; k++) {
    const ck = c[k];
    const aInv = Math.exp(-ck * s);
    const b = Math.exp((1 - ck) * s);
    const d = q[Z0 + k] - ck * mu;
    const u = d * aInv;
    const l = family.logLik(fa[k], fb[k], mu + b * d, dl, x);
    const g = dl[0];
    if (fg) gx += dl[1];
    lp += -0.5 * u * u - ck * s + l;
    grad[Z0 + k] = -u * aInv + g * b;
    gmu += ck * u * aInv + g * (1 - ck * b);
    gs += ck * (u * u - 1) + g * (1 - ck) * b * d;
  }
  grad[MU] = gmu;
  grad[LOG_TAU] = gs;
  if (fg && x !== undefined) {
    const prior = logScalePriorUnconstrained(fg.prior, x);
    lp += prior.value + family.logLikGlobal!(stats.familyStats!, x, dl);
    grad[fg.index] = gx + prior.grad + dl[0];
  }
  return lp;
}

/**
 * `logDensityGrad` of a model with population-level predictors (`predictors.ts`): the linear
 * predictor eta = theta + x . beta, so with l' = dl/deta every theta-derivative of the plain
 * model stays (dl/dtheta = l') and
 *   d/dbeta_p = -(beta_p - m0)/s0^2 + sum over terms of l' x_p
 * (the group path's terms are groups with x = m_k, the observation path's are observations);
 * a Gaussian family with predictors varying within groups adds coefficient(x) (R(beta) - SS).
 */
function logDensityGradPredictors(model: HierModel, pr: PredictorStats, q: ArrayLike<number>, grad: Float64Array): number {
  const { stats, c, priors } = model;
  const Z0 = model.layout.groupStart;
  const B0 = model.layout.beta.start;
  const P = pr.P;
  const K = stats.K;
  const family = stats.family;
  const mu = q[MU];
  const s = q[LOG_TAU];
  const muz = (mu - priors.mu.loc) / priors.mu.scale;
  const tauPrior = logTauPriorUnconstrained(priors.tau, s);
  let lp = -0.5 * muz * muz + tauPrior.value;
  let gmu = -muz / priors.mu.scale;
  let gs = tauPrior.grad;
  const dl = likGrad;
  const fg = familyGlobalOf(model);
  const x = fg ? q[fg.index] : undefined;
  let gx = 0;
  const bp = priors.beta ?? DEFAULT_BETA_PRIOR;
  for (let p = 0; p < P; p++) {
    const t = (q[B0 + p] - bp.loc) / bp.scale;
    lp -= 0.5 * t * t;
    grad[B0 + p] = -t / bp.scale;
  }
  // d l / d theta_k for every group: from its own term (group path) or its observations'.
  const gTheta = scratch(model, K);
  if (pr.path === 'group') {
    const { m } = pr;
    for (let k = 0; k < K; k++) {
      let o = 0;
      for (let p = 0; p < P; p++) o += m[k * P + p] * q[B0 + p];
      const theta = thetaOf(mu, s, q[Z0 + k], c[k]);
      lp += family.logLik(stats.a[k], stats.b[k], theta + o, dl, x);
      gTheta[k] = dl[0];
      if (fg) gx += dl[1];
      for (let p = 0; p < P; p++) grad[B0 + p] += dl[0] * m[k * P + p];
    }
    if (pr.within) {
      const coef = family.gaussian!.withinCoefficient(x, dl);
      const v = withinQuadratic(pr.within, q, B0, grad, coef, B0);
      lp += coef * v;
      gx += dl[0] * v;
    }
  } else {
    const { N, a, b, group, X } = pr.obs!;
    const theta = scratch(model, K, 1);
    for (let k = 0; k < K; k++) {
      theta[k] = thetaOf(mu, s, q[Z0 + k], c[k]);
      gTheta[k] = 0;
    }
    for (let i = 0; i < N; i++) {
      const k = group[i];
      let eta = theta[k];
      for (let p = 0; p < P; p++) eta += X[i * P + p] * q[B0 + p];
      lp += family.logLik(a[i], b[i], eta, dl, x);
      gTheta[k] += dl[0];
      if (fg) gx += dl[1];
      for (let p = 0; p < P; p++) grad[B0 + p] += dl[0] * X[i * P + p];
    }
  }
  for (let k = 0; k < K; k++) {
    const ck = c[k];
    const aInv = Math.exp(-ck * s);
    const b = Math.exp((1 - ck) * s);
    const d = q[Z0 + k] - ck * mu;
    const u = d * aInv;
    const g = gTheta[k];
    lp += -0.5 * u * u - ck * s;
    grad[Z0 + k] = -u * aInv + g * b;
    gmu += ck * u * aInv + g * (1 - ck * b);
    gs += ck * (u * u - 1) + g * (1 - ck) * b * d;
  }
  grad[MU] = gmu;
  grad[LOG_TAU] = gs;
  if (fg && x !== undefined) {
    const prior = logScalePriorUnconstrained(fg.prior, x);
    lp += prior.value + family.logLikGlobal!(stats.familyStats!, x, dl);
    grad[fg.index] = gx + prior.grad + dl[0];
  }
  return lp;
}

/** Per-model float64 scratch of length n (slot `which`), made once (JS runs one gradient at a time). */
function scratch(model: HierModel, n: number, which = 0): Float64Array {
  let list = scratches.get(model.stats);
  if (!list) scratches.set(model.stats, (list = []));
  if (!list[which] || list[which].length < n) list[which] = new Float64Array(n);
  return list[which];
}
const scratches = new WeakMap<GroupStats, Float64Array[]>();

/** Scratch for the family's d l / d theta. */
const likGrad = new Float64Array(2);

/** Log-density alone (allocates a scratch gradient). */
export function logDensity(model: HierModel, q: ArrayLike<number>): number {
  return logDensityGrad(model, q, new Float64Array(model.dim));
}

/**
 * Maps an unconstrained position to (mu, tau, theta) and, for a family with a global
 * parameter, its unconstrained value `x` (e.g. log sigma).
 */
export function constrain(model: HierModel, q: ArrayLike<number>): { mu: number; tau: number; theta: Float64Array; x?: number; beta?: Float64Array } {
  const mu = q[MU];
  const s = q[LOG_TAU];
  const theta = new Float64Array(model.stats.K);
  const Z0 = model.layout.groupStart;
  for (let k = 0; k < theta.length; k++) theta[k] = thetaOf(mu, s, q[Z0 + k], model.c[k]);
  const fg = familyGlobalOf(model);
  const { start, count } = model.layout.beta;
  const beta = count > 0 ? Float64Array.from({ length: count }, (_, p) => q[start + p]) : undefined;
  return { mu, tau: Math.exp(s), theta, ...(fg && { x: q[fg.index] }), ...(beta && { beta }) };
}

/** theta = mu + tau^(1-c) (z - c mu), tau = e^s: one group's constrained value at centeredness c. */
export function thetaOf(mu: number, s: number, z: number, c: number): number {
  return mu + Math.exp((1 - c) * s) * (z - c * mu);
}

/** Inverse of `constrain`: the unconstrained position of (mu, tau, theta[, x][, beta]) under centeredness c. */
export function unconstrain(model: HierModel, mu: number, tau: number, theta: ArrayLike<number>, x?: number, beta?: ArrayLike<number>): Float64Array {
  const q = new Float64Array(model.dim);
  const s = Math.log(tau);
  q[MU] = mu;
  q[LOG_TAU] = s;
  const fg = familyGlobalOf(model);
  if (fg) {
    if (x === undefined) throw new RangeError(`the ${model.stats.family.id} likelihood has the global ${fg.global.name}: give its value`);
    q[fg.index] = x;
  }
  const { start, count } = model.layout.beta;
  if (count > 0) {
    if (beta === undefined || beta.length !== count) throw new RangeError(`the model has ${count} coefficients beta: give their values`);
    for (let p = 0; p < count; p++) q[start + p] = beta[p];
  }
  const Z0 = model.layout.groupStart;
  for (let k = 0; k < model.stats.K; k++) {
    const ck = model.c[k];
    q[Z0 + k] = ck * mu + Math.exp(-(1 - ck) * s) * (theta[k] - mu);
  }
  return q;
}

/**
 * Fully normalized log joint density of (mu, tau, theta, y) evaluated per observation
 * (O(N)), straight from the model's definition with the family's per-observation
 * log-likelihood; independent of the sufficient-statistic path. Used in tests to check that
 * path and the reparameterization's Jacobian.
 */
export function logJointPerObservation(data: HierData, priors: Priors, mu: number, tau: number, theta: ArrayLike<number>, x?: number, beta?: ArrayLike<number>): number {
  const lnorm = (x: number, m: number, sd: number) => -0.5 * ((x - m) / sd) ** 2 - Math.log(sd) - 0.5 * Math.log(2 * Math.PI);
  let lp = lnorm(mu, priors.mu.loc, priors.mu.scale);
  const t = tau / priors.tau.scale;
  lp += priors.tau.kind === 'halfnormal'
    ? Math.log(2) + lnorm(tau, 0, priors.tau.scale)
    : Math.log(2 / (Math.PI * priors.tau.scale)) - Math.log1p(t * t);
  for (let k = 0; k < data.K; k++) lp += lnorm(theta[k], mu, tau);
  const family = familyOf(data.likelihood);
  // Population-level predictors: eta_i = theta[g_i] + x_i . beta, beta_p ~ Normal(loc, scale).
  const pr = data.predictors;
  const P = pr ? pr.names.length : 0;
  if (P > 0 && (beta === undefined || beta.length !== P)) throw new RangeError(`the data have ${P} predictors: give beta`);
  const bp = priors.beta ?? DEFAULT_BETA_PRIOR;
  for (let p = 0; p < P; p++) lp += lnorm(beta![p], bp.loc, bp.scale);
  for (let i = 0; i < data.y.length; i++) {
    let eta = theta[data.group[i]];
    for (let p = 0; p < P; p++) eta += pr!.X[i * P + p] * beta![p];
    lp += family.logLikObservation(data, i, eta, x);
  }
  // A family global's prior, on its natural scale (sigma = e^x), fully normalized.
  const g = familyGlobals(family)[0];
  if (g !== undefined) {
    if (x === undefined) throw new RangeError(`the ${family.id} likelihood has the global ${g.name}: give its value`);
    const p = priors.family?.[g.name] ?? g.prior.default;
    const v = Math.exp(x);
    lp += p.kind === 'exponential'
      ? -Math.log(p.scale) - v / p.scale
      : p.kind === 'halfnormal'
        ? Math.log(2) + lnorm(v, 0, p.scale)
        : Math.log(2 / (Math.PI * p.scale)) - Math.log1p((v / p.scale) ** 2);
  }
  return lp;
}

/**
 * The same model under another centeredness `c` (same data statistics and priors).
 */
export function withCenteredness(model: HierModel, c: Centeredness): HierModel {
  if (c.length !== model.stats.K) throw new RangeError(`centeredness has ${c.length} groups, the model ${model.stats.K}`);
  return { ...model, c };
}

/**
 * Moves chain-major positions (`chains` rows of D) from the coordinates of `from` to those of
 * `to` (same data and priors, other centeredness), in float64: mu and log tau are kept, and
 * each theta_k too, so
 *
 *   z'_k = c'_k mu + tau^{-(1 - c'_k)} (theta_k - mu),   theta_k = mu + tau^{1 - c_k} (z_k - c_k mu),
 *
 * i.e. z'_k = c'_k mu + tau^{c'_k - c_k} (z_k - c_k mu). The map is a bijection with
 * log |det dq/dq'| = sum_k (c_k - c'_k) log tau (see `reparameterizationLogJacobian`), so
 * it carries the target of `from` to the target of `to`: a chain's state in the new
 * coordinates describes the same (mu, tau, theta).
 */
export function reparameterizePositions(from: HierModel, to: HierModel, positions: ArrayLike<number>, chains: number): Float64Array {
  const D = from.dim;
  if (to.dim !== D) throw new RangeError(`models differ in dimension (${D} vs ${to.dim})`);
  if (positions.length !== chains * D) throw new RangeError(`expected ${chains * D} position values, got ${positions.length}`);
  const out = Float64Array.from(positions);
  const K = from.stats.K;
  const Z0 = from.layout.groupStart;
  for (let ch = 0; ch < chains; ch++) {
    const row = ch * D;
    const mu = out[row + MU];
    const s = out[row + LOG_TAU];
    for (let k = 0; k < K; k++) {
      const c0 = from.c[k];
      const c1 = to.c[k];
      if (c0 === c1) continue;
      out[row + Z0 + k] = c1 * mu + Math.exp((c1 - c0) * s) * (out[row + Z0 + k] - c0 * mu);
    }
  }
  return out;
}

/**
 * log |det dq/dq'| of `reparameterizePositions` from `from` to `to` at log tau = s:
 * dz_k/dz'_k = tau^{c_k - c'_k}, so sum_k (c_k - c'_k) s. Then
 * log p_to(q') = log p_from(q) + this (the change of variables).
 */
export function reparameterizationLogJacobian(from: HierModel, to: HierModel, s: number): number {
  let j = 0;
  for (let k = 0; k < from.stats.K; k++) j += (from.c[k] - to.c[k]) * s;
  return j;
}
