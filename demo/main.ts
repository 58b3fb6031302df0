/**
 * FunnelWeb's demo page: pick data and a parameterization, run ChEES-HMC in a worker
 * (WebGPU, or the cpu backend where the browser has none), watch the adaptation live, then
 * read the traces, the funnel, tau's posterior and the summary against the exact posterior.
 *
 * `window.funnelweb` exposes a GPU self-test and the page's state for the browser test.
 */
import { exactPosterior, type ExactPosterior } from '../src/model/posterior.ts';
import type { HierData } from '../src/model/data.ts';
import { describeParameterization, parseParameterization } from '../src/model/parameterization.ts';
import type { Progress } from '../src/sampler/sample.ts';
import { initControls, readRequest } from './controls.ts';
import { seedData } from './data_source.ts';
import { byId } from './dom.ts';
import { AdaptationPlots, type AdaptationTrace } from './plots.ts';
import type { RunRequest } from './protocol.ts';
import { renderResults } from './results.ts';
import { startRun, type Run, type RunOutcome } from './runner.ts';
import { selfTest, type SelfTestResult } from './selftest.ts';
import { fmt, renderComparison, type CompareRow } from './summary_table.ts';

/** Chains the form suggests on the cpu backend (its default, 1024, is for WebGPU). */
const CPU_BROWSER_CHAINS = 128;

type PageState = 'loading' | 'idle' | 'running' | 'done' | 'stopped' | 'error';

export interface FunnelWebHook {
  /** GPU kernel vs float64 reference on `points` random points of the weak data set. */
  selfTest(points?: number): Promise<SelfTestResult>;
  state(): PageState;
  /** Redraws of the live adaptation plots since the page loaded. */
  liveUpdates(): number;
}

declare global {
  interface Window {
    funnelweb: FunnelWebHook;
  }
}

let state: PageState = 'loading';
let current: Run | null = null;
let liveUpdates = 0;

function setState(s: PageState): void {
  state = s;
  document.body.dataset.state = s;
  const running = s === 'running';
  for (const id of ['run', 'compare', 'selftest']) byId<HTMLButtonElement>(id).disabled = running;
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

/** Exact posteriors are computed once per data set. */
const exactCache = new WeakMap<HierData, ExactPosterior>();
function exactOf(data: HierData): ExactPosterior {
  let e = exactCache.get(data);
  if (!e) exactCache.set(data, (e = exactPosterior(data)));
  return e;
}

function describeProgress(p: Progress, prefix: string): string {
  const head = `${prefix}${p.phase} ${p.iteration}/${p.total}`;
  const tune = `step size ${fmt(p.stepSize, 3)} · trajectory length ${fmt(p.trajectoryLength, 3)} (${fmt(p.numSteps, 3)} steps)`;
  const acc = p.acceptRate === undefined ? '' : ` · accept ${fmt(p.acceptRate, 2)}`;
  return `${head} · ${tune}${acc} · ${p.divergences} divergences · ${p.elapsedSeconds.toFixed(1)} s`;
}

/**
 * Runs one request with live adaptation plots; resolves with the run's outcome.
 * The plots are redrawn at most once per animation frame.
 */
async function runWithPlots(request: RunRequest, prefix = ''): Promise<RunOutcome> {
  const trace: AdaptationTrace = {
    stepSize: new Float64Array(request.warmup),
    trajectoryLength: new Float64Array(request.warmup),
    divergences: new Float64Array(request.warmup),
  };
  const plots = new AdaptationPlots(byId('plot-tuning'), byId('plot-divergent'), trace);
  let filled = 0;
  let lastDivergences = 0;
  let frame = 0;
  progressLine(`${prefix}starting (compiling shaders)…`);
  current = startRun(request, (p) => {
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
  });
  const outcome = await current.outcome;
  current = null;
  cancelAnimationFrame(frame);
  if (outcome.kind === 'done') {
    // The recorded history: the step size and trajectory length each iteration used.
    const h = outcome.result.adaptation;
    trace.stepSize.set(h.stepSize);
    trace.trajectoryLength.set(h.trajectoryLength);
    trace.divergences.set(h.divergences);
    plots.update(request.warmup);
  } else {
    plots.update(filled);
  }
  return outcome;
}

function report(outcome: RunOutcome, prefix = ''): boolean {
  if (outcome.kind === 'done') {
    const r = outcome.result;
    progressLine(
      `${prefix}${r.partial ? `stopped; kept the draws so far` : 'done'}: ${r.chains} chains × ${r.draws}${r.partial ? ` of ${r.requestedDraws}` : ''} draws in ${fmt(r.timing.total_s, 3)} s on ${r.backend.name} (${r.backend.adapter}); ` +
        `summary ${fmt(outcome.summarySeconds, 2)} s`,
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
function tryRequest(parameterization?: string): RunRequest | null {
  try {
    return readRequest(parameterization);
  } catch (err) {
    showError((err as Error).message);
    return null;
  }
}

async function onRun(): Promise<void> {
  showError(null);
  const request = tryRequest();
  if (!request) return;
  setState('running');
  byId('compare-results').hidden = true;
  const outcome = await runWithPlots(request);
  if (!report(outcome) || outcome.kind !== 'done') return;
  byId('results-title').textContent = `Run: ${describeParameterization(outcome.result.model.c)}`;
  renderResults(outcome.result, outcome.summary, exactOf(request.data));
  setState('done');
}

/** Centered, then non-centered, same settings: ESS per second side by side. */
async function onCompare(): Promise<void> {
  showError(null);
  const base = tryRequest();
  if (!base) return;
  setState('running');
  const rows: CompareRow[] = [];
  const forms = ['centered', 'noncentered'] as const;
  for (const [i, form] of forms.entries()) {
    const request = { ...base, parameterization: form };
    parseParameterization(form, request.data.labels);
    const prefix = `[${i + 1}/${forms.length} ${form}] `;
    const outcome = await runWithPlots(request, prefix);
    if (!report(outcome, prefix) || outcome.kind !== 'done') return;
    rows.push({ label: form, result: outcome.result, summary: outcome.summary });
    byId('results-title').textContent = `Run: ${form}`;
    renderResults(outcome.result, outcome.summary, exactOf(request.data));
  }
  byId('compare-results').hidden = false;
  renderComparison(byId('compare-table'), rows);
  setState('done');
}

async function onSelfTest(): Promise<void> {
  showError(null);
  progressLine('GPU self-test: 256 random points, weak data, centered and non-centered…');
  try {
    const r = await selfTest(seedData('weak'));
    progressLine(
      `GPU self-test ${r.passed ? 'passed' : 'FAILED'}: max scaled error ${r.maxRelError.toExponential(2)} ` +
        `(tolerance ${r.tolerance.toExponential(2)}) on ${r.adapter}`,
    );
  } catch (err) {
    progressLine('GPU self-test failed.');
    showError((err as Error).message);
  }
}

/** Says which adapter runs the sampler, or offers the cpu backend where there is no WebGPU. */
async function detectGpu(): Promise<void> {
  const status = byId('gpu-status');
  const backend = byId<HTMLSelectElement>('backend');
  const noGpu = (why: string) => {
    status.textContent = `${why} Runs use the cpu backend (float64 TypeScript, in a worker): slower, so keep to a few hundred chains.`;
    status.classList.add('warn');
    backend.value = 'cpu';
    backend.querySelector<HTMLOptionElement>('option[value="webgpu"]')!.disabled = true;
    byId<HTMLButtonElement>('selftest').hidden = true;
    const chains = byId<HTMLInputElement>('chains');
    if (chains.value === chains.defaultValue) chains.value = String(CPU_BROWSER_CHAINS);
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

window.funnelweb = {
  selfTest: (points?: number) => selfTest(seedData('weak'), points),
  state: () => state,
  liveUpdates: () => liveUpdates,
};

initControls();
byId<HTMLFormElement>('controls').addEventListener('submit', (ev) => {
  ev.preventDefault();
  void onRun();
});
byId('stop').addEventListener('click', () => current?.stop());
byId('compare').addEventListener('click', () => void onCompare());
byId('selftest').addEventListener('click', () => void onSelfTest());
setState('idle');
void detectGpu();
