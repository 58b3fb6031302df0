/**
 * Messages between the page and the sampling worker (`sampler_worker.ts`). Sampling,
 * diagnostics and the reduction of draws to figures run in the worker, so that the page
 * stays responsive on either backend (the cpu backend computes synchronously between its
 * awaits); WebGPU is available in dedicated workers in Chrome. The worker keeps a finished
 * run's draws for the exports until the page lets it go.
 */
import type { HierData } from '../src/model/data.ts';
import type { ExactPosterior } from '../src/model/posterior.ts';
import type { RunReport } from '../src/sampler/report.ts';
import type { BackendKind, Progress } from '../src/sampler/sample.ts';
import type { Summary } from '../src/diagnostics/index.ts';
import type { CompareRow } from '../src/compare/compare.ts';
import type { RunFigures } from './figures.ts';
import type { Truth } from './data_source.ts';

export interface RunRequest {
  readonly data: HierData;
  /** The true mu, tau (and the family's globals: sigma) behind simulated data. */
  readonly truth?: Truth;
  /** The form's choice (`mixed`), and the sampler's string (`mixed:2,6`). */
  readonly kind: string;
  readonly parameterization: string;
  readonly chains: number;
  readonly warmup: number;
  readonly draws: number;
  readonly seed: number;
  readonly backend: BackendKind;
}

/** What the page shows of a finished run (the draws stay in the worker). */
export interface RunDone {
  readonly report: RunReport;
  readonly summary: Summary;
  /** The exact posterior (quadrature), or null where the likelihood has none (`noExact` says why). */
  readonly exact: ExactPosterior | null;
  readonly noExact?: string;
  readonly figures: RunFigures;
  readonly row: CompareRow;
  readonly paramNames: readonly string[];
  /** Warmup history: step size, trajectory length and divergences per iteration. */
  readonly adaptation: { readonly stepSize: Float64Array; readonly trajectoryLength: Float64Array; readonly divergences: Int32Array };
  /** Draws per chain asked for: more than the report's draws when Stop ended sampling early (the draws so far are kept). */
  readonly requestedDraws: number;
  /** Seconds the worker spent on diagnostics and figures after sampling. */
  readonly summarySeconds: number;
}

/** Current positions of the first chains during sampling, for the live funnels. */
export interface LiveSnapshot {
  readonly iteration: number;
  readonly total: number;
  readonly chains: number;
  /** Chain-major (chain * D + d), in the model's layout (`src/model/layout.ts`; `dataLayout` in figures.ts): the globals, then z_0..z_{K-1}. */
  readonly positions: Float32Array | Float64Array;
}

export type ExportFormat = 'json' | 'csv' | 'nc';

export type ToWorker =
  | { readonly type: 'run'; readonly request: RunRequest }
  | { readonly type: 'stop' }
  | { readonly type: 'export'; readonly format: ExportFormat };

export type FromWorker =
  | { readonly type: 'progress'; readonly progress: Progress }
  | { readonly type: 'snapshot'; readonly snapshot: LiveSnapshot }
  | { readonly type: 'status'; readonly text: string }
  | ({ readonly type: 'done' } & RunDone)
  | { readonly type: 'stopped' }
  | { readonly type: 'error'; readonly name: string; readonly message: string }
  | { readonly type: 'export'; readonly format: ExportFormat; readonly blob: Blob | null; readonly error?: string };
