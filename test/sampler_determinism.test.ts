/**
 * Reproducibility and run control of `sample()`:
 * - same seed twice ⇒ identical draws (bitwise) and identical summary numbers, on each backend;
 * - a different seed ⇒ different draws;
 * - the float64 CPU and the float32 WebGPU backends agree statistically;
 * - an AbortSignal stops a run in either phase: in warmup it rejects with the abort reason;
 *   in sampling it resolves with the draws completed so far, marked partial, equal to the
 *   first draws of an uninterrupted run; either way nothing is left behind (no GPU errors;
 *   the next run on the same device is unaffected); an abort from a timer (not from
 *   onProgress) reaches a CPU run too;
 * - onProgress reports increasing iterations for warmup, then sampling;
 * - superchains: chains of one superchain share their initial point, and the summary gets
 *   nested R-hat.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { sample, type Progress, type SampleOptions, type SampleResult } from '../src/sampler/sample.ts';
import { reportRun } from '../src/sampler/report.ts';
import { constrainDraws } from '../src/sampler/constrain.ts';
import { initialPositions, keyFromSeed } from '../src/sampler/rng.ts';
import { InputError } from '../src/errors.ts';
import { seedData, testGpu } from './gpu_helpers.ts';

const gpu = await testGpu();
afterAll(() => gpu?.device.destroy());

const weak = seedData('weak');
const base = { data: weak, parameterization: 'noncentered', chains: 128, warmup: 100, draws: 100, seed: 11 } satisfies SampleOptions;

function bytes(a: ArrayBufferView): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

/** Every draw array and record of two runs is bitwise identical. */
function expectSameDraws(a: SampleResult, b: SampleResult): void {
  expect(a.paramNames).toEqual(b.paramNames);
  for (const n of a.paramNames) expect(bytes(a.params[n]).equals(bytes(b.params[n])), `draws of ${n}`).toBe(true);
  for (const k of ['positions', 'logDensity', 'energy', 'acceptProb', 'divergent'] as const) {
    expect(bytes(a.records[k]).equals(bytes(b.records[k])), `records.${k}`).toBe(true);
  }
  expect(a.stepSize).toBe(b.stepSize);
  expect(a.trajectoryLength).toBe(b.trajectoryLength);
  expect(Array.from(a.numSteps)).toEqual(Array.from(b.numSteps));
  expect(a.totals).toEqual(b.totals);
}

function expectDifferentDraws(a: SampleResult, b: SampleResult): void {
  for (const n of a.paramNames) expect(bytes(a.params[n]).equals(bytes(b.params[n])), `draws of ${n}`).toBe(false);
}

/** Everything in the report but the wall-clock timing. */
function numbers(r: SampleResult) {
  const { report, summary } = reportRun(r, base.seed);
  return { params: report.params, sampler: report.sampler, warnings: report.warnings, ebfmi: summary.ebfmi };
}

describe.skipIf(!gpu)('webgpu backend: determinism', () => {
  it('same seed twice gives bitwise identical draws and identical summary numbers; another seed differs', async () => {
    const opts = { ...base, backend: 'webgpu', gpu: gpu! } satisfies SampleOptions;
    const a = await sample(opts);
    const b = await sample(opts);
    expect(a.backend.name).toBe('webgpu');
    expectSameDraws(a, b);
    expect(numbers(a)).toEqual(numbers(b));
    const c = await sample({ ...opts, seed: 12 });
    expectDifferentDraws(a, c);
    expect(numbers(c).params).not.toEqual(numbers(a).params);
  });
});

describe('cpu backend: determinism', () => {
  it('same seed twice gives bitwise identical draws and identical summary numbers; another seed differs', async () => {
    const opts = { ...base, backend: 'cpu' } satisfies SampleOptions;
    const a = await sample(opts);
    const b = await sample(opts);
    expect(a.backend.name).toBe('cpu');
    expectSameDraws(a, b);
    expect(numbers(a)).toEqual(numbers(b));
    const c = await sample({ ...opts, seed: 12 });
    expectDifferentDraws(a, c);
  });
});

describe.skipIf(!gpu)('cpu and webgpu backends agree statistically', () => {
  it('weak × noncentered, 256 chains each: means within 4 combined MCSE, sds within 5%', async () => {
    const opts = { data: weak, parameterization: 'noncentered', chains: 256, warmup: 300, draws: 300, seed: 5 } satisfies SampleOptions;
    const c = reportRun(await sample({ ...opts, backend: 'cpu' }), 5).report;
    const g = reportRun(await sample({ ...opts, backend: 'webgpu', gpu: gpu! }), 5).report;
    const lines: string[] = [];
    for (const n of Object.keys(c.params)) {
      const a = c.params[n];
      const b = g.params[n];
      const z = Math.abs(a.mean - b.mean) / Math.hypot(a.mcse_mean, b.mcse_mean);
      const sdRel = Math.abs(a.sd / b.sd - 1);
      lines.push(`${n}: cpu ${a.mean.toFixed(3)}±${a.mcse_mean.toFixed(3)} sd ${a.sd.toFixed(3)} | webgpu ${b.mean.toFixed(3)}±${b.mcse_mean.toFixed(3)} sd ${b.sd.toFixed(3)} | z ${z.toFixed(2)}`);
      expect(z, `${n}: means ${a.mean} vs ${b.mean}`).toBeLessThanOrEqual(4);
      expect(sdRel, `${n}: sds ${a.sd} vs ${b.sd}`).toBeLessThanOrEqual(0.05);
    }
    console.log(
      `cpu vs webgpu (weak × noncentered): step ${c.sampler.step_size.toPrecision(3)} vs ${g.sampler.step_size.toPrecision(3)}, ` +
        `divergences ${c.sampler.divergences} vs ${g.sampler.divergences}\n  ${lines.join('\n  ')}`,
    );
    expect(c.sampler.divergences).toBe(0);
    expect(g.sampler.divergences).toBe(0);
    // The adapted step sizes agree too (same adaptation, float32 vs float64 arithmetic).
    expect(Math.abs(Math.log(c.sampler.step_size / g.sampler.step_size))).toBeLessThan(Math.log(1.25));
  });
});

/** Runs `sample` with a signal aborted at the given progress point; returns the result or the rejection. */
async function abortAt(
  opts: SampleOptions,
  when: (p: Progress) => boolean,
): Promise<{ result?: SampleResult; error: unknown; progress: Progress[] }> {
  const controller = new AbortController();
  const progress: Progress[] = [];
  let error: unknown;
  let result: SampleResult | undefined;
  try {
    result = await sample({
      ...opts,
      signal: controller.signal,
      onProgress: (p) => {
        progress.push(p);
        if (when(p)) controller.abort();
      },
    });
  } catch (err) {
    error = err;
  }
  return { result, error, progress };
}

/** `part` holds the first part.draws draws of every chain of `full` (an uninterrupted run). */
function expectPrefixOf(part: SampleResult, full: SampleResult): void {
  const n = part.draws;
  const N = full.draws;
  expect(part.retainedChains).toBe(full.retainedChains);
  const R = part.retainedChains;
  const prefix = <T extends Float32Array | Float64Array | Uint8Array>(a: T, width: number): T => {
    const out = new (a.constructor as { new (len: number): T })(R * n * width);
    for (let c = 0; c < R; c++) out.set(a.subarray(c * N * width, (c * N + n) * width), c * n * width);
    return out;
  };
  for (const name of part.paramNames) {
    expect(part.params[name].length).toBe(R * n);
    expect(bytes(part.params[name]).equals(bytes(prefix(full.params[name], 1))), `draws of ${name}`).toBe(true);
  }
  expect(bytes(part.records.positions).equals(bytes(prefix(full.records.positions, full.model.dim))), 'positions').toBe(true);
  for (const k of ['logDensity', 'energy', 'acceptProb', 'divergent'] as const) {
    expect(bytes(part.records[k]).equals(bytes(prefix(full.records[k], 1))), `records.${k}`).toBe(true);
  }
  expect(Array.from(part.numSteps)).toEqual(Array.from(full.numSteps.subarray(0, n)));
}

function expectAbortError(error: unknown): void {
  expect(error, 'the run should reject').toBeDefined();
  expect((error as Error).name).toBe('AbortError');
}

/** onProgress: warmup 1..W one by one, then sampling in increasing steps up to the draws. */
function expectProgress(progress: Progress[], warmup: number, draws: number): void {
  const w = progress.filter((p) => p.phase === 'warmup');
  const s = progress.filter((p) => p.phase === 'sampling');
  expect(progress.slice(0, w.length).every((p) => p.phase === 'warmup')).toBe(true);
  expect(w.map((p) => p.iteration)).toEqual(Array.from({ length: warmup }, (_, i) => i + 1));
  expect(w.every((p) => p.total === warmup)).toBe(true);
  expect(s.length).toBeGreaterThan(1);
  for (let i = 1; i < s.length; i++) expect(s[i].iteration).toBeGreaterThan(s[i - 1].iteration);
  expect(s[s.length - 1].iteration).toBe(draws);
  expect(s.every((p) => p.total === draws && p.stepSize > 0 && p.numSteps >= 1)).toBe(true);
  for (let i = 1; i < progress.length; i++) expect(progress[i].elapsedSeconds).toBeGreaterThanOrEqual(progress[i - 1].elapsedSeconds);
}

for (const backend of ['cpu', 'webgpu'] as const) {
  describe.skipIf(backend === 'webgpu' && !gpu)(`${backend} backend: run control`, () => {
    // Syncs every SAMPLING_SYNC_INTERVAL iterations, whatever the machine's load: the reports fall at 32, 64, 96, 100.
    const opts = { ...base, backend, syncSeconds: Infinity, ...(backend === 'webgpu' ? { gpu: gpu! } : {}) } satisfies SampleOptions;

    it('onProgress reports increasing iterations for warmup, then sampling', async () => {
      const progress: Progress[] = [];
      await sample({ ...opts, onProgress: (p) => progress.push({ ...p }) });
      expectProgress(progress, opts.warmup, opts.draws);
    });

    it("each sampling report's divergences are those of the draws up to its iteration", async () => {
      // weak x centered diverges often; each report is read one interval late, yet counts
      // only the draws up to the iteration it names.
      const progress: Progress[] = [];
      const r = await sample({ ...opts, parameterization: 'centered', onProgress: (p) => p.phase === 'sampling' && progress.push({ ...p }) });
      expect(r.retainedChains).toBe(r.chains);
      const div = r.records.divergent;
      expect(progress.map((p) => p.iteration)).toEqual([32, 64, 96, 100]);
      expect(progress.at(-1)!.divergences).toBeGreaterThan(0);
      for (const p of progress) {
        let n = 0;
        for (let c = 0; c < r.chains; c++) for (let t = 0; t < p.iteration; t++) n += div[c * r.draws + t];
        expect(p.divergences, `iteration ${p.iteration}`).toBe(n);
      }
    });

    it('aborting mid-warmup rejects with an AbortError; mid-sampling keeps the draws so far, marked partial', async () => {
      const reference = await sample(opts);
      expect(reference.partial).toBe(false);
      expect(reference.requestedDraws).toBe(opts.draws);
      const device = backend === 'webgpu' ? gpu!.device : undefined;
      device?.pushErrorScope('validation');
      device?.pushErrorScope('out-of-memory');
      device?.pushErrorScope('internal');

      const w = await abortAt(opts, (p) => p.phase === 'warmup' && p.iteration === 10);
      expectAbortError(w.error);
      expect(w.progress.length).toBe(10);
      // Aborted at the second sampling report (64 of 100 draws). Each report is awaited one
      // interval late, so the draws to 96 were issued by then: they are kept, and reported.
      const s = await abortAt(opts, (p) => p.phase === 'sampling' && p.iteration === 64);
      expect(s.error).toBeUndefined();
      expect(s.progress.filter((p) => p.phase === 'sampling').map((p) => p.iteration)).toEqual([32, 64, 96]);
      const part = s.result!;
      expect(part.partial).toBe(true);
      expect(part.draws).toBe(96);
      expect(part.requestedDraws).toBe(opts.draws);
      expectPrefixOf(part, reference);
      // The draws the backend constrained chunk by chunk (WebGPU), cut to the 96 kept, are
      // the recorded positions constrained at once.
      for (const r of [reference, part]) {
        const { params } = constrainDraws(r.model, { ...r.records, constrained: undefined });
        for (const name of r.paramNames) expect(r.params[name], name).toEqual(params[name]);
      }
      const { report } = reportRun(part, opts.seed);
      expect(report.partial).toBe(true);
      expect(report.sampler.draws).toBe(96);
      expect(report.sampler.requested_draws).toBe(opts.draws);
      for (const name of part.paramNames) {
        for (const k of ['mean', 'sd', 'q5', 'q95', 'ess_bulk', 'ess_tail', 'rhat'] as const) {
          expect(Number.isFinite(report.params[name][k]), `${name}.${k}`).toBe(true);
        }
      }
      expect(Number.isFinite(report.sampler.ebfmi_min)).toBe(true);
      // An already-aborted signal stops the run before the first iteration.
      const pre = new AbortController();
      pre.abort();
      const calls: Progress[] = [];
      await expect(sample({ ...opts, signal: pre.signal, onProgress: (p) => calls.push(p) })).rejects.toThrow(/abort/i);
      expect(calls).toEqual([]);
      // A custom reason is what the run rejects with.
      const custom = new AbortController();
      const reason = new Error('stop here');
      await expect(sample({ ...opts, signal: custom.signal, onProgress: (p) => p.iteration === 3 && custom.abort(reason) })).rejects.toBe(reason);

      if (device) {
        await device.queue.onSubmittedWorkDone();
        expect(await device.popErrorScope(), 'internal error').toBeNull();
        expect(await device.popErrorScope(), 'out-of-memory error').toBeNull();
        expect(await device.popErrorScope(), 'validation error').toBeNull();
      }
      // The next run is unaffected: the same draws as before the aborted runs.
      expectSameDraws(await sample(opts), reference);
    });
  });
}

describe('cpu backend: an abort from outside the run', () => {
  it('a timer that fires during sampling stops the run there, with a partial result', async () => {
    const controller = new AbortController();
    let scheduled = false;
    const result = await sample({
      data: weak,
      chains: 16,
      warmup: 50,
      draws: 20_000,
      seed: 3,
      backend: 'cpu',
      signal: controller.signal,
      onProgress: (p) => {
        // Not aborted here: from a macrotask, as Ctrl-C or AbortSignal.timeout would.
        if (p.phase === 'sampling' && !scheduled) {
          scheduled = true;
          setTimeout(() => controller.abort(), 0);
        }
      },
    });
    expect(result.partial).toBe(true);
    expect(result.draws).toBeGreaterThanOrEqual(32);
    expect(result.draws).toBeLessThan(20_000);
    expect(result.params.mu.length).toBe(16 * result.draws);
  });
});

describe('superchains', () => {
  it('chains of one superchain share their initial point; different superchains do not', () => {
    const K = weak.K;
    const D = K + 2;
    const x = initialPositions(keyFromSeed(3), 256, K, 16);
    const row = (c: number) => Array.from(x.subarray(c * D, (c + 1) * D));
    for (let c = 0; c < 256; c++) expect(row(c)).toEqual(row(16 * Math.floor(c / 16)));
    for (let m = 1; m < 16; m++) expect(row(16 * m)).not.toEqual(row(0));
    // Without superchains every chain starts elsewhere.
    const y = initialPositions(keyFromSeed(3), 256, K);
    expect(Array.from(y.subarray(0, D))).not.toEqual(Array.from(y.subarray(D, 2 * D)));
  });

  it('superchains: 16 with 256 chains adds a finite nested R-hat for every parameter', async () => {
    const result = await sample({ ...base, chains: 256, warmup: 150, draws: 150, superchains: 16, backend: gpu ? 'webgpu' : 'cpu', ...(gpu ? { gpu } : {}) });
    expect(result.superchains).toBe(16);
    const { report, summary } = reportRun(result, base.seed);
    for (const n of result.paramNames) {
      const r = report.params[n].rhat_nested;
      expect(r, n).toBeDefined();
      expect(Number.isFinite(r), `${n}: rhat_nested ${r}`).toBe(true);
      expect(r!).toBeGreaterThan(0.99);
      expect(summary.params[n].rhat_nested).toBe(r);
    }
    // Without superchains there is no nested R-hat.
    const plain = reportRun(await sample({ ...base, backend: 'cpu' }), base.seed).report;
    expect(Object.values(plain.params).every((p) => p.rhat_nested === undefined)).toBe(true);
  });

  it('superchains must divide the chains', async () => {
    await expect(sample({ ...base, chains: 100, superchains: 16, backend: 'cpu' })).rejects.toThrow(InputError);
    await expect(sample({ ...base, chains: 100, superchains: 16, backend: 'cpu' })).rejects.toThrow(/superchains/);
  });
});
