/**
 * The run's summary: an overview of the run (backend, adapter, adaptation, divergences,
 * timing) and a per-parameter table of posterior summaries next to the exact posterior's,
 * with the convergence diagnostics of `src/diagnostics`. Every parameter the run reports has
 * a row, a family's globals (sigma, log_sigma) included, each with its exact values where the
 * exact posterior has them.
 */
import type { ExactPosterior, PosteriorSummary } from '../src/model/posterior.ts';
import { describeParameterization } from '../src/model/parameterization.ts';
import { RHAT_THRESHOLD } from '../src/diagnostics/index.ts';
import { exactFor, type CompareRow } from '../src/compare/compare.ts';
import type { RunReport } from '../src/sampler/report.ts';
import type { RunDone } from './protocol.ts';
import { exactGlobal } from './figures.ts';

/** |sample mean - exact mean| / MCSE above this is flagged (a 4-sigma Monte Carlo error). */
export const BIAS_Z_THRESHOLD = 4;

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string, cls?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

/** `digits` significant digits (all integer digits kept); exponent form below 1e-3 and from 1e7. */
export function fmt(v: number, digits = 3): string {
  if (!Number.isFinite(v)) return Number.isNaN(v) ? '—' : v > 0 ? '∞' : '-∞';
  const a = Math.abs(v);
  if (a === 0) return '0';
  if (a < 1e-3 || a >= 1e7) return v.toExponential(digits - 1);
  const intDigits = Math.floor(Math.log10(a)) + 1;
  return v.toFixed(Math.max(0, digits - intDigits));
}

/**
 * The exact posterior of a reported parameter by its name: the hierarchy's (mu, tau,
 * log_tau, theta[label]: `exactFor`), else a family global's (`sigma`, `log_sigma`:
 * `exactGlobal`); undefined where the exact posterior has none.
 */
export function exactOfParam(name: string, exact: ExactPosterior): PosteriorSummary | undefined {
  return exactFor(name, exact) ?? exactGlobal(exact, name);
}

/** The parameter with the smallest bulk ESS. */
export function minEssParam(report: RunReport): string {
  let best = ['', Infinity] as [string, number];
  for (const [name, p] of Object.entries(report.params)) if (p.ess_bulk < best[1]) best = [name, p.ess_bulk];
  return best[0];
}

/** The parameterization, and the centeredness it came to where it was learned (auto). */
function learnedNote(row: CompareRow): string {
  const used = describeParameterization(Float64Array.from(row.centeredness));
  if (used === row.name) return row.name;
  const settled = row.settled_window === undefined ? '' : row.settled_window === 0 ? ', kept from the start' : `, settled after warmup window ${row.settled_window}`;
  return `${row.name} → c = ${used.replace(/^partial:/, '').split(',').map((v) => (+v).toFixed(2)).join(', ')}${settled}`;
}

/** Key facts of a run, as a definition list. */
export function renderOverview(target: HTMLElement, run: RunDone): void {
  const { report, row } = run;
  const s = report.sampler;
  const adaptDiv = run.adaptation.divergences.reduce((a, b) => a + b, 0);
  const rows: [string, string][] = [
    ['parameterization', learnedNote(row)],
    ['backend', `${report.device.backend} — ${report.device.adapter}`],
    ['chains', s.retained_chains === s.chains ? `${s.chains}` : `${s.chains} (${s.retained_chains} retained for draws and plots)`],
    ['warmup / draws', `${s.warmup} / ${s.draws}`],
    ['step size', fmt(s.step_size, 4)],
    ['trajectory length', `${fmt(s.trajectory_length, 4)} (${fmt(s.mean_leapfrog_steps, 3)} leapfrog steps per draw on average)`],
    ['divergences', `${s.divergences} in sampling (of ${s.chains * s.draws} transitions), ${adaptDiv} in warmup`],
    ['acceptance', fmt(s.accept_rate, 3)],
    ['E-BFMI', `min ${fmt(s.ebfmi_min, 3)}, median ${fmt(s.ebfmi_median, 3)} over chains`],
    ['time', `${fmt(report.timing.compile_s, 3)} s setup, ${fmt(report.timing.warmup_s, 3)} s warmup, ${fmt(report.timing.sampling_s, 3)} s sampling; diagnostics ${fmt(run.summarySeconds, 2)} s`],
    ['min bulk ESS / s', `${fmt(row.ess_bulk_min_per_s, 4)} (${minEssParam(report)}); tau ${fmt(row.ess_bulk_tau_per_s, 4)}; per second of wall time`],
  ];
  const dl = el('dl', undefined, 'overview');
  for (const [k, v] of rows) dl.append(el('dt', k), el('dd', v));
  target.replaceChildren(dl);
  if (report.warnings.length) {
    const ul = el('ul', undefined, 'warnings');
    for (const w of report.warnings) ul.append(el('li', w));
    target.append(ul);
  }
}

/** Per-parameter table: sampled vs exact posterior, and convergence diagnostics. */
export function renderSummaryTable(target: HTMLElement, run: RunDone): void {
  const { summary, exact, report } = run;
  const secs = report.timing.total_s;
  const scale = report.throughput.ess_scale;
  const table = el('table', undefined, 'summary');
  const head = el('tr');
  const cols: [string, string?][] = [
    ['parameter'],
    ['mean'],
    ['sd'],
    ['5%'],
    ['50%'],
    ['95%'],
    ['exact mean', 'posterior mean by quadrature (src/model/posterior.ts)'],
    ['exact sd'],
    ['z', `(mean − exact mean) / MCSE of the mean; |z| > ${BIAS_Z_THRESHOLD} is flagged`],
    ['ESS bulk'],
    ['ESS tail'],
    ['R-hat', `rank-normalized split R-hat; above ${RHAT_THRESHOLD} is flagged`],
    ['ESS bulk / s', 'bulk ESS per second of wall time (scaled to all chains when only some were retained)'],
  ];
  for (const [c, title] of cols) {
    const th = el('th', c);
    if (title) th.title = title;
    head.append(th);
  }
  table.append(el('thead'));
  table.tHead!.append(head);
  const body = el('tbody');
  for (const name of run.paramNames) {
    const p = summary.params[name];
    if (!p) continue;
    const ex = exact ? exactOfParam(name, exact) : undefined;
    const z = ex ? (p.mean - ex.mean) / p.mcse_mean : NaN;
    const tr = el('tr');
    tr.append(el('th', name));
    for (const v of [p.mean, p.sd, p.q5, p.q50, p.q95]) tr.append(el('td', fmt(v)));
    for (const v of ex ? [ex.mean, ex.sd] : [NaN, NaN]) {
      const td = el('td', ex ? fmt(v) : '', 'exact');
      if (!exact) td.title = run.noExact ?? 'no exact posterior';
      tr.append(td);
    }
    tr.append(el('td', exact ? fmt(z, 2) : '', Math.abs(z) > BIAS_Z_THRESHOLD ? 'bad' : undefined));
    tr.append(el('td', fmt(p.ess_bulk, 4)), el('td', fmt(p.ess_tail, 4)));
    tr.append(el('td', fmt(p.rhat, 4), p.rhat > RHAT_THRESHOLD ? 'bad' : undefined));
    tr.append(el('td', fmt((p.ess_bulk * scale) / secs, 4)));
    if (p.reasons.length) tr.title = p.reasons.join('\n');
    body.append(tr);
  }
  table.append(body);
  const exactNote = exact
    ? `z = (mean − exact mean) / MCSE: |z| > ${BIAS_Z_THRESHOLD} (red) means the draws disagree with the exact posterior; R-hat above ${RHAT_THRESHOLD} is red too.`
    : `The exact columns are empty: ${run.noExact ?? 'no exact posterior'} (quadrature exists for the normal likelihoods only). R-hat above ${RHAT_THRESHOLD} is red.`;
  const note = el('p', `${exactNote} Hover a row for any estimate's caveats.`, 'note');
  target.replaceChildren(table, note);
}
