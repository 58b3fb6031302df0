import { familyGlobals, type FamilyGlobal, type GroupFields } from './family.ts';
import { familyOf } from './families/index.ts';
import { fieldsOf, type GroupStats } from './suffstats.ts';
import { logScalePriorNormalizer, logScalePriorUnconstrained, logTauPriorNormalizer, logTauPriorUnconstrained, type Priors, type ScalePrior } from './priors.ts';
import { findMode, type ExactPosterior, type PosteriorSummary } from './posterior_core.ts';
import { buildRule, difference, FD_STEP, GX, LOG_TAU, localMax, mixtureSummaries, modeShift, MU, ruleMoments, SINH_SCALE_PER_SD, sQuantiles, tauGrid, TAU, THETA, X, xQuantiles, type Moments, type Rule, type Slice } from './posterior_rule.ts';

/**
 * The exact posterior of a hierarchical model whose likelihood is normal in theta given one
 * global parameter x of its family (`Family.conditionalNormal`; the normal likelihood with
 * unknown sd, x = log sigma), by quadrature over (s = log tau, x).
 *
 * Given x the model is the known-sd normal model of `posterior.ts` with the fields
 * conditionalNormal(fields, x) (a_k = ybar_k, b_k = P_k(x) = n_k e^{-2x}, logConst(x)), so mu
 * and theta integrate out in closed form (Gelman et al., Bayesian Data Analysis, 3rd ed.,
 * §5.4) and the joint marginal density of (s, x) is
 *
 *   f(s, x) = f_x(s) p_g(e^x) e^x,
 *
 * f_x(s) = p(y | tau, x) p_tau(tau) tau the known-sd marginal of s (`logMarginalTau` with the
 * conditional fields; `marginalOfS`), p_g the prior of the global's constrained value e^x (a
 * ScalePrior, normalized: `logScalePriorNormalizer`) and e^x its Jacobian
 * (`logScalePriorUnconstrained`). Given (s, x), mu | s, x, y ~ N(M, V) and theta_k | s, x, y ~
 * N(w_k M + (1 - w_k) ybar_k, w_k tau^2 + w_k^2 V), w_k = 1/(1 + tau^2 P_k(x)), so every
 * reported moment is a mixture over the quadrature nodes of these conditional moments, and the
 * log marginal likelihood is log of the integral of f.
 *
 * Quadrature: a product rule. The outer one is the trapezoid rule in v over x = x* + a_x
 * sinh(v) (x* the mode of f); each of its columns (one x) integrates s by the trapezoid rule
 * in its own v over s = c_x + a_s(x) sinh(v), c_x the mode of f(., x) and a_s(x) from its
 * curvature, so that a posterior ridge between s and x (few observations per group: tau and
 * sigma trade off) is followed column by column. Near a centre the nodes are about a h apart;
 * in the tails the spacing grows exponentially, so that tails decaying only like e^{-|s|}
 * (the funnel's e^s as tau -> 0, a HalfCauchy's power law in tau) take O(log) nodes. Rows
 * and columns end where the log weight is TAIL_LOG_DROP below the maximum. The integrands
 * are analytic in a strip and decay at least exponentially, and the sinh change of variables
 * keeps them so (Trefethen & Weideman 2014, "The exponentially convergent trapezoidal rule",
 * SIAM Review 56(3), §§5, 14), so the error falls geometrically with the spacings h_s (of
 * every column's rows) and h_x (of the columns). Both start at INITIAL_SPACING / 2; each is
 * halved until the rule and its sub-rule of twice that spacing (every other row; every other
 * column) agree to CONVERGENCE_TOL, the finer rule's error being then about the square of
 * that difference. `quadratureError` is the larger difference.
 *
 * Quantiles: mu and theta_k invert their normal-mixture CDFs over the nodes of the sub-rule
 * with both spacings doubled (`mixtureQuantiles`), accurate to about the tolerance; s and x invert the CDFs of
 * their marginals, each column's (or the columns' sums') samples integrated through their
 * sinc interpolants (`SincDensity`).
 */

/** The first rule's sub-rules have this spacing in v (the rule half of it), in s and in x. */
const INITIAL_SPACING = 0.225;
/** Accept the rule once neither sub-rule changes a mean or sd by more than this (in sds), nor log p(y). */
const CONVERGENCE_TOL = 1e-8;
/** Most halvings of each spacing. */
const MAX_HALVINGS = 6;

/** The normal family: conditionalNormal's fields through its approximation are the exact group likelihoods. */
const NORMAL = familyOf('normal');

/** The model, data and priors the quadrature integrates. */
interface Joint {
  readonly stats: GroupStats;
  readonly priors: Priors;
  readonly fields: GroupFields;
  readonly global: FamilyGlobal;
  readonly prior: ScalePrior;
  readonly priorNormalizer: number;
}

/**
 * The known-sd statistics of the data given x: the normal family's GroupStats (precision,
 * ybar, logConst in the form `logMarginalTau` reads, `suffstats.ts`) of the fields
 * `conditionalNormal(fields, x)`.
 */
function conditionalStats(stats: GroupStats, fields: GroupFields, x: number): GroupStats {
  const f = stats.family.conditionalNormal!(fields, x);
  const K = stats.K;
  const precision = new Float64Array(K);
  const ybar = new Float64Array(K);
  const se = new Float64Array(K).fill(Infinity);
  for (let k = 0; k < K; k++) {
    if (!(f.n[k] > 0)) continue;
    const a = NORMAL.approx(f, k);
    ybar[k] = a.estimate;
    se[k] = a.se;
    precision[k] = a.precision ?? 1 / (a.se * a.se);
  }
  return { K, family: NORMAL, n: f.n, a: f.a, b: f.b, precision, ybar, se, logConst: f.logConst, labels: stats.labels };
}

/** The column of one x: its conditional statistics and log f(s, x), the prior of the global and its Jacobian included. */
function slice(J: Joint, x: number): Slice {
  const cs = conditionalStats(J.stats, J.fields, x);
  const px = J.priorNormalizer + logScalePriorUnconstrained(J.prior, x).value;
  const lf = marginalOfS(cs, J.priors);
  return { stats: cs, lf: (s, out) => lf(s, out) + px };
}

/**
 * `logMarginalTau(stats, priors, s, out)` with the per-group constants hoisted out of s, for
 * the many nodes per x: with u_k = tau^2 P_k and 1/v_k = P_k / (1 + u_k), each group's
 * log-determinant terms log(1/v_k) - log 2 pi + log 2 pi - log P_k are -log(1 + u_k), and
 * Q = (m0 - M)^2/s0^2 + sum_k (ybar_k - M)^2 / v_k is accumulated in one pass as
 * (m0' - M')^2/s0^2 + C - 2 M' B + M'^2 A (A, B, C the sums of 1/v_k times 1, y'_k, y'_k^2)
 * about the data's precision-weighted mean c (y' = ybar - c, M' = M - c, m0' = m0 - c)
 * against cancellation. Agrees with `logMarginalTau` to rounding.
 */
export function marginalOfS(stats: GroupStats, priors: Priors): (s: number, out?: { M: number; V: number }) => number {
  let n = 0;
  let sp = 0;
  let spy = 0;
  for (let k = 0; k < stats.K; k++) {
    const p = stats.precision[k];
    if (!(p > 0)) continue;
    n++;
    sp += p;
    spy += p * stats.ybar[k];
  }
  const c = n > 0 ? spy / sp : priors.mu.loc;
  const P = new Float64Array(n);
  const y = new Float64Array(n);
  for (let k = 0, i = 0; k < stats.K; k++) {
    if (!(stats.precision[k] > 0)) continue;
    P[i] = stats.precision[k];
    y[i++] = stats.ybar[k] - c;
  }
  const s02 = priors.mu.scale * priors.mu.scale;
  const m0 = priors.mu.loc - c;
  const base = -0.5 * Math.log(s02) + stats.logConst + logTauPriorNormalizer(priors.tau);
  return (s, out) => {
    const tau2 = Math.exp(2 * s);
    let A = 0;
    let B = 0;
    let C = 0;
    let L = 0;
    for (let i = 0; i < n; i++) {
      const d = 1 + tau2 * P[i];
      const inv = P[i] / d;
      const yi = y[i];
      A += inv;
      B += inv * yi;
      C += inv * yi * yi;
      L += Math.log(d);
    }
    const V = 1 / (1 / s02 + A);
    const Mc = (m0 / s02 + B) * V;
    const Q = ((m0 - Mc) * (m0 - Mc)) / s02 + C - 2 * Mc * B + Mc * Mc * A;
    if (out) {
      out.M = c + Mc;
      out.V = V;
    }
    return base - 0.5 * L + 0.5 * Math.log(V) - 0.5 * Q + logTauPriorUnconstrained(priors.tau, s).value;
  };
}

/**
 * The mode of f(s, x): the maximum over x of the profile max_s log f(s, x), each inner maximum
 * from the previous one (the first by `findMode`'s wide scan at the global's start); and the
 * marginal curvature sd of x there (sqrt of -H^{-1}'s x entry, H the Hessian of log f).
 */
function jointMode(J: Joint): { s: number; x: number; sdX: number } {
  const x0 = J.global.start(J.fields).centre;
  const first = slice(J, x0);
  let sHat = findMode(first.lf, first.stats, J.priors);
  const profile = (x: number) => {
    const sl = slice(J, x);
    sHat = localMax(sl.lf, sHat, 0.25);
    return sl.lf(sHat);
  };
  const x = localMax(profile, x0, 0.1);
  const s = localMax(slice(J, x).lf, sHat, 0.25);
  const e = FD_STEP;
  const [m, c, p] = [slice(J, x - e), slice(J, x), slice(J, x + e)];
  const f0 = c.lf(s);
  const hss = (c.lf(s + e) - 2 * f0 + c.lf(s - e)) / (e * e);
  const hxx = (p.lf(s) - 2 * f0 + m.lf(s)) / (e * e);
  const hsx = (p.lf(s + e) - p.lf(s - e) - m.lf(s + e) + m.lf(s - e)) / (4 * e * e);
  const det = hss * hxx - hsx * hsx;
  return { s, x, sdX: hss < 0 && hxx < 0 && det > 0 ? Math.sqrt(-hss / det) : 1 };
}

/**
 * The exact marginal posteriors of mu, tau, log tau, every theta_k and the family's global
 * (x and its constrained value), for a family with `conditionalNormal` and one global (see
 * the module comment). Moments that are infinite are reported as Infinity: under a
 * HalfCauchy tau prior, tau's sd with fewer than two groups with data (and then empty groups'
 * theta sd) and its mean with none (as `posterior.ts`); for a global that is the log of a
 * scale of y (`logScaleOfY`) under a HalfCauchy prior on e^x, f ~ e^{-(N+1) x} as x -> infinity
 * (each of the N observations contributes e^{-x}), so E[e^{m x}] is finite iff m < N + 1.
 */
export function exactPosteriorGlobal(stats: GroupStats, priors: Priors): ExactPosterior {
  const global = familyGlobals(stats.family)[0];
  const prior = priors.family?.[global.name] ?? global.prior.default;
  const J: Joint = { stats, priors, fields: fieldsOf(stats), global, prior, priorNormalizer: logScalePriorNormalizer(prior) };
  const K = stats.K;
  const of = global.constrained.of;
  let withData = 0;
  let N = 0;
  for (let k = 0; k < K; k++) {
    if (stats.n[k] > 0) withData++;
    N += stats.n[k];
  }
  const tauBound = priors.tau.kind === 'halfnormal' ? Infinity : withData + 1;
  const xBound = prior.kind === 'halfcauchy' && global.logScaleOfY ? N + 1 : Infinity;
  const power = (bound: number) => (bound > 2 ? 2 : bound > 1 ? 1 : 0);

  /** Sets the moments that are infinite by the tails (see above) to Infinity. */
  const markInfinite = (moments: Float64Array) => {
    const infinite = (slot: number, sdOnly: boolean) => {
      moments[slot + 1] = Infinity;
      if (!sdOnly) moments[slot] = Infinity;
    };
    if (tauBound <= 2) {
      infinite(TAU, tauBound > 1);
      for (let k = 0; k < K; k++) if (!(stats.n[k] > 0)) infinite(THETA + 2 * k, true);
    }
    if (xBound <= 2) infinite(GX, xBound > 1);
  };

  const mode = jointMode(J);
  const aX = SINH_SCALE_PER_SD * Math.min(mode.sdX, 1);
  // The spacings in s and in x are halved separately, each until its own sub-rule agrees.
  let hs = INITIAL_SPACING / 2;
  let hx = INITIAL_SPACING / 2;
  let rule: Rule;
  let fine: Moments;
  let err = Infinity;
  for (let halvedS = 0, halvedX = 0; ; ) {
    rule = buildRule((x) => slice(J, x), global.name, { centre: mode.x, a: aX, h: hx }, hs, mode.s, power(tauBound), power(xBound));
    const shift = modeShift(rule, K, of);
    const [coarseS, coarseX] = [ruleMoments(rule, { ls: 1, lx: 0 }, shift, K, of), ruleMoments(rule, { ls: 0, lx: 1 }, shift, K, of)];
    fine = ruleMoments(rule, { ls: 0, lx: 0 }, shift, K, of);
    for (const m of [fine, coarseS, coarseX]) markInfinite(m.moments);
    const [errS, errX] = [difference(fine, coarseS), difference(fine, coarseX)];
    err = Math.max(errS, errX);
    const [moreS, moreX] = [errS > CONVERGENCE_TOL && halvedS < MAX_HALVINGS, errX > CONVERGENCE_TOL && halvedX < MAX_HALVINGS];
    if (!moreS && !moreX) break;
    if (moreS) [hs, halvedS] = [hs / 2, halvedS + 1];
    if (moreX) [hx, halvedX] = [hx / 2, halvedX + 1];
  }

  const { moments } = fine;
  const sq = sQuantiles(rule, fine.logZ, moments[LOG_TAU], moments[LOG_TAU + 1]);
  const xq = xQuantiles(rule, fine.logZ);
  const mix = mixtureSummaries(rule, { ls: 1, lx: 1 }, K);
  const summary = (slot: number, q: readonly number[]): PosteriorSummary => ({ mean: moments[slot], sd: moments[slot + 1], q05: q[0], q50: q[1], q95: q[2] });
  return {
    mu: summary(MU, mix.mu),
    tau: summary(TAU, sq.map(Math.exp)),
    logTau: summary(LOG_TAU, sq),
    theta: Array.from({ length: K }, (_, k) => summary(THETA + 2 * k, mix.theta[k])),
    labels: stats.labels,
    globals: { [global.name]: summary(X, xq), [global.constrained.name]: summary(GX, xq.map(of)) },
    grid: tauGrid(rule, fine.logZ),
    logMarginalLikelihood: fine.logZ,
    quadratureError: err,
  };
}
