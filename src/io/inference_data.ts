/**
 * A FunnelWeb run as ArviZ InferenceData: named groups of labelled arrays, the in-memory
 * form that `netcdf.ts` (netCDF-4/HDF5) and `zarr.ts` (Zarr v2) serialise. Pure: no file
 * system, so the demo page exports with the same code.
 *
 * Schema (ArviZ's InferenceData specification, arviz-devs/arviz `schema.md`): every group
 * is an xarray Dataset; sample variables have the leading dimensions (chain, draw); every
 * dimension has a coordinate (ArviZ writes integer coordinates 0..n-1 for unnamed ones);
 * no variable shares its name with a dimension; each group carries the attributes
 * `created_at`, `inference_library` and `inference_library_version` (and ArviZ 1.0's
 * `creation_library*`).
 *
 * Groups written:
 * - `posterior`: mu, tau (chain, draw); for a likelihood family with a global parameter
 *   (`Family.globals`: the normal likelihood with sigma unknown) its constrained value and
 *   its unconstrained coordinate (sigma, log_sigma) (chain, draw); theta and z (chain, draw, group) with the group
 *   labels as the `group` coordinate; z is the unconstrained per-group coordinate of the
 *   run's parameterization (z_k = c_k mu + tau^{c_k - 1} (theta_k - mu), so z = theta for
 *   centered groups and the standardised offset for non-centered ones); where the likelihood
 *   family has a per-group outcome (`Family.outcome`: binomial `p`, Poisson `rate`), that
 *   outcome (chain, draw, group) too. With population-level predictors (`HierData.predictors`:
 *   eta_i = theta[g_i] + x_i . beta), beta (chain, draw, predictor) with the predictor names
 *   as the `predictor` coordinate; theta is then each group's intercept.
 * - `sample_stats`: lp, energy, acceptance_rate, step_size, n_steps, diverging
 *   (chain, draw); where transitions diverged, the points at which they diverged
 *   (divergence_chain, divergence_draw, divergence_mu, divergence_tau, the family
 *   globals' divergence_sigma, divergence_beta (divergence, predictor) with predictors,
 *   divergence_theta, divergence_z along a `divergence` dimension).
 * - `observed_data`: y (observation) with `obs_group` (the label of each observation's
 *   group) as a coordinate; `constant_data`: the likelihood family's columns (observation):
 *   sigma (normal), trials (binomial), exposure (Poisson), and with predictors the design X
 *   (observation, predictor). For a count family (yInteger) y,
 *   y_rep and the whole-number columns are int64, as PyMC writes discrete data (ArviZ then
 *   draws their predictive checks as discrete); otherwise float64.
 * - `posterior_predictive`: y_rep (chain, draw, observation), one draw of the family's
 *   observation model (`Family.predict`, given the draw's linear predictor eta_i =
 *   theta[g_i] (+ x_i . beta) and family global) per posterior draw, for the first chains whose
 *   replicates fit `maxPredictiveValues` (attribute `retained_chains`).
 *
 * Every group's attributes name the likelihood (`likelihood`, `likelihood_formula`), and with
 * predictors the linear predictor that takes theta[g_i]'s place in the formula
 * (`linear_predictor`) and the predictors (`predictors`, comma-separated).
 * - `warmup_sample_stats`: what the adaptation history holds — one value per warmup
 *   iteration for the whole ensemble (ChEES adapts one step size and trajectory length
 *   for all chains), so its variables have a `draw` dimension and no `chain` dimension.
 *
 * With more chains than the run retained (its draw budget), the sample groups hold the
 * retained chains, a prefix of all chains; the attributes `chains` and `retained_chains`
 * say so.
 */
import pkg from '../../package.json' with { type: 'json' };
import type { HierData } from '../model/data.ts';
import { familyGlobals, type Family, type Variates } from '../model/family.ts';
import { familyOf } from '../model/families/index.ts';
import { betaName } from '../model/layout.ts';
import { keyFromSeed, philox4x32Into, toUnit, type PhiloxKey } from '../sampler/rng.ts';
import type { SampleResult } from '../sampler/sample.ts';

/** FunnelWeb's version (package.json), written as `inference_library_version`. */
export const FUNNELWEB_VERSION: string = pkg.version;

/**
 * Most values of `posterior_predictive.y_rep` written (2^22: 16 MiB as float32); a
 * prefix of the chains whose chains x draws x N replicates fit is kept.
 */
export const MAX_PREDICTIVE_VALUES = 2 ** 22;

/**
 * Philox counter word 0 of the posterior predictive stream. Sampling iterations count up
 * from 0 and initial points use 2^32 - 1 (`rng.ts` INIT_ITERATION), so 2^32 - 2 is a
 * stream no transition draws from.
 */
export const PREDICTIVE_STREAM = 0xfffffffe;

/** The linear predictor with population-level predictors, as the files' attributes state it. */
const LINEAR_PREDICTOR = 'eta_i = theta[g_i] + x_i . beta';

/** Array payloads: float, integer, boolean (0/1 bytes with `bool`), int64 coordinates, strings. */
export type IdArray = Float64Array | Float32Array | Int32Array | BigInt64Array | Uint8Array | readonly string[];

export type AttrValue = string | number;

/** One variable of a group; a variable named like its only dimension is that dimension's coordinate. */
export interface IdVariable {
  readonly name: string;
  readonly dims: readonly string[];
  /** Row-major (C order) values, length = product of the dimension sizes. */
  readonly data: IdArray;
  /** `Uint8Array` data holds booleans. */
  readonly bool?: boolean;
  /** Non-dimension coordinates of this variable (CF `coordinates`). */
  readonly coordinates?: readonly string[];
  readonly attrs?: Readonly<Record<string, AttrValue>>;
}

export interface IdGroup {
  readonly name: string;
  /** Dimension sizes, in order of first use. */
  readonly dims: Readonly<Record<string, number>>;
  /** Coordinates first, then data variables. */
  readonly variables: readonly IdVariable[];
  readonly attrs: Readonly<Record<string, AttrValue>>;
}

export interface InferenceData {
  readonly groups: readonly IdGroup[];
  /** Attributes of the root. */
  readonly attrs: Readonly<Record<string, AttrValue>>;
}

export interface InferenceDataOptions {
  /** The seed of the run (recorded, and keys the posterior predictive draws). */
  readonly seed?: number;
  /** Creation time (default now); written as ISO 8601 UTC. */
  readonly createdAt?: Date;
  /** Bound on y_rep values (default MAX_PREDICTIVE_VALUES). */
  readonly maxPredictiveValues?: number;
}

/** Integer coordinate 0..n-1 (int64, as ArviZ writes default coordinates). */
function indexCoord(name: string, n: number): IdVariable {
  const data = new BigInt64Array(n);
  for (let i = 0; i < n; i++) data[i] = BigInt(i);
  return { name, dims: [name], data };
}

function checkGroup(g: IdGroup): IdGroup {
  for (const v of g.variables) {
    let n = 1;
    for (const d of v.dims) {
      const size = g.dims[d];
      if (size === undefined) throw new Error(`${g.name}/${v.name}: dimension '${d}' is not declared`);
      n *= size;
    }
    if (v.data.length !== n) throw new Error(`${g.name}/${v.name}: ${v.data.length} values for shape ${v.dims.map((d) => g.dims[d]).join(' x ')}`);
  }
  return g;
}

/** ISO 8601 in UTC with microseconds, as ArviZ's `created_at` (datetime.isoformat()). */
function isoUtc(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000+00:00');
}

/** 2^-53, for 53-bit uniforms from two 32-bit words. */
const TWO_POW_M53 = 2 ** -53;

/**
 * The posterior predictive variates of one posterior draw (chain c, draw d): a stream of
 * Philox4x32-10 blocks, counter (PREDICTIVE_STREAM, c, d, b) for b = 0, 1, 2, ..., keyed by
 * the seed, read word by word in order across the observations.
 *
 * - `normal()`: Box–Muller on two words u1, u2 (each `toUnit`, 23 bits, in (0, 1)):
 *   sqrt(-2 log u1) cos(2 pi u2), and the sine of the same pair on the next call. A family
 *   that takes one normal per observation (normal) so gives observations 4b..4b+3 the four
 *   normals of block b, as FunnelWeb has always written y_rep.
 * - `uniform()`: two words as one 53-bit uniform in (0, 1) (the inversion of a count
 *   variate needs more than 23 bits in its tails).
 */
export class PredictiveVariates implements Variates {
  private readonly words = new Uint32Array(4);
  private next = 4;
  private block = 0;
  private spare = NaN;
  private c = 0;
  private d = 0;

  constructor(private readonly key: PhiloxKey) {}

  /** Starts the stream of posterior draw (chain, draw). */
  start(chain: number, draw: number): void {
    this.c = chain;
    this.d = draw;
    this.block = 0;
    this.next = 4;
    this.spare = NaN;
  }

  private word(): number {
    if (this.next === 4) {
      philox4x32Into(PREDICTIVE_STREAM, this.c, this.d, this.block++, this.key[0], this.key[1], this.words);
      this.next = 0;
    }
    return this.words[this.next++];
  }

  normal(): number {
    if (!Number.isNaN(this.spare)) {
      const z = this.spare;
      this.spare = NaN;
      return z;
    }
    const r = Math.sqrt(-2 * Math.log(toUnit(this.word())));
    const a = 2 * Math.PI * toUnit(this.word());
    this.spare = r * Math.sin(a);
    return r * Math.cos(a);
  }

  uniform(): number {
    const hi = this.word() >>> 5; // 27 bits
    const lo = this.word() >>> 6; // 26 bits
    return (hi * 2 ** 26 + lo) * TWO_POW_M53 + TWO_POW_M53 / 2;
  }
}

/**
 * One posterior predictive draw of every observation for every retained posterior draw of the
 * first `chains` chains: y_rep[(c * draws + d) * N + i] = family.predict(data, i,
 * eta_i of (c, d), rng, x of (c, d)), eta_i = theta[g_i] + x_i . beta (theta[g_i] without
 * predictors; in float64 from the stored draws), x the family's global where it has one (log
 * sigma), with the variates of `PredictiveVariates`.
 *
 * Stored as int64 for a count family (whole numbers; float64 in the odd case of a value that
 * int64 cannot hold exactly, a count beyond 2^53), else as float32, or float64 where theta is
 * (shifted data: 1000 + 1e-5 noise would round in float32).
 */
function predictive(result: SampleResult, data: HierData, family: Family, seed: number, chains: number): Float32Array | Float64Array | BigInt64Array {
  const { draws } = result;
  const N = data.y.length;
  const theta = data.labels.map((l) => result.params[`theta[${l}]`]);
  // The family's global (at most one, `MAX_FAMILY_GLOBALS`): its unconstrained draws.
  const g = familyGlobals(family)[0];
  const xs = g && result.params[g.name];
  if (g && !xs) throw new Error(`posterior_predictive: the run has no draws of ${g.name}`);
  // Population-level predictors: each draw's coefficients, and the design X (N x P).
  const names = data.predictors?.names ?? [];
  const P = names.length;
  const X = data.predictors?.X;
  const beta = names.map((n) => {
    const b = result.params[betaName(n)];
    if (!b) throw new Error(`posterior_predictive: the run has no draws of ${betaName(n)}`);
    return b;
  });
  const size = chains * draws * N;
  const out = new (family.yInteger || theta.some((t) => t instanceof Float64Array) ? Float64Array : Float32Array)(size);
  const rng = new PredictiveVariates(keyFromSeed(seed));
  const group = data.group;
  const b = new Float64Array(P);
  for (let c = 0; c < chains; c++) {
    for (let d = 0; d < draws; d++) {
      const i = c * draws + d;
      const base = i * N;
      rng.start(c, d);
      const x = xs ? xs[i] : undefined;
      for (let p = 0; p < P; p++) b[p] = beta[p][i];
      for (let o = 0; o < N; o++) {
        let eta = theta[group[o]][i];
        for (let p = 0; p < P; p++) eta += X![o * P + p] * b[p];
        out[base + o] = family.predict(data, o, eta, rng, x);
      }
    }
  }
  return family.yInteger ? asInt64(out) : out;
}

/**
 * Whole numbers as int64 (what PyMC writes for discrete data, and what ArviZ takes as
 * discrete), or the values as they are where one is not a whole number int64 holds exactly.
 */
function asInt64<T extends Float32Array | Float64Array>(values: T): BigInt64Array | T {
  for (let i = 0; i < values.length; i++) if (!Number.isSafeInteger(values[i])) return values;
  const out = new BigInt64Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = BigInt(values[i]);
  return out;
}

/**
 * Builds the InferenceData of a run (see the module comment for the schema).
 *
 * @param result what `sample` returned
 * @param data the data it ran on (observed_data, constant_data, posterior_predictive)
 */
export function toInferenceData(result: SampleResult, data: HierData, opts: InferenceDataOptions = {}): InferenceData {
  const rec = result.records;
  const C = rec.retainedChains;
  const Dr = result.draws;
  const K = data.K;
  const N = data.y.length;
  const labels = result.model.stats.labels;
  const D = result.model.dim;
  const c = result.model.c;
  const iMu = result.model.layout.global('mu');
  const iLogTau = result.model.layout.global('log_tau');
  const iZ0 = result.model.layout.group(0);
  const seed = opts.seed ?? 0;
  const family = familyOf(data.likelihood);
  const outcome = family.outcome;
  // Population-level predictors: names (the `predictor` coordinate) and their coefficients' coordinates.
  const predictorNames = data.predictors?.names ?? [];
  const P = predictorNames.length;
  const betaLayout = result.model.layout.beta;
  if (betaLayout.count !== P) throw new Error(`the run's model has ${betaLayout.count} coefficients, the data ${P} predictors`);
  const common: Record<string, AttrValue> = {
    created_at: isoUtc(opts.createdAt ?? new Date()),
    inference_library: 'funnelweb',
    inference_library_version: FUNNELWEB_VERSION,
    creation_library: 'funnelweb',
    creation_library_version: FUNNELWEB_VERSION,
    creation_library_language: 'TypeScript',
    likelihood: family.id,
    likelihood_formula: family.formula,
    ...(P > 0 && { linear_predictor: LINEAR_PREDICTOR, predictors: predictorNames.join(',') }),
  };
  const runAttrs: Record<string, AttrValue> = {
    ...common,
    sampler: 'ChEES-HMC',
    backend: `${result.backend.name} [${result.backend.adapter}]`,
    chains: result.chains,
    retained_chains: C,
    chains_note:
      C < result.chains
        ? `the file holds chains 0..${C - 1} of ${result.chains} (the run's draw budget retained a prefix; all chains ran)`
        : `all ${result.chains} chains`,
    tuning_steps: result.warmup,
    sampling_time: result.timing.warmup_s + result.timing.sampling_s,
    seed,
    centeredness: Array.from(c).join(','),
  };
  const groupCoord: IdVariable = { name: 'group', dims: ['group'], data: labels };
  const predictorCoord: IdVariable = { name: 'predictor', dims: ['predictor'], data: predictorNames };
  const CD = C * Dr;

  // posterior: constrained draws, and z from the unconstrained positions.
  // float64 where the run stored theta so (standardized units with a shift: model/scale.ts)
  const theta = new (labels.some((l) => result.params[`theta[${l}]`] instanceof Float64Array) ? Float64Array : Float32Array)(CD * K);
  const z = new (rec.positions instanceof Float64Array ? Float64Array : Float32Array)(CD * K);
  for (let i = 0; i < CD; i++) {
    for (let k = 0; k < K; k++) z[i * K + k] = rec.positions[i * D + iZ0 + k];
  }
  labels.forEach((l, k) => {
    const t = result.params[`theta[${l}]`];
    for (let i = 0; i < CD; i++) theta[i * K + k] = t[i];
  });
  // The family's per-group outcome (p, rate), as the run stored it (float32, from theta in float64).
  const outcomeVars: IdVariable[] = [];
  if (outcome) {
    const o = new Float32Array(CD * K);
    labels.forEach((l, k) => {
      const t = result.params[`${outcome.name}[${l}]`];
      for (let i = 0; i < CD; i++) o[i * K + k] = t[i];
    });
    outcomeVars.push({ name: outcome.name, dims: ['chain', 'draw', 'group'], data: o, attrs: { description: `${outcome.help} of each group` } });
  }
  // The family's globals: the constrained value and the coordinate (sigma and log_sigma), as the run stored them.
  const globals = familyGlobals(family);
  const globalVars: IdVariable[] = globals.flatMap((g) => [
    { name: g.constrained.name, dims: ['chain', 'draw'], data: result.params[g.constrained.name], attrs: { description: g.constrained.help } },
    { name: g.name, dims: ['chain', 'draw'], data: result.params[g.name], attrs: { description: `log of ${g.constrained.name}: the sampler's unconstrained coordinate` } },
  ]);
  // The coefficients (chain, draw, predictor), as the run stored them (float32, or float64 if it stored them so).
  const betaVars: IdVariable[] = [];
  if (P > 0) {
    const columns = predictorNames.map((n) => {
      const b = result.params[betaName(n)];
      if (!b) throw new Error(`posterior: the run has no draws of ${betaName(n)}`);
      return b;
    });
    const beta = new (columns.some((b) => b instanceof Float64Array) ? Float64Array : Float32Array)(CD * P);
    columns.forEach((b, p) => {
      for (let i = 0; i < CD; i++) beta[i * P + p] = b[i];
    });
    betaVars.push({ name: 'beta', dims: ['chain', 'draw', 'predictor'], data: beta, attrs: { description: `population-level coefficient of each predictor: ${LINEAR_PREDICTOR}` } });
  }
  const posterior = checkGroup({
    name: 'posterior',
    dims: { chain: C, draw: Dr, group: K, ...(P > 0 && { predictor: P }) },
    variables: [
      indexCoord('chain', C),
      indexCoord('draw', Dr),
      groupCoord,
      ...(P > 0 ? [predictorCoord] : []),
      { name: 'mu', dims: ['chain', 'draw'], data: result.params.mu },
      { name: 'tau', dims: ['chain', 'draw'], data: result.params.tau },
      ...globalVars,
      ...betaVars,
      { name: 'theta', dims: ['chain', 'draw', 'group'], data: theta },
      {
        name: 'z',
        dims: ['chain', 'draw', 'group'],
        data: z,
        attrs: { description: 'unconstrained coordinate of each group: z_k = c_k mu + tau^(c_k - 1) (theta_k - mu), c = centeredness' },
      },
      ...outcomeVars,
    ],
    attrs: runAttrs,
  });

  // sample_stats
  const stepSize = new Float64Array(CD).fill(result.stepSize);
  const nSteps = new Int32Array(CD);
  for (let ch = 0; ch < C; ch++) nSteps.set(result.numSteps, ch * Dr);
  const nd = rec.divergentChain.length;
  const statsVars: IdVariable[] = [
    indexCoord('chain', C),
    indexCoord('draw', Dr),
    { name: 'lp', dims: ['chain', 'draw'], data: rec.logDensity },
    { name: 'energy', dims: ['chain', 'draw'], data: rec.energy },
    { name: 'acceptance_rate', dims: ['chain', 'draw'], data: rec.acceptProb },
    { name: 'step_size', dims: ['chain', 'draw'], data: stepSize },
    { name: 'n_steps', dims: ['chain', 'draw'], data: nSteps },
    { name: 'diverging', dims: ['chain', 'draw'], data: rec.divergent, bool: true },
  ];
  const statsDims: Record<string, number> = { chain: C, draw: Dr };
  if (nd > 0) {
    // A dimension of length 0 reads as unlimited in netCDF-4, so with no divergence the
    // variables are left out (attribute n_divergences = 0).
    statsDims.divergence = nd;
    statsDims.group = K;
    if (P > 0) statsDims.predictor = P;
    const dMu = new Float64Array(nd);
    const dTau = new Float64Array(nd);
    const dGlobals = globals.map((g) => ({ g, at: result.model.layout.global(g.name), values: new Float64Array(nd) }));
    const dBeta = new Float64Array(nd * P);
    const dTheta = new Float64Array(nd * K);
    const dZ = new Float64Array(nd * K);
    for (let j = 0; j < nd; j++) {
      const q = rec.divergentPositions.subarray(j * D, (j + 1) * D);
      const mu = q[iMu];
      const tau = Math.exp(q[iLogTau]);
      dMu[j] = mu;
      dTau[j] = tau;
      for (const d of dGlobals) d.values[j] = d.g.constrained.of(q[d.at]);
      for (let p = 0; p < P; p++) dBeta[j * P + p] = q[betaLayout.start + p];
      for (let k = 0; k < K; k++) {
        const zk = q[iZ0 + k];
        dZ[j * K + k] = zk;
        dTheta[j * K + k] = mu + Math.pow(tau, 1 - c[k]) * (zk - c[k] * mu);
      }
    }
    const chainOf = new Int32Array(rec.divergentChain);
    const drawOf = new Int32Array(rec.divergentDraw);
    statsVars.push(
      indexCoord('divergence', nd),
      groupCoord,
      ...(P > 0 ? [predictorCoord] : []),
      { name: 'divergence_chain', dims: ['divergence'], data: chainOf },
      { name: 'divergence_draw', dims: ['divergence'], data: drawOf },
      { name: 'divergence_mu', dims: ['divergence'], data: dMu },
      { name: 'divergence_tau', dims: ['divergence'], data: dTau },
      ...dGlobals.map((d) => ({ name: `divergence_${d.g.constrained.name}`, dims: ['divergence'], data: d.values })),
      ...(P > 0 ? [{ name: 'divergence_beta', dims: ['divergence', 'predictor'], data: dBeta }] : []),
      { name: 'divergence_theta', dims: ['divergence', 'group'], data: dTheta },
      { name: 'divergence_z', dims: ['divergence', 'group'], data: dZ },
    );
  }
  const sampleStats = checkGroup({
    name: 'sample_stats',
    dims: statsDims,
    variables: statsVars,
    attrs: {
      ...runAttrs,
      step_size_note: 'one step size for all chains after adaptation; n_steps is the jittered number of leapfrog steps of each iteration, shared by all chains',
      n_divergences: nd,
      divergence_note: 'divergence_* hold the point (of the retained chains) at which each divergent trajectory was stopped',
    },
  });

  // observed_data and constant_data
  const obsGroup = Array.from(data.group, (g) => labels[g]);
  const observed = checkGroup({
    name: 'observed_data',
    dims: { observation: N },
    variables: [
      indexCoord('observation', N),
      { name: 'obs_group', dims: ['observation'], data: obsGroup },
      { name: 'y', dims: ['observation'], data: family.yInteger ? asInt64(data.y) : data.y, coordinates: ['obs_group'] },
    ],
    attrs: common,
  });
  // The family's columns; the one named sigma is HierData's own field, the others are in `columns`.
  const columnVars: IdVariable[] = family.columns.map((spec) => {
    const values = spec.name === 'sigma' ? data.sigma : data.columns?.[spec.name];
    if (!values || values.length !== N) throw new Error(`constant_data: the data have no ${spec.name} column of ${N} values`);
    return { name: spec.name, dims: ['observation'], data: spec.integer ? asInt64(values) : values, coordinates: ['obs_group'], attrs: { description: spec.help } };
  });
  // The design matrix (observation, predictor), as given.
  const designVars: IdVariable[] = P > 0 ? [{ name: 'X', dims: ['observation', 'predictor'], data: data.predictors!.X, coordinates: ['obs_group'], attrs: { description: `predictors of each observation (row-major): ${LINEAR_PREDICTOR}` } }] : [];
  const constant = checkGroup({
    name: 'constant_data',
    dims: { observation: N, ...(P > 0 && { predictor: P }) },
    variables: [indexCoord('observation', N), ...(P > 0 ? [predictorCoord] : []), { name: 'obs_group', dims: ['observation'], data: obsGroup }, ...columnVars, ...designVars],
    attrs: common,
  });

  // posterior_predictive, bounded
  const maxValues = opts.maxPredictiveValues ?? MAX_PREDICTIVE_VALUES;
  const ppChains = Math.max(0, Math.min(C, Math.floor(maxValues / Math.max(1, Dr * N))));
  const groups: IdGroup[] = [posterior, sampleStats];
  // The observation model with y_rep for y and obs_group for g_i: "y_rep ~ Normal(theta[obs_group], sigma)".
  const replicate =
    family.formula.replace(/^y_i ~ /, 'y_rep ~ ').replace(/\[g_i\]/g, '[obs_group]').replace(/_i\b/g, '') +
    (P > 0 ? ` with theta[obs_group] + X . beta in place of theta[obs_group]` : '');
  if (ppChains > 0) {
    groups.push(
      checkGroup({
        name: 'posterior_predictive',
        dims: { chain: ppChains, draw: Dr, observation: N },
        variables: [
          indexCoord('chain', ppChains),
          indexCoord('draw', Dr),
          indexCoord('observation', N),
          { name: 'obs_group', dims: ['observation'], data: obsGroup },
          { name: 'y_rep', dims: ['chain', 'draw', 'observation'], data: predictive(result, data, family, seed, ppChains), coordinates: ['obs_group'] },
        ],
        attrs: {
          ...common,
          retained_chains: ppChains,
          max_values: maxValues,
          note:
            ppChains < C
              ? `${replicate} for chains 0..${ppChains - 1} of the ${C} in posterior (bounded to ${maxValues} values)`
              : `${replicate} for every draw in posterior`,
        },
      }),
    );
  }
  groups.push(observed, constant);

  // warmup_sample_stats: the ensemble's adaptation history, one value per iteration.
  const h = result.adaptation;
  const W = h.stepSize.length;
  if (W > 0) {
    groups.push(
      checkGroup({
        name: 'warmup_sample_stats',
        dims: { draw: W },
        variables: [
          indexCoord('draw', W),
          { name: 'step_size', dims: ['draw'], data: h.stepSize },
          { name: 'trajectory_length', dims: ['draw'], data: h.trajectoryLength },
          { name: 'n_steps', dims: ['draw'], data: h.numSteps },
          { name: 'acceptance_rate', dims: ['draw'], data: h.meanAccept },
          { name: 'harmonic_mean_acceptance_rate', dims: ['draw'], data: h.harmonicMeanAccept },
          { name: 'n_divergences', dims: ['draw'], data: h.divergences },
        ],
        attrs: {
          ...common,
          chains: result.chains,
          note: 'one value per warmup iteration for the whole ensemble (ChEES adapts one step size and trajectory length shared by all chains): no chain dimension. acceptance_rate is the mean over chains, n_divergences the count over chains.',
        },
      }),
    );
  }
  return { groups, attrs: { ...common, groups: groups.map((g) => g.name).join(',') } };
}
