import { choleskyInPlace, choleskySolve } from './cholesky.ts';
import { familyGlobals, type FamilyGlobal, type GroupFields } from './family.ts';
import { fieldsOf, type GroupStats } from './suffstats.ts';
import { DEFAULT_BETA_PRIOR, logScalePriorNormalizer, logScalePriorUnconstrained, logTauPriorNormalizer, logTauPriorUnconstrained, type Priors, type ScalePrior } from './priors.ts';
import type { PredictorStats } from './predictors.ts';
import { findMode, QUANTILE_LEVELS, TAIL_LOG_DROP, type BetaSummary, type ExactPosterior, type PosteriorSummary } from './posterior_core.ts';
import { buildRule, difference, FD_STEP, localMax, SINH_SCALE_PER_SD, sQuantiles, tauGrid, xQuantiles, type Axis, type Column, type Moments, type Rule } from './posterior_rule.ts';
import { mixtureQuantiles } from './posterior_quantiles.ts';

/**
 * The exact posterior of a normal-family hierarchical model with population-level predictors
 * (`predictors.ts`, group path), by quadrature over s = log tau (sigma known: the `normal`
 * family) or over (s, x = log sigma) (the `normal_sigma` family), with mu, beta and theta
 * integrated out analytically.
 *
 * With the group precisions W_k (normal: sum_i 1/sigma_i^2; normal_sigma: n_k e^{-2x}), the
 * precision-weighted group means ybar_k and m_k of y and of the predictors, and the
 * within-group cross products Cxx, Cxy (`PredictorStats.within`), the log-likelihood is
 *
 *   sum_k -W_k (ybar_k - theta_k - m_k . beta)^2 / 2 + logConst(x) + c(x) (beta' Cxx beta - 2 beta . Cxy),
 *
 * c(x) the family's within coefficient (`Family.gaussian`; -1/2, or -e^{-2x}/2). Given tau
 * (and x), theta_k integrates out group by group,
 *
 *   ybar_k | mu, beta, tau ~ N(mu + m_k . beta, v_k),   v_k = tau^2 + 1/W_k,
 *
 * so u = (mu, beta) (P + 1 values) is Gaussian given (s, x): with a_k = (1, m_k), its precision
 * and linear term are
 *
 *   L = diag(1/s0^2, 1/S^2 ...) + sum_k a_k a_k' / v_k + (0 (+) -2c Cxx),
 *   b = (m0/s0^2, l/S^2 ...)    + sum_k a_k ybar_k / v_k + (0, -2c Cxy),
 *
 * (beta_p ~ N(l, S), `Priors.beta`), its mean u* = L^{-1} b and covariance L^{-1}, and the
 * marginal density of (s, x) (Jacobians included; the prior of x only with a family global)
 *
 *   log f(s, x) = logConst(x) - sum_k log(1 + tau^2 W_k)/2 - log(s0^2)/2 - P log(S^2)/2
 *                 - log det L / 2 - Q(u*)/2 + log p_tau(e^s) + s [+ log p_x(e^x) + x],
 *
 * Q(u) = (m0 - mu)^2/s0^2 + |beta - l|^2/S^2 + sum_k (ybar_k - a_k . u)^2/v_k - 2c (beta' Cxx
 * beta - 2 beta . Cxy), evaluated at u* term by term (no cancellation against b' L^{-1} b; the
 * sum_k 1/2 log(2 pi / W_k) the family's logConst leaves out cancels the 2 pi of the v_k).
 * Given (s, x, mu, beta), theta_k ~ N(w_k mu + (1 - w_k)(ybar_k - m_k . beta), w_k tau^2),
 * w_k = 1/(1 + tau^2 W_k): linear in u, so given (s, x) its mean is c_k . u* + (1 - w_k) ybar_k
 * and its variance w_k tau^2 + c_k' L^{-1} c_k, c_k = (w_k, -(1 - w_k) m_k). Groups without
 * data have W_k = 0: theta_k | s ~ N(mu*, tau^2 + Var(mu)).
 *
 * Every reported moment is a mixture of these conditional moments over the nodes of the rule
 * of `posterior_global.ts` (`posterior_rule.ts` buildRule: trapezoid rules on sinh-mapped
 * axes), or, sigma known, of its one column: a sinh-mapped trapezoid rule in s centred at the
 * mode of f. The spacings are halved until the rule and its sub-rules of twice the spacing
 * agree to CONVERGENCE_TOL (in posterior sds, and log p(y) absolutely). Quantiles: mu, beta
 * and theta invert their normal-mixture CDFs (`mixtureQuantiles`), s and x their marginals'
 * sinc interpolants (`sQuantiles`, `xQuantiles`). y is centred (at the precision-weighted mean
 * of the ybar_k) against cancellation; the predictors are used as given.
 */

/** The first rule's sub-rules have this spacing in v (the rule half of it). */
const INITIAL_SPACING = 0.225;
/** Accept the rule once no sub-rule changes a mean or sd by more than this (in sds), nor log p(y). */
const CONVERGENCE_TOL = 1e-9;
/** Most halvings of each spacing. */
const MAX_HALVINGS = 7;
/** Mixture quantiles drop the lightest nodes whose weights sum to at most this fraction (CDF error at most this). */
const QUANTILE_MASS_TOL = 1e-12;
/** Hard limit on rows of the one-column rule (tails decay at least exponentially, so never hit). */
const MAX_ROWS = 1 << 20;

/** The model, data and priors the quadrature integrates. */
interface Model {
  readonly stats: GroupStats;
  readonly priors: Priors;
  readonly fields: GroupFields;
  readonly K: number;
  readonly P: number;
  /** P + 1: the Gaussian block u = (mu, beta). */
  readonly D: number;
  /** Group means of the predictors, K x P. */
  readonly m: Float64Array;
  readonly within?: { readonly xx: Float64Array; readonly xy: Float64Array };
  /** y is centred here: mu' = mu - centre, ybar'_k = ybar_k - centre. */
  readonly centre: number;
  readonly m0: number;
  readonly s02: number;
  readonly bLoc: number;
  readonly bVar: number;
  readonly global?: FamilyGlobal;
  readonly prior?: ScalePrior;
  readonly priorNormalizer: number;
  /** Scratch of the Gaussian solve. */
  readonly lam: Float64Array;
  readonly rhs: Float64Array;
  readonly u: Float64Array;
  readonly inv: Float64Array;
}

/** What is fixed by x: group precisions and centred means, the terms free of s and u, and -2c(x). */
interface AtX {
  readonly x: number;
  readonly W: Float64Array;
  readonly y: Float64Array;
  readonly base: number;
  readonly within: number;
}

/** The Gaussian of u = (mu', beta) at one node: mean, covariance (D x D), and what theta_k needs. */
interface Node {
  readonly u: Float64Array;
  readonly S: Float64Array;
  tau2: number;
  at: AtX;
}

const newNode = (D: number): Node => ({ u: new Float64Array(D), S: new Float64Array(D * D), tau2: 0, at: undefined as unknown as AtX });

function atX(M: Model, x: number | undefined): AtX {
  const family = M.stats.family;
  const f = x === undefined ? M.fields : family.conditionalNormal!(M.fields, x);
  const K = M.K;
  const W = new Float64Array(K);
  const y = new Float64Array(K);
  for (let k = 0; k < K; k++) {
    if (!(f.n[k] > 0 && f.b[k] > 0)) continue;
    W[k] = f.b[k];
    y[k] = f.a[k] - M.centre;
  }
  const g = new Float64Array(2);
  const coef = family.gaussian!.withinCoefficient(x, g);
  let base = f.logConst + logTauPriorNormalizer(M.priors.tau) - 0.5 * Math.log(M.s02) - 0.5 * M.P * Math.log(M.bVar);
  if (M.prior && x !== undefined) base += M.priorNormalizer + logScalePriorUnconstrained(M.prior, x).value;
  return { x: x ?? 0, W, y, base, within: M.within ? -2 * coef : 0 };
}

/**
 * log f(s, x) (see the module comment) at tau = e^s with the fields of `at`; with `node`, also
 * the conditional mean and covariance of (mu', beta) there.
 */
function logF(M: Model, at: AtX, s: number, node?: Node): number {
  const { K, P, D, m, lam, rhs, u } = M;
  const tau2 = Math.exp(2 * s);
  lam.fill(0);
  rhs.fill(0);
  lam[0] = 1 / M.s02;
  rhs[0] = (M.m0 - M.centre) / M.s02;
  for (let p = 1; p < D; p++) {
    lam[p * D + p] = 1 / M.bVar;
    rhs[p] = M.bLoc / M.bVar;
  }
  let logDetV = 0;
  for (let k = 0; k < K; k++) {
    const W = at.W[k];
    if (!(W > 0)) continue;
    const tw = tau2 * W;
    const iv = W / (1 + tw);
    logDetV += Math.log1p(tw);
    const iy = iv * at.y[k];
    lam[0] += iv;
    rhs[0] += iy;
    const row = k * P;
    for (let p = 0; p < P; p++) {
      const mp = m[row + p];
      const ivm = iv * mp;
      const r = (p + 1) * D;
      lam[r] += ivm;
      rhs[p + 1] += iy * mp;
      for (let q = 0; q <= p; q++) lam[r + q + 1] += ivm * m[row + q];
    }
  }
  if (M.within && at.within !== 0) {
    const { xx, xy } = M.within;
    for (let p = 0; p < P; p++) {
      rhs[p + 1] += at.within * xy[p];
      for (let q = 0; q <= p; q++) lam[(p + 1) * D + q + 1] += at.within * xx[p * P + q];
    }
  }
  // Cholesky in place (lower triangle): lam = L L'; u = L'^{-1} L^{-1} rhs.
  const logDetL = choleskyInPlace(lam, D);
  if (logDetL === -Infinity) return -Infinity;
  choleskySolve(lam, D, rhs, u);
  // Q(u*), term by term.
  const mu = u[0];
  let Q = (M.m0 - M.centre - mu) ** 2 / M.s02;
  for (let p = 1; p < D; p++) Q += (u[p] - M.bLoc) ** 2 / M.bVar;
  for (let k = 0; k < K; k++) {
    const W = at.W[k];
    if (!(W > 0)) continue;
    let r = at.y[k] - mu;
    for (let p = 0; p < P; p++) r -= m[k * P + p] * u[p + 1];
    Q += (r * r * W) / (1 + tau2 * W);
  }
  if (M.within && at.within !== 0) {
    const { xx, xy } = M.within;
    let v = 0;
    for (let p = 0; p < P; p++) {
      let row = 0;
      for (let q = 0; q < P; q++) row += xx[p * P + q] * u[q + 1];
      v += u[p + 1] * (row - 2 * xy[p]);
    }
    Q += at.within * v;
  }
  if (node) {
    node.u.set(u);
    node.tau2 = tau2;
    node.at = at;
    // S = L'^{-1} L^{-1}: invert L (lower) into inv, then S_ij = sum_{k >= max(i, j)} inv_ki inv_kj.
    const inv = M.inv;
    inv.fill(0);
    for (let j = 0; j < D; j++) {
      inv[j * D + j] = 1 / lam[j * D + j];
      for (let i = j + 1; i < D; i++) {
        let v = 0;
        for (let k = j; k < i; k++) v -= lam[i * D + k] * inv[k * D + j];
        inv[i * D + j] = v / lam[i * D + i];
      }
    }
    const S = node.S;
    for (let i = 0; i < D; i++) {
      for (let j = 0; j <= i; j++) {
        let v = 0;
        for (let k = i; k < D; k++) v += inv[k * D + i] * inv[k * D + j];
        S[i * D + j] = v;
        S[j * D + i] = v;
      }
    }
  }
  return at.base - 0.5 * logDetV - logDetL - 0.5 * Q + logTauPriorUnconstrained(M.priors.tau, s).value;
}

/** Mean (centred) and variance of theta_k given the node's (s, x) into out[0], out[1]. */
function thetaAt(M: Model, node: Node, k: number, out: Float64Array): void {
  const { P, D, m } = M;
  const { u, S, tau2 } = node;
  const W = node.at.W[k];
  if (!(W > 0)) {
    out[0] = u[0];
    out[1] = tau2 + S[0];
    return;
  }
  const d = 1 + tau2 * W;
  const w = 1 / d;
  const ow = (tau2 * W) / d;
  const row = k * P;
  let r = node.at.y[k];
  let cross = 0;
  let quad = 0;
  for (let p = 0; p < P; p++) {
    const mp = m[row + p];
    r -= mp * u[p + 1];
    cross += mp * S[p + 1];
    let t = 0;
    for (let q = 0; q < P; q++) t += S[(p + 1) * D + q + 1] * m[row + q];
    quad += mp * t;
  }
  out[0] = w * u[0] + ow * r;
  out[1] = w * tau2 + w * w * S[0] - 2 * w * ow * cross + ow * ow * quad;
}

/** Slots of the moments vector (mean, sd pairs): mu, tau, log tau, x, g(x), beta_p at BETA + 2p, theta_k after them. */
const MU = 0;
const TAU = 2;
const LOG_TAU = 4;
const X = 6;
const GX = 8;
const BETA = 10;
const thetaSlot = (M: Model, k: number) => BETA + 2 * M.P + 2 * k;

/** Every quantity's conditional mean and variance at a node, by slot (centred mu and theta). */
function nodeValues(M: Model, node: Node, s: number, of: (x: number) => number, vals: Float64Array, t: Float64Array): void {
  vals.fill(0);
  const { u, S, at } = node;
  const D = M.D;
  vals[MU] = u[0];
  vals[MU + 1] = S[0];
  vals[TAU] = Math.exp(s);
  vals[LOG_TAU] = s;
  vals[X] = at.x;
  vals[GX] = of(at.x);
  for (let p = 0; p < M.P; p++) {
    vals[BETA + 2 * p] = u[p + 1];
    vals[BETA + 2 * p + 1] = S[(p + 1) * D + p + 1];
  }
  for (let k = 0; k < M.K; k++) {
    thetaAt(M, node, k, t);
    vals[thetaSlot(M, k)] = t[0];
    vals[thetaSlot(M, k) + 1] = t[1];
  }
}

/** A sub-rule: every 2^ls-th row of every 2^lx-th column. */
interface Level {
  readonly ls: number;
  readonly lx: number;
}

/**
 * Means and sds of every slot and log p(y) by each sub-rule of `levels`, in one pass over the
 * rule's nodes (each node's Gaussian solved once), accumulated about the values at the mode
 * node against cancellation.
 */
function ruleMoments(M: Model, rule: Rule, atOf: (col: Column) => AtX, levels: readonly Level[], of: (x: number) => number): Moments[] {
  const nSlots = thetaSlot(M, M.K);
  const node = newNode(M.D);
  const vals = new Float64Array(nSlots);
  const t = new Float64Array(2);
  // Shift: the values at the mode node (column 0, row 0).
  const shift = new Float64Array(nSlots);
  {
    const col = rule.cols.find((c) => c.j === 0)!;
    const r = Math.min(Math.max(-col.lo, 0), col.lw.length - 1);
    logF(M, atOf(col), col.s[r], node);
    nodeValues(M, node, col.s[r], of, shift, t);
  }
  const acc = levels.map(() => ({ s1: new Float64Array(nSlots), s2: new Float64Array(nSlots), total: 0 }));
  for (const col of rule.cols) {
    const on = levels.map((l) => col.j % (1 << l.lx) === 0);
    if (!on.some(Boolean)) continue;
    const at = atOf(col);
    for (let r = 0; r < col.lw.length; r++) {
      const row = col.lo + r;
      const which = levels.map((l, i) => on[i] && row % (1 << l.ls) === 0);
      if (!which.some(Boolean)) continue;
      const w = Math.exp(col.lw[r] - rule.top);
      if (w === 0) continue;
      logF(M, at, col.s[r], node);
      nodeValues(M, node, col.s[r], of, vals, t);
      for (let i = 0; i < levels.length; i++) {
        if (!which[i]) continue;
        const a = acc[i];
        a.total += w;
        for (let slot = 0; slot < nSlots; slot += 2) {
          const d = vals[slot] - shift[slot];
          a.s1[slot] += w * d;
          a.s2[slot] += w * (vals[slot + 1] + d * d);
        }
      }
    }
  }
  return levels.map((l, i) => {
    const a = acc[i];
    const moments = new Float64Array(nSlots);
    for (let slot = 0; slot < nSlots; slot += 2) {
      const mean = a.s1[slot] / a.total;
      moments[slot] = shift[slot] + mean;
      moments[slot + 1] = Math.sqrt(Math.max(0, a.s2[slot] / a.total - mean * mean));
    }
    const logZ = rule.top + Math.log(a.total * (1 << l.ls) * rule.hs * (1 << l.lx) * rule.xAxis.h);
    return { logZ, moments };
  });
}

/**
 * Quantiles of mu, beta_p and theta_k: mixtures of normals over the nodes of the sub-rule
 * `level`, the lightest nodes carrying at most QUANTILE_MASS_TOL of the weight dropped.
 * mu and theta centred.
 */
function mixtureSummaries(M: Model, rule: Rule, atOf: (col: Column) => AtX, level: Level): { mu: number[]; beta: number[][]; theta: number[][] } {
  const all: { col: Column; r: number; w: number }[] = [];
  let total = 0;
  for (const col of rule.cols) {
    if (col.j % (1 << level.lx) !== 0) continue;
    for (let r = 0; r < col.lw.length; r++) {
      if ((col.lo + r) % (1 << level.ls) !== 0) continue;
      const w = Math.exp(col.lw[r] - rule.top);
      all.push({ col, r, w });
      total += w;
    }
  }
  all.sort((a, b) => b.w - a.w);
  let n = all.length;
  for (let tail = 0; n > 1 && tail + all[n - 1].w <= QUANTILE_MASS_TOL * total; ) tail += all[--n].w;
  const nodes: Node[] = [];
  const ats = new Map<Column, AtX>();
  for (let i = 0; i < n; i++) {
    const { col, r } = all[i];
    let at = ats.get(col);
    if (!at) ats.set(col, (at = atOf(col)));
    const node = newNode(M.D);
    logF(M, at, col.s[r], node);
    nodes.push(node);
  }
  const w = Float64Array.from({ length: n }, (_, i) => all[i].w);
  const mean = new Float64Array(n);
  const sd = new Float64Array(n);
  const D = M.D;
  const of = (j: number) => {
    for (let i = 0; i < n; i++) {
      mean[i] = nodes[i].u[j];
      sd[i] = Math.sqrt(nodes[i].S[j * D + j]);
    }
    return mixtureQuantiles(w, mean, sd, QUANTILE_LEVELS);
  };
  const mu = of(0);
  const beta = Array.from({ length: M.P }, (_, p) => of(p + 1));
  const t = new Float64Array(2);
  const theta: number[][] = [];
  for (let k = 0; k < M.K; k++) {
    for (let i = 0; i < n; i++) {
      thetaAt(M, nodes[i], k, t);
      mean[i] = t[0];
      sd[i] = Math.sqrt(t[1]);
    }
    theta.push(mixtureQuantiles(w, mean, sd, QUANTILE_LEVELS));
  }
  return { mu, beta, theta };
}

/** sd of a log density at t from its curvature (central differences); 1 where it is not concave. */
function curvatureSd(f: (t: number) => number, t: number): number {
  const d2 = (f(t + FD_STEP) - 2 * f(t) + f(t - FD_STEP)) / (FD_STEP * FD_STEP);
  return d2 < 0 && Number.isFinite(d2) ? 1 / Math.sqrt(-d2) : 1;
}

const finite = (v: number) => (Number.isNaN(v) ? -Infinity : v);

/**
 * The one-column rule of the known-sigma case: nodes s_i = c + a sinh(i h) (c the mode of f, a
 * from its curvature), log weight log f(s_i) + log(a cosh(i h)), extended both ways until the
 * log weight is TAIL_LOG_DROP below its maximum, and upwards also until tau^mTau times it is
 * (as `buildRule`'s columns). A `Rule` of one column at x = 0 with unit x spacing, so that
 * `sQuantiles` and `tauGrid` read it as they read a 2-D rule.
 */
function oneColumnRule(lf: (s: number) => number, sAxis: Axis, mTau: number, stats: GroupStats): Rule {
  const at = (i: number) => sAxis.centre + sAxis.a * Math.sinh(i * sAxis.h);
  const cache = new Map<number, number>();
  let top = -Infinity;
  let topTau = -Infinity;
  const ev = (i: number) => {
    let v = cache.get(i);
    if (v === undefined) {
      const s = at(i);
      v = finite(lf(s)) + Math.log(sAxis.a * Math.cosh(i * sAxis.h));
      cache.set(i, v);
      top = Math.max(top, v);
      topTau = Math.max(topTau, v + mTau * s);
    }
    return v;
  };
  ev(0);
  let hi = 0;
  while (!(ev(hi) < top - TAIL_LOG_DROP && ev(hi) + mTau * at(hi) < topTau - TAIL_LOG_DROP) && hi < MAX_ROWS) hi++;
  let lo = 0;
  while (!(ev(lo) < top - TAIL_LOG_DROP) && lo > -MAX_ROWS) lo--;
  const n = hi - lo + 1;
  const lw = new Float64Array(n);
  const s = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    lw[r] = cache.get(lo + r)!;
    s[r] = at(lo + r);
  }
  const col: Column = { j: 0, x: 0, sAxis, lo, lw, s, M: new Float64Array(n), V: new Float64Array(n), tau2: s.map((v) => Math.exp(2 * v)), P: stats.precision, ybar: stats.ybar };
  return { xAxis: { centre: 0, a: 1, h: 1 }, hs: sAxis.h, top, cols: [col] };
}

/**
 * The exact marginal posteriors of mu, tau, log tau, every theta_k, every beta_p and (sigma
 * unknown) the family's global, for a normal family (`Family.gaussian` and
 * `conditionalNormal`, at most one global) with predictors on the group path (`pr`); see the
 * module comment. Moments that are infinite are reported as Infinity, as in `posterior.ts` and
 * `posterior_global.ts` (the predictors, with their proper prior, change no tail).
 */
export function exactPosteriorPredictors(stats: GroupStats, pr: PredictorStats, priors: Priors): ExactPosterior {
  const family = stats.family;
  const globals = familyGlobals(family);
  if (pr.path !== 'group' || !family.gaussian || !family.conditionalNormal || globals.length > 1) {
    throw new RangeError(`no exact posterior for the ${family.id} likelihood with predictors`);
  }
  const K = stats.K;
  const P = pr.P;
  const D = P + 1;
  const global = globals[0];
  const prior = global ? (priors.family?.[global.name] ?? global.prior.default) : undefined;
  const bp = priors.beta ?? DEFAULT_BETA_PRIOR;
  // Centre y at the precision-weighted mean of the group means.
  let sp = 0;
  let spy = 0;
  for (let k = 0; k < K; k++) {
    if (!(stats.n[k] > 0 && stats.precision[k] > 0)) continue;
    sp += stats.precision[k];
    spy += stats.precision[k] * stats.ybar[k];
  }
  const M: Model = {
    stats,
    priors,
    fields: fieldsOf(stats),
    K,
    P,
    D,
    m: pr.m,
    ...(pr.within && { within: pr.within }),
    centre: sp > 0 ? spy / sp : priors.mu.loc,
    m0: priors.mu.loc,
    s02: priors.mu.scale * priors.mu.scale,
    bLoc: bp.loc,
    bVar: bp.scale * bp.scale,
    ...(global && { global, prior }),
    priorNormalizer: prior ? logScalePriorNormalizer(prior) : 0,
    lam: new Float64Array(D * D),
    rhs: new Float64Array(D),
    u: new Float64Array(D),
    inv: new Float64Array(D * D),
  };

  let withData = 0;
  let N = 0;
  for (let k = 0; k < K; k++) {
    if (stats.n[k] > 0) withData++;
    N += stats.n[k];
  }
  const tauBound = priors.tau.kind === 'halfnormal' ? Infinity : withData + 1;
  const xBound = global && prior?.kind === 'halfcauchy' && global.logScaleOfY ? N + 1 : Infinity;
  const power = (bound: number) => (bound > 2 ? 2 : bound > 1 ? 1 : 0);
  const of = global ? global.constrained.of : (x: number) => x;
  const markInfinite = (moments: Float64Array) => {
    const infinite = (slot: number, sdOnly: boolean) => {
      moments[slot + 1] = Infinity;
      if (!sdOnly) moments[slot] = Infinity;
    };
    if (tauBound <= 2) {
      infinite(TAU, tauBound > 1);
      for (let k = 0; k < K; k++) if (!(stats.n[k] > 0)) infinite(thetaSlot(M, k), true);
    }
    if (xBound <= 2) infinite(GX, xBound > 1);
  };

  let rule: Rule;
  let fine: Moments;
  let err = Infinity;
  let atOf: (col: Column) => AtX;
  let quantileLevel: Level;
  if (!global) {
    const at = atX(M, undefined);
    atOf = () => at;
    const lf = (s: number) => logF(M, at, s);
    const mode = localMax(lf, findMode(lf, stats, priors), 0.25);
    const a = SINH_SCALE_PER_SD * Math.min(curvatureSd(lf, mode), 1);
    let hs = INITIAL_SPACING / 2;
    for (let halved = 0; ; halved++) {
      rule = oneColumnRule(lf, { centre: mode, a, h: hs }, power(tauBound), stats);
      const [f, coarse] = ruleMoments(M, rule, atOf, [{ ls: 0, lx: 0 }, { ls: 1, lx: 0 }], of);
      for (const m of [f, coarse]) markInfinite(m.moments);
      fine = f;
      err = difference(f, coarse);
      if (err <= CONVERGENCE_TOL || halved >= MAX_HALVINGS) break;
      hs /= 2;
    }
    quantileLevel = { ls: 0, lx: 0 };
  } else {
    const ats = new Map<number, AtX>();
    const atCached = (x: number) => {
      let at = ats.get(x);
      if (!at) ats.set(x, (at = atX(M, x)));
      return at;
    };
    atOf = (col) => atCached(col.x);
    const sliceAt = (x: number) => {
      const at = atX(M, x);
      ats.set(x, at);
      return { stats, lf: (s: number) => logF(M, at, s) };
    };
    // The joint mode of f(s, x) (profile over x of the maximum in s) and the marginal curvature sd of x there.
    const x0 = global.start(M.fields).centre;
    const lf2 = (s: number, x: number) => logF(M, atX(M, x), s);
    let sHat = findMode((s) => lf2(s, x0), stats, priors);
    const profile = (x: number) => {
      const at = atX(M, x);
      sHat = localMax((s) => logF(M, at, s), sHat, 0.25);
      return logF(M, at, sHat);
    };
    const xMode = localMax(profile, x0, 0.1);
    const sMode = localMax((s) => lf2(s, xMode), sHat, 0.25);
    const e = FD_STEP;
    const f0 = lf2(sMode, xMode);
    const hss = (lf2(sMode + e, xMode) - 2 * f0 + lf2(sMode - e, xMode)) / (e * e);
    const hxx = (lf2(sMode, xMode + e) - 2 * f0 + lf2(sMode, xMode - e)) / (e * e);
    const hsx = (lf2(sMode + e, xMode + e) - lf2(sMode - e, xMode + e) - lf2(sMode + e, xMode - e) + lf2(sMode - e, xMode - e)) / (4 * e * e);
    const det = hss * hxx - hsx * hsx;
    const sdX = hss < 0 && hxx < 0 && det > 0 ? Math.sqrt(-hss / det) : 1;
    const aX = SINH_SCALE_PER_SD * Math.min(sdX, 1);
    let hs = INITIAL_SPACING / 2;
    let hx = INITIAL_SPACING / 2;
    for (let halvedS = 0, halvedX = 0; ; ) {
      ats.clear();
      rule = buildRule(sliceAt, global.name, { centre: xMode, a: aX, h: hx }, hs, sMode, power(tauBound), power(xBound));
      const [f, coarseS, coarseX] = ruleMoments(M, rule, atOf, [{ ls: 0, lx: 0 }, { ls: 1, lx: 0 }, { ls: 0, lx: 1 }], of);
      for (const m of [f, coarseS, coarseX]) markInfinite(m.moments);
      fine = f;
      const [errS, errX] = [difference(f, coarseS), difference(f, coarseX)];
      err = Math.max(errS, errX);
      const [moreS, moreX] = [errS > CONVERGENCE_TOL && halvedS < MAX_HALVINGS, errX > CONVERGENCE_TOL && halvedX < MAX_HALVINGS];
      if (!moreS && !moreX) break;
      if (moreS) [hs, halvedS] = [hs / 2, halvedS + 1];
      if (moreX) [hx, halvedX] = [hx / 2, halvedX + 1];
    }
    quantileLevel = { ls: 1, lx: 1 };
  }

  const { moments } = fine;
  const c = M.centre;
  const sq = sQuantiles(rule, fine.logZ, moments[LOG_TAU], moments[LOG_TAU + 1]);
  const mix = mixtureSummaries(M, rule, atOf, quantileLevel);
  const summary = (slot: number, q: readonly number[], shift = 0): PosteriorSummary => ({
    mean: moments[slot] + shift,
    sd: moments[slot + 1],
    q05: q[0] + shift,
    q50: q[1] + shift,
    q95: q[2] + shift,
  });
  const beta: BetaSummary[] = pr.names.map((name, p) => ({ name, ...summary(BETA + 2 * p, mix.beta[p]) }));
  let globalsOut: Record<string, PosteriorSummary> | undefined;
  if (global) {
    const xq = xQuantiles(rule, fine.logZ);
    globalsOut = { [global.name]: summary(X, xq), [global.constrained.name]: summary(GX, xq.map(of)) };
  }
  return {
    mu: summary(MU, mix.mu, c),
    tau: summary(TAU, sq.map(Math.exp)),
    logTau: summary(LOG_TAU, sq),
    theta: Array.from({ length: K }, (_, k) => summary(thetaSlot(M, k), mix.theta[k], c)),
    beta,
    labels: stats.labels,
    ...(globalsOut && { globals: globalsOut }),
    grid: tauGrid(rule, fine.logZ),
    logMarginalLikelihood: fine.logZ,
    quadratureError: err,
  };
}
