/**
 * The page's handle on a sampling run: one worker per run, a promise of its outcome,
 * `stop()` (aborts the run through the worker's AbortSignal), `exportAs()` (the worker
 * writes the file from the draws it kept) and `dispose()` (ends the worker and frees them).
 */
import type { Progress } from '../src/sampler/sample.ts';
import type { ExportFormat, FromWorker, LiveSnapshot, RunDone, RunRequest, ToWorker } from './protocol.ts';

export type RunOutcome =
  | ({ readonly kind: 'done' } & RunDone)
  | { readonly kind: 'stopped' }
  | { readonly kind: 'error'; readonly name: string; readonly message: string };

export interface Run {
  readonly request: RunRequest;
  readonly outcome: Promise<RunOutcome>;
  stop(): void;
  exportAs(format: ExportFormat): Promise<Blob>;
  dispose(): void;
}

export function startRun(request: RunRequest, onProgress: (p: Progress) => void, onSnapshot?: (s: LiveSnapshot) => void, onStatus?: (text: string) => void): Run {
  const worker = new Worker(new URL('./sampler_worker.ts', import.meta.url), { type: 'module', name: 'funnelweb-sampler' });
  const post = (msg: ToWorker) => worker.postMessage(msg);
  const exports: ((msg: Extract<FromWorker, { type: 'export' }>) => void)[] = [];
  let settled = false;
  const outcome = new Promise<RunOutcome>((resolve) => {
    const finish = (o: RunOutcome) => {
      settled = true;
      if (o.kind !== 'done') worker.terminate();
      resolve(o);
    };
    worker.onmessage = (ev: MessageEvent<FromWorker>) => {
      const msg = ev.data;
      if (msg.type === 'progress') onProgress(msg.progress);
      else if (msg.type === 'snapshot') onSnapshot?.(msg.snapshot);
      else if (msg.type === 'status') onStatus?.(msg.text);
      else if (msg.type === 'done') {
        const { type: _t, ...rest } = msg;
        finish({ kind: 'done', ...rest });
      } else if (msg.type === 'stopped') finish({ kind: 'stopped' });
      else if (msg.type === 'error') finish({ kind: 'error', name: msg.name, message: msg.message });
      else exports.shift()?.(msg);
    };
    worker.onerror = (ev) => {
      if (!settled) finish({ kind: 'error', name: 'WorkerError', message: ev.message || 'the sampling worker failed' });
    };
  });
  post({ type: 'run', request });
  return {
    request,
    outcome,
    stop: () => post({ type: 'stop' }),
    exportAs: (format) =>
      new Promise<Blob>((resolve, reject) => {
        exports.push((msg) => (msg.blob ? resolve(msg.blob) : reject(new Error(msg.error ?? 'export failed'))));
        post({ type: 'export', format });
      }),
    dispose: () => worker.terminate(),
  };
}
