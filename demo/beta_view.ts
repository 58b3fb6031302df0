/**
 * The figures of the population-level coefficients beta[name] (data with predictors:
 * eta_i = theta[g_i] + x_i·beta), beside the funnels:
 *
 * - a forest plot: per coefficient, the posterior mean and 90% interval of the draws, and the
 *   exact posterior's beside it where there is one (the normal likelihoods);
 * - one small histogram per coefficient, against its Normal prior and the exact posterior's
 *   5%, 50% and 95% points, titled with its mean and 90% interval;
 * - while sampling, the forest plot of the draws so far (`LiveBeta`): each position snapshot
 *   of the first chains (`sample({ onSnapshot })`) adds their coefficients, read where the
 *   layout puts them (`layout.beta`), redrawn at most every LIVE_REDRAW_MS.
 *
 * Each chart is drawn in its own task (`nextTask`). Data without predictors draw nothing here
 * (the sections stay hidden).
 */
import type uPlot from 'uplot';
import { betaName, type ModelLayout } from '../src/model/layout.ts';
import type { PosteriorSummary } from '../src/model/posterior.ts';
import type { BetaData, RunFigures } from './figures.ts';
import { canvasChart, canvasChartData, drawCurve, drawHistogram, EXACT_COLOR, nextTask, PALETTE, pos, PRIOR_COLOR, rangeOf, unmountWithin, vline } from './plots.ts';
import { fmt } from './summary_table.ts';

/** One coefficient's row of the forest plot. */
export interface ForestRow {
  /** `beta[x1]`. */
  readonly label: string;
  readonly mean: number;
  readonly q05: number;
  readonly q95: number;
  readonly exact?: PosteriorSummary;
}

/** Most frequent redraw of the live forest plot (as the live funnels). */
export const LIVE_BETA_REDRAW_MS = 400;

/** A coefficient's mean and 90% interval in words: `0.786 (90% 0.618 to 0.949)`. */
export function intervalText(r: Pick<ForestRow, 'mean' | 'q05' | 'q95'>): string {
  return `${fmt(r.mean)} (90% ${fmt(r.q05)} to ${fmt(r.q95)})`;
}

/**
 * The y range of a forest plot: every interval (draws and exact), with 0 taken in where it
 * lies within one range-width of them (whether an interval excludes 0 is then visible).
 */
export function forestRange(rows: readonly ForestRow[]): [number, number] {
  const [lo, hi] = rangeOf([rows.flatMap((r) => [r.q05, r.q95, r.mean, ...(r.exact ? [r.exact.q05, r.exact.q95] : [])])], 0);
  const w = hi - lo;
  const [l, h] = [0 < lo && lo - w <= 0 ? 0 : lo, 0 > hi && hi + w >= 0 ? 0 : hi];
  const pad = 0.08 * (h - l || 1);
  return [l - pad, h + pad];
}

/**
 * A forest plot of `rows()` (read at each draw, so a live chart redraws with `setData`): per
 * coefficient along x, the draws' 90% interval and mean (blue), the exact posterior's beside
 * it (black), and a dashed line at 0.
 */
export function forestChart(el: HTMLElement, title: string | (() => string), rows: () => readonly ForestRow[], count: number): uPlot {
  const splits = Array.from({ length: count }, (_, i) => i);
  const labels = rows().map((r) => r.label);
  const hasExact = rows().some((r) => r.exact);
  return canvasChart(el, {
    title: typeof title === 'string' ? title : title(),
    xLabel: 'coefficient',
    yLabel: 'value',
    xRange: [-0.5, count - 0.5],
    yRange: () => forestRange(rows()),
    height: 240,
    xSplits: splits,
    xValues: labels,
    legend: [
      { label: 'draws: mean and 90% interval', color: PALETTE[0] },
      ...(hasExact ? [{ label: 'exact posterior: mean and 90% interval', color: EXACT_COLOR }] : []),
    ],
    draw: (u) => {
      const p = pos(u);
      const ctx = u.ctx;
      const y0 = p.y(0);
      ctx.strokeStyle = PRIOR_COLOR;
      ctx.lineWidth = 1 * p.dpr;
      ctx.setLineDash([4 * p.dpr, 3 * p.dpr]);
      ctx.beginPath();
      ctx.moveTo(u.bbox.left, y0);
      ctx.lineTo(u.bbox.left + u.bbox.width, y0);
      ctx.stroke();
      ctx.setLineDash([]);
      const interval = (x: number, s: Pick<ForestRow, 'mean' | 'q05' | 'q95'>, color: string, width: number) => {
        if (![s.mean, s.q05, s.q95].every(Number.isFinite)) return;
        ctx.strokeStyle = color;
        ctx.fillStyle = color;
        ctx.lineWidth = width * p.dpr;
        ctx.beginPath();
        ctx.moveTo(x, p.y(s.q05));
        ctx.lineTo(x, p.y(s.q95));
        ctx.stroke();
        ctx.beginPath();
        ctx.arc(x, p.y(s.mean), 4 * p.dpr, 0, 2 * Math.PI);
        ctx.fill();
      };
      rows().forEach((r, i) => {
        const off = r.exact ? 0.12 : 0;
        interval(p.x(i - off), r, PALETTE[0], 3);
        if (r.exact) interval(p.x(i + off), r.exact, EXACT_COLOR, 1.5);
      });
    },
  });
}

/** Chart id of coefficient p's histogram. */
export function betaChartId(p: number): string {
  return `plot-beta-${p}`;
}

/** A coefficient's histogram: its draws against its prior and the exact posterior's 5%, 50%, 95% points. */
function drawBetaHistogram(el: HTMLElement, b: BetaData): void {
  let top = 0;
  for (const a of [b.density, b.prior]) for (const v of a) if (Number.isFinite(v)) top = Math.max(top, v);
  const ex = b.exact;
  canvasChart(el, {
    title: `${b.name}: ${intervalText(b)}`,
    xLabel: b.name,
    yLabel: 'density',
    xRange: [b.edges[0], b.edges[b.edges.length - 1]],
    yRange: [0, top * 1.08 || 1],
    height: 200,
    minWidth: 200,
    compact: true,
    legend: [
      { label: 'draws (histogram)', color: PALETTE[0] },
      ...(ex ? [{ label: 'exact posterior: median, 5% and 95%', color: EXACT_COLOR }] : []),
      { label: `prior ${b.priorText}`, color: PRIOR_COLOR },
    ],
    draw: (u) => {
      drawHistogram(u, b.edges, b.density);
      drawCurve(u, b.grid, b.prior, PRIOR_COLOR, [6, 4]);
      if (ex) {
        vline(u, ex.q50, EXACT_COLOR);
        vline(u, ex.q05, EXACT_COLOR, [2, 3]);
        vline(u, ex.q95, EXACT_COLOR, [2, 3]);
      }
    },
  });
}

/** The rows of the forest plot of a run's coefficients. */
export function forestRows(beta: readonly BetaData[]): ForestRow[] {
  return beta.map((b) => ({ label: b.name, mean: b.mean, q05: b.q05, q95: b.q95, ...(b.exact && { exact: b.exact }) }));
}

/**
 * The coefficients' charts of a finished run: the forest plot into `forest`, one histogram
 * per coefficient into `box` (one task each); hides `section` when there are none.
 */
export async function drawBeta(section: HTMLElement, forest: HTMLElement, box: HTMLElement, note: HTMLElement, f: RunFigures): Promise<void> {
  unmountWithin(section);
  box.replaceChildren();
  section.hidden = f.beta.length === 0;
  if (f.beta.length === 0) return;
  const rows = forestRows(f.beta);
  const exact = rows.some((r) => r.exact);
  note.textContent =
    `eta_i = theta[g_i] + x_i·beta: each coefficient's posterior mean and 90% interval${exact ? ', beside the exact posterior’s (black)' : ''}; ` +
    `then its draws against its prior ${f.beta[0].priorText} (dashed)`;
  forestChart(forest, `Coefficients: posterior mean and 90% interval${exact ? ' vs exact posterior' : ''}`, () => rows, rows.length);
  await nextTask();
  for (const [p, b] of f.beta.entries()) {
    const panel = document.createElement('div');
    panel.className = 'plot panel';
    panel.id = betaChartId(p);
    panel.dataset.beta = b.name;
    box.append(panel);
    drawBetaHistogram(panel, b);
    await nextTask();
  }
}

/** The 5% and 95% points and the mean of the first `n` values (sorted copy). */
function rowOf(label: string, v: Float64Array, n: number): ForestRow {
  if (n === 0) return { label, mean: NaN, q05: NaN, q95: NaN };
  const s = v.slice(0, n).sort();
  let m = 0;
  for (const x of s) m += x;
  const q = (p: number) => {
    const h = (n - 1) * p;
    const lo = Math.floor(h);
    return s[lo] + (h - lo) * (s[Math.min(lo + 1, n - 1)] - s[lo]);
  };
  return { label, mean: m / n, q05: q(0.05), q95: q(0.95) };
}

/**
 * The forest plot while a run samples: each snapshot of the first chains' positions adds
 * their coefficients (at `layout.beta`), up to `capacity` values per coefficient; the plot
 * shows the mean and 90% interval of the values so far, redrawn at most every
 * LIVE_BETA_REDRAW_MS (the last snapshot's redraw follows when it is due).
 */
export class LiveBeta {
  private readonly values: Float64Array[];
  private readonly labels: string[];
  private rowsNow: ForestRow[];
  private count = 0;
  private chains = 0;
  private readonly chart: uPlot;
  private last = 0;
  private timer = 0;
  private closed = false;

  constructor(
    private readonly box: HTMLElement,
    el: HTMLElement,
    private readonly note: HTMLElement,
    predictors: readonly string[],
    private readonly capacity: number,
    /** Where a snapshot's coordinates are (`dataLayout`): beta_0 .. beta_{P-1} at layout.beta. */
    private readonly layout: ModelLayout,
  ) {
    if (layout.beta.count !== predictors.length) throw new RangeError(`the layout has ${layout.beta.count} coefficients, the data ${predictors.length} predictors`);
    this.labels = predictors.map(betaName);
    this.values = predictors.map(() => new Float64Array(capacity));
    this.rowsNow = this.labels.map((label) => rowOf(label, new Float64Array(0), 0));
    box.hidden = false;
    note.textContent = 'waiting for the first draws…';
    this.chart = forestChart(el, 'Coefficients so far: mean and 90% interval of the draws', () => this.rowsNow, this.labels.length);
  }

  /** The mean and 90% interval of each coefficient's draws so far. */
  rows(): readonly ForestRow[] {
    return this.rowsNow;
  }

  /** Adds a snapshot (chain-major positions of `chains` chains, D = layout.dim) and redraws when due. */
  add(positions: ArrayLike<number>, chains: number, iteration: number, total: number): void {
    const D = this.layout.dim;
    if (positions.length !== chains * D) throw new RangeError(`a snapshot of ${chains} chains has ${positions.length} coordinates, expected ${chains} × ${D}`);
    const start = this.layout.beta.start;
    for (let c = 0; c < chains && this.count < this.capacity; c++, this.count++) {
      for (let p = 0; p < this.values.length; p++) this.values[p][this.count] = positions[c * D + start + p];
    }
    this.chains = chains;
    this.rowsNow = this.labels.map((label, p) => rowOf(label, this.values[p], this.count));
    this.note.textContent = `${this.count.toLocaleString('en-US')} draws of the first ${this.chains} chains, sampling iteration ${iteration} of ${total}: ${this.rowsNow.map((r) => `${r.label} ${intervalText(r)}`).join('; ')}`;
    this.schedule();
  }

  private schedule(): void {
    if (this.closed || this.timer) return;
    const wait = Math.max(0, this.last + LIVE_BETA_REDRAW_MS - performance.now());
    this.timer = window.setTimeout(() => {
      this.timer = 0;
      if (this.closed) return;
      this.last = performance.now();
      // The live plot's one legend entry (draws; no exact posterior while sampling).
      this.chart.setData(canvasChartData(1));
    }, wait);
  }

  /** Stops redrawing (the run ended) and hides the live plot. */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = 0;
    this.box.hidden = true;
  }
}
