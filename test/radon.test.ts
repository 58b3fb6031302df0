/**
 * Real data with an unknown residual sd: the Minnesota radon measurements of posteriordb
 * (`radon_mn`: 919 houses in 85 counties, log radon; Gelman & Hill 2007), as
 * examples/radon_mn.csv, under posteriordb's `radon_partially_pooled_centered` model:
 *
 *   log_radon_i ~ Normal(alpha[county_i], sigma_y),  alpha_j ~ Normal(mu_alpha, sigma_alpha),
 *   mu_alpha ~ Normal(0, 10),  sigma_alpha ~ HalfNormal(1),  sigma_y ~ HalfNormal(1),
 *
 * which is FunnelWeb's normal likelihood without a sigma column (mu = mu_alpha, tau =
 * sigma_alpha, sigma = sigma_y). Counties have 1 to 116 houses, so some are strongly and some
 * weakly informed: the case for `--param auto`. Every posterior mean (mu, tau, log tau, sigma,
 * log sigma, each county's theta) must be within 4 MCSE of the exact posterior (quadrature over
 * tau and sigma, src/model/posterior.ts), every sd within 5% or 4 MCSE of the sd (`checkExactAll`), and no
 * divergence after warmup.
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

/** posteriordb's radon_partially_pooled_centered priors. */
const PRIORS: Priors = {
  mu: { kind: 'normal', loc: 0, scale: 10 },
  tau: { kind: 'halfnormal', scale: 1 },
  family: { log_sigma: { kind: 'halfnormal', scale: 1 } },
};
const SEED = 85;
/** 4,096 chains on a GPU; 1,024 on SwiftShader (CI's adapter), as test/family_posterior.test.ts. */
const WEBGPU_CHAINS = gpu?.adapter.isFallback === false ? 4096 : 1024;

const data = await loadData(new URL('../examples/radon_mn.csv', import.meta.url).pathname);

describe('radon_mn (posteriordb), sigma unknown, --param auto', () => {
  it('the data: 919 observations in 85 counties, the unknown-sigma family', () => {
    expect(data.likelihood).toBe('normal_sigma');
    expect(data.y.length).toBe(919);
    expect(data.K).toBe(85);
    expect(data.sigma.length).toBe(0);
  });

  for (const backend of ['webgpu', 'cpu'] as const) {
    it.skipIf(backend === 'webgpu' && !gpu)(`${backend}: every mean within 4 MCSE and sd within 5% of the exact posterior, no divergences`, async () => {
      const size = backend === 'webgpu' ? { chains: WEBGPU_CHAINS, draws: 100 } : { chains: 256, warmup: 250, draws: 150 };
      const result = await sample({ data, priors: PRIORS, parameterization: 'auto', ...size, seed: SEED, backend, gpu: gpu ?? undefined });
      const { report } = reportRun(result, SEED);
      expect(report.sampler.divergences, report.warnings.join(' | ')).toBe(0);
      const o = checkExactAll(report, exactPosterior(data, PRIORS));
      const c = result.model.c;
      console.log(
        `radon_mn ${backend}: ${report.sampler.chains} chains, warmup ${report.sampler.warmup}, ${report.timing.total_s.toFixed(1)} s, ` +
          `c: ${c.filter((v) => v === 1).length} centered, ${c.filter((v) => v === 0).length} non-centered, ${c.filter((v) => v > 0 && v < 1).length} partial; ` +
          `${o.names.length} parameters: max |z| ${o.worstZ.toFixed(2)}, max sd deviation ${(100 * o.worstSdRel).toFixed(2)}%`,
      );
    }, 600_000);
  }
});
