/**
 * The contract of a batch backend: the chains of many data sets (`sets`, `chainsPerSet`
 * consecutive chains each) transitioned together, each set with its own group data, seed,
 * step size and leapfrog steps (`sample_batch.ts` adapts each set on its own). The float64
 * reference (`cpuBatch`) runs one CPU backend per set; the WebGPU one (`gpu_batch.ts`) runs
 * every set's chains in one dispatch of shaders/batch_hmc.wgsl, set d's chains drawing the
 * same random numbers as a single-set run of set d's data with set d's seed.
 *
 * Positions are unconstrained, q = (mu, log tau, z_0..z_{K-1}), chain-major per set.
 */
import { createCpuBackend } from '../sampler/cpu_backend.ts';
import type { Backend } from '../sampler/backend.ts';
import type { CheesStats } from '../adaptation/chees.ts';
import type { HierModel } from '../model/model.ts';
import { InputError } from '../errors.ts';

/** One batch transition: the iteration (the Philox counter) and, per set, step size and leapfrog steps. */
export interface BatchStep {
  readonly iteration: number;
  readonly stepSize: Float64Array;
  readonly numSteps: Int32Array;
}

/** The recorded draws of one set: chain-major, [(chain * draws + draw) * D + d]. */
export interface SetDraws {
  readonly draws: number;
  readonly positions: Float32Array | Float64Array;
  /** Per draw (chain * draws + draw): divergent (0/1), acceptance probability, energy. */
  readonly divergent: Uint8Array;
  readonly acceptProb: Float32Array | Float64Array;
  readonly energy: Float32Array | Float64Array;
}

export interface BatchBackend {
  readonly name: 'cpu' | 'webgpu';
  readonly adapter: string;
  readonly sets: number;
  readonly chainsPerSet: number;
  readonly dim: number;
  /** Sets every set's starting positions (chain-major, chainsPerSet x D each). */
  init(positions: readonly Float64Array[]): Promise<void>;
  /** Every set's current positions (chain-major), before sampling. */
  positions(): Promise<Float64Array[]>;
  /**
   * Switches every set to `models[d]` (its data under another centeredness, `--param auto`)
   * with the chains at `positions[d]` (moved to the new coordinates by the caller). Before
   * sampling.
   */
  reparameterize(models: readonly HierModel[], positions: readonly Float64Array[]): Promise<void>;
  /** One warmup transition of every chain; each set's ChEES statistics over its own chains. */
  warmupStep(step: BatchStep): Promise<CheesStats[]>;
  /** Allocates the records of `draws` sampling transitions per chain. */
  beginSampling(draws: number): void;
  /**
   * Sampling transitions `first .. first + count - 1`, recorded; `numSteps` is set-major
   * (set d's m-th transition at d * count + m).
   */
  sample(first: number, count: number, stepSize: Float64Array, numSteps: Int32Array): Promise<void>;
  /** Every set's records (after the last `sample`). */
  collect(): Promise<SetDraws[]>;
  destroy(): void;
}

/** Checks that `models` can share a batch: one family, no predictors, the same K and priors. */
export function checkBatchModels(models: readonly HierModel[]): void {
  if (models.length === 0) throw new InputError('sets', 'a batch needs at least one data set');
  const m0 = models[0];
  for (const [i, m] of models.entries()) {
    if (m.predictors) throw new InputError('predictors', 'the batch sampler does not run population-level predictors');
    if (m.stats.family.id !== m0.stats.family.id) throw new InputError('sets', `data set ${i} has family ${m.stats.family.id}, data set 0 ${m0.stats.family.id}`);
    if (m.stats.K !== m0.stats.K) throw new InputError('sets', `data set ${i} has ${m.stats.K} groups, data set 0 has ${m0.stats.K}`);
    if (JSON.stringify(m.priors) !== JSON.stringify(m0.priors)) throw new InputError('sets', `data set ${i} has other priors than data set 0`);
  }
}

/**
 * The float64 reference batch: one CPU backend per set (seed `seeds[d]`), stepped one after
 * the other with the set's own step size and leapfrog steps and the unit metric.
 */
export async function cpuBatch(models: readonly HierModel[], chainsPerSet: number, seeds: readonly number[]): Promise<BatchBackend> {
  checkBatchModels(models);
  if (seeds.length !== models.length) throw new RangeError(`cpuBatch: ${seeds.length} seeds for ${models.length} sets`);
  const backends: Backend[] = [];
  for (const [d, m] of models.entries()) backends.push(await createCpuBackend(m, chainsPerSet, seeds[d]));
  const D = models[0].dim;
  const unit = new Float64Array(D).fill(1);
  let draws = 0;
  return {
    name: 'cpu',
    adapter: backends[0].adapter,
    sets: models.length,
    chainsPerSet,
    dim: D,
    async init(positions) {
      for (const [d, b] of backends.entries()) await b.init(positions[d]);
    },
    async positions() {
      return Promise.all(backends.map(async (b) => Float64Array.from(await b.positions())));
    },
    async reparameterize(next, positions) {
      for (const [d, b] of backends.entries()) await b.reparameterize(next[d], positions[d]);
    },
    async warmupStep(s) {
      const out: CheesStats[] = [];
      for (const [d, b] of backends.entries()) {
        b.step({ iteration: s.iteration, stepSize: s.stepSize[d], numSteps: s.numSteps[d], invMass: unit });
        const { positionMean: _m, positionVar: _v, ...chees } = await b.ensembleStats();
        out.push(chees);
      }
      return out;
    },
    beginSampling(n) {
      draws = n;
      for (const b of backends) b.beginSampling(n, chainsPerSet);
    },
    async sample(first, count, stepSize, numSteps) {
      for (const [d, b] of backends.entries()) {
        for (let m = 0; m < count; m++) {
          b.step({ iteration: first + m, stepSize: stepSize[d], numSteps: numSteps[d * count + m], invMass: unit });
          b.recordDraw();
        }
        await b.sync();
      }
    },
    async collect() {
      const out: SetDraws[] = [];
      for (const b of backends) {
        const { draws: r } = await b.collect();
        out.push({ draws, positions: r.positions, divergent: r.divergent, acceptProb: r.acceptProb, energy: r.energy });
      }
      return out;
    },
    destroy() {
      for (const b of backends) b.destroy();
    },
  };
}
