/**
 * The figures of a likelihood family's own global parameters (`familyGlobals`: the normal
 * likelihood's unknown sigma, sampled as log sigma), drawn from the worker's `GlobalData`:
 * per global, the trace of its sampled coordinate for the first chains and its natural-scale
 * draws as a histogram against its prior, the exact posterior's 5%, 50% and 95% points and
 * the true value behind simulated data. A family without globals draws nothing here (the
 * section stays hidden). Each chart is drawn in its own task (`nextTask`).
 */
import type { GlobalData, RunFigures } from './figures.ts';
import { canvasChart, drawCurve, drawHistogram, EXACT_COLOR, lineChart, nextTask, PALETTE, PRIOR_COLOR, TRUTH_COLOR, unmountWithin, vline } from './plots.ts';

/** A coordinate's name for axis labels and titles: `log_sigma` -> `log sigma`. */
function spaced(name: string): string {
  return name.replace(/_/g, ' ');
}

/** Trace of a family global's sampled coordinate (log sigma) for the first chains. */
function drawGlobalTrace(el: HTMLElement, g: GlobalData, f: RunFigures): void {
  const t = f.trace;
  const note = t.stride > 1 ? ` (every ${t.stride}th draw)` : '';
  lineChart(el, {
    title: `Trace of ${spaced(g.name)}, first ${g.trace.length} chains${note}`,
    xLabel: 'draw',
    yLabel: spaced(g.name),
    x: t.x,
    series: g.trace.map((v, c) => ({ label: `chain ${c + 1}`, values: v, color: PALETTE[c % PALETTE.length], width: 1 })),
  });
}

/**
 * A family global on its natural scale (sigma): histogram of the draws, prior density, the
 * exact posterior's 5%, 50% and 95% points (the exact posterior reports its summary, not its
 * density), and the true value.
 */
function drawGlobalDensity(el: HTMLElement, g: GlobalData): void {
  let top = 0;
  for (const a of [g.density, g.prior]) for (const v of a) if (Number.isFinite(v)) top = Math.max(top, v);
  const ex = g.exact;
  const legend = [
    { label: 'draws (histogram)', color: PALETTE[0] },
    ...(ex ? [{ label: 'exact posterior: median, 5% and 95%', color: EXACT_COLOR }] : []),
    { label: 'prior', color: PRIOR_COLOR },
    ...(g.truth !== undefined ? [{ label: `true ${g.constrained} = ${g.truth}`, color: TRUTH_COLOR }] : []),
  ];
  canvasChart(el, {
    title: `${g.constrained} (${g.help}): posterior draws${ex ? ' vs exact posterior (quadrature)' : ''} and prior${ex ? '' : ' (no exact posterior for this likelihood)'}`,
    xLabel: g.constrained,
    yLabel: 'density',
    xRange: [g.edges[0], g.edges[g.edges.length - 1]],
    yRange: [0, top * 1.08 || 1],
    height: 260,
    legend,
    draw: (u) => {
      drawHistogram(u, g.edges, g.density);
      drawCurve(u, g.grid, g.prior, PRIOR_COLOR, [6, 4]);
      if (ex) {
        vline(u, ex.q50, EXACT_COLOR);
        vline(u, ex.q05, EXACT_COLOR, [2, 3]);
        vline(u, ex.q95, EXACT_COLOR, [2, 3]);
      }
      if (g.truth !== undefined) vline(u, g.truth, TRUTH_COLOR, [3, 3]);
    },
  });
}

/** Chart ids of a family global: its trace and its density. */
export function globalChartIds(g: Pick<GlobalData, 'name' | 'constrained'>): { trace: string; density: string } {
  return { trace: `trace-${g.name}`, density: `plot-${g.constrained}` };
}

/** The family globals' charts into `box` (a trace and a density each, one task each); hides `section` when there are none. */
export async function drawGlobals(section: HTMLElement, box: HTMLElement, f: RunFigures): Promise<void> {
  unmountWithin(box);
  box.replaceChildren();
  section.hidden = f.globals.length === 0;
  for (const g of f.globals) {
    const ids = globalChartIds(g);
    const trace = document.createElement('div');
    const density = document.createElement('div');
    trace.className = density.className = 'plot';
    trace.id = ids.trace;
    density.id = ids.density;
    box.append(trace, density);
    drawGlobalTrace(trace, g, f);
    await nextTask();
    drawGlobalDensity(density, g);
    await nextTask();
  }
}
