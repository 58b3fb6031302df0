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
 * - `posterior`: mu, tau (chain, draw); theta and z (chain, draw, group) with the group
 *   labels as the `group` coordinate; z is the unconstrained per-group coordinate of the
 *   run's parameterization (z_k = c_k mu + tau^{c_k - 1} (theta_k - mu), so z = theta for
 *   centered groups and the standardised offset for non-centered ones).
 * - `sample_stats`: lp, energy, acceptance_rate, step_size, n_steps, diverging
 *   (chain, draw); where transitions diverged, the points at which they diverged
 *   (divergence_chain, divergence_draw, divergence_mu, divergence_tau,
 *   divergence_theta, divergence_z along a `divergence` dimension).
 * - `observed_data`: y (observation) with `obs_group` (the label of each observation's
 *   group) as a coordinate; `constant_data`: sigma (observation).
 * - `posterior_predictive`: y_rep (chain, draw, observation) for the first chains whose
 *   replicates fit `maxPredictiveValues` (attribute `retained_chains`).
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
import { keyFromSeed, philox4x32Into, toUnit } from '../sampler/rng.ts';
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

/** Samples the observation model y_rep_i ~ Normal(theta[g_i], sigma_i) with Philox + Box–Muller. */
function predictive(result: SampleResult, data: HierData, seed: number, chains: number): Float32Array | Float64Array {
  const { draws } = result;
  const N = data.y.length;
  const key = keyFromSeed(seed);
  const theta = data.labels.map((l) => result.params[`theta[${l}]`]);
  // float64 where theta is (shifted data: 1000 + 1e-5 noise would round in float32)
  const out = new (theta.some((t) => t instanceof Float64Array) ? Float64Array : Float32Array)(chains * draws * N);
  const w = new Uint32Array(4);
  const z = new Float64Array(4);
  const TWO_PI = 2 * Math.PI;
  for (let c = 0; c < chains; c++) {
    for (let d = 0; d < draws; d++) {
      const i = c * draws + d;
      const base = i * N;
      // Observations 4b..4b+3 take the four normals of Philox counter (stream, c, d, b).
      for (let b = 0; b * 4 < N; b++) {
        philox4x32Into(PREDICTIVE_STREAM, c, d, b, key[0], key[1], w);
        const r0 = Math.sqrt(-2 * Math.log(toUnit(w[0])));
        const a0 = TWO_PI * toUnit(w[1]);
        const r1 = Math.sqrt(-2 * Math.log(toUnit(w[2])));
        const a1 = TWO_PI * toUnit(w[3]);
        z[0] = r0 * Math.cos(a0);
        z[1] = r0 * Math.sin(a0);
        z[2] = r1 * Math.cos(a1);
        z[3] = r1 * Math.sin(a1);
        for (let l = 0; l < 4 && 4 * b + l < N; l++) {
          const o = 4 * b + l;
          out[base + o] = theta[data.group[o]][i] + data.sigma[o] * z[l];
        }
      }
    }
  }
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
  const common: Record<string, AttrValue> = {
    created_at: isoUtc(opts.createdAt ?? new Date()),
    inference_library: 'funnelweb',
    inference_library_version: FUNNELWEB_VERSION,
    creation_library: 'funnelweb',
    creation_library_version: FUNNELWEB_VERSION,
    creation_library_language: 'TypeScript',
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
  const posterior = checkGroup({
    name: 'posterior',
    dims: { chain: C, draw: Dr, group: K },
    variables: [
      indexCoord('chain', C),
      indexCoord('draw', Dr),
      groupCoord,
      { name: 'mu', dims: ['chain', 'draw'], data: result.params.mu },
      { name: 'tau', dims: ['chain', 'draw'], data: result.params.tau },
      { name: 'theta', dims: ['chain', 'draw', 'group'], data: theta },
      {
        name: 'z',
        dims: ['chain', 'draw', 'group'],
        data: z,
        attrs: { description: 'unconstrained coordinate of each group: z_k = c_k mu + tau^(c_k - 1) (theta_k - mu), c = centeredness' },
      },
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
    const dMu = new Float64Array(nd);
    const dTau = new Float64Array(nd);
    const dTheta = new Float64Array(nd * K);
    const dZ = new Float64Array(nd * K);
    for (let j = 0; j < nd; j++) {
      const q = rec.divergentPositions.subarray(j * D, (j + 1) * D);
      const mu = q[iMu];
      const tau = Math.exp(q[iLogTau]);
      dMu[j] = mu;
      dTau[j] = tau;
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
      { name: 'divergence_chain', dims: ['divergence'], data: chainOf },
      { name: 'divergence_draw', dims: ['divergence'], data: drawOf },
      { name: 'divergence_mu', dims: ['divergence'], data: dMu },
      { name: 'divergence_tau', dims: ['divergence'], data: dTau },
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
      { name: 'y', dims: ['observation'], data: data.y, coordinates: ['obs_group'] },
    ],
    attrs: common,
  });
  const constant = checkGroup({
    name: 'constant_data',
    dims: { observation: N },
    variables: [
      indexCoord('observation', N),
      { name: 'obs_group', dims: ['observation'], data: obsGroup },
      { name: 'sigma', dims: ['observation'], data: data.sigma, coordinates: ['obs_group'] },
    ],
    attrs: common,
  });

  // posterior_predictive, bounded
  const maxValues = opts.maxPredictiveValues ?? MAX_PREDICTIVE_VALUES;
  const ppChains = Math.max(0, Math.min(C, Math.floor(maxValues / Math.max(1, Dr * N))));
  const groups: IdGroup[] = [posterior, sampleStats];
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
          { name: 'y_rep', dims: ['chain', 'draw', 'observation'], data: predictive(result, data, seed, ppChains), coordinates: ['obs_group'] },
        ],
        attrs: {
          ...common,
          retained_chains: ppChains,
          max_values: maxValues,
          note:
            ppChains < C
              ? `y_rep ~ Normal(theta[obs_group], sigma) for chains 0..${ppChains - 1} of the ${C} in posterior (bounded to ${maxValues} values)`
              : 'y_rep ~ Normal(theta[obs_group], sigma) for every draw in posterior',
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
