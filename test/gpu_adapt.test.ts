import { describe, expect, it } from 'vitest';
import { chees as makeChees, DEFAULT_CHEES, numLeapfrogSteps, type CheesState } from '../src/adaptation/chees.ts';
import { DEFAULT_DUAL_AVERAGING } from '../src/adaptation/dual_averaging.ts';
import { haltonBitsFor, trajectoryJitter } from '../src/adaptation/halton.ts';
import { makeModel } from '../src/model/model.ts';
import { parseParameterization } from '../src/model/parameterization.ts';
import { createWebGpuBackend } from '../src/sampler/gpu_backend.ts';
import { MAX_DEVICE_WARMUP } from '../src/sampler/backend.ts';
import type { Backend, DeviceWarmupResult } from '../src/sampler/backend.ts';
import { initialPositions, keyFromSeed } from '../src/sampler/rng.ts';
import { seedData, testGpu, type SeedName } from './gpu_helpers.ts';

const gpu = await testGpu();

const BITS = haltonBitsFor(2000);
const jitters = (first: number, count: number) => Float64Array.from({ length: count + 1 }, (_, i) => trajectoryJitter(first + i, 1, BITS));

async function backendFor(name: SeedName, param: string, chains: number, seed: number) {
  const data = seedData(name);
  const model = makeModel(data, parseParameterization(param, data.labels));
  const b = await createWebGpuBackend(model, chains, seed, gpu!);
  await b.init(initialPositions(keyFromSeed(seed), chains, data.K));
  return { model, b };
}

async function deviceRun(b: Backend, state: CheesState, first: number, count: number, invMass: Float64Array, targetAccept = 0.651): Promise<DeviceWarmupResult> {
  return b.warmupOnDevice!({ first, count, state, chees: { ...DEFAULT_CHEES, targetAccept }, dualAveraging: DEFAULT_DUAL_AVERAGING, jitter: jitters(first, count), invMass });
}

describe.skipIf(!gpu)('warmup adaptation on the device (shaders/adapt.wgsl)', () => {
  const cases: [SeedName, string, number][] = [
    ['weak', 'noncentered', 0.651],
    ['strong', 'centered', 0.8],
    ['unbalanced', 'mixed:2,6', 0.651],
  ];
  for (const [name, param, target] of cases) {
    it(`${name} × ${param}: follows the float64 host adaptation (chees.ts) iteration by iteration`, async () => {
      const chains = 512;
      // Long enough to exercise every update; short enough that float32 rounding, which the
      // harmonic mean amplifies through the chains' energy errors (strong × centered runs
      // 274-step trajectories here), has not yet grown past the tolerances (seen: < 3e-6).
      const n = 8;
      const host = await backendFor(name, param, chains, 5);
      const dev = await backendFor(name, param, chains, 5);
      try {
        const adapter = makeChees({ targetAccept: target });
        const invMass = new Float64Array(host.model.dim).fill(1);
        // Start from a state with some history (not the initial point of every run).
        let state = adapter.init({ stepSize: 0.15, trajectoryLength: 1.2 });
        const start = state;
        const hostSteps: number[] = [];
        const hostEps: number[] = [];
        const hostAccept: number[] = [];
        for (let it = 0; it < n; it++) {
          const u = trajectoryJitter(it, 1, BITS);
          const L = numLeapfrogSteps(u, state.trajectoryLength, state.stepSize);
          hostSteps.push(L);
          hostEps.push(state.stepSize);
          host.b.step({ iteration: it, stepSize: state.stepSize, numSteps: L, invMass });
          const stats = await host.b.ensembleStats();
          hostAccept.push(stats.meanAccept);
          state = adapter.update(state, stats, u);
        }
        const r = await deviceRun(dev.b, start, 0, n, invMass, target);
        // The first iteration runs the same transition on both: its statistics agree to
        // float32 summation; later ones drift apart only by float32 rounding of eps.
        expect(r.numSteps[0]).toBe(hostSteps[0]);
        expect(Math.abs(r.meanAccept[0] - hostAccept[0])).toBeLessThan(1e-5);
        let sameSteps = 0;
        for (let i = 0; i < n; i++) {
          expect(Math.abs(Math.log(r.stepSize[i] / hostEps[i])), `eps at ${i}: ${r.stepSize[i]} vs ${hostEps[i]}`).toBeLessThan(1e-4);
          if (r.numSteps[i] === hostSteps[i]) sameSteps++;
        }
        expect(sameSteps).toBe(n);
        const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(1e-12, Math.abs(b));
        expect(rel(r.state.stepSize, state.stepSize)).toBeLessThan(1e-4);
        expect(rel(r.state.trajectoryLength, state.trajectoryLength)).toBeLessThan(1e-4);
        expect(Math.abs(r.state.logStepSizeAvg - state.logStepSizeAvg)).toBeLessThan(1e-4);
        expect(Math.abs(r.state.logTrajectoryLengthAvg - state.logTrajectoryLengthAvg)).toBeLessThan(1e-4);
        expect(rel(r.state.adamV, state.adamV)).toBeLessThan(1e-3);
        expect(Math.abs(r.state.da.avgError - state.da.avgError)).toBeLessThan(1e-5);
        expect([r.state.step, r.state.adamStep, r.state.da.step, r.state.numSkipped]).toEqual([state.step, state.adamStep, state.da.step, state.numSkipped]);
      } finally {
        host.b.destroy();
        dev.b.destroy();
      }
    });
  }

  it('gives bit-identical results however the iterations are split into runs', async () => {
    const chains = 256;
    const a = await backendFor('weak', 'centered', chains, 9);
    const b = await backendFor('weak', 'centered', chains, 9);
    try {
      const invMass = new Float64Array(a.model.dim).fill(1);
      const start = makeChees().init({ stepSize: 0.1 });
      const whole = await deviceRun(a.b, start, 0, 20, invMass);
      const p1 = await deviceRun(b.b, start, 0, 7, invMass);
      const p2 = await deviceRun(b.b, p1.state, 7, 13, invMass);
      expect(p2.state).toEqual(whole.state);
      expect([...p1.stepSize, ...p2.stepSize]).toEqual([...whole.stepSize]);
      expect([...p1.numSteps, ...p2.numSteps]).toEqual([...whole.numSteps]);
      expect([...p1.harmonicMeanAccept, ...p2.harmonicMeanAccept]).toEqual([...whole.harmonicMeanAccept]);
    } finally {
      a.b.destroy();
      b.b.destroy();
    }
  });

  it('refuses bad run lengths and a non-unit metric on a unit-metric backend', async () => {
    const { model, b } = await backendFor('weak', 'noncentered', 64, 1);
    try {
      const invMass = new Float64Array(model.dim).fill(1);
      const s = makeChees().init({ stepSize: 0.1 });
      await expect(deviceRun(b, s, 0, 0, invMass)).rejects.toThrow(/count must be/);
      await expect(deviceRun(b, s, 0, MAX_DEVICE_WARMUP + 1, invMass)).rejects.toThrow(/count must be/);
      invMass[0] = 2;
      await expect(deviceRun(b, s, 0, 4, invMass)).rejects.toThrow(/unit metric/);
    } finally {
      b.destroy();
    }
  });
});
