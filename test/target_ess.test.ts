/**
 * `--target-ess N` (`src/sampler/target_ess.ts`): sampling ends at the first check whose
 * estimated min bulk ESS reaches N with every R-hat below 1.01.
 * - the check schedule: the first at MIN_TARGET_DRAWS, the next projected from the estimate
 *   within its growth bounds and the cap; the chains a check reads;
 * - the estimates are the run's own estimators: at the draws where a run stopped, over all of
 *   its retained chains, they equal the report's min bulk ESS (times ess_scale) and max R-hat;
 * - on both backends a run with a reachable target stops before the cap at a check, its
 *   exact min bulk ESS reaches the target, and the report says so; an unreachable target runs
 *   to the cap and warns; the result is not `partial`;
 * - where it stops depends on the seed only: the same draws (bitwise) with syncs every
 *   iteration or every half second; and its draws are the first draws of a run without
 *   a target;
 * - bad values are refused with the option named;
 * - without `chains`, the adapter decides: DEFAULT_CHAINS_SOFTWARE on the CPU backend and
 *   software adapters, DEFAULT_CHAINS on GPUs.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_CHAINS, DEFAULT_CHAINS_SOFTWARE, sample, type SampleOptions, type SampleResult } from '../src/sampler/sample.ts';
import { reportRun } from '../src/sampler/report.ts';
import * as targetEss from '../src/sampler/target_ess.ts';
import { CHECK_MAX_GROWTH, CHECK_MIN_GROWTH, CHECK_VALUES, MAX_CHECK_VALUES, MIN_CHECK_CHAINS, MIN_TARGET_DRAWS, RHAT_STOP, TARGET_MARGIN } from '../src/sampler/target_ess.ts';
import { InputError } from '../src/errors.ts';
import { seedData, testGpu } from './gpu_helpers.ts';
import { wideData } from './wide_data.ts';

const gpu = await testGpu();
afterAll(() => gpu?.device.destroy());

const weak = seedData('weak');

function bytes(a: ArrayBufferView): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

/** The report's exact min bulk ESS over all chains (ess_bulk x ess_scale). */
function exactMinEss(r: SampleResult): number {
  const { report } = reportRun(r);
  let min = Infinity;
  for (const n of r.paramNames) min = Math.min(min, report.params[n].ess_bulk);
  return min * report.throughput.ess_scale;
}

describe('target ESS: the check schedule', () => {
  it('checks first at MIN_TARGET_DRAWS (or the cap), then where the estimate projects the target, within the growth bounds', () => {
    expect(targetEss.init(4000, 1000).nextCheck).toBe(MIN_TARGET_DRAWS);
    expect(targetEss.init(4000, 40).nextCheck).toBe(40);
    const s = targetEss.init(4000, 1000);
    const check = (draws: number, essBulkMin: number, rhatMax = 1.001) => ({ draws, chains: 64, essBulkMin, parameter: 'tau', rhatMax, rhatParameter: 'mu' });
    // Projected: 100 draws gave 2,500; 4,000 x 1.1 needs 176.
    expect(targetEss.update(s, check(100, 2500), 1000).nextCheck).toBe(Math.ceil((100 * 4000 * TARGET_MARGIN) / 2500));
    // Nearly there: at least CHECK_MIN_GROWTH more draws.
    expect(targetEss.update(s, check(100, 3999), 1000).nextCheck).toBe(Math.ceil(100 * CHECK_MIN_GROWTH));
    // Far off, or no estimate (NaN counted as 0): at most CHECK_MAX_GROWTH more.
    expect(targetEss.update(s, check(100, 10), 1000).nextCheck).toBe(100 * CHECK_MAX_GROWTH);
    expect(targetEss.update(s, check(100, 0), 1000).nextCheck).toBe(100 * CHECK_MAX_GROWTH);
    // Never past the cap.
    expect(targetEss.update(s, check(100, 10), 150).nextCheck).toBe(150);
    // R-hat - 1 falls as 1/n: 1.015 at 100 draws needs 182 for RHAT_STOP with the margin.
    expect(RHAT_STOP).toBeCloseTo(1 + 0.01 / TARGET_MARGIN, 12);
    expect(targetEss.update(s, check(100, 5000, 1.015), 1000).nextCheck).toBe(Math.ceil((100 * 0.015 * TARGET_MARGIN) / (RHAT_STOP - 1)));
    expect(targetEss.update(s, check(100, 5000, 1.0095), 1000).reached).toBe(false);
    expect(targetEss.update(s, check(100, 5000, 1.015), 1000).reached).toBe(false);
    expect(targetEss.update(s, check(100, 5000, Infinity), 1000).reached).toBe(false);
    const done = targetEss.update(s, check(100, 4000), 1000);
    expect(done.reached).toBe(true);
    expect(done.checks).toHaveLength(1);
    expect(s.checks).toHaveLength(0);
  });

  it('reads as many chains as CHECK_VALUES allows, at least MIN_CHECK_CHAINS (within MAX_CHECK_VALUES), at most those retained', () => {
    expect(targetEss.checkChains(4096, 12, 100)).toBe(Math.floor(CHECK_VALUES / 1200));
    expect(targetEss.checkChains(4096, 1003, 100)).toBe(MIN_CHECK_CHAINS);
    expect(targetEss.checkChains(8, 1003, 100)).toBe(8);
    // Within MAX_CHECK_VALUES: fewer than MIN_CHECK_CHAINS for the widest models, never under 2.
    expect(targetEss.checkChains(4096, 1003, 1000)).toBe(Math.floor(MAX_CHECK_VALUES / 1003000));
    expect(targetEss.checkChains(4096, 10003, 1000)).toBe(Math.floor(MAX_CHECK_VALUES / 10003000));
    expect(targetEss.checkChains(4096, 100003, 1000)).toBe(2);
    expect(targetEss.checkChains(100, 12, 100)).toBe(100);
  });
});

describe('target ESS: cpu backend', () => {
  const base = { data: weak, parameterization: 'noncentered', chains: 48, warmup: 150, draws: 2000, seed: 3, backend: 'cpu' } satisfies SampleOptions;

  it('stops at a check once the estimate reaches the target; the exact figure reaches it too and the estimate is the run\'s estimator', async () => {
    const r = await sample({ ...base, targetEss: 8000 });
    const te = r.targetEss!;
    expect(te.reached).toBe(true);
    expect(r.partial).toBe(false);
    expect(r.requestedDraws).toBe(2000);
    expect(r.draws).toBeLessThan(2000);
    expect(r.draws).toBeGreaterThanOrEqual(MIN_TARGET_DRAWS);
    expect(r.draws).toBe(te.checks.at(-1)!.draws);
    expect(r.numSteps).toHaveLength(r.draws);
    expect(r.records.draws).toBe(r.draws);
    // 48 chains are fewer than CHECK_VALUES allows: each check read them all, so the last
    // check's estimate is the report's own min bulk ESS over the same draws.
    expect(te.checks.at(-1)!.chains).toBe(48);
    const exact = exactMinEss(r);
    expect(te.checks.at(-1)!.essBulkMin).toBeCloseTo(exact, 6);
    const { report: rep } = reportRun(r);
    expect(te.checks.at(-1)!.rhatMax).toBe(Math.max(...r.paramNames.map((n) => rep.params[n].rhat)));
    expect(te.checks.at(-1)!.rhatMax).toBeLessThan(RHAT_STOP);
    expect(exact).toBeGreaterThanOrEqual(8000);
    // Every earlier check fell short, and checks came at increasing draws.
    for (const c of te.checks.slice(0, -1)) expect(c.essBulkMin).toBeLessThan(8000);
    for (let i = 1; i < te.checks.length; i++) expect(te.checks[i].draws).toBeGreaterThan(te.checks[i - 1].draws);
    const { report } = reportRun(r);
    expect(report.sampler.target_ess).toMatchObject({ target: 8000, stopped_early: true, reached: true });
    expect(report.sampler.target_ess!.checks).toHaveLength(te.checks.length);
    expect(report.warnings.join('\n')).not.toMatch(/target-ess/);
    // The draws are the first draws of a run without a target.
    const full = await sample({ ...base, draws: r.draws });
    for (const n of r.paramNames) expect(bytes(r.params[n]).equals(bytes(full.params[n])), n).toBe(true);
    expect(r.totals).toEqual(full.totals);
  });

  it('an unreachable target runs to the cap, not partial, and the report warns', async () => {
    const r = await sample({ ...base, draws: 130, targetEss: 1e9 });
    expect(r.draws).toBe(130);
    expect(r.partial).toBe(false);
    expect(r.targetEss!.reached).toBe(false);
    expect(r.targetEss!.checks.map((c) => c.draws)).toEqual([100]);
    const { report } = reportRun(r);
    expect(report.sampler.target_ess).toMatchObject({ target: 1e9, stopped_early: false, reached: false });
    expect(report.warnings.join('\n')).toMatch(/--target-ess 1000000000 was not reached in 130 draws per chain/);
  });

  it('refuses a target that is not a positive number, naming it', async () => {
    for (const bad of [0, -5, NaN, Infinity]) {
      const err = await sample({ ...base, targetEss: bad }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InputError);
      expect((err as InputError).message).toMatch(/target-ess/);
    }
  });
});

describe.skipIf(!gpu)('target ESS: webgpu backend', () => {
  const base = { data: weak, parameterization: 'noncentered', chains: 1024, warmup: 150, draws: 1000, seed: 5, backend: 'webgpu', gpu: gpu! } satisfies SampleOptions;

  it('stops at the same draw with the same draws whenever the syncs fall, before the cap, with the exact figure over the target', async () => {
    const a = await sample({ ...base, targetEss: 250_000, syncSeconds: Infinity });
    const b = await sample({ ...base, targetEss: 250_000, syncSeconds: 0 });
    expect(a.targetEss!.reached).toBe(true);
    expect(a.draws).toBeLessThan(1000);
    expect(a.draws).toBe(a.targetEss!.checks.at(-1)!.draws);
    expect(b.draws).toBe(a.draws);
    expect(b.targetEss!.checks).toEqual(a.targetEss!.checks);
    for (const n of a.paramNames) expect(bytes(a.params[n]).equals(bytes(b.params[n])), n).toBe(true);
    // (The mean acceptance is a float32 sum on the device: its last bits follow how the
    // transitions were batched, which the syncs decide.)
    expect(b.totals.divergences).toBe(a.totals.divergences);
    expect(b.totals.gradientEvals).toBe(a.totals.gradientEvals);
    expect(b.totals.meanAccept).toBeCloseTo(a.totals.meanAccept, 6);
    // Fewer chains than all were read (CHECK_VALUES), and the exact figure over all of them reaches the target.
    expect(a.targetEss!.checks.at(-1)!.chains).toBeLessThan(1024);
    expect(exactMinEss(a)).toBeGreaterThanOrEqual(250_000);
    // The draws are the first draws of a run without a target (the record chunk read back
    // early at each check changes nothing).
    const full = await sample({ ...base, draws: a.draws });
    for (const n of a.paramNames) expect(bytes(a.params[n]).equals(bytes(full.params[n])), n).toBe(true);
    expect(full.totals.gradientEvals).toBe(a.totals.gradientEvals);
    expect(full.totals.divergences).toBe(a.totals.divergences);
  });
});

describe('default chains by adapter', () => {
  it('the cpu backend runs DEFAULT_CHAINS_SOFTWARE chains when none are asked for, narrow or wide', async () => {
    const r = await sample({ data: weak, warmup: 10, draws: 5, backend: 'cpu' });
    expect(r.chains).toBe(DEFAULT_CHAINS_SOFTWARE);
    const wide = await sample({ data: wideData(40), warmup: 5, draws: 2, backend: 'cpu' });
    expect(wide.chains).toBe(DEFAULT_CHAINS_SOFTWARE);
  });

  it.skipIf(!gpu)('webgpu: DEFAULT_CHAINS_SOFTWARE on a software adapter, DEFAULT_CHAINS on a GPU, whether or not a GPU is handed in', async () => {
    const expected = gpu!.adapter.isFallback ? DEFAULT_CHAINS_SOFTWARE : DEFAULT_CHAINS;
    const own = await sample({ data: weak, warmup: 10, draws: 5, backend: 'webgpu' });
    expect(own.chains).toBe(expected);
    const given = await sample({ data: weak, warmup: 10, draws: 5, backend: 'webgpu', gpu: gpu! });
    expect(given.chains).toBe(expected);
    // The GPU handed in is still usable (the run did not destroy it).
    const again = await sample({ data: weak, chains: 64, warmup: 10, draws: 5, backend: 'webgpu', gpu: gpu! });
    expect(again.draws).toBe(5);
  });
});
