/**
 * FunnelWeb's demo page, a funnel lab: pick data (the study's sets, eight schools, the
 * generator, your own), run one parameterization or compare several on the same data and
 * seed, and read every figure of the study for each run. Sampling, diagnostics and the
 * reduction of draws to figures run in a worker per run (WebGPU, or the cpu backend where
 * the browser has none); the page only draws, one chart per task.
 *
 * `window.funnelweb` exposes a GPU self-test and the page's state for the browser test.
 */
import type { Progress } from '../src/sampler/sample.ts';
import { compareKinds, initControls, readRequest, currentSettings, parameterizationOf, readData } from './controls.ts';
import { appendCompareFunnels, clearCompare, drawCompareSummary, drawOverlay, type ComparedRun } from './compare_view.ts';
import type { DataChoice } from './data_source.ts';
import { byId } from './dom.ts';
import { rankRows } from '../src/compare/compare.ts';
import { AdaptationPlots, chartElements, chartPng, nextTask, unmountWithin, type AdaptationTrace } from './plots.ts';
import type { ExportFormat, LiveSnapshot, RunDone, RunRequest } from './protocol.ts';
import { dataLayout, MAX_FUNNEL_POINTS } from './figures.ts';
import { parseParameterization } from '../src/model/parameterization.ts';
import { drawDataStrip, drawRun, LiveFunnels } from './run_view.ts';
import { LiveBeta, type ForestRow } from './beta_view.ts';
import { startRun, type Run, type RunOutcome } from './runner.ts';
import { selfTest, type SelfTestResult } from './selftest.ts';
import type { ParamKind } from './settings.ts';
import { fmt, renderOverview, renderSummaryTable } from './summary_table.ts';
import { asSweepDoc, drawSbc, drawSweepMap, startSbc } from './sbc_view.ts';
import type { SbcDone } from './sbc_protocol.ts';

/** Chains the form suggests on the cpu backend (its default, 1024, is for WebGPU). */
const CPU_BROWSER_CHAINS = 128;
/**
 * How long after a click an export may still start its download by itself: Chrome keeps a
 * click's transient user activation for 5 s (HTML's "transient activation duration"), and
 * blocks downloads started later once a page has downloaded several files.
 */
const USER_ACTIVATION_MS = 4000;
/** A main-thread task longer than this is a "long task" worth reporting (the issue's bound). */
const LONG_TASK_LIMIT_MS = 200;

type PageState = 'loading' | 'idle' | 'running' | 'done' | 'stopped' | 'error';

export interface FunnelWebHook {
  /** Every likelihood family's GPU kernel vs the float64 reference on `points` random points each. */
  selfTest(points?: number): Promise<SelfTestResult>;
  state(): PageState;
  /** Redraws of the live adaptation plots since the page loaded. */
  liveUpdates(): number;
  /** Longest main-thread task (ms, PerformanceObserver 'longtask') while runs and their drawing were under way. */
  longestTask(): number;
  /** Charts drawn of the last Run or Compare (all drawing finished when state() is 'done'). */
  chartsDrawn(): number;
  /** Live position snapshots received since the page loaded. */
  liveSnapshots(): number;
  /** The live coefficients' plot of the last run with predictors (mean and 90% interval of the draws so far), and its redraws; empty before one. */
  liveBeta(): { rows: readonly ForestRow[]; snapshots: number };
  /** The last SBC's summary per parameterization and the charts drawn of it (null before one). */
  sbc(): { summary: SbcDone['summary']; charts: number } | null;
  /** Charts drawn of the last sweep map opened. */
  sweepCharts(): number;
}

declare global {
  interface Window {
    funnelweb: FunnelWebHook;
  }
}

let state: PageState = 'loading';
/** Worker handles whose draws the page can still export; the one shown below. */
let handles: Run[] = [];
let shown: { handle: Run; run: RunDone } | null = null;
let current: Run | null = null;
let liveUpdates = 0;
let busy = false;
let longestInRuns = 0;
let chartsDrawn = 0;
let liveSnapshots = 0;
let liveBetaState: { rows: readonly ForestRow[]; snapshots: number } = { rows: [], snapshots: 0 };
let sbcState: { summary: SbcDone['summary']; charts: number } | null = null;
let sweepCharts = 0;
let currentSbc: { stop(): void } | null = null;

function setState(s: PageState): void {
  state = s;
  document.body.dataset.state = s;
  const running = s === 'running';
  for (const id of ['run', 'compare', 'selftest', 'sbc-run']) byId<HTMLButtonElement>(id).disabled = running;
  byId<HTMLButtonElement>('stop').disabled = !running;
}

function showError(message: string | null): void {
  const box = byId('error');
  box.hidden = message === null;
  box.textContent = message ?? '';
}

const progressLine = (text: string) => {
  byId('progress').textContent = text;
};

function describeProgress(p: Progress, prefix: string): string {
  const head = `${prefix}${p.phase} ${p.iteration}/${p.total}`;
  const tune = `step size ${fmt(p.stepSize, 3)} · trajectory length ${fmt(p.trajectoryLength, 3)} (${fmt(p.numSteps, 3)} steps)`;
  const acc = p.acceptRate === undefined ? '' : ` · accept ${fmt(p.acceptRate, 2)}`;
  return `${head} · ${tune}${acc} · ${p.divergences} divergences · ${p.elapsedSeconds.toFixed(1)} s`;
}

/**
 * Starts one request with live adaptation plots; resolves with the run's handle and outcome.
 * The plots are redrawn at most once per animation frame.
 */
async function runWithPlots(request: RunRequest, prefix = ''): Promise<{ handle: Run; outcome: RunOutcome }> {
  const trace: AdaptationTrace = {
    stepSize: new Float64Array(request.warmup),
    trajectoryLength: new Float64Array(request.warmup),
    divergences: new Float64Array(request.warmup),
  };
  byId('adaptation').hidden = false;
  byId('adapt-title').textContent = `— ${request.parameterization}`;
  const plots = new AdaptationPlots(byId('plot-tuning'), byId('plot-divergent'), trace, `: ${request.parameterization}`);
  let filled = 0;
  let lastDivergences = 0;
  let frame = 0;
  let live: LiveFunnels | null = null;
  let liveBeta: LiveBeta | null = null;
  byId('live').hidden = true;
  byId('live-beta-box').hidden = true;
  unmountWithin(byId('live-beta-box'));
  const onSnapshot = (s: LiveSnapshot) => {
    if (!live) {
      byId('live').hidden = false;
      const layout = dataLayout(request.data);
      live = new LiveFunnels(byId('live-funnels'), byId('live-note'), request.data.labels, centerednessOf(request), MAX_FUNNEL_POINTS, layout);
      const predictors = request.data.predictors?.names ?? [];
      if (predictors.length > 0) {
        liveBeta = new LiveBeta(byId('live-beta-box'), byId('live-beta'), byId('live-beta-note'), predictors, MAX_FUNNEL_POINTS, layout);
        liveBetaState = { rows: [], snapshots: 0 };
      }
    }
    live.add(s.positions, s.chains, s.iteration, s.total);
    if (liveBeta) {
      liveBeta.add(s.positions, s.chains, s.iteration, s.total);
      liveBetaState = { rows: liveBeta.rows(), snapshots: liveBetaState.snapshots + 1 };
    }
    liveSnapshots++;
  };
  progressLine(`${prefix}starting (compiling shaders)…`);
  const handle = startRun(request, (p) => {
    if (p.phase === 'warmup') {
      const i = p.iteration - 1;
      trace.stepSize[i] = p.stepSize;
      trace.trajectoryLength[i] = p.trajectoryLength;
      trace.divergences[i] = p.divergences - lastDivergences;
      lastDivergences = p.divergences;
      filled = p.iteration;
      frame ||= requestAnimationFrame(() => {
        frame = 0;
        liveUpdates++;
        plots.update(filled);
      });
    }
    progressLine(describeProgress(p, prefix));
  }, onSnapshot, (text) => progressLine(prefix + text));
  current = handle;
  handles.push(handle);
  const outcome = await handle.outcome;
  current = null;
  cancelAnimationFrame(frame);
  byId('live').hidden = true;
  (live as LiveFunnels | null)?.close();
  (liveBeta as LiveBeta | null)?.close();
  unmountWithin(byId('live-funnels'));
  unmountWithin(byId('live-beta-box'));
  if (outcome.kind === 'done') {
    // The recorded history: the step size and trajectory length each iteration used.
    const h = outcome.adaptation;
    trace.stepSize.set(h.stepSize);
    trace.trajectoryLength.set(h.trajectoryLength);
    trace.divergences.set(h.divergences);
    plots.update(request.warmup);
    chartsDrawn += 2;
  } else {
    plots.update(filled);
  }
  return { handle, outcome };
}

/** The run's centeredness per group where the parameterization fixes it (NaN for auto: learned in warmup). */
function centerednessOf(request: RunRequest): Float64Array {
  try {
    if (request.kind !== 'auto') return parseParameterization(request.parameterization, request.data.labels);
  } catch {
    // Checked before the run started; NaN below names the coordinates z_k.
  }
  return new Float64Array(request.data.K).fill(NaN);
}

/** Says how a run ended; false unless it finished. */
function report(outcome: RunOutcome, prefix = ''): outcome is Extract<RunOutcome, { kind: 'done' }> {
  if (outcome.kind === 'done') {
    const r = outcome.report;
    const stopped = outcome.requestedDraws > r.sampler.draws;
    progressLine(
      `${prefix}${stopped ? 'stopped; kept the draws so far' : 'done'}: ${r.sampler.chains} chains × ${r.sampler.draws}${stopped ? ` of ${outcome.requestedDraws}` : ''} draws in ${fmt(r.timing.total_s, 3)} s on ${r.device.backend} (${r.device.adapter}); ` +
        `diagnostics and figures ${fmt(outcome.summarySeconds, 2)} s`,
    );
    return true;
  }
  if (outcome.kind === 'stopped') {
    progressLine(`${prefix}stopped.`);
    setState('stopped');
  } else {
    progressLine(`${prefix}failed.`);
    showError(`${outcome.name === 'InputError' ? '' : outcome.name + ': '}${outcome.message}`);
    setState('error');
  }
  return false;
}

/** Reads the form, or shows why it cannot be read. */
function tryRequests(kinds?: readonly ParamKind[]): RunRequest[] | null {
  try {
    return kinds ? kinds.map((k) => readRequest(k)) : [readRequest()];
  } catch (err) {
    showError((err as Error).message);
    return null;
  }
}

function disposeRuns(): void {
  for (const h of handles) h.dispose();
  handles = [];
  shown = null;
}

/** Shows one finished run in the results section: overview, every figure, summary table. */
async function showRun(handle: Run, run: RunDone): Promise<void> {
  shown = { handle, run };
  byId('results').hidden = false;
  byId('results-title').textContent = `Run: ${handle.request.parameterization}`;
  renderOverview(byId('overview'), run);
  renderSummaryTable(byId('summary'), run);
  byId('export-note').textContent = '';
  await drawRun(run, (id) => byId(id));
  const beta = run.figures.beta.length;
  chartsDrawn += 7 + 2 * run.figures.globals.length + Math.min(run.figures.labels.length, 36) + (beta > 0 ? 1 + beta : 0);
}

/** Starts counting long tasks for a run (and its drawing). */
function beginBusy(): void {
  busy = true;
  chartsDrawn = 0;
}

async function onRun(): Promise<void> {
  showError(null);
  const requests = tryRequests();
  if (!requests) return;
  const request = requests[0];
  beginBusy();
  setState('running');
  disposeRuns();
  byId('compare-results').hidden = true;
  try {
    const { handle, outcome } = await runWithPlots(request);
    if (!report(outcome)) return;
    const stopped = outcome.requestedDraws > outcome.report.sampler.draws;
    if (stopped) setState('stopped');
    await showRun(handle, outcome);
    if (!stopped) setState('done');
  } finally {
    busy = false;
  }
}

/** Every ticked parameterization, same data, seed and settings, one after another; then side by side. */
async function onCompare(): Promise<void> {
  showError(null);
  const kinds = compareKinds();
  if (kinds.length === 0) {
    showError('Compare: tick at least one parameterization');
    return;
  }
  const requests = tryRequests(kinds);
  if (!requests) return;
  beginBusy();
  setState('running');
  disposeRuns();
  byId('results').hidden = true;
  clearCompare((id) => byId(id));
  byId('compare-results').hidden = false;
  const runs: ComparedRun[] = [];
  const compared: Run[] = [];
  try {
    for (const [i, request] of requests.entries()) {
      const prefix = `[${i + 1}/${requests.length} ${request.parameterization}] `;
      const { handle, outcome } = await runWithPlots(request, prefix);
      if (!report(outcome, prefix)) return;
      if (outcome.requestedDraws > outcome.report.sampler.draws) {
        // Stopped during sampling: a part-run is not ranked against whole ones; its figures are shown.
        setState('stopped');
        await showRun(handle, outcome);
        return;
      }
      runs.push({ label: request.parameterization, run: outcome });
      compared.push(handle);
      await nextTask();
      drawCompareSummary((id) => byId(id), runs, rankRows(runs.map((r) => r.run.row)));
      await nextTask();
      await appendCompareFunnels(byId('compare-funnels'), request.parameterization, outcome);
      chartsDrawn += 2 + Math.min(outcome.figures.labels.length, 36);
    }
    const ranking = rankRows(runs.map((r) => r.run.row));
    setupOverlay(runs, requests[0]);
    await drawSelectedOverlay(runs);
    const pick = byId<HTMLSelectElement>('compare-pick');
    pick.replaceChildren(...runs.map((r, i) => new Option(`${r.label}${i === ranking.winner ? ' (winner)' : ''}`, String(i))));
    const first = Math.max(0, ranking.winner);
    pick.value = String(first);
    pick.onchange = () => void showRun(compared[Number(pick.value)], runs[Number(pick.value)].run);
    await showRun(compared[first], runs[first].run);
    progressLine(`Compared ${runs.map((r) => r.label).join(', ')}: ${ranking.winner >= 0 ? `${runs[ranking.winner].label} wins` : 'no run sampled cleanly'}.`);
    setState('done');
  } finally {
    busy = false;
  }
}

/** The overlay's choices: two runs (centered and non-centered where both ran) and a group (the least informed). */
function setupOverlay(runs: ComparedRun[], request: RunRequest): void {
  const a = byId<HTMLSelectElement>('overlay-a');
  const b = byId<HTMLSelectElement>('overlay-b');
  const g = byId<HTMLSelectElement>('overlay-group');
  for (const s of [a, b]) s.replaceChildren(...runs.map((r, i) => new Option(r.label, String(i))));
  const idx = (label: string, dflt: number) => Math.max(0, runs.findIndex((r) => r.label === label)) || dflt;
  a.value = String(runs.findIndex((r) => r.label === 'centered') >= 0 ? runs.findIndex((r) => r.label === 'centered') : 0);
  b.value = String(runs.findIndex((r) => r.label === 'noncentered') >= 0 ? idx('noncentered', 0) : Math.min(1, runs.length - 1));
  const labels = request.data.labels;
  const n = new Int32Array(labels.length);
  for (const k of request.data.group) n[k]++;
  g.replaceChildren(...labels.map((l, k) => new Option(`${l} (${n[k]} obs)`, String(k))));
  let weakest = 0;
  for (let k = 1; k < n.length; k++) if (n[k] < n[weakest]) weakest = k;
  g.value = String(weakest);
  for (const s of [a, b, g]) s.onchange = () => void drawSelectedOverlay(runs);
}

async function drawSelectedOverlay(runs: ComparedRun[]): Promise<void> {
  const a = runs[Number(byId<HTMLSelectElement>('overlay-a').value)];
  const b = runs[Number(byId<HTMLSelectElement>('overlay-b').value)];
  await drawOverlay(byId('compare-overlay'), a, b, Number(byId<HTMLSelectElement>('overlay-group').value));
}

async function onSelfTest(): Promise<void> {
  showError(null);
  progressLine('GPU self-test: every likelihood\'s kernel at 256 random points, centered and non-centered…');
  try {
    const r = await selfTest();
    const each = r.families.map((f) => `${f.family} ${f.maxRelError.toExponential(2)}${f.passed ? '' : ' FAILED'}`).join(', ');
    progressLine(`GPU self-test ${r.passed ? 'passed' : 'FAILED'}: max scaled error ${each} (tolerance ${r.tolerance.toExponential(2)}) on ${r.adapter}`);
  } catch (err) {
    progressLine('GPU self-test failed.');
    showError((err as Error).message);
  }
}

/** A file name for an export of the shown run. */
function exportName(ext: string, chart?: string): string {
  const s = currentSettings();
  const param = shown?.handle.request.parameterization.replace(/[^a-z0-9]+/gi, '-') ?? 'run';
  return `funnelweb-${s.data}-${param}-seed${s.seed}${chart ? `-${chart}` : ''}.${ext}`;
}

function download(blob: Blob, name: string): void {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

async function onExport(format: ExportFormat | 'png'): Promise<void> {
  const note = byId('export-note');
  if (!shown) return;
  try {
    if (format === 'png') {
      const charts = chartElements();
      for (const [i, c] of charts.entries()) {
        const name = c.id || `${c.closest<HTMLElement>('[data-param]')?.dataset.param ?? 'run'}-funnel-${c.dataset.group ?? i}`;
        download(await chartPng(c), exportName('png', name.replace(/[^a-z0-9]+/gi, '-')));
      }
      note.textContent = `${charts.length} charts saved as PNG.`;
      return;
    }
    note.textContent = `writing ${format}…`;
    const t0 = performance.now();
    const blob = await shown.handle.exportAs(format);
    const size = `${(blob.size / 1024).toFixed(0)} KiB`;
    if (performance.now() - t0 < USER_ACTIVATION_MS) {
      download(blob, exportName(format));
      note.textContent = `${format} saved (${size}).`;
    } else {
      // The click's user activation has expired: the browser may block a download started now, so the user starts it.
      const a = document.createElement('a');
      a.href = URL.createObjectURL(blob);
      a.download = exportName(format);
      a.textContent = `save ${a.download} (${size})`;
      note.replaceChildren(`${format} ready: `, a);
    }
  } catch (err) {
    note.textContent = `export failed: ${(err as Error).message}`;
  }
}

/** Says which adapter runs the sampler, or offers the cpu backend where there is no WebGPU. */
async function detectGpu(chainsFromUrl: boolean): Promise<void> {
  const status = byId('gpu-status');
  const backend = byId<HTMLSelectElement>('backend');
  const noGpu = (why: string) => {
    status.textContent = `${why} Runs use the cpu backend (float64 TypeScript, in a worker): slower, so keep to a few hundred chains.`;
    status.classList.add('warn');
    backend.value = 'cpu';
    backend.querySelector<HTMLOptionElement>('option[value="webgpu"]')!.disabled = true;
    byId<HTMLButtonElement>('selftest').hidden = true;
    const chains = byId<HTMLInputElement>('chains');
    if (!chainsFromUrl && chains.value === chains.defaultValue) chains.value = String(CPU_BROWSER_CHAINS);
  };
  if (!navigator.gpu) return noGpu('This browser has no WebGPU (navigator.gpu is missing; use a recent Chrome).');
  try {
    const adapter = await navigator.gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) return noGpu('WebGPU is present but found no adapter.');
    const info = adapter.info;
    const soft = /swiftshader|llvmpipe|lavapipe/i.test(`${info.vendor} ${info.architecture} ${info.description}`);
    status.textContent =
      `WebGPU adapter: ${[info.vendor, info.architecture, info.description].filter(Boolean).join(' ')}` +
      (soft ? ' — a software (CPU) adapter: expect CPU speed; keep runs small.' : '');
  } catch (err) {
    noGpu(`WebGPU failed to start (${(err as Error).message}).`);
  }
}

/** Records the longest main-thread task while a run or its drawing is under way, and shows it. */
function watchLongTasks(): void {
  if (!PerformanceObserver.supportedEntryTypes?.includes('longtask')) return;
  new PerformanceObserver((list) => {
    if (!busy) return;
    for (const e of list.getEntries()) longestInRuns = Math.max(longestInRuns, e.duration);
    const t = byId('longtask');
    t.textContent = `Longest main-thread task during runs: ${longestInRuns.toFixed(0)} ms${longestInRuns > LONG_TASK_LIMIT_MS ? ' (over 200 ms)' : ''}.`;
  }).observe({ type: 'longtask', buffered: false });
}

/** Reads a positive integer input of the SBC box, naming it in the error. */
function sbcInt(id: string, label: string, min: number, max = Infinity): number {
  const v = Number(byId<HTMLInputElement>(id).value);
  if (!Number.isInteger(v) || v < min || v > max) throw new Error(`${label}: give an integer from ${min}${Number.isFinite(max) ? ` to ${max}` : ''}`);
  return v;
}

/** Run SBC: the page's data as the design, every parameterization ticked for Compare. */
async function onSbc(): Promise<void> {
  showError(null);
  let request;
  try {
    const { data } = readData();
    if (data.predictors) throw new Error('SBC: data with predictors are not batched yet');
    const params = compareKinds().map((k) => parameterizationOf(k));
    if (params.length === 0) throw new Error('SBC: tick at least one parameterization under Compare');
    const backend = byId<HTMLSelectElement>('backend').value === 'cpu' || !('gpu' in navigator) ? 'cpu' : 'webgpu';
    request = {
      design: data,
      params,
      sims: sbcInt('sbc-sims', 'Simulations', 1, 4096),
      chains: sbcInt('sbc-chains', 'Chains each', 1, 1024),
      warmup: sbcInt('sbc-warmup', 'SBC warmup', 0),
      draws: sbcInt('sbc-draws', 'SBC draws', 7),
      seed: sbcInt('seed', 'Seed', 0),
      backend,
    } as const;
    if (request.chains * request.draws < 99) throw new Error('SBC: chains each x draws must be at least 99 (the draws the ranks are taken among)');
  } catch (err) {
    showError((err as Error).message);
    return;
  }
  beginBusy();
  setState('running');
  byId('sbc-results').hidden = false;
  const body = byId('sbc-body');
  body.replaceChildren();
  const t0 = performance.now();
  const s = startSbc(request, (done, total, param) => progressLine(`SBC: ${param}, ${Math.round((100 * done) / total)}% of ${request.params.length} x ${request.sims} fits x ${request.chains} chains (${((performance.now() - t0) / 1000).toFixed(0)} s)`));
  currentSbc = s;
  try {
    const o = await s.outcome;
    if (o.kind === 'stopped') {
      progressLine('SBC stopped.');
      setState('stopped');
      return;
    }
    if (o.kind === 'error') {
      showError(`SBC: ${o.message}`);
      setState('error');
      return;
    }
    const charts = await drawSbc(body, o, request.sims);
    sbcState = { summary: o.summary, charts };
    chartsDrawn += charts;
    progressLine(`SBC of ${request.sims} simulations x ${request.params.join(', ')}: ${o.summary.map((x) => `${x.param} ${x.passed ? 'calibrated' : 'NOT calibrated'}`).join('; ')} (${o.seconds.toFixed(1)} s).`);
    setState('done');
  } finally {
    currentSbc = null;
    busy = false;
  }
}

/** Opens a sweep.json and draws its map. */
async function onSweepFile(file: File): Promise<void> {
  showError(null);
  try {
    const doc = asSweepDoc(JSON.parse(await file.text()));
    byId('sweep-results').hidden = false;
    byId('sweep-title').textContent = `${file.name}: ${doc.sweep.data_sets} data sets x ${doc.sweep.params.join(', ')}`;
    sweepCharts = await drawSweepMap(byId('sweep-body'), doc);
  } catch (err) {
    showError(`Sweep map: ${(err as Error).message}`);
  }
}

window.funnelweb = {
  selfTest: (points?: number) => selfTest(points),
  state: () => state,
  liveUpdates: () => liveUpdates,
  longestTask: () => longestInRuns,
  chartsDrawn: () => chartsDrawn,
  liveSnapshots: () => liveSnapshots,
  liveBeta: () => liveBetaState,
  sbc: () => sbcState,
  sweepCharts: () => sweepCharts,
};

watchLongTasks();
const chainsFromUrl = new URLSearchParams(location.search).has('chains');
initControls((choice: DataChoice | null) => {
  byId('plot-data').hidden = !choice;
  byId('data-missing').hidden = !!choice;
  if (choice) drawDataStrip(byId('plot-data'), choice.data);
});
byId<HTMLFormElement>('controls').addEventListener('submit', (ev) => {
  ev.preventDefault();
  void onRun();
});
byId('stop').addEventListener('click', () => {
  current?.stop();
  currentSbc?.stop();
});
byId('sbc-run').addEventListener('click', () => void onSbc());
byId<HTMLInputElement>('sweep-file').addEventListener('change', (ev) => {
  const f = (ev.target as HTMLInputElement).files?.[0];
  if (f) void onSweepFile(f);
});
byId('compare').addEventListener('click', () => void onCompare());
byId('selftest').addEventListener('click', () => void onSelfTest());
document.querySelectorAll<HTMLButtonElement>('[data-export]').forEach((b) => b.addEventListener('click', () => void onExport(b.dataset.export as ExportFormat | 'png')));
setState('idle');
void detectGpu(chainsFromUrl);
