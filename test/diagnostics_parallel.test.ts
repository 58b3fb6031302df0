/** summarizeParallel: same numbers as summarize, with a worker thread taking part. */
import { describe, expect, it } from 'vitest';
import { summarize } from '../src/diagnostics/index.ts';
import { lastParallelStats, startSummaryWorkers, summarizeParallel } from '../src/diagnostics/parallel.ts';

function ar1(chains: number, draws: number, rho: number, seed: number): Float32Array {
  let s = seed;
  const u = () => {
    s = (s * 16807) % 2147483647;
    return s / 2147483647;
  };
  const out = new Float32Array(chains * draws);
  for (let c = 0; c < chains; c++) {
    let x = 0;
    for (let d = 0; d < draws; d++) {
      x = rho * x + Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
      out[c * draws + d] = x;
    }
  }
  return out;
}

describe('summarizeParallel', () => {
  it('equals summarize and shares the work with a worker', async () => {
    const chains = 256;
    const draws = 200;
    const params: Record<string, Float32Array | Float64Array> = {};
    for (let k = 0; k < 12; k++) params[`p${k}`] = ar1(chains, draws, 0.3 + 0.05 * k, 11 + k);
    params.p64 = Float64Array.from(params.p0);
    const energy = ar1(chains, draws, 0.2, 99);
    const b = summarize(params, chains, draws, { superchains: 16, energy });
    const progress: [number, number][] = [];
    const a = await summarizeParallel(params, chains, draws, { threads: 2, superchains: 16, energy, onProgress: (d, t) => progress.push([d, t]) });
    expect(lastParallelStats.workerFailures).toEqual([]);
    // Progress counts the parameters done by either thread, never backwards, to all 13.
    expect(progress.at(-1)).toEqual([13, 13]);
    for (let i = 1; i < progress.length; i++) expect(progress[i][0]).toBeGreaterThanOrEqual(progress[i - 1][0]);
    expect(progress.length).toBe(14 - lastParallelStats.paramsByWorkers);
    expect(lastParallelStats.threads).toBe(2);
    expect(a).toEqual(b);
    // with the caller idle, the worker does everything
    const c = await summarizeParallel(params, chains, draws, { threads: 2, superchains: 16, energy, callerWorks: false });
    expect(lastParallelStats.workerFailures).toEqual([]);
    expect(lastParallelStats.paramsByWorkers).toBe(13);
    expect(c).toEqual(b);
  });

  it('runs on the calling thread alone for one thread or one parameter', async () => {
    const x = ar1(8, 50, 0.5, 3);
    const a = await summarizeParallel({ x }, 8, 50, { threads: 4 });
    expect(lastParallelStats.threads).toBe(1);
    expect(a).toEqual(summarize({ x }, 8, 50));
  });
});

describe('summary workers started ahead', () => {
  it('do the same job as fresh workers, once; close() ends unused ones', async () => {
    const chains = 128;
    const draws = 100;
    const params: Record<string, Float32Array> = {};
    for (let k = 0; k < 6; k++) params[`p${k}`] = ar1(chains, draws, 0.2 + 0.1 * k, 31 + k);
    const b = summarize(params, chains, draws);
    const workers = startSummaryWorkers(2);
    expect(workers?.size).toBe(1);
    // Let the worker load its code first, as it does while the sampler runs.
    await new Promise((r) => setTimeout(r, 500));
    const a = await summarizeParallel(params, chains, draws, { workers, threads: 2, callerWorks: false });
    expect(lastParallelStats.workerFailures).toEqual([]);
    expect(lastParallelStats.threads).toBe(2);
    expect(lastParallelStats.paramsByWorkers).toBe(6);
    expect(a).toEqual(b);
    // Used once: a second job gets no worker from it, and fresh ones are started instead.
    expect(workers!.take()).toEqual([]);
    const unused = startSummaryWorkers(2)!;
    unused.close();
    expect(unused.take()).toEqual([]);
  });
});
