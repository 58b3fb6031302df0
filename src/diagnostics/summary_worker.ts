/**
 * Worker of `summarizeParallel`: claims parameters from a shared counter and posts each
 * parameter's summary back. Its job comes in `workerData` or, for a worker started ahead
 * (`startSummaryWorkers`), as the first message. Started by parallel.ts; never imported
 * by library code.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { summarizeParam } from './summary.ts';
import type { WorkerInput } from './parallel.ts';

function run(input: WorkerInput): void {
  const counter = new Int32Array(input.counter);
  for (;;) {
    const i = Atomics.add(counter, 0, 1);
    if (i >= input.names.length) break;
    const values = input.float32[i] ? new Float32Array(input.buffers[i]) : new Float64Array(input.buffers[i]);
    const summary = summarizeParam(values, input.chains, input.draws, input.superchains);
    Atomics.add(counter, 1, 1); // parameters done, read by the calling thread for progress
    parentPort!.postMessage({ index: i, summary });
  }
  parentPort!.postMessage({ done: true });
}

const given = workerData as Partial<WorkerInput>;
if (given.counter) run(given as WorkerInput);
else parentPort!.once('message', (input: WorkerInput) => run(input));
