import { afterAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { makeModel } from '../src/model/model.ts';
import { parseParameterization } from '../src/model/parameterization.ts';
import { createCpuBackend } from '../src/sampler/cpu_backend.ts';
import { createWebGpuBackend, wideThreadsPerChain, type WideKernel } from '../src/sampler/gpu_backend.ts';
import { isWideModel } from '../src/gpu/layout.ts';
import { initialPositions, keyFromSeed } from '../src/sampler/rng.ts';
import type { Backend, EnsembleStats } from '../src/sampler/backend.ts';
import { testGpu } from './gpu_helpers.ts';
import { sample } from '../src/sampler/sample.ts';
import { reportRun } from '../src/sampler/report.ts';
import { checkExact } from './exactness.ts';
import { packGroupsCompact } from '../src/gpu/layout.ts';
import { syntheticData } from './bench/synthetic.ts';

const gpu = await testGpu();
afterAll(() => gpu?.device.destroy());

function relClose(a: number, b: number, rel: number, abs = 0): boolean {
  return Math.abs(a - b) <= abs + rel * Math.max(Math.abs(a), Math.abs(b));
}

/** float64 CPU vs float32 GPU ensemble statistics of the same transition (as gpu_hmc.test.ts). */
function expectEnsembleAgreement(a: EnsembleStats, b: EnsembleStats, dim: number): void {
  expect(Math.abs(a.numValid - b.numValid)).toBeLessThanOrEqual(2);
  expect(relClose(a.meanAccept, b.meanAccept, 2e-3)).toBe(true);
  expect(relClose(a.harmonicMeanAccept, b.harmonicMeanAccept, 5e-2, 1e-12)).toBe(true);
  expect(relClose(a.cheesGradient, b.cheesGradient, 2e-2, 1e-3 * Math.abs(a.cheesGradient) + 1e-6), `chees ${a.cheesGradient} vs ${b.cheesGradient}`).toBe(true);
  for (let d = 0; d < dim; d++) {
    expect(relClose(a.positionMean[d], b.positionMean[d], 1e-2, 2e-2 * Math.sqrt(a.positionVar[d])), `mean ${d}`).toBe(true);
    expect(relClose(a.positionVar[d], b.positionVar[d], 2e-2), `var ${d}`).toBe(true);
  }
}

async function pair(K: number, param: string, chains: number, seed: number, wideKernel: WideKernel, threadsPerChain: number, diagMetric = false) {
  const data = syntheticData(K, seed);
  const model = makeModel(data, parseParameterization(param, data.labels));
  const init = initialPositions(keyFromSeed(seed), chains, K);
  const cpu = await createCpuBackend(model, chains, seed);
  const g = await createWebGpuBackend(model, chains, seed, gpu!, { diagMetric, wideKernel, threadsPerChain });
  await cpu.init(init);
  await g.init(init);
  return { model, cpu, gpu: g };
}

/** c_k: every other group centered, or a spread of partial centeredness. */
function mixedParam(K: number): string {
  return `mixed:${Array.from({ length: Math.ceil(K / 2) }, (_, i) => String(2 * i)).join(',')}`;
}
function partialParam(K: number): string {
  return `partial:${Array.from({ length: K }, (_, k) => ((k % 5) / 4).toString()).join(',')}`;
}

describe.skipIf(!gpu)('wide transition kernel (shaders/hmc_wide.wgsl) vs the float64 CPU backend', () => {
  it('models above the baked bound run the wide kernel, the seed models the baked one', () => {
    expect(isWideModel(9)).toBe(false);
    expect(isWideModel(1)).toBe(false);
    expect(isWideModel(64)).toBe(true);
    expect(isWideModel(10_000)).toBe(true);
  });

  it('threads per chain of the register form: a few blocks each, more on GPUs with few chains', () => {
    expect(wideThreadsPerChain(1000, 4096, true)).toBe(64); // 250 blocks, 4 per thread
    expect(wideThreadsPerChain(10_000, 4096, true)).toBe(256); // capped: 10 blocks per thread
    expect(wideThreadsPerChain(21, 4096, true)).toBe(2);
    expect(wideThreadsPerChain(1000, 1024, false)).toBe(256); // fill the GPU
    expect(wideThreadsPerChain(1000, 2 ** 20, false)).toBe(128); // 2 blocks per thread
  });

  // [K, parameterization, form, threads per chain, diagonal metric]
  const cases: [number, string, WideKernel, number, boolean][] = [
    [21, 'centered', 'registers', 1, false],
    [21, 'noncentered', 'registers', 4, true],
    [21, 'mixed', 'stream', 1, false],
    [130, 'mixed', 'registers', 8, true],
    [130, 'partial', 'stream', 1, false],
    [130, 'partial', 'registers', 32, false],
    [130, 'noncentered', 'stream', 4, true],
    [1000, 'mixed', 'registers', 64, false],
    [1000, 'noncentered', 'stream', 1, false],
  ];
  for (const [K, kind, form, tpc, diag] of cases) {
    it(`K = ${K} × ${kind}, ${form} form, ${tpc} thread(s) per chain${diag ? ', diagonal metric' : ''}: warmup ensemble statistics agree`, async () => {
      const param = kind === 'mixed' ? mixedParam(K) : kind === 'partial' ? partialParam(K) : kind;
      const chains = K >= 1000 ? 256 : 1024;
      const { model, cpu, gpu: g } = await pair(K, param, chains, 40 + K, form, tpc, diag);
      try {
        const invMass = new Float64Array(model.dim).fill(1);
        if (diag) for (let d = 0; d < model.dim; d++) invMass[d] = 0.6 + 0.1 * (d % 7);
        for (let it = 0; it < 2; it++) {
          const params = { iteration: it, stepSize: 0.04, numSteps: 6, invMass };
          cpu.step(params);
          g.step(params);
          expectEnsembleAgreement(await cpu.ensembleStats(), await g.ensembleStats(), model.dim);
        }
      } finally {
        cpu.destroy();
        g.destroy();
      }
    });
  }

  for (const [form, tpc] of [['registers', 4], ['registers', 16], ['stream', 1], ['stream', 8]] as const) {
    it(`K = 64, ${form} form, ${tpc} thread(s) per chain: records the CPU backend's draws (batched transitions, partial chains in the last workgroup)`, async () => {
      const chains = 203;
      const K = 64;
      const { model, cpu, gpu: g } = await pair(K, mixedParam(K), chains, 99, form, tpc);
      const D = model.dim;
      try {
        const invMass = new Float64Array(D).fill(1);
        const draws = 6;
        const retained = 50;
        for (const b of [cpu, g] as Backend[]) {
          b.beginSampling(draws, retained);
          for (let it = 0; it < draws; it++) {
            b.step({ iteration: 1000 + it, stepSize: 0.05, numSteps: 5 + it, invMass });
            b.recordDraw();
          }
        }
        const a = await cpu.collect();
        const r = await g.collect();
        let same = 0;
        for (let c = 0; c < retained; c++) {
          let ok = true;
          for (let i = c * draws * D; i < (c + 1) * draws * D; i++) {
            if (Math.abs(a.draws.positions[i] - r.draws.positions[i]) > 1e-3 * (1 + Math.abs(a.draws.positions[i]))) ok = false;
          }
          if (ok) same++;
        }
        expect(same).toBeGreaterThanOrEqual(retained - 2);
        expect(r.totals.gradientEvals).toBe(a.totals.gradientEvals);
        expect(r.totals.divergences).toBe(a.totals.divergences);
        expect(relClose(r.totals.meanAccept, a.totals.meanAccept, 2e-3)).toBe(true);
        for (let i = 0; i < a.draws.logDensity.length; i++) expect(relClose(r.draws.logDensity[i], a.draws.logDensity[i], 1e-3, 1e-2)).toBe(true);
      } finally {
        cpu.destroy();
        g.destroy();
      }
    });
  }
});

describe.skipIf(!gpu)('a wide model end to end (device adaptation, the stream form) vs the exact posterior', () => {
  // The register form runs the same transitions (tested above against the CPU backend); on
  // SwiftShader it is several times slower, so the end-to-end run uses the adapter's default.
  it('K = 100 × noncentered: no divergences, posterior means within 4 MCSE and sds within 5% of quadrature', async () => {
    const K = 100;
    const data = syntheticData(K, 5);
    const result = await sample({ data, parameterization: 'noncentered', chains: 512, warmup: 600, draws: 300, seed: 3, backend: 'webgpu', gpu: gpu!, wideKernel: 'stream' });
    const { report } = reportRun(result, 3);
    expect(report.sampler.divergences).toBe(0);
    // log tau mixes slowly here on every backend (the float64 CPU backend gives R-hat 1.024
    // at these lengths too); the means and sds are the check.
    for (const [name, p] of Object.entries(report.params)) expect(p.rhat, name).toBeLessThan(1.05);
    checkExact(report, data);
  });

  it('compact group data marks centered groups by the precision sign bit, -0 without data', () => {
    const data = syntheticData(6, 1);
    const model = makeModel({ ...data, y: data.y.slice(0, 1), group: data.group.slice(0, 1), sigma: data.sigma.slice(0, 1) }, parseParameterization('mixed:0,5', data.labels));
    const g = packGroupsCompact(model);
    expect(g.length).toBe(2 * 2 * 4);
    expect(g[4]).toBeLessThan(0); // group 0: centered, with data
    expect(Object.is(g[8 + 4 + 1], -0)).toBe(true); // group 5 (block 1, lane 1): centered, no data
    expect(Object.is(g[5], 0)).toBe(true); // group 1: noncentered, no data
  });
});

const run = promisify(execFile);
const PROBE = new URL('./bench/compile_probe.ts', import.meta.url).pathname;
/** Generous bounds (the machine is shared; the goal, < 2 s, is the bench's). */
const MAX_COMPILE_S = 30;
const MAX_RSS_MB = 2000;

describe.skipIf(!gpu)('compile time and memory stay bounded at any width (issue: K = 64 took over 24 GB)', () => {
  for (const K of [1, 9, 64, 100, 128, 129, 500, 2000]) {
    it(`K = ${K}: compiles, samples a few iterations with finite draws, within ${MAX_COMPILE_S} s and ${MAX_RSS_MB} MB`, async () => {
      // A child process, so that its peak RSS is the compile's and a runaway compile is
      // killed by the timeout (and capped by --max-old-space-size for the JS heap).
      const { stdout } = await run(process.execPath, ['--import', 'tsx', PROBE, String(K), '256', K % 2 ? 'centered' : 'noncentered'], {
        timeout: 120_000,
        env: process.env,
      });
      const r = JSON.parse(stdout.trim().split('\n').pop()!);
      expect(r.K).toBe(K);
      expect(r.finite).toBe(true);
      expect(r.compile_s).toBeLessThan(MAX_COMPILE_S);
      expect(r.max_rss_mb).toBeLessThan(MAX_RSS_MB);
    });
  }
});
