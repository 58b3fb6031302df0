/** Messages between the page and its SBC worker (`sbc_worker.ts`). */
import type { HierData } from '../src/model/data.ts';
import type { ParamCalibration, ParamSummary } from '../src/sbc/sbc.ts';

export interface SbcRequest {
  /** The design: the page's data (its y is replaced in every simulation). */
  readonly design: HierData;
  readonly params: readonly string[];
  readonly sims: number;
  readonly chains: number;
  readonly warmup: number;
  readonly draws: number;
  readonly seed: number;
  readonly backend: 'webgpu' | 'cpu';
}

export interface SbcDone {
  readonly results: readonly ParamCalibration[];
  readonly summary: readonly ParamSummary[];
  readonly names: readonly string[];
  /** The simultaneous 95% band: bounds on the count of ranks below i, i = 1..rankDraws. */
  readonly band: { readonly lower: readonly number[]; readonly upper: readonly number[] };
  readonly rankDraws: number;
  readonly seconds: number;
  readonly divergentFits: Record<string, number>;
}

export type SbcToWorker = { readonly type: 'sbc'; readonly request: SbcRequest } | { readonly type: 'stop' };
export type SbcFromWorker =
  | { readonly type: 'progress'; readonly done: number; readonly total: number; readonly param: string }
  | ({ readonly type: 'done' } & SbcDone)
  | { readonly type: 'stopped' }
  | { readonly type: 'error'; readonly message: string };
