/**
 * The comparison logic (src/compare/compare.ts) on hand-made run reports: the table's
 * figures (ESS/s of tau and over parameters, tail ESS/s, divergence rate, R-hat, the
 * deviation from the exact posterior in MCSE units), what makes a run unclean, the winner
 * (highest ESS/s among clean runs only) and each loser's reason in words.
 */
import { describe, expect, it } from 'vitest';
import { compareRow, divergenceLogTauMedian, formatComparison, rankRows, CLEAN_MAX_DIVERGENCE_RATE } from '../src/compare/compare.ts';
import { exactPosterior } from '../src/model/posterior.ts';
import { parseSeedJson } from '../src/io/data.ts';
import type { RunReport } from '../src/sampler/report.ts';
import { readFileSync } from 'node:fs';

const data = parseSeedJson(readFileSync(new URL('../demo/data/unbalanced.json', import.meta.url), 'utf8'));
const exact = exactPosterior(data);

/** A report whose means sit `devMcse` MCSE from the exact ones, with the given sampler figures. */
function report(o: { essBulk?: number; essTau?: number; devMcse?: number; divergences?: number; ebfmiMin?: number; rhat?: number; stepSize?: number; steps?: number; wall?: number; grads?: number } = {}): RunReport {
  const wall = o.wall ?? 10;
  const mk = (name: string, mean: number, essBulk: number) => {
    const mcse = 0.01;
    return [name, { mean: mean + (o.devMcse ?? 0) * mcse, sd: 1, q5: mean - 1, q50: mean, q95: mean + 1, mcse_mean: mcse, mcse_sd: 0.01, ess_bulk: essBulk, ess_tail: essBulk * 1.5, rhat: o.rhat ?? 1.001 }] as const;
  };
  const essBulk = o.essBulk ?? 100_000;
  const params = Object.fromEntries([
    mk('mu', exact.mu.mean, essBulk * 2),
    mk('tau', exact.tau.mean, o.essTau ?? essBulk),
    mk('log_tau', exact.logTau.mean, o.essTau ?? essBulk),
    ...exact.theta.map((t, k) => mk(`theta[${k}]`, t.mean, essBulk * 3)),
  ]);
  const essMin = Math.min(...Object.values(params).map((p) => p.ess_bulk));
  return {
    device: { backend: 'cpu', adapter: 'test' },
    data: { groups: 9, labels: data.labels.slice(), parameterization: new Array(9).fill(0) },
    timing: { compile_s: 0, warmup_s: wall / 2, sampling_s: wall / 2, total_s: wall },
    partial: false,
    sampler: { chains: 1000, retained_chains: 1000, warmup: 1000, draws: 1000, requested_draws: 1000, step_size: o.stepSize ?? 0.2, trajectory_length: 4, mean_leapfrog_steps: o.steps ?? 20, gradient_evals: (o.grads ?? 1e6) * wall, divergences: o.divergences ?? 0, accept_rate: 0.7, ebfmi_min: o.ebfmiMin ?? 0.8, ebfmi_median: 0.9 },
    params,
    throughput: { ess_bulk_min_per_s: essMin / wall, gradient_evals_per_s: o.grads ?? 1e6, ess_scale: 1 },
    warnings: [],
  };
}

describe('compareRow', () => {
  it('computes the ESS/s columns, the divergence rate and the exact-posterior deviation', () => {
    const row = compareRow('x', report({ essBulk: 50_000, essTau: 40_000, devMcse: 2.5, divergences: 10, wall: 4 }), exact);
    expect(row.ess_bulk_min_per_s).toBeCloseTo(40_000 / 4, 9);
    expect(row.ess_bulk_tau_per_s).toBeCloseTo(40_000 / 4, 9);
    expect(row.ess_tail_min_per_s).toBeCloseTo((1.5 * 40_000) / 4, 9);
    expect(row.transitions).toBe(1_000_000);
    expect(row.divergence_rate).toBeCloseTo(1e-5, 12);
    expect(row.exact_deviation_max).toBeCloseTo(2.5, 6);
    expect(row.clean).toBe(true);
  });

  it('flags divergences in the neck, low E-BFMI, unmixed chains and bias, each in words', () => {
    const row = compareRow('c', report({ divergences: 5000, ebfmiMin: 0.1, rhat: 1.05, devMcse: 6 }), exact, -1.5);
    expect(row.clean).toBe(false);
    expect(row.problems).toHaveLength(4);
    expect(row.problems[0]).toMatch(/^5000 divergences \(0\.50% of transitions\) in the funnel's neck \(median log tau where they diverged -1\.50/);
    expect(row.problems[1]).toMatch(/low E-BFMI \(min 0\.10/);
    expect(row.problems[2]).toMatch(/R-hat 1\.050/);
    expect(row.problems[3]).toMatch(/6\.0 MCSE from the exact value/);
  });

  it('lets a divergence rate at the threshold pass and one above it fail', () => {
    const at = compareRow('a', report({ divergences: CLEAN_MAX_DIVERGENCE_RATE * 1e6 }), exact);
    const above = compareRow('b', report({ divergences: CLEAN_MAX_DIVERGENCE_RATE * 1e6 + 1 }), exact);
    expect(at.clean).toBe(true);
    expect(above.clean).toBe(false);
  });

  it('takes the median log tau over divergent positions', () => {
    // D = 3: (mu, log tau, z); log tau values 5, -1, 2 -> median 2.
    expect(divergenceLogTauMedian(new Float64Array([0, 5, 0, 0, -1, 0, 0, 2, 0]), 3, 1)).toBe(2);
    expect(divergenceLogTauMedian(new Float64Array(0), 3, 1)).toBeNaN();
  });
});

describe('rankRows', () => {
  const fast = compareRow('fast-but-divergent', report({ essBulk: 900_000, divergences: 20_000 }), exact, -2);
  const best = compareRow('mixed', report({ essBulk: 300_000, stepSize: 0.3, steps: 12 }), exact);
  const slow = compareRow('noncentered', report({ essBulk: 60_000, stepSize: 0.03, steps: 120 }), exact);

  it('picks the highest ESS/s among clean runs only, and says why each other run lost', () => {
    const cmp = rankRows([fast, best, slow]);
    expect(cmp.winner).toBe(1);
    expect(cmp.verdicts[1]).toMatch(/^winner/);
    expect(cmp.verdicts[0]).toMatch(/^lost: 20000 divergences .* in the funnel's neck/);
    expect(cmp.verdicts[2]).toMatch(/^lost: clean, but 5\.0x lower min bulk-ESS\/s than mixed: a step size 10x smaller \(0\.0300 vs 0\.300\), 120 leapfrog steps per draw vs 12/);
    const text = formatComparison(cmp);
    expect(text).toMatch(/^\* mixed/m);
    expect(text.split('\n')[0]).toMatch(/minESS\/s\s+tauESS\/s\s+tailESS\/s\s+div/);
  });

  it('names ESS per gradient and gradient throughput when no step size or trajectory explains a clean loss', () => {
    const a = compareRow('a', report({ essBulk: 100_000, grads: 2e6 }), exact);
    const b = compareRow('b', report({ essBulk: 80_000, grads: 2e6 }), exact);
    expect(rankRows([a, b]).verdicts[1]).toBe('lost: clean, but 1.3x lower min bulk-ESS/s than a: 4.00 ESS per 1,000 gradient evaluations vs 5.00, 2.00 vs 2.00 M gradient evaluations per second');
  });

  it('ranks by tau when asked, and has no winner when no run is clean', () => {
    const a = compareRow('a', report({ essBulk: 100_000, essTau: 200_000 }), exact); // min 200k (mu, tau)
    const b = compareRow('b', report({ essBulk: 60_000, essTau: 250_000 }), exact); // min 120k (mu), tau 250k
    expect(rankRows([a, b], 'min').winner).toBe(0);
    expect(rankRows([a, b], 'tau').winner).toBe(1);
    const none = rankRows([fast]);
    expect(none.winner).toBe(-1);
    expect(formatComparison(none)).toContain('No run has clean diagnostics');
  });

  it('reports a learned centeredness (auto) and where it settled', () => {
    const r = { ...report(), centeredness: { rule: 'auto', c: [0, 0, 1, 0, 0, 0, 1, 0, 0.5], initial_tau: 3, updates: [], settled_window: 2, settled_iteration: 150 } };
    const row = compareRow('auto', r, exact);
    expect(row.centeredness).toEqual([0, 0, 1, 0, 0, 0, 1, 0, 0.5]);
    expect(row.settled_window).toBe(2);
    expect(formatComparison(rankRows([row]))).toContain('auto: learned c = [0, 0, 1, 0, 0, 0, 1, 0, 0.5], settled after warmup window 2');
    expect(compareRow('fixed', report(), exact).settled_window).toBeUndefined();
  });
});
