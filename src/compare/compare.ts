/**
 * Comparing parameterizations of one data set: one row per run, the winner by effective
 * samples per second among runs with clean diagnostics, and for each losing run the reasons
 * in words. Pure (no I/O, no Node APIs), so the CLI (`funnelweb compare`), the study report
 * (`funnelweb reproduce`) and the demo page share it.
 */
import { EBFMI_THRESHOLD } from '../diagnostics/energy.ts';
import { clip } from '../errors.ts';
import { RHAT_THRESHOLD } from '../diagnostics/summary.ts';
import type { ExactPosterior, PosteriorSummary } from '../model/posterior.ts';
import type { RunReport } from '../sampler/report.ts';

/**
 * Largest divergence rate (divergent transitions / all sampling transitions) a clean run may
 * have. Stan warns at any divergence; with thousands of chains a handful of isolated ones in
 * millions of transitions is routine (the study's own PyMC3 runs had 6-7 in 40,000 for its
 * preferred forms, 1.5e-4), while a funnel's neck gives rates of 1e-3 and more (the study's
 * weak x centered: 706 in 40,000, 1.8e-2). Whether rare divergences biased anything is checked
 * separately, against the exact posterior (`MAX_EXACT_DEVIATION`).
 */
export const CLEAN_MAX_DIVERGENCE_RATE = 1e-3;
/**
 * Largest |sampled mean − exact mean| / MCSE of the mean over all parameters for a clean run.
 * With about a dozen parameters, a 4-MCSE deviation has probability ~1e-3 under correct sampling.
 */
export const MAX_EXACT_DEVIATION = 4;
/** A step size (or ESS/s) at least this many times smaller than the winner's is named as a cause. */
export const NOTABLE_RATIO = 1.5;

/** Which ESS/s decides the winner. */
export type RankBy = 'min' | 'tau';

/** One run of a comparison (what `funnelweb compare --json` writes). */
export interface CompareRow {
  readonly name: string;
  /** Bulk ESS per second of wall time, minimum over parameters, and of tau; tail ESS/s, minimum over parameters. */
  readonly ess_bulk_min_per_s: number;
  readonly ess_bulk_tau_per_s: number;
  readonly ess_tail_min_per_s: number;
  readonly divergences: number;
  /** Sampling transitions over all chains (chains x draws) and the divergence rate among them. */
  readonly transitions: number;
  readonly divergence_rate: number;
  /** Median log tau at the positions where the divergent transitions diverged (NaN if none or unknown). */
  readonly divergence_log_tau_median: number;
  /** The run's posterior median of log tau. */
  readonly log_tau_median: number;
  readonly ebfmi_min: number;
  readonly ebfmi_median: number;
  readonly step_size: number;
  readonly trajectory_length: number;
  readonly mean_leapfrog_steps: number;
  readonly gradient_evals_per_s: number;
  readonly wall_s: number;
  readonly rhat_max: number;
  readonly rhat_max_param: string;
  /**
   * Largest |mean − exact mean| / mcse_mean over parameters, and which parameter; NaN and ''
   * where the model has no exact posterior (likelihoods not normal in theta: `exactPosterior`).
   */
  readonly exact_deviation_max: number;
  readonly exact_deviation_param: string;
  /** The centeredness c_k used (for a learned one, `auto`: its final value). */
  readonly centeredness: readonly number[];
  /** For a learned centeredness: the warmup window after which c last changed (0: the start was kept). */
  readonly settled_window?: number;
  /** Problems with the diagnostics, in words (empty: clean). */
  readonly problems: readonly string[];
  readonly clean: boolean;
}

/** A ranked comparison: rows in input order, the winner's index (-1 if no run is clean) and a verdict per row. */
export interface Comparison {
  readonly rows: readonly CompareRow[];
  readonly rankBy: RankBy;
  readonly winner: number;
  /** "winner: ..." or "lost: <reasons>" for each row. */
  readonly verdicts: readonly string[];
}

/**
 * The exact posterior summary of a reported parameter name (mu, tau, log_tau, theta[label], a
 * family global under its coordinate's and its constrained name, e.g. log_sigma and sigma, and
 * a population-level coefficient beta[name]), if it has one.
 */
export function exactFor(name: string, exact: ExactPosterior): PosteriorSummary | undefined {
  if (name === 'mu') return exact.mu;
  if (name === 'tau') return exact.tau;
  if (name === 'log_tau') return exact.logTau;
  const global = exact.globals !== undefined && Object.hasOwn(exact.globals, name) ? exact.globals[name] : undefined;
  if (global) return global;
  const m = /^theta\[(.*)\]$/.exec(name);
  if (m) {
    const k = exact.labels.indexOf(m[1]);
    return k >= 0 ? exact.theta[k] : undefined;
  }
  const b = /^beta\[(.*)\]$/.exec(name);
  if (b) return exact.beta?.find((e) => e.name === b[1]);
  return undefined;
}

function median(xs: ArrayLike<number>): number {
  const s = Array.from(xs).filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : 0.5 * (s[m - 1] + s[m]);
}

/** Median of log tau (coordinate `logTauIndex` of D) over divergent positions `[i * D + d]`. */
export function divergenceLogTauMedian(positions: ArrayLike<number>, D: number, logTauIndex: number): number {
  const n = Math.floor(positions.length / D);
  const v = new Float64Array(n);
  for (let i = 0; i < n; i++) v[i] = positions[i * D + logTauIndex];
  return median(v);
}

const pct = (r: number) => `${(100 * r).toPrecision(2)}%`;

/**
 * One comparison row from a run's report (`reportRun`) and the exact posterior of the same
 * data and priors, where one exists (`exactPosterior`: the normal likelihood, sigma known or
 * not); without one, the deviation columns are NaN and a run is judged on its diagnostics
 * alone.
 * `divergenceLogTau` is `divergenceLogTauMedian` of the run's recorded divergent positions
 * (NaN when unknown).
 */
export function compareRow(name: string, report: RunReport, exact: ExactPosterior | undefined, divergenceLogTau = NaN): CompareRow {
  const s = report.sampler;
  const wall = report.timing.total_s;
  const scale = report.throughput.ess_scale;
  const names = Object.keys(report.params);
  const perSec = (ess: number) => (ess * scale) / wall;
  let tailMin = Infinity;
  let rhatMax = -Infinity;
  let rhatParam = '';
  let devMax = -Infinity;
  let devParam = '';
  for (const n of names) {
    const p = report.params[n];
    tailMin = Math.min(tailMin, p.ess_tail);
    const rhat = Number.isFinite(p.rhat) ? p.rhat : Infinity;
    if (rhat > rhatMax) [rhatMax, rhatParam] = [rhat, n];
    const e = exact && exactFor(n, exact);
    if (e) {
      const dev = Math.abs(p.mean - e.mean) / p.mcse_mean;
      const d = Number.isFinite(dev) ? dev : Infinity;
      if (d > devMax) [devMax, devParam] = [d, n];
    }
  }
  const transitions = s.chains * s.draws;
  const rate = s.divergences / transitions;
  const logTauMedian = report.params.log_tau?.q50 ?? NaN;
  const problems: string[] = [];
  if (rate > CLEAN_MAX_DIVERGENCE_RATE) {
    const where =
      Number.isFinite(divergenceLogTau) && Number.isFinite(logTauMedian) && divergenceLogTau < logTauMedian
        ? ` in the funnel's neck (median log tau where they diverged ${divergenceLogTau.toFixed(2)}, posterior median ${logTauMedian.toFixed(2)})`
        : Number.isFinite(divergenceLogTau)
          ? ` (median log tau where they diverged ${divergenceLogTau.toFixed(2)}, posterior median ${logTauMedian.toFixed(2)})`
          : '';
    problems.push(`${s.divergences} divergences (${pct(rate)} of transitions)${where}`);
  }
  if (!(s.ebfmi_min >= EBFMI_THRESHOLD)) problems.push(`low E-BFMI (min ${s.ebfmi_min.toFixed(2)} < ${EBFMI_THRESHOLD}): the energy is poorly explored`);
  if (!(rhatMax < RHAT_THRESHOLD)) problems.push(`chains not mixed (R-hat ${rhatMax.toFixed(3)} for ${clip(rhatParam, 40)})`);
  if (exact && !(devMax <= MAX_EXACT_DEVIATION)) problems.push(`posterior mean of ${clip(devParam, 40)} is ${devMax.toFixed(1)} MCSE from the exact value`);
  // A learned centeredness (issue 13) is reported beside the data, where the sampler provides it.
  const learned = (report as { centeredness?: { c: number[]; settled_window: number } }).centeredness;
  return {
    name,
    centeredness: learned?.c ?? report.data.parameterization,
    ...(learned ? { settled_window: learned.settled_window } : {}),
    ess_bulk_min_per_s: report.throughput.ess_bulk_min_per_s,
    ess_bulk_tau_per_s: perSec(report.params.tau?.ess_bulk ?? NaN),
    ess_tail_min_per_s: perSec(tailMin),
    divergences: s.divergences,
    transitions,
    divergence_rate: rate,
    divergence_log_tau_median: divergenceLogTau,
    log_tau_median: logTauMedian,
    ebfmi_min: s.ebfmi_min,
    ebfmi_median: s.ebfmi_median,
    step_size: s.step_size,
    trajectory_length: s.trajectory_length,
    mean_leapfrog_steps: s.mean_leapfrog_steps,
    gradient_evals_per_s: report.throughput.gradient_evals_per_s,
    wall_s: wall,
    rhat_max: rhatMax,
    rhat_max_param: rhatParam,
    exact_deviation_max: exact ? devMax : NaN,
    exact_deviation_param: exact ? devParam : '',
    problems,
    clean: problems.length === 0,
  };
}

/** The ESS/s a comparison ranks by. */
export function rankValue(row: CompareRow, rankBy: RankBy): number {
  return rankBy === 'tau' ? row.ess_bulk_tau_per_s : row.ess_bulk_min_per_s;
}

const times = (r: number) => (r >= 10 ? r.toFixed(0) : r.toFixed(1));

/** Why a clean run lost to the winner, in words (step size, work per draw, throughput, mixing). */
function whyBehind(row: CompareRow, win: CompareRow, rankBy: RankBy): string {
  const label = rankBy === 'tau' ? 'tau bulk-ESS/s' : 'min bulk-ESS/s';
  const ratio = rankValue(win, rankBy) / rankValue(row, rankBy);
  const causes: string[] = [];
  const stepRatio = win.step_size / row.step_size;
  if (stepRatio >= NOTABLE_RATIO) {
    causes.push(`a step size ${times(stepRatio)}x smaller (${row.step_size.toPrecision(3)} vs ${win.step_size.toPrecision(3)}), ${row.mean_leapfrog_steps.toFixed(0)} leapfrog steps per draw vs ${win.mean_leapfrog_steps.toFixed(0)}`);
  } else if (row.mean_leapfrog_steps / win.mean_leapfrog_steps >= NOTABLE_RATIO) {
    causes.push(`${row.mean_leapfrog_steps.toFixed(0)} leapfrog steps per draw vs ${win.mean_leapfrog_steps.toFixed(0)}`);
  }
  // ESS per gradient evaluation: how much each unit of work buys.
  const essPerGrad = (r: CompareRow) => rankValue(r, rankBy) / r.gradient_evals_per_s;
  if (causes.length === 0 && essPerGrad(win) / essPerGrad(row) >= NOTABLE_RATIO) causes.push('draws more autocorrelated for the same work');
  if (win.gradient_evals_per_s / row.gradient_evals_per_s >= NOTABLE_RATIO) causes.push(`${times(win.gradient_evals_per_s / row.gradient_evals_per_s)}x fewer gradient evaluations per second`);
  if (causes.length === 0) {
    const per1k = (r: CompareRow) => (1000 * essPerGrad(r)).toPrecision(3);
    causes.push(`${per1k(row)} ESS per 1,000 gradient evaluations vs ${per1k(win)}, ${(row.gradient_evals_per_s / 1e6).toFixed(2)} vs ${(win.gradient_evals_per_s / 1e6).toFixed(2)} M gradient evaluations per second`);
  }
  return `clean, but ${times(ratio)}x lower ${label} than ${win.name}: ${causes.join('; ')}`;
}

/**
 * Ranks comparison rows: the winner has the highest ESS/s (`rankBy`) among clean rows;
 * every other row says why it lost — its diagnostic problems, or, when clean, how far behind
 * it is and why (a smaller step size, more leapfrog steps per draw, more autocorrelation).
 */
export function rankRows(rows: readonly CompareRow[], rankBy: RankBy = 'min'): Comparison {
  let winner = -1;
  rows.forEach((r, i) => {
    if (r.clean && Number.isFinite(rankValue(r, rankBy)) && (winner < 0 || rankValue(r, rankBy) > rankValue(rows[winner], rankBy))) winner = i;
  });
  const label = rankBy === 'tau' ? 'tau bulk-ESS/s' : 'min bulk-ESS/s';
  const verdicts = rows.map((r, i) => {
    if (i === winner) return `winner: highest ${label} with clean diagnostics`;
    if (!r.clean) return `lost: ${r.problems.join('; ')}`;
    return `lost: ${whyBehind(r, rows[winner], rankBy)}`;
  });
  return { rows, rankBy, winner, verdicts };
}

/** Columns of the printed comparison table: header and cell formatter. */
const COLUMNS: readonly [string, (r: CompareRow) => string][] = [
  ['param', (r) => r.name],
  ['minESS/s', (r) => r.ess_bulk_min_per_s.toFixed(0)],
  ['tauESS/s', (r) => r.ess_bulk_tau_per_s.toFixed(0)],
  ['tailESS/s', (r) => r.ess_tail_min_per_s.toFixed(0)],
  ['div', (r) => String(r.divergences)],
  ['div%', (r) => (100 * r.divergence_rate).toPrecision(2)],
  ['EBFMI min/med', (r) => `${r.ebfmi_min.toFixed(2)}/${r.ebfmi_median.toFixed(2)}`],
  ['step', (r) => r.step_size.toPrecision(3)],
  ['T', (r) => r.trajectory_length.toPrecision(3)],
  ['L/draw', (r) => r.mean_leapfrog_steps.toFixed(1)],
  ['Mgrad/s', (r) => (r.gradient_evals_per_s / 1e6).toFixed(2)],
  ['wall s', (r) => r.wall_s.toFixed(1)],
  ['max R-hat', (r) => r.rhat_max.toFixed(3)],
  ['max |dev|/MCSE', (r) => (Number.isNaN(r.exact_deviation_max) && r.exact_deviation_param === '' ? '' : `${r.exact_deviation_max.toFixed(1)} ${r.exact_deviation_param}`)],
];

/** The comparison as a plain-text table (winner marked with *), followed by each row's verdict. */
export function formatComparison(cmp: Comparison): string {
  const cells = cmp.rows.map((r, i) => COLUMNS.map(([, f], j) => (j === 0 ? (i === cmp.winner ? '* ' : '  ') + f(r) : f(r))));
  const head = COLUMNS.map(([h], j) => (j === 0 ? '  ' + h : h));
  const widths = head.map((h, j) => Math.max(h.length, ...cells.map((row) => row[j].length)));
  const line = (row: string[]) => row.map((c, j) => (j === 0 ? c.padEnd(widths[j]) : c.padStart(widths[j]))).join('  ');
  const out = [line(head), ...cells.map(line), ''];
  cmp.rows.forEach((r, i) => out.push(`${i === cmp.winner ? '*' : ' '} ${r.name}: ${cmp.verdicts[i]}`));
  if (cmp.winner < 0) out.push('No run has clean diagnostics: no winner.');
  for (const r of cmp.rows) {
    if (r.settled_window === undefined) continue;
    const c = r.centeredness.map((v) => Number(v.toFixed(2)));
    out.push(`${r.name}: learned c = [${c.length <= 20 ? c.join(', ') : `${c.filter((v) => v === 1).length} centered, ${c.filter((v) => v === 0).length} non-centered, ${c.filter((v) => v > 0 && v < 1).length} partial of ${c.length}`}], settled ${r.settled_window === 0 ? 'at the start' : `after warmup window ${r.settled_window}`}`);
  }
  return out.join('\n') + '\n';
}
