/**
 * Renders a finished run: overview, trace plots of mu and log tau, the funnel of a chosen
 * group with its divergences, tau's histogram against the exact density, and the summary
 * table against the exact posterior.
 */
import { LOG_TAU, Z0 } from '../src/model/model.ts';
import type { ExactPosterior } from '../src/model/posterior.ts';
import type { SampleResult } from '../src/sampler/sample.ts';
import type { Summary } from '../src/diagnostics/index.ts';
import { byId } from './dom.ts';
import { funnelPlot, tauDensityPlot, tracePlot } from './plots.ts';
import { renderOverview, renderSummaryTable } from './summary_table.ts';

/** Chains drawn in trace plots. */
export const TRACE_CHAINS = 4;
/** Most draws drawn in the funnel plot (a strided subset of all retained draws). */
export const MAX_FUNNEL_POINTS = 20_000;

/** Name of group k's sampled coordinate: theta (centered), eta (non-centered) or z (partial). */
function coordinateName(c: number, label: string): string {
  if (c === 1) return `theta[${label}] (centered)`;
  if (c === 0) return `eta[${label}] (non-centered)`;
  return `z[${label}] (centeredness ${c})`;
}

/** The funnel of group k: its unconstrained coordinate z_k against log tau. */
function drawFunnel(result: SampleResult, k: number): void {
  const { records, model } = result;
  const D = model.dim;
  const n = records.retainedChains * records.draws;
  const stride = Math.max(1, Math.ceil(n / MAX_FUNNEL_POINTS));
  const m = Math.ceil(n / stride);
  const x = new Float64Array(m);
  const y = new Float64Array(m);
  for (let j = 0, i = 0; i < n; i += stride, j++) {
    x[j] = records.positions[i * D + Z0 + k];
    y[j] = records.positions[i * D + LOG_TAU];
  }
  const nd = records.divergentChain.length;
  const divX = new Float64Array(nd);
  const divY = new Float64Array(nd);
  for (let j = 0; j < nd; j++) {
    divX[j] = records.divergentPositions[j * D + Z0 + k];
    divY[j] = records.divergentPositions[j * D + LOG_TAU];
  }
  const label = model.stats.labels[k];
  const name = coordinateName(model.c[k], label);
  const { hiddenDivergences } = funnelPlot(byId('plot-funnel'), `Funnel: ${name.split(' ')[0]} vs log tau`, name, { x, y, divX, divY });
  const shown = stride > 1 ? `1 in ${stride} of ${n} draws shown` : `all ${n} draws shown`;
  byId('funnel-note').textContent =
    `${shown}; ${nd} divergent transitions (retained chains) in red, at the point where each diverged` +
    (hiddenDivergences ? `; ${hiddenDivergences} of them lie far outside this view` : '');
}

export function renderResults(result: SampleResult, summary: Summary, exact: ExactPosterior): void {
  byId('results').hidden = false;
  renderOverview(byId('overview'), result, summary);
  const shown = Math.min(TRACE_CHAINS, result.retainedChains);
  tracePlot(byId('trace-mu'), 'Trace of mu', 'mu', result.params.mu, result.draws, shown);
  tracePlot(byId('trace-logtau'), 'Trace of log tau', 'log tau', result.params.log_tau, result.draws, shown);

  const groups = byId<HTMLSelectElement>('funnel-group');
  const labels = result.model.stats.labels;
  const previous = groups.value;
  groups.replaceChildren();
  labels.forEach((l, k) => groups.append(new Option(`${l}${result.model.stats.n[k] ? ` (${result.model.stats.n[k]} obs)` : ' (no data)'}`, String(k))));
  if (previous !== '' && Number(previous) < labels.length) groups.value = previous;
  groups.onchange = () => drawFunnel(result, Number(groups.value));
  drawFunnel(result, Number(groups.value));

  tauDensityPlot(byId('plot-tau'), result.params.tau, exact.grid.s, exact.grid.density);
  renderSummaryTable(byId('summary'), result, summary, exact);
}
