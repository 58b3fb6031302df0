import type { HierData } from './data.ts';
import type { ScalePrior } from './priors.ts';

/**
 * The likelihood family of a hierarchical model: what varies between the normal, binomial and
 * Poisson models while the hierarchy (mu, tau, the per-group centeredness, `model.ts`) stays.
 *
 * Every family keeps one latent theta_k per group, and its log-likelihood of theta_k depends
 * on the data only through two per-group fields (a_k, b_k), the sufficient statistics the
 * device holds in one vec4 each per block of four groups:
 *
 * | family | a_k | b_k | log-likelihood of theta (up to a constant) |
 * |---|---|---|---|
 * | normal (sigma known) | precision-weighted mean ybar | precision P = sum 1/sigma^2 | -P (theta - ybar)^2 / 2 |
 * | binomial (logit) | successes Y = sum y | trials T = sum n | Y theta - T log(1 + e^theta) |
 * | Poisson (log) | events Y = sum y | exposure E = sum e | Y theta - E e^theta |
 *
 * A group without data has a = b = 0, and then contributes exactly 0 (and 0 gradient) in
 * every family: the padding lanes of the device's blocks rely on it.
 *
 * A family is one TypeScript module under `families/` (this interface) and one WGSL module
 * under `shaders/lik/` with the function
 *
 *   fn lik(theta: vec4f, a: vec4f, b: vec4f) -> Lik   // struct Lik { lp: vec4f, d: vec4f }
 *
 * that mirrors `logLik` in float32 lane by lane; `families/index.ts` registers both.
 *
 * A family may bring its own global parameter (`globals`, at most `MAX_FAMILY_GLOBALS`; the
 * normal family with unknown sd: x = log sigma). Its likelihood then depends on x too: the
 * per-group term l_k(theta_k, x) through `logLik`'s fifth argument (d/dx in `grad[1]`), and
 * a term free of theta, g(x) (`logLikGlobal`, from the family's global statistics
 * `GroupFields.stats`, e.g. N and the within-group sum of squares). Its WGSL module then has
 *
 *   struct Lik { lp: vec4f, d: vec4f, dg: vec4f }                 // dg = d lp / d x, per lane
 *   fn lik(theta: vec4f, a: vec4f, b: vec4f, g: vec4f) -> Lik      // g = lik_shared(x)
 *   fn lik_shared(x: f32) -> vec4f    // what every block's lik needs of x, once per gradient
 *   fn lik_global(x: f32, g: vec4f) -> vec2f   // g(x) and g'(x); FAMILY_STATS: vec4f holds `stats`
 *
 * and the kernels add the prior of the global (with its log-Jacobian) themselves.
 */
export interface Family {
  /** `--likelihood` value and registry key. */
  readonly id: string;
  /** One line for help texts: the observation model. */
  readonly formula: string;
  /** The link from theta to the outcome scale, for help texts ('identity', 'logit', 'log'). */
  readonly link: string;
  /** Per-observation data columns besides `group` and `y` (CSV header names; JSON keys). */
  readonly columns: readonly ColumnSpec[];
  /** y must be a whole number (counts) and at least this (undefined: any finite real). */
  readonly yInteger: boolean;
  /**
   * This family's WGSL module (shaders/lik/<id>.wgsl) holding its `lik`, as
   * `new URL('../../../shaders/lik/<id>.wgsl', import.meta.url)` (Node reads it from disk, Vite
   * bundles it for the page).
   */
  readonly shader: URL;
  /**
   * The data may be moved to standardized units (`scale.ts`): true for a location-scale
   * family in y (normal), false where the units of y are fixed (counts).
   */
  readonly scalable: boolean;
  /**
   * A per-group outcome reported beside theta (`p` = inv_logit(theta), `rate` = e^theta),
   * or undefined where theta is the outcome (normal).
   */
  readonly outcome?: Outcome;
  /**
   * Checks one observation beyond its columns' own bounds (e.g. y <= trials); returns the
   * problem, naming the column, or undefined.
   */
  checkObservation(y: number, column: (name: string) => number): { column: string; problem: string } | undefined;
  /** Reduces validated data to the per-group fields, in float64, O(N). */
  reduce(data: HierData): GroupFields;
  /**
   * log-likelihood of group k's data at theta (up to `GroupFields.logConst`) and, in
   * `grad[0]`, its derivative in theta; float64 twin of the WGSL `lik`.
   */
  logLik(a: number, b: number, theta: number, grad: Float64Array, x?: number): number;
  /**
   * The family's own global parameters (unconstrained coordinates after mu and log tau in the
   * layout); none when absent. At most `MAX_FAMILY_GLOBALS`.
   */
  readonly globals?: readonly FamilyGlobal[];
  /**
   * The theta-free terms of the log-likelihood that depend on the family global x (up to
   * `GroupFields.logConst`), from the global statistics `stats`; d/dx in `grad[0]`. Required
   * with `globals`.
   */
  logLikGlobal?(stats: Float64Array, x: number, grad: Float64Array): number;
  /**
   * Where the likelihood is exactly normal in theta given the family global x: the normal
   * family's fields at x (a = ybar_k, b = precision P_k, logConst such that sum_k
   * normal.logLik(a_k, b_k, theta_k) + logConst = the log-likelihood at (theta, x)). The
   * exact posterior then integrates x by quadrature (`posterior.ts`). A family without a global
   * that is normal in theta (the normal family) returns its own fields.
   */
  conditionalNormal?(f: GroupFields, x: number): GroupFields;
  /**
   * Where the family does not come from `--likelihood` directly: it stands for the family
   * `family` when that family's column `whenMissing` is absent and no option gives it (the
   * normal likelihood without sigma: sigma becomes a parameter).
   */
  readonly replaces?: { readonly family: string; readonly whenMissing: string };
  /**
   * Where the log-likelihood is Gaussian in the linear predictor (the normal families), so
   * that predictors varying within groups still reduce to per-group statistics
   * (`predictors.ts`): the weight w_i of observation i in its group's means (1/sigma_i^2; 1
   * when sigma is a parameter), and the coefficient of a weighted within-group residual sum
   * of squares R = sum_i w_i r_i^2 in the log-likelihood, lp = coefficient(x) R (sigma known:
   * -1/2; sigma = e^x unknown: -e^{-2x}/2), its derivative in x in `grad[0]`.
   */
  readonly gaussian?: {
    weight(data: HierData, i: number): number;
    withinCoefficient(x: number | undefined, grad: Float64Array): number;
  };
  /**
   * Normalized log-likelihood of observation i at theta, straight from the definition: the
   * test oracle for `reduce` + `logLik`.
   */
  logLikObservation(data: HierData, i: number, theta: number, x?: number): number;
  /**
   * Normal approximation of group k's likelihood in theta: estimate and standard error (se =
   * Fisher information^-1/2 at `at`, or at the estimate when `at` is undefined); se =
   * Infinity for a group without data; `precision` = se^-2 where the family has it exactly
   * (normal: P_k, not 1/(P_k^-1/2)^2 rounded). `auto` uses it as the group's se_k. `x`: the
   * family global (for a family with `globals`; undefined: a typical value from the data).
   */
  approx(f: GroupFields, k: number, at?: number, x?: number): { estimate: number; se: number; precision?: number };
  /** One posterior predictive draw of observation i given its group's theta (and the family global x). */
  predict(data: HierData, i: number, theta: number, rng: Variates, x?: number): number;
}

/** A per-observation data column of a family. */
export interface ColumnSpec {
  readonly name: string;
  /** Required unless a default applies (`value`) or a CLI option gives it (`option`). */
  readonly required: boolean;
  /** Value used when the column is absent (e.g. exposure 1). */
  readonly value?: number;
  /** CLI option that gives one value for every observation when the column is absent (e.g. `--sigma`). */
  readonly option?: string;
  readonly integer: boolean;
  /** Lower bound; `exclusive` when the value must be greater. */
  readonly min: number;
  readonly exclusive: boolean;
  /** A typical value, for generated data sets (the page's generator) and help examples. */
  readonly example: number;
  readonly help: string;
}

/** The per-group fields of a family (float64; the device gets them rounded to float32). */
export interface GroupFields {
  readonly K: number;
  /** Observations per group. */
  readonly n: Int32Array;
  readonly a: Float64Array;
  readonly b: Float64Array;
  /**
   * Sum of the terms free of theta (and of the family global): sum_k logLik(a_k, b_k, theta_k, x)
   * + logLikGlobal(stats, x) + logConst = sum_i logLikObservation(i, theta, x).
   */
  readonly logConst: number;
  /** The family's global statistics (at most 4 numbers, e.g. N and the within-group sum of squares); for `logLikGlobal`. */
  readonly stats?: Float64Array;
}

/** Most globals a family may bring: the kernels hold the hierarchy's two and one of the family's in one vec4 (the fourth lane carries log p). */
export const MAX_FAMILY_GLOBALS = 1;

/**
 * A global parameter of a family, e.g. the normal family's residual sd when it is unknown:
 * sampled as the unconstrained x = log sigma, reported as both.
 */
export interface FamilyGlobal {
  /** Name of the unconstrained coordinate (layout, outputs): 'log_sigma'. */
  readonly name: string;
  /** The parameter on its natural scale: name (output), map from x, help text. */
  readonly constrained: { readonly name: string; readonly of: (x: number) => number; readonly help: string };
  /**
   * x is the log of a scale in y's units: when the data move to y' = (y - shift) / scale
   * (`scale.ts`), x' = x - log(scale), and the prior's scale divides by `scale`.
   */
  readonly logScaleOfY: boolean;
  /** The CLI option that sets its prior (a prior on the constrained value) and the default prior. */
  readonly prior: { readonly option: string; readonly default: ScalePrior };
  /** Interval (centre +- width/2) in x where chains start, from the data (`sampler/init.ts`). */
  start(f: GroupFields): { readonly centre: number; readonly width: number };
}

/** The family's globals (none for most families). */
export function familyGlobals(family: Family): readonly FamilyGlobal[] {
  return family.globals ?? [];
}

export interface Outcome {
  /** Output name: `p[<label>]`, `rate[<label>]`. */
  readonly name: string;
  readonly of: (theta: number) => number;
  readonly help: string;
}

/** Random variates for posterior predictive draws. */
export interface Variates {
  /** Uniform on (0, 1). */
  uniform(): number;
  /** Standard normal. */
  normal(): number;
}

/** log(1 + e^x) without overflow or loss for large |x|. */
export function softplus(x: number): number {
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}

/** 1 / (1 + e^-x). */
export function invLogit(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

/**
 * The fields of a family whose statistics are per-group sums of per-observation terms (counts:
 * a_k = sum y_i, b_k = sum of a column), with the theta-free terms summed into `logConst`; O(N).
 */
export function sumByGroup(data: HierData, column: Float64Array, logConstOf: (y: number, x: number) => number): GroupFields {
  const { K, y, group } = data;
  const n = new Int32Array(K);
  const a = new Float64Array(K);
  const b = new Float64Array(K);
  let logConst = 0;
  for (let i = 0; i < y.length; i++) {
    const k = group[i];
    n[k]++;
    a[k] += y[i];
    b[k] += column[i];
    logConst += logConstOf(y[i], column[i]);
  }
  return { K, n, a, b, logConst };
}
