import type { HierModel } from '../model/model.ts';
import type { CheesParams, CheesState } from '../adaptation/chees.ts';
import type { DualAveragingParams } from '../adaptation/dual_averaging.ts';
import type { EnsembleStats } from '../adaptation/ensemble_stats.ts';

/**
 * The contract between the sampler driver (`sample.ts`) and a compute backend
 * (float64 TypeScript `cpu`, or float32 `webgpu`). A backend owns the ensemble of
 * chains and its buffers; the driver owns adaptation (step size, trajectory length,
 * metric), which it updates from the reduced statistics a backend returns — or, where a
 * backend offers `warmupOnDevice` and no metric is adapted, hands the same ChEES and
 * dual-averaging updates to the device for runs of iterations.
 *
 * Positions are in unconstrained coordinates q = (mu, log tau, z_0..z_{K-1}) and every
 * flat array is chain-major: element (chain c, coordinate d) at c * D + d.
 */
export interface TransitionParams {
  /** Global iteration index (warmup and sampling counted together), keys the RNG. */
  readonly iteration: number;
  readonly stepSize: number;
  /** Leapfrog steps of this iteration, shared by all chains (ChEES jitter). */
  readonly numSteps: number;
  /** Diagonal inverse mass matrix, length D. */
  readonly invMass: Float64Array;
}

export type { EnsembleStats } from '../adaptation/ensemble_stats.ts';

/** What a backend recorded for every draw of the retained chains, chain-major. */
export interface RecordedDraws {
  /** Retained chains (a prefix 0..retainedChains-1 of all chains). */
  readonly retainedChains: number;
  readonly draws: number;
  /** Unconstrained positions: [(chain * draws + draw) * D + d]. */
  readonly positions: Float32Array | Float64Array;
  /** Per draw: log-density, Hamiltonian (energy), acceptance probability, divergence flag (0/1). */
  readonly logDensity: Float32Array | Float64Array;
  readonly energy: Float32Array | Float64Array;
  readonly acceptProb: Float32Array | Float64Array;
  readonly divergent: Uint8Array;
  /** Positions where divergent transitions diverged: [(index) * D + d], with their chain and draw. */
  readonly divergentPositions: Float32Array | Float64Array;
  readonly divergentChain: Int32Array;
  readonly divergentDraw: Int32Array;
  /**
   * The constrained draws (mu, tau, log_tau, theta[label], as `rowConstrainer` computes them
   * from `positions`), when the backend filled them while unpacking; otherwise the caller
   * computes them (`constrainDraws`).
   */
  readonly constrained?: readonly Float32Array[];
}

/**
 * The first `n` draws of every retained chain (chain-major, repacked) when a backend
 * recorded more slots than were filled (an aborted run); `rec` itself when it holds `n`.
 */
export function truncateDraws(rec: RecordedDraws, n: number, D: number): RecordedDraws {
  if (rec.draws === n) return rec;
  if (n > rec.draws) throw new RangeError(`truncateDraws: ${n} draws asked of ${rec.draws} recorded`);
  const R = rec.retainedChains;
  const cut = <T extends Float32Array | Float64Array | Uint8Array>(a: T, width: number): T => {
    const out = new (a.constructor as { new (len: number): T })(R * n * width);
    for (let c = 0; c < R; c++) out.set(a.subarray(c * rec.draws * width, (c * rec.draws + n) * width), c * n * width);
    return out;
  };
  // Divergences recorded at draws >= n (none, as recording stops with the draws) are dropped.
  let kept = 0;
  for (let i = 0; i < rec.divergentDraw.length; i++) if (rec.divergentDraw[i] < n) kept++;
  const divPos = new (rec.divergentPositions.constructor as { new (len: number): Float32Array | Float64Array })(kept * D);
  const divChain = new Int32Array(kept);
  const divDraw = new Int32Array(kept);
  for (let i = 0, j = 0; i < rec.divergentDraw.length; i++) {
    if (rec.divergentDraw[i] >= n) continue;
    divPos.set(rec.divergentPositions.subarray(i * D, (i + 1) * D), j * D);
    divChain[j] = rec.divergentChain[i];
    divDraw[j++] = rec.divergentDraw[i];
  }
  return {
    retainedChains: R,
    draws: n,
    positions: cut(rec.positions, D),
    ...(rec.constrained ? { constrained: rec.constrained.map((a) => cut(a, 1)) } : {}),
    logDensity: cut(rec.logDensity, 1),
    energy: cut(rec.energy, 1),
    acceptProb: cut(rec.acceptProb, 1),
    divergent: cut(rec.divergent, 1),
    divergentPositions: divPos,
    divergentChain: divChain,
    divergentDraw: divDraw,
  };
}

/** Totals over *all* chains (not only retained ones) for the sampling phase. */
export interface SamplingTotals {
  readonly divergences: number;
  readonly meanAccept: number;
  readonly gradientEvals: number;
}

/** Most warmup iterations one `Backend.warmupOnDevice` call runs (its history and jitter buffers are sized for them). */
export const MAX_DEVICE_WARMUP = 32;

/** A run of warmup iterations adapted on the device (see `Backend.warmupOnDevice`). */
export interface DeviceWarmupArgs {
  /** First iteration (the Philox counter) and how many follow. */
  readonly first: number;
  readonly count: number;
  /** Adaptation state before iteration `first` (its step size and T drive that iteration). */
  readonly state: CheesState;
  readonly chees: CheesParams;
  readonly dualAveraging: DualAveragingParams;
  /** Trajectory jitter u of iterations first .. first + count (count + 1 values). */
  readonly jitter: Float64Array;
  readonly invMass: Float64Array;
}

/** Per-iteration adaptation history (warmup), for plots and checks. */
export interface AdaptationHistory {
  readonly stepSize: Float64Array;
  readonly trajectoryLength: Float64Array;
  readonly numSteps: Int32Array;
  readonly meanAccept: Float64Array;
  readonly harmonicMeanAccept: Float64Array;
  readonly divergences: Int32Array;
}

/** Per-iteration history of a device warmup run, and the adaptation state after it. */
export interface DeviceWarmupResult extends AdaptationHistory {
  readonly state: CheesState;
}

export interface Backend {
  readonly name: 'cpu' | 'webgpu';
  /** Adapter/device description (for the summary's `device` field). */
  readonly adapter: string;
  readonly chains: number;
  readonly dim: number;
  /** Sets the initial positions (chain-major, length chains * D) and evaluates log p and its gradient. */
  init(positions: Float64Array): Promise<void>;
  /**
   * Switches to `model` — the same data and priors under another centeredness — and sets
   * the chains' positions to `positions` (read with `positions()`), which the caller has moved to the new coordinates
   * (`reparameterizePositions`); log p and its gradient are re-evaluated as in `init`.
   * Before sampling only. The WebGPU backend rebuilds its transition pipelines here (c is
   * compiled into them).
   */
  reparameterize(model: HierModel, positions: Float64Array): Promise<void>;
  /** One HMC transition for every chain (momentum refresh, numSteps leapfrog steps, accept). */
  step(params: TransitionParams): void;
  /** Reductions of the last transition for adaptation. `recordDraw` must not be called in between. */
  ensembleStats(): Promise<EnsembleStats>;
  /**
   * Optional: runs `count` warmup transitions with ChEES and dual-averaging adaptation
   * computed on the device after each (the same algorithm as `adaptation/chees.ts`, in the
   * backend's precision), with no host round trip between iterations. The unit or a fixed
   * diagonal metric only (metric windows need the host).
   */
  warmupOnDevice?(args: DeviceWarmupArgs): Promise<DeviceWarmupResult>;
  /**
   * The current positions of all chains, chain-major (chains * D), after the work submitted
   * so far (for the warmup stopping rule, `adaptation/warmup_stop.ts`). Only before sampling.
   */
  positions(): Promise<Float32Array | Float64Array>;
  /** Starts recording: subsequent `recordDraw` calls store draws 0..draws-1 of chains 0..retainedChains-1. */
  beginSampling(draws: number, retainedChains: number): void;
  /** Stores the current state as the next draw (after `step`). */
  recordDraw(): void;
  /**
   * Waits for the work submitted before the call; returns the divergences of the sampling
   * phase up to there (all chains). Work submitted while it waits may still run.
   */
  sync(): Promise<number>;
  /**
   * Optional: the current positions of chains 0..n-1 (chain-major, c * D + d), for live
   * plots while sampling. Reading them changes nothing in the run.
   */
  snapshotPositions?(n: number): Promise<Float32Array | Float64Array>;
  /**
   * Waits for the work submitted so far and returns the recording with its first `n` draws
   * of every retained chain complete, n = the draws recorded so far (the arrays are sized
   * for all draws, `rec.draws` slots per chain). For checks during sampling
   * (`target_ess.ts`); the WebGPU backend reads back the record chunk in progress.
   */
  recordedSoFar(): Promise<{ draws: RecordedDraws; n: number }>;
  /** Returns recorded draws and totals (after the last `recordDraw`). */
  collect(): Promise<{ draws: RecordedDraws; totals: SamplingTotals }>;
  /**
   * Optional (WebGPU): how the device failed so far (lost, or an uncaptured GPU error), or
   * null while it works. `wait`: after an operation failed, give a loss a moment (up to
   * DEVICE_LOSS_WAIT_MS) to be reported before answering null.
   */
  deviceFault?(wait?: boolean): Promise<DeviceFault | null>;
  /**
   * Optional (WebGPU): after a device fault during sampling, the records as far as they were
   * read back before it: the first `n` draws of every retained chain are complete (the
   * arrays are sized for all draws; `truncateDraws` cuts them). Null before sampling.
   */
  salvage?(): { draws: RecordedDraws; n: number } | null;
  destroy(): void;
}

/** A failure of the device under a backend (`Backend.deviceFault`). */
export interface DeviceFault {
  /** True when the device was lost (destroyed, reset, driver crash); false for a GPU error (validation, out of memory). */
  readonly lost: boolean;
  /** The device's own words: the loss's reason and message, or the error's kind and message. */
  readonly reason: string;
}

/** Longest wait (ms) for a device loss to be reported after an operation on the device failed. */
export const DEVICE_LOSS_WAIT_MS = 200;

/** Factory signature shared by backends. */
export type BackendFactory = (model: HierModel, chains: number, seed: number) => Promise<Backend>;
