/**
 * Compare: runs of several parameterizations on the same data and seed, side by side —
 * min bulk-ESS/s and tau's bulk-ESS/s bars with the winner marked, a table of the
 * diagnostics (divergences, E-BFMI, step size, trajectory length, ...) with the reasons
 * each other run lost, a row of funnel panels per run, and an overlay of two runs' draws in
 * theta_k against log tau.
 */
import { describeParameterization } from '../src/model/parameterization.ts';
import type { Comparison, CompareRow } from '../src/compare/compare.ts';
import { coordinateName } from './figures.ts';
import { barChart, canvasChart, DIVERGENT_COLOR, drawDots, nextTask, PALETTE, short, unmountWithin } from './plots.ts';
import type { RunDone } from './protocol.ts';
import { decimationNote, DRAW_COLOR, DRAW_COLOR_B, drawFunnels, funnelRange } from './run_view.ts';
import { el, fmt, minEssParam } from './summary_table.ts';

const WIN_COLOR = '#009E73';
const CLEAN_COLOR = '#0072B2';
const UNCLEAN_COLOR = '#bbbbbb';

/** A finished run in a comparison. */
export interface ComparedRun {
  readonly label: string;
  readonly run: RunDone;
}

/** The bars of one figure: the winner green, clean runs blue, runs with bad diagnostics grey. */
function bars(runs: readonly ComparedRun[], ranking: Comparison, value: (r: CompareRow) => number) {
  return runs.map(({ run }, i) => {
    const bad = !run.row.clean;
    const v = value(run.row);
    return { value: v, color: i === ranking.winner ? WIN_COLOR : bad ? UNCLEAN_COLOR : CLEAN_COLOR, text: `${short(v)}${i === ranking.winner ? ' ★' : ''}` };
  });
}

/** Bars and the verdict; the table of figures. */
export function drawCompareSummary(byId: (id: string) => HTMLElement, runs: readonly ComparedRun[], ranking: Comparison): void {
  const categories = runs.map((r) => r.label);
  const legend = [
    { label: 'winner (clean diagnostics, most ESS/s)', color: WIN_COLOR },
    { label: 'clean', color: CLEAN_COLOR },
    { label: 'bad diagnostics', color: UNCLEAN_COLOR },
  ];
  barChart(byId('cmp-ess-min'), { title: 'min bulk ESS / s over parameters', xLabel: 'parameterization', yLabel: 'ESS / s', categories, groups: [bars(runs, ranking, (r) => r.ess_bulk_min_per_s)], legend });
  barChart(byId('cmp-ess-tau'), { title: 'bulk ESS / s of tau', xLabel: 'parameterization', yLabel: 'ESS / s', categories, groups: [bars(runs, ranking, (r) => r.ess_bulk_tau_per_s)], legend });

  const verdict = byId('compare-verdict');
  const w = ranking.winner;
  const head = el('p');
  head.append(
    w >= 0
      ? Object.assign(el('strong', `Winner: ${runs[w].label}`), {})
      : el('strong', 'No parameterization sampled cleanly: every run had divergences, low E-BFMI, high R-hat or a biased mean.'),
  );
  if (w >= 0) head.append(` — ${short(runs[w].run.row.ess_bulk_min_per_s)} min bulk ESS/s (${minEssParam(runs[w].run.report)}), clean diagnostics.`);
  const ul = el('ul');
  runs.forEach((r, i) => {
    if (i === w) return;
    const li = el('li');
    li.append(el('strong', r.label), `: ${ranking.verdicts[i].replace(/^lost: /, '')}.`);
    ul.append(li);
  });
  verdict.replaceChildren(head, ul);

  const table = el('table', undefined, 'summary compare');
  const pureOnly = runs.every((r) => r.label === 'centered' || r.label === 'noncentered');
  const cols: [string, (r: CompareRow) => string, string?][] = [
    ['parameterization', (r) => r.name],
    ...(pureOnly ? [] : [['c (groups centered)', (r: CompareRow) => describeCentered(r)] as [string, (r: CompareRow) => string]]),
    ['min bulk ESS/s', (r) => fmt(r.ess_bulk_min_per_s, 4)],
    ['tau bulk ESS/s', (r) => fmt(r.ess_bulk_tau_per_s, 4)],
    ['min tail ESS/s', (r) => fmt(r.ess_tail_min_per_s, 4)],
    ['divergences', (r) => `${r.divergences} (${fmt(100 * r.divergence_rate, 2)}%)`],
    ['E-BFMI min / median', (r) => `${fmt(r.ebfmi_min, 2)} / ${fmt(r.ebfmi_median, 2)}`],
    ['step size', (r) => fmt(r.step_size, 3)],
    ['trajectory length', (r) => fmt(r.trajectory_length, 3)],
    ['leapfrog steps / draw', (r) => fmt(r.mean_leapfrog_steps, 3)],
    ['gradient evals/s', (r) => short(r.gradient_evals_per_s)],
    ['wall time, s', (r) => fmt(r.wall_s, 3)],
    ['max R-hat', (r) => fmt(r.rhat_max, 4)],
    ['max |z| vs exact', (r) => (r.exact_deviation_param ? `${fmt(r.exact_deviation_max, 2)} (${r.exact_deviation_param})` : ''), '|posterior mean − exact mean| / MCSE, largest over the parameters'],
  ];
  const noExact = runs.find((r) => r.run.exact === null)?.run.noExact;
  const tr = el('tr');
  for (const [name, , title] of cols) {
    const th = el('th', name);
    if (title) th.title = title;
    tr.append(th);
  }
  table.append(el('thead'));
  table.tHead!.append(tr);
  const body = el('tbody');
  runs.forEach(({ run }, i) => {
    const row = el('tr', undefined, i === w ? 'winner' : 'loser');
    cols.forEach(([, f], j) => {
      const cell = el(j === 0 ? 'th' : 'td', f(run.row));
      if (j === cols.length - 1 && run.exact === null) cell.title = run.noExact ?? 'no exact posterior';
      row.append(cell);
    });
    body.append(row);
  });
  table.append(body);
  byId('compare-table').replaceChildren(table);
  // Where there is no exact posterior, the deviation column stays empty, with the reason.
  if (noExact !== undefined) byId('compare-table').append(el('p', `max |z| vs exact is empty: ${noExact} (quadrature exists for the normal likelihoods only); runs are judged on divergences, E-BFMI and R-hat.`, 'note'));
}

function describeCentered(r: CompareRow): string {
  const c = r.centeredness;
  if (c.every((v) => v === 0 || v === 1)) {
    const on = c.flatMap((v, k) => (v === 1 ? [k] : []));
    return on.length === c.length ? 'all' : on.length === 0 ? 'none' : on.join(',');
  }
  return describeParameterization(Float64Array.from(c)).replace('partial:', '');
}

/** Appends one run's row of funnel panels to the compare section (called as each run finishes). */
export async function appendCompareFunnels(box: HTMLElement, label: string, run: RunDone): Promise<void> {
  const section = el('div', undefined, 'compare-run');
  section.dataset.param = label;
  const f = run.figures.funnel;
  section.append(el('h4', `${label} — ${run.row.divergences} divergent transitions in sampling, step size ${fmt(run.row.step_size, 3)}; ${decimationNote(f)} per panel`));
  const panels = el('div', undefined, 'multiples');
  section.append(panels);
  box.append(section);
  await drawFunnels(panels, f, run.figures.labels, run.figures.c);
}

export function clearCompare(byId: (id: string) => HTMLElement): void {
  for (const id of ['compare-funnels', 'compare-overlay', 'cmp-ess-min', 'cmp-ess-tau']) unmountWithin(byId(id));
  byId('compare-funnels').replaceChildren();
  byId('compare-table').replaceChildren();
  byId('compare-verdict').replaceChildren();
}

/** Overlay of two runs' draws of theta_k against log tau for one group, each with its divergences. */
export async function drawOverlay(el_: HTMLElement, a: ComparedRun, b: ComparedRun, k: number): Promise<void> {
  await nextTask();
  const fa = a.run.figures.funnel;
  const fb = b.run.figures.funnel;
  const label = a.run.figures.labels[k];
  const yr = funnelRange([...fa.logTau, ...fb.logTau], [...fa.divLogTau, ...fb.divLogTau]);
  const xr = funnelRange([...fa.theta[k], ...fb.theta[k]], [...fa.divTheta[k], ...fb.divTheta[k]]);
  canvasChart(el_, {
    title: `Overlay: theta[${label}] against log tau, ${a.label} (blue) and ${b.label} (orange); ${decimationNote(fa)} each`,
    xLabel: `theta[${label}]`,
    yLabel: 'log tau',
    xRange: xr,
    yRange: yr,
    height: 340,
    legend: [
      { label: `${a.label} draws`, color: PALETTE[0] },
      { label: `${b.label} draws`, color: PALETTE[1] },
      { label: `${a.label} divergent (${fa.divTotal})`, color: DIVERGENT_COLOR },
      { label: `${b.label} divergent (${fb.divTotal})`, color: '#7f0000' },
    ],
    draw: (u) => {
      drawDots(u, { label: 'a', x: fa.theta[k], y: fa.logTau, color: DRAW_COLOR, radius: 1.5 });
      drawDots(u, { label: 'b', x: fb.theta[k], y: fb.logTau, color: DRAW_COLOR_B, radius: 1.5 });
      drawDots(u, { label: 'a div', x: fa.divTheta[k], y: fa.divLogTau, color: DIVERGENT_COLOR, radius: 2.4 });
      drawDots(u, { label: 'b div', x: fb.divTheta[k], y: fb.divLogTau, color: '#7f0000', radius: 2.4 });
    },
  });
}

export { coordinateName };
