/**
 * Sampling many data sets in one batch: every set's chains start, adapt (ChEES step size and
 * trajectory length from the set's own chains; Hoffman, Radul & Sountsov 2021) and sample
 * together on one backend (`backend.ts`), each set as a single-set run of its own data would
 * with the same seed and a fixed-length warmup. Used by `sbc` (`src/sbc/`).
 */
import { chees as makeChees, numLeapfrogSteps, type CheesState } from '../adaptation/chees.ts';
import { haltonBitsFor, trajectoryJitter } from '../adaptation/halton.ts';
import * as centeredness from '../adaptation/centeredness.ts';
import { withCenteredness, type HierModel } from '../model/model.ts';
import { allocateConstrained, namedConstrained, rowConstrainer } from '../sampler/constrain.ts';
import { centerednessWindowEnd } from '../sampler/auto_centeredness.ts';
import { startingPositions } from '../sampler/init.ts';
import { keyFromSeed } from '../sampler/rng.ts';
import { INITIAL_STEP_SIZE } from '../sampler/warmup.ts';
import type { Gpu } from '../gpu/device.ts';
import { cpuBatch, type BatchBackend, type SetDraws } from './backend.ts';
import { BATCH_MAX_RUN, gpuBatch } from './gpu_batch.ts';

export interface BatchOptions {
  /** One model per data set (same family, K and priors; `checkBatchModels`). */
  readonly models: readonly HierModel[];
  readonly chainsPerSet: number;
  /** The sampler's seed of each set (its Philox key and starting positions). */
  readonly seeds: readonly number[];
  readonly warmup: number;
  readonly draws: number;
  readonly backend?: 'webgpu' | 'cpu';
  /**
   * `--param auto` per set: each set's centeredness starts from its data and priors and is
   * re-estimated from its own chains at the window ends of `adaptation/centeredness.ts`
   * (the models' own c is then ignored).
   */
  readonly auto?: centeredness.CenterednessRule;
  /** A device to run on (kept by the caller); else the WebGPU backend requests its own. */
  readonly gpu?: Gpu;
  /** Called after every warmup iteration and sampling run: iterations done of warmup + draws. */
  readonly onProgress?: (done: number, total: number) => void;
  readonly signal?: AbortSignal;
}

/** One set's run: its tuned step size and trajectory length, and its draws. */
export interface SetRun {
  /** The set's model at the end of warmup (its centeredness, with `auto`, as learned). */
  readonly model: HierModel;
  readonly stepSize: number;
  readonly trajectoryLength: number;
  readonly draws: SetDraws;
  /** Divergent transitions while sampling. */
  readonly divergences: number;
  /** Leapfrog steps per chain while sampling. */
  readonly leapfrogSteps: number;
}

export interface BatchResult {
  readonly backend: 'webgpu' | 'cpu';
  readonly adapter: string;
  readonly sets: readonly SetRun[];
}

/** Runs the batch: fixed-length warmup adapted per set, then `draws` recorded transitions per chain. */
export async function sampleBatch(o: BatchOptions): Promise<BatchResult> {
  const { chainsPerSet: C, seeds, warmup, draws } = o;
  const S = o.models.length;
  const rule = o.auto;
  let learned = rule ? o.models.map((m) => centeredness.init(m.stats, warmup, rule, m.priors)) : undefined;
  let models = learned ? o.models.map((m, d) => withCenteredness(m, learned![d].c)) : o.models;
  const windowEnds = learned ? centeredness.centerednessWindowEnds(warmup) : [];
  if (!(Number.isInteger(warmup) && warmup >= 0)) throw new RangeError(`warmup must be a non-negative integer, got ${warmup}`);
  if (!(Number.isInteger(draws) && draws >= 1)) throw new RangeError(`draws must be a positive integer, got ${draws}`);
  const backend: BatchBackend = o.backend === 'cpu' ? await cpuBatch(models, C, seeds) : await gpuBatch(models, C, seeds, o.gpu, { binary: rule ? rule === 'auto-binary' : undefined });
  try {
    await backend.init(models.map((m, d) => startingPositions(m, keyFromSeed(seeds[d]), C)));
    const chees = makeChees();
    let state: CheesState[] = models.map(() => chees.init({ stepSize: INITIAL_STEP_SIZE }));
    const total = warmup + draws;
    const bits = haltonBitsFor(total);
    const stepSize = new Float64Array(S);
    const numSteps = new Int32Array(S);
    for (let it = 0; it < warmup; it++) {
      o.signal?.throwIfAborted();
      const u = trajectoryJitter(it, 1, bits);
      for (let d = 0; d < S; d++) {
        stepSize[d] = state[d].stepSize;
        numSteps[d] = numLeapfrogSteps(u, state[d].trajectoryLength, state[d].stepSize);
      }
      const stats = await backend.warmupStep({ iteration: it, stepSize, numSteps });
      state = state.map((s, d) => chees.update(s, stats[d], u));
      if (learned && windowEnds.includes(it + 1)) {
        // Each set's c from its own ensemble; every set's chains moved exactly when any c moved.
        const pos = await backend.positions();
        const next = [...models];
        const moved = [...pos];
        let changed = false;
        const nextLearned = [...learned];
        for (let d = 0; d < S; d++) {
          const r = await centerednessWindowEnd(
            { chains: C, positions: async () => pos[d], reparameterize: async (m, q) => void ((next[d] = m), (moved[d] = q)) },
            models[d],
            learned[d],
            it + 1,
          );
          nextLearned[d] = r.state;
          changed ||= r.changed;
        }
        learned = nextLearned;
        if (changed) {
          models = next;
          await backend.reparameterize(models, moved);
        }
      }
      o.onProgress?.(it + 1, total);
    }
    const tuned = state.map((s) => chees.final(s));
    for (let d = 0; d < S; d++) stepSize[d] = tuned[d].stepSize;
    backend.beginSampling(draws);
    const steps = new Float64Array(S);
    for (let done = 0; done < draws; ) {
      o.signal?.throwIfAborted();
      const n = Math.min(BATCH_MAX_RUN, draws - done);
      const ns = new Int32Array(S * n);
      for (let m = 0; m < n; m++) {
        const u = trajectoryJitter(warmup + done + m, 1, bits);
        for (let d = 0; d < S; d++) {
          ns[d * n + m] = numLeapfrogSteps(u, tuned[d].trajectoryLength, tuned[d].stepSize);
          steps[d] += ns[d * n + m];
        }
      }
      await backend.sample(warmup + done, n, stepSize, ns);
      done += n;
      o.onProgress?.(warmup + done, total);
    }
    const recs = await backend.collect();
    return {
      backend: backend.name,
      adapter: backend.adapter,
      sets: recs.map((draws, d) => ({
        model: models[d],
        stepSize: tuned[d].stepSize,
        trajectoryLength: tuned[d].trajectoryLength,
        draws,
        divergences: draws.divergent.reduce((a, b) => a + b, 0),
        leapfrogSteps: steps[d],
      })),
    };
  } finally {
    backend.destroy();
  }
}

/**
 * A set's draws on the constrained scale, chain-major ([chain * draws + draw]), by the names
 * users see (`sampler/constrain.ts`: mu, tau, log_tau, sigma and log_sigma where sigma is a
 * parameter, theta[<label>], the family's outcome).
 */
export function constrainSet(model: HierModel, rec: SetDraws, chains: number): Record<string, Float32Array> {
  const n = chains * rec.draws;
  const arrays = allocateConstrained(model, n);
  rowConstrainer(model, arrays)(rec.positions, 0, n);
  return namedConstrained(model, arrays).params;
}
