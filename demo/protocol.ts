/**
 * Messages between the page and the sampling worker (`sampler_worker.ts`). Sampling runs in
 * a worker so that the page stays responsive on either backend (the cpu backend computes
 * synchronously between its awaits); WebGPU is available in dedicated workers in Chrome.
 */
import type { HierData } from '../src/model/data.ts';
import type { BackendKind, Progress, SampleResult } from '../src/sampler/sample.ts';
import type { Summary } from '../src/diagnostics/index.ts';

export interface RunRequest {
  readonly data: HierData;
  readonly parameterization: string;
  readonly chains: number;
  readonly warmup: number;
  readonly draws: number;
  readonly seed: number;
  readonly backend: BackendKind;
}

export type ToWorker = { readonly type: 'run'; readonly request: RunRequest } | { readonly type: 'stop' };

export type FromWorker =
  | { readonly type: 'progress'; readonly progress: Progress }
  | { readonly type: 'done'; readonly result: SampleResult; readonly summary: Summary; readonly summarySeconds: number }
  | { readonly type: 'stopped' }
  | { readonly type: 'error'; readonly name: string; readonly message: string };
