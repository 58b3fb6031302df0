import type { HierData } from '../model/data.ts';
import { makeModel, type HierModel } from '../model/model.ts';
import { parseParameterization, type Centeredness } from '../model/parameterization.ts';
import { groupStats } from '../model/suffstats.ts';
import { familyOf } from '../model/families/index.ts';
import { chooseScale, logDensityOffset, scaleData, scalePriors, unscaleParams, unscalePositions, type DataScale } from '../model/scale.ts';
import { InputError, RunError } from '../errors.ts';
import { DEFAULT_PRIORS, type Priors } from '../model/priors.ts';
import { DEFAULT_CHEES, numLeapfrogSteps, OPTIMAL_TARGET_ACCEPTANCE_RATE } from '../adaptation/chees.ts';
import { haltonBitsFor, trajectoryJitter } from '../adaptation/halton.ts';
import { MAX_AUTO_WARMUP, type WarmupCheck } from '../adaptation/warmup_stop.ts';
import { keyFromSeed } from './rng.ts';
import { startingPositions } from './init.ts';
import { createCpuBackend } from './cpu_backend.ts';
import { constrainDraws, namedConstrained } from './constrain.ts';
import { truncateDraws, type AdaptationHistory, type Backend, type DeviceFault, type RecordedDraws, type SamplingTotals } from './backend.ts';
import { requestGpu, type Gpu } from '../gpu/device.ts';
import * as centeredness from '../adaptation/centeredness.ts';
import { centerednessReport, initialStats, type CenterednessReport } from './auto_centeredness.ts';
import { predictorStats } from '../model/predictors.ts';
import { runWarmup } from './warmup.ts';
import * as targetEss from './target_ess.ts';

/*
 * The sizes: `funnelweb sample` without --draws optimizes the time to a usable answer
 * (`target_ess.ts`, DEFAULT_TARGET_ESS, and DEFAULT_CHAINS_SOFTWARE below); DEFAULT_DRAWS is
 * its cap and the draws of a run that names no target. For throughput, what the sizes below
 * were chosen by: min bulk ESS per second of the whole
 * `funnelweb sample` process (docs/benchmarks.md, "The defaults"; `npm run bench -- --only
 * defaults` measures them). With C chains and N draws, ESS grows as C N while the wall time
 * is a fixed part (process start, compile, warmup, which grows with C on a CPU-like device)
 * plus sampling and diagnostics, both proportional to C N. So ESS/s grows with C N until
 * memory binds: the recorded draws of 4,096 x 1,000 (57 M floats at K = 9) nearly fill
 * DEFAULT_DRAW_BUDGET. At that size, on the 2-core test machine (SwiftShader), under load,
 * interleaved, two runs each: 4,096 x 1,000 gave 60,000-67,000 ESS/s on weak x noncentered
 * and unbalanced x mixed:2,6; 4,096 x 500 37,000-66,000 (the fixed costs weigh more);
 * 8,192 x 500 47,000-54,000 (twice the warmup work for the same draws); 2,048 x 2,000
 * 45,000-93,000 (no clear gain, and fewer chains make the automatic warmup's and R-hat's
 * cross-chain estimates noisier). Min ESS stays over 1,000,000 (>= 400 per parameter by
 * far), R-hat 1.001-1.003, and each chain has 1,000 draws for its E-BFMI.
 */

/** Default number of chains on a GPU (issue #4; see above). */
export const DEFAULT_CHAINS = 4096;
/**
 * Default number of chains on a software adapter (SwiftShader) and on the CPU backend, where
 * the "device" is the host's own cores and warmup's cost grows with the chains. On the 2-core
 * test machine, time to a usable answer (`--target-ess 4000`: every bulk ESS >= 4,000 and
 * R-hat < 1.0091), whole process, 4,096 against 1,024 chains: weak x noncentered 3.5 s
 * against 1.9 s, strong x centered 7.2 s against 3.5 s, unbalanced x mixed:2,6 4.8 s against
 * 2.6 s, strong x noncentered 21.6 s against 8.2 s; 1,024 chains still gave a min bulk ESS
 * of 59,000-133,000. At 256 chains the automatic warmup's cross-chain estimates were too
 * noisy to stop it (unbalanced x mixed:2,6 ran to its cap of 1,000). Wide models too: 1,000
 * groups (`--param auto`, 140,919 observations) answered in 605 s at 1,024 chains (warmup
 * stopped at 300 iterations, 150 s), where 4,096 chains took 314 s for the first 280
 * warmup iterations.
 */
export const DEFAULT_CHAINS_SOFTWARE = 1024;
/**
 * Default warmup: `auto`, which ends adaptation at the first check (every 50 iterations)
 * where the step size and trajectory length have settled and the ensemble has mixed
 * (`adaptation/warmup_stop.ts`), at most DEFAULT_WARMUP_MAX iterations. Measured against
 * the fixed 1,000 iterations used before (same run, interleaved): the same min ESS, and
 * 1.3-1.4x the whole-process ESS/s on weak x noncentered (stopped at 150) and unbalanced x
 * mixed:2,6 (stopped at 300).
 */
export const DEFAULT_WARMUP: 'auto' = 'auto';
/** Cap of the automatic warmup (the fixed warmup used before it; Stan's default too). */
export const DEFAULT_WARMUP_MAX = MAX_AUTO_WARMUP;
/** Default draws per chain (see above). */
export const DEFAULT_DRAWS = 1000;
/**
 * Most floats of recorded draws kept in memory: 2^26 (256 MiB as float32). Each retained
 * (chain, draw) costs D + 3 floats (position, log p, energy, acceptance); beyond the budget
 * only a prefix of the chains is retained (all chains still run, and divergences and
 * acceptance are counted over all of them).
 */
export const DEFAULT_DRAW_BUDGET = 2 ** 26;
export { INITIAL_STEP_SIZE, METRIC_WINDOW_ENDS, WARMUP_SYNC_SECONDS } from './warmup.ts';
/**
 * Most iterations between progress reports during sampling (one host sync each); fewer
 * where iterations are slow, so that a report comes about every SAMPLING_SYNC_SECONDS.
 */
export const SAMPLING_SYNC_INTERVAL = 32;
/**
 * Device time aimed at between sampling syncs: a sync is made once the leapfrog steps
 * issued since the last one would take this long at the time per step measured so far
 * (first from warmup's last run, then from the time between reports), after 1 to
 * SAMPLING_SYNC_INTERVAL iterations. Where a sync falls does not change the draws. Half a
 * second, so that an abort (Ctrl-C, the page's Stop), which lands at a sync, is answered
 * within about a second even with a sync in flight; fast runs sync every
 * SAMPLING_SYNC_INTERVAL iterations well before that (the main job: about 70 ms).
 */
export const SAMPLING_SYNC_SECONDS = 0.5;

export type BackendKind = 'auto' | 'webgpu' | 'cpu';

export interface SampleOptions {
  readonly data: HierData;
  /**
   * `centered`, `noncentered`, `mixed:G,...`, `partial:c,...`, or a centeredness vector; or
   * `auto` / `auto-binary`: c learned during warmup (see `adaptation/centeredness.ts`).
   */
  readonly parameterization?: string | Centeredness;
  readonly priors?: Priors;
  /** Chains; default DEFAULT_CHAINS on a GPU, DEFAULT_CHAINS_SOFTWARE on a software adapter or the CPU backend. */
  readonly chains?: number;
  /** Warmup iterations, or `auto` (default): stop when adaptation has settled and the chains have mixed, at most `warmupMax`. */
  readonly warmup?: number | 'auto';
  /** Cap of the automatic warmup (default DEFAULT_WARMUP_MAX). */
  readonly warmupMax?: number;
  /** Draws per chain; with `targetEss`, the most draws per chain. */
  readonly draws?: number;
  /**
   * End sampling at the first check where every parameter's bulk ESS, estimated from the
   * draws so far, reaches this (`target_ess.ts`); `draws` is then the cap. Absent: `draws`
   * draws per chain.
   */
  readonly targetEss?: number;
  readonly seed?: number;
  readonly targetAccept?: number;
  readonly backend?: BackendKind;
  /**
   * Adapt a diagonal metric from cross-chain variances. Default: on for data with
   * population-level predictors (coefficients in the predictors' units sit beside log tau:
   * posterior sds 0.025 and 1 on posteriordb's GLMM_Poisson), off otherwise (see the README's
   * benchmarks).
   */
  readonly adaptMetric?: boolean;
  /**
   * The WebGPU backend's wide-model kernel (more than 16 groups): 'registers' or 'stream'
   * (default: 'stream' on software adapters, 'registers' on GPUs; see gpu/kernels.ts).
   */
  readonly wideKernel?: 'registers' | 'stream';
  /** Chains grouped into this many superchains sharing a start (nested R-hat). */
  readonly superchains?: number;
  /** Float budget for recorded draws (see DEFAULT_DRAW_BUDGET). */
  readonly drawBudget?: number;
  /** A GPU to use (the demo page passes its own). */
  readonly gpu?: Gpu;
  readonly onProgress?: (p: Progress) => void;
  /**
   * Called during sampling after each progress report (every SAMPLING_SYNC_INTERVAL
   * iterations, fewer where iterations are slow) with the current positions of the first `snapshotChains` chains (default
   * 64), for live plots; the draws are the same with or without it.
   */
  readonly onSnapshot?: (s: PositionSnapshot) => void;
  readonly snapshotChains?: number;
  /**
   * Device time aimed at between sampling syncs (default SAMPLING_SYNC_SECONDS); Infinity
   * syncs every SAMPLING_SYNC_INTERVAL iterations whatever they cost, so that progress
   * reports fall at the same iterations on any machine. The draws are the same either way.
   */
  readonly syncSeconds?: number;
  /** Called once the backend is chosen, before warmup (e.g. to say at once that `auto` fell back to the CPU). */
  readonly onBackend?: (backend: SampleResult['backend']) => void;
  readonly signal?: AbortSignal;
}

/** Current unconstrained positions of the first chains during sampling (see `onSnapshot`). */
export interface PositionSnapshot {
  /** Sampling iterations done. */
  readonly iteration: number;
  readonly chains: number;
  /** Chain-major: (chain * D + d), D = K + 2, coordinates (mu, log tau, z_0..z_{K-1}). */
  readonly positions: Float32Array | Float64Array;
  /** The centeredness the positions' z are in (fixed during sampling; learned by `auto`). */
  readonly centeredness: Centeredness;
}

/** Chains in a position snapshot unless `snapshotChains` says otherwise. */
export const DEFAULT_SNAPSHOT_CHAINS = 64;

export interface Progress {
  readonly phase: 'warmup' | 'sampling';
  /** Iterations done in this phase, and the phase's length. */
  readonly iteration: number;
  readonly total: number;
  readonly divergences: number;
  readonly stepSize: number;
  readonly trajectoryLength: number;
  /**
   * Mean leapfrog steps per transition over the iterations this report covers (those
   * since the previous report of the phase): one iteration in warmup, up to
   * SAMPLING_SYNC_INTERVAL in sampling. (The jittered L of a single transition says little:
   * at batch boundaries the Halton jitter is always small.)
   */
  readonly numSteps: number;
  readonly elapsedSeconds: number;
  /** During warmup: the ensemble's mean acceptance of the last iteration. */
  readonly acceptRate?: number;
  /** Automatic warmup: set on the last warmup report when the stopping rule ended warmup here (`total` is then this iteration). */
  readonly warmupStopped?: boolean;
  /**
   * Sampling with `targetEss`: the target, the draws of the next check and the last check's
   * estimates (min bulk ESS over all chains, max R-hat), if one was made; `total` is the cap.
   */
  readonly targetEss?: { readonly target: number; readonly nextCheck: number; readonly essBulkMin?: number; readonly rhatMax?: number };
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
  /** Warmup iterations run. */
  readonly warmup: number;
  /** Automatic warmup: its cap, where it stopped (null: it ran to the cap) and every check it made. */
  readonly warmupAuto?: { readonly max: number; readonly stoppedAt: number | null; readonly checks: readonly WarmupCheck[] };
  /**
   * Draws per retained chain in `params` and `records`: the requested number, or, when
   * the run was aborted during sampling (`partial`), the draws completed before the abort,
   * or, with `targetEss`, the draws at the check that reached the target.
   */
  readonly draws: number;
  /** With `targetEss`: the target, the checks made and whether one reached it. */
  readonly targetEss?: targetEss.TargetEssState;
  /**
   * True when the signal aborted the run during sampling: the result holds the draws
   * completed until then (as PyMC keeps a partial trace on KeyboardInterrupt).
   */
  readonly partial: boolean;
  /**
   * Set when the GPU device failed during sampling (lost, or a GPU error): one line saying
   * so ("the GPU device was lost during sampling at draw 320: destroyed (...)"); the result
   * is `partial`, with the draws read back before the failure. (A failure before any draw
   * was read back rejects with a RunError instead.) `totals` then counts the divergences
   * of all chains up to the last sync, and the acceptance of the retained chains' kept draws.
   */
  readonly fault?: string;
  /** Draws per chain that were asked for (the cap with `targetEss`; equal to `draws` unless `partial` or the target was reached). */
  readonly requestedDraws: number;
  readonly superchains?: number;
  /** Constrained draws of the retained chains, chain-major (chain * draws + draw): mu, tau, log_tau, theta[label]. */
  readonly params: Record<string, Float32Array | Float64Array>;
  /** Names in `params`, in display order. */
  readonly paramNames: readonly string[];
  /** Raw records (unconstrained positions, log p, energy, acceptance, divergences). */
  readonly records: RecordedDraws;
  readonly totals: SamplingTotals;
  readonly stepSize: number;
  readonly trajectoryLength: number;
  readonly invMass: Float64Array;
  /** Leapfrog steps of each (completed) sampling iteration (shared by all chains). */
  readonly numSteps: Int32Array;
  readonly adaptation: AdaptationHistory;
  /** Leapfrog steps computed during warmup (all chains). */
  readonly warmupGradientEvals: number;
  /** With `auto` / `auto-binary`: the learned centeredness, its tau estimates and where it settled. */
  readonly centeredness?: CenterednessReport;
  readonly timing: { readonly compile_s: number; readonly warmup_s: number; readonly sampling_s: number; readonly total_s: number };
  /**
   * Set when the sampler ran in standardized units (`model/scale.ts`): y' = (y - shift)/scale.
   * Every draw, position and log density here is in the user's units; `stepSize`,
   * `trajectoryLength`, `invMass` and `adaptation` are in the sampler's.
   */
  readonly units?: DataScale;
}

function checkInt(field: string, v: number, min: number): number {
  if (!Number.isInteger(v) || v < min) throw new InputError(field, `must be an integer >= ${min}, got ${v}`);
  return v;
}

/**
 * The device a run uses, asked for once: none for the CPU backend, the GPU handed in, or
 * one requested now (`owned`: the run destroys it). With `auto` and no adapter: none, and
 * why (GpuUnavailableError's reason), for the CPU fallback.
 */
async function acquireDevice(kind: BackendKind, gpu: Gpu | undefined): Promise<{ gpu?: Gpu; owned: boolean; fallbackReason?: string }> {
  if (kind === 'cpu') return { owned: false };
  if (gpu) return { gpu, owned: false };
  try {
    return { gpu: await requestGpu(), owned: true };
  } catch (err) {
    if (kind !== 'auto' || (err as Error).name !== 'GpuUnavailableError') throw err;
    const reason = (err as { reason?: unknown }).reason;
    return { owned: false, fallbackReason: typeof reason === 'string' ? reason : (err as Error).message };
  }
}

/** The backend on the acquired device: WebGPU on `gpu`, else the float64 CPU backend. */
async function makeBackend(model: HierModel, chains: number, seed: number, gpu: Gpu | undefined, diagMetric: boolean, wideKernel?: 'registers' | 'stream'): Promise<Backend> {
  if (!gpu) return createCpuBackend(model, chains, seed);
  const { createWebGpuBackend } = await import('./gpu_backend.ts');
  return createWebGpuBackend(model, chains, seed, gpu, { diagMetric, wideKernel });
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
 * With `warmup: 'auto'` (the default) warmup ends at the first check, every 50 iterations,
 * where the adaptation has settled and the ensemble has mixed (`adaptation/warmup_stop.ts`),
 * at most `warmupMax` iterations; device runs end at the checks, so where it stops depends
 * on the seed only.
 *
 * Same data, options and seed on the same backend and adapter give the same draws.
 *
 * `signal`: an abort during warmup (or before the first draw) rejects with the signal's
 * reason and keeps nothing; an abort during sampling stops at the next host sync (at most
 * SAMPLING_SYNC_INTERVAL iterations later) and resolves with the draws completed so far,
 * marked `partial` (the first `draws` draws of every retained chain, the same as an
 * uninterrupted run's).
 */
export async function sample(options: SampleOptions): Promise<SampleResult> {
  const priors = options.priors ?? DEFAULT_PRIORS;
  // WebGPU computes in float32 (and `auto` may run there); the CPU backend in float64.
  const units = chooseScale(options.data, priors, options.backend === 'cpu' ? 'float64' : 'float32');
  if (units.shift === 0 && units.scale === 1) return sampleInUnits(options);
  const onSnapshot = options.onSnapshot;
  const family = familyOf(options.data.likelihood);
  const predictorNames = options.data.predictors?.names;
  const inner = await sampleInUnits({
    ...options,
    data: scaleData(options.data, units),
    priors: scalePriors(priors, units, family, predictorNames),
    ...(onSnapshot && {
      onSnapshot: (snap: PositionSnapshot) => {
        const positions = Float64Array.from(snap.positions);
        unscalePositions(positions, snap.centeredness, units, family, predictorNames);
        onSnapshot({ ...snap, positions });
      },
    }),
  });
  return unscaleResult(inner, options.data, priors, units);
}

/**
 * A run in standardized units (`model/scale.ts`) mapped back to the user's: the model on the
 * user's data and priors, the constrained draws (mu, tau, log_tau, theta) and the recorded
 * unconstrained positions in the user's units, lp__ and energy__ shifted by the constant
 * that makes them the user's log density. Step size, trajectory length and metric stay in
 * the sampler's units (`units` says which).
 */
function unscaleResult(r: SampleResult, data: HierData, priors: Priors, units: DataScale): SampleResult {
  const model = makeModel(data, r.model.c, priors);
  const { scale } = units;
  const family = model.stats.family;
  // tau, sigma and their logs keep their relative precision in float32; mu and theta, moved
  // by a shift, are stored in float64 (1000 + 1e-5 x would round to a few values in float32).
  const params = unscaleParams(r.params, family, units);
  const { constrained: _inUnits, ...rec } = r.records;
  const predictorNames = data.predictors?.names;
  unscalePositions(rec.positions, model.c, units, family, predictorNames);
  unscalePositions(rec.divergentPositions, model.c, units, family, predictorNames);
  const offset = logDensityOffset(model.c, units, family, data.y.length);
  for (let i = 0; i < rec.logDensity.length; i++) rec.logDensity[i] += offset;
  // energy = -log p + kinetic energy
  for (let i = 0; i < rec.energy.length; i++) rec.energy[i] -= offset;
  const cr = r.centeredness;
  const centerednessInUnits = cr && {
    ...cr,
    initialTau: cr.initialTau * scale,
    updates: cr.updates.map((u) => ({ ...u, tau: u.tau * scale })),
  };
  return { ...r, model, params, records: rec, units, ...(centerednessInUnits && { centeredness: centerednessInUnits }) };
}

/** `sample` in the units the data and priors are given in (see `sample`). */
async function sampleInUnits(options: SampleOptions): Promise<SampleResult> {
  const t0 = now();
  const data = options.data;
  if (options.chains !== undefined) checkInt('chains', options.chains, 1);
  const warmupOption = options.warmup ?? DEFAULT_WARMUP;
  const auto = warmupOption === 'auto';
  // With `auto`, `warmup` is the cap until the stopping rule ends warmup.
  let warmup = auto ? checkInt('warmup-max', options.warmupMax ?? DEFAULT_WARMUP_MAX, 0) : checkInt('warmup', warmupOption, 0);
  const draws = checkInt('draws', options.draws ?? DEFAULT_DRAWS, 1);
  if (options.targetEss !== undefined && !(Number.isFinite(options.targetEss) && options.targetEss > 0)) {
    throw new InputError('target-ess', `must be a number > 0, got ${options.targetEss}`);
  }
  let target = options.targetEss !== undefined ? targetEss.init(options.targetEss, draws) : undefined;
  const seed = options.seed ?? 1;
  if (!Number.isSafeInteger(seed) || seed < 0) throw new InputError('seed', `must be an integer in [0, 2^53), got ${seed}`);
  const targetAccept = options.targetAccept ?? OPTIMAL_TARGET_ACCEPTANCE_RATE;
  if (!(targetAccept > 0 && targetAccept < 1)) throw new InputError('target-accept', `must be in (0, 1), got ${targetAccept}`);
  const superchains = options.superchains;
  if (superchains !== undefined) checkInt('superchains', superchains, 1);
  const param = options.parameterization;
  const rule = typeof param === 'string' && centeredness.isCenterednessRule(param.trim()) ? (param.trim() as centeredness.CenterednessRule) : undefined;
  // With `auto` centeredness: the learned c's state (window ends from the warmup cap).
  const priors = options.priors ?? DEFAULT_PRIORS;
  // With predictors the groups' estimates are taken net of a meta-regression on them (`initialStats`).
  const initial = () => {
    const stats = groupStats(data);
    return initialStats(stats, predictorStats(data, stats.family));
  };
  let learned = rule !== undefined ? centeredness.init(initial(), warmup, rule, priors) : undefined;
  const c = learned ? learned.c : typeof param === 'string' || param === undefined ? parseParameterization(param ?? 'noncentered', data.labels, 'parameterization') : param;
  let model = makeModel(data, c, priors);
  const D = model.dim;
  const budget = options.drawBudget ?? DEFAULT_DRAW_BUDGET;
  if (Math.floor(budget / (draws * (D + 3))) < 1) throw new InputError('draws', `${draws} draws of ${D} coordinates exceed the draw budget of ${budget} floats even for one chain`);

  const adaptMetric = options.adaptMetric ?? data.predictors !== undefined;
  const device = await acquireDevice(options.backend ?? 'auto', options.gpu);
  const { fallbackReason } = device;
  const ownedGpu = device.owned ? device.gpu : undefined;
  // Without `chains`, the device decides.
  const chains = options.chains ?? (device.gpu && !device.gpu.adapter.isFallback ? DEFAULT_CHAINS : DEFAULT_CHAINS_SOFTWARE);
  let backend: Backend;
  let retained: number;
  try {
    if (superchains !== undefined && chains % superchains !== 0) throw new InputError('superchains', `${superchains} must divide the number of chains (${chains})`);
    retained = Math.min(chains, Math.floor(budget / (draws * (D + 3))));
    if (superchains !== undefined && retained < chains) {
      const per = chains / superchains;
      retained = Math.max(per, Math.floor(retained / per) * per);
    }
    backend = await makeBackend(model, chains, seed, device.gpu, adaptMetric, options.wideKernel);
  } catch (err) {
    ownedGpu?.device.destroy();
    throw err;
  }
  const tCompiled = now();
  options.onBackend?.({ name: backend.name, adapter: backend.adapter, ...(fallbackReason !== undefined && { fallbackReason }) });
  const signal = options.signal;
  // Where the run is, for the message of a device failure.
  let warmupDone = 0;
  let stage: 'setup' | 'warmup' | 'sampling' = 'setup';
  const where = () => (stage === 'setup' ? 'setup' : stage === 'warmup' ? `warmup at iteration ${warmupDone}` : 'sampling');
  /** Throws a RunError when the device has failed (a loss, or an uncaptured GPU error). */
  const failIfFaulted = async (): Promise<void> => {
    const f = backend.deviceFault ? await backend.deviceFault(false) : null;
    if (f) throw new RunError(faultMessage(f, where()));
  };
  try {
    await backend.init(startingPositions(model, keyFromSeed(seed), chains, superchains));
    // The jitter sequence's length is fixed before warmup (with auto, from the cap), so
    // where warmup stops does not change the jitter of any iteration.
    const total = warmup + draws;
    const bits = haltonBitsFor(total);
    const cheesParams = { ...DEFAULT_CHEES, targetAccept };
    stage = 'warmup';
    const w = await runWarmup({
      backend,
      model,
      warmup,
      bits,
      chees: cheesParams,
      adaptMetric,
      auto,
      ...(learned ? { learned } : {}),
      ...(signal ? { signal } : {}),
      failIfFaulted,
      onIteration: (r) => {
        warmupDone = r.iteration;
        options.onProgress?.({
          phase: 'warmup',
          iteration: r.iteration,
          total: r.stopped ? r.iteration : warmup,
          divergences: r.divergences,
          stepSize: r.stepSize,
          trajectoryLength: r.trajectoryLength,
          numSteps: r.numSteps,
          elapsedSeconds: now() - t0,
          acceptRate: r.acceptRate,
          ...(r.stopped ? { warmupStopped: true } : {}),
        });
      },
    });
    ({ model, learned, warmup } = w);
    const { tuned, invMass, stoppedAt } = w;
    // Seconds per leapfrog step (all chains): warmup's last run's, then between reports. The
    // first sampling syncs are sized from it.
    let secondsPerStep = w.secondsPerStep;
    const tWarm = now();

    stage = 'sampling';
    backend.beginSampling(draws, retained);
    const numSteps = new Int32Array(draws);
    let divergences = 0;
    let stepsSinceReport = 0;
    let iterationsSinceReport = 0;
    let completed = 0;
    // Draws confirmed by the last report (the device had done them).
    let confirmed = 0;
    // Syncs about SAMPLING_SYNC_SECONDS of device time apart: the steps issued since the last
    // one are timed at the seconds per step measured (warmup's, then between reports; each
    // report's time covers its interval, as the device works through the intervals in turn).
    const syncSeconds = options.syncSeconds ?? SAMPLING_SYNC_SECONDS;
    let lastReportAt = now();
    // Each sync is awaited one interval later, after the next interval's draws are submitted,
    // so the device always has work queued while the host reads totals and unpacks records.
    // (With snapshots, which read the state at the sync, each is awaited at once.)
    let inFlight: { sync: Promise<number>; iteration: number; steps: number; iterations: number } | null = null;
    const report = async (f: NonNullable<typeof inFlight>) => {
      divergences = await f.sync;
      // An uncaptured GPU error rejects nothing: it is looked for at every sync.
      if (backend.deviceFault && (await backend.deviceFault(false))) throw new Error('the device failed');
      const tReport = now();
      if (f.steps > 0) secondsPerStep = (tReport - lastReportAt) / f.steps;
      lastReportAt = tReport;
      confirmed = f.iteration;
      options.onProgress?.({
        phase: 'sampling',
        iteration: f.iteration,
        total: draws,
        divergences,
        stepSize: tuned.stepSize,
        trajectoryLength: tuned.trajectoryLength,
        numSteps: f.steps / f.iterations,
        elapsedSeconds: now() - t0,
        ...(target && { targetEss: progressOfTarget(target) }),
      });
    };
    let collected: { draws: RecordedDraws; totals: SamplingTotals } | undefined;
    let fault: string | undefined;
    let faultLost = false;
    try {
      for (let t = 0; t < draws; t++) {
        // An abort lands between host syncs (they are the only awaits): the draws issued so
        // far (up to one interval past the last report) are complete and kept.
        if (signal?.aborted) break;
        const it = warmup + t;
        const L = numLeapfrogSteps(trajectoryJitter(it, 1, bits), tuned.trajectoryLength, tuned.stepSize);
        numSteps[t] = L;
        stepsSinceReport += L;
        iterationsSinceReport++;
        backend.step({ iteration: it, stepSize: tuned.stepSize, numSteps: L, invMass });
        backend.recordDraw();
        completed = t + 1;
        // --target-ess: at a check's draw count, the device's work so far is read back and
        // the estimate decides whether sampling ends here (the same draw for the same seed).
        let stopHere = false;
        if (target && completed === target.nextCheck && completed < draws) {
          if (inFlight) await report(inFlight);
          inFlight = null;
          const soFar = await backend.recordedSoFar();
          target = targetEss.update(target, targetEss.estimate(model, soFar.draws, soFar.n, chains), draws);
          stopHere = target.reached;
        }
        // (The steps and iterations since the last report are those since the last sync.)
        if (stopHere || iterationsSinceReport >= SAMPLING_SYNC_INTERVAL || stepsSinceReport * secondsPerStep >= syncSeconds || t + 1 === draws) {
          const sync = backend.sync();
          // Awaited later (report); marked handled now so that a failure while it waits is
          // thrown there, not reported as an unhandled rejection.
          sync.catch(() => {});
          const next = { sync, iteration: t + 1, steps: stepsSinceReport, iterations: iterationsSinceReport };
          stepsSinceReport = 0;
          iterationsSinceReport = 0;
          const previous = inFlight;
          inFlight = next;
          if (previous) await report(previous);
          if (options.onSnapshot && backend.snapshotPositions) {
            await report(next);
            inFlight = null;
            const n = Math.min(chains, options.snapshotChains ?? DEFAULT_SNAPSHOT_CHAINS);
            options.onSnapshot({ iteration: t + 1, chains: n, positions: await backend.snapshotPositions(n), centeredness: model.c });
          }
        }
        if (stopHere) break;
      }
      if (inFlight) await report(inFlight);
      // Aborted before the first draw: nothing to keep.
      if (completed === 0) signal?.throwIfAborted();
      collected = await backend.collect();
    } catch (err) {
      const f = backend.deviceFault && !(signal?.aborted && err === signal.reason) ? await backend.deviceFault(true) : null;
      if (!f) throw err;
      fault = faultMessage(f, `sampling at draw ${confirmed}`);
      faultLost = f.lost;
    }
    let records: RecordedDraws;
    let totals: SamplingTotals;
    if (collected) {
      records = truncateDraws(collected.draws, completed, model.dim);
      totals = collected.totals;
    } else {
      // The device failed: keep the draws read back before it, if any (after a GPU error,
      // only those confirmed before it was seen: later work may have been skipped).
      const saved = backend.salvage?.() ?? null;
      const n = saved ? Math.min(saved.n, faultLost ? completed : confirmed) : 0;
      if (!saved || n === 0) throw new RunError(`${fault}; no draw had been read back from the device, so none is kept`);
      completed = n;
      records = truncateDraws(saved.draws, n, model.dim);
      let acceptSum = 0;
      for (const a of records.acceptProb) acceptSum += a;
      let steps = 0;
      for (let t = 0; t < n; t++) steps += numSteps[t];
      totals = { divergences, meanAccept: acceptSum / Math.max(1, records.acceptProb.length), gradientEvals: chains * steps };
    }
    const partial = completed < draws && !target?.reached;
    const tDone = now();
    // Filled by the backend as it unpacked each readback (WebGPU), else computed here.
    const { params, paramNames } = records.constrained ? namedConstrained(model, records.constrained) : constrainDraws(model, records);
    return {
      model,
      backend: { name: backend.name, adapter: backend.adapter, ...(fallbackReason !== undefined && { fallbackReason }) },
      chains,
      retainedChains: records.retainedChains,
      warmup,
      ...(auto ? { warmupAuto: { max: total - draws, stoppedAt, checks: w.checks } } : {}),
      draws: completed,
      ...(target ? { targetEss: target } : {}),
      partial,
      ...(fault !== undefined ? { fault } : {}),
      requestedDraws: draws,
      superchains,
      params,
      paramNames,
      records,
      totals,
      stepSize: tuned.stepSize,
      trajectoryLength: tuned.trajectoryLength,
      invMass,
      numSteps: completed < draws ? numSteps.slice(0, completed) : numSteps,
      adaptation: w.history,
      warmupGradientEvals: w.gradientEvals,
      ...(learned ? { centeredness: centerednessReport(learned) } : {}),
      timing: { compile_s: tCompiled - t0, warmup_s: tWarm - tCompiled, sampling_s: tDone - tWarm, total_s: tDone - t0 },
    };
  } catch (err) {
    // A failed operation on a failed device: one line saying so (a RunError) rather than the
    // operation's own error.
    if (err instanceof RunError || (signal?.aborted && err === signal.reason) || !backend.deviceFault) throw err;
    const f = await backend.deviceFault(true);
    throw f ? new RunError(faultMessage(f, where()), { cause: err }) : err;
  } finally {
    backend.destroy();
    ownedGpu?.device.destroy();
  }
}

/** What a progress report says of `--target-ess` (see Progress.targetEss). */
function progressOfTarget(t: targetEss.TargetEssState): NonNullable<Progress['targetEss']> {
  const last = t.checks.at(-1);
  return { target: t.target, nextCheck: t.nextCheck, ...(last && { essBulkMin: last.essBulkMin, rhatMax: last.rhatMax }) };
}

/** "the GPU device was lost during warmup at iteration 12: destroyed (device was destroyed)". */
export function faultMessage(f: DeviceFault, where: string): string {
  return `the GPU device ${f.lost ? 'was lost' : 'reported an error'} during ${where}: ${f.reason}`;
}
