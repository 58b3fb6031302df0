/**
 * The run's summary: an overview of the run (backend, adapter, adaptation, divergences,
 * timing) and a per-parameter table of posterior summaries next to the exact posterior's,
 * with the convergence diagnostics of `src/diagnostics`.
 */
import type { ExactPosterior, PosteriorSummary } from '../src/model/posterior.ts';
import { describeParameterization } from '../src/model/parameterization.ts';
import type { SampleResult } from '../src/sampler/sample.ts';
import { RHAT_THRESHOLD, minFinite, type Summary } from '../src/diagnostics/index.ts';

/** |sample mean - exact mean| / MCSE above this is flagged (a 4-sigma Monte Carlo error). */
export const BIAS_Z_THRESHOLD = 4;

/** The exact posterior summary of a named parameter (`mu`, `tau`, `log_tau`, `theta[label]`). */
export function exactFor(name: string, exact: ExactPosterior): PosteriorSummary | undefined {
  if (name === 'mu') return exact.mu;
  if (name === 'tau') return exact.tau;
  if (name === 'log_tau') return exact.logTau;
  const m = /^theta\[(.*)\]$/.exec(name);
  const k = m ? exact.labels.indexOf(m[1]) : -1;
  return k >= 0 ? exact.theta[k] : undefined;
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string, cls?: string): HTMLElementTagNameMap[K] {
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

/** Seconds the ESS/s figures divide by: warmup plus sampling (compilation excluded). */
export function runSeconds(result: SampleResult): number {
  return result.timing.warmup_s + result.timing.sampling_s;
}

/** Smallest bulk ESS over the parameters, and the parameter it belongs to. */
export function minBulkEss(summary: Summary): { name: string; ess: number } {
  let best = { name: '', ess: Infinity };
  for (const [name, p] of Object.entries(summary.params)) if (p.ess_bulk < best.ess) best = { name, ess: p.ess_bulk };
  return best;
}

/** Key facts of a run, as a definition list. */
export function renderOverview(target: HTMLElement, result: SampleResult, summary: Summary): void {
  const adaptDiv = result.adaptation.divergences.reduce((a, b) => a + b, 0);
  const secs = runSeconds(result);
  const worst = minBulkEss(summary);
  const rows: [string, string][] = [
    ['parameterization', describeParameterization(result.model.c)],
    ['backend', `${result.backend.name} — ${result.backend.adapter}`],
    ['chains', result.retainedChains === result.chains ? `${result.chains}` : `${result.chains} (${result.retainedChains} retained)`],
    ['warmup / draws', `${result.warmup} / ${result.draws}`],
    ['step size', fmt(result.stepSize, 4)],
    ['trajectory length', `${fmt(result.trajectoryLength, 4)} (≈ ${Math.round(result.trajectoryLength / result.stepSize)} leapfrog steps)`],
    ['divergences', `${result.totals.divergences} in sampling (of ${result.chains * result.draws}), ${adaptDiv} in warmup`],
    ['acceptance', fmt(result.totals.meanAccept, 3)],
    ['E-BFMI (min over chains)', summary.ebfmi.length ? fmt(minFinite(summary.ebfmi), 3) : '—'],
    ['time', `${fmt(result.timing.compile_s, 3)} s setup, ${fmt(result.timing.warmup_s, 3)} s warmup, ${fmt(result.timing.sampling_s, 3)} s sampling`],
    ['min bulk ESS', `${fmt(worst.ess, 4)} (${worst.name}), ${fmt(worst.ess / secs, 4)} per second`],
  ];
  const dl = el('dl', undefined, 'overview');
  for (const [k, v] of rows) dl.append(el('dt', k), el('dd', v));
  target.replaceChildren(dl);
  if (summary.warnings.length) {
    const ul = el('ul', undefined, 'warnings');
    for (const w of summary.warnings) ul.append(el('li', w));
    target.append(ul);
  }
}

/** Per-parameter table: sampled vs exact posterior, and convergence diagnostics. */
export function renderSummaryTable(target: HTMLElement, result: SampleResult, summary: Summary, exact: ExactPosterior): void {
  const secs = runSeconds(result);
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
    ['ESS bulk / s', 'bulk ESS per second of warmup and sampling'],
  ];
  for (const [c, title] of cols) {
    const th = el('th', c);
    if (title) th.title = title;
    head.append(th);
  }
  table.append(el('thead'));
  table.tHead!.append(head);
  const body = el('tbody');
  for (const name of result.paramNames) {
    const p = summary.params[name];
    if (!p) continue;
    const ex = exactFor(name, exact);
    const z = ex ? (p.mean - ex.mean) / p.mcse_mean : NaN;
    const tr = el('tr');
    tr.append(el('th', name));
    for (const v of [p.mean, p.sd, p.q5, p.q50, p.q95]) tr.append(el('td', fmt(v)));
    for (const v of ex ? [ex.mean, ex.sd] : [NaN, NaN]) tr.append(el('td', fmt(v), 'exact'));
    tr.append(el('td', fmt(z, 2), Math.abs(z) > BIAS_Z_THRESHOLD ? 'bad' : undefined));
    tr.append(el('td', fmt(p.ess_bulk, 4)), el('td', fmt(p.ess_tail, 4)));
    tr.append(el('td', fmt(p.rhat, 4), p.rhat > RHAT_THRESHOLD ? 'bad' : undefined));
    tr.append(el('td', fmt(p.ess_bulk / secs, 4)));
    if (p.reasons.length) tr.title = p.reasons.join('\n');
    body.append(tr);
  }
  table.append(body);
  const note = el('p', `z = (mean − exact mean) / MCSE: |z| > ${BIAS_Z_THRESHOLD} (red) means the draws disagree with the exact posterior; R-hat above ${RHAT_THRESHOLD} is red too. Hover a row for any estimate's caveats.`, 'note');
  target.replaceChildren(table, note);
}

export interface CompareRow {
  readonly label: string;
  readonly result: SampleResult;
  readonly summary: Summary;
}

/** Side-by-side ESS/s of several runs of the same data (e.g. centered vs non-centered). */
export function renderComparison(target: HTMLElement, rows: readonly CompareRow[]): void {
  const table = el('table', undefined, 'summary compare');
  const head = el('tr');
  head.append(el('th', 'parameter'));
  for (const r of rows) head.append(el('th', `${r.label}: ESS bulk / s`));
  table.append(el('thead'));
  table.tHead!.append(head);
  const body = el('tbody');
  const names = rows[0]?.result.paramNames ?? [];
  const perSec = rows.map((r) => (name: string) => (r.summary.params[name]?.ess_bulk ?? NaN) / runSeconds(r.result));
  for (const name of names) {
    const tr = el('tr');
    tr.append(el('th', name));
    const vals = perSec.map((f) => f(name));
    let best = -Infinity;
    for (const v of vals) if (Number.isFinite(v) && v > best) best = v;
    for (const v of vals) tr.append(el('td', fmt(v, 4), v === best ? 'best' : undefined));
    body.append(tr);
  }
  const facts: [string, (r: CompareRow) => string][] = [
    ['divergences (sampling)', (r) => String(r.result.totals.divergences)],
    ['step size', (r) => fmt(r.result.stepSize, 4)],
    ['trajectory length', (r) => fmt(r.result.trajectoryLength, 4)],
    ['warmup + sampling, s', (r) => fmt(runSeconds(r.result), 3)],
    ['min bulk ESS', (r) => fmt(minBulkEss(r.summary).ess, 4)],
  ];
  for (const [label, f] of facts) {
    const tr = el('tr', undefined, 'fact');
    tr.append(el('th', label));
    for (const r of rows) tr.append(el('td', f(r)));
    body.append(tr);
  }
  table.append(body);
  target.replaceChildren(table);
}
