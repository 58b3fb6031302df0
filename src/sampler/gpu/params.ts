/**
 * The structs the host packs for the kernels, laid out from their WGSL declarations
 * (src/gpu/structs.ts): StepParams (shaders/hmc.wgsl, shaders/hmc_wide_common.wgsl),
 * WarmupStep (shaders/hmc_common.wgsl), AdaptState and AdaptParams (shaders/adapt.wgsl) and
 * ReduceParams (shaders/reduce.wgsl).
 */
import type { CheesParams, CheesState } from '../../adaptation/chees.ts';
import type { DualAveragingParams } from '../../adaptation/dual_averaging.ts';
import type { ModelLayout } from '../../model/layout.ts';
import { deviceSlots } from '../../gpu/layout.ts';
import { checkPrefix, wgslStructs, type StructView, type WgslStructs } from '../../gpu/structs.ts';
import { MAX_DEVICE_WARMUP } from '../backend.ts';

/** Step flags (shaders/hmc_common.wgsl). */
export const FLAG_RECORD = 2;

/**
 * The structs of the transition kernels: the narrow kernel's StepParams ends with the
 * inverse mass, NV + 1 blocks (so its layout depends on NV); the wide kernels' does not
 * (they read the inverse mass from a storage buffer).
 */
export function transitionStructs(wide: boolean, NV: number): Promise<WgslStructs> {
  return wide ? wgslStructs(['hmc_common', 'hmc_wide_common']) : wgslStructs(['hmc_common', 'hmc'], { NV: { type: 'u32', value: NV } });
}

/** The device adaptation's structs and ReduceParams (their layouts depend on no constant). */
export function adaptStructs(): Promise<WgslStructs> {
  return wgslStructs(['reduce', 'adapt']);
}

/** One dispatch's transitions, as StepParams describes them. */
export interface StepHeader {
  /** First iteration (the Philox counter) and the leapfrog steps of each transition. */
  readonly first: number;
  readonly steps: readonly number[];
  readonly stepSize: number;
  readonly recording: boolean;
  readonly firstSlot: number;
}

/** The per-run fields of StepParams, written once. */
export interface StepConstants {
  readonly chains: number;
  /** Invocations per grid row (narrow kernel) or workgroups per row (wide kernels). */
  readonly rowStride: number;
  readonly key: readonly [number, number];
  readonly K: number;
}

/** The step uniform (StepParams) and its host copy. */
export class StepParams {
  /** Most transitions per dispatch: the length of `num_steps` (MAX_BATCH in shaders/hmc_common.wgsl). */
  readonly maxBatch: number;
  private readonly view: StructView;

  constructor(structs: WgslStructs, c: StepConstants) {
    this.view = structs.view('StepParams');
    const v = this.view.views;
    this.maxBatch = v.num_steps.length;
    v.num_chains[0] = c.chains;
    v.row_stride[0] = c.rowStride;
    v.key.set(c.key);
    // The wide kernels read K here; the narrow one has it compiled in.
    if (v.num_groups) v.num_groups[0] = c.K;
  }

  /** The uniform's bytes, as last written. */
  get data(): ArrayBuffer {
    return this.view.arrayBuffer;
  }

  /** The narrow kernel's inverse mass (z blocks, then the globals' block), or undefined (wide kernels). */
  get invMass(): Float32Array | undefined {
    return this.view.views.inv_mass as Float32Array | undefined;
  }

  /** Writes a dispatch's fields; `slots` and `retained` describe the record buffer. */
  write(h: StepHeader, retained: number, slots: number): void {
    const v = this.view.views;
    v.iteration[0] = h.first >>> 0;
    v.num_iterations[0] = h.steps.length;
    v.step_size[0] = h.stepSize;
    v.flags[0] = h.recording ? FLAG_RECORD : 0;
    v.record_slot[0] = h.firstSlot;
    v.retained[0] = retained;
    v.slots[0] = slots;
    v.num_steps.fill(0);
    v.num_steps.set(h.steps);
  }
}

/**
 * Fills `out` (NV + 1 blocks of four lanes) with a diagonal inverse mass in the kernels'
 * block order (`deviceSlots`: group k at block k >> 2, lane k & 3; the coefficients after the
 * groups; the other globals in the last block, in the layout's order); padding lanes 1.
 */
export function blockInvMass(out: Float32Array, invMass: Float64Array, layout: ModelLayout): void {
  out.fill(1);
  const slots = deviceSlots(layout);
  for (let d = 0; d < layout.dim; d++) out[slots[d]] = invMass[d];
}

/** The warmup kernels' WarmupStep (iteration, step size, steps), written before a host-adapted warmup step. */
export class WarmupStepView {
  private readonly view: StructView;
  constructor(transition: WgslStructs, adapt: WgslStructs) {
    // The device adaptation writes the same words as AdaptState's first fields.
    checkPrefix(adapt.struct('AdaptState'), transition.struct('WarmupStep'), 'AdaptState does not begin with WarmupStep');
    this.view = transition.view('WarmupStep');
  }
  pack(stepSize: number, numSteps: number, iteration: number): ArrayBuffer {
    const v = this.view.views;
    v.step_size[0] = stepSize;
    v.num_steps[0] = numSteps;
    v.iteration[0] = iteration >>> 0;
    return this.view.arrayBuffer;
  }
}

/**
 * The host's float64 adaptation state in AdaptState (float32/u32 fields), with the first
 * iteration and its leapfrog steps.
 */
export function packAdaptState(structs: WgslStructs, state: CheesState, iteration: number, numSteps: number): ArrayBuffer {
  const s = structs.view('AdaptState');
  s.views.num_steps[0] = numSteps;
  s.views.iteration[0] = iteration >>> 0;
  const put: Record<string, number> = {
    step_size: state.stepSize,
    trajectory_length: state.trajectoryLength,
    log_step_size_avg: state.logStepSizeAvg,
    log_trajectory_length_avg: state.logTrajectoryLengthAvg,
    adam_v: state.adamV,
    adam_step: state.adamStep,
    step: state.step,
    num_skipped: state.numSkipped,
    da_log_x: state.da.logX,
    da_log_x_avg: state.da.logXAvg,
    da_step: state.da.step,
    da_avg_error: state.da.avgError,
    da_mu: state.da.mu,
    da_num_skipped: state.da.numSkipped,
  };
  for (const [name, x] of Object.entries(put)) s.views[name][0] = x;
  return s.arrayBuffer;
}

/** The inverse of packAdaptState, from AdaptState's bytes at the start of `raw` (the next iteration and its steps are not part of CheesState). */
export function unpackAdaptState(structs: WgslStructs, raw: ArrayBuffer): CheesState {
  const v = structs.view('AdaptState', raw, 0).views;
  return {
    stepSize: v.step_size[0],
    trajectoryLength: v.trajectory_length[0],
    logStepSizeAvg: v.log_step_size_avg[0],
    logTrajectoryLengthAvg: v.log_trajectory_length_avg[0],
    adamV: v.adam_v[0],
    adamStep: v.adam_step[0],
    step: v.step[0],
    numSkipped: v.num_skipped[0],
    da: { logX: v.da_log_x[0], logXAvg: v.da_log_x_avg[0], step: v.da_step[0], avgError: v.da_avg_error[0], mu: v.da_mu[0], numSkipped: v.da_num_skipped[0] },
  };
}

/** AdaptParams of a device warmup run: its iterations, the ChEES and dual-averaging constants, and the jitter of each iteration. */
export function packAdaptParams(structs: WgslStructs, first: number, count: number, chees: CheesParams, da: DualAveragingParams, jitter: Float64Array): ArrayBuffer {
  const p = structs.view('AdaptParams');
  const v = p.views;
  if (v.jitter.length < MAX_DEVICE_WARMUP + 1) throw new Error(`AdaptParams holds ${v.jitter.length} jitter values, fewer than MAX_DEVICE_WARMUP + 1`);
  v.first_iteration[0] = first >>> 0;
  v.count[0] = count;
  v.max_steps[0] = chees.maxLeapfrogSteps;
  v.target_accept[0] = chees.targetAccept;
  v.learning_rate[0] = chees.learningRate;
  v.b2[0] = chees.b2;
  v.adam_eps[0] = chees.adamEps;
  v.decay_rate[0] = chees.decayRate;
  v.t0[0] = da.t0;
  v.gamma[0] = da.gamma;
  v.kappa[0] = da.kappa;
  v.jitter.set(jitter.subarray(0, count + 1));
  return p.arrayBuffer;
}

/**
 * Columns of a row of the device adaptation's history (shaders/adapt.wgsl writes rows of
 * HISTORY_FIELDS floats: step size, T, L, mean acceptance, harmonic mean, divergences,
 * valid chains, ChEES gradient).
 */
export const HISTORY_COLUMNS = { stepSize: 0, trajectoryLength: 1, numSteps: 2, meanAccept: 3, harmonicMeanAccept: 4, divergences: 5 } as const;

/** ReduceParams (shaders/reduce.wgsl): the chains, and the threads that write partial sums. */
export function packReduceParams(structs: WgslStructs, chains: number, threads: number): ArrayBuffer {
  const p = structs.view('ReduceParams');
  p.views.num_chains[0] = chains;
  p.views.num_threads[0] = threads;
  return p.arrayBuffer;
}
