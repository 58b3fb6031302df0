/**
 * A GPU device that fails mid-run (`sample()` on WebGPU), each test on a device of its own:
 * - destroyed during sampling: `sample()` resolves partial with `fault` ("the GPU device was
 *   lost during sampling at draw N: destroyed ..."), keeping the draws read back before the
 *   loss, which are the first draws of an uninterrupted run (same seed, bitwise);
 * - destroyed during warmup: `sample()` rejects with a RunError saying so;
 * - an uncaptured validation error during sampling: resolves partial with a fault naming it,
 *   keeping only draws confirmed before the error was seen;
 * - sampling syncs are sized by time: where iterations are slow, reports come more often
 *   than every SAMPLING_SYNC_INTERVAL iterations (and the draws are the same).
 */
import { describe, expect, it } from 'vitest';
import { sample, SAMPLING_SYNC_INTERVAL, type Progress, type SampleOptions } from '../src/sampler/sample.ts';
import { RunError } from '../src/errors.ts';
import { requestGpu, type Gpu } from '../src/gpu/device.ts';
import { seedData, testGpu } from './gpu_helpers.ts';
import { wideData } from './wide_data.ts';

const available = (await testGpu()) !== null;
const weak = seedData('weak');
// 4,096 chains: a record chunk holds 146 draws, so some are read back before draw 400.
const base = { data: weak, chains: 4096, warmup: 50, draws: 1000, seed: 5, backend: 'webgpu' } satisfies SampleOptions;

/** Runs `sample` on a device of its own, calling `at` with it at each progress report. */
async function withOwnDevice(opts: SampleOptions, at: (p: Progress, g: Gpu) => void) {
  const g = await requestGpu();
  try {
    return await sample({ ...opts, gpu: g, onProgress: (p) => at(p, g) });
  } finally {
    g.device.destroy();
  }
}

function bytes(a: ArrayBufferView): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

describe.skipIf(!available)('a GPU device that fails mid-run', () => {
  it('lost during sampling: resolves partial with the fault and the draws read back before it, equal to an uninterrupted run\'s first draws', async () => {
    let lostAt = 0;
    const r = await withOwnDevice(base, (p, g) => {
      if (lostAt === 0 && p.phase === 'sampling' && p.iteration >= 400) {
        lostAt = p.iteration;
        g.device.destroy();
      }
    });
    expect(r.partial).toBe(true);
    expect(r.fault).toMatch(/^the GPU device was lost during sampling at draw \d+: destroyed/);
    expect(Number(/at draw (\d+)/.exec(r.fault!)![1])).toBeGreaterThanOrEqual(lostAt);
    expect(r.draws).toBeGreaterThan(0);
    expect(r.draws).toBeLessThan(1000);
    expect(r.requestedDraws).toBe(1000);
    expect(r.numSteps.length).toBe(r.draws);
    const n = r.draws;
    const full = await withOwnDevice(base, () => {});
    expect(full.fault).toBeUndefined();
    expect(full.partial).toBe(false);
    for (const name of ['mu', 'tau']) {
      const a = r.params[name];
      expect(a.length).toBe(r.retainedChains * n);
      for (const c of [0, 1, r.retainedChains - 1]) {
        expect(bytes(a.subarray(c * n, (c + 1) * n)).equals(bytes(full.params[name].subarray(c * 1000, c * 1000 + n))), `${name} chain ${c}`).toBe(true);
      }
    }
  });

  it('lost during warmup: rejects with a RunError saying so', async () => {
    let lost = false;
    const run = withOwnDevice({ ...base, chains: 256, warmup: 300, draws: 100 }, (p, g) => {
      if (!lost && p.phase === 'warmup' && p.iteration >= 5) {
        lost = true;
        g.device.destroy();
      }
    });
    await expect(run).rejects.toBeInstanceOf(RunError);
    await expect(run).rejects.toThrow(/^the GPU device was lost during warmup at iteration \d+: destroyed/);
  });

  it('an uncaptured validation error during sampling: partial, with the error named, only draws confirmed before it', async () => {
    let madeAt = 0;
    const r = await withOwnDevice(base, (p, g) => {
      if (madeAt === 0 && p.phase === 'sampling' && p.iteration >= 300) {
        madeAt = p.iteration;
        // MAP_READ with STORAGE is invalid: an error no scope catches.
        g.device.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.STORAGE });
      }
    });
    expect(r.partial).toBe(true);
    expect(r.fault).toMatch(/^the GPU device reported an error during sampling at draw \d+: GPUValidationError: /);
    expect(r.fault).not.toContain('\n');
    expect(r.draws).toBeGreaterThan(0);
    expect(r.draws).toBeLessThanOrEqual(Number(/at draw (\d+)/.exec(r.fault!)![1]));
  });
});

describe.skipIf(!available)('sampling syncs sized by time', () => {
  it('slow iterations (K = 2,000, 128 chains): reports every few iterations, not every 32', async () => {
    const gpu = (await testGpu())!;
    const reports: { iteration: number; t: number }[] = [];
    const opts = { data: wideData(2000), chains: 128, warmup: 4, draws: 24, seed: 3, backend: 'webgpu', gpu } satisfies SampleOptions;
    const r = await sample({ ...opts, onProgress: (p) => p.phase === 'sampling' && reports.push({ iteration: p.iteration, t: performance.now() }) });
    expect(r.draws).toBe(24);
    const gaps = reports.map((x, i) => x.iteration - (i ? reports[i - 1].iteration : 0));
    // Each iteration takes well over 1/32 s here: the interval shrinks from 32.
    expect(Math.min(...gaps.slice(0, -1))).toBeLessThan(SAMPLING_SYNC_INTERVAL);
    expect(reports.length).toBeGreaterThanOrEqual(3);
  });
});
