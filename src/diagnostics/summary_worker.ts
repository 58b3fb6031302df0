/**
 * Worker of `summarizeParallel`: claims parameters from a shared counter and posts each
 * parameter's summary back. Started by parallel.ts; never imported by library code.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { summarizeParam } from './summary.ts';
import type { WorkerInput } from './parallel.ts';

const input = workerData as WorkerInput;
const counter = new Int32Array(input.counter);
for (;;) {
  const i = Atomics.add(counter, 0, 1);
  if (i >= input.names.length) break;
  const values = input.float32[i] ? new Float32Array(input.buffers[i]) : new Float64Array(input.buffers[i]);
  const summary = summarizeParam(values, input.chains, input.draws, input.superchains);
  parentPort!.postMessage({ index: i, summary });
}
parentPort!.postMessage({ done: true });
