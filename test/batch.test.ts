import { afterAll, describe, expect, it } from 'vitest';
import { makeModel, type HierModel } from '../src/model/model.ts';
import { parseParameterization } from '../src/model/parameterization.ts';
import { cpuBatch, type BatchBackend } from '../src/batch/backend.ts';
import { gpuBatch } from '../src/batch/gpu_batch.ts';
import { constrainSet, sampleBatch } from '../src/batch/sample_batch.ts';
import { startingPositions } from '../src/sampler/init.ts';
import { keyFromSeed } from '../src/sampler/rng.ts';
import { createCpuBackend } from '../src/sampler/cpu_backend.ts';
import type { HierData } from '../src/model/data.ts';
import { familyData } from './family_data.ts';
import { seedData, testGpu } from './gpu_helpers.ts';

const gpu = await testGpu();
afterAll(() => gpu?.device.destroy());

/** Three data sets of one design: the weak data shifted and scaled, under the given parameterizations. */
function sets(params: string[]): HierModel[] {
  const d = seedData('weak');
  return params.map((p, i) => makeModel({ ...d, y: d.y.map((v) => 0.5 * i + v * (1 + 0.3 * i)) }, parseParameterization(p, d.labels)));
}

const SEEDS = [11, 12, 13];

async function both(models: HierModel[], chains: number): Promise<[BatchBackend, BatchBackend]> {
  const cpu = await cpuBatch(models, chains, SEEDS.slice(0, models.length));
  const gb = await gpuBatch(models, chains, SEEDS.slice(0, models.length), gpu!);
  const init = models.map((m, d) => startingPositions(m, keyFromSeed(SEEDS[d]), chains));
  await cpu.init(init);
  await gb.init(init);
  return [cpu, gb];
}

const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(1e-12, Math.abs(a), Math.abs(b));

describe.skipIf(!gpu)('batch kernel (shaders/batch_hmc.wgsl) against the float64 reference, set by set', () => {
  it('one warmup transition: every set has its own step size and steps, and its ChEES statistics agree', async () => {
    const models = sets(['noncentered', 'centered', 'mixed:2,6']);
    const [cpu, gb] = await both(models, 64);
    const step = { iteration: 0, stepSize: Float64Array.of(0.3, 0.05, 0.2), numSteps: Int32Array.of(4, 9, 6) };
    const a = await cpu.warmupStep(step);
    const b = await gb.warmupStep(step);
    for (let d = 0; d < 3; d++) {
      expect(Math.abs(a[d].numValid - b[d].numValid)).toBeLessThanOrEqual(1);
      expect(rel(a[d].meanAccept, b[d].meanAccept)).toBeLessThan(2e-3);
      expect(rel(a[d].harmonicMeanAccept, b[d].harmonicMeanAccept)).toBeLessThan(5e-3);
      expect(rel(a[d].cheesGradient, b[d].cheesGradient)).toBeLessThan(2e-2);
    }
    // The sets differ (their data, c and step sizes): the statistics are not one set's repeated.
    expect(new Set(a.map((s) => s.meanAccept.toFixed(6))).size).toBe(3);
    cpu.destroy();
    gb.destroy();
  });

  it('sampling: every set records the draws of the float64 reference (40 transitions, steps varying per set and iteration)', async () => {
    const models = sets(['noncentered', 'centered', 'mixed:2,6']);
    const [cpu, gb] = await both(models, 16);
    const stepSize = Float64Array.of(0.25, 0.08, 0.15);
    const numSteps = Int32Array.from({ length: 3 * 40 }, (_, i) => 1 + ((i * 7) % 5));
    cpu.beginSampling(40);
    gb.beginSampling(40);
    await cpu.sample(1, 40, stepSize, numSteps);
    // Two calls on the device (40 > its 32-transition runs in one call, and a second call continuing).
    await gb.sample(1, 25, stepSize, Int32Array.from({ length: 3 * 25 }, (_, i) => numSteps[Math.floor(i / 25) * 40 + (i % 25)]));
    await gb.sample(26, 15, stepSize, Int32Array.from({ length: 3 * 15 }, (_, i) => numSteps[Math.floor(i / 15) * 40 + 25 + (i % 15)]));
    const ca = await cpu.collect();
    const ga = await gb.collect();
    for (let d = 0; d < 3; d++) {
      let worst = 0;
      let differing = 0;
      for (let i = 0; i < ca[d].positions.length; i++) worst = Math.max(worst, Math.abs(ca[d].positions[i] - ga[d].positions[i]));
      for (let i = 0; i < ca[d].divergent.length; i++) if (ca[d].divergent[i] !== ga[d].divergent[i]) differing++;
      expect(worst).toBeLessThan(2e-2);
      expect(differing).toBe(0);
      expect(ga[d].draws).toBe(40);
    }
    cpu.destroy();
    gb.destroy();
  });

  it("a set's draws do not depend on the other sets of its batch (bitwise)", async () => {
    const models = sets(['noncentered', 'centered', 'noncentered']);
    const run = async (ms: HierModel[], seeds: number[]) =>
      sampleBatch({ models: ms, chainsPerSet: 16, seeds, warmup: 30, draws: 20, gpu: gpu! });
    const all = await run(models, SEEDS);
    const alone = await run([models[1]], [SEEDS[1]]);
    expect(alone.sets[0].stepSize).toBe(all.sets[1].stepSize);
    expect(Array.from(alone.sets[0].draws.positions)).toEqual(Array.from(all.sets[1].draws.positions));
    // Same seed, same draws.
    const again = await run(models, SEEDS);
    expect(Array.from(again.sets[2].draws.positions)).toEqual(Array.from(all.sets[2].draws.positions));
  });

  it('a single set of the batch equals a run of the single-set CPU backend with that seed (float64 vs float32)', async () => {
    const [m] = sets(['noncentered']);
    const single = await createCpuBackend(m, 8, SEEDS[0]);
    const b = await gpuBatch([m], 8, [SEEDS[0]], gpu!);
    const init = startingPositions(m, keyFromSeed(SEEDS[0]), 8);
    await single.init(init);
    await b.init([init]);
    single.beginSampling(10, 8);
    b.beginSampling(10);
    for (let it = 0; it < 10; it++) {
      single.step({ iteration: it, stepSize: 0.3, numSteps: 5, invMass: new Float64Array(m.dim).fill(1) });
      single.recordDraw();
    }
    await b.sample(0, 10, Float64Array.of(0.3), new Int32Array(10).fill(5));
    const s = (await single.collect()).draws.positions;
    const g = (await b.collect())[0].positions;
    let worst = 0;
    for (let i = 0; i < s.length; i++) worst = Math.max(worst, Math.abs(s[i] - g[i]));
    expect(worst).toBeLessThan(1e-2);
    b.destroy();
  });

  it('binomial and Poisson sets agree with the reference too (the family WGSL, read at run time)', async () => {
    for (const fam of ['binomial', 'poisson'] as const) {
      const base: HierData = familyData(fam, 7, { seed: 3 }).data;
      const models = [0, 1].map((i) => makeModel({ ...base, y: base.y.map((v, j) => (j % 3 === i ? Math.max(0, v - 1) : v)) }, new Float64Array(base.K).fill(i)));
      const cpu = await cpuBatch(models, 32, [3, 4]);
      const gb = await gpuBatch(models, 32, [3, 4], gpu!);
      const init = models.map((m, d) => startingPositions(m, keyFromSeed([3, 4][d]), 32));
      await cpu.init(init);
      await gb.init(init);
      const step = { iteration: 0, stepSize: Float64Array.of(0.1, 0.05), numSteps: Int32Array.of(5, 8) };
      const a = await cpu.warmupStep(step);
      const b = await gb.warmupStep(step);
      for (let d = 0; d < 2; d++) {
        expect(rel(a[d].meanAccept, b[d].meanAccept), `${fam} set ${d}`).toBeLessThan(5e-3);
        expect(rel(a[d].cheesGradient, b[d].cheesGradient), `${fam} set ${d}`).toBeLessThan(5e-2);
      }
      cpu.destroy();
      gb.destroy();
    }
  });

  it('auto: each set learns its own centeredness; the device and the float64 reference learn the same', async () => {
    const strong = seedData('strong');
    const weak = seedData('weak');
    const models = [makeModel(weak, new Float64Array(weak.K)), makeModel({ ...strong, y: strong.y.slice() }, new Float64Array(strong.K))];
    const o = { models, chainsPerSet: 64, seeds: [5, 6], warmup: 120, draws: 10, auto: 'auto-binary' as const };
    const g = await sampleBatch({ ...o, gpu: gpu! });
    const c = await sampleBatch({ ...o, backend: 'cpu' });
    // Weakly informed groups run non-centered, strongly informed ones centered.
    expect(Array.from(g.sets[0].model.c)).toEqual(Array.from(c.sets[0].model.c));
    expect(Array.from(g.sets[1].model.c)).toEqual(Array.from(c.sets[1].model.c));
    expect(g.sets[0].model.c.every((x) => x === 0)).toBe(true);
    expect(g.sets[1].model.c.every((x) => x === 1)).toBe(true);
    // The float32 and float64 chains part ways within tens of iterations, so the step sizes are
    // two estimates from 64 chains each: close, not equal.
    expect(rel(g.sets[1].stepSize, c.sets[1].stepSize)).toBeLessThan(0.3);
    // The draws are on the constrained scale whatever c: theta near the strong data's group means.
    const th = constrainSet(g.sets[1].model, g.sets[1].draws, 64)['theta[0]'];
    const mean = th.reduce((a, b) => a + b, 0) / th.length;
    const ybar = strong.y.filter((_, i) => strong.group[i] === 0).reduce((a, b, _, arr) => a + b / arr.length, 0);
    expect(Math.abs(mean - ybar)).toBeLessThan(3);
  });

  it('normal data with sigma unknown: each set its own statistics (N, SS) and sigma, as the reference', async () => {
    const { data: base } = familyData('normal_sigma', 7, { seed: 4, sizes: [3, 1, 4, 2, 5, 3, 2] });
    const models = [0, 1, 2].map((i) => makeModel({ ...base, y: base.y.map((v, j) => v * (1 + 0.5 * i) + (j % 2) * i) }, new Float64Array(base.K).fill(i === 1 ? 1 : 0)));
    expect(models[0].familyGlobal).toBeDefined();
    expect(models[0].stats.familyStats![1]).not.toBe(models[2].stats.familyStats![1]);
    const [cpu, gb] = await both(models, 32);
    const step = { iteration: 0, stepSize: Float64Array.of(0.1, 0.05, 0.08), numSteps: Int32Array.of(6, 9, 4) };
    const a = await cpu.warmupStep(step);
    const b = await gb.warmupStep(step);
    for (let d = 0; d < 3; d++) {
      expect(rel(a[d].meanAccept, b[d].meanAccept), `set ${d}`).toBeLessThan(5e-3);
      expect(rel(a[d].cheesGradient, b[d].cheesGradient), `set ${d}`).toBeLessThan(5e-2);
    }
    cpu.beginSampling(20);
    gb.beginSampling(20);
    const ns = Int32Array.from({ length: 60 }, (_, i) => 2 + (i % 3));
    await cpu.sample(1, 20, step.stepSize, ns);
    await gb.sample(1, 20, step.stepSize, ns);
    const ca = await cpu.collect();
    const ga = await gb.collect();
    const xi = models[0].familyGlobal!.index;
    for (let d = 0; d < 3; d++) {
      let worst = 0;
      for (let i = 0; i < ca[d].positions.length; i++) worst = Math.max(worst, Math.abs(ca[d].positions[i] - ga[d].positions[i]));
      expect(worst, `set ${d}`).toBeLessThan(2e-2);
      // log sigma moves (it is sampled) in most chains, where the reference has it.
      const D = models[0].dim;
      let moved = 0;
      for (let c = 0; c < 32; c++) if (ga[d].positions[(c * 20) * D + xi] !== ga[d].positions[(c * 20 + 19) * D + xi]) moved++;
      expect(moved, `set ${d}`).toBeGreaterThan(16);
    }
    cpu.destroy();
    gb.destroy();
  });

  it('refuses sets of unequal group counts, or of other priors', async () => {
    const w = seedData('weak');
    await expect(gpuBatch([makeModel(w, new Float64Array(w.K)), makeModel({ ...w, K: w.K + 1, labels: [...w.labels, 'x'] }, new Float64Array(w.K + 1))], 4, [1, 2], gpu!)).rejects.toThrow(/groups/);
    await expect(cpuBatch([makeModel(w, new Float64Array(w.K)), makeModel(w, new Float64Array(w.K), { mu: { kind: 'normal', loc: 1, scale: 5 }, tau: { kind: 'halfnormal', scale: 5 } })], 4, [1, 2])).rejects.toThrow(/priors/);
  });
});
