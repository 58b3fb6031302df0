/**
 * The warmup driver: one loop for every backend and adaptation. Warmup runs in runs of
 * iterations: one iteration adapted on the host (`Backend.ensembleStats`, then ChEES and
 * dual averaging in float64, and the metric windows), or up to MAX_DEVICE_WARMUP adapted on
 * the device (`Backend.warmupOnDevice`). After each run the driver does what every path
 * shares: the adaptation history, the learned centeredness at its window ends, the
 * stopping rule at its checks, and a progress report per iteration.
 */
import { chees as makeChees, numLeapfrogSteps, type CheesParams, type CheesState } from '../adaptation/chees.ts';
import { DEFAULT_DUAL_AVERAGING } from '../adaptation/dual_averaging.ts';
import { trajectoryJitter } from '../adaptation/halton.ts';
import * as metric from '../adaptation/metric.ts';
import type * as centeredness from '../adaptation/centeredness.ts';
import { warmupStop, type WarmupCheck } from '../adaptation/warmup_stop.ts';
import type { HierModel } from '../model/model.ts';
import { MAX_DEVICE_WARMUP, type AdaptationHistory, type Backend } from './backend.ts';
import { centerednessWindowEnd } from './auto_centeredness.ts';

/**
 * Initial step size before dual averaging (mu = log(10 eps0), Hoffman & Gelman 2014).
 * Chains start uniform on (-2, 2), so the first iterations are far from the typical set.
 */
export const INITIAL_STEP_SIZE = 0.1;
/** Warmup fractions at which the diagonal metric is re-estimated (when enabled). */
export const METRIC_WINDOW_ENDS = [0.15, 0.3, 0.6] as const;
/**
 * Wall time aimed at per device warmup run: runs are sized from the last one's time per
 * iteration, so that progress and an abort are never more than about this far apart
 * (a run's length does not change the draws).
 */
export const WARMUP_SYNC_SECONDS = 0.25;
/** Iterations of the first device warmup run (later runs are sized from the last one's time). */
const FIRST_DEVICE_RUN = 4;

/** What warmup runs on and how it adapts. */
export interface WarmupOptions {
  readonly backend: Backend;
  readonly model: HierModel;
  /** Iterations (with `auto`, the cap until the stopping rule ends warmup). */
  readonly warmup: number;
  /** Bits of the Halton jitter sequence (fixed by the whole run's length). */
  readonly bits: number;
  readonly chees: CheesParams;
  /** Adapt a diagonal metric in windows (METRIC_WINDOW_ENDS); adaptation then stays on the host. */
  readonly adaptMetric: boolean;
  /** End warmup by the stopping rule (`adaptation/warmup_stop.ts`). */
  readonly auto: boolean;
  /** The learned centeredness's state (`auto` parameterizations), re-estimated at its window ends. */
  readonly learned?: centeredness.CenterednessState;
  readonly signal?: AbortSignal;
  /** Throws when the device has failed (looked for after every run). */
  readonly failIfFaulted: () => Promise<void>;
  /** After each iteration, in order (see WarmupIteration). */
  readonly onIteration: (r: WarmupIteration) => void;
}

/** One warmup iteration, as reported. */
export interface WarmupIteration {
  /** Iterations done (1-based). */
  readonly iteration: number;
  /** The step size and trajectory length adapted after it. */
  readonly stepSize: number;
  readonly trajectoryLength: number;
  readonly numSteps: number;
  /** The ensemble's mean acceptance of the iteration. */
  readonly acceptRate: number;
  /** Divergences of warmup so far (all chains). */
  readonly divergences: number;
  /** Set when the stopping rule ended warmup here. */
  readonly stopped: boolean;
}

/** What warmup leaves for sampling. */
export interface WarmupResult {
  /** Iterations run. */
  readonly warmup: number;
  /** Where the stopping rule ended warmup (null: it ran to its length), and every check it made. */
  readonly stoppedAt: number | null;
  readonly checks: readonly WarmupCheck[];
  /** The adapted step size and trajectory length (the averages), and the metric. */
  readonly tuned: { readonly stepSize: number; readonly trajectoryLength: number };
  readonly invMass: Float64Array;
  readonly history: AdaptationHistory;
  /** The model in use (its centeredness may have been learned) and the learned state. */
  readonly model: HierModel;
  readonly learned?: centeredness.CenterednessState;
  /** Leapfrog steps computed (all chains). */
  readonly gradientEvals: number;
  /** Seconds per leapfrog step (all chains) of the last run: the first sampling syncs are sized from it. */
  readonly secondsPerStep: number;
}

/** A run's per-iteration history and the adaptation state after it. */
interface Run extends AdaptationHistory {
  readonly state: CheesState;
}

/**
 * Runs warmup (ChEES: Hoffman, Radul & Sountsov 2021; dual averaging: Hoffman & Gelman
 * 2014) from INITIAL_STEP_SIZE and the unit metric. Device runs end at the stopping rule's
 * checks and the centeredness window ends, so where warmup stops depends on the seed only.
 */
export async function runWarmup(o: WarmupOptions): Promise<WarmupResult> {
  const { backend, warmup, bits, signal } = o;
  const chains = backend.chains;
  const D = o.model.dim;
  let model = o.model;
  let learned = o.learned;
  const adapter = makeChees(o.chees);
  let state: CheesState = adapter.init({ stepSize: INITIAL_STEP_SIZE });
  let invMass: Float64Array = new Float64Array(D).fill(1);
  const stopRule = o.auto ? warmupStop() : undefined;
  let stopState = stopRule?.init();
  const checks: WarmupCheck[] = [];
  let stoppedAt: number | null = null;
  /**
   * The stopping rule at a check iteration (`it` iterations done, a multiple of the check
   * interval): reads the positions, returns true when warmup ends here.
   */
  const checkStop = async (it: number): Promise<boolean> => {
    if (!stopRule || it % stopRule.params.interval !== 0 || it >= warmup) return false;
    const r = stopRule.update(stopState!, { iteration: it, tuned: adapter.final(state), positions: await backend.positions(), chains, dim: D });
    stopState = r.state;
    checks.push(r.check);
    return r.check.stop;
  };
  const windowEnds = o.adaptMetric ? METRIC_WINDOW_ENDS.map((f) => Math.floor(f * warmup)) : [];
  let window = metric.init(D, chains);
  let history: AdaptationHistory = {
    stepSize: new Float64Array(warmup),
    trajectoryLength: new Float64Array(warmup),
    numSteps: new Int32Array(warmup),
    meanAccept: new Float64Array(warmup),
    harmonicMeanAccept: new Float64Array(warmup),
    divergences: new Int32Array(warmup),
  };
  let gradientEvals = 0;
  let divergences = 0;
  let secondsPerStep = 0;
  const windowEndsC = learned?.windowEnds ?? [];
  /** The next iteration count after `it` at which c is re-estimated (or the end of warmup). */
  const nextWindowEnd = (it: number) => windowEndsC.find((e) => e > it) ?? warmup;
  /**
   * With auto centeredness, after `done` iterations at a window end: re-estimate c and move
   * the chains to it. The step size and trajectory length adapt on from their current
   * values: restarting dual averaging there (as after a metric window) cost 2–10% more
   * warmup gradient evaluations and gave no better step size (weak and unbalanced data,
   * 4,096 chains). A change restarts the warmup stopping rule (its position snapshots are
   * in the old coordinates) and the metric window.
   */
  const centerednessStep = async (done: number): Promise<void> => {
    if (!learned || !windowEndsC.includes(done)) return;
    const r = await centerednessWindowEnd(backend, model, learned, done);
    model = r.model;
    learned = r.state;
    if (!r.changed) return;
    if (windowEnds.length) window = metric.init(D, chains);
    if (stopRule) stopState = stopRule.reset();
  };

  /** One iteration adapted on the host: the reductions come back, ChEES and dual averaging (and a metric window) update here. */
  const hostRun = async (it: number): Promise<Run> => {
    const u = trajectoryJitter(it, 1, bits);
    const L = numLeapfrogSteps(u, state.trajectoryLength, state.stepSize);
    const before = state;
    backend.step({ iteration: it, stepSize: state.stepSize, numSteps: L, invMass });
    const stats = await backend.ensembleStats();
    let next = adapter.update(state, stats, u);
    if (windowEnds.length) {
      window = metric.update(window, stats);
      if (windowEnds.includes(it + 1)) {
        invMass = metric.final(window);
        window = metric.init(D, chains);
        // A new metric changes the scale: restart dual averaging from the current values,
        // and the stopping rule from here.
        next = adapter.init({ stepSize: next.stepSize, trajectoryLength: next.trajectoryLength });
        if (stopRule) stopState = stopRule.reset();
      }
    }
    return {
      state: next,
      stepSize: Float64Array.of(before.stepSize),
      trajectoryLength: Float64Array.of(before.trajectoryLength),
      numSteps: Int32Array.of(L),
      meanAccept: Float64Array.of(stats.meanAccept),
      harmonicMeanAccept: Float64Array.of(stats.harmonicMeanAccept),
      divergences: Int32Array.of(stats.numDivergent),
    };
  };
  /** `count` iterations adapted on the device, in one round trip. */
  const deviceRun = (it: number, count: number): Promise<Run> => {
    const jitter = Float64Array.from({ length: count + 1 }, (_, i) => trajectoryJitter(it + i, 1, bits));
    return backend.warmupOnDevice!({ first: it, count, state, chees: o.chees, dualAveraging: DEFAULT_DUAL_AVERAGING, jitter, invMass });
  };
  const onDevice = !o.adaptMetric && backend.warmupOnDevice !== undefined;

  // Device runs are sized to about WARMUP_SYNC_SECONDS (a report per iteration at least,
  // however slow: one transition is one dispatch); the host adapts after every iteration.
  let runLength = onDevice ? FIRST_DEVICE_RUN : 1;
  for (let it = 0; it < warmup; ) {
    signal?.throwIfAborted();
    // With auto, runs end at the check iterations (so the checks see the same state however runs are sized).
    const toCheck = stopRule ? stopRule.params.interval - (it % stopRule.params.interval) : Infinity;
    const count = Math.min(runLength, warmup - it, toCheck, nextWindowEnd(it) - it);
    const tRun = now();
    const r = onDevice ? await deviceRun(it, count) : await hostRun(it);
    await o.failIfFaulted();
    const runSteps = r.numSteps.reduce((a, b) => a + b, 0);
    secondsPerStep = (now() - tRun) / Math.max(1, runSteps);
    if (onDevice) {
      // The next run is sized for the leapfrog steps its iterations will take at the adapted
      // step size and trajectory length (while the step size collapses early in warmup, L
      // grows many-fold from one run to the next), and grows at most 4x per run.
      const perIteration = (now() - tRun) / count;
      const nextL = numLeapfrogSteps(1, r.state.trajectoryLength, r.state.stepSize, o.chees.maxLeapfrogSteps);
      const growth = Math.max(1, nextL / Math.max(1, runSteps / count));
      runLength = Math.max(1, Math.min(MAX_DEVICE_WARMUP, 4 * count, Math.floor(WARMUP_SYNC_SECONDS / Math.max(perIteration * growth, 1e-6))));
    }
    for (const k of Object.keys(history) as (keyof AdaptationHistory)[]) history[k].set(r[k], it);
    state = r.state;
    const done = it + count;
    await centerednessStep(done);
    // With a metric, stop only after its last window.
    const stop = (!windowEnds.length || done > windowEnds[windowEnds.length - 1]) && (await checkStop(done));
    // Progress for each iteration of the run; an abort takes effect between reports.
    for (let i = 0; i < count; i++) {
      if (i > 0) signal?.throwIfAborted();
      const last = i === count - 1;
      gradientEvals += chains * r.numSteps[i];
      divergences += r.divergences[i];
      o.onIteration({
        iteration: it + i + 1,
        stepSize: last ? state.stepSize : r.stepSize[i + 1],
        trajectoryLength: last ? state.trajectoryLength : r.trajectoryLength[i + 1],
        numSteps: r.numSteps[i],
        acceptRate: r.meanAccept[i],
        divergences,
        stopped: last && stop,
      });
    }
    it = done;
    if (stop) {
      stoppedAt = it;
      break;
    }
  }
  const run = stoppedAt ?? warmup;
  if (stoppedAt !== null) {
    const h = history;
    history = {
      stepSize: h.stepSize.slice(0, run),
      trajectoryLength: h.trajectoryLength.slice(0, run),
      numSteps: h.numSteps.slice(0, run),
      meanAccept: h.meanAccept.slice(0, run),
      harmonicMeanAccept: h.harmonicMeanAccept.slice(0, run),
      divergences: h.divergences.slice(0, run),
    };
  }
  const tuned = run > 0 ? adapter.final(state) : { stepSize: state.stepSize, trajectoryLength: state.trajectoryLength };
  return { warmup: run, stoppedAt, checks, tuned, invMass, history, model, ...(learned ? { learned } : {}), gradientEvals, secondsPerStep };
}

const now = () => performance.now() / 1000;
