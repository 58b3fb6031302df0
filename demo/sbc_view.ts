/**
 * The page's calibration views: a small SBC of the page's data as the design (run in
 * `sbc_worker.ts`) drawn as rank histograms and ECDF differences with the simultaneous 95%
 * band, and the map of a sweep (`funnelweb sweep`'s sweep.json, opened on the page): the
 * winning parameterization over K and sigma / (sqrt(n) tau), and each form's ESS/s against the
 * best.
 */
import type uPlot from 'uplot';
import { canvasChart, drawDots, lineChart, PALETTE, rangeOf, unmountWithin, nextTask, type LegendItem } from './plots.ts';
import type { SbcDone, SbcFromWorker, SbcRequest } from './sbc_protocol.ts';

export type SbcOutcome = ({ readonly kind: 'done' } & SbcDone) | { readonly kind: 'stopped' } | { readonly kind: 'error'; readonly message: string };

/** Starts an SBC in its own worker. */
export function startSbc(request: SbcRequest, onProgress: (done: number, total: number, param: string) => void): { outcome: Promise<SbcOutcome>; stop(): void } {
  const worker = new Worker(new URL('./sbc_worker.ts', import.meta.url), { type: 'module', name: 'funnelweb-sbc' });
  const outcome = new Promise<SbcOutcome>((resolve) => {
    const finish = (o: SbcOutcome) => {
      worker.terminate();
      resolve(o);
    };
    worker.onmessage = (ev: MessageEvent<SbcFromWorker>) => {
      const m = ev.data;
      if (m.type === 'progress') onProgress(m.done, m.total, m.param);
      else if (m.type === 'done') {
        const { type: _t, ...rest } = m;
        finish({ kind: 'done', ...rest });
      } else if (m.type === 'stopped') finish({ kind: 'stopped' });
      else finish({ kind: 'error', message: m.message });
    };
    worker.onerror = (ev) => finish({ kind: 'error', message: ev.message || 'the SBC worker failed' });
  });
  worker.postMessage({ type: 'sbc', request });
  return { outcome, stop: () => worker.postMessage({ type: 'stop' }) };
}

/** Rank histogram bins. */
const BINS = 20;
/** Parameters drawn per parameterization: mu, tau and the log-likelihood (every parameter is in the table). */
const DRAWN = ['mu', 'tau', 'log_lik'];

function cell(tag: 'td' | 'th', text: string): HTMLElement {
  const e = document.createElement(tag);
  e.textContent = text;
  return e;
}

function table(head: string[], rows: string[][]): HTMLTableElement {
  const t = document.createElement('table');
  t.className = 'summary';
  const h = t.createTHead().insertRow();
  for (const x of head) h.append(cell('th', x));
  const b = t.createTBody();
  for (const r of rows) {
    const tr = b.insertRow();
    for (const x of r) tr.append(cell('td', x));
  }
  return t;
}

/** Draws an SBC's outcome into `root` (one chart per task); returns the charts drawn. */
export async function drawSbc(root: HTMLElement, done: SbcDone, sims: number): Promise<number> {
  unmountWithin(root);
  root.replaceChildren();
  const L = done.rankDraws;
  root.append(
    table(
      ['parameterization', 'fits', 'divergent fits', 'R-hat ≥ 1.01', 'parameters in 95% band', 'calibrated'],
      done.summary.map((s) => [s.param, String(s.fits), String(s.divergent_fits), String(s.high_rhat_fits), `${s.parameters_in_band} of ${s.parameters}`, s.passed ? 'yes' : 'NO']),
    ),
  );
  const note = document.createElement('p');
  note.className = 'note';
  note.textContent = `Ranks of each true value among ${L} thinned draws of its fit (0..${L}); uniform when calibrated. Grey: the 99% range of a bin's count, and the simultaneous 95% band of the ECDF (Säilynoja, Bürkner & Vehtari 2022). ${done.seconds.toFixed(1)} s.`;
  root.append(note);
  let charts = 0;
  for (const [j, s] of done.summary.entries()) {
    const h = document.createElement('h3');
    h.textContent = `${s.param}: ${s.passed ? 'calibrated' : 'NOT calibrated'}`;
    const grid = document.createElement('div');
    grid.className = 'multiples';
    root.append(h, grid);
    for (const name of DRAWN) {
      const r = done.results.find((x) => x.param === s.param && x.parameter === name);
      if (!r) continue;
      const color = r.in_band ? PALETTE[j % PALETTE.length] : '#d62728';
      const counts = new Array<number>(BINS).fill(0);
      const width = (L + 1) / BINS;
      for (const x of r.ranks) counts[Math.min(BINS - 1, Math.floor(x / width))]++;
      const edges = Array.from({ length: BINS + 1 }, (_, i) => i * width);
      const sd = Math.sqrt((sims * (1 - 1 / BINS)) / BINS);
      const hEl = document.createElement('div');
      hEl.className = 'plot';
      grid.append(hEl);
      lineChart(hEl, {
        title: `${s.param} · ${name}: ranks`,
        xLabel: 'rank',
        yLabel: 'count',
        x: edges,
        series: [
          { label: 'count', values: [...counts, counts[BINS - 1]], color, stepped: true, fill: `${color}44` },
          { label: '99% low', values: edges.map(() => Math.max(0, sims / BINS - 2.58 * sd)), color: '#999', dash: [4, 4] },
          { label: '99% high', values: edges.map(() => sims / BINS + 2.58 * sd), color: '#999', dash: [4, 4] },
        ],
        height: 190,
      });
      charts++;
      await nextTask();
      const z: number[] = [];
      const d: number[] = [];
      const lo: number[] = [];
      const hi: number[] = [];
      const hist = new Array<number>(L + 1).fill(0);
      for (const x of r.ranks) hist[x]++;
      let c = 0;
      for (let i = 1; i <= L; i++) {
        c += hist[i - 1];
        const zi = i / (L + 1);
        z.push(zi);
        d.push(c / sims - zi);
        lo.push(done.band.lower[i - 1] / sims - zi);
        hi.push(done.band.upper[i - 1] / sims - zi);
      }
      const eEl = document.createElement('div');
      eEl.className = 'plot';
      grid.append(eEl);
      lineChart(eEl, {
        title: `${s.param} · ${name}: ECDF − uniform`,
        xLabel: 'fractional rank',
        yLabel: 'F(z) − z',
        x: z,
        series: [
          { label: 'F(z) − z', values: d, color, width: 1.5 },
          { label: '95% band', values: lo, color: '#999' },
          { label: '95% band', values: hi, color: '#999' },
        ],
        height: 190,
      });
      charts++;
      await nextTask();
    }
  }
  return charts;
}

/** The part of sweep.json the map reads. */
export interface SweepDoc {
  readonly sweep: { readonly params: readonly string[]; readonly data_sets: number };
  readonly points: readonly { readonly data: string; readonly K?: number; readonly informativeness?: number | null; readonly winner: string | null; readonly ess_per_s: Record<string, number | null> }[];
}

/** Checks that a parsed file is a sweep.json (the fields the map reads). */
export function asSweepDoc(x: unknown): SweepDoc {
  const d = x as SweepDoc;
  if (!d || typeof d !== 'object' || !d.sweep || !Array.isArray(d.sweep.params) || !Array.isArray(d.points)) throw new Error('not a sweep.json of funnelweb sweep (no sweep.params or points)');
  return d;
}

/** Draws a sweep's map into `root`; returns the charts drawn. */
export async function drawSweepMap(root: HTMLElement, doc: SweepDoc): Promise<number> {
  unmountWithin(root);
  root.replaceChildren();
  const params = doc.sweep.params;
  const color = (w: string | null) => (w === null ? '#999999' : PALETTE[params.indexOf(w) % PALETTE.length]);
  const grid = doc.points.filter((p) => typeof p.informativeness === 'number' && typeof p.K === 'number');
  const legend: LegendItem[] = [...params.map((p) => ({ label: p, color: color(p) })), { label: 'no clean run', color: color(null) }];
  let charts = 0;
  if (grid.length) {
    const box = document.createElement('div');
    box.className = 'multiples';
    root.append(box);
    const x = grid.map((p) => Math.log10(p.informativeness as number));
    const y = grid.map((p) => Math.log10(p.K as number));
    const mapEl = document.createElement('div');
    mapEl.className = 'plot';
    box.append(mapEl);
    canvasChart(mapEl, {
      title: 'winner over the grid',
      xLabel: 'log10 sigma / (sqrt(n) tau)   (right: weakly informed)',
      yLabel: 'log10 K',
      xRange: rangeOf([x], 0.12),
      yRange: rangeOf([y], 0.2),
      legend,
      height: 260,
      draw: (u: uPlot) => {
        for (const w of [...params, null]) {
          const idx = grid.map((p, i) => (p.winner === w ? i : -1)).filter((i) => i >= 0);
          drawDots(u, { label: String(w), x: idx.map((i) => x[i]), y: idx.map((i) => y[i]), color: color(w), radius: 7 });
        }
      },
    });
    charts++;
    await nextTask();
    const ratioEl = document.createElement('div');
    ratioEl.className = 'plot';
    box.append(ratioEl);
    const ratio = (name: string) =>
      grid.map((p) => {
        const vals = Object.values(p.ess_per_s).filter((v): v is number => typeof v === 'number' && v > 0);
        const v = p.ess_per_s[name];
        return typeof v === 'number' && v > 0 && vals.length ? Math.log10(v / Math.max(...vals)) : NaN;
      });
    const ys = params.map(ratio);
    canvasChart(ratioEl, {
      title: 'ESS/s against the best run of the data set',
      xLabel: 'log10 sigma / (sqrt(n) tau)',
      yLabel: 'log10 ESS/s ratio',
      xRange: rangeOf([x], 0.12),
      yRange: rangeOf(ys.map((a) => a.filter(Number.isFinite)), 0.1),
      legend: legend.slice(0, params.length),
      height: 260,
      draw: (u: uPlot) => params.forEach((p, i) => drawDots(u, { label: p, x, y: ys[i], color: color(p), radius: 5 })),
    });
    charts++;
  }
  root.append(table(['data', 'winner', ...params.map((p) => `${p} ESS/s`)], doc.points.map((p) => [p.data, p.winner ?? 'none clean', ...params.map((n) => (typeof p.ess_per_s[n] === 'number' ? Math.round(p.ess_per_s[n] as number).toLocaleString('en-US') : '–'))])));
  return charts;
}
