/**
 * A run in which no chain moved is a failure, not a result (`reportRun`'s `failed`, and the
 * CLI's exit 1): its draws are the initial values repeated. Chains that moved are never
 * counted as stuck; a few stuck chains among moving ones are named in a warning.
 */
import { describe, expect, it } from 'vitest';
import { sample, type SampleResult } from '../src/sampler/sample.ts';
import { reportRun, stuckChains } from '../src/sampler/report.ts';
import { seedData } from './gpu_helpers.ts';

const run = await sample({ data: seedData('weak'), parameterization: 'noncentered', chains: 16, warmup: 100, draws: 50, seed: 3, backend: 'cpu' });

/** The run with the draws of `chains` chains replaced by their first draw repeated (all columns, lp__ too). */
function freeze(r: SampleResult, chains: number): SampleResult {
  const n = r.draws;
  const params = Object.fromEntries(Object.entries(r.params).map(([k, a]) => [k, a.slice()]));
  const logDensity = r.records.logDensity.slice();
  for (let c = 0; c < chains; c++) {
    for (const a of [...Object.values(params), logDensity]) a.fill(a[c * n], c * n, (c + 1) * n);
  }
  return { ...r, params, records: { ...r.records, logDensity } };
}

describe('stuck chains', () => {
  it('a real run: every chain moved, no failure', () => {
    expect(stuckChains(run)).toBe(0);
    const { report } = reportRun(run, 3);
    expect(report.failed).toBeUndefined();
    expect(report.warnings.join(' ')).not.toMatch(/never moved|no chain moved/);
  });

  it('some chains frozen: counted and warned about, not a failure', () => {
    const r = freeze(run, 3);
    expect(stuckChains(r)).toBe(3);
    const { report } = reportRun(r, 3);
    expect(report.failed).toBeUndefined();
    expect(report.warnings.some((w) => /^3 of 16 retained chains never moved/.test(w))).toBe(true);
  });

  it('every chain frozen: the report says the run failed', () => {
    const r = freeze(run, 16);
    expect(stuckChains(r)).toBe(16);
    const { report } = reportRun(r, 3);
    expect(report.failed).toMatch(/^no chain moved from its start in 50 draws/);
    expect(report.warnings).toContain(report.failed);
  });
});
