/**
 * The sampling worker: runs `sample()`, the diagnostics (`summarize`, `reportRun`), the
 * exact posterior and the reduction of the draws to figures off the page's thread; posts
 * progress as it goes; aborts through an AbortSignal when the page says stop; and keeps the
 * finished run to write its exports (summary JSON, draws CSV, InferenceData) on request.
 */
import { summarize, type Summary } from '../src/diagnostics/index.ts';
import { drawsCsvChunks } from '../src/io/draws_csv_write.ts';
import { exactPosterior, type ExactPosterior } from '../src/model/posterior.ts';
import { reportRun } from '../src/sampler/report.ts';
import { sample, SAMPLING_SYNC_INTERVAL, type SampleResult } from '../src/sampler/sample.ts';
import { figureBuffers, MAX_FUNNEL_POINTS, runFigures } from './figures.ts';
import { compareRow, divergenceLogTauMedian } from '../src/compare/compare.ts';
import { toInferenceData } from '../src/io/inference_data.ts';
import { toNetcdf } from '../src/io/netcdf.ts';
import type { ExportFormat, FromWorker, RunRequest, ToWorker } from './protocol.ts';

/** The part of DedicatedWorkerGlobalScope used here (tsconfig's lib is DOM, not WebWorker). */
interface WorkerScope {
  onmessage: ((ev: MessageEvent<ToWorker>) => void) | null;
  postMessage(message: FromWorker, transfer?: Transferable[]): void;
}
const scope = self as unknown as WorkerScope;

let controller: AbortController | null = null;

/**
 * Chains in each live snapshot: enough that the snapshots of a run (one per
 * SAMPLING_SYNC_INTERVAL iterations) fill a funnel panel with about MAX_FUNNEL_POINTS
 * draws, at least 8.
 */
function liveChains(request: RunRequest): number {
  const snapshots = Math.max(1, Math.ceil(request.draws / SAMPLING_SYNC_INTERVAL));
  return Math.min(request.chains, Math.max(8, Math.ceil(MAX_FUNNEL_POINTS / snapshots)));
}
/** The exact posterior of the request's data, or why there is none (RangeError: a likelihood without one). */
function exactOf(request: RunRequest, priors: Parameters<typeof exactPosterior>[1]): { exact: ExactPosterior | null; noExact?: string } {
  try {
    return { exact: exactPosterior(request.data, priors) };
  } catch (err) {
    if (err instanceof RangeError) return { exact: null, noExact: err.message };
    throw err;
  }
}

/** The finished run, for exports. */
let finished: { request: RunRequest; result: SampleResult; summary: Summary; reportJson: string } | null = null;

async function run(request: RunRequest): Promise<void> {
  controller = new AbortController();
  try {
    const result = await sample({
      data: request.data,
      parameterization: request.parameterization,
      chains: request.chains,
      warmup: request.warmup,
      draws: request.draws,
      seed: request.seed,
      backend: request.backend,
      signal: controller.signal,
      onProgress: (progress) => scope.postMessage({ type: 'progress', progress }),
      snapshotChains: liveChains(request),
      onSnapshot: ({ iteration, chains, positions }) =>
        scope.postMessage({ type: 'snapshot', snapshot: { iteration, total: request.draws, chains, positions } }, [positions.buffer as ArrayBuffer]),
    });
    const t0 = performance.now();
    const { records } = result;
    const what = result.partial ? `stopped after ${result.draws} of ${result.requestedDraws} draws` : `sampled ${result.chains} chains × ${result.draws} draws`;
    scope.postMessage({ type: 'status', text: `${what} in ${result.timing.total_s.toFixed(1)} s; diagnostics and figures of ${result.retainedChains} chains…` });
    const summary = summarize(result.params, result.retainedChains, result.draws, {
      energy: records.energy,
      divergent: records.divergent,
      acceptProb: records.acceptProb,
    });
    const { report } = reportRun(result, request.seed, summary);
    const { exact, noExact } = exactOf(request, result.model.priors);
    const figures = runFigures(result, summary, exact, request.data, request.seed, request.truth);
    const row = compareRow(request.parameterization, report, exact ?? undefined, divergenceLogTauMedian(records.divergentPositions, result.model.dim, result.model.layout.global('log_tau')));
    const h = result.adaptation;
    const adaptation = { stepSize: h.stepSize.slice(), trajectoryLength: h.trajectoryLength.slice(), divergences: h.divergences.slice() };
    const summarySeconds = (performance.now() - t0) / 1000;
    finished = { request, result, summary, reportJson: JSON.stringify(report, null, 2) + '\n' };
    scope.postMessage(
      { type: 'done', report, summary, exact, ...(noExact !== undefined && { noExact }), figures, row, paramNames: result.paramNames, adaptation, requestedDraws: result.requestedDraws, summarySeconds },
      [...figureBuffers(figures), adaptation.stepSize.buffer, adaptation.trajectoryLength.buffer, adaptation.divergences.buffer],
    );
  } catch (err) {
    const e = err as Error;
    if (controller.signal.aborted) scope.postMessage({ type: 'stopped' });
    else scope.postMessage({ type: 'error', name: e?.name ?? 'Error', message: e?.message ?? String(err) });
  } finally {
    controller = null;
  }
}

async function exportRun(format: ExportFormat): Promise<void> {
  try {
    if (!finished) throw new Error('no finished run to export');
    let blob: Blob;
    if (format === 'json') blob = new Blob([finished.reportJson], { type: 'application/json' });
    else if (format === 'csv') blob = new Blob([...drawsCsvChunks(finished.result)], { type: 'text/csv' });
    else {
      const bytes = await toNetcdf(toInferenceData(finished.result, finished.request.data, { seed: finished.request.seed }));
      blob = new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/x-netcdf' });
    }
    scope.postMessage({ type: 'export', format, blob });
  } catch (err) {
    scope.postMessage({ type: 'export', format, blob: null, error: (err as Error).message });
  }
}

scope.onmessage = (ev) => {
  const msg = ev.data;
  if (msg.type === 'stop') controller?.abort();
  else if (msg.type === 'run') void run(msg.request);
  else if (msg.type === 'export') void exportRun(msg.format);
};
