/**
 * The sampling worker: runs `sample()` and `summarize()` off the page's thread, posts
 * progress as it goes, and aborts through an AbortSignal when the page says stop.
 */
import { sample, type SampleResult } from '../src/sampler/sample.ts';
import { summarize } from '../src/diagnostics/index.ts';
import type { FromWorker, RunRequest, ToWorker } from './protocol.ts';

/** The part of DedicatedWorkerGlobalScope used here (tsconfig's lib is DOM, not WebWorker). */
interface WorkerScope {
  onmessage: ((ev: MessageEvent<ToWorker>) => void) | null;
  postMessage(message: FromWorker, transfer?: Transferable[]): void;
}
const scope = self as unknown as WorkerScope;

let controller: AbortController | null = null;

/** Every ArrayBuffer behind the result's typed arrays, moved rather than copied. */
function buffersOf(result: SampleResult): Transferable[] {
  const buffers = new Set<ArrayBuffer>();
  // One per parameter (K + 3 of them): loops, not spreads, for any K.
  for (const a of Object.values(result.params)) buffers.add(a.buffer as ArrayBuffer);
  for (const v of Object.values(result.records)) if (ArrayBuffer.isView(v)) buffers.add(v.buffer as ArrayBuffer);
  for (const a of Object.values(result.adaptation)) buffers.add(a.buffer as ArrayBuffer);
  buffers.add(result.numSteps.buffer as ArrayBuffer);
  return Array.from(buffers);
}

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
    });
    const t0 = performance.now();
    const { records } = result;
    const summary = summarize(result.params, result.retainedChains, result.draws, {
      energy: records.energy,
      divergent: records.divergent,
      acceptProb: records.acceptProb,
    });
    const summarySeconds = (performance.now() - t0) / 1000;
    scope.postMessage({ type: 'done', result, summary, summarySeconds }, buffersOf(result));
  } catch (err) {
    const e = err as Error;
    if (controller.signal.aborted) scope.postMessage({ type: 'stopped' });
    else scope.postMessage({ type: 'error', name: e?.name ?? 'Error', message: e?.message ?? String(err) });
  } finally {
    controller = null;
  }
}

scope.onmessage = (ev) => {
  const msg = ev.data;
  if (msg.type === 'stop') controller?.abort();
  else if (msg.type === 'run') void run(msg.request);
};
