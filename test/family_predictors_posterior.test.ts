/**
 * Outside truth for the likelihoods without an exact posterior, with population-level
 * predictors: for each family and each reference test/reference/<family>_predictors_*.json
 * (long Stan runs, test/reference/make_references.R with test/reference/stan/*_predictors.stan:
 * posteriordb's seeds and GLMM_Poisson data with their predictors, and synthetic sets whose
 * predictors vary within groups, the observation path), `sample()` with `--param auto` must give
 * every posterior mean (mu, tau, log tau, each theta, each beta) within MEAN_Z_TOL combined MCSE
 * of Stan's, every sd within SD_REL_TOL (or SD_MCSE_TOL combined MCSE of the sd), and no
 * divergence after warmup, on WebGPU with the default warmup. (The normal likelihoods with
 * predictors have an exact posterior: test/posterior_predictors.test.ts and
 * test/radon_predictors.test.ts.)
 */
import { afterAll, describe, expect, it } from 'vitest';
import { FAMILIES } from '../src/model/families/index.ts';
import { sample } from '../src/sampler/sample.ts';
import { reportRun } from '../src/sampler/report.ts';
import { testGpu } from './gpu_helpers.ts';
import { checkReference, referencesOf } from './reference/references.ts';

const gpu = await testGpu();
afterAll(() => gpu?.device.destroy());

const SEED = 20261207;
/** 4,096 chains on a GPU; 256 on SwiftShader (CI's adapter, two cores), where predictors run the wide register kernel (docs/predictors.md). */
const WEBGPU_CHAINS = gpu?.adapter.isFallback === false ? 4096 : 256;

const lines: string[] = [];
afterAll(() => {
  if (lines.length) console.log(`posteriors with predictors vs Stan:\n  ${lines.join('\n  ')}`);
});

const cases = FAMILIES.flatMap((family) => referencesOf(family, { predictors: true }).map((ref) => ({ family: family.id, ref })));

it('binomial and Poisson have reference posteriors with predictors, constant and varying within groups', () => {
  for (const id of ['binomial', 'poisson']) {
    const refs = cases.filter((c) => c.family === id).map((c) => c.ref);
    expect(refs.length, id).toBeGreaterThanOrEqual(2);
    expect(refs.some((r) => r.data.predictors !== undefined && r.data.y.length > r.data.K), `${id}: a set with several observations per group`).toBe(true);
  }
});

describe.each(cases)('$ref.name (Stan $ref.stan_version, $ref.draws draws)', ({ ref }) => {
  it.skipIf(!gpu)(`webgpu, ${WEBGPU_CHAINS} chains, auto, default warmup: means and sds as Stan's, no divergences`, async () => {
    const priors = ref.priors ?? undefined;
    const result = await sample({ data: ref.data, ...(priors && { priors }), parameterization: 'auto', chains: WEBGPU_CHAINS, draws: 100, seed: SEED, backend: 'webgpu', gpu: gpu ?? undefined });
    const { report } = reportRun(result, SEED);
    const s = report.sampler;
    expect(s.divergences, report.warnings.join(' | ')).toBe(0);
    const o = checkReference(report, ref);
    const c = result.model.c;
    lines.push(
      `webgpu ${ref.name}: K ${ref.data.K}, N ${ref.data.y.length}, ${result.model.predictors?.path} path; ${s.chains} chains, warmup ${s.warmup}, ${report.timing.total_s.toFixed(1)} s; ` +
        `c: ${c.filter((v) => v === 1).length} centered, ${c.filter((v) => v === 0).length} non-centered, ${c.filter((v) => v > 0 && v < 1).length} partial; ` +
        `max |z| of means ${o.worstZ.toFixed(2)}, max sd deviation ${(100 * o.worstSdRel).toFixed(2)}% (${o.worstSdZ.toFixed(2)} MCSE)`,
    );
  }, 900_000);
});
