import type { GroupStats } from './suffstats.ts';
import type { Priors } from './priors.ts';

/**
 * What the exact posteriors share (`posterior.ts`, the normal model by quadrature over log tau;
 * `posterior_global.ts` and its rule, over log tau and a family global): the result types, the
 * quantile levels and tail cut, the standard normal CDF and density, Gauss-Legendre nodes and
 * the mode search in s. A module of its own so that the quadratures import it, not each other.
 */

/** Posterior mean, sd and 5%, 50%, 95% quantiles of one scalar quantity. */
export interface PosteriorSummary {
  readonly mean: number;
  readonly sd: number;
  readonly q05: number;
  readonly q50: number;
  readonly q95: number;
}

/** A population-level coefficient's summary (`ExactPosterior.beta`): its predictor's name (output `beta[<name>]`) and posterior. */
export interface BetaSummary extends PosteriorSummary {
  readonly name: string;
}

/** The quadrature grid in s = log tau. */
export interface TauGrid {
  /** Uniformly spaced s = log tau values. */
  readonly s: Float64Array;
  /** Trapezoid weights times the posterior density, normalized to sum to 1. */
  readonly weight: Float64Array;
  /** Normalized posterior density p(s | y) at each s (integrates to 1 over s). */
  readonly density: Float64Array;
  /** Grid spacing. */
  readonly h: number;
}

export interface ExactPosterior {
  readonly mu: PosteriorSummary;
  readonly tau: PosteriorSummary;
  readonly logTau: PosteriorSummary;
  /** One summary per group, in group order. */
  readonly theta: readonly PosteriorSummary[];
  readonly labels: readonly string[];
  /**
   * The family's global parameter (`family.ts` FamilyGlobal; the normal family with unknown
   * sd): one summary under its coordinate's name ('log_sigma') and one under its constrained
   * name ('sigma'); absent for a family without one. See `posterior_global.ts`.
   */
  readonly globals?: Readonly<Record<string, PosteriorSummary>>;
  /**
   * The population-level coefficients beta_p, one per predictor in the data's order (data with
   * predictors: `posterior_predictors.ts`); absent without predictors.
   */
  readonly beta?: readonly BetaSummary[];
  /**
   * The quadrature grid in s = log tau; with a family global (or with predictors), the marginal
   * density of s on a uniform grid, from the rule (`posterior_rule.ts` tauGrid).
   */
  readonly grid: TauGrid;
  /** log p(y) under the model, fully normalized (all observations, all constants). */
  readonly logMarginalLikelihood: number;
  /**
   * Largest change of any reported mean or sd (relative to the sd) and of the log marginal
   * likelihood between the final grid and the grid of twice its spacing: an upper bound,
   * in practice very loose, on the quadrature error.
   */
  readonly quadratureError: number;
}

/** Levels of the reported quantiles. */
export const QUANTILE_LEVELS = [0.05, 0.5, 0.95] as const;

/** Stop extending the grid once log f is this far below its maximum (e^-40 ~ 4e-18). */
export const TAIL_LOG_DROP = 40;

/**
 * Standard normal CDF Phi(x), relative error below 2e-14 for |x| <= 12 (checked against
 * mpmath 1.3 ncdf at 40 digits: 5e-16 at x = -3, 7e-15 at x = -8, 1.4e-14 at x = -12).
 * |x| < 1.5 sqrt 2: the everywhere-positive series erf(t) = 2/sqrt(pi) e^{-t^2} sum_n 2^n t^{2n+1}
 * / (2n+1)!! (Abramowitz & Stegun 7.1.6); otherwise the continued fraction for erfc
 * (A&S 7.1.14) evaluated by the modified Lentz method.
 */
export function normalCdf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const t = Math.abs(x) / Math.SQRT2;
  if (t < 1.5) {
    let term = t;
    let sum = t;
    const t2 = 2 * t * t;
    for (let n = 1; n < 200; n++) {
      term *= t2 / (2 * n + 1);
      sum += term;
      if (term < sum * 1e-17) break;
    }
    const erf = (2 / Math.sqrt(Math.PI)) * Math.exp(-t * t) * sum;
    return x >= 0 ? 0.5 + 0.5 * erf : 0.5 - 0.5 * erf;
  }
  const half = 0.5 * erfcLarge(t);
  return x >= 0 ? 1 - half : half;
}

/** erfc(t) for t >= 1.5: e^{-t^2}/sqrt(pi) / (t + (1/2)/(t + 1/(t + (3/2)/(t + ...)))). */
function erfcLarge(t: number): number {
  if (t > 27) return 0;
  const tiny = 1e-300;
  // Continued fraction t + a_1/(t + a_2/(t + ...)), a_n = n/2.
  let f = t;
  let C = f;
  let D = 0;
  for (let n = 1; n < 500; n++) {
    const a = n / 2;
    D = t + a * D;
    if (Math.abs(D) < tiny) D = tiny;
    C = t + a / C;
    if (Math.abs(C) < tiny) C = tiny;
    D = 1 / D;
    const delta = C * D;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(-t * t) / (Math.sqrt(Math.PI) * f);
}

/** Standard normal density. */
export function normalPdf(x: number): number {
  return Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
}

/** A point of highest log f, by a coarse scan and golden-section refinement. */
export function findMode(lf: (s: number) => number, stats: GroupStats, priors: Priors): number {
  // Scan a range wide enough for any scale in the problem.
  let lo = Math.log(priors.tau.scale);
  let hi = lo;
  for (let k = 0; k < stats.K; k++) {
    if (!(stats.precision[k] > 0)) continue;
    const l = -0.5 * Math.log(stats.precision[k]);
    lo = Math.min(lo, l);
    hi = Math.max(hi, l, Math.log(Math.abs(stats.ybar[k] - priors.mu.loc) + priors.mu.scale));
  }
  lo -= 30;
  hi += 10;
  const step = 0.05;
  let best = lo;
  let bestVal = -Infinity;
  for (let s = lo; s <= hi; s += step) {
    const v = lf(s);
    if (v > bestVal) {
      bestVal = v;
      best = s;
    }
  }
  // Golden section on [best - step, best + step].
  const g = (Math.sqrt(5) - 1) / 2;
  let a = best - step;
  let b = best + step;
  let c = b - g * (b - a);
  let d = a + g * (b - a);
  let fc = lf(c);
  let fd = lf(d);
  for (let it = 0; it < 60 && b - a > 1e-10; it++) {
    if (fc > fd) {
      b = d;
      d = c;
      fd = fc;
      c = b - g * (b - a);
      fc = lf(c);
    } else {
      a = c;
      c = d;
      fc = fd;
      d = a + g * (b - a);
      fd = lf(d);
    }
  }
  return (a + b) / 2;
}

/** 5-point Gauss-Legendre nodes and weights on [-1, 1] (Abramowitz & Stegun Table 25.4). */
export const GL_X = [0, -0.5384693101056831, 0.5384693101056831, -0.906179845938664, 0.906179845938664];
export const GL_W = [0.5688888888888889, 0.47862867049936647, 0.47862867049936647, 0.23692688505618908, 0.23692688505618908];
