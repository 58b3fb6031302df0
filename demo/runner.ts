/**
 * The page's handle on a sampling run: one worker per run, a promise of its outcome,
 * and `stop()`, which aborts the run through the worker's AbortSignal.
 */
import type { Progress, SampleResult } from '../src/sampler/sample.ts';
import type { Summary } from '../src/diagnostics/index.ts';
import type { FromWorker, RunRequest, ToWorker } from './protocol.ts';

export type RunOutcome =
  | { readonly kind: 'done'; readonly result: SampleResult; readonly summary: Summary; readonly summarySeconds: number }
  | { readonly kind: 'stopped' }
  | { readonly kind: 'error'; readonly name: string; readonly message: string };

export interface Run {
  readonly outcome: Promise<RunOutcome>;
  stop(): void;
}

export function startRun(request: RunRequest, onProgress: (p: Progress) => void): Run {
  const worker = new Worker(new URL('./sampler_worker.ts', import.meta.url), { type: 'module', name: 'funnelweb-sampler' });
  const post = (msg: ToWorker) => worker.postMessage(msg);
  const outcome = new Promise<RunOutcome>((resolve) => {
    const finish = (o: RunOutcome) => {
      worker.terminate();
      resolve(o);
    };
    worker.onmessage = (ev: MessageEvent<FromWorker>) => {
      const msg = ev.data;
      if (msg.type === 'progress') onProgress(msg.progress);
      else if (msg.type === 'done') finish({ kind: 'done', result: msg.result, summary: msg.summary, summarySeconds: msg.summarySeconds });
      else if (msg.type === 'stopped') finish({ kind: 'stopped' });
      else finish({ kind: 'error', name: msg.name, message: msg.message });
    };
    worker.onerror = (ev) => finish({ kind: 'error', name: 'WorkerError', message: ev.message || 'the sampling worker failed to start' });
  });
  post({ type: 'run', request });
  return { outcome, stop: () => post({ type: 'stop' }) };
}
