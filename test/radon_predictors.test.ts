/**
 * Real data with population-level predictors, as posteriordb has them: the Minnesota radon
 * measurements (`radon_mn.json`, unchanged: 919 houses in 85 counties) under posteriordb's
 * `radon_hierarchical_intercept_centered` / `_noncentered` model,
 *
 *   log_radon_i ~ Normal(alpha[county_i] + log_uppm_i beta_1 + floor_measure_i beta_2, sigma_y),
 *   alpha_j ~ Normal(mu_alpha, sigma_alpha),  mu_alpha ~ Normal(0, 10),  beta ~ Normal(0, 10),
 *   sigma_alpha ~ HalfNormal(1),  sigma_y ~ HalfNormal(1),
 *
 * which is FunnelWeb's normal likelihood without a sigma column and `--predictors
 * log_uppm,floor_measure --columns y=log_radon,group=county_idx`. log_uppm is the county's
 * uranium (constant within a county), floor_measure varies within counties (the within-group
 * cross products of `predictors.ts`). Every posterior mean (mu, tau, log tau, sigma, log sigma,
 * both coefficients, each county's theta) must be within 4 MCSE of the exact posterior
 * (quadrature over tau and sigma with (mu, beta) Gaussian, src/model/posterior_predictors.ts),
 * every sd within 5% or 4 MCSE of the sd (`checkExactAll`), and no divergence after warmup.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { loadData } from '../src/io/data.ts';
import { exactPosterior } from '../src/model/posterior.ts';
import { sample } from '../src/sampler/sample.ts';
import { reportRun } from '../src/sampler/report.ts';
import { checkExactAll } from './exactness.ts';
import type { Priors } from '../src/model/priors.ts';
import { testGpu } from './gpu_helpers.ts';

const gpu = await testGpu();
afterAll(() => gpu?.device.destroy());

const PRIORS: Priors = {
  mu: { kind: 'normal', loc: 0, scale: 10 },
  tau: { kind: 'halfnormal', scale: 1 },
  family: { log_sigma: { kind: 'halfnormal', scale: 1 } },
  beta: { kind: 'normal', loc: 0, scale: 10 },
};
const SEED = 919;
/**
 * 4,096 chains on a GPU; 256 on SwiftShader (CI's adapter, two cores), where predictors run the
 * wide register kernel (docs/predictors.md).
 */
const WEBGPU_CHAINS = gpu?.adapter.isFallback === false ? 4096 : 256;

const data = await loadData(new URL('./reference/data/posteriordb/radon_mn.json', import.meta.url).pathname, {
  predictors: ['log_uppm', 'floor_measure'],
  columns: { y: 'log_radon', group: 'county_idx' },
});

describe('radon_mn (posteriordb) with its two predictors, sigma unknown, --param auto', () => {
  it('the data: 919 observations in 85 counties, two predictors, the unknown-sigma family', () => {
    expect(data.likelihood).toBe('normal_sigma');
    expect(data.y.length).toBe(919);
    expect(data.K).toBe(85);
    expect(data.predictors?.names).toEqual(['log_uppm', 'floor_measure']);
  });

  it.skipIf(!gpu)('webgpu: every mean within 4 MCSE and sd within 5% of the exact posterior, no divergences', async () => {
    const result = await sample({ data, priors: PRIORS, parameterization: 'auto', chains: WEBGPU_CHAINS, draws: 100, seed: SEED, backend: 'webgpu', gpu: gpu ?? undefined });
    const { report } = reportRun(result, SEED);
    expect(report.sampler.divergences, report.warnings.join(' | ')).toBe(0);
    const exact = exactPosterior(data, PRIORS);
    const o = checkExactAll(report, exact);
    expect(o.names).toContain('beta[floor_measure]');
    const c = result.model.c;
    console.log(
      `radon_mn + predictors webgpu: ${report.sampler.chains} chains, warmup ${report.sampler.warmup}, ${report.timing.total_s.toFixed(1)} s, ` +
        `c: ${c.filter((v) => v === 1).length} centered, ${c.filter((v) => v === 0).length} non-centered, ${c.filter((v) => v > 0 && v < 1).length} partial; ` +
        `${o.names.length} parameters: max |z| ${o.worstZ.toFixed(2)}, max sd deviation ${(100 * o.worstSdRel).toFixed(2)}%; ` +
        `beta ${exact.beta!.map((b) => `${b.name} ${b.mean.toFixed(3)} (${b.sd.toFixed(3)})`).join(', ')}`,
    );
  }, 900_000);
});
