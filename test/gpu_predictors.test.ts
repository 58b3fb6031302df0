import { afterAll, describe, expect, it } from 'vitest';
import { makeModel } from '../src/model/model.ts';
import { FAMILIES } from '../src/model/families/index.ts';
import { parseParameterization } from '../src/model/parameterization.ts';
import { createCpuBackend } from '../src/sampler/cpu_backend.ts';
import { createWebGpuBackend } from '../src/sampler/gpu_backend.ts';
import { startingPositions } from '../src/sampler/init.ts';
import { keyFromSeed } from '../src/sampler/rng.ts';
import type { Backend, EnsembleStats } from '../src/sampler/backend.ts';
import { testGpu } from './gpu_helpers.ts';
import { predictorDataset } from './predictor_data.ts';

/*
 * The wide register kernel with population-level predictors (shaders/predictors.wgsl) against
 * the float64 CPU backend (model.ts logDensityGradPredictors): the same starts and Philox
 * draws, so the same transitions up to float32 rounding; for every family, predictors
 * constant within groups (the group path) and varying within groups (the Gaussian families'
 * within-group cross products; the others' observation path, `obs_lik`).
 */

const gpu = await testGpu();
afterAll(() => gpu?.device.destroy());

function relClose(a: number, b: number, rel: number, abs = 0): boolean {
  return Math.abs(a - b) <= abs + rel * Math.max(Math.abs(a), Math.abs(b));
}

function expectEnsembleAgreement(a: EnsembleStats, b: EnsembleStats, dim: number): void {
  expect(Math.abs(a.numValid - b.numValid)).toBeLessThanOrEqual(2);
  expect(relClose(a.meanAccept, b.meanAccept, 3e-3), `accept ${a.meanAccept} vs ${b.meanAccept}`).toBe(true);
  for (let d = 0; d < dim; d++) {
    expect(relClose(a.positionMean[d], b.positionMean[d], 1e-2, 2e-2 * Math.sqrt(a.positionVar[d])), `mean ${d}: ${a.positionMean[d]} vs ${b.positionMean[d]}`).toBe(true);
    expect(relClose(a.positionVar[d], b.positionVar[d], 2e-2), `var ${d}: ${a.positionVar[d]} vs ${b.positionVar[d]}`).toBe(true);
  }
}

describe.skipIf(!gpu)('population-level predictors on the device vs the float64 CPU backend', () => {
  // [family, K, P, varying within groups, parameterization, threads per chain, diagonal metric]
  const cases: [string, number, number, boolean, string, number, boolean][] = [
    ['normal', 9, 2, true, 'centered', 1, false],
    ['normal', 30, 5, true, 'mixed:0,2,4,6,8,10', 4, true],
    ['normal_sigma', 21, 3, true, 'noncentered', 2, false],
    ['normal_sigma', 9, 1, false, 'partial', 1, true],
    ['binomial', 21, 2, false, 'noncentered', 4, false],
    ['poisson', 12, 4, false, 'centered', 1, true],
    ['binomial', 9, 3, true, 'mixed:0,2,4', 1, false],
    ['binomial', 40, 2, true, 'partial', 4, true],
    ['poisson', 21, 5, true, 'noncentered', 2, false],
  ];
  for (const [id, K, P, varying, param, tpc, diag] of cases) {
    const family = FAMILIES.find((f) => f.id === id)!;
    it(`${id}, K = ${K}, P = ${P} ${varying ? 'varying within' : 'constant within'} groups, ${param}, ${tpc} thread(s) per chain${diag ? ', diagonal metric' : ''}: warmup statistics and recorded draws agree`, async () => {
      const data = predictorDataset(family, K, P, varying, 70 + K + P);
      const c = param === 'partial' ? Float64Array.from({ length: K }, (_, k) => (k % 5) / 4) : parseParameterization(param, data.labels);
      const model = makeModel(data, c);
      expect(model.predictors?.path).toBe(varying && !family.gaussian ? 'observation' : 'group');
      const chains = 129;
      const seed = 7 + K;
      const init = startingPositions(model, keyFromSeed(seed), chains);
      const cpu = await createCpuBackend(model, chains, seed);
      const g = await createWebGpuBackend(model, chains, seed, gpu!, { diagMetric: diag, threadsPerChain: tpc });
      try {
        expect((g as unknown as { wideLayout: { kind: string } | null }).wideLayout?.kind).toBe('registers');
        await cpu.init(init);
        await g.init(init);
        const D = model.dim;
        const invMass = new Float64Array(D).fill(1);
        if (diag) for (let d = 0; d < D; d++) invMass[d] = 0.6 + 0.1 * (d % 7);
        for (let it = 0; it < 2; it++) {
          const params = { iteration: it, stepSize: 0.03, numSteps: 5, invMass };
          cpu.step(params);
          g.step(params);
          expectEnsembleAgreement(await cpu.ensembleStats(), await g.ensembleStats(), D);
        }
        const draws = 4;
        const retained = 40;
        for (const b of [cpu, g] as Backend[]) {
          b.beginSampling(draws, retained);
          for (let it = 0; it < draws; it++) {
            b.step({ iteration: 100 + it, stepSize: 0.03, numSteps: 4 + it, invMass });
            b.recordDraw();
          }
        }
        const a = await cpu.collect();
        const r = await g.collect();
        let same = 0;
        for (let ch = 0; ch < retained; ch++) {
          let ok = true;
          for (let i = ch * draws * D; i < (ch + 1) * draws * D; i++) {
            if (Math.abs(a.draws.positions[i] - r.draws.positions[i]) > 1e-3 * (1 + Math.abs(a.draws.positions[i]))) ok = false;
          }
          if (ok) same++;
        }
        expect(same).toBeGreaterThanOrEqual(retained - 2);
        expect(r.totals.gradientEvals).toBe(a.totals.gradientEvals);
        for (let i = 0; i < a.draws.logDensity.length; i++) expect(relClose(r.draws.logDensity[i], a.draws.logDensity[i], 1e-3, 1e-2), `lp ${i}`).toBe(true);
      } finally {
        cpu.destroy();
        g.destroy();
      }
    });
  }
});
