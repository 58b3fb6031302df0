/**
 * Outside truth for every likelihood family: for each registered family (`FAMILIES`) and
 * each reference posterior test/reference/<family.id>_*.json (long Stan runs,
 * test/reference/make_references.R with the models under test/reference/stan/), `sample()`
 * with `--param auto` must give every posterior mean (mu, tau, log tau, each theta) within
 * MEAN_Z_TOL combined MCSE of Stan's, every sd within SD_REL_TOL (or SD_MCSE_TOL combined
 * MCSE of the sd, test/reference/references.ts), and no divergence after warmup: 4,096 chains on a hardware WebGPU adapter (1,024 on SwiftShader, see WEBGPU_CHAINS)
 * with the default warmup, and 256 float64 chains on the CPU backend (a shorter fixed
 * warmup). A family added to the registry with its reference files is checked here with no
 * edit to this file. (Families with an exact posterior, `hasExactPosterior`, are checked against quadrature instead: the normal family in
 * sampler_posterior.test.ts and sampler_auto.test.ts.)
 *
 * Divergences. The runs use the sampler's default target acceptance and must have none after
 * warmup. The surgical data (posterior tau from ~0.1 to ~0.9, with positive density at 0) is
 * the case: the rule used to center the well-informed hospitals (D, H, K, L: se ~0.15-0.2)
 * from the median tau (~0.4), and where a chain visited tau ~0.1 or below those groups formed
 * a funnel neck (the CPU backend diverged in ~1e-3 of transitions at the default target); the
 * rule now balances each group's scale over the range of tau the run visits (to tau's 1e-5
 * quantile, adaptation/centeredness.ts), which gives them c ~0.25-0.37 and no divergences.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { FAMILIES } from '../src/model/families/index.ts';
import { sample } from '../src/sampler/sample.ts';
import { hasExactPosterior } from '../src/model/posterior.ts';
import { reportRun } from '../src/sampler/report.ts';
import { testGpu } from './gpu_helpers.ts';
import { checkReference, referencesOf } from './reference/references.ts';

const gpu = await testGpu();
afterAll(() => gpu?.device.destroy());

const SEED = 20240611;
/**
 * 4,096 chains on a GPU; on SwiftShader (a CPU Vulkan driver, CI's adapter) 1,024: there the
 * step of the surgical funnel (~0.011 in float32, ~74 leapfrog steps) makes 4,096 chains
 * take ~140 s per data set on two cores.
 */
const WEBGPU_CHAINS = gpu?.adapter.isFallback === false ? 4096 : 1024;
const WEBGPU = { chains: WEBGPU_CHAINS, draws: 100 } as const;
const CPU = { chains: 256, warmup: 250, draws: 150 } as const;

const lines: string[] = [];
afterAll(() => {
  if (lines.length) console.log(`posteriors vs Stan:\n  ${lines.join('\n  ')}`);
});

const cases = FAMILIES.flatMap((family) => referencesOf(family).map((ref) => ({ family: family.id, ref })));

describe.each(cases)('$ref.name (Stan $ref.stan_version, $ref.draws draws)', ({ ref }) => {
  const run = async (backend: 'webgpu' | 'cpu') => {
    const size = backend === 'webgpu' ? WEBGPU : CPU;
    const result = await sample({ data: ref.data, parameterization: 'auto', ...size, seed: SEED, backend, gpu: gpu ?? undefined });
    const { report } = reportRun(result, SEED);
    const s = report.sampler;
    expect(s.divergences, report.warnings.join(' | ')).toBe(0);
    const o = checkReference(report, ref);
    const c = result.model.c;
    lines.push(
      `${backend} ${ref.name}: ${s.chains} chains, warmup ${s.warmup}, ${s.draws} draws, ${report.timing.total_s.toFixed(1)} s, ${s.divergences} divergences; ` +
        `c: ${c.filter((v) => v === 1).length} centered, ${c.filter((v) => v === 0).length} non-centered, ${c.filter((v) => v > 0 && v < 1).length} partial; ` +
        `max |z| of means ${o.worstZ.toFixed(2)}, max sd deviation ${(100 * o.worstSdRel).toFixed(2)}% (${o.worstSdZ.toFixed(2)} MCSE)`,
    );
  };
  it.skipIf(!gpu)(`webgpu, ${WEBGPU.chains} chains, auto: means and sds as Stan's`, () => run('webgpu'));
  it(`cpu, ${CPU.chains} chains, auto: means and sds as Stan's`, () => run('cpu'));
});

it('every registered family without an exact posterior (quadrature) has a Stan reference posterior', () => {
  for (const f of FAMILIES) if (!hasExactPosterior(f)) expect(referencesOf(f).length, f.id).toBeGreaterThan(0);
});
