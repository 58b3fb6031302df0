/**
 * One run of a comparison: `sample()` with a command's sampler options, its diagnostics
 * (`reportRun`, on worker threads when the draws are many) and its comparison row. Shared by
 * `funnelweb compare` and `reproduce` (src/cli/compare.ts) and the sweep's data sets
 * (src/sweep/sweep.ts).
 */
import { availableParallelism } from 'node:os';
import { RunError } from '../errors.ts';
import type { HierData } from '../model/data.ts';
import type { Centeredness } from '../model/parameterization.ts';
import type { ExactPosterior } from '../model/posterior.ts';
import type { Gpu } from '../gpu/device.ts';
import type { Summary } from '../diagnostics/summary.ts';
import { PARALLEL_MIN_DRAWS, summarizeParallel } from '../diagnostics/parallel.ts';
import { sample, type BackendKind, type Progress, type SampleOptions, type SampleResult } from '../sampler/sample.ts';
import { reportRun, summaryInputs, type RunReport } from '../sampler/report.ts';
import type { SamplerOptions } from '../cli/options.ts';
import { compareRow, divergenceLogTauMedian, type CompareRow } from './compare.ts';

/** A finished run of one parameterization: its result, report, summary and comparison row. */
export interface CaseRun {
  readonly name: string;
  readonly result: SampleResult;
  readonly report: RunReport;
  readonly summary: Summary;
  readonly row: CompareRow;
}

/** What a caller adds to the sampler options: a device, the backend, progress, the backend notice, a stop. */
export interface CaseHooks {
  readonly gpu?: Gpu;
  readonly backend?: BackendKind;
  readonly onProgress?: (p: Progress) => void;
  readonly onBackend?: SampleOptions['onBackend'];
  readonly signal?: AbortSignal;
}

/**
 * Runs parameterization `c` (named `name`) on `data` and diagnoses it, with its row against
 * `exact`. A run stopped during sampling is no row (its part-run is not ranked): the stop is
 * rethrown; a failed device is a RunError.
 */
export async function runCaseWith(name: string, c: Centeredness | string, data: HierData, exact: ExactPosterior | undefined, opts: SamplerOptions, hooks: CaseHooks = {}): Promise<CaseRun> {
  const result = await sample({
    data,
    parameterization: c,
    priors: opts.priors,
    chains: opts.chains,
    warmup: opts.warmup,
    warmupMax: opts.warmupMax,
    draws: opts.draws,
    ...(opts.targetEss !== undefined && { targetEss: opts.targetEss }),
    seed: opts.seed,
    targetAccept: opts.targetAccept,
    backend: hooks.backend ?? opts.backend,
    adaptMetric: opts.adaptMetric,
    superchains: opts.superchains,
    ...(hooks.gpu && { gpu: hooks.gpu }),
    onProgress: hooks.onProgress,
    onBackend: hooks.onBackend,
    signal: hooks.signal,
  });
  if (result.partial) hooks.signal?.throwIfAborted();
  if (result.fault !== undefined) throw new RunError(`${name}: ${result.fault}`);
  const [params, chains, draws, sopts] = summaryInputs(result);
  // A large job runs on worker threads alone, so that the main thread stays free to answer
  // a signal and to draw the progress line.
  const big = Object.keys(params).length * chains * draws >= PARALLEL_MIN_DRAWS;
  const diagnosed = await summarizeParallel(params, chains, draws, big ? { ...sopts, threads: availableParallelism() + 1, callerWorks: false } : sopts);
  const { report, summary } = reportRun(result, opts.seed, diagnosed);
  const divLogTau = divergenceLogTauMedian(result.records.divergentPositions, result.model.dim, result.model.layout.global('log_tau'));
  return { name, result, report, summary, row: compareRow(name, report, exact, divLogTau) };
}
