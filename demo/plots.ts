/**
 * The page's plots, drawn with uPlot from flat, chain-major typed arrays: adaptation
 * (live), trace plots, a funnel scatter with divergent transitions in red, and the tau
 * posterior histogram against the exact density.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

/** Colours of chains 0, 1, 2, ... in trace plots (Okabe & Ito's colour-blind-safe palette). */
export const CHAIN_COLORS = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00'] as const;
export const DIVERGENT_COLOR = '#d62728';
const DRAW_COLOR = 'rgba(0, 114, 178, 0.35)';
const EXACT_COLOR = '#222';
const PLOT_HEIGHT = 220;

function widthOf(el: HTMLElement): number {
  return Math.max(280, Math.floor(el.clientWidth || el.parentElement?.clientWidth || 560));
}

/** An axis; scale and side are set only when given (uPlot reads an undefined key as unset). */
function axis(label: string, scale?: string, side?: 0 | 1 | 2 | 3): uPlot.Axis {
  const a: uPlot.Axis = { label, size: 50, labelSize: 18, grid: { stroke: '#eee' }, ticks: { stroke: '#ccc' } };
  if (scale !== undefined) a.scale = scale;
  if (side !== undefined) a.side = side;
  return a;
}

/** The plot mounted in each element, and the observer that keeps it the element's width. */
const mounted = new WeakMap<HTMLElement, { plot: uPlot; observer: ResizeObserver }>();

/** Mounts a plot in `el` (replacing any earlier one) that tracks the element's width. */
function mount(el: HTMLElement, opts: Omit<uPlot.Options, 'width' | 'height'> & { height?: number }, data: uPlot.AlignedData): uPlot {
  const old = mounted.get(el);
  if (old) {
    old.observer.disconnect();
    old.plot.destroy();
  }
  el.replaceChildren();
  const plot = new uPlot({ ...opts, width: widthOf(el), height: opts.height ?? PLOT_HEIGHT }, data, el);
  const observer = new ResizeObserver(() =>
    requestAnimationFrame(() => {
      const w = widthOf(el);
      if (Math.abs(w - plot.width) > 2) plot.setSize({ width: w, height: plot.height });
    }),
  );
  observer.observe(el);
  mounted.set(el, { plot, observer });
  return plot;
}

/** Per-warmup-iteration adaptation state, filled as warmup progresses. */
export interface AdaptationTrace {
  readonly stepSize: Float64Array;
  readonly trajectoryLength: Float64Array;
  readonly divergences: Float64Array;
}

/**
 * Two live plots of warmup: step size and trajectory length (log scales) per iteration,
 * and divergent transitions per iteration. `update(n)` redraws the first n iterations.
 */
export class AdaptationPlots {
  private readonly x: Float64Array;
  private readonly tuning: uPlot;
  private readonly divergent: uPlot;

  constructor(tuningEl: HTMLElement, divergentEl: HTMLElement, private readonly trace: AdaptationTrace) {
    this.x = Float64Array.from({ length: trace.stepSize.length }, (_, i) => i + 1);
    this.tuning = mount(
      tuningEl,
      {
        title: 'Adaptation: step size and trajectory length',
        scales: { x: { time: false }, eps: { distr: 3 }, len: { distr: 3 } },
        series: [
          { label: 'warmup iteration' },
          { label: 'step size', scale: 'eps', stroke: CHAIN_COLORS[0], width: 1.5, value: (_u, v) => (v == null ? '' : v.toPrecision(3)) },
          { label: 'trajectory length', scale: 'len', stroke: CHAIN_COLORS[1], width: 1.5, value: (_u, v) => (v == null ? '' : v.toPrecision(3)) },
        ],
        axes: [axis('warmup iteration'), axis('step size', 'eps'), axis('trajectory length', 'len', 1)],
      },
      [[], [], []],
    );
    this.divergent = mount(
      divergentEl,
      {
        title: 'Divergences per warmup iteration (all chains)',
        scales: { x: { time: false }, y: { range: (_u, _lo, hi) => [0, Math.max(1, hi)] } },
        series: [
          { label: 'warmup iteration' },
          { label: 'divergences', stroke: DIVERGENT_COLOR, fill: 'rgba(214, 39, 40, 0.5)', paths: uPlot.paths.bars!({ size: [0.9, 8] }), points: { show: false } },
        ],
        axes: [axis('warmup iteration'), axis('divergences')],
      },
      [[], []],
    );
  }

  update(n: number): void {
    const t = this.trace;
    this.tuning.setData([this.x.subarray(0, n), t.stepSize.subarray(0, n), t.trajectoryLength.subarray(0, n)]);
    this.divergent.setData([this.x.subarray(0, n), t.divergences.subarray(0, n)]);
  }
}

/** Trace plot of one parameter for the first `shownChains` chains (chain-major draws). */
export function tracePlot(el: HTMLElement, title: string, label: string, values: Float32Array, draws: number, shownChains: number): uPlot {
  const x = Float64Array.from({ length: draws }, (_, i) => i);
  const series: uPlot.Series[] = [{ label: 'draw' }];
  const data: uPlot.TypedArray[] = [x];
  for (let c = 0; c < shownChains; c++) {
    series.push({ label: `chain ${c}`, stroke: CHAIN_COLORS[c % CHAIN_COLORS.length], width: 1, value: (_u, v) => (v == null ? '' : v.toFixed(3)) });
    data.push(values.subarray(c * draws, (c + 1) * draws));
  }
  return mount(el, { title, scales: { x: { time: false } }, series, axes: [axis('draw'), axis(label)] }, data);
}

export interface FunnelPoints {
  /** Coordinates of the draws shown (x: z_k, y: log tau). */
  readonly x: ArrayLike<number>;
  readonly y: ArrayLike<number>;
  /** Where divergent transitions diverged. */
  readonly divX: ArrayLike<number>;
  readonly divY: ArrayLike<number>;
}

/** Range of the finite values of `a`, padded by 4% on each side. */
function paddedRange(a: ArrayLike<number>): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    if (Number.isFinite(v)) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
  }
  if (!(hi >= lo)) return [-1, 1];
  const pad = Math.max(hi - lo, 1e-9) * 0.04;
  return [lo - pad, hi + pad];
}

/** Extends [lo, hi] to the values of `a` that lie within one range-width of it. */
function extendRange([lo, hi]: [number, number], a: ArrayLike<number>): [number, number] {
  const w = hi - lo;
  let l = lo;
  let h = hi;
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    if (v >= lo - w && v < l) l = v;
    if (v <= hi + w && v > h) h = v;
  }
  return [l, h];
}

/**
 * Funnel scatter: a group's sampled coordinate z_k (theta_k when centered, eta_k when
 * non-centered) against log tau, with divergent transitions in red on top. Divergences far
 * outside the draws' range are left out of view; the return value counts them.
 */
export function funnelPlot(el: HTMLElement, title: string, xLabel: string, pts: FunnelPoints): { hiddenDivergences: number } {
  const xr = extendRange(paddedRange(pts.x), pts.divX);
  const yr = extendRange(paddedRange(pts.y), pts.divY);
  const n = pts.x.length;
  const m = pts.divX.length;
  // uPlot's aligned data needs ascending x: merge both sets, sorted, with nulls for the other series.
  const order = Array.from({ length: n + m }, (_, i) => i);
  const xAt = (i: number) => (i < n ? pts.x[i] : pts.divX[i - n]);
  order.sort((a, b) => xAt(a) - xAt(b));
  const xs = new Float64Array(n + m);
  const ys: (number | null)[] = new Array(n + m).fill(null);
  const ds: (number | null)[] = new Array(n + m).fill(null);
  let hidden = 0;
  order.forEach((i, j) => {
    xs[j] = xAt(i);
    if (i < n) ys[j] = pts.y[i];
    else {
      const y = pts.divY[i - n];
      ds[j] = y;
      if (!(xs[j] >= xr[0] && xs[j] <= xr[1] && y >= yr[0] && y <= yr[1])) hidden++;
    }
  });
  const dot = (stroke: string, size: number): uPlot.Series['points'] => ({ show: true, size, stroke, fill: stroke, width: 0 });
  mount(
    el,
    {
      title,
      height: 320,
      scales: { x: { time: false, auto: false, range: xr }, y: { auto: false, range: yr } },
      legend: { live: false },
      cursor: { drag: { x: true, y: true, uni: 20 }, points: { show: false } },
      series: [
        { label: xLabel },
        { label: `draws (${n})`, stroke: DRAW_COLOR, paths: () => null, points: dot(DRAW_COLOR, 2.5) },
        { label: `divergent (${m})`, stroke: DIVERGENT_COLOR, paths: () => null, points: dot(DIVERGENT_COLOR, 5) },
      ],
      axes: [axis(xLabel), axis('log tau')],
    },
    [xs, ys, ds],
  );
  return { hiddenDivergences: hidden };
}

/** Sturges-free bin count: about sqrt(n), between 20 and 80. */
function binCount(n: number): number {
  return Math.max(20, Math.min(80, Math.round(Math.sqrt(n))));
}

/**
 * Histogram of tau's draws (density scale) on [0, 99.5th percentile of the draws], against
 * the exact posterior density of tau from the quadrature grid in s = log tau:
 * p(tau) = p(s) / tau.
 */
export function tauDensityPlot(el: HTMLElement, tau: Float32Array, gridS: Float64Array, densityS: Float64Array): void {
  const sorted = Float64Array.from(tau).sort();
  const hi = sorted[Math.min(sorted.length - 1, Math.floor(0.995 * sorted.length))] * 1.02;
  const bins = binCount(sorted.length);
  const w = hi / bins;
  const counts = new Float64Array(bins);
  for (const v of sorted) {
    const b = Math.floor(v / w);
    if (b >= 0 && b < bins) counts[b]++;
  }
  const edges = Float64Array.from({ length: bins + 1 }, (_, i) => i * w);
  const hist = Float64Array.from({ length: bins + 1 }, (_, i) => counts[Math.min(i, bins - 1)] / (sorted.length * w));
  const gx: number[] = [];
  const gy: number[] = [];
  for (let i = 0; i < gridS.length; i++) {
    const t = Math.exp(gridS[i]);
    if (t > hi) break;
    gx.push(t);
    gy.push(densityS[i] / t);
  }
  const data = uPlot.join([
    [edges, hist],
    [gx, gy],
  ]);
  mount(
    el,
    {
      title: 'Posterior of tau: draws vs exact (quadrature)',
      height: 260,
      scales: { x: { time: false, auto: false, range: [0, hi] }, y: { range: (_u, _lo, top) => [0, top * 1.05] } },
      series: [
        { label: 'tau', value: (_u, v) => (v == null ? '' : v.toFixed(3)) },
        { label: 'draws (histogram)', stroke: CHAIN_COLORS[0], fill: 'rgba(0, 114, 178, 0.25)', paths: uPlot.paths.stepped!({ align: 1 }), spanGaps: true, points: { show: false } },
        { label: 'exact density', stroke: EXACT_COLOR, width: 2, spanGaps: true, points: { show: false } },
      ],
      axes: [axis('tau'), axis('density')],
    },
    data,
  );
}
