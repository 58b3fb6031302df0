/**
 * The automatic warmup (`--warmup auto`, src/adaptation/warmup_stop.ts):
 * - the snapshot comparison measures what it says on synthetic ensembles (independent
 *   snapshots: lag correlation, mean shift and log-sd change near 0; a copy: correlation 1;
 *   a moved or rescaled ensemble: the shift or the sd change);
 * - the rule stops only when the tuned step size and trajectory length have settled AND the
 *   ensemble has mixed, never at the first check or before the minimum, and `reset` forgets;
 * - beyond MULTIPLICITY_FREE_DIM coordinates the mixing thresholds allow for the max over
 *   coordinates: chance fails a check no more often than at 16 coordinates, so ensembles of
 *   pure noise (snapshots independent draws of one distribution) pass at 1,000 coordinates
 *   and 1,024 chains, where the fixed thresholds never let them;
 * - in `sample()`: warmup ends at a check iteration (a multiple of 50), the history and the
 *   report say where, the same seed gives the same stop and the same draws (CPU and WebGPU,
 *   however the device runs were sized), and a cap that is reached is reported.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_LAG_CORRELATION, MAX_MEAN_SHIFT, MIN_AUTO_WARMUP, MULTIPLICITY_FREE_DIM, WARMUP_CHECK_INTERVAL, mixingThreshold, snapshotDrift, warmupStop } from '../src/adaptation/warmup_stop.ts';
import { pnorm } from '../src/diagnostics/special.ts';
import { sample, type Progress, type SampleOptions, type SampleResult } from '../src/sampler/sample.ts';
import { reportRun } from '../src/sampler/report.ts';
import { seedData, testGpu } from './gpu_helpers.ts';
import { createWebGpuBackend } from '../src/sampler/gpu_backend.ts';
import { createCpuBackend } from '../src/sampler/cpu_backend.ts';
import { makeModel } from '../src/model/model.ts';
import { parseParameterization } from '../src/model/parameterization.ts';
import { initialPositions, keyFromSeed } from '../src/sampler/rng.ts';

const gpu = await testGpu();
afterAll(() => gpu?.device.destroy());

/** Deterministic standard normals (LCG + Box-Muller). */
function normals(n: number, seed: number): Float64Array {
  let s = seed >>> 0;
  const u = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 0.5) / 4294967296;
  };
  const out = new Float64Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(u()));
    const t = 2 * Math.PI * u();
    out[i] = r * Math.cos(t);
    if (i + 1 < n) out[i + 1] = r * Math.sin(t);
  }
  return out;
}

const C = 4096;
const D = 3;

describe('mixing thresholds for many coordinates', () => {
  it('pnorm equals erfc(-x/sqrt 2)/2 (Python math.erfc, as R pnorm) to 2e-7 relative', () => {
    const ref: [number, number][] = [[-1.959964, 0.02499999909644241], [-3.2, 0.0006871379379158485], [-6.4, 7.768847581709835e-11], [1, 0.8413447460685429], [0, 0.5]];
    for (const [x, p] of ref) expect(Math.abs(pnorm(x) - p) / p, `pnorm(${x})`).toBeLessThan(2e-7);
  });

  it('keep the limit up to MULTIPLICITY_FREE_DIM coordinates; beyond, split the 16-coordinate chance rate over the coordinates', () => {
    for (const d of [1, 11, MULTIPLICITY_FREE_DIM]) expect(mixingThreshold(0.1, 0.044, d)).toBe(0.1);
    for (const [se, d] of [[Math.SQRT2 / 32, 1000], [1 / 32, 1000], [1 / 64, 100], [0.125, 5000]] as const) {
      const t = mixingThreshold(0.1, se, d);
      expect(t).toBeGreaterThan(0.1);
      // Each coordinate's two-sided chance of crossing it, times the coordinates, equals 16 coordinates' at the limit.
      expect((2 * pnorm(-t / se) * d) / (2 * pnorm(-0.1 / se) * MULTIPLICITY_FREE_DIM)).toBeCloseTo(1, 3);
    }
    // 1,024 chains, 1,000 coordinates: the mean shift (se sqrt(2/C)) may reach 0.157 sds.
    expect(mixingThreshold(MAX_MEAN_SHIFT, Math.SQRT2 / 32, 1000)).toBeCloseTo(0.157, 3);
  });

  it('pure-noise ensembles of 1,000 coordinates and 1,024 chains pass the rule, which fixed thresholds never let them', () => {
    const C1 = 1024;
    const D1 = 1000;
    const rule = warmupStop();
    const tuned = { stepSize: 0.1, trajectoryLength: 1 };
    let passed = 0;
    let strict = 0;
    const trials = 8;
    let state = rule.init();
    let prev = normals(C1 * D1, 100);
    ({ state } = rule.update(state, { iteration: 100, tuned, positions: prev, chains: C1, dim: D1 }));
    for (let i = 0; i < trials; i++) {
      const next = normals(C1 * D1, 101 + i);
      const r = rule.update(state, { iteration: 150 + 50 * i, tuned, positions: next, chains: C1, dim: D1 });
      state = r.state;
      if (r.check.mixed) passed++;
      const d = snapshotDrift(prev, next, C1, D1);
      if (d.lagCorrelation <= MAX_LAG_CORRELATION && d.meanShift <= MAX_MEAN_SHIFT && d.logSdChange <= 0.1) strict++;
      prev = next;
    }
    expect(strict).toBe(0);
    expect(passed).toBeGreaterThanOrEqual(3);
  });
});

describe('snapshotDrift', () => {
  it('independent draws of one distribution: correlation, mean shift and log-sd change all near 0', () => {
    const d = snapshotDrift(normals(C * D, 1), normals(C * D, 2), C, D);
    expect(Math.abs(d.lagCorrelation)).toBeLessThan(4 / Math.sqrt(C));
    expect(d.meanShift).toBeLessThan(4 * Math.sqrt(2 / C));
    expect(d.logSdChange).toBeLessThan(4 / Math.sqrt(C));
  });

  it('an ensemble that has not moved has correlation 1; one that moved or spread shows it', () => {
    const x = normals(C * D, 3);
    expect(snapshotDrift(x, x, C, D).lagCorrelation).toBeCloseTo(1, 12);
    const shifted = Float64Array.from(normals(C * D, 4), (v, i) => (i % D === 1 ? v + 0.5 : v));
    expect(snapshotDrift(x, shifted, C, D).meanShift).toBeGreaterThan(0.4);
    const spread = Float64Array.from(normals(C * D, 5), (v, i) => (i % D === 2 ? 2 * v : v));
    expect(snapshotDrift(x, spread, C, D).logSdChange).toBeCloseTo(Math.log(2), 1);
  });

  it('skips non-finite rows', () => {
    const x = normals(C * D, 6);
    const y = normals(C * D, 7);
    x[5] = NaN;
    y[10] = Infinity;
    const d = snapshotDrift(x, y, C, D);
    expect(Number.isFinite(d.lagCorrelation) && Number.isFinite(d.meanShift) && Number.isFinite(d.logSdChange)).toBe(true);
  });
});

describe('warmupStop rule', () => {
  const rule = warmupStop();
  const tuned = { stepSize: 0.2, trajectoryLength: 5 };
  const at = (iteration: number, positions: Float64Array, t = tuned) => ({ iteration, tuned: t, positions, chains: C, dim: D });

  it('stops at the first check where the adaptation has settled and two comparisons in a row found the ensemble mixed', () => {
    const first = rule.update(rule.init(), at(50, normals(C * D, 10)));
    expect(first.check.stop).toBe(false); // nothing to compare with yet
    expect(Number.isNaN(first.check.stepSizeChange)).toBe(true);
    const second = rule.update(first.state, at(100, normals(C * D, 11), { stepSize: 0.2 * 1.01, trajectoryLength: 5 * 0.98 }));
    expect(second.check.settled).toBe(true);
    expect(second.check.mixed).toBe(true);
    expect(second.check.stop).toBe(false); // one mixed comparison is not enough
    const third = rule.update(second.state, at(150, normals(C * D, 12)));
    expect(third.check).toMatchObject({ settled: true, mixed: true, stop: true });
    // A comparison that is not mixed starts the count again.
    const copy = normals(C * D, 13);
    const stuck = rule.update(rule.update(third.state, at(200, copy)).state, at(250, copy));
    expect(stuck.check).toMatchObject({ mixed: false, stop: false });
    expect(rule.update(stuck.state, at(300, normals(C * D, 14))).check.stop).toBe(false);
  });

  it('does not stop while the chains remember where they were, however settled the adaptation', () => {
    // Strong x centered at 100-150 iterations: step size and T on a plateau, chains barely moving.
    const x = normals(C * D, 20);
    const noise = normals(C * D, 21);
    const y = Float64Array.from(x, (v, i) => 0.9 * v + Math.sqrt(1 - 0.81) * noise[i]);
    const r = rule.update(rule.update(rule.init(), at(50, x)).state, at(100, y));
    expect(r.check.settled).toBe(true);
    expect(r.check.lagCorrelation).toBeGreaterThan(MAX_LAG_CORRELATION);
    expect(r.check.mixed).toBe(false);
    expect(r.check.stop).toBe(false);
    // A few chains stuck far out (2 of 128, 5 sds away, where they were) are caught too.
    const c = 128;
    const xs = normals(c * D, 22);
    const ys = normals(c * D, 23);
    for (const chain of [0, 1]) for (let d = 0; d < D; d++) xs[chain * D + d] = ys[chain * D + d] = 5;
    const few = rule.update(rule.update(rule.init(), { ...at(50, xs), chains: c }).state, { ...at(100, ys), chains: c });
    expect(few.check.mixed).toBe(false);
  });

  it('does not stop while the step size or trajectory length still moves, or before the minimum', () => {
    const a = rule.update(rule.init(), at(50, normals(C * D, 30)));
    expect(rule.update(a.state, at(100, normals(C * D, 31), { stepSize: 0.2, trajectoryLength: 5 * 1.2 })).check.stop).toBe(false);
    expect(rule.update(a.state, at(100, normals(C * D, 31), { stepSize: 0.2 * 0.85, trajectoryLength: 5 })).check.stop).toBe(false);
    const early = warmupStop({ minWarmup: 200 });
    const b = early.update(early.init(), at(50, normals(C * D, 32)));
    expect(early.update(b.state, at(100, normals(C * D, 33))).check.stop).toBe(false);
    expect(rule.reset()).toEqual(rule.init());
  });
});

const weak = seedData('weak');
/**
 * 1,024 chains: the rule's snapshot statistics carry no noise allowance, so small ensembles
 * (a few hundred chains) mostly wait for the cap; at 1,024 their standard errors
 * (0.03-0.045) are well inside the thresholds.
 */
const base = { data: weak, parameterization: 'noncentered', chains: 1024, draws: 100, seed: 5 } satisfies SampleOptions;

function bytes(a: ArrayBufferView): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

function expectAutoStop(r: SampleResult): void {
  const a = r.warmupAuto!;
  expect(a.max).toBe(1000);
  expect(a.stoppedAt, 'weak x noncentered settles and mixes well before 1,000 iterations').not.toBeNull();
  expect(r.warmup).toBe(a.stoppedAt);
  expect(r.warmup % WARMUP_CHECK_INTERVAL).toBe(0);
  expect(r.warmup).toBeGreaterThanOrEqual(MIN_AUTO_WARMUP);
  expect(r.warmup).toBeLessThan(1000);
  expect(r.adaptation.stepSize.length).toBe(r.warmup);
  expect(a.checks.map((c) => c.iteration)).toEqual(Array.from({ length: r.warmup / WARMUP_CHECK_INTERVAL }, (_, i) => (i + 1) * WARMUP_CHECK_INTERVAL));
  expect(a.checks.at(-1)!.stop).toBe(true);
  expect(a.checks.slice(0, -1).every((c) => !c.stop)).toBe(true);
  const { report } = reportRun(r, base.seed);
  expect(report.sampler.warmup).toBe(r.warmup);
  expect(report.sampler.warmup_stopped_at).toBe(r.warmup);
  expect(report.sampler.warmup_max).toBe(1000);
}

describe('Backend.positions (what the rule reads)', () => {
  const data = seedData('unbalanced');
  const model = makeModel(data, parseParameterization('mixed:2,6', data.labels));
  const chains = 300; // not a multiple of the workgroup or of four
  const start = initialPositions(keyFromSeed(9), chains, data.K);

  it('cpu: the current positions, chain-major', async () => {
    const b = await createCpuBackend(model, chains, 9);
    await b.init(start);
    expect(Array.from(await b.positions())).toEqual(Array.from(start));
    b.destroy();
  });

  it.skipIf(!gpu)('webgpu: the current positions, chain-major, in float32; after a step they are the chains\' new positions', async () => {
    const b = await createWebGpuBackend(model, chains, 9, gpu!);
    try {
      await b.init(start);
      expect(Array.from(await b.positions())).toEqual(Array.from(start, Math.fround));
      // After one transition the read-back positions match the CPU backend's within float32 error.
      const c = await createCpuBackend(model, chains, 9);
      await c.init(start);
      const step = { iteration: 0, stepSize: 0.05, numSteps: 5, invMass: new Float64Array(model.dim).fill(1) };
      b.step(step);
      c.step(step);
      const g = await b.positions();
      const h = await c.positions();
      let moved = 0;
      for (let i = 0; i < g.length; i++) {
        expect(Math.abs(g[i] - h[i])).toBeLessThan(1e-3 * (1 + Math.abs(h[i])));
        if (g[i] !== Math.fround(start[i])) moved++;
      }
      expect(moved).toBeGreaterThan(g.length / 2);
      c.destroy();
    } finally {
      b.destroy();
    }
  });
});

describe('sample() with warmup auto', () => {
  it('cpu: stops at a check, records where, and the same seed gives the same stop and draws', async () => {
    const opts = { ...base, backend: 'cpu' } satisfies SampleOptions;
    const progress: Progress[] = [];
    const a = await sample({ ...opts, onProgress: (p) => progress.push(p) }); // warmup defaults to auto
    expectAutoStop(a);
    // Progress: warmup 1..stop against the cap, the last report marked and its total the stop.
    const w = progress.filter((p) => p.phase === 'warmup');
    expect(w.map((p) => p.iteration)).toEqual(Array.from({ length: a.warmup }, (_, i) => i + 1));
    expect(w.slice(0, -1).every((p) => p.total === 1000 && !p.warmupStopped)).toBe(true);
    expect(w.at(-1)).toMatchObject({ iteration: a.warmup, total: a.warmup, warmupStopped: true });
    const b = await sample(opts);
    expect(b.warmup).toBe(a.warmup);
    for (const n of a.paramNames) expect(bytes(a.params[n]).equals(bytes(b.params[n])), n).toBe(true);
  });

  it('a cap that is reached: ran to the cap, stoppedAt null', async () => {
    const r = await sample({ ...base, chains: 64, backend: 'cpu', warmup: 'auto', warmupMax: 60 });
    expect(r.warmup).toBe(60);
    expect(r.warmupAuto).toMatchObject({ max: 60, stoppedAt: null });
    const { report } = reportRun(r, base.seed);
    expect(report.sampler.warmup_stopped_at).toBeNull();
    expect(report.sampler.warmup_max).toBe(60);
  });

  it.skipIf(!gpu)('webgpu: stops at a check and the same seed gives the same stop and bitwise the same draws', async () => {
    const opts = { ...base, backend: 'webgpu', gpu: gpu! } satisfies SampleOptions;
    const a = await sample(opts);
    expectAutoStop(a);
    const b = await sample(opts);
    expect(b.warmup).toBe(a.warmup);
    expect(b.warmupAuto!.checks).toEqual(a.warmupAuto!.checks);
    for (const n of a.paramNames) expect(bytes(a.params[n]).equals(bytes(b.params[n])), n).toBe(true);
  });
});
