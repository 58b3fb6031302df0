import { afterAll, describe, expect, it } from 'vitest';
import { makeModel } from '../src/model/model.ts';
import { parseParameterization } from '../src/model/parameterization.ts';
import { createCpuBackend } from '../src/sampler/cpu_backend.ts';
import { createWebGpuBackend } from '../src/sampler/gpu_backend.ts';
import { initialPositions, keyFromSeed } from '../src/sampler/rng.ts';
import type { Backend, EnsembleStats } from '../src/sampler/backend.ts';
import { seedData, testGpu, testRng, type SeedName } from './gpu_helpers.ts';
import type { HierData } from '../src/model/data.ts';

const gpu = await testGpu();
afterAll(() => gpu?.device.destroy());

async function pair(name: SeedName | HierData, param: string, chains: number, seed: number, diagMetric = false) {
  const data = typeof name === 'string' ? seedData(name) : name;
  const model = makeModel(data, parseParameterization(param, data.labels));
  const init = initialPositions(keyFromSeed(seed), chains, data.K);
  const cpu = await createCpuBackend(model, chains, seed);
  const gpuB = await createWebGpuBackend(model, chains, seed, gpu!, { diagMetric });
  await cpu.init(init);
  await gpuB.init(init);
  return { model, cpu, gpu: gpuB };
}

function relClose(a: number, b: number, rel: number, abs = 0): boolean {
  return Math.abs(a - b) <= abs + rel * Math.max(Math.abs(a), Math.abs(b));
}

/**
 * float64 CPU vs float32 GPU ensemble statistics of the same transition. Chains whose
 * Metropolis decisions differ (u within ~1e-5 of the acceptance probability) are rare:
 * allow a couple of chains' difference.
 */
function expectEnsembleAgreement(a: EnsembleStats, b: EnsembleStats, dim: number, acceptRel: number): void {
  expect(Math.abs(a.numValid - b.numValid)).toBeLessThanOrEqual(2);
  expect(relClose(a.meanAccept, b.meanAccept, acceptRel)).toBe(true);
  expect(relClose(a.cheesGradient, b.cheesGradient, 2e-2, 1e-3 * Math.abs(a.cheesGradient) + 1e-6)).toBe(true);
  for (let d = 0; d < dim; d++) {
    expect(relClose(a.positionMean[d], b.positionMean[d], 1e-2, 2e-2 * Math.sqrt(a.positionVar[d]))).toBe(true);
    expect(relClose(a.positionVar[d], b.positionVar[d], 2e-2)).toBe(true);
  }
}

describe.skipIf(!gpu)('GPU HMC transition vs float64 CPU backend (same Philox stream)', () => {
  const cases: [SeedName, string, number, number][] = [
    ['weak', 'noncentered', 0.3, 8],
    ['strong', 'centered', 0.2, 10],
    ['unbalanced', 'mixed:2,6', 0.1, 12],
    ['weak', 'partial:0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5', 0.25, 6],
  ];
  for (const [name, param, eps, L] of cases) {
    it(`${name} × ${param}: ensemble statistics of one warmup transition agree`, async () => {
      const chains = 2048;
      const { model, cpu, gpu: g } = await pair(name, param, chains, 1234, true);
      try {
        const invMass = new Float64Array(model.dim).fill(1);
        invMass[0] = 0.8;
        for (let it = 0; it < 3; it++) {
          const params = { iteration: it, stepSize: eps, numSteps: L, invMass };
          cpu.step(params);
          g.step(params);
          const a = await cpu.ensembleStats();
          const b = await g.ensembleStats();
          expectEnsembleAgreement(a, b, model.dim, 1e-3);
          // The harmonic mean is dominated by the smallest acceptance exp(-dH): a float32
          // energy error of ~1e-2 on dH ~ 10 moves it by ~1%, and an acceptance below ~1e-38
          // underflows to 0 in float32 (both then say "shrink the step").
          expect(relClose(a.harmonicMeanAccept, b.harmonicMeanAccept, 5e-2, 1e-12), `harmonic ${a.harmonicMeanAccept} vs ${b.harmonicMeanAccept} at it ${it}`).toBe(true);
        }
      } finally {
        cpu.destroy();
        g.destroy();
      }
    });
  }

  it('records the same draws as the CPU backend for the first iterations', async () => {
    const chains = 256;
    const { model, cpu, gpu: g } = await pair('strong', 'centered', chains, 99);
    const D = model.dim;
    try {
      const invMass = new Float64Array(D).fill(1);
      const draws = 5;
      for (const b of [cpu, g] as Backend[]) {
        b.beginSampling(draws, 64);
        for (let it = 0; it < draws; it++) {
          b.step({ iteration: 1000 + it, stepSize: 0.05, numSteps: 7, invMass });
          b.recordDraw();
        }
      }
      const a = await cpu.collect();
      const r = await g.collect();
      expect(r.draws.retainedChains).toBe(64);
      let same = 0;
      for (let c = 0; c < 64; c++) {
        let ok = true;
        for (let t = 0; t < draws; t++) {
          for (let d = 0; d < D; d++) {
            const i = (c * draws + t) * D + d;
            if (Math.abs(a.draws.positions[i] - r.draws.positions[i]) > 1e-3 * (1 + Math.abs(a.draws.positions[i]))) ok = false;
          }
        }
        if (ok) same++;
      }
      // float32 vs float64 may flip a rare accept decision; nearly all chains coincide.
      expect(same).toBeGreaterThanOrEqual(60);
      expect(r.totals.gradientEvals).toBe(a.totals.gradientEvals);
      expect(relClose(r.totals.meanAccept, a.totals.meanAccept, 1e-3)).toBe(true);
    } finally {
      cpu.destroy();
      g.destroy();
    }
  });

  it('records divergences like the CPU backend: the same chains and draws, and where they diverged', async () => {
    // Step size 10 on the centered strong-data funnel: most chains diverge at once.
    const { model, cpu, gpu: g } = await pair('strong', 'centered', 32, 21);
    const D = model.dim;
    const invMass = new Float64Array(D).fill(1);
    for (const b of [cpu, g]) {
      b.beginSampling(2, 8);
      for (let it = 0; it < 2; it++) {
        b.step({ iteration: it, stepSize: 10, numSteps: 3, invMass });
        b.recordDraw();
      }
    }
    const a = (await cpu.collect()).draws;
    const b = (await g.collect()).draws;
    cpu.destroy();
    g.destroy();
    expect(a.divergentChain.length).toBeGreaterThan(4);
    expect(Array.from(b.divergentChain)).toEqual(Array.from(a.divergentChain));
    expect(Array.from(b.divergentDraw)).toEqual(Array.from(a.divergentDraw));
    expect(b.divergentPositions.length).toBe(a.divergentChain.length * D);
    // Each row is one point (mu, log tau, z_0..z_K-1), as the CPU's (float32 vs float64, where the trajectory blew up).
    let compared = 0;
    for (let i = 0; i < a.divergentChain.length; i++) {
      for (let d = 0; d < D; d++) {
        const x = a.divergentPositions[i * D + d];
        const y = b.divergentPositions[i * D + d];
        if (!Number.isFinite(x)) continue;
        expect(relClose(x, y, 1e-3, 1e-3), `divergence ${i}, coordinate ${d}: ${x} vs ${y}`).toBe(true);
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(D);
  });

  it('more chains than the storage binding limit allows: an InputError naming the most chains that fit', async () => {
    const data = seedData('weak');
    const model = makeModel(data, parseParameterization('noncentered', data.labels));
    const blocks = Math.ceil(data.K / 4) + 1;
    const most = Math.floor(gpu!.device.limits.maxStorageBufferBindingSize / (3 * blocks * 16));
    const err = await createWebGpuBackend(model, most + 1, 1, gpu!).then(
      () => null,
      (e: Error) => e,
    );
    expect(err?.name).toBe('InputError');
    expect(err?.message).toMatch(new RegExp(`^chains: ${most + 1} chains .* use at most ${most} chains$`));
  });

  it('a backend compiled for the unit metric refuses another inverse mass', async () => {
    const { model, cpu, gpu: g } = await pair('weak', 'noncentered', 64, 5);
    try {
      const invMass = new Float64Array(model.dim).fill(1);
      invMass[3] = 2;
      expect(() => g.step({ iteration: 0, stepSize: 0.1, numSteps: 2, invMass })).toThrow(/unit metric/);
    } finally {
      cpu.destroy();
      g.destroy();
    }
  });

  it('a model too wide to bake into the shader (150 groups: the wide kernel) agrees too', async () => {
    // NV = 38 blocks > MAX_BAKED_BLOCKS: shaders/hmc_wide.wgsl, group data from the storage
    // buffer (test/gpu_wide.test.ts covers the wide kernel further).
    const K = 150;
    const rng = testRng(77);
    const normal = () => Math.sqrt(-2 * Math.log(rng())) * Math.cos(2 * Math.PI * rng());
    const perGroup = 3;
    const group = Int32Array.from({ length: K * perGroup }, (_, i) => Math.floor(i / perGroup));
    const theta = Array.from({ length: K }, () => 1 + 3 * normal());
    const y = Float64Array.from(group, (k) => theta[k] + 2 * normal());
    const data: HierData = { y, group, sigma: new Float64Array(y.length).fill(2), K, labels: Array.from({ length: K }, (_, k) => `g${k}`) };
    const centered = Array.from({ length: K / 2 }, (_, i) => String(2 * i)).join(',');
    const chains = 1024;
    const { model, cpu, gpu: g } = await pair(data, `mixed:${centered}`, chains, 321);
    try {
      const invMass = new Float64Array(model.dim).fill(1);
      for (let it = 0; it < 2; it++) {
        const params = { iteration: it, stepSize: 0.05, numSteps: 6, invMass };
        cpu.step(params);
        g.step(params);
        expectEnsembleAgreement(await cpu.ensembleStats(), await g.ensembleStats(), model.dim, 2e-3);
      }
    } finally {
      cpu.destroy();
      g.destroy();
    }
  });

  it('batched sampling transitions (one dispatch for many iterations) give bitwise the draws of one dispatch each', async () => {
    const data = seedData('unbalanced');
    const model = makeModel(data, parseParameterization('mixed:2,6', data.labels));
    const chains = 512;
    const init = initialPositions(keyFromSeed(8), chains, data.K);
    const invMass = new Float64Array(model.dim).fill(1);
    const run = async (syncEach: boolean) => {
      const b = await createWebGpuBackend(model, chains, 8, gpu!);
      try {
        await b.init(init);
        b.beginSampling(70, 100);
        for (let t = 0; t < 70; t++) {
          b.step({ iteration: 500 + t, stepSize: 0.15, numSteps: 1 + ((t * 7) % 23), invMass });
          b.recordDraw();
          if (syncEach) await b.sync();
        }
        return await b.collect();
      } finally {
        b.destroy();
      }
    };
    const single = await run(true);
    const batched = await run(false);
    expect(batched.draws.positions).toEqual(single.draws.positions);
    expect(batched.draws.energy).toEqual(single.draws.energy);
    expect(batched.draws.acceptProb).toEqual(single.draws.acceptProb);
    expect(batched.draws.divergent).toEqual(single.draws.divergent);
    expect(batched.totals.divergences).toBe(single.totals.divergences);
    expect(batched.totals.gradientEvals).toBe(single.totals.gradientEvals);
    // Per-chain acceptance sums are float32: batching changes the order of the additions.
    expect(batched.totals.meanAccept).toBeCloseTo(single.totals.meanAccept, 6);
    expect(single.draws.positions.some((x, i) => x !== single.draws.positions[i % model.dim])).toBe(true);
  });
});
