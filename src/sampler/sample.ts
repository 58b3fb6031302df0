import type { HierData } from '../model/data.ts';
import { makeModel, MU, LOG_TAU, Z0, type HierModel } from '../model/model.ts';
import { parseParameterization, type Centeredness } from '../model/parameterization.ts';
import { groupStats } from '../model/suffstats.ts';
import { DEFAULT_PRIORS, InputError, type Priors } from '../model/priors.ts';
import { chees as makeChees, DEFAULT_CHEES, numLeapfrogSteps, OPTIMAL_TARGET_ACCEPTANCE_RATE, type CheesState } from '../adaptation/chees.ts';
import { DEFAULT_DUAL_AVERAGING } from '../adaptation/dual_averaging.ts';
import { haltonBitsFor, trajectoryJitter } from '../adaptation/halton.ts';
import * as metric from '../adaptation/metric.ts';
import { initialPositions, keyFromSeed } from './rng.ts';
import { createCpuBackend } from './cpu_backend.ts';
import { MAX_DEVICE_WARMUP, type AdaptationHistory, type Backend, type RecordedDraws, type SamplingTotals } from './backend.ts';
import type { Gpu } from '../gpu/device.ts';
import * as centeredness from '../adaptation/centeredness.ts';
import { centerednessReport, centerednessWindowEnd, type CenterednessReport } from './auto_centeredness.ts';

/** Default number of chains (issue #4). */
export const DEFAULT_CHAINS = 4096;
export const DEFAULT_WARMUP = 1000;
export const DEFAULT_DRAWS = 1000;
/**
 * Most floats of recorded draws kept in memory: 2^26 (256 MiB as float32). Each retained
 * (chain, draw) costs D + 3 floats (position, log p, energy, acceptance); beyond the budget
 * only a prefix of the chains is retained (all chains still run, and divergences and
 * acceptance are counted over all of them).
 */
export const DEFAULT_DRAW_BUDGET = 2 ** 26;
/**
 * Initial step size before dual averaging (mu = log(10 eps0), Hoffman & Gelman 2014).
 * Chains start uniform on (-2, 2), so the first iterations are far from the typical set.
 */
export const INITIAL_STEP_SIZE = 0.1;
/** Warmup fractions at which the diagonal metric is re-estimated (when enabled). */
export const METRIC_WINDOW_ENDS = [0.15, 0.3, 0.6] as const;
/** Progress reports during sampling are this many iterations apart (one host sync each). */
export const SAMPLING_SYNC_INTERVAL = 32;
/**
 * Wall time aimed at per device warmup run: runs are sized from the last one's time per
 * iteration, so that progress and an abort are never more than about this far apart
 * (a run's length does not change the draws).
 */
export const WARMUP_SYNC_SECONDS = 0.25;

export type BackendKind = 'auto' | 'webgpu' | 'cpu';

export interface SampleOptions {
  readonly data: HierData;
  /**
   * `centered`, `noncentered`, `mixed:G,...`, `partial:c,...`, or a centeredness vector; or
   * `auto` / `auto-binary`: c learned during warmup (see `adaptation/centeredness.ts`).
   */
  readonly parameterization?: string | Centeredness;
  readonly priors?: Priors;
  readonly chains?: number;
  readonly warmup?: number;
  readonly draws?: number;
  readonly seed?: number;
  readonly targetAccept?: number;
  readonly backend?: BackendKind;
  /** Adapt a diagonal metric from cross-chain variances (default false; see the README's benchmarks). */
  readonly adaptMetric?: boolean;
  /** Chains grouped into this many superchains sharing a start (nested R-hat). */
  readonly superchains?: number;
  /** Float budget for recorded draws (see DEFAULT_DRAW_BUDGET). */
  readonly drawBudget?: number;
  /** A GPU to use (the demo page passes its own). */
  readonly gpu?: Gpu;
  readonly onProgress?: (p: Progress) => void;
  /** Called once the backend is chosen, before warmup (e.g. to say at once that `auto` fell back to the CPU). */
  readonly onBackend?: (backend: SampleResult['backend']) => void;
  readonly signal?: AbortSignal;
}

export interface Progress {
  readonly phase: 'warmup' | 'sampling';
  /** Iterations done in this phase, and the phase's length. */
  readonly iteration: number;
  readonly total: number;
  readonly divergences: number;
  readonly stepSize: number;
  readonly trajectoryLength: number;
  readonly numSteps: number;
  readonly elapsedSeconds: number;
  /** During warmup: the ensemble's mean acceptance of the last iteration. */
  readonly acceptRate?: number;
}

export type { AdaptationHistory } from './backend.ts';

export interface SampleResult {
  readonly model: HierModel;
  /**
   * The backend that ran; `fallbackReason` is set when `backend: 'auto'` found no WebGPU
   * adapter and ran on the CPU, and says why (GpuUnavailableError's reason).
   */
  readonly backend: { readonly name: 'cpu' | 'webgpu'; readonly adapter: string; readonly fallbackReason?: string };
  readonly chains: number;
  readonly retainedChains: number;
  readonly warmup: number;
  readonly draws: number;
  readonly superchains?: number;
  /** Constrained draws of the retained chains, chain-major (chain * draws + draw): mu, tau, log_tau, theta[label]. */
  readonly params: Record<string, Float32Array>;
  /** Names in `params`, in display order. */
  readonly paramNames: readonly string[];
  /** Raw records (unconstrained positions, log p, energy, acceptance, divergences). */
  readonly records: RecordedDraws;
  readonly totals: SamplingTotals;
  readonly stepSize: number;
  readonly trajectoryLength: number;
  readonly invMass: Float64Array;
  /** Leapfrog steps of each sampling iteration (shared by all chains). */
  readonly numSteps: Int32Array;
  readonly adaptation: AdaptationHistory;
  /** Leapfrog steps computed during warmup (all chains). */
  readonly warmupGradientEvals: number;
  /** With `auto` / `auto-binary`: the learned centeredness, its tau estimates and where it settled. */
  readonly centeredness?: CenterednessReport;
  readonly timing: { readonly compile_s: number; readonly warmup_s: number; readonly sampling_s: number; readonly total_s: number };
}

function checkInt(field: string, v: number, min: number): number {
  if (!Number.isInteger(v) || v < min) throw new InputError(field, `must be an integer >= ${min}, got ${v}`);
  return v;
}

async function makeBackend(
  kind: BackendKind,
  model: HierModel,
  chains: number,
  seed: number,
  gpu: Gpu | undefined,
  diagMetric: boolean,
): Promise<{ backend: Backend; fallbackReason?: string }> {
  if (kind === 'cpu') return { backend: await createCpuBackend(model, chains, seed) };
  const { createWebGpuBackend } = await import('./gpu_backend.ts');
  if (kind === 'webgpu') return { backend: await createWebGpuBackend(model, chains, seed, gpu, { diagMetric }) };
  try {
    return { backend: await createWebGpuBackend(model, chains, seed, gpu, { diagMetric }) };
  } catch (err) {
    if ((err as Error).name !== 'GpuUnavailableError') throw err;
    const reason = (err as { reason?: unknown }).reason;
    return { backend: await createCpuBackend(model, chains, seed), fallbackReason: typeof reason === 'string' ? reason : (err as Error).message };
  }
}

const now = () => performance.now() / 1000;

/**
 * Runs ChEES-HMC (Hoffman, Radul & Sountsov 2021) on `chains` chains of the hierarchical
 * normal model: warmup adapts the step size (dual averaging of the harmonic-mean
 * acceptance toward `targetAccept`) and the trajectory length (ChEES), optionally a diagonal
 * metric; sampling then runs with the averaged step size and trajectory length, each
 * iteration jittered by a Halton sequence shared by all chains.
 *
 * On WebGPU without metric adaptation, warmup adapts on the device (`shaders/adapt.wgsl`,
 * float32): up to MAX_DEVICE_WARMUP iterations (about WARMUP_SYNC_SECONDS of work) run
 * back to back per host round trip, and progress is reported for each of them when the run
 * returns.
 *
 * Same data, options and seed on the same backend and adapter give the same draws.
 */
export async function sample(options: SampleOptions): Promise<SampleResult> {
  const t0 = now();
  const data = options.data;
  const chains = checkInt('chains', options.chains ?? DEFAULT_CHAINS, 1);
  const warmup = checkInt('warmup', options.warmup ?? DEFAULT_WARMUP, 0);
  const draws = checkInt('draws', options.draws ?? DEFAULT_DRAWS, 1);
  const seed = options.seed ?? 1;
  if (!Number.isSafeInteger(seed) || seed < 0) throw new InputError('seed', `must be an integer in [0, 2^53), got ${seed}`);
  const targetAccept = options.targetAccept ?? OPTIMAL_TARGET_ACCEPTANCE_RATE;
  if (!(targetAccept > 0 && targetAccept < 1)) throw new InputError('target-accept', `must be in (0, 1), got ${targetAccept}`);
  const superchains = options.superchains;
  if (superchains !== undefined) {
    checkInt('superchains', superchains, 1);
    if (chains % superchains !== 0) throw new InputError('superchains', `${superchains} must divide the number of chains (${chains})`);
  }
  const param = options.parameterization;
  const rule = typeof param === 'string' && centeredness.isCenterednessRule(param.trim()) ? (param.trim() as centeredness.CenterednessRule) : undefined;
  let auto = rule !== undefined ? centeredness.init(groupStats(data), warmup, rule) : undefined;
  const c = auto ? auto.c : typeof param === 'string' || param === undefined ? parseParameterization(param ?? 'noncentered', data.labels, 'parameterization') : param;
  let model = makeModel(data, c, options.priors ?? DEFAULT_PRIORS);
  const D = model.dim;
  const budget = options.drawBudget ?? DEFAULT_DRAW_BUDGET;
  let retained = Math.min(chains, Math.floor(budget / (draws * (D + 3))));
  if (superchains !== undefined && retained < chains) {
    const per = chains / superchains;
    retained = Math.max(per, Math.floor(retained / per) * per);
  }
  if (retained < 1) throw new InputError('draws', `${draws} draws of ${D} coordinates exceed the draw budget of ${budget} floats even for one chain`);

  const { backend, fallbackReason } = await makeBackend(options.backend ?? 'auto', model, chains, seed, options.gpu, options.adaptMetric ?? false);
  const tCompiled = now();
  options.onBackend?.({ name: backend.name, adapter: backend.adapter, ...(fallbackReason !== undefined && { fallbackReason }) });
  const signal = options.signal;
  try {
    await backend.init(initialPositions(keyFromSeed(seed), chains, data.K, superchains));
    const total = warmup + draws;
    const bits = haltonBitsFor(total);
    const cheesParams = { ...DEFAULT_CHEES, targetAccept };
    const adapter = makeChees(cheesParams);
    let state: CheesState = adapter.init({ stepSize: INITIAL_STEP_SIZE });
    let invMass: Float64Array = new Float64Array(D).fill(1);
    const windowEnds = options.adaptMetric ? METRIC_WINDOW_ENDS.map((f) => Math.floor(f * warmup)) : [];
    let window = metric.init(D, chains);
    const history: AdaptationHistory = {
      stepSize: new Float64Array(warmup),
      trajectoryLength: new Float64Array(warmup),
      numSteps: new Int32Array(warmup),
      meanAccept: new Float64Array(warmup),
      harmonicMeanAccept: new Float64Array(warmup),
      divergences: new Int32Array(warmup),
    };
    let warmupEvals = 0;
    let warmupDivergences = 0;
    /** Progress after warmup iteration `it` (0-based), with the step size and T adapted after it. */
    const reportWarmup = (it: number, stepSize: number, trajectoryLength: number, accept: number) =>
      options.onProgress?.({
        phase: 'warmup',
        iteration: it + 1,
        total: warmup,
        divergences: warmupDivergences,
        stepSize,
        trajectoryLength,
        numSteps: history.numSteps[it],
        elapsedSeconds: now() - t0,
        acceptRate: accept,
      });
    const windowEndsC = auto?.windowEnds ?? [];
    /** The next iteration count after `it` at which c is re-estimated (or the end of warmup). */
    const nextWindowEnd = (it: number) => windowEndsC.find((e) => e > it) ?? warmup;
    /**
     * With auto centeredness, at a window end: re-estimate c and move the chains to it. The
     * step size and trajectory length adapt on from their current values: restarting dual
     * averaging there (as after a metric window) cost 2–10% more warmup gradient evaluations
     * and gave no better step size (weak and unbalanced data, 4,096 chains).
     */
    const centerednessStep = async (done: number, st: CheesState): Promise<CheesState> => {
      if (!auto || !windowEndsC.includes(done)) return st;
      const r = await centerednessWindowEnd(backend, model, auto, done);
      model = r.model;
      auto = r.state;
      // Cross-chain variances gathered in the old coordinates do not describe the new z.
      if (r.changed && windowEnds.length) window = metric.init(D, chains);
      return st;
    };
    const onDevice = !options.adaptMetric && backend.warmupOnDevice ? backend.warmupOnDevice.bind(backend) : undefined;
    if (onDevice) {
      // Adaptation on the device: runs of up to MAX_DEVICE_WARMUP iterations, sized to
      // about WARMUP_SYNC_SECONDS, per round trip.
      let runLength = 4;
      for (let it = 0; it < warmup; ) {
        signal?.throwIfAborted();
        const count = Math.min(runLength, warmup - it, nextWindowEnd(it) - it);
        const tRun = now();
        const jitter = Float64Array.from({ length: count + 1 }, (_, i) => trajectoryJitter(it + i, 1, bits));
        const r = await onDevice({ first: it, count, state, chees: cheesParams, dualAveraging: DEFAULT_DUAL_AVERAGING, jitter, invMass });
        const perIteration = (now() - tRun) / count;
        runLength = Math.max(1, Math.min(MAX_DEVICE_WARMUP, Math.floor(WARMUP_SYNC_SECONDS / Math.max(perIteration, 1e-6))));
        for (const k of Object.keys(history) as (keyof AdaptationHistory)[]) history[k].set(r[k], it);
        // Progress for each iteration of the run; an abort takes effect between reports.
        for (let i = 0; i < count; i++) {
          if (i > 0) signal?.throwIfAborted();
          const last = i === count - 1;
          warmupEvals += chains * r.numSteps[i];
          warmupDivergences += r.divergences[i];
          reportWarmup(it + i, last ? r.state.stepSize : r.stepSize[i + 1], last ? r.state.trajectoryLength : r.trajectoryLength[i + 1], r.meanAccept[i]);
        }
        state = r.state;
        it += count;
        state = await centerednessStep(it, state);
      }
    } else {
      for (let it = 0; it < warmup; it++) {
        signal?.throwIfAborted();
        const u = trajectoryJitter(it, 1, bits);
        const L = numLeapfrogSteps(u, state.trajectoryLength, state.stepSize);
        history.stepSize[it] = state.stepSize;
        history.trajectoryLength[it] = state.trajectoryLength;
        history.numSteps[it] = L;
        backend.step({ iteration: it, stepSize: state.stepSize, numSteps: L, invMass });
        warmupEvals += chains * L;
        const stats = await backend.ensembleStats();
        history.meanAccept[it] = stats.meanAccept;
        history.harmonicMeanAccept[it] = stats.harmonicMeanAccept;
        history.divergences[it] = stats.numDivergent;
        warmupDivergences += stats.numDivergent;
        state = adapter.update(state, stats, u);
        if (windowEnds.length) {
          window = metric.update(window, stats);
          if (windowEnds.includes(it + 1)) {
            invMass = metric.final(window);
            window = metric.init(D, chains);
            // A new metric changes the scale: restart dual averaging from the current values.
            state = adapter.init({ stepSize: state.stepSize, trajectoryLength: state.trajectoryLength });
          }
        }
        state = await centerednessStep(it + 1, state);
        reportWarmup(it, state.stepSize, state.trajectoryLength, stats.meanAccept);
      }
    }
    const tuned = warmup > 0 ? adapter.final(state) : { stepSize: state.stepSize, trajectoryLength: state.trajectoryLength };
    const tWarm = now();

    backend.beginSampling(draws, retained);
    const numSteps = new Int32Array(draws);
    let divergences = 0;
    for (let t = 0; t < draws; t++) {
      signal?.throwIfAborted();
      const it = warmup + t;
      const L = numLeapfrogSteps(trajectoryJitter(it, 1, bits), tuned.trajectoryLength, tuned.stepSize);
      numSteps[t] = L;
      backend.step({ iteration: it, stepSize: tuned.stepSize, numSteps: L, invMass });
      backend.recordDraw();
      if ((t + 1) % SAMPLING_SYNC_INTERVAL === 0 || t + 1 === draws) {
        divergences = await backend.sync();
        options.onProgress?.({
          phase: 'sampling',
          iteration: t + 1,
          total: draws,
          divergences,
          stepSize: tuned.stepSize,
          trajectoryLength: tuned.trajectoryLength,
          numSteps: L,
          elapsedSeconds: now() - t0,
        });
      }
    }
    const { draws: records, totals } = await backend.collect();
    const tDone = now();
    const { params, paramNames } = constrainDraws(model, records);
    return {
      model,
      backend: { name: backend.name, adapter: backend.adapter, ...(fallbackReason !== undefined && { fallbackReason }) },
      chains,
      retainedChains: records.retainedChains,
      warmup,
      draws,
      superchains,
      params,
      paramNames,
      records,
      totals,
      stepSize: tuned.stepSize,
      trajectoryLength: tuned.trajectoryLength,
      invMass,
      numSteps,
      adaptation: history,
      warmupGradientEvals: warmupEvals,
      ...(auto ? { centeredness: centerednessReport(auto) } : {}),
      timing: { compile_s: tCompiled - t0, warmup_s: tWarm - tCompiled, sampling_s: tDone - tWarm, total_s: tDone - t0 },
    };
  } finally {
    backend.destroy();
  }
}

/**
 * Maps recorded unconstrained positions to named constrained draws (float64 arithmetic):
 * mu, tau = e^s, log_tau = s, theta[label] = mu + tau^(1-c) (z - c mu). Chain-major.
 */
export function constrainDraws(model: HierModel, rec: RecordedDraws): { params: Record<string, Float32Array>; paramNames: string[] } {
  const n = rec.retainedChains * rec.draws;
  const D = model.dim;
  const K = model.stats.K;
  const labels = model.stats.labels;
  const names = ['mu', 'tau', 'log_tau', ...labels.map((l) => `theta[${l}]`)];
  const out = names.map(() => new Float32Array(n));
  const pos = rec.positions;
  for (let i = 0; i < n; i++) {
    const row = i * D;
    const mu = pos[row + MU];
    const s = pos[row + LOG_TAU];
    out[0][i] = mu;
    out[1][i] = Math.exp(s);
    out[2][i] = s;
    for (let k = 0; k < K; k++) {
      const ck = model.c[k];
      out[3 + k][i] = mu + Math.exp((1 - ck) * s) * (pos[row + Z0 + k] - ck * mu);
    }
  }
  return { params: Object.fromEntries(names.map((nm, i) => [nm, out[i]])), paramNames: names };
}
