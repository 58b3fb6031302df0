/**
 * `summarize` on two or more threads (Node only: worker_threads). Parameters are claimed
 * one at a time from a shared atomic counter by the calling thread and by the workers,
 * so a worker that is slow to start (or fails to) only leaves more work to the caller;
 * every result is identical to `summarize`'s. Draws are shared with the workers through
 * SharedArrayBuffers (copied once unless they already live in one).
 *
 * Import this module only from Node code (the CLI, the sampler driver, benchmarks);
 * `index.ts` does not re-export it, so browser bundles never see `node:worker_threads`.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { workerLaunch } from '../worker_launch.ts';
import type { Superchains } from './nested_rhat.ts';
import {
  type ParamSummary,
  type SummarizeOptions,
  type Summary,
  assembleSummary,
  summarize,
  summarizeParam,
} from './summary.ts';
import { type DrawsArray, checkShape } from './validate.ts';

/** A job for a worker: in `workerData`, or posted to a worker started ahead (`startSummaryWorkers`). */
export interface WorkerInput {
  readonly counter: SharedArrayBuffer;
  readonly names: string[];
  readonly buffers: SharedArrayBuffer[];
  readonly float32: boolean[];
  readonly chains: number;
  readonly draws: number;
  readonly superchains?: Superchains;
}

function shared(values: DrawsArray): SharedArrayBuffer {
  if (values.buffer instanceof SharedArrayBuffer && values.byteOffset === 0 && values.byteLength === values.buffer.byteLength) {
    return values.buffer;
  }
  const sab = new SharedArrayBuffer(values.byteLength);
  (values instanceof Float32Array ? new Float32Array(sab) : new Float64Array(sab)).set(values);
  return sab;
}

/**
 * Worker threads started ahead of the draws (e.g. while the sampler runs), so that their
 * start (loading the diagnostics' modules, up to a second under tsx) is off the path
 * between the last draw and the summary. Pass to `summarizeParallel` as `opts.workers`,
 * which uses them once; `close()` ends them unused. Idle, they do not keep Node alive.
 */
export interface SummaryWorkers {
  readonly size: number;
  /** Takes the workers for one job (at most once; later calls get none). */
  take(): Worker[];
  close(): void;
}

/**
 * Starts `threads - 1` summary workers (default: available cores - 1) waiting for a job;
 * null where workers cannot start (the TypeScript sources without tsx) or one thread is all.
 */
export function startSummaryWorkers(threads = availableParallelism()): SummaryWorkers | null {
  const launch = workerLaunch(import.meta.url, 'summary_worker');
  if (launch === null || threads <= 1) return null;
  let workers: Worker[] = [];
  const exited = new Set<Worker>();
  for (let w = 1; w < threads; w++) {
    const worker = new Worker(launch.script, { eval: launch.eval, workerData: launch.data });
    worker.on('error', () => {}); // a worker that failed to start is skipped (its exit is noted)
    worker.once('exit', () => exited.add(worker));
    worker.unref();
    workers.push(worker);
  }
  return {
    size: workers.length,
    take() {
      const taken = workers.filter((w) => !exited.has(w));
      workers = [];
      return taken;
    },
    close() {
      for (const w of workers) void w.terminate();
      workers = [];
    },
  };
}

/** How the last `summarizeParallel` call shared its work (for tests and benchmarks). */
export const lastParallelStats = { threads: 1, paramsByWorkers: 0, workerFailures: [] as string[] };

/** Below this many draws in all, starting a worker (about a second) costs more than it saves. */
export const PARALLEL_MIN_DRAWS = 4_000_000;

export interface ParallelOptions extends SummarizeOptions {
  /** Threads in all, the caller's included (default: available cores, at most the parameter count). */
  threads?: number;
  /** Whether the calling thread summarises parameters too (default true; false leaves all to workers). */
  callerWorks?: boolean;
  /**
   * Workers started ahead (`startSummaryWorkers`): used instead of new ones (and ended
   * after the job, or at once when the job is too small for them).
   */
  workers?: SummaryWorkers | null;
}

/**
 * `summarize(params, chains, draws, opts)` with the per-parameter work spread over
 * `threads` threads. Falls back to the calling thread alone for one parameter, one
 * thread, or when workers cannot start.
 */
export async function summarizeParallel(
  params: Record<string, DrawsArray>,
  chains: number,
  draws: number,
  opts: ParallelOptions = {},
): Promise<Summary> {
  const names = Object.keys(params);
  const ready = opts.workers?.take() ?? [];
  const threads = Math.min(opts.threads ?? (ready.length > 0 ? ready.length + 1 : availableParallelism()), names.length);
  const launch = workerLaunch(import.meta.url, 'summary_worker');
  lastParallelStats.threads = 1;
  lastParallelStats.paramsByWorkers = 0;
  lastParallelStats.workerFailures = [];
  // Small jobs stay on the calling thread unless a thread count was asked for.
  const small = opts.threads === undefined && names.length * chains * draws < PARALLEL_MIN_DRAWS;
  if (threads <= 1 || launch === null || small) {
    for (const w of ready) void w.terminate();
    return summarize(params, chains, draws, opts);
  }
  // Workers started ahead beyond the threads wanted are not needed.
  for (const w of ready.splice(threads - 1)) void w.terminate();
  lastParallelStats.threads = threads;
  for (const name of names) checkShape(params[name], chains, draws);

  // [parameters claimed, parameters done]
  const counter = new SharedArrayBuffer(8);
  const claims = new Int32Array(counter);
  const input: WorkerInput = {
    counter,
    names,
    buffers: names.map((n) => shared(params[n])),
    float32: names.map((n) => params[n] instanceof Float32Array),
    chains,
    draws,
    superchains: opts.superchains,
  };
  const results: (ParamSummary | undefined)[] = names.map(() => undefined);
  const workers: Promise<void>[] = [];
  const stops: (() => void)[] = [];
  for (let w = 1; w < threads; w++) {
    workers.push(
      new Promise<void>((resolve) => {
        const started = ready[w - 1];
        const worker = started ?? new Worker(launch.script, { eval: launch.eval, workerData: { ...input, ...launch.data } });
        if (started) {
          started.ref();
          started.postMessage(input);
        }
        const finish = () => {
          resolve();
          void worker.terminate();
        };
        stops.push(finish);
        worker.on('message', (m: { index?: number; summary?: ParamSummary; done?: boolean; failed?: string }) => {
          if (m.index !== undefined && m.summary) {
            results[m.index] = m.summary;
            lastParallelStats.paramsByWorkers++;
            opts.onProgress?.(Atomics.load(claims, 1), names.length);
          }
          if (m.failed) lastParallelStats.workerFailures.push(m.failed);
          if (m.done || m.failed) finish();
        });
        worker.on('error', (err) => {
          lastParallelStats.workerFailures.push(String(err));
          finish();
        });
        worker.on('exit', finish);
      }),
    );
  }
  // The calling thread claims parameters too (synchronously, while the workers run).
  while (opts.callerWorks !== false) {
    const i = Atomics.add(claims, 0, 1);
    if (i >= names.length) break;
    results[i] = summarizeParam(params[names[i]], chains, draws, opts.superchains);
    opts.onProgress?.(Atomics.add(claims, 1, 1) + 1, names.length);
  }
  // Everything claimed and done here already (the workers were still starting)? Stop them.
  if (!results.includes(undefined)) for (const stop of stops) stop();
  await Promise.all(workers);
  // A parameter claimed by a worker that died is done here.
  for (let i = 0; i < names.length; i++) {
    results[i] ??= summarizeParam(params[names[i]], chains, draws, opts.superchains);
  }
  opts.onProgress?.(names.length, names.length);
  const perParam: Record<string, ParamSummary> = {};
  names.forEach((n, i) => (perParam[n] = results[i]!));
  return assembleSummary(perParam, chains, draws, opts);
}
