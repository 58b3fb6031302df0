import { clip, InputError } from '../errors.ts';

/**
 * Priors of the hierarchical normal model:
 *   mu ~ Normal(loc, scale),  tau ~ HalfNormal(scale) | HalfCauchy(scale).
 * Defaults follow the seed study (Betancourt's case study as replicated in PyMC3):
 * mu ~ Normal(0, 5), tau ~ HalfNormal(5).
 */
export interface MuPrior {
  readonly kind: 'normal';
  readonly loc: number;
  readonly scale: number;
}

export interface TauPrior {
  readonly kind: 'halfnormal' | 'halfcauchy';
  readonly scale: number;
}

/**
 * Prior of a positive scale parameter that a likelihood family brings (the normal family's
 * sigma when unknown): HalfNormal(scale), HalfCauchy(scale) or Exponential(rate = 1/scale).
 */
export interface ScalePrior {
  readonly kind: 'halfnormal' | 'halfcauchy' | 'exponential';
  /** Scale (> 0); for the exponential, 1 / rate. */
  readonly scale: number;
}

export interface Priors {
  readonly mu: MuPrior;
  readonly tau: TauPrior;
  /**
   * Priors of the family's globals, by coordinate name (`family.ts` FamilyGlobal, e.g.
   * 'log_sigma' -> the prior of sigma); a global without an entry has its family's default.
   */
  readonly family?: Readonly<Record<string, ScalePrior>>;
  /**
   * Prior of every population-level coefficient beta_p (`--beta-prior normal:LOC,SCALE`), on
   * the predictors as given; absent: `DEFAULT_BETA_PRIOR`.
   */
  readonly beta?: MuPrior;
}

/** Default prior of each coefficient: Normal(0, 5), as the default of mu. */
export const DEFAULT_BETA_PRIOR: MuPrior = { kind: 'normal', loc: 0, scale: 5 };

/** The seed study's priors: mu ~ Normal(0, 5), tau ~ HalfNormal(5). */
export const DEFAULT_PRIORS: Priors = {
  mu: { kind: 'normal', loc: 0, scale: 5 },
  tau: { kind: 'halfnormal', scale: 5 },
};

function parseNumber(field: string, text: string): number {
  const v = Number(text.trim());
  if (text.trim() === '' || !Number.isFinite(v)) throw new InputError(field, `'${clip(text)}' is not a finite number`);
  return v;
}

/** Parses `normal:LOC,SCALE` (scale > 0). */
export function parseMuPrior(text: string, field = '--mu-prior'): MuPrior {
  const m = /^normal:([^,]+),([^,]+)$/.exec(text.trim());
  if (!m) throw new InputError(field, `expected 'normal:LOC,SCALE', got '${clip(text)}'`);
  const loc = parseNumber(field, m[1]);
  const scale = parseNumber(field, m[2]);
  if (!(scale > 0)) throw new InputError(field, `scale must be > 0, got ${scale}`);
  return { kind: 'normal', loc, scale };
}

/** Parses `halfnormal:S` or `halfcauchy:S` (S > 0). */
export function parseTauPrior(text: string, field = '--tau-prior'): TauPrior {
  const m = /^(halfnormal|halfcauchy):(.+)$/.exec(text.trim());
  if (!m) throw new InputError(field, `expected 'halfnormal:S' or 'halfcauchy:S', got '${clip(text)}'`);
  const scale = parseNumber(field, m[2]);
  if (!(scale > 0)) throw new InputError(field, `scale must be > 0, got ${scale}`);
  return { kind: m[1] as TauPrior['kind'], scale };
}

/**
 * log p(s) + s for s = log tau (the prior of tau plus the log-Jacobian of tau = e^s),
 * up to an additive constant, and its derivative in s.
 *   HalfNormal(S):  -t^2/2 + s,          d/ds = 1 - t^2,            t = e^s / S
 *   HalfCauchy(S):  -log(1 + t^2) + s,   d/ds = 1 - 2 t^2/(1 + t^2)
 */
export function logTauPriorUnconstrained(prior: TauPrior, s: number): { value: number; grad: number } {
  const t = Math.exp(s) / prior.scale;
  const t2 = t * t;
  if (prior.kind === 'halfnormal') return { value: -0.5 * t2 + s, grad: 1 - t2 };
  return { value: -Math.log1p(t2) + s, grad: 1 - (2 * t2) / (1 + t2) };
}

/** Normalizing constant of the tau prior density on tau > 0 (log), for exact posteriors. */
export function logTauPriorNormalizer(prior: TauPrior): number {
  // HalfNormal: 2/(S sqrt(2 pi)); HalfCauchy: 2/(pi S).
  return prior.kind === 'halfnormal'
    ? Math.log(2) - Math.log(prior.scale) - 0.5 * Math.log(2 * Math.PI)
    : Math.log(2) - Math.log(Math.PI * prior.scale);
}

/** Parses `halfnormal:S`, `halfcauchy:S` (S > 0) or `exponential:R` (rate R > 0). */
export function parseScalePrior(text: string, field: string): ScalePrior {
  const m = /^(halfnormal|halfcauchy|exponential):(.+)$/.exec(text.trim());
  if (!m) throw new InputError(field, `expected 'halfnormal:S', 'halfcauchy:S' or 'exponential:R', got '${clip(text)}'`);
  const v = parseNumber(field, m[2]);
  if (!(v > 0)) throw new InputError(field, `${m[1] === 'exponential' ? 'rate' : 'scale'} must be > 0, got ${v}`);
  const kind = m[1] as ScalePrior['kind'];
  return { kind, scale: kind === 'exponential' ? 1 / v : v };
}

/** The text form `parseScalePrior` reads (`exponential:R` with R = 1 / scale). */
export function formatScalePrior(p: ScalePrior): string {
  return p.kind === 'exponential' ? `exponential:${1 / p.scale}` : `${p.kind}:${p.scale}`;
}

/**
 * log p(e^x) + x for x = log sigma (the prior of sigma plus the log-Jacobian of sigma = e^x),
 * up to an additive constant (`logScalePriorNormalizer`), and its derivative in x; t = e^x / S:
 *   HalfNormal(S):    -t^2/2 + x,          d/dx = 1 - t^2
 *   HalfCauchy(S):    -log(1 + t^2) + x,   d/dx = 1 - 2 t^2/(1 + t^2)
 *   Exponential(1/S): -t + x,              d/dx = 1 - t
 */
export function logScalePriorUnconstrained(prior: ScalePrior, x: number): { value: number; grad: number } {
  if (prior.kind === 'exponential') {
    const t = Math.exp(x) / prior.scale;
    return { value: -t + x, grad: 1 - t };
  }
  return logTauPriorUnconstrained({ kind: prior.kind, scale: prior.scale }, x);
}

/** log of the normalizing constant of a ScalePrior density on sigma > 0 (Exponential: 1/S). */
export function logScalePriorNormalizer(prior: ScalePrior): number {
  return prior.kind === 'exponential' ? -Math.log(prior.scale) : logTauPriorNormalizer({ kind: prior.kind, scale: prior.scale });
}
