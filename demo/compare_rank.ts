/**
 * Ranking of runs of the same data and seed under different parameterizations: one row of
 * figures per run, the winner by min bulk-ESS/s among runs with clean diagnostics, and for
 * every other run the reasons it lost, in words.
 *
 * The page's own ranking, kept apart (see hooks.ts) so that the library's comparison
 * module (`funnelweb compare`) can take its place with the same rows.
 */
import { EBFMI_THRESHOLD, RHAT_THRESHOLD } from '../src/diagnostics/index.ts';
import type { ExactPosterior } from '../src/model/posterior.ts';
import type { RunReport } from '../src/sampler/report.ts';

/** Divergent transitions above this share of all sampling transitions make a run unclean (0.1%). */
export const MAX_CLEAN_DIVERGENCE_RATE = 1e-3;
/** |posterior mean − exact mean| / MCSE above this makes a run unclean (a 4-sigma Monte Carlo error). */
export const MAX_CLEAN_BIAS_Z = 4;
/** A loser's step size or leapfrog steps per draw this many times the winner's are named as a cause. */
const NOTABLE_RATIO = 2;

export interface CompareRow {
  /** The parameterization as the sampler took it (`centered`, `mixed:2,6`, `auto`). */
  readonly label: string;
  /** Centeredness per group the run used (auto: what warmup settled on). */
  readonly c: readonly number[];
  readonly essBulkMinPerS: number;
  readonly essBulkMinParam: string;
  readonly essBulkTauPerS: number;
  readonly essTailMinPerS: number;
  readonly divergences: number;
  readonly transitions: number;
  /** Share of the divergent transitions (retained chains) at log tau below the exact posterior median: the funnel's neck. */
  readonly divergencesInNeck: number;
  readonly ebfmiMin: number;
  readonly ebfmiMedian: number;
  readonly stepSize: number;
  readonly trajectoryLength: number;
  readonly meanLeapfrogSteps: number;
  readonly gradientEvalsPerS: number;
  readonly wallSeconds: number;
  readonly maxRhat: number;
  /** Largest |mean − exact mean| / MCSE over the parameters. */
  readonly maxBiasZ: number;
}

/** The exact posterior summary of a named parameter (`mu`, `tau`, `log_tau`, `theta[label]`). */
export function exactMeanOf(name: string, exact: ExactPosterior): number {
  if (name === 'mu') return exact.mu.mean;
  if (name === 'tau') return exact.tau.mean;
  if (name === 'log_tau') return exact.logTau.mean;
  const m = /^theta\[(.*)\]$/.exec(name);
  const k = m ? exact.labels.indexOf(m[1]) : -1;
  return k >= 0 ? exact.theta[k].mean : NaN;
}

/**
 * A run's row. ESS per second is over the run's whole wall time and scaled to all chains
 * when only a prefix was retained, as `reportRun` does (`throughput.ess_scale`).
 */
export function compareRow(label: string, report: RunReport, exact: ExactPosterior, divLogTau: ArrayLike<number>): CompareRow {
  const secs = report.timing.total_s;
  const scale = report.throughput.ess_scale;
  let minName = '';
  let minEss = Infinity;
  let minTail = Infinity;
  let maxRhat = 0;
  let maxZ = 0;
  for (const [name, p] of Object.entries(report.params)) {
    if (p.ess_bulk < minEss) [minEss, minName] = [p.ess_bulk, name];
    minTail = Math.min(minTail, p.ess_tail);
    maxRhat = Math.max(maxRhat, Number.isNaN(p.rhat) ? Infinity : p.rhat);
    const z = Math.abs(p.mean - exactMeanOf(name, exact)) / p.mcse_mean;
    if (Number.isFinite(z)) maxZ = Math.max(maxZ, z);
  }
  let neck = 0;
  for (let i = 0; i < divLogTau.length; i++) if (divLogTau[i] < exact.logTau.q50) neck++;
  const s = report.sampler;
  return {
    label,
    c: report.data.parameterization,
    essBulkMinPerS: (minEss * scale) / secs,
    essBulkMinParam: minName,
    essBulkTauPerS: (report.params.tau.ess_bulk * scale) / secs,
    essTailMinPerS: (minTail * scale) / secs,
    divergences: s.divergences,
    transitions: s.chains * s.draws,
    divergencesInNeck: divLogTau.length ? neck / divLogTau.length : NaN,
    ebfmiMin: s.ebfmi_min,
    ebfmiMedian: s.ebfmi_median,
    stepSize: s.step_size,
    trajectoryLength: s.trajectory_length,
    meanLeapfrogSteps: s.mean_leapfrog_steps,
    gradientEvalsPerS: report.throughput.gradient_evals_per_s,
    wallSeconds: secs,
    maxRhat,
    maxBiasZ: maxZ,
  };
}

/** Why a run's diagnostics are not clean (empty when they are). */
export function diagnosticProblems(r: CompareRow): string[] {
  const out: string[] = [];
  const rate = r.divergences / r.transitions;
  if (rate > MAX_CLEAN_DIVERGENCE_RATE) {
    const neck = Number.isFinite(r.divergencesInNeck) ? `, ${Math.round(100 * r.divergencesInNeck)}% of them below the median of log tau: the funnel's neck` : '';
    out.push(`${r.divergences} divergent transitions (${(100 * rate).toFixed(2)}%)${neck}`);
  }
  if (r.ebfmiMin < EBFMI_THRESHOLD) out.push(`E-BFMI ${r.ebfmiMin.toFixed(2)} < ${EBFMI_THRESHOLD} in some chain: the energy is poorly explored`);
  if (!(r.maxRhat < RHAT_THRESHOLD)) out.push(`R-hat ${Number.isFinite(r.maxRhat) ? r.maxRhat.toFixed(3) : 'NaN'} ≥ ${RHAT_THRESHOLD}: chains disagree`);
  if (r.maxBiasZ > MAX_CLEAN_BIAS_Z) out.push(`a posterior mean ${r.maxBiasZ.toFixed(1)} MCSE from the exact one`);
  return out;
}

export interface Ranking {
  /** Index of the winner in the rows, -1 when no run is clean. */
  readonly winner: number;
  /** Per row: why it lost (empty for the winner). */
  readonly reasons: readonly string[][];
}

/** The winner by min bulk-ESS/s among clean runs, and why each other run lost. */
export function rankRows(rows: readonly CompareRow[]): Ranking {
  const problems = rows.map(diagnosticProblems);
  let winner = -1;
  rows.forEach((r, i) => {
    if (problems[i].length === 0 && (winner < 0 || r.essBulkMinPerS > rows[winner].essBulkMinPerS)) winner = i;
  });
  const reasons = rows.map((r, i) => {
    if (i === winner) return [];
    if (problems[i].length) return r.divergences > 0 && !problems[i][0].includes('divergent') ? [...problems[i], `${r.divergences} divergent transitions`] : problems[i];
    if (winner < 0) return [];
    const w = rows[winner];
    const out = [`${(w.essBulkMinPerS / r.essBulkMinPerS).toFixed(1)}× fewer effective draws per second (min bulk ESS/s)`];
    if (w.stepSize / r.stepSize >= NOTABLE_RATIO) out.push(`a step size ${(w.stepSize / r.stepSize).toFixed(1)}× smaller`);
    if (r.meanLeapfrogSteps / w.meanLeapfrogSteps >= NOTABLE_RATIO) out.push(`${(r.meanLeapfrogSteps / w.meanLeapfrogSteps).toFixed(1)}× more leapfrog steps per draw`);
    return out;
  });
  return { winner, reasons };
}
