/**
 * The study's conclusions (SEED.md) checked against our figures: each is stated in the
 * study's words when our runs support it, and otherwise reported as not reproduced, with the
 * figures that decide it. Pure: decided from comparison rows, never hard-coded.
 */
import type { CompareRow } from '../compare/compare.ts';
import { EBFMI_THRESHOLD } from '../diagnostics/energy.ts';
import type { PosteriorSummary } from '../model/posterior.ts';

/** One conclusion: the study's claim, whether our figures support it, and the figures. */
export interface Conclusion {
  readonly dataSet: string;
  /** The study's conclusion, in its words (SEED.md). */
  readonly study: string;
  /** The part of it our figures support (with our ratios where the study gave one). */
  readonly claim: string;
  readonly supported: boolean;
  readonly evidence: string;
}

/** What a case contributes: its comparison row, its 5% quantiles of tau and log tau, and tau's exact posterior. */
export interface CaseOutcome {
  readonly row: CompareRow;
  readonly tauQ5: number;
  readonly logTauQ5: number;
  /** Per non-centered group, the share of z_k's variance fixed by (mu, tau) (`zRidgeShare`). */
  readonly zRidge: readonly (number | null)[];
  readonly exactTau: PosteriorSummary;
}

/**
 * Median `zRidgeShare` at or above which a non-centered run shows an inverted funnel (the
 * strong data give 0.993-0.996 per group, the weak data 0.000).
 */
export const INVERTED_FUNNEL_SHARE = 0.9;

function medianOf(xs: readonly (number | null)[]): number {
  const s = xs.filter((x): x is number => x !== null && Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : 0.5 * (s[m - 1] + s[m]);
}

const f0 = (x: number) => Math.round(x).toLocaleString('en-US');
const times = (x: number) => (x >= 10 ? x.toFixed(0) : x.toFixed(1));
const divText = (r: CompareRow) => `${r.divergences.toLocaleString('en-US')} divergences in ${r.transitions.toLocaleString('en-US')} transitions`;

/**
 * Weak data (sigma = 10): "weakly informed groups want the non-centered form (the centered
 * one shows a funnel: divergences in its neck, low E-BFMI, poor exploration of small tau)".
 */
export function weakConclusion(centered: CaseOutcome, noncentered: CaseOutcome): Conclusion {
  const c = centered.row;
  const n = noncentered.row;
  const wins = n.clean && (!c.clean || n.ess_bulk_min_per_s > c.ess_bulk_min_per_s);
  const signs: string[] = [];
  // In the neck: the divergences happened, at the median, below the run's own 5% quantile of log tau.
  const neck = c.divergences > 0 && c.divergence_log_tau_median < centered.logTauQ5;
  if (neck) signs.push('divergences in its neck');
  if (c.ebfmi_min < EBFMI_THRESHOLD) signs.push('low E-BFMI');
  // Small tau poorly explored: the centered run's 5% quantile of tau lies above the exact one.
  const smallTau = centered.tauQ5 > centered.exactTau.q05 * 1.1;
  if (smallTau) signs.push('poor exploration of small tau');
  const claim = `weakly informed groups want the non-centered form${signs.length ? ` (the centered one shows a funnel: ${signs.join(', ')})` : ''}`;
  const evidence =
    `centered: ${divText(c)}${Number.isFinite(c.divergence_log_tau_median) ? ` (median log tau where they diverged ${c.divergence_log_tau_median.toFixed(2)}; the run's log tau: 5% quantile ${centered.logTauQ5.toFixed(2)}, median ${c.log_tau_median.toFixed(2)})` : ''}, ` +
    `E-BFMI min ${c.ebfmi_min.toFixed(2)}, tau 5% quantile ${centered.tauQ5.toFixed(2)} (exact ${centered.exactTau.q05.toFixed(2)}), min bulk-ESS/s ${f0(c.ess_bulk_min_per_s)}; ` +
    `non-centered: ${divText(n)}, E-BFMI min ${n.ebfmi_min.toFixed(2)}, min bulk-ESS/s ${f0(n.ess_bulk_min_per_s)}${n.clean ? ', clean' : `; problems: ${n.problems.join('; ')}`}.`;
  return { dataSet: 'weak', study: 'weakly informed groups want the non-centered form (the centered one shows a funnel: divergences in its neck, low E-BFMI, poor exploration of small tau)', claim, supported: wins && signs.length > 0, evidence };
}

/**
 * Strong data (sigma = 0.1): "strongly informed groups want the centered form (the
 * non-centered one shows an inverted funnel and needs a ~20x smaller step size, so it is far slower)".
 */
export function strongConclusion(centered: CaseOutcome, noncentered: CaseOutcome): Conclusion {
  const c = centered.row;
  const n = noncentered.row;
  const wins = c.clean && (!n.clean || c.ess_bulk_min_per_s > n.ess_bulk_min_per_s);
  const stepRatio = c.step_size / n.step_size;
  const slower = c.ess_bulk_min_per_s / n.ess_bulk_min_per_s;
  const ridge = medianOf(noncentered.zRidge);
  const inverted = ridge >= INVERTED_FUNNEL_SHARE;
  const claim = `strongly informed groups want the centered form (the non-centered one ${inverted ? 'shows an inverted funnel and ' : ''}needs a ~${times(stepRatio)}x smaller step size (study: ~20x), so it is ${times(slower)}x slower in min bulk-ESS/s)`;
  const evidence =
    `non-centered: ${(100 * ridge).toFixed(1)}% of z_k's variance fixed by (mu, tau), z_k = (theta_k - mu)/tau with theta_k pinned (median over groups), ` +
    `step size centered ${c.step_size.toPrecision(3)} vs non-centered ${n.step_size.toPrecision(3)} (${times(stepRatio)}x), ` +
    `leapfrog steps per draw ${c.mean_leapfrog_steps.toFixed(0)} vs ${n.mean_leapfrog_steps.toFixed(0)}, ` +
    `min bulk-ESS/s ${f0(c.ess_bulk_min_per_s)} vs ${f0(n.ess_bulk_min_per_s)}${c.clean ? '' : `; centered problems: ${c.problems.join('; ')}`}.`;
  return { dataSet: 'strong', study: 'strongly informed groups want the centered form (the non-centered one shows an inverted funnel and needs a ~20x smaller step size, so it is far slower)', claim, supported: wins && stepRatio >= 2, evidence };
}

/**
 * Unbalanced data: "with unbalanced data, centering only the strongly informed groups
 * (2 and 6) beats both pure forms" — judged by tau's bulk-ESS/s and the minimum over
 * parameters, with clean diagnostics.
 */
export function unbalancedConclusion(centered: CaseOutcome, noncentered: CaseOutcome, mixed: CaseOutcome): Conclusion {
  const m = mixed.row;
  const pure = [centered.row, noncentered.row];
  const beatsTau = pure.every((p) => m.ess_bulk_tau_per_s > p.ess_bulk_tau_per_s);
  const beatsMin = pure.every((p) => m.ess_bulk_min_per_s > p.ess_bulk_min_per_s);
  const claim = 'with unbalanced data, centering only the strongly informed groups (2 and 6) beats both pure forms';
  const evidence =
    `tau bulk-ESS/s mixed:2,6 ${f0(m.ess_bulk_tau_per_s)}, centered ${f0(centered.row.ess_bulk_tau_per_s)}, non-centered ${f0(noncentered.row.ess_bulk_tau_per_s)}; ` +
    `min bulk-ESS/s ${f0(m.ess_bulk_min_per_s)}, ${f0(centered.row.ess_bulk_min_per_s)}, ${f0(noncentered.row.ess_bulk_min_per_s)}; ` +
    `mixed: ${divText(m)}, step size ${m.step_size.toPrecision(3)} (centered ${centered.row.step_size.toPrecision(3)}, non-centered ${noncentered.row.step_size.toPrecision(3)})` +
    `${m.clean ? ', clean diagnostics' : `; problems: ${m.problems.join('; ')}`}.`;
  return { dataSet: 'unbalanced', study: claim, claim, supported: m.clean && beatsTau && beatsMin, evidence };
}
