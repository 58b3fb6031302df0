/**
 * Standardized units: the sampler runs on y' = (y - shift)/scale, sigma' = sigma/scale with
 * the priors moved to the same units, and its draws are mapped back exactly, so the
 * posterior is the user's whatever the units of y: measurements in millions, or sigma of
 * 1e-6, sample as the seed's data do.
 *
 * The map is affine in (mu, theta) and a shift in log tau:
 *
 *   mu = shift + scale mu',   tau = scale tau',   theta_k = shift + scale theta'_k,
 *   mu' ~ N((m0 - shift)/scale, s0/scale),   tau' ~ HalfNormal|HalfCauchy(S/scale),
 *
 * so the posterior of (mu', tau', theta') is the user's posterior pushed through the map
 * (a change of variables of the whole model, priors included). In the sampler's coordinates
 * (mu, s = log tau, z_k), with z_k = c_k mu + tau^(c_k - 1)(theta_k - mu):
 *
 *   s = s' + log scale,   z_k = c_k shift + scale^(c_k) (z'_k - c_k mu') + c_k scale mu',
 *
 * and the log density the sampler reports (`model.ts`, up to a constant) differs by
 * (1 - sum_k c_k) log scale (the tau prior's +s term and each group's -c_k s term), which
 * `logDensityOffset` adds back, so lp__ and energy__ are those of a run in the user's units.
 *
 * A likelihood family's global in y's log units (`FamilyGlobal.logScaleOfY`: x = log sigma
 * of the normal likelihood with sigma unknown) moves like log tau, and its prior's scale
 * divides by `scale` (an exponential's 1/rate too):
 *
 *   x = x' + log scale,   sigma' ~ HalfNormal|HalfCauchy(S/scale) | Exponential(rate scale),
 *
 * and adds (1 - N) log scale to the offset: +log scale from its prior's log-Jacobian term x
 * (the prior's own term depends on sigma/S alone), and -N log scale from the likelihood,
 * which such a family computes as a density in y's units (its -x per observation: the
 * Jacobian of y = shift + scale y' over the N observations), where the normal family with
 * sigma known keeps -log sigma_i in its constant. Without a sigma column the data's units
 * come from their own spread (`FamilyGlobal.start`: a typical sigma from the data).
 *
 * Population-level predictors (`HierData.predictors`: eta_i = theta[g_i] + x_i . beta) keep
 * their design X as given; the linear predictor moves as y does, eta = shift + scale eta',
 * so the shift stays with theta (and mu) and each coefficient only scales:
 *
 *   beta_p = scale beta'_p,   beta'_p ~ N(L/scale, S/scale)   (beta_p ~ N(L, S)),
 *
 * since shift + scale (theta'_k + x_i . beta') = theta_k + x_i . beta. The offset does not
 * change: the coefficients' coordinates are beta themselves (no log-Jacobian), the model's
 * log density holds their prior as -((beta - L)/S)^2/2 without its -log S (equal in both
 * units: (beta - L)/S = (beta' - L/scale)/(S/scale)), and the likelihood's terms in eta are
 * those of the model without predictors at eta (their residuals y - eta scale as y - theta
 * did), including a Gaussian family's within-group term (`predictors.ts`): with weights w_i
 * (1/sigma_i^2 scales by scale^-2, or 1 with sigma = e^x unknown, whose coefficient
 * -e^{-2x}/2 scales by scale^-2) times squared residuals (scale^2), the same number.
 *
 * With predictors the group means of y carry the predictors' effects as well as theta's, so
 * the units (chosen from their spread) may be wider than theta's alone, which costs nothing;
 * the checks of a prior against the data (mu's location against the data's centre, tau's
 * and sigma's scales against their spread) would blame mu, tau or sigma for what x . beta
 * explains, and are left out; the checks of resolution and exponent range stay (eta is
 * computed in these units whatever explains it), and the coefficients' prior is checked as
 * mu's is (`--beta-prior`).
 *
 * The scale is a power of two (multiplying by it is exact in floating point) and the shift is
 * used only where the data sit far from zero on their own scale; data already near unit
 * scale (the seed study's: scale 2^-5..2^5, centre within 16 scales of 0) run unchanged.
 *
 * What no affine map can make representable is rejected with an InputError naming the field
 * (`checkRepresentable`): a group whose mean lies more standard errors from the others than
 * the sampler's floating point resolves (float32 on WebGPU, float64 on the CPU backend), a
 * sigma whose range within the data spans more than the exponent range, a prior whose
 * location or scale lies beyond it in the data's units.
 */
import { FAMILIES, familyOf } from './families/index.ts';
import type { HierData } from './data.ts';
import { familyGlobals, type Family, type FamilyGlobal } from './family.ts';
import { makeLayout } from './layout.ts';
import type { Centeredness } from './parameterization.ts';
import { DEFAULT_BETA_PRIOR, formatScalePrior, type MuPrior, type Priors, type ScalePrior } from './priors.ts';
import { fieldsOf, groupStats } from './suffstats.ts';
import { clip, InputError } from '../errors.ts';

/** y = shift + scale y' (scale a power of two). */
export interface DataScale {
  readonly shift: number;
  readonly scale: number;
}

/** The identity: the data as given. */
export const IDENTITY_SCALE: DataScale = { shift: 0, scale: 1 };

/** The floating point the sampler computes in: WebGPU's float32, or the CPU backend's float64. */
export type SamplerPrecision = 'float32' | 'float64';

/**
 * Limits of what the sampler resolves, per precision.
 * - `maxRatio`: most standard errors between a group's mean and the centre. A coordinate at
 *   R posterior sds from zero has a spacing of R 2^-(p-1) sds (p = 24 bits in float32, 53 in
 *   float64); R = 2^18 leaves float32 1/32 of an sd, fine against leapfrog steps of 0.1-1 sd;
 *   2^45 leaves float64 1/256.
 * - `maxExponent`: most binary orders of magnitude of a standardized quantity (a prior's
 *   scale or location, a standard error) away from 1, so that its square and reciprocal stay
 *   finite and normal (float32: 2^±126; float64: 2^±1022).
 * - `maxConflict`: most prior sds between a prior and the data (mu's location against the
 *   data's centre; a half-normal tau's scale against the spread of the group means): the
 *   log density holds -z^2/2, and an energy difference of about 0.01 must stay resolvable in
 *   it (float32: |log p| up to 2^17 gives a spacing of 2^-6; float64: 2^47, the same).
 */
export const PRECISION_LIMITS: Record<SamplerPrecision, { readonly maxRatio: number; readonly maxExponent: number; readonly maxConflict: number }> = {
  float32: { maxRatio: 2 ** 18, maxExponent: 60, maxConflict: 2 ** 9 },
  float64: { maxRatio: 2 ** 45, maxExponent: 500, maxConflict: 2 ** 24 },
};

/** Scales within 2^±IDENTITY_EXPONENT of 1 (and centres within IDENTITY_CENTRE scales of 0) run unchanged. */
export const IDENTITY_EXPONENT = 5;
export const IDENTITY_CENTRE = 16;

/** 1.4826 MAD: the normal-consistent robust sd (Rousseeuw & Croux 1993). */
const MAD_TO_SD = 1.4826;

function median(values: Float64Array): number {
  if (values.length === 0) return NaN;
  const v = Float64Array.from(values).sort();
  const h = v.length >> 1;
  return v.length % 2 ? v[h] : 0.5 * v[h - 1] + 0.5 * v[h];
}

const pow2 = (x: number) => 2 ** Math.round(Math.log2(x));

/** The family's globals in y's log units (`FamilyGlobal.logScaleOfY`: log sigma). */
function logScaleGlobals(family: Family): readonly FamilyGlobal[] {
  return familyGlobals(family).filter((g) => g.logScaleOfY);
}

/** A global's prior: the one given (`Priors.family`), else its family's default. */
function globalPrior(priors: Priors, g: FamilyGlobal): ScalePrior {
  return priors.family?.[g.name] ?? g.prior.default;
}
const fmt = (x: number) => (x === 0 ? '0' : Math.abs(x) >= 1e-3 && Math.abs(x) < 1e6 ? String(Number(x.toPrecision(4))) : x.toExponential(2));

/** An approximate posterior location and spread of the data, in float64, for choosing the units. */
interface Sketch {
  /** Power of two near the median sigma (or, sigma unknown, a typical one from the data): the data divided by it are O(1) in sigma. */
  readonly b0: number;
  /** Sigma unknown (a family global in y's log units): a typical sigma from the data, in the data's units; NaN otherwise. */
  readonly sigmaHat: number;
  /** Precision-weighted centre of the group means given tau_hat (BDA3 eq. 5.20), in the data's units. */
  readonly centre: number;
  /** The median group mean, in the data's units (0 without data). */
  readonly dataCentre: number;
  /** Posterior scale of the coordinates: max(sd of mu | tau_hat, tau_hat), in the data's units. */
  readonly spread: number;
  /** The spread of the group means beyond their standard errors (what tau must explain), in the data's units. */
  readonly tauExcess: number;
  /** Group means and standard errors (in units of b0), groups with data only; and their indices. */
  readonly ybar: Float64Array;
  readonly se: Float64Array;
  readonly groups: Int32Array;
}

function sketch(data: HierData, priors: Priors, limits: { maxExponent: number }): Sketch {
  const { y, sigma } = data;
  // Sigma unknown: the centre of its chains' start, the log of a typical sigma from the data
  // (the pooled within-group sd, else the sd of y); 2^round(centre / ln 2) cannot overflow.
  const scaleGlobal = logScaleGlobals(familyOf(data.likelihood))[0];
  const logSigmaHat = scaleGlobal && y.length > 0 ? scaleGlobal.start(fieldsOf(groupStats(data))).centre : NaN;
  const b0 = scaleGlobal
    ? Number.isFinite(logSigmaHat) ? 2 ** Math.round(logSigmaHat / Math.LN2) : 1
    : y.length > 0 ? pow2(median(sigma)) : 1;
  const lo = 2 ** -limits.maxExponent;
  const hi = 2 ** limits.maxExponent;
  for (let i = 0; i < sigma.length; i++) {
    const r = sigma[i] / b0;
    if (!(r >= lo && r <= hi)) {
      throw new InputError(`sigma (observation ${i + 1})`, `${fmt(sigma[i])} is ${fmt(r)} times the median sigma ${fmt(median(sigma))}: sigmas spanning that range cannot be computed with together`);
    }
  }
  const scaled: HierData = { ...data, y: y.map((v) => v / b0), sigma: sigma.map((v) => v / b0) };
  const st = groupStats(scaled);
  const groups = Int32Array.from({ length: st.K }, (_, k) => k).filter((k) => st.n[k] > 0);
  const ybar = Float64Array.from(groups, (k) => st.ybar[k]);
  const se = Float64Array.from(groups, (k) => st.se[k]);
  const m0 = priors.mu.loc / b0;
  const s0 = priors.mu.scale / b0;
  const sTau = priors.tau.scale / b0;
  const m = median(ybar);
  const sd = ybar.length >= 2 ? MAD_TO_SD * median(ybar.map((v) => Math.abs(v - m))) : 0;
  // tau's scale: the spread of the group means, at most a few prior scales; the prior's scale without it.
  const tauHat = sd > 0 && Number.isFinite(sd) ? Math.min(sd, 3 * sTau) : sTau;
  // The spread of the means beyond their noise: what tau must explain.
  const seMed = median(se);
  const excess = sd > 0 && Number.isFinite(seMed) ? sd * Math.sqrt(Math.max(0, 1 - (seMed / sd) ** 2)) : 0;
  // The centre: the median group mean (robust to a stray group) weighed against the prior's
  // location by their precisions given tau_hat (as mu | tau in BDA3 eq. 5.20).
  const prior = s0 > 0 && Number.isFinite(s0) ? 1 / (s0 * s0) : 0;
  let dataPrec = 0;
  for (let j = 0; j < ybar.length; j++) dataPrec += 1 / (tauHat * tauHat + se[j] * se[j]);
  const prec = prior + dataPrec;
  const combined = (prior * m0 + (dataPrec > 0 ? dataPrec * m : 0)) / prec;
  const centre = prec > 0 && Number.isFinite(combined) ? combined : Number.isFinite(m) ? m : 0;
  const spread = Math.max(prec > 0 ? 1 / Math.sqrt(prec) : 0, tauHat);
  return { b0, sigmaHat: Math.exp(logSigmaHat), centre: centre * b0, dataCentre: (Number.isFinite(m) ? m : 0) * b0, spread: spread * b0, tauExcess: excess * b0, ybar, se, groups };
}

/**
 * The units the sampler runs in for these data and priors (a power-of-two scale near the
 * posterior's spread, and a shift to its centre where the data sit far from zero), after
 * checking that the model is representable in `precision` (InputError naming the field
 * otherwise). Identity for data already near unit scale.
 */
export function chooseScale(data: HierData, priors: Priors, precision: SamplerPrecision): DataScale {
  // Counts have fixed units: theta is a logit or a log rate, O(1) whatever the data.
  if (!familyOf(data.likelihood).scalable) return { shift: 0, scale: 1 };
  const limits = PRECISION_LIMITS[precision];
  const sk = sketch(data, priors, limits);
  let scale = Number.isFinite(sk.spread) && sk.spread > 0 ? pow2(sk.spread) : 1;
  let shift = Math.abs(sk.centre) > IDENTITY_CENTRE * scale ? roundTo(sk.centre, scale / 256) : 0;
  if (shift === 0 && scale >= 2 ** -IDENTITY_EXPONENT && scale <= 2 ** IDENTITY_EXPONENT) scale = 1;
  if (!Number.isFinite(scale) || scale === 0) scale = 1;
  if (!Number.isFinite(shift)) shift = 0;
  const s: DataScale = { shift, scale };
  checkRepresentable(data, priors, s, sk, precision);
  return s;
}

/** x rounded to a multiple of `unit` (so the shift has few significant bits). */
function roundTo(x: number, unit: number): number {
  return Math.round(x / unit) * unit;
}

/**
 * Throws an InputError naming the field when the standardized model cannot be computed in
 * `precision`: a prior's scale or location beyond the exponent range in the data's units, or
 * a group's mean further from the centre, in standard errors, than the precision resolves.
 * With predictors the checks of mu's, tau's and sigma's priors against the data's centre
 * and spread are left out (x . beta may explain them: see the module comment).
 */
function checkRepresentable(data: HierData, priors: Priors, s: DataScale, sk: Sketch, precision: SamplerPrecision): void {
  const { maxRatio, maxExponent, maxConflict } = PRECISION_LIMITS[precision];
  const inRange = (x: number) => x >= 2 ** -maxExponent && x <= 2 ** maxExponent;
  const cure = precision === 'float32' ? ' (WebGPU computes in float32; --backend cpu computes in float64)' : '';
  const unitsNote = `the data's scale is about ${fmt(s.scale === 1 ? sk.spread : s.scale)}`;
  const muScale = priors.mu.scale / s.scale;
  if (!inRange(muScale)) {
    throw new InputError('--mu-prior', `scale ${fmt(priors.mu.scale)} cannot be computed with: ${unitsNote}${cure}`);
  }
  const muLoc = Math.abs(priors.mu.loc - s.shift) / s.scale;
  if (muLoc > 2 ** maxExponent) {
    throw new InputError('--mu-prior', `location ${fmt(priors.mu.loc)} is ${fmt(muLoc)} times the data's scale (about ${fmt(s.scale === 1 ? sk.spread : s.scale)}) from the data's centre (about ${fmt(sk.dataCentre)}): too far to be computed with${cure}`);
  }
  // Predictors: every coefficient's prior, in the data's units (beta' = beta / scale).
  const predictors = (data.predictors?.names.length ?? 0) > 0;
  if (predictors) {
    const bp = betaPrior(priors);
    if (!inRange(bp.scale / s.scale)) {
      throw new InputError('--beta-prior', `scale ${fmt(bp.scale)} cannot be computed with: ${unitsNote}${cure}`);
    }
    const betaLoc = Math.abs(bp.loc) / s.scale;
    if (betaLoc > 2 ** maxExponent) {
      throw new InputError('--beta-prior', `location ${fmt(bp.loc)} is ${fmt(betaLoc)} times the data's scale (about ${fmt(s.scale === 1 ? sk.spread : s.scale)}): too far to be computed with${cure}`);
    }
  }
  // The priors' pull at the data, in prior sds: -z^2/2 is a term of the log density, and
  // float32 resolves an energy difference of 0.01 only while |log p| stays under about 2^17.
  // With predictors, x . beta may account for the data's centre and spread: not checked.
  const conflict = predictors ? 0 : Math.abs(sk.dataCentre - priors.mu.loc) / priors.mu.scale;
  if (!(conflict <= maxConflict)) {
    throw new InputError('--mu-prior', `the data's centre (about ${fmt(sk.dataCentre)}) is ${fmt(conflict)} prior sds from its location ${fmt(priors.mu.loc)}, more than ${precision} computes with (${fmt(maxConflict)}): widen the prior to the data's units${cure}`);
  }
  const tauConflict = sk.tauExcess / priors.tau.scale;
  if (!predictors && priors.tau.kind === 'halfnormal' && !(tauConflict <= maxConflict)) {
    throw new InputError('--tau-prior', `the spread of the group means (about ${fmt(sk.tauExcess)}) is ${fmt(tauConflict)} times its scale ${fmt(priors.tau.scale)}, more than ${precision} computes with (${fmt(maxConflict)}): widen the prior to the data's units${cure}`);
  }
  const tauScale = priors.tau.scale / s.scale;
  if (!inRange(tauScale)) {
    throw new InputError('--tau-prior', `scale ${fmt(priors.tau.scale)} cannot be computed with: ${unitsNote}${cure}`);
  }
  // A family global in y's log units (sigma unknown): its prior against the data, as tau's.
  for (const g of logScaleGlobals(familyOf(data.likelihood))) {
    const p = globalPrior(priors, g);
    const name = g.constrained.name;
    const text = formatScalePrior(p);
    // The prior's pull at the data's sigma: t^2/2 (half-normal) or t (exponential) in the log density, t = sigma/S.
    const t = sk.sigmaHat / p.scale;
    const limit = p.kind === 'halfnormal' ? maxConflict : p.kind === 'exponential' ? (maxConflict * maxConflict) / 2 : Infinity;
    if (!predictors && Number.isFinite(t) && !(t <= limit)) {
      throw new InputError(g.prior.option, `${name} of the data (about ${fmt(sk.sigmaHat)}) is ${fmt(t)} times the scale of ${text}, more than ${precision} computes with (${fmt(limit)}): widen the prior to the data's units${cure}`);
    }
    if (!inRange(p.scale / s.scale)) {
      throw new InputError(g.prior.option, `${text} cannot be computed with: ${unitsNote}${cure}`);
    }
  }
  // Where the data give sigma, a group's spread is about sigma; where sigma is a parameter, about y.
  const noise = data.sigma.length > 0 ? 'sigma' : 'y';
  const centre = s.shift !== 0 ? s.shift : sk.centre;
  const ratios = Float64Array.from(sk.ybar, (v, j) => Math.abs(v * sk.b0 - centre) / (sk.se[j] * sk.b0));
  // Most groups beyond the resolution: sigma is too small for the data's spread (or the spread too large for sigma).
  if (ratios.length > 1 && !(median(ratios) <= maxRatio)) {
    throw new InputError(
      noise,
      `the group means spread over about ${fmt(sk.tauExcess || sk.spread)} while their standard errors are about ${fmt(median(sk.se) * sk.b0)}: ` +
        `${fmt(median(ratios))} standard errors apart, more than the ${maxRatio.toLocaleString('en-US')} that ${precision} resolves${cure}`,
    );
  }
  for (let j = 0; j < sk.ybar.length; j++) {
    const k = sk.groups[j];
    const seOrig = sk.se[j] * sk.b0;
    const se = seOrig / s.scale;
    if (!(ratios[j] <= maxRatio)) {
      throw new InputError(
        `y (group ${clip(data.labels[k], 40)})`,
        `its mean ${fmt(sk.ybar[j] * sk.b0)} lies ${fmt(ratios[j])} standard errors (${fmt(seOrig)}) from the centre of the data (about ${fmt(centre)}): ` +
          `more than the ${maxRatio.toLocaleString('en-US')} that ${precision} resolves${cure}`,
      );
    }
    if (!inRange(se)) {
      throw new InputError(`${noise} (group ${clip(data.labels[k], 40)})`, `its standard error ${fmt(seOrig)} cannot be computed with: ${unitsNote}${cure}`);
    }
  }
}

/**
 * The data in standardized units: y' = (y - shift)/scale, sigma' = sigma/scale; the
 * predictors (if any) as they are (their coefficients scale instead: beta' = beta/scale).
 */
export function scaleData(data: HierData, s: DataScale): HierData {
  if (s.shift === 0 && s.scale === 1) return data;
  return { ...data, y: data.y.map((v) => (v - s.shift) / s.scale), sigma: data.sigma.map((v) => v / s.scale) };
}

/** The coefficients' prior: the one given, else `DEFAULT_BETA_PRIOR`. */
function betaPrior(priors: Priors): MuPrior {
  return priors.beta ?? DEFAULT_BETA_PRIOR;
}

/**
 * The priors in standardized units: mu' ~ N((m0 - shift)/scale, s0/scale), tau' with scale
 * S/scale, the prior of each family global in y's log units (sigma) with its scale
 * divided by `scale` (its family's default where none is given, so that the standardized
 * model keeps the user's prior), and the coefficients' prior beta' ~ N(L/scale, S/scale)
 * where the data have predictors (`DEFAULT_BETA_PRIOR` where none is given) or one is given.
 * `family`: the data's family; absent, every registered family's such globals (a prior of a
 * global the model does not have is never read). `predictors`: the data's predictor names
 * (`data.predictors?.names`; none: no `beta` prior is added).
 */
export function scalePriors(priors: Priors, s: DataScale, family?: Family, predictors: readonly string[] = []): Priors {
  if (s.shift === 0 && s.scale === 1) return priors;
  const globals = family ? logScaleGlobals(family) : FAMILIES.flatMap(logScaleGlobals);
  const scaled: Record<string, ScalePrior> = { ...priors.family };
  const done = new Set<string>();
  for (const g of globals) {
    // A name once (the first registered family's default, should two share a name).
    if (done.has(g.name)) continue;
    done.add(g.name);
    const p = globalPrior(priors, g);
    scaled[g.name] = { ...p, scale: p.scale / s.scale };
  }
  return {
    mu: { ...priors.mu, loc: (priors.mu.loc - s.shift) / s.scale, scale: priors.mu.scale / s.scale },
    tau: { ...priors.tau, scale: priors.tau.scale / s.scale },
    ...(Object.keys(scaled).length > 0 && { family: scaled }),
    ...scaledBetaPrior(priors, s, predictors),
  };
}

/** `{ beta }` in standardized units where the data have predictors or a beta prior is given; `{}` otherwise. */
function scaledBetaPrior(priors: Priors, s: DataScale, predictors: readonly string[]): { beta?: MuPrior } {
  if (priors.beta === undefined && predictors.length === 0) return {};
  const b = betaPrior(priors);
  return { beta: { ...b, loc: b.loc / s.scale, scale: b.scale / s.scale } };
}

/**
 * Maps unconstrained positions (rows of the model's layout, `layout.ts`: mu, log tau, the
 * family's globals, the coefficients beta, z_k) from standardized units to the user's, in
 * place (see the module comment for z, the globals and beta = scale beta'). `family`: the
 * data's family (absent: one without globals); `predictors`: the data's predictor names
 * (`data.predictors?.names`; none: rows without coefficients).
 */
export function unscalePositions(pos: Float32Array | Float64Array, c: Centeredness, s: DataScale, family?: Family, predictors: readonly string[] = []): void {
  const K = c.length;
  const layout = makeLayout(K, family ? familyGlobals(family).map((g) => g.name) : [], predictors);
  const D = layout.dim;
  if (pos.length % D !== 0) throw new RangeError(`${pos.length} position values are not rows of ${D} (K = ${K}, ${layout.globals.join(', ')})`);
  const iMu = layout.global('mu');
  const iS = layout.global('log_tau');
  const iLogScales = Int32Array.from(family ? logScaleGlobals(family) : [], (g) => layout.global(g.name));
  const z0 = layout.groupStart;
  const { start: b0, count: P } = layout.beta;
  const logScale = Math.log(s.scale);
  const powers = Float64Array.from(c, (ck) => s.scale ** ck);
  for (let row = 0; row + D <= pos.length; row += D) {
    const mu = pos[row + iMu];
    pos[row + iMu] = s.shift + s.scale * mu;
    pos[row + iS] = pos[row + iS] + logScale;
    for (const i of iLogScales) pos[row + i] = pos[row + i] + logScale;
    for (let p = 0; p < P; p++) pos[row + b0 + p] = s.scale * pos[row + b0 + p];
    for (let k = 0; k < K; k++) {
      const ck = c[k];
      pos[row + z0 + k] = ck * s.shift + powers[k] * (pos[row + z0 + k] - ck * mu) + ck * s.scale * mu;
    }
  }
}

/**
 * The constant that turns a standardized run's log density into the user's:
 * (1 - sum c_k) log scale, plus (1 - N) log scale where the family has a global in y's log
 * units (see the module comment). `family` and `observations` (N): the data's (absent: a
 * family without such globals). Predictors add nothing (see the module comment).
 */
export function logDensityOffset(c: Centeredness, s: DataScale, family?: Family, observations = 0): number {
  let sum = 0;
  for (let k = 0; k < c.length; k++) sum += c[k];
  const logScale = Math.log(s.scale);
  const globals = family ? logScaleGlobals(family).length : 0;
  // Each such global's prior: +log scale; the likelihood's density in y: -N log scale (once).
  return (1 - sum) * logScale + globals * logScale - (globals > 0 ? observations * logScale : 0);
}

/**
 * A run's constrained draws (`sampler/constrain.ts` names) from standardized units to the
 * user's: location parameters (mu, theta[...]) as shift + scale v (float64 where there is a
 * shift: 1000 + 1e-5 v would round to a few values in float32), scales (tau, and sigma of a
 * family global in y's log units) and the coefficients (beta[...]) as scale v, their logs
 * (log_tau, log_sigma) as v + log scale; scales, coefficients and logs in place. Throws a
 * RangeError for a name it has no rule for.
 */
export function unscaleParams(params: Readonly<Record<string, Float32Array | Float64Array>>, family: Family, s: DataScale): Record<string, Float32Array | Float64Array> {
  const { shift, scale } = s;
  const logScale = Math.log(scale);
  const globals = logScaleGlobals(family);
  const scales = new Set(['tau', ...globals.map((g) => g.constrained.name)]);
  const logs = new Set(['log_tau', ...globals.map((g) => g.name)]);
  const out: Record<string, Float32Array | Float64Array> = {};
  for (const [name, a] of Object.entries(params)) {
    if (scales.has(name) || name.startsWith('beta[')) {
      for (let i = 0; i < a.length; i++) a[i] = scale * a[i];
      out[name] = a;
    } else if (logs.has(name)) {
      for (let i = 0; i < a.length; i++) a[i] = a[i] + logScale;
      out[name] = a;
    } else if (name === 'mu' || name.startsWith('theta[')) {
      if (shift === 0) {
        for (let i = 0; i < a.length; i++) a[i] = scale * a[i];
        out[name] = a;
      } else {
        const moved = typeof SharedArrayBuffer === 'function' ? new Float64Array(new SharedArrayBuffer(a.length * 8)) : new Float64Array(a.length);
        for (let i = 0; i < a.length; i++) moved[i] = shift + scale * a[i];
        out[name] = moved;
      }
    } else {
      throw new RangeError(`no rule for the units of the parameter '${name}' of the ${family.id} likelihood`);
    }
  }
  return out;
}
