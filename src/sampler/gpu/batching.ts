/**
 * Sampling transitions are dispatched in batches: consecutive iterations with the same step
 * size and metric run in one dispatch, up to the length of StepParams' `num_steps` (MAX_BATCH
 * in shaders/hmc_common.wgsl), with the chains' state in registers between them.
 */
import type { TransitionParams } from '../backend.ts';

/** Sampling transitions waiting to be dispatched together. */
export interface PendingBatch {
  readonly first: number;
  readonly stepSize: number;
  readonly invMass: Float64Array;
  /** Leapfrog steps of each transition. */
  readonly steps: number[];
  readonly recording: boolean;
  /** The record slot of the first transition. */
  readonly firstSlot: number;
}

/** True when the transition `params` (recorded or not) can join `batch`, of at most `maxBatch` transitions. */
export function canExtend(batch: PendingBatch, params: TransitionParams, recording: boolean, maxBatch: number): boolean {
  return (
    batch.steps.length < maxBatch &&
    batch.first + batch.steps.length === params.iteration &&
    batch.stepSize === params.stepSize &&
    batch.recording === recording &&
    batch.invMass.every((m, i) => m === params.invMass[i])
  );
}
