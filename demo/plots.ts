/**
 * The page's chart primitives, on uPlot: line charts from flat typed arrays (adaptation,
 * traces, autocorrelation, densities), and "canvas charts" whose marks (scatter points,
 * bars, intervals) are drawn in uPlot's draw hook on its axes — a scatter of thousands of
 * points then costs one pass, with no sorting into uPlot's aligned-x layout. Every chart
 * is registered for the PNG export (`chartPng`), which draws its title, plot and legend.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

/** Okabe & Ito's colour-blind-safe palette (Okabe & Ito 2008), in the order used for series. */
export const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442', '#000000'] as const;
export const DIVERGENT_COLOR = '#d62728';
export const EXACT_COLOR = '#222222';
export const PRIOR_COLOR = '#888888';
export const TRUTH_COLOR = '#009E73';
const PLOT_HEIGHT = 230;

function widthOf(el: HTMLElement, min = 240): number {
  return Math.max(min, Math.floor(el.clientWidth || el.parentElement?.clientWidth || 560));
}

/** An axis; scale and side are set only when given (uPlot reads an undefined key as unset). */
export function axis(label: string, scale?: string, side?: 0 | 1 | 2 | 3, extra: Partial<uPlot.Axis> = {}): uPlot.Axis {
  const a: uPlot.Axis = { label, size: 46, labelSize: 16, gap: 3, font: '11px system-ui, sans-serif', labelFont: '12px system-ui, sans-serif', grid: { stroke: '#eee' }, ticks: { stroke: '#ccc', size: 4 }, ...extra };
  if (scale !== undefined) a.scale = scale;
  if (side !== undefined) a.side = side;
  return a;
}

interface Mounted {
  plot: uPlot;
  observer: ResizeObserver;
  title: string;
  legend: readonly LegendItem[];
}

export interface LegendItem {
  readonly label: string;
  readonly color: string;
}

/** The plot mounted in each element. */
const mounted = new Map<HTMLElement, Mounted>();

/** Every chart on the page (mounted and still in the document), for the PNG export. */
export function chartElements(): HTMLElement[] {
  return [...mounted.keys()].filter((el) => el.isConnected && !el.closest('[hidden]'));
}

/** Removes the plot in `el`, if any. */
export function unmount(el: HTMLElement): void {
  const old = mounted.get(el);
  if (!old) return;
  old.observer.disconnect();
  old.plot.destroy();
  mounted.delete(el);
}

/** Drops every chart inside `root` (before its elements are replaced). */
export function unmountWithin(root: HTMLElement): void {
  for (const el of [...mounted.keys()]) if (root.contains(el)) unmount(el);
}

export interface MountOptions extends Omit<uPlot.Options, 'width' | 'height'> {
  height?: number;
  minWidth?: number;
  /** Shown in the PNG export's legend. */
  legendItems?: readonly LegendItem[];
}

/** Mounts a plot in `el` (replacing any earlier one) that tracks the element's width. */
export function mount(el: HTMLElement, opts: MountOptions, data: uPlot.AlignedData): uPlot {
  unmount(el);
  el.replaceChildren();
  const { height, minWidth, legendItems, ...rest } = opts;
  const plot = new uPlot({ ...rest, width: widthOf(el, minWidth), height: height ?? PLOT_HEIGHT }, data, el);
  const observer = new ResizeObserver(() =>
    requestAnimationFrame(() => {
      if (!mounted.has(el)) return;
      const w = widthOf(el, minWidth);
      if (Math.abs(w - plot.width) > 2) plot.setSize({ width: w, height: plot.height });
    }),
  );
  observer.observe(el);
  const legend = legendItems ?? (opts.series ?? []).slice(1).filter((s) => s.label && s.show !== false).map((s) => ({ label: String(s.label), color: typeof s.stroke === 'string' ? s.stroke : '#444' }));
  mounted.set(el, { plot, observer, title: typeof opts.title === 'string' ? opts.title : '', legend });
  return plot;
}

/**
 * The chart in `el` as a PNG: a white sheet with the title, the plot's canvas (axes and
 * marks) and a legend line, at the canvas's device-pixel resolution.
 */
export function chartPng(el: HTMLElement): Promise<Blob> {
  const m = mounted.get(el);
  if (!m) return Promise.reject(new Error('no chart here'));
  const src = m.plot.ctx.canvas;
  const dpr = src.width / m.plot.width || 1;
  const titleH = Math.round(26 * dpr);
  const legendH = m.legend.length ? Math.round(22 * dpr) : 0;
  const out = document.createElement('canvas');
  out.width = src.width;
  out.height = src.height + titleH + legendH;
  const ctx = out.getContext('2d')!;
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, out.width, out.height);
  ctx.fillStyle = '#222';
  ctx.font = `600 ${Math.round(13 * dpr)}px system-ui, sans-serif`;
  ctx.textBaseline = 'middle';
  ctx.textAlign = 'center';
  ctx.fillText(m.title, out.width / 2, titleH / 2, out.width - 10);
  ctx.drawImage(src, 0, titleH);
  ctx.textAlign = 'left';
  ctx.font = `${Math.round(11 * dpr)}px system-ui, sans-serif`;
  let x = 10 * dpr;
  const y = titleH + src.height + legendH / 2;
  for (const item of m.legend) {
    ctx.fillStyle = item.color;
    ctx.fillRect(x, y - 4 * dpr, 12 * dpr, 8 * dpr);
    ctx.fillStyle = '#333';
    ctx.fillText(item.label, x + 16 * dpr, y);
    x += ctx.measureText(item.label).width + 32 * dpr;
  }
  return new Promise((resolve, reject) => out.toBlob((b) => (b ? resolve(b) : reject(new Error('PNG encoding failed'))), 'image/png'));
}

/** Per-warmup-iteration adaptation state, filled as warmup progresses. */
export interface AdaptationTrace {
  readonly stepSize: Float64Array;
  readonly trajectoryLength: Float64Array;
  readonly divergences: Float64Array;
}

const fmt3 = (_u: uPlot, v: number | null) => (v == null ? '' : v.toPrecision(3));

/**
 * Two live plots of warmup: step size and trajectory length (log scales) per iteration,
 * and divergent transitions per iteration. `update(n)` redraws the first n iterations.
 */
export class AdaptationPlots {
  private readonly x: Float64Array;
  private readonly tuning: uPlot;
  private readonly divergent: uPlot;

  constructor(tuningEl: HTMLElement, divergentEl: HTMLElement, private readonly trace: AdaptationTrace, what = '') {
    this.x = Float64Array.from({ length: trace.stepSize.length }, (_, i) => i + 1);
    this.tuning = mount(
      tuningEl,
      {
        title: `Adaptation: step size and trajectory length${what}`,
        scales: { x: { time: false }, eps: { distr: 3 }, len: { distr: 3 } },
        series: [
          { label: 'warmup iteration' },
          { label: 'step size', scale: 'eps', stroke: PALETTE[0], width: 1.5, value: fmt3 },
          { label: 'trajectory length', scale: 'len', stroke: PALETTE[1], width: 1.5, value: fmt3 },
        ],
        axes: [axis('warmup iteration'), axis('step size', 'eps', 3, { size: 56 }), axis('trajectory length', 'len', 1, { size: 56, grid: { show: false } })],
      },
      [[], [], []],
    );
    this.divergent = mount(
      divergentEl,
      {
        title: `Divergences per warmup iteration (all chains)${what}`,
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

export interface LineSeries {
  readonly label: string;
  readonly values: ArrayLike<number | null>;
  readonly color: string;
  readonly width?: number;
  readonly dash?: number[];
  readonly fill?: string;
  readonly stepped?: boolean;
}

/** A line chart of series sharing one x. `marks` draws extra marks (reference lines) on top. */
export function lineChart(
  el: HTMLElement,
  o: {
    title: string;
    xLabel: string;
    yLabel: string;
    x: ArrayLike<number>;
    series: readonly LineSeries[];
    yRange?: [number, number];
    xRange?: [number, number];
    height?: number;
    marks?: (u: uPlot, ctx: CanvasRenderingContext2D) => void;
    legendItems?: readonly LegendItem[];
  },
): uPlot {
  const yScale: uPlot.Scale = o.yRange ? { auto: false, range: o.yRange } : {};
  const xScale: uPlot.Scale = o.xRange ? { time: false, auto: false, range: o.xRange } : { time: false };
  return mount(
    el,
    {
      title: o.title,
      height: o.height,
      scales: { x: xScale, y: yScale },
      series: [
        { label: o.xLabel },
        ...o.series.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: s.width ?? 1.25,
          dash: s.dash,
          fill: s.fill,
          spanGaps: true,
          points: { show: false },
          paths: s.stepped ? uPlot.paths.stepped!({ align: 1 }) : undefined,
          value: fmt3,
        })),
      ],
      axes: [axis(o.xLabel), axis(o.yLabel, undefined, undefined, { size: 52 })],
      hooks: o.marks ? { draw: [(u: uPlot) => o.marks!(u, u.ctx)] } : {},
      legendItems: o.legendItems,
    },
    [Float64Array.from(o.x as ArrayLike<number>), ...o.series.map((s) => Array.from(s.values as ArrayLike<number | null>))] as uPlot.AlignedData,
  );
}

/** Plot-area helpers for marks drawn in a draw hook (canvas pixels). */
export function pos(u: uPlot): { x: (v: number) => number; y: (v: number) => number; dpr: number } {
  return { x: (v) => u.valToPos(v, 'x', true), y: (v) => u.valToPos(v, 'y', true), dpr: u.ctx.canvas.width / u.width || 1 };
}

/** Runs `f` with the context clipped to the plotting area. */
export function clipped(u: uPlot, f: () => void): void {
  const { ctx, bbox } = u;
  ctx.save();
  ctx.beginPath();
  ctx.rect(bbox.left, bbox.top, bbox.width, bbox.height);
  ctx.clip();
  f();
  ctx.restore();
}

/** A vertical reference line at x = v across the plot (e.g. true tau, a threshold). */
export function vline(u: uPlot, v: number, color: string, dash: number[] = []): void {
  const p = pos(u);
  clipped(u, () => {
    const ctx = u.ctx;
    ctx.strokeStyle = color;
    ctx.lineWidth = 2 * p.dpr;
    ctx.setLineDash(dash.map((d) => d * p.dpr));
    ctx.beginPath();
    ctx.moveTo(p.x(v), u.bbox.top);
    ctx.lineTo(p.x(v), u.bbox.top + u.bbox.height);
    ctx.stroke();
  });
}

export interface ScatterLayer {
  readonly label: string;
  readonly x: ArrayLike<number>;
  readonly y: ArrayLike<number>;
  readonly color: string;
  /** Dot radius in CSS pixels. */
  readonly radius: number;
}

/**
 * A density histogram (bars on `edges` with heights `density`) filled and outlined once as a
 * step line, and a density curve over `grid` (dashed where `dash` is given): the drawing of
 * the tau and family-global charts.
 */
export function drawHistogram(u: uPlot, edges: ArrayLike<number>, density: ArrayLike<number>): void {
  const p = pos(u);
  const ctx = u.ctx;
  ctx.fillStyle = 'rgba(0, 114, 178, 0.3)';
  ctx.strokeStyle = PALETTE[0];
  ctx.lineWidth = 1.25 * p.dpr;
  ctx.beginPath();
  ctx.moveTo(p.x(edges[0]), p.y(0));
  for (let i = 0; i + 1 < edges.length; i++) {
    const x0 = p.x(edges[i]);
    const x1 = p.x(edges[i + 1]);
    const y = p.y(density[i]);
    ctx.fillRect(x0, y, x1 - x0, p.y(0) - y);
    ctx.lineTo(x0, y);
    ctx.lineTo(x1, y);
  }
  ctx.lineTo(p.x(edges[edges.length - 1]), p.y(0));
  ctx.stroke();
}

/** A curve ys(grid) in `color`, dashed by `dash` (CSS pixels; [] solid). */
export function drawCurve(u: uPlot, grid: ArrayLike<number>, ys: ArrayLike<number>, color: string, dash: number[] = []): void {
  const p = pos(u);
  const ctx = u.ctx;
  ctx.strokeStyle = color;
  ctx.lineWidth = 2 * p.dpr;
  ctx.setLineDash(dash.map((d) => d * p.dpr));
  ctx.beginPath();
  for (let i = 0; i < grid.length; i++) (i ? ctx.lineTo : ctx.moveTo).call(ctx, p.x(grid[i]), p.y(ys[i]));
  ctx.stroke();
  ctx.setLineDash([]);
}

/**
 * A chart on fixed axes whose marks are drawn by `draw` (scatter layers, bars, intervals)
 * in the plot area. `xValues` and `xSplits` label a categorical x axis.
 */
export function canvasChart(
  el: HTMLElement,
  o: {
    title: string;
    xLabel: string;
    yLabel: string;
    /** Fixed ranges, or functions read at each `setData` (live charts). */
    xRange: [number, number] | (() => [number, number]);
    yRange: [number, number] | (() => [number, number]);
    legend: readonly LegendItem[];
    draw: (u: uPlot) => void;
    height?: number;
    minWidth?: number;
    xSplits?: number[];
    xValues?: (string | number)[];
    yLog?: boolean;
    compact?: boolean;
  },
): uPlot {
  const xAxis = axis(o.xLabel, undefined, undefined, o.xSplits ? { splits: () => o.xSplits!, values: () => o.xValues ?? o.xSplits!, grid: { show: false } } : {});
  const yAxis = axis(o.yLabel, undefined, undefined, { size: o.compact ? 40 : 52 });
  if (o.compact) {
    xAxis.size = 30;
    xAxis.labelSize = 14;
  }
  return mount(
    el,
    {
      title: o.title,
      height: o.height,
      minWidth: o.minWidth,
      scales: { x: { time: false, auto: false, range: asRange(o.xRange) }, y: { auto: false, range: asRange(o.yRange), distr: o.yLog ? 3 : 1 } },
      legend: { show: !o.compact, live: false },
      cursor: { show: !o.compact, drag: { x: false, y: false }, points: { show: false } },
      series: [{ label: o.xLabel }, ...o.legend.map((l) => ({ label: l.label, stroke: l.color, fill: l.color, paths: () => null, points: { show: false } }))],
      axes: [xAxis, yAxis],
      hooks: { draw: [(u: uPlot) => clipped(u, () => o.draw(u))] },
      legendItems: o.legend,
    },
    canvasChartData(o.legend.length),
  );
}

function asRange(r: [number, number] | (() => [number, number])): uPlot.Scale['range'] {
  return typeof r === 'function' ? () => r() : r;
}

/** A canvas chart's placeholder data (its marks come from its draw hook); `setData` with it redraws. */
export function canvasChartData(series: number): uPlot.AlignedData {
  return [[0, 1], ...Array.from({ length: series }, () => [null, null])] as uPlot.AlignedData;
}

/** Draws a scatter layer's dots (inside a canvasChart's draw hook). */
export function drawDots(u: uPlot, layer: ScatterLayer): void {
  const p = pos(u);
  const ctx = u.ctx;
  const r = layer.radius * p.dpr;
  ctx.fillStyle = layer.color;
  ctx.beginPath();
  for (let i = 0; i < layer.x.length; i++) {
    const px = p.x(layer.x[i]);
    const py = p.y(layer.y[i]);
    if (!Number.isFinite(px) || !Number.isFinite(py)) continue;
    ctx.moveTo(px + r, py);
    ctx.arc(px, py, r, 0, 2 * Math.PI);
  }
  ctx.fill();
}

/** Range of the finite values of the arrays, padded by `pad` of its width on each side. */
export function rangeOf(arrays: readonly ArrayLike<number>[], pad = 0.04): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const a of arrays) {
    for (let i = 0; i < a.length; i++) {
      const v = a[i];
      if (Number.isFinite(v)) {
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
    }
  }
  if (!(hi >= lo)) return [-1, 1];
  const w = Math.max(hi - lo, 1e-6 * Math.max(1, Math.abs(hi)));
  return [lo - pad * w, hi + pad * w];
}

/** Range of the central `1 - 2 * tail` of the values (robust to a few far outliers), padded. */
export function robustRange(arrays: readonly ArrayLike<number>[], tail = 0.0005, pad = 0.06): [number, number] {
  const all: number[] = [];
  for (const a of arrays) for (let i = 0; i < a.length; i++) if (Number.isFinite(a[i])) all.push(a[i]);
  if (all.length === 0) return [-1, 1];
  const s = Float64Array.from(all).sort();
  const lo = s[Math.floor(tail * (s.length - 1))];
  const hi = s[Math.ceil((1 - tail) * (s.length - 1))];
  const w = Math.max(hi - lo, 1e-6 * Math.max(1, Math.abs(hi)));
  return [lo - pad * w, hi + pad * w];
}

export interface Bar {
  readonly value: number;
  readonly color: string;
  /** Text drawn above the bar (e.g. its value, or "winner"). */
  readonly text?: string;
}

/**
 * Grouped bars: categories along x, `groups[g][i]` the bar of series g in category i,
 * with its value printed above it.
 */
export function barChart(
  el: HTMLElement,
  o: { title: string; xLabel: string; yLabel: string; categories: string[]; groups: readonly (readonly Bar[])[]; legend: readonly LegendItem[]; height?: number; yMax?: number; threshold?: { value: number; label: string } },
): uPlot {
  const n = o.categories.length;
  const G = o.groups.length;
  let top = o.yMax ?? 0;
  for (const g of o.groups) for (const b of g) if (Number.isFinite(b.value)) top = Math.max(top, b.value);
  if (o.threshold) top = Math.max(top, o.threshold.value);
  top = top > 0 ? top * 1.18 : 1;
  return canvasChart(el, {
    title: o.title,
    xLabel: o.xLabel,
    yLabel: o.yLabel,
    xRange: [-0.5, n - 0.5],
    yRange: [0, top],
    legend: o.legend,
    height: o.height,
    xSplits: Array.from({ length: n }, (_, i) => i),
    xValues: o.categories,
    draw: (u) => {
      const p = pos(u);
      const ctx = u.ctx;
      const slot = (p.x(1) - p.x(0)) * 0.8;
      const w = slot / G;
      ctx.font = `${Math.round(10 * p.dpr)}px system-ui, sans-serif`;
      ctx.textAlign = 'center';
      ctx.textBaseline = 'bottom';
      o.groups.forEach((g, gi) =>
        g.forEach((b, i) => {
          if (!Number.isFinite(b.value)) return;
          const x0 = p.x(i) - slot / 2 + gi * w;
          const y0 = p.y(0);
          const y1 = p.y(b.value);
          ctx.fillStyle = b.color;
          ctx.fillRect(x0 + 1, y1, w - 2, y0 - y1);
          if (b.text) {
            ctx.fillStyle = '#222';
            ctx.fillText(b.text, x0 + w / 2, y1 - 2 * p.dpr, Math.max(w, 40 * p.dpr));
          }
        }),
      );
      if (o.threshold) {
        const y = p.y(o.threshold.value);
        ctx.strokeStyle = DIVERGENT_COLOR;
        ctx.setLineDash([4 * p.dpr, 3 * p.dpr]);
        ctx.lineWidth = 1.5 * p.dpr;
        ctx.beginPath();
        ctx.moveTo(u.bbox.left, y);
        ctx.lineTo(u.bbox.left + u.bbox.width, y);
        ctx.stroke();
        ctx.setLineDash([]);
        ctx.fillStyle = DIVERGENT_COLOR;
        ctx.textAlign = 'right';
        ctx.fillText(o.threshold.label, u.bbox.left + u.bbox.width - 4 * p.dpr, y - 2 * p.dpr);
      }
    },
  });
}

/** Compact number for labels: 3 significant digits, k/M suffixes from 10,000. */
export function short(v: number): string {
  if (!Number.isFinite(v)) return '—';
  const a = Math.abs(v);
  if (a >= 1e6) return `${(v / 1e6).toPrecision(3)}M`;
  if (a >= 1e4) return `${(v / 1e3).toPrecision(3)}k`;
  if (a >= 100) return v.toFixed(0);
  return v.toPrecision(3);
}

/** Waits for the next task, so that a long sequence of drawing is split into short tasks. */
export function nextTask(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
