/**
 * Unconstrained sampler positions (mu, s = log tau, the family's globals x, the coefficients
 * beta, z_0..z_{K-1}: `model/layout.ts`) to the named draws users see: mu, tau = e^s,
 * log_tau = s; for each global of the likelihood family (`Family.globals`: the normal
 * likelihood with sigma unknown has x = log sigma) its constrained value and x (`sigma` =
 * e^x, `log_sigma` = x);
 * each population-level coefficient as it is (`beta[<name>]`, its coordinate: `layout.beta`);
 * theta_k = mu + tau^(1-c_k) (z_k - c_k mu) (Gorinova, Moore & Hoffman 2020); and where the
 * likelihood family has a per-group outcome
 * (`Family.outcome`: binomial p = inv_logit(theta), Poisson rate = e^theta) that outcome of
 * each theta_k, named `<outcome>[<label>]`; computed in float64 and stored as float32,
 * chain-major. With predictors, theta_k is group k's intercept (eta_i = theta[g_i] + x_i .
 * beta) and the family's outcome of theta_k is group k's outcome at x = 0.
 *
 * `rowConstrainer` works on any range of rows, so a backend can fill the draws chunk by
 * chunk while the device samples the next one (the WebGPU backend does, as it unpacks each
 * readback); `constrainDraws` is the whole recording at once. Both give the same bits.
 */
import { familyGlobals } from '../model/family.ts';
import { betaName } from '../model/layout.ts';
import { thetaOf, type HierModel } from '../model/model.ts';
import type { RecordedDraws } from './backend.ts';

/** The hierarchy's global draws, first of every run's: mu, tau, log_tau. */
const HIERARCHY_DRAWS = 3;

/**
 * Names of the constrained draws, in their order: mu, tau, log_tau, each family global's
 * constrained name and its own (sigma, log_sigma), beta[name] per predictor (if any),
 * theta[label], then the family's outcome[label] (if any).
 */
export function constrainedNames(model: HierModel): string[] {
  const { labels, family } = model.stats;
  const outcome = family.outcome;
  return [
    'mu',
    'tau',
    'log_tau',
    ...familyGlobals(family).flatMap((g) => [g.constrained.name, g.name]),
    ...predictorNames(model).map(betaName),
    ...labels.map((l) => `theta[${l}]`),
    ...(outcome ? labels.map((l) => `${outcome.name}[${l}]`) : []),
  ];
}

/** The model's predictor names, in coordinate order (none without predictors). */
function predictorNames(model: HierModel): readonly string[] {
  return model.predictors?.names ?? [];
}

/**
 * One float32 array of `rows` draws per constrained name, each on its own SharedArrayBuffer
 * where there is one (Node; a cross-origin-isolated page), so that the summary's worker
 * threads read the draws where they are rather than from a copy made after sampling
 * (`summarizeParallel`: 12 copies of 16 MB for the main job).
 */
export function allocateConstrained(model: HierModel, rows: number): Float32Array[] {
  const canShare = typeof SharedArrayBuffer === 'function';
  return constrainedNames(model).map(() => (canShare ? new Float32Array(new SharedArrayBuffer(rows * 4)) : new Float32Array(rows)));
}

/**
 * A function that writes the constrained draws of position rows from..to-1 (row i at
 * pos[i * D]) into out[name][i]. What depends only on the model (each group's kind, the
 * theta outputs) is worked out once here, not per call: a backend calls it per chain per
 * readback. One exponential per row serves every non-centered group (tau^1) and none is
 * needed for a centered one (tau^0 = 1); only groups with 0 < c < 1 take their own.
 */
export function rowConstrainer(model: HierModel, out: readonly Float32Array[]): (pos: Float32Array | Float64Array, from: number, to: number) => void {
  const D = model.dim;
  const K = model.stats.K;
  const c = model.c;
  const iMu = model.layout.global('mu');
  const iLogTau = model.layout.global('log_tau');
  const iZ0 = model.layout.group(0);
  const [muOut, tauOut, sOut] = out;
  // The family's globals: (constrained, x) output pairs after the hierarchy's, from their coordinates.
  const globals = familyGlobals(model.stats.family).map((g, j) => ({
    at: model.layout.global(g.name),
    of: g.constrained.of,
    constrained: out[HIERARCHY_DRAWS + 2 * j],
    x: out[HIERARCHY_DRAWS + 2 * j + 1],
  }));
  // The coefficients beta_p (as they are) after the globals, from layout.beta.
  const betaAt = HIERARCHY_DRAWS + 2 * globals.length;
  const P = model.layout.beta.count;
  if (P !== predictorNames(model).length) throw new RangeError(`the layout has ${P} coefficients, the model ${predictorNames(model).length} predictors`);
  const iBeta0 = model.layout.beta.start;
  const beta = out.slice(betaAt, betaAt + P);
  const first = betaAt + P;
  const theta = out.slice(first, first + K);
  const outcome = model.stats.family.outcome;
  const of = outcome?.of;
  const outcomeOut = outcome ? out.slice(first + K, first + 2 * K) : [];
  // 0: non-centered (tau^1), 1: centered (tau^0), 2: partial (its own power)
  const kind = Uint8Array.from(c, (ck) => (ck === 0 ? 0 : ck === 1 ? 1 : 2));
  return (pos, from, to) => {
    for (let i = from; i < to; i++) {
      const row = i * D;
      const mu = pos[row + iMu];
      const s = pos[row + iLogTau];
      const tau = Math.exp(s);
      muOut[i] = mu;
      tauOut[i] = tau;
      sOut[i] = s;
      for (const g of globals) {
        const x = pos[row + g.at];
        g.constrained[i] = g.of(x);
        g.x[i] = x;
      }
      for (let p = 0; p < P; p++) beta[p][i] = pos[row + iBeta0 + p];
      for (let k = 0; k < K; k++) {
        const z = pos[row + iZ0 + k];
        const kk = kind[k];
        const t = kk === 0 ? mu + tau * z : kk === 1 ? z : thetaOf(mu, s, z, c[k]);
        theta[k][i] = t;
        // From theta in float64, before it is rounded to float32.
        if (of) outcomeOut[k][i] = of(t);
      }
    }
  };
}

/** Maps recorded unconstrained positions to named constrained draws (all rows; see `rowConstrainer`). */
export function constrainDraws(model: HierModel, rec: RecordedDraws): { params: Record<string, Float32Array>; paramNames: string[] } {
  const n = rec.retainedChains * rec.draws;
  const out = allocateConstrained(model, n);
  rowConstrainer(model, out)(rec.positions, 0, n);
  return namedConstrained(model, out);
}

/** The constrained arrays (in `constrainedNames` order) keyed by name. */
export function namedConstrained(model: HierModel, arrays: readonly Float32Array[]): { params: Record<string, Float32Array>; paramNames: string[] } {
  const names = constrainedNames(model);
  if (arrays.length !== names.length) throw new RangeError(`expected ${names.length} constrained arrays, got ${arrays.length}`);
  return { params: Object.fromEntries(names.map((nm, i) => [nm, arrays[i]])), paramNames: names };
}
