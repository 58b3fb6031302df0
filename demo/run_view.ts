/**
 * The figures of one run, drawn from the worker's reduced `RunFigures`: traces of mu and
 * log tau, a funnel panel per group (divergent transitions in red where they diverged),
 * tau against its prior, the exact posterior and the true tau, the likelihood's own
 * parameters where it has any (unknown sigma: the trace of log sigma, and sigma against its
 * prior, the exact posterior's quantiles and the truth), the coefficients of the predictors
 * where the data have any (`beta_view.ts`), the posterior predictive check per
 * group, autocorrelation of mu and tau, E-BFMI per chain and ESS per second per parameter;
 * and the data strip plot. Each chart is drawn in its own task (`nextTask`), so that no
 * main-thread task runs long.
 */
import { EBFMI_THRESHOLD } from '../src/diagnostics/index.ts';
import type { HierData } from '../src/model/data.ts';
import { groupStats } from '../src/model/suffstats.ts';
import { SAMPLING_SYNC_INTERVAL } from '../src/sampler/sample.ts';
import { familyOf } from '../src/model/families/index.ts';
import type { ModelLayout } from '../src/model/layout.ts';
import { coordinateName, isPerGroup, MAX_POINTS_PER_GROUP, observationOutcome, PPC_LEVELS, type FunnelData, type RunFigures } from './figures.ts';
import { drawGlobals } from './globals_view.ts';
import { drawBeta } from './beta_view.ts';
import { columnValues } from './data_source.ts';
import type uPlot from 'uplot';
import {
  barChart,
  canvasChart,
  canvasChartData,
  DIVERGENT_COLOR,
  drawCurve,
  drawDots,
  drawHistogram,
  EXACT_COLOR,
  lineChart,
  nextTask,
  PALETTE,
  pos,
  PRIOR_COLOR,
  rangeOf,
  TRUTH_COLOR,
  unmountWithin,
  vline,
} from './plots.ts';
import type { RunDone } from './protocol.ts';

/** Most funnel panels drawn per run (groups beyond are listed, not drawn). */
export const MAX_FUNNEL_PANELS = 36;
/** Most parameters in the ESS/s bars (mu, tau, log tau and the groups with the lowest ESS). */
export const MAX_ESS_BARS = 15;
const DRAW_COLOR = 'rgba(0, 114, 178, 0.35)';
const DRAW_COLOR_B = 'rgba(230, 159, 0, 0.4)';

/** Thousands separators. */
const n0 = (v: number) => v.toLocaleString('en-US');

/** What the strided subset of draws is, in words (for chart titles). */
export function decimationNote(f: FunnelData): string {
  return f.stride > 1 ? `1 in ${f.stride} of ${n0(f.total)} draws shown` : `all ${n0(f.total)} draws`;
}

/** A small deterministic jitter in [-w, w] for strip plots (golden-ratio sequence, not random). */
function jitter(i: number, w: number): number {
  return ((i * 0.6180339887498949) % 1) * 2 * w - w;
}

/**
 * The y range of funnel panels: the draws' range, extended to take in the divergent
 * transitions that lie within one range-width of it (farther ones are counted, not shown).
 */
export function funnelRange(draws: ArrayLike<number>, div: ArrayLike<number>): [number, number] {
  const [lo, hi] = rangeOf([draws]);
  const w = hi - lo;
  let l = lo;
  let h = hi;
  for (let i = 0; i < div.length; i++) {
    const v = div[i];
    if (v >= lo - w && v < l) l = v;
    if (v <= hi + w && v > h) h = v;
  }
  const pad = 0.04 * (h - l);
  return [l - pad, h + pad];
}

/** Divergences of a panel that fall outside its ranges. */
function outside(x: ArrayLike<number>, y: ArrayLike<number>, xr: [number, number], yr: [number, number]): number {
  let n = 0;
  for (let i = 0; i < x.length; i++) if (!(x[i] >= xr[0] && x[i] <= xr[1] && y[i] >= yr[0] && y[i] <= yr[1])) n++;
  return n;
}

/** One funnel panel: group k's sampled coordinate against log tau, divergences in red. */
export function funnelPanel(el: HTMLElement, f: FunnelData, k: number, label: string, c: number, yr: [number, number], title?: string): void {
  const xr = funnelRange(f.z[k], f.divZ[k]);
  const hidden = outside(f.divZ[k], f.divLogTau, xr, yr);
  const name = coordinateName(c, label);
  canvasChart(el, {
    title: title ?? `${name}${f.divTotal ? ` · ${f.divTotal} divergent` : ''}${hidden ? ` (${hidden} off view)` : ''}`,
    xLabel: name,
    yLabel: 'log tau',
    xRange: xr,
    yRange: yr,
    height: 200,
    minWidth: 200,
    compact: true,
    legend: [
      { label: `draws (${decimationNote(f)})`, color: PALETTE[0] },
      { label: `divergent (${f.divTotal})`, color: DIVERGENT_COLOR },
    ],
    draw: (u) => {
      drawDots(u, { label: 'draws', x: f.z[k], y: f.logTau, color: DRAW_COLOR, radius: 1.4 });
      drawDots(u, { label: 'divergent', x: f.divZ[k], y: f.divLogTau, color: DIVERGENT_COLOR, radius: 2.2 });
    },
  });
}

/** Funnel panels of every group (up to MAX_FUNNEL_PANELS) into `box`, one task each. */
export async function drawFunnels(box: HTMLElement, f: FunnelData, labels: readonly string[], c: ArrayLike<number>): Promise<void> {
  unmountWithin(box);
  box.replaceChildren();
  const yr = funnelRange(f.logTau, f.divLogTau);
  const K = Math.min(labels.length, MAX_FUNNEL_PANELS);
  for (let k = 0; k < K; k++) {
    const panel = document.createElement('div');
    panel.className = 'plot panel';
    panel.dataset.group = labels[k];
    box.append(panel);
    funnelPanel(panel, f, k, labels[k], c[k], yr);
    await nextTask();
  }
  if (labels.length > K) {
    const more = document.createElement('p');
    more.className = 'note';
    more.textContent = `Panels for the first ${K} of ${labels.length} groups.`;
    box.append(more);
  }
}

/**
 * The data strip plot: every observation by group (jittered), and each group's estimate ±
 * 2 se from its own data (the normal family: the precision-weighted mean ybar_k ± 2 se_k).
 * On the family's outcome scale where it has one (binomial: each observation's (y + 1/2) /
 * (trials + 1), and inv_logit of the group's empirical logit ± 2 se).
 */
export function drawDataStrip(el: HTMLElement, data: HierData): void {
  const K = data.K;
  const family = familyOf(data.likelihood);
  const of = family.outcome?.of ?? ((t: number) => t);
  const scale = family.outcome?.name ?? 'y';
  const toScale = observationOutcome(family);
  const cols = family.columns.map((c) => c.name);
  const values = cols.map((c) => columnValues(data, c)!);
  const stats = groupStats(data);
  const byGroup = new Int32Array(K);
  const xs: number[] = [];
  const ys: number[] = [];
  const counts = stats.n;
  for (let i = 0; i < data.y.length; i++) {
    const k = data.group[i];
    const stride = Math.max(1, Math.ceil(counts[k] / MAX_POINTS_PER_GROUP));
    if (byGroup[k]++ % stride !== 0) continue;
    xs.push(k + jitter(xs.length, 0.22));
    ys.push(toScale(data.y[i], (c) => values[cols.indexOf(c)][i]));
  }
  const mid = Float64Array.from({ length: K }, (_, k) => (counts[k] ? of(stats.ybar[k]) : NaN));
  const lo = Float64Array.from({ length: K }, (_, k) => (counts[k] ? of(stats.ybar[k] - 2 * stats.se[k]) : NaN));
  const hi = Float64Array.from({ length: K }, (_, k) => (counts[k] ? of(stats.ybar[k] + 2 * stats.se[k]) : NaN));
  const yr = rangeOf([ys, lo, hi], 0.06);
  const thinned = xs.length < data.y.length ? ` (up to ${MAX_POINTS_PER_GROUP} shown per group)` : '';
  const splits = labelSplits(K);
  const groupMark = family.outcome ? `the group's ${scale} ± 2 se (on the ${family.link} scale)` : 'ybar_k ± 2 se_k (precision-weighted mean)';
  canvasChart(el, {
    title: `Data: ${n0(data.y.length)} observations in ${K} groups${thinned}; black: ${family.outcome ? `each group's ${scale} ± 2 se` : 'ybar_k ± 2 se_k'}`,
    xLabel: 'group (observations)',
    yLabel: family.outcome ? `${scale} (${family.outcome.help})` : 'y',
    xRange: [-0.5, K - 0.5],
    yRange: yr,
    height: 230,
    xSplits: splits,
    xValues: splits.map((k) => `${data.labels[k]} (${counts[k]})`),
    legend: [
      { label: family.outcome ? `observation's ${scale}` : 'observation', color: PALETTE[0] },
      { label: groupMark, color: EXACT_COLOR },
    ],
    draw: (u) => {
      drawDots(u, { label: 'y', x: xs, y: ys, color: 'rgba(0, 114, 178, 0.55)', radius: 2.2 });
      const p = pos(u);
      const ctx = u.ctx;
      ctx.strokeStyle = EXACT_COLOR;
      ctx.fillStyle = EXACT_COLOR;
      ctx.lineWidth = 2 * p.dpr;
      for (let k = 0; k < K; k++) {
        if (!counts[k]) continue;
        const x = p.x(k + 0.32);
        ctx.beginPath();
        ctx.moveTo(x, p.y(lo[k]));
        ctx.lineTo(x, p.y(hi[k]));
        ctx.stroke();
        ctx.beginPath();
        ctx.arc(x, p.y(mid[k]), 3 * p.dpr, 0, 2 * Math.PI);
        ctx.fill();
      }
    },
  });
}

/** Ticks for K categories: all up to 24, else about 24 evenly spaced. */
function labelSplits(K: number): number[] {
  const step = Math.max(1, Math.ceil(K / 24));
  return Array.from({ length: Math.ceil(K / step) }, (_, i) => i * step);
}

/** Trace plots of mu and log tau for the first chains. */
function drawTraces(muEl: HTMLElement, tauEl: HTMLElement, f: RunFigures): void {
  const t = f.trace;
  const note = t.stride > 1 ? ` (every ${t.stride}th draw)` : '';
  const series = (values: Float32Array[]) => values.map((v, c) => ({ label: `chain ${c + 1}`, values: v, color: PALETTE[c % PALETTE.length], width: 1 }));
  lineChart(muEl, { title: `Trace of mu, first ${t.chains} chains${note}`, xLabel: 'draw', yLabel: 'mu', x: t.x, series: series(t.mu) });
  lineChart(tauEl, { title: `Trace of log tau, first ${t.chains} chains${note}`, xLabel: 'draw', yLabel: 'log tau', x: t.x, series: series(t.logTau) });
}

/** tau: histogram of the draws, exact posterior density, prior density, true tau. */
function drawTau(el: HTMLElement, f: RunFigures): void {
  const t = f.tau;
  let top = 0;
  for (const a of [t.density, t.exact, t.prior]) for (const v of a) if (Number.isFinite(v)) top = Math.max(top, v);
  const hi = t.edges[t.edges.length - 1];
  const hasExact = t.exact.length > 0;
  const legend = [
    { label: 'draws (histogram)', color: PALETTE[0] },
    ...(hasExact ? [{ label: 'exact posterior', color: EXACT_COLOR }] : []),
    { label: 'prior', color: PRIOR_COLOR },
    ...(t.trueTau !== undefined ? [{ label: `true tau = ${t.trueTau}`, color: TRUTH_COLOR }] : []),
  ];
  canvasChart(el, {
    title: hasExact ? 'tau: posterior draws vs exact posterior (quadrature) and prior' : 'tau: posterior draws and prior (no exact posterior for this likelihood)',
    xLabel: 'tau',
    yLabel: 'density',
    xRange: [0, hi],
    yRange: [0, top * 1.08 || 1],
    height: 260,
    legend,
    draw: (u) => {
      // Bars filled, their outline drawn once as a step line; then the densities.
      drawHistogram(u, t.edges, t.density);
      drawCurve(u, t.grid, t.prior, PRIOR_COLOR, [6, 4]);
      if (hasExact) drawCurve(u, t.grid, t.exact, EXACT_COLOR);
      if (t.trueTau !== undefined) vline(u, t.trueTau, TRUTH_COLOR, [3, 3]);
    },
  });
}

/**
 * Posterior predictive check: y_rep's 50% and 90% intervals per group, with the
 * observations; on the outcome scale where the family has one, beside the outcome's
 * posterior (p[k]: 50% and 90% intervals, median).
 */
function drawPpc(el: HTMLElement, f: RunFigures): void {
  const { q, obsGroup, obsY, scale, columns, outcome, predictors } = f.ppc;
  const L = PPC_LEVELS.length;
  const K = f.labels.length;
  const splits = labelSplits(K);
  const xs = Float64Array.from(obsGroup, (g, i) => g + 0.18 + jitter(i, 0.1));
  const OUTCOME_COLOR = PALETTE[2];
  canvasChart(el, {
    title:
      (outcome
        ? `Posterior predictive check: ${scale} of a new observation of each group (at its median ${columns}), and ${outcome.name}[k]`
        : 'Posterior predictive check: a new observation of each group') + (predictors ? ` at the group's mean ${predictors}` : ''),
    xLabel: 'group',
    yLabel: scale,
    xRange: [-0.5, K - 0.5],
    yRange: rangeOf(outcome ? [q, obsY, outcome.q] : [q, obsY], 0.05),
    height: 260,
    xSplits: splits,
    xValues: splits.map((k) => f.labels[k]),
    legend: [
      { label: `${outcome ? `new observation's ${scale}` : 'y_rep'} 50% and 90% intervals, median`, color: PALETTE[1] },
      ...(outcome ? [{ label: `${outcome.name}[k] posterior 50% and 90% intervals, median`, color: OUTCOME_COLOR }] : []),
      { label: `observed ${outcome ? scale : 'y'} (≤ ${MAX_POINTS_PER_GROUP} per group)`, color: PALETTE[0] },
    ],
    draw: (u) => {
      const p = pos(u);
      const ctx = u.ctx;
      const w = Math.max(3, Math.min(14, (p.x(1) - p.x(0)) * 0.25));
      const interval = (values: Float64Array, k: number, x: number, color: string, fill: string, median: string) => {
        const at = (l: number) => p.y(values[k * L + l]);
        ctx.strokeStyle = color;
        ctx.lineWidth = 2 * p.dpr;
        ctx.beginPath();
        ctx.moveTo(x, at(0));
        ctx.lineTo(x, at(4));
        ctx.stroke();
        ctx.fillStyle = fill;
        ctx.fillRect(x - w / 2, at(3), w, at(1) - at(3));
        ctx.fillStyle = median;
        ctx.fillRect(x - w / 2, at(2) - p.dpr, w, 2 * p.dpr);
      };
      for (let k = 0; k < K; k++) {
        interval(q, k, p.x(k - 0.12), PALETTE[1], 'rgba(230, 159, 0, 0.55)', '#7a4f00');
        if (outcome) interval(outcome.q, k, p.x(k - 0.32), OUTCOME_COLOR, 'rgba(0, 158, 115, 0.45)', '#00563f');
      }
      drawDots(u, { label: 'y', x: xs, y: obsY, color: 'rgba(0, 114, 178, 0.6)', radius: 2 });
    },
  });
}

/** Autocorrelation of mu and tau (mean over chains). */
function drawAcf(el: HTMLElement, f: RunFigures): void {
  const a = f.acf;
  let lo = 0;
  for (const v of [...a.mu, ...a.tau]) if (Number.isFinite(v)) lo = Math.min(lo, v);
  lineChart(el, {
    title: `Autocorrelation, mean of ${a.chains} chains`,
    xLabel: 'lag',
    yLabel: 'autocorrelation',
    x: a.lags,
    yRange: [Math.min(-0.1, lo * 1.1), 1.02],
    series: [
      { label: 'mu', values: a.mu, color: PALETTE[0], width: 1.5 },
      { label: 'tau', values: a.tau, color: PALETTE[5], width: 1.5 },
    ],
  });
}

/** E-BFMI per chain: a histogram over chains, with the 0.3 threshold. */
function drawEbfmi(el: HTMLElement, f: RunFigures): void {
  const e = f.ebfmi.filter(Number.isFinite);
  // A loop, not a spread: one value per chain (up to 65,536).
  let max = 1.2;
  for (const v of e) if (v > max) max = v;
  const width = max / 30;
  const bins = new Float64Array(Math.ceil(max / width) + 1);
  for (const v of e) bins[Math.floor(v / width)]++;
  const low = e.filter((v) => v < EBFMI_THRESHOLD).length;
  let top = 0;
  for (const b of bins) top = Math.max(top, b);
  canvasChart(el, {
    title: `E-BFMI per chain (${e.length} chains, ${low} below ${EBFMI_THRESHOLD})`,
    xLabel: 'E-BFMI',
    yLabel: 'chains',
    xRange: [0, bins.length * width],
    yRange: [0, top * 1.1 || 1],
    legend: [
      { label: 'chains', color: PALETTE[2] },
      { label: `threshold ${EBFMI_THRESHOLD}`, color: DIVERGENT_COLOR },
    ],
    draw: (u) => {
      const p = pos(u);
      const ctx = u.ctx;
      ctx.fillStyle = PALETTE[2];
      bins.forEach((b, i) => {
        if (!b) return;
        const x0 = p.x(i * width);
        const x1 = p.x((i + 1) * width);
        ctx.fillRect(x0 + 0.5, p.y(b), x1 - x0 - 1, p.y(0) - p.y(b));
      });
      vline(u, EBFMI_THRESHOLD, DIVERGENT_COLOR, [4, 3]);
    },
  });
}

/** Bulk and tail ESS per second of each parameter (the lowest-ESS groups when there are many). */
function drawEss(el: HTMLElement, run: RunDone): void {
  const { report } = run;
  const secs = report.timing.total_s;
  const scale = report.throughput.ess_scale;
  let names = [...run.paramNames];
  // The globals (mu, tau, log_tau, a family's sigma, log_sigma) always; of the per-group
  // parameters (theta[label], p[label]), those with the lowest ESS.
  const globals = names.filter((n) => !isPerGroup(n));
  const perGroup = names.filter(isPerGroup);
  if (names.length > MAX_ESS_BARS) {
    perGroup.sort((a, b) => report.params[a].ess_bulk - report.params[b].ess_bulk);
    names = [...globals, ...perGroup.slice(0, Math.max(0, MAX_ESS_BARS - globals.length))];
  }
  const per = (v: number) => (v * scale) / secs;
  const short_ = (n: string) => n.replace(/^theta\[(.*)\]$/, 'θ[$1]').replace('log_tau', 'log τ').replace(/^log_/, 'log ');
  barChart(el, {
    title: `ESS per second of wall time${names.length < run.paramNames.length ? ` (the ${names.length - globals.length} per-group parameters with the lowest ESS)` : ''}`,
    xLabel: 'parameter',
    yLabel: 'ESS / s',
    categories: names.map(short_),
    groups: [
      names.map((n) => ({ value: per(report.params[n].ess_bulk), color: PALETTE[0] })),
      names.map((n) => ({ value: per(report.params[n].ess_tail), color: PALETTE[4] })),
    ],
    legend: [
      { label: 'bulk ESS / s', color: PALETTE[0] },
      { label: 'tail ESS / s', color: PALETTE[4] },
    ],
  });
}

/** Ids of the run's chart containers. */
export const RUN_CHART_IDS = ['trace-mu', 'trace-logtau', 'plot-tau', 'plot-ppc', 'plot-acf', 'plot-ebfmi', 'plot-ess'] as const;

/** Draws every figure of a run, one chart per task. `byId` finds the page's elements. */
export async function drawRun(run: RunDone, byId: (id: string) => HTMLElement): Promise<void> {
  const f = run.figures;
  await nextTask();
  drawTraces(byId('trace-mu'), byId('trace-logtau'), f);
  await nextTask();
  byId('funnel-note').textContent = `each group's sampled coordinate against log tau (${decimationNote(f.funnel)} per panel); ${f.funnel.divTotal} divergent transitions of the retained chains in red, where they diverged`;
  await drawFunnels(byId('funnels'), f.funnel, f.labels, f.c);
  await drawBeta(byId('beta-section'), byId('plot-beta'), byId('beta-plots'), byId('beta-note'), f);
  drawTau(byId('plot-tau'), f);
  await nextTask();
  await drawGlobals(byId('globals-section'), byId('globals'), f);
  drawPpc(byId('plot-ppc'), f);
  byId('ppc-note').textContent = f.ppc.outcome
    ? `on the outcome scale ${f.ppc.scale}: new observations drawn by the likelihood; an observation's ${f.ppc.scale} is its own estimate`
    : '';
  await nextTask();
  drawAcf(byId('plot-acf'), f);
  await nextTask();
  drawEbfmi(byId('plot-ebfmi'), f);
  await nextTask();
  drawEss(byId('plot-ess'), run);
}

export { DRAW_COLOR, DRAW_COLOR_B };

/**
 * Funnel panels that fill in while a run samples: each snapshot of the first chains'
 * positions (`sample({ onSnapshot })`) adds a point per chain to every panel, up to
 * `capacity` points; panels are redrawn at most every LIVE_REDRAW_MS, one per task.
 */
export class LiveFunnels {
  private readonly z: Float32Array[];
  private readonly logTau: Float32Array;
  private readonly panels: uPlot[] = [];
  private count = 0;
  private last = 0;
  private drawing = true;
  private dirty = false;
  private closed = false;

  /** Panels are built one per task (each mount lays the page out), then redrawn as snapshots arrive. */
  constructor(
    private readonly box: HTMLElement,
    private readonly note: HTMLElement,
    private readonly labels: readonly string[],
    private readonly c: ArrayLike<number>,
    private readonly capacity: number,
    /** Where a snapshot's coordinates are (`dataLayout`): log tau and each z_k, by name. */
    private readonly layout: ModelLayout,
  ) {
    const K = Math.min(labels.length, MAX_FUNNEL_PANELS);
    this.z = Array.from({ length: K }, () => new Float32Array(capacity));
    this.logTau = new Float32Array(capacity);
    unmountWithin(box);
    box.replaceChildren();
    void this.build();
  }

  private async build(): Promise<void> {
    const yr = (): [number, number] => rangeOf([this.logTau.subarray(0, this.count)], 0.06);
    for (let k = 0; k < this.z.length; k++) {
      await nextTask();
      if (this.closed) return;
      const panel = document.createElement('div');
      panel.className = 'plot panel';
      panel.dataset.group = this.labels[k];
      this.box.append(panel);
      const name = coordinateName(this.c[k], this.labels[k]);
      this.panels.push(
        canvasChart(panel, {
          title: `${name} · live`,
          xLabel: name,
          yLabel: 'log tau',
          xRange: () => rangeOf([this.z[k].subarray(0, this.count)], 0.06),
          yRange: yr,
          height: 200,
          minWidth: 200,
          compact: true,
          legend: [{ label: 'draws so far', color: PALETTE[0] }],
          draw: (u) => drawDots(u, { label: 'draws', x: this.z[k].subarray(0, this.count), y: this.logTau.subarray(0, this.count), color: DRAW_COLOR, radius: 1.4 }),
        }),
      );
    }
    this.drawing = false;
    if (this.dirty) void this.redraw();
  }

  /** Stops building and redrawing (the run ended). */
  close(): void {
    this.closed = true;
  }

  /** Adds a snapshot (chain-major positions of `chains` chains, D = layout.dim) and redraws when due. */
  add(positions: ArrayLike<number>, chains: number, iteration: number, total: number): void {
    const D = this.layout.dim;
    if (positions.length !== chains * D) throw new RangeError(`a snapshot of ${chains} chains has ${positions.length} coordinates, expected ${chains} × ${D}`);
    const iLogTau = this.layout.global('log_tau');
    for (let c = 0; c < chains && this.count < this.capacity; c++, this.count++) {
      this.logTau[this.count] = positions[c * D + iLogTau];
      for (let k = 0; k < this.z.length; k++) this.z[k][this.count] = positions[c * D + this.layout.group(k)];
    }
    this.note.textContent = `live: ${n0(this.count)} draws of the first ${chains} chains (one every ${SNAPSHOT_NOTE_INTERVAL} iterations), sampling iteration ${iteration} of ${total}; the full funnels follow when the run ends`;
    this.dirty = true;
    if (!this.drawing && performance.now() - this.last >= LIVE_REDRAW_MS) void this.redraw();
  }

  private async redraw(): Promise<void> {
    this.drawing = true;
    while (this.dirty && !this.closed) {
      this.dirty = false;
      this.last = performance.now();
      for (const u of this.panels) {
        if (this.closed) break;
        u.setData(canvasChartData(1));
        await nextTask();
      }
    }
    this.drawing = false;
  }
}

/** Most frequent redraw of the live funnels. */
export const LIVE_REDRAW_MS = 400;
/** Sampling iterations between snapshots. */
const SNAPSHOT_NOTE_INTERVAL = SAMPLING_SYNC_INTERVAL;
