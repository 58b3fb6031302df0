/**
 * The seed study's pieces that need no sampler: the data sets load from the package's own
 * path with their true values; every case has the study's published figures; and the
 * conclusions are decided from the figures — stated in the study's words when the figures
 * support them, reported as not reproduced when they do not.
 */
import { makeLayout } from '../src/model/layout.ts';
import { describe, expect, it } from 'vitest';
import { loadSeedData, PUBLISHED, SEED_DATA_SETS, STUDY_CASES, caseKey, seedDataUrl } from '../src/study/seed.ts';
import { strongConclusion, unbalancedConclusion, weakConclusion, type CaseOutcome } from '../src/study/conclusions.ts';
import type { CompareRow } from '../src/compare/compare.ts';
import { zRidgeShare } from '../src/study/figures.ts';

const EXACT_TAU = { mean: 4.4, sd: 2.9, q05: 0.4, q50: 3.9, q95: 9.5 };

function outcome(o: Partial<CompareRow> & { tauQ5?: number; logTauQ5?: number; zRidge?: (number | null)[] } = {}): CaseOutcome {
  const row: CompareRow = {
    name: 'x', centeredness: [], ess_bulk_min_per_s: 50_000, ess_bulk_tau_per_s: 50_000, ess_tail_min_per_s: 50_000, divergences: 0, transitions: 1e6,
    divergence_rate: 0, divergence_log_tau_median: NaN, log_tau_median: 1.3, ebfmi_min: 0.8, ebfmi_median: 0.9, step_size: 0.2, trajectory_length: 5,
    mean_leapfrog_steps: 25, gradient_evals_per_s: 1e7, wall_s: 10, rhat_max: 1.001, rhat_max_param: 'mu', exact_deviation_max: 1, exact_deviation_param: 'mu',
    problems: [], clean: true, ...o,
  };
  return { row, tauQ5: o.tauQ5 ?? 0.41, logTauQ5: o.logTauQ5 ?? -0.9, zRidge: o.zRidge ?? new Array(9).fill(0), exactTau: EXACT_TAU };
}

describe('seed data and published figures', () => {
  it('loads each data set from the package with its true values', async () => {
    for (const name of SEED_DATA_SETS) {
      expect(seedDataUrl(name).href).toMatch(new RegExp(`/demo/data/${name}\\.json$`));
      const sd = await loadSeedData(name);
      expect(sd.truth.mu).toBe(4.5);
      expect(sd.truth.tau).toBe(3.5);
      expect(sd.truth.theta).toHaveLength(9);
      expect(sd.data.K).toBe(9);
      expect(sd.sigma).toBe({ weak: 10, strong: 0.1, unbalanced: 10 }[name]);
    }
    expect((await loadSeedData('unbalanced')).data.y.length).toBe(10 + 5 + 1000 + 10 + 1 + 5 + 100 + 10 + 5);
  });

  it('has the study figures for each of its seven cases', () => {
    expect(STUDY_CASES.map(caseKey)).toEqual(Object.keys(PUBLISHED));
    expect(PUBLISHED['weak/centered'].divergences).toBe(706);
    expect(PUBLISHED['strong/noncentered'].stepSize).toEqual([0.016, 0.021]);
  });
});

describe('conclusions', () => {
  it('weak: the funnel signs that the centered run shows are named; a faster clean centered run refutes it', () => {
    const c = outcome({ divergences: 500, divergence_log_tau_median: -3.6, ebfmi_min: 0.05, ess_bulk_min_per_s: 250, clean: false, problems: ['low E-BFMI'], tauQ5: 0.6 });
    const n = outcome({ ess_bulk_min_per_s: 60_000 });
    const yes = weakConclusion(c, n);
    expect(yes.supported).toBe(true);
    expect(yes.claim).toBe('weakly informed groups want the non-centered form (the centered one shows a funnel: divergences in its neck, low E-BFMI, poor exploration of small tau)');
    // Divergences above the 5% quantile of log tau are not "in the neck"; a tau quantile near the exact one is not poor exploration.
    const part = weakConclusion(outcome({ divergences: 5, divergence_log_tau_median: 0.5, ebfmi_min: 0.1, ess_bulk_min_per_s: 250, clean: false }), n);
    expect(part.claim).toBe('weakly informed groups want the non-centered form (the centered one shows a funnel: low E-BFMI)');
    const no = weakConclusion(outcome({ ess_bulk_min_per_s: 90_000 }), n);
    expect(no.supported).toBe(false);
    expect(no.study).toContain('divergences in its neck');
  });

  it('strong: our step-size ratio is stated; a faster non-centered run refutes it', () => {
    const c = outcome({ step_size: 0.1, ess_bulk_min_per_s: 70_000 });
    const yes = strongConclusion(c, outcome({ step_size: 0.008, ess_bulk_min_per_s: 11_000, zRidge: [0.99, 0.99, 0.98, 0.99, 0.99, 0.99, 0.99, 0.99, 0.99] }));
    expect(yes.supported).toBe(true);
    expect(yes.claim).toContain('the non-centered one shows an inverted funnel and needs a ~13x smaller step size (study: ~20x), so it is 6.4x slower'); // 0.1/0.008 = 12.5
    // Without the z_k spread of an inverted funnel, the claim leaves it out.
    expect(strongConclusion(c, outcome({ step_size: 0.008, ess_bulk_min_per_s: 11_000 })).claim).not.toContain('inverted funnel');
    expect(strongConclusion(c, outcome({ step_size: 0.008, ess_bulk_min_per_s: 80_000 })).supported).toBe(false);
  });

  it('unbalanced: mixed must beat both pure forms in tau and min bulk-ESS/s with clean diagnostics', () => {
    const c = outcome({ ess_bulk_min_per_s: 60_000, ess_bulk_tau_per_s: 60_000 });
    const n = outcome({ ess_bulk_min_per_s: 25_000, ess_bulk_tau_per_s: 25_000 });
    expect(unbalancedConclusion(c, n, outcome({ ess_bulk_min_per_s: 80_000, ess_bulk_tau_per_s: 80_000 })).supported).toBe(true);
    expect(unbalancedConclusion(c, n, outcome({ ess_bulk_min_per_s: 80_000, ess_bulk_tau_per_s: 55_000 })).supported).toBe(false);
    expect(unbalancedConclusion(c, n, outcome({ ess_bulk_min_per_s: 80_000, ess_bulk_tau_per_s: 80_000, clean: false, problems: ['x'] })).supported).toBe(false);
  });
});

describe('zRidgeShare', () => {
  it('is 1 when z = (theta - mu)/tau with theta fixed, about 0 when z is independent of (mu, tau)', () => {
    // D = 5: (mu, log tau, z0, z1, z2); c = [0, 0, 1]: group 2 centered -> null.
    const n = 2000;
    const pos = new Float64Array(n * 5);
    const u = (i: number, j: number) => {
      const v = Math.sin(i * 12.9898 + j * 78.233) * 43758.5453;
      return v - Math.floor(v) - 0.5;
    };
    for (let i = 0; i < n; i++) {
      const mu = 4 + 2 * u(i, 1);
      const s = 1 + 0.5 * u(i, 2);
      pos[i * 5] = mu;
      pos[i * 5 + 1] = s;
      pos[i * 5 + 2] = (7 - mu) / Math.exp(s); // theta pinned at 7: the inverted funnel's ridge
      pos[i * 5 + 3] = u(i, 3); // independent of (mu, tau)
    }
    const r = zRidgeShare(pos, n, makeLayout(3), [0, 0, 1]);
    expect(r[0]!).toBeGreaterThan(0.999999);
    expect(r[1]!).toBeLessThan(0.01);
    expect(r[2]).toBeNull();
  });
});
