import type { HierData } from './data.ts';
import { groupStats, type GroupStats } from './suffstats.ts';
import { DEFAULT_PRIORS, logTauPriorNormalizer, logTauPriorUnconstrained, type Priors } from './priors.ts';
import { familyGlobals, type Family } from './family.ts';
import { exactPosteriorGlobal } from './posterior_global.ts';
import { exactPosteriorPredictors } from './posterior_predictors.ts';
import { predictorStats } from './predictors.ts';
import { findMode, GL_W, GL_X, normalCdf, normalPdf, QUANTILE_LEVELS, TAIL_LOG_DROP, type BetaSummary, type ExactPosterior, type PosteriorSummary, type TauGrid } from './posterior_core.ts';

export { findMode, GL_W, GL_X, normalCdf, normalPdf, QUANTILE_LEVELS, TAIL_LOG_DROP, type BetaSummary, type ExactPosterior, type PosteriorSummary, type TauGrid };

/**
 * The exact posterior of the hierarchical normal model by one-dimensional quadrature
 * over s = log tau (Gelman et al., Bayesian Data Analysis, 3rd ed., §5.4, "Normal model
 * with exchangeable parameters": the posterior is computed by drawing tau from its
 * marginal, then mu | tau, then theta | mu, tau; here those steps are integrated exactly).
 *
 * With per-group sufficient statistics (precision P_k, precision-weighted mean ybar_k,
 * se_k = P_k^{-1/2}; see `suffstats.ts`) and tau fixed, mu and theta are Gaussian and
 * integrate out in closed form:
 *
 *   ybar_k | mu, tau ~ N(mu, v_k),    v_k = tau^2 + se_k^2      (BDA3 eq. 5.17)
 *   mu | tau, y ~ N(M, V),   1/V = 1/s0^2 + sum_k 1/v_k,
 *                            M = V (m0/s0^2 + sum_k ybar_k / v_k)  (BDA3 eq. 5.20)
 *   theta_k | mu, tau, y ~ N(w_k mu + (1 - w_k) ybar_k, w_k tau^2),
 *                            w_k = se_k^2/(tau^2 + se_k^2) = 1/(1 + tau^2 P_k)
 *   theta_k | tau, y ~ N(w_k M + (1 - w_k) ybar_k, w_k tau^2 + w_k^2 V)
 *
 * Groups without observations have P_k = 0, so w_k = 1: they drop out of the likelihood
 * and theta_k | tau, y ~ N(M, tau^2 + V).
 *
 * The marginal density of s, including the Jacobian tau = e^s, is
 *
 *   f(s) = p(y | tau) p_tau(tau) tau,
 *   log p(y | tau) = -1/2 log(2 pi s0^2) - sum_k 1/2 log(2 pi v_k) + 1/2 log(2 pi V)
 *                    - 1/2 Q + logConst,
 *   Q = (m0 - M)^2/s0^2 + sum_k (ybar_k - M)^2 / v_k                  (BDA3 eq. 5.21)
 *
 * (Q is written about the weighted mean M, which avoids cancellation), and every posterior
 * expectation is a one-dimensional integral over s of a closed-form conditional quantity,
 * computed by the trapezoid rule on a uniform grid. The integrands are analytic and decay
 * exponentially on both sides (linearly in s as tau -> 0, where f ~ tau, and at least like
 * e^{-(K'+1) s} as tau -> infinity under HalfCauchy, K' = groups with data), so the
 * trapezoid rule converges geometrically in the spacing (Trefethen & Weideman 2014, "The
 * exponentially convergent trapezoidal rule", SIAM Review 56(3)).
 */

/** Initial grid spacing as a fraction of the curvature sd of s at the mode. */
const INITIAL_SPACING_PER_SD = 1 / 8;
/** Accept the grid once halving the spacing changes nothing by more than this (in sds). */
const CONVERGENCE_TOL = 1e-11;
const MAX_HALVINGS = 8;
/** Hard limit on grid points per side (tails decay at least linearly in s, so never hit). */
const MAX_POINTS_PER_SIDE = 1 << 20;

const LOG_2PI = Math.log(2 * Math.PI);


/**
 * log f(s) = log [p(y | tau) p_tau(tau) tau], tau = e^s, fully normalized; also writes
 * the conditional mean M and variance V of mu | tau, y into `out` when given.
 */
export function logMarginalTau(stats: GroupStats, priors: Priors, s: number, out?: { M: number; V: number }): number {
  const tau2 = Math.exp(2 * s);
  const m0 = priors.mu.loc;
  const s02 = priors.mu.scale * priors.mu.scale;
  let prec = 1 / s02;
  let num = m0 / s02;
  let logDet = 0;
  for (let k = 0; k < stats.K; k++) {
    const P = stats.precision[k];
    if (!(P > 0)) continue;
    const inv = P / (1 + tau2 * P); // 1/v_k
    prec += inv;
    num += inv * stats.ybar[k];
    logDet += Math.log(inv) - LOG_2PI;
    // The family's logConst leaves out the normalizer of log N(ybar_k | theta_k, P_k^-1/2).
    logDet += LOG_2PI - Math.log(P);
  }
  const V = 1 / prec;
  const M = num * V;
  let Q = ((m0 - M) * (m0 - M)) / s02;
  for (let k = 0; k < stats.K; k++) {
    const P = stats.precision[k];
    if (!(P > 0)) continue;
    const d = stats.ybar[k] - M;
    Q += (d * d * P) / (1 + tau2 * P);
  }
  if (out) {
    out.M = M;
    out.V = V;
  }
  const logLik = -0.5 * (LOG_2PI + Math.log(s02)) + 0.5 * logDet + 0.5 * (LOG_2PI + Math.log(V)) - 0.5 * Q + stats.logConst;
  return logLik + logTauPriorNormalizer(priors.tau) + logTauPriorUnconstrained(priors.tau, s).value;
}

/** Number of groups with data. */
function groupsWithData(stats: GroupStats): number {
  let n = 0;
  for (let k = 0; k < stats.K; k++) if (stats.precision[k] > 0) n++;
  return n;
}

/**
 * Largest power of tau whose posterior moment is finite: infinite under HalfNormal;
 * under HalfCauchy, f(s) ~ e^{-(K'+1)s} as s -> infinity, so E[tau^m] < infinity iff m < K' + 1.
 */
function finiteTauMomentBound(stats: GroupStats, priors: Priors): number {
  return priors.tau.kind === 'halfnormal' ? Infinity : groupsWithData(stats) + 1;
}


/**
 * Uniform grid s* + j h, extended from the mode s* until log f is TAIL_LOG_DROP below its
 * maximum on both sides; on the right, also until tau^m f has decayed as far, m the
 * highest finite moment of tau reported (2, or less under HalfCauchy with few groups), so
 * that the mean and sd of tau converge.
 */
function buildGrid(lf: (s: number) => number, mode: number, h: number, tauMomentBound: number) {
  const fMax = lf(mode);
  const right: number[] = [];
  const rightS: number[] = [];
  const m = tauMomentBound > 2 ? 2 : tauMomentBound > 1 ? 1 : 0;
  let maxMoment = fMax + m * mode;
  for (let j = 1; j <= MAX_POINTS_PER_SIDE; j++) {
    const s = mode + j * h;
    const v = lf(s);
    right.push(v);
    rightS.push(s);
    maxMoment = Math.max(maxMoment, v + m * s);
    if (v < fMax - TAIL_LOG_DROP && v + m * s < maxMoment - TAIL_LOG_DROP) break;
  }
  const left: number[] = [];
  const leftS: number[] = [];
  for (let j = 1; j <= MAX_POINTS_PER_SIDE; j++) {
    const s = mode - j * h;
    const v = lf(s);
    left.push(v);
    leftS.push(s);
    if (v < fMax - TAIL_LOG_DROP) break;
  }
  const n = left.length + 1 + right.length;
  const s = new Float64Array(n);
  const logf = new Float64Array(n);
  for (let i = 0; i < left.length; i++) {
    s[left.length - 1 - i] = leftS[i];
    logf[left.length - 1 - i] = left[i];
  }
  s[left.length] = mode;
  logf[left.length] = fMax;
  for (let i = 0; i < right.length; i++) {
    s[left.length + 1 + i] = rightS[i];
    logf[left.length + 1 + i] = right[i];
  }
  return { s, logf };
}

/** Per-grid-point conditional moments: mu | tau, y and theta_k | tau, y. */
interface Conditionals {
  readonly muMean: Float64Array;
  readonly muVar: Float64Array;
  /** Group-major: element (k, j) at k * n + j. */
  readonly thMean: Float64Array;
  readonly thVar: Float64Array;
}

interface GridResult {
  readonly s: Float64Array;
  readonly weight: Float64Array;
  readonly density: Float64Array;
  readonly logZ: number;
  readonly cond: Conditionals;
  readonly moments: Float64Array; // [mu mean, sd, tau mean, sd, logtau mean, sd, theta_k mean, sd...]
}

function evaluateGrid(stats: GroupStats, priors: Priors, mode: number, h: number, tauMomentBound: number): GridResult {
  const lf = (x: number) => logMarginalTau(stats, priors, x);
  const { s, logf } = buildGrid(lf, mode, h, tauMomentBound);
  const n = s.length;
  const K = stats.K;
  let maxLf = -Infinity;
  for (let j = 0; j < n; j++) maxLf = Math.max(maxLf, logf[j]);
  const weight = new Float64Array(n);
  let total = 0;
  for (let j = 0; j < n; j++) {
    const trap = j === 0 || j === n - 1 ? 0.5 : 1;
    weight[j] = trap * Math.exp(logf[j] - maxLf);
    total += weight[j];
  }
  const logZ = maxLf + Math.log(total * h);
  const density = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    weight[j] /= total;
    density[j] = Math.exp(logf[j] - logZ);
  }

  const muMean = new Float64Array(n);
  const muVar = new Float64Array(n);
  const thMean = new Float64Array(K * n);
  const thVar = new Float64Array(K * n);
  const mv = { M: 0, V: 0 };
  for (let j = 0; j < n; j++) {
    logMarginalTau(stats, priors, s[j], mv);
    muMean[j] = mv.M;
    muVar[j] = mv.V;
    const tau2 = Math.exp(2 * s[j]);
    for (let k = 0; k < K; k++) {
      const w = 1 / (1 + tau2 * stats.precision[k]);
      thMean[k * n + j] = w * mv.M + (1 - w) * stats.ybar[k];
      thVar[k * n + j] = w * tau2 + w * w * mv.V;
    }
  }

  const moments = new Float64Array(6 + 2 * K);
  const mixture = (mean: Float64Array, vari: Float64Array, off: number, slot: number) => {
    let m = 0;
    for (let j = 0; j < n; j++) m += weight[j] * mean[off + j];
    let v = 0;
    for (let j = 0; j < n; j++) {
      const d = mean[off + j] - m;
      v += weight[j] * (vari[off + j] + d * d);
    }
    moments[slot] = m;
    moments[slot + 1] = Math.sqrt(v);
  };
  mixture(muMean, muVar, 0, 0);
  const tau = s.map(Math.exp);
  const zeros = new Float64Array(n);
  mixture(tau, zeros, 0, 2);
  mixture(s, zeros, 0, 4);
  for (let k = 0; k < K; k++) mixture(thMean, thVar, k * n, 6 + 2 * k);
  if (tauMomentBound <= 2) {
    moments[3] = Infinity;
    for (let k = 0; k < K; k++) if (!(stats.precision[k] > 0)) moments[6 + 2 * k + 1] = Infinity;
  }
  if (tauMomentBound <= 1) moments[2] = Infinity;
  return { s, weight, density, logZ, cond: { muMean, muVar, thMean, thVar }, moments };
}

/**
 * Quantile of the mixture sum_j w_j N(mean_j, var_j) by safeguarded Newton iteration on
 * its CDF (bisection whenever Newton leaves the bracket). Components of negligible weight
 * (< 1e-20 of the largest) are dropped: they cannot move the CDF by more than ~1e-17.
 */
function mixtureQuantile(p: number, weight: Float64Array, mean: Float64Array, vari: Float64Array, off: number): number {
  const n = weight.length;
  let wMax = 0;
  for (let j = 0; j < n; j++) wMax = Math.max(wMax, weight[j]);
  const idx: number[] = [];
  for (let j = 0; j < n; j++) if (weight[j] > wMax * 1e-20) idx.push(j);
  let lo = Infinity;
  let hi = -Infinity;
  for (const j of idx) {
    const sd = Math.sqrt(vari[off + j]);
    lo = Math.min(lo, mean[off + j] - 40 * sd);
    hi = Math.max(hi, mean[off + j] + 40 * sd);
  }
  const cdfPdf = (x: number): [number, number] => {
    let F = 0;
    let f = 0;
    for (const j of idx) {
      const sd = Math.sqrt(vari[off + j]);
      const z = (x - mean[off + j]) / sd;
      F += weight[j] * normalCdf(z);
      f += (weight[j] * normalPdf(z)) / sd;
    }
    return [F, f];
  };
  let x = 0;
  for (const j of idx) x += weight[j] * mean[off + j];
  for (let it = 0; it < 200; it++) {
    const [F, f] = cdfPdf(x);
    const g = F - p;
    if (g > 0) hi = Math.min(hi, x);
    else lo = Math.max(lo, x);
    let next = x - g / f;
    if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
    if (Math.abs(next - x) <= 1e-15 * Math.max(1, Math.abs(x)) || hi - lo <= 1e-15 * Math.max(1, Math.abs(x))) return next;
    x = next;
  }
  return x;
}


/**
 * Quantiles of s = log tau. The CDF at each grid node is accumulated from per-interval
 * 5-point Gauss-Legendre integrals of the exact density (error ~h^10 on these smooth
 * intervals; a cumulative trapezoid would only be O(h^2)); inside the bracketing interval
 * the quantile is found by Newton iteration on the same exact integral.
 */
function logTauQuantiles(lf: (s: number) => number, grid: GridResult, levels: readonly number[]): number[] {
  const { s, logZ } = grid;
  const n = s.length;
  const dens = (x: number) => Math.exp(lf(x) - logZ);
  const integral = (a: number, b: number) => {
    const c = 0.5 * (a + b);
    const r = 0.5 * (b - a);
    let sum = 0;
    for (let i = 0; i < 5; i++) sum += GL_W[i] * dens(c + r * GL_X[i]);
    return sum * r;
  };
  const cdf = new Float64Array(n);
  for (let j = 1; j < n; j++) cdf[j] = cdf[j - 1] + integral(s[j - 1], s[j]);
  const total = cdf[n - 1]; // ~1; normalize so the quantiles are of a proper distribution
  return levels.map((p) => {
    const target = p * total;
    let j = 0;
    while (j < n - 2 && cdf[j + 1] < target) j++;
    let lo = s[j];
    let hi = s[j + 1];
    let x = lo + (hi - lo) * ((target - cdf[j]) / Math.max(cdf[j + 1] - cdf[j], 1e-300));
    for (let it = 0; it < 100; it++) {
      const g = cdf[j] + integral(s[j], x) - target;
      if (g > 0) hi = x;
      else lo = x;
      let next = x - g / dens(x);
      if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
      if (Math.abs(next - x) <= 1e-15 * Math.max(1, Math.abs(x))) return next;
      x = next;
    }
    return x;
  });
}

/**
 * Whether `exactPosterior` covers the family: one normal in theta (`Family.conditionalNormal`)
 * with no global parameter (the normal family with known sd: 1-D quadrature over log tau) or
 * given its one global (sigma unknown: over log tau and the global).
 */
export function hasExactPosterior(family: Family): boolean {
  return family.conditionalNormal !== undefined && familyGlobals(family).length <= 1;
}

/**
 * The exact marginal posteriors of mu, tau, log tau and every theta_k, by quadrature over
 * s = log tau with mu and theta integrated out analytically (see the module comment; BDA3
 * §5.4). Works for the HalfNormal and HalfCauchy priors on tau.
 *
 * The grid is uniform in s, centred on the mode of p(s | y), and extended on both sides
 * until the log density is 40 below its maximum. Its spacing starts at 1/8 of the
 * curvature sd of s at the mode and is halved until no mean or sd changes by more than
 * 1e-11 sds (trapezoid error decays like exp(-c/h), so the halved grid is far more
 * accurate than the difference suggests).
 *
 * Quantiles: for mu and theta_k, the mixture-of-normals CDF sum_j w_j Phi((x - m_j)/sd_j)
 * is inverted by safeguarded Newton; for tau and log tau, the CDF of s is integrated
 * piecewise by Gauss-Legendre and inverted inside its bracketing grid interval.
 *
 * Under HalfCauchy with fewer than two groups with data, the posterior sd of tau (and of
 * empty groups' theta) is infinite and reported as Infinity.
 *
 * A family normal in theta given a global parameter of its own (`Family.conditionalNormal`,
 * one global: the normal likelihood with unknown sigma) is integrated over (log tau, the
 * global) instead, with the global's summaries in `globals` (`posterior_global.ts`); any
 * other family has no exact posterior (RangeError).
 *
 * Data with population-level predictors (`HierData.predictors`; the normal families reduce
 * them to per-group statistics, `predictors.ts`) integrate (mu, beta) out jointly at each node
 * instead (`posterior_predictors.ts`), with the coefficients' summaries in `beta`.
 */
export function exactPosterior(data: HierData, priors: Priors = DEFAULT_PRIORS): ExactPosterior {
  const stats = groupStats(data);
  if (!hasExactPosterior(stats.family)) throw new RangeError(`no exact posterior for the ${stats.family.id} likelihood`);
  const predictors = predictorStats(data, stats.family);
  if (predictors) return exactPosteriorPredictors(stats, predictors, priors);
  // Normal given the family's global x: quadrature over (log tau, x) (posterior_global.ts).
  if (familyGlobals(stats.family).length === 1) return exactPosteriorGlobal(stats, priors);
  const K = stats.K;
  const lf = (x: number) => logMarginalTau(stats, priors, x);
  const bound = finiteTauMomentBound(stats, priors);
  const mode = findMode(lf, stats, priors);
  // Curvature sd of s at the mode (central second difference).
  const e = 1e-3;
  const d2 = (lf(mode + e) - 2 * lf(mode) + lf(mode - e)) / (e * e);
  const sdS = d2 < 0 && Number.isFinite(d2) ? Math.min(1 / Math.sqrt(-d2), 1) : 1;
  let h = sdS * INITIAL_SPACING_PER_SD;
  let cur = evaluateGrid(stats, priors, mode, h, bound);
  let err = Infinity;
  for (let i = 0; i < MAX_HALVINGS; i++) {
    const next = evaluateGrid(stats, priors, mode, h / 2, bound);
    err = Math.abs(next.logZ - cur.logZ);
    for (let m = 0; m < next.moments.length; m += 2) {
      const sd = next.moments[m + 1];
      if (!Number.isFinite(sd)) continue;
      err = Math.max(err, Math.abs(next.moments[m] - cur.moments[m]) / sd, Math.abs(sd - cur.moments[m + 1]) / sd);
    }
    h /= 2;
    cur = next;
    if (err <= CONVERGENCE_TOL) break;
  }

  const { cond, weight, moments } = cur;
  const n = cur.s.length;
  const sq = logTauQuantiles(lf, cur, QUANTILE_LEVELS);
  const summary = (slot: number, q: number[]): PosteriorSummary => ({
    mean: moments[slot],
    sd: moments[slot + 1],
    q05: q[0],
    q50: q[1],
    q95: q[2],
  });
  const mixQ = (mean: Float64Array, vari: Float64Array, off: number) =>
    QUANTILE_LEVELS.map((p) => mixtureQuantile(p, weight, mean, vari, off));
  const theta: PosteriorSummary[] = [];
  for (let k = 0; k < K; k++) theta.push(summary(6 + 2 * k, mixQ(cond.thMean, cond.thVar, k * n)));
  return {
    mu: summary(0, mixQ(cond.muMean, cond.muVar, 0)),
    tau: summary(2, sq.map(Math.exp)),
    logTau: summary(4, sq),
    theta,
    labels: stats.labels,
    grid: { s: cur.s, weight: cur.weight, density: cur.density, h },
    logMarginalLikelihood: cur.logZ,
    quadratureError: err,
  };
}
