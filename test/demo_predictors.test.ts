/**
 * The demo page with population-level predictors (eta_i = theta[g_i] + x_i·beta).
 *
 * In Node: the form's predictors and column mapping (parsed as the CLI's `--predictors` and
 * `--columns`, errors naming the form's fields), pasted CSV and named-array JSON with
 * predictors, the bundled radon set, the URL keys, the layout of live snapshots, the worker
 * message's structured clone, and the reduction of a run to the coefficients' figures and a
 * predictive check at each group's mean predictors (a cpu run against the exact posterior).
 *
 * In headless Chromium (as test/browser.test.ts: the page built with Vite, served on
 * 127.0.0.1, WebGPU on SwiftShader where there is no GPU): pasted data with predictors run on
 * WebGPU, the coefficients' live and final plots show beta[name] with finite values and the
 * summary table has their rows against the exact posterior; the bundled radon data run a
 * Compare of centered and non-centered. Skipped only where /usr/bin/chromium is missing and
 * FUNNELWEB_REQUIRE_GPU is not 1.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { summarize } from '../src/diagnostics/index.ts';
import { InputError } from '../src/errors.ts';
import { familyOf } from '../src/model/families/index.ts';
import { makeModel } from '../src/model/model.ts';
import { exactPosterior } from '../src/model/posterior.ts';
import { DEFAULT_BETA_PRIOR } from '../src/model/priors.ts';
import { sample } from '../src/sampler/sample.ts';
import { forestRange, forestRows } from '../demo/beta_view.ts';
import { chooseData, describeData, fixedLikelihood, parseColumnsText, parseDataText, parsePredictorsText, RADON, takesPredictors } from '../demo/data_source.ts';
import { betaData, dataLayout, exactBeta, PPC_LEVELS, runFigures } from '../demo/figures.ts';
import { DEFAULT_GENERATOR } from '../demo/generate.ts';
import type { RunRequest } from '../demo/protocol.ts';
import { decodeSettings, encodeSettings, type Settings } from '../demo/settings.ts';
import { exactOfParam } from '../demo/summary_table.ts';

/** The true coefficients of the test data: y = theta_g + 1.5 x1 - 0.8 x2 + 0.4 x1 x2 + 0.5 e. */
const TRUE_BETA = { x1: 1.5, x2: -0.8, 'x1:x2': 0.4 } as const;
const SIGMA = 0.5;

/**
 * Test data as CSV `group,y,x1,x2`: 6 groups of 8 observations, x1 in [-1, 1], x2 in {0, 1},
 * theta_g = 2 + 0.6 (g - 2.5) (a deterministic sequence, so the data are the same every run).
 */
function predictorCsv(): string {
  let u = 0.5;
  const next = () => (u = (u * 9301 + 49297) % 233280) / 233280;
  const normal = () => Math.sqrt(-2 * Math.log(next() || 1e-12)) * Math.cos(2 * Math.PI * next());
  const lines = ['group,y,x1,x2'];
  for (let g = 0; g < 6; g++) {
    for (let j = 0; j < 8; j++) {
      const x1 = +(2 * next() - 1).toFixed(3);
      const x2 = j % 2;
      const y = 2 + 0.6 * (g - 2.5) + TRUE_BETA.x1 * x1 + TRUE_BETA.x2 * x2 + TRUE_BETA['x1:x2'] * x1 * x2 + SIGMA * normal();
      lines.push(`g${g + 1},${y.toFixed(4)},${x1},${x2}`);
    }
  }
  return lines.join('\n') + '\n';
}

const CSV = predictorCsv();
const BASE = { generator: DEFAULT_GENERATOR, text: '', textSource: '' };

describe('the form’s predictors and column mapping, as the CLI’s --predictors and --columns', () => {
  const normal = familyOf('normal');

  it('splits the predictors at commas, trims them, allows a:b products, and names the predictors field', () => {
    expect(parsePredictorsText(' x1, x2 ,x1 : x2')).toEqual(['x1', 'x2', 'x1:x2']);
    expect(parsePredictorsText('')).toEqual([]);
    expect(parsePredictorsText('   ')).toEqual([]);
    expect(() => parsePredictorsText('x1,,x2')).toThrow(/^predictors: predictor 2 has an empty name/);
    expect(() => parsePredictorsText('x1,x1')).toThrow(/^predictors: 'x1' is given twice/);
    expect(() => parsePredictorsText('a:b,b:a')).toThrow(/^predictors: 'b:a' is the same product as 'a:b'/);
    expect(() => parsePredictorsText('a:')).toThrow(InputError);
    expect(() => parsePredictorsText(Array.from({ length: 17 }, (_, i) => `x${i}`).join(','))).toThrow(/^predictors: 17 predictors: at most 16/);
  });

  it('reads the column mapping as T=NAME pairs, checked against the likelihood’s columns', () => {
    expect(parseColumnsText('y=log_radon, group = county_idx', normal)).toEqual({ y: 'log_radon', group: 'county_idx' });
    expect(parseColumnsText('', normal)).toBeUndefined();
    expect(() => parseColumnsText('y', normal)).toThrow(/^columns: 'y': expected T=NAME pairs/);
    expect(() => parseColumnsText('y=a,y=b', normal)).toThrow(/^columns: 'y' is mapped twice/);
    expect(() => parseColumnsText('trials=n', normal)).toThrow(/^columns: unknown column 'trials' to map \('trials' is a column of the binomial likelihood\)/);
    expect(() => parseColumnsText('y=a,group=a', normal)).toThrow(/^columns: 'a' is mapped to both 'y' and 'group'/);
    expect(parseColumnsText('trials=n', familyOf('binomial'))).toEqual({ trials: 'n' });
  });

  it('reads pasted CSV with predictors and their product into the design matrix, sigma unknown', () => {
    const d = parseDataText(CSV, 'pasted data', 'normal', {}, { predictors: 'x1,x2,x1:x2' });
    expect(d.likelihood).toBe('normal_sigma');
    expect([d.K, d.y.length]).toEqual([6, 48]);
    expect(d.predictors?.names).toEqual(['x1', 'x2', 'x1:x2']);
    const rows = CSV.trim().split('\n').slice(1).map((l) => l.split(',').map(Number));
    for (const i of [0, 1, 17, 47]) {
      const [, , x1, x2] = rows[i];
      expect(Array.from(d.predictors!.X.subarray(3 * i, 3 * i + 3))).toEqual([x1, x2, x1 * x2]);
    }
    expect(describeData(d)).toBe('normal_sigma likelihood, K = 6 groups, N = 48 observations, sigma unknown, predictors (x1, x2, x1:x2)');
    // Without predictors the predictor columns are unknown columns, as for the CLI.
    expect(() => parseDataText(CSV, 'pasted data', 'normal')).toThrow(/pasted data header, column 3: unknown column 'x1'/);
    // With a sigma for every observation: sigma known, the predictors alike.
    const known = parseDataText(CSV, 'pasted data', 'normal', { sigma: 0.5 }, { predictors: 'x2,x1' });
    expect(known.likelihood ?? 'normal').toBe('normal');
    expect(known.predictors?.names).toEqual(['x2', 'x1']);
    // Every other column of a CSV must be a predictor's (as for the CLI; JSON ignores other keys).
    expect(() => parseDataText(CSV, 'pasted data', 'normal', {}, { predictors: 'x1' })).toThrow(/pasted data header, column 4: unknown column 'x2'/);
  });

  it('names the form’s field in the loader’s errors: predictors, columns', () => {
    const parse = (predictors: string, columns = '') => () => parseDataText(CSV, 'pasted data', 'normal', {}, { predictors, columns });
    expect(parse('x1,zz')).toThrow(/^predictors: 'zz' is not a column of pasted data \(its other columns: 'x1', 'x2'\)/);
    expect(parse('x1,y')).toThrow(/^predictors: 'y': 'y' is the y column/);
    expect(parse('x1', 'y=obs')).toThrow(/^columns: y=obs: pasted data has no column 'obs'/);
    expect(parse('x1,x2', 'y=x2')).toThrow(/^(predictors|columns): /);
    // A constant predictor duplicates the intercept mu.
    expect(() => parseDataText('group,y,c\na,1,2\nb,2,2\n', 'pasted data', 'normal', {}, { predictors: 'c' })).toThrow(/^predictors: 'c' is 2 for every observation/);
    // The other data errors are unchanged: the row and column.
    expect(() => parseDataText('group,y,x\na,1,oops\nb,2,3\n', 'pasted data', 'normal', {}, { predictors: 'x' })).toThrow(/^pasted data row 2, column 'x': 'oops' is not a number/);
  });

  it('reads named-array JSON with a column mapping and predictors (as Stan’s and posteriordb’s files)', () => {
    const json = JSON.stringify({ N: 5, obs: [1.2, 0.4, 3.1, 2.2, 2.9], county: [1, 1, 2, 2, 3], u: [0.1, 0.1, -0.3, -0.3, 0.5], f: [0, 1, 0, 1, 1] });
    const d = parseDataText(json, 'data.json', 'normal', {}, { predictors: 'u,f', columns: 'y=obs,group=county' });
    expect(d.likelihood).toBe('normal_sigma');
    expect(d.labels).toEqual(['1', '2', '3']);
    expect(Array.from(d.group)).toEqual([0, 0, 1, 1, 2]);
    expect(d.predictors?.names).toEqual(['u', 'f']);
    expect(Array.from(d.predictors!.X)).toEqual([0.1, 0, 0.1, 1, -0.3, 0, -0.3, 1, 0.5, 1]);
    expect(() => parseDataText(json, 'data.json', 'normal', {}, { predictors: 'u', columns: 'y=obs,group=cty' })).toThrow(/^columns: group=cty: data.json has no key 'cty'/);
  });

  it('bundles posteriordb’s radon data with its two predictors, and takes the form’s predictors for it', () => {
    const choice = chooseData('radon', BASE);
    const d = choice.data;
    expect(fixedLikelihood('radon')).toBe('normal_sigma');
    expect(d.likelihood).toBe('normal_sigma');
    expect([d.K, d.y.length]).toEqual([85, 919]);
    expect(d.predictors?.names).toEqual(['log_uppm', 'floor_measure']);
    expect(RADON.predictors).toBe('log_uppm,floor_measure');
    expect(describeData(d)).toBe('normal_sigma likelihood, K = 85 groups, N = 919 observations, sigma unknown, predictors (log_uppm, floor_measure)');
    expect(choice.note).toContain('919 houses in 85 counties');
    expect(chooseData('radon', { ...BASE, predictors: '' }).data.predictors).toBeUndefined();
    expect(chooseData('radon', { ...BASE, predictors: 'floor_measure, log_uppm:floor_measure' }).data.predictors?.names).toEqual(['floor_measure', 'log_uppm:floor_measure']);
    expect(() => chooseData('radon', { ...BASE, predictors: 'basement' })).toThrow(/^predictors: 'basement' is not a key of radon_mn.json|^predictors: .*basement/);
    expect(takesPredictors('radon') && takesPredictors('custom')).toBe(true);
    for (const name of ['weak', 'eight', 'surgical', 'generated']) expect(takesPredictors(name), name).toBe(false);
  });

  it('finds the coefficients of a snapshot where the model puts them: after the globals, before the groups', () => {
    const d = chooseData('radon', BASE).data;
    const layout = dataLayout(d);
    const model = makeModel(d, new Float64Array(d.K));
    expect(layout.globals).toEqual(['mu', 'log_tau', 'log_sigma', 'beta[log_uppm]', 'beta[floor_measure]']);
    expect(layout.globals).toEqual(model.layout.globals);
    expect(layout.beta).toEqual({ start: 3, count: 2 });
    expect(layout.dim).toBe(model.dim);
    expect(layout.group(0)).toBe(5);
  });

  it('sends the predictors to the worker by structured clone: X stays a Float64Array', () => {
    const data = parseDataText(CSV, 'pasted data', 'normal', {}, { predictors: 'x1,x2,x1:x2' });
    const request: RunRequest = { data, kind: 'noncentered', parameterization: 'noncentered', chains: 8, warmup: 10, draws: 10, seed: 1, backend: 'cpu' };
    const copy = structuredClone(request);
    expect(copy.data.predictors?.names).toEqual(['x1', 'x2', 'x1:x2']);
    expect(copy.data.predictors?.X).toBeInstanceOf(Float64Array);
    expect(Array.from(copy.data.predictors!.X)).toEqual(Array.from(data.predictors!.X));
  });

  it('keeps the predictors and the mapping in the URL: pred for pasted data and radon, cols for pasted data', () => {
    const base: Settings = {
      data: 'custom', likelihood: 'normal', genK: '9', genN: '1-1000', genMu: '4.5', genTau: '3.5', genSeed: '1', genColumns: {}, text: 'group,y,x\na,1,2\n', fallback: {},
      param: 'noncentered', mixed: '', partial: '', compare: 'centered,noncentered', chains: '64', warmup: '100', draws: '100', seed: '1', backend: 'cpu',
      predictors: 'x1,x1:x2', columns: 'y=obs',
    };
    const q = encodeSettings(base);
    expect(q).toContain('pred=x1%2Cx1%3Ax2');
    expect(q).toContain('cols=y%3Dobs');
    expect(decodeSettings(q)).toMatchObject({ predictors: 'x1,x1:x2', columns: 'y=obs' });
    // Neither is a pasted column's fallback value.
    expect(decodeSettings(q).fallback).toBeUndefined();
    const radonQ = decodeSettings(encodeSettings({ ...base, data: 'radon', columns: 'y=obs' }));
    expect(radonQ.predictors).toBe('x1,x1:x2');
    expect(radonQ.columns).toBeUndefined();
    // The radon set's predictors travel even when blank (it starts with its own two).
    expect(decodeSettings(encodeSettings({ ...base, data: 'radon', predictors: '' })).predictors).toBe('');
    expect(decodeSettings(encodeSettings({ ...base, predictors: '', columns: '' }))).not.toHaveProperty('predictors');
    for (const data of ['weak', 'generated', 'surgical']) {
      const back = decodeSettings(encodeSettings({ ...base, data }));
      expect(back.predictors, data).toBeUndefined();
      expect(back.columns, data).toBeUndefined();
    }
    // Settings made before predictors (no such keys) encode as before.
    const { predictors: _p, columns: _c, ...old } = base;
    expect(encodeSettings(old)).not.toMatch(/pred=|cols=/);
  });
});

describe('figures of a run with predictors (cpu sampler, against the exact posterior)', async () => {
  const data = parseDataText(CSV, 'pasted data', 'normal', {}, { predictors: 'x1,x2,x1:x2' });
  const result = await sample({ data, parameterization: 'noncentered', chains: 32, warmup: 200, draws: 250, seed: 5, backend: 'cpu' });
  const exact = exactPosterior(data);
  const summary = summarize(result.params, result.retainedChains, result.draws, { energy: result.records.energy, divergent: result.records.divergent, acceptProb: result.records.acceptProb });
  const figures = runFigures(result, summary, exact, data, 5);

  it('reports beta[name] for every predictor, and the summary table finds each one’s exact posterior', () => {
    const names = ['beta[x1]', 'beta[x2]', 'beta[x1:x2]'];
    expect(result.paramNames).toEqual(expect.arrayContaining(names));
    expect(result.paramNames.indexOf('beta[x1]')).toBeGreaterThan(result.paramNames.indexOf('log_sigma'));
    expect(result.paramNames.indexOf('beta[x1:x2]')).toBeLessThan(result.paramNames.indexOf('theta[g1]'));
    for (const name of names) {
      const ex = exactOfParam(name, exact)!;
      expect(ex, name).toBeDefined();
      const p = summary.params[name];
      expect(Math.abs(p.mean - ex.mean) / p.mcse_mean, name).toBeLessThan(5);
    }
    // The data were drawn with TRUE_BETA: each within 4 exact sds.
    for (const [predictor, v] of Object.entries(TRUE_BETA)) {
      const ex = exactBeta(exact, predictor)!;
      expect(Math.abs(ex.mean - v) / ex.sd, predictor).toBeLessThan(4);
    }
  });

  it('gives one figure per coefficient: the summary’s interval, a density histogram of its draws, its prior and the exact posterior', () => {
    expect(figures.beta.map((b) => b.name)).toEqual(['beta[x1]', 'beta[x2]', 'beta[x1:x2]']);
    expect(figures.beta.map((b) => b.predictor)).toEqual(['x1', 'x2', 'x1:x2']);
    for (const b of figures.beta) {
      const s = summary.params[b.name];
      expect([b.mean, b.sd, b.q05, b.q50, b.q95]).toEqual([s.mean, s.sd, s.q5, s.q50, s.q95]);
      expect(b.exact).toEqual(exactBeta(exact, b.predictor));
      const lo = b.edges[0];
      const hi = b.edges[b.edges.length - 1];
      expect(lo).toBeLessThan(Math.min(b.q05, b.exact!.q05));
      expect(hi).toBeGreaterThan(Math.max(b.q95, b.exact!.q95));
      // The histogram's mass is the share of draws inside its range (mean ± 4 sd: nearly all).
      const w = b.edges[1] - b.edges[0];
      const v = result.params[b.name];
      const inside = v.filter((x) => x >= lo && x < hi).length / v.length;
      expect(b.density.subarray(0, -1).reduce((a, d) => a + d * w, 0)).toBeCloseTo(inside, 9);
      expect(inside).toBeGreaterThan(0.99);
      // The default prior N(0, 5).
      expect(b.priorText).toBe(`N(${DEFAULT_BETA_PRIOR.loc}, ${DEFAULT_BETA_PRIOR.scale})`);
      for (const i of [0, 99, 199]) expect(b.prior[i]).toBeCloseTo(Math.exp(-0.5 * (b.grid[i] / 5) ** 2) / (5 * Math.sqrt(2 * Math.PI)), 12);
    }
    // Without a summary, the same numbers from the draws (up to the summary's quantile rule).
    const bare = betaData(result, null, null);
    for (const [p, b] of bare.entries()) {
      expect(b.mean).toBeCloseTo(figures.beta[p].mean, 5);
      expect(b.exact).toBeUndefined();
    }
    // The forest plot's rows and range: every interval, and 0 where it is near.
    const rows = forestRows(figures.beta);
    expect(rows.map((r) => r.label)).toEqual(['beta[x1]', 'beta[x2]', 'beta[x1:x2]']);
    const [lo, hi] = forestRange(rows);
    for (const r of rows) expect(lo <= Math.min(r.q05, r.exact!.q05) && hi >= Math.max(r.q95, r.exact!.q95)).toBe(true);
    expect(lo).toBeLessThan(0);
  });

  it('draws the predictive check at each group’s mean predictors: theta_k + xbar_k·beta', () => {
    const p = figures.ppc;
    expect(p.predictors).toBe('x1, x2, x1:x2');
    const L = PPC_LEVELS.length;
    const P = 3;
    const sigma = exact.globals!.sigma.mean;
    for (let k = 0; k < data.K; k++) {
      const xbar = [0, 0, 0];
      let n = 0;
      for (let i = 0; i < data.y.length; i++) {
        if (data.group[i] !== k) continue;
        n++;
        for (let j = 0; j < P; j++) xbar[j] += data.predictors!.X[i * P + j];
      }
      const eta = exact.theta[k].mean + xbar.reduce((a, x, j) => a + (x / n) * exact.beta![j].mean, 0);
      const q = p.q.subarray(k * L, (k + 1) * L);
      // The median of y_rep: eta within a tenth of sigma's Monte Carlo and posterior spread.
      expect(Math.abs(q[2] - eta), `group ${k}`).toBeLessThan(0.25 * sigma + 0.1);
      expect(q[4] - q[0]).toBeGreaterThan(2 * 1.6449 * sigma * 0.85);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// The page in headless Chromium.

const CHROMIUM = process.env.FUNNELWEB_CHROMIUM ?? '/usr/bin/chromium';
const REQUIRED = process.env.FUNNELWEB_REQUIRE_GPU === '1';
const CHROMIUM_ARGS = ['--enable-unsafe-webgpu', '--headless=new', '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run'];
const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
};
/** Coloured pixels a chart's marks must leave at least (as test/browser.test.ts). */
const MIN_MARK_PIXELS = 40;

/** A static file server for `dir` on 127.0.0.1 at a free port. */
async function serve(dir: string): Promise<{ server: Server; url: string }> {
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const file = normalize(join(dir, path.endsWith('/') ? path + 'index.html' : path));
    if (!file.startsWith(dir + sep)) {
      res.writeHead(403).end();
      return;
    }
    try {
      res.writeHead(200, { 'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream' }).end(await readFile(file));
    } catch {
      res.writeHead(404).end('not found');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` };
}

/** Pixels of a canvas whose colour is clearly not grey (a chart's marks). */
function colouredPixels(page: Page, selector: string): Promise<number> {
  return page.locator(selector).first().evaluate((c) => {
    const canvas = c as HTMLCanvasElement;
    const d = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0 && Math.max(d[i], d[i + 1], d[i + 2]) - Math.min(d[i], d[i + 1], d[i + 2]) > 50) n++;
    return n;
  });
}

function waitForEnd(page: Page, timeout = 120_000): Promise<unknown> {
  return page.waitForFunction(() => ['done', 'error', 'stopped'].includes(document.body.dataset.state ?? ''), undefined, { timeout });
}

/** The summary table's header and rows (cells as text). */
async function summaryTable(page: Page): Promise<{ header: string[]; rows: Record<string, string[]> }> {
  const header = await page.$$eval('#summary thead th', (ths) => ths.map((th) => th.textContent ?? ''));
  const rows = await page.$$eval('#summary tbody tr', (trs) => trs.map((tr) => Array.from(tr.children, (c) => c.textContent ?? '')));
  return { header, rows: Object.fromEntries(rows.map((r) => [r[0], r])) };
}

/** A number as the page prints it (`fmt`: `−` never used; `1.23e-4` allowed). */
const NUMBER = String.raw`-?\d+(?:\.\d+)?(?:e[-+]?\d+)?`;

describe.skipIf(!existsSync(CHROMIUM) && !REQUIRED)('the page with predictors in headless Chromium', () => {
  const outDir = mkdtempSync(join(tmpdir(), 'funnelweb-demo-predictors-'));
  const shotDir = process.env.FUNNELWEB_SCREENSHOT_DIR ?? fileURLToPath(new URL('../out/screens', import.meta.url));
  let baseUrl = '';
  let server: Server | undefined;
  let browser: Browser | undefined;
  let page: Page;
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`FUNNELWEB_REQUIRE_GPU=1, but there is no Chromium at ${CHROMIUM} (set FUNNELWEB_CHROMIUM)`);
    mkdirSync(shotDir, { recursive: true });
    await build({ configFile: fileURLToPath(new URL('../demo/vite.config.ts', import.meta.url)), build: { outDir, emptyOutDir: true }, logLevel: 'error' });
    const served = await serve(outDir);
    server = served.server;
    baseUrl = served.url;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (err) => consoleErrors.push(`page error: ${err.message}`));
    page.on('worker', (w) => w.on('console', (m) => m.type() === 'error' && consoleErrors.push(`worker: ${m.text()}`)));
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    rmSync(outDir, { recursive: true, force: true });
  });

  it('takes predictors for pasted CSV, names a bad one, runs on WebGPU and shows beta[name] live and final, with summary rows against the exact posterior', async () => {
    await page.goto(`${baseUrl}?data=custom&param=noncentered&backend=webgpu&chains=128&warmup=200&draws=150&seed=3`);
    await page.waitForFunction(() => document.body.dataset.state === 'idle');
    expect(await page.locator('#predictor-box').isVisible()).toBe(true);
    expect(await page.locator('#columns-box').isVisible()).toBe(true);
    await page.fill('#data-text', CSV);
    // Without predictors the extra columns are unknown, as for the CLI.
    await expect.poll(() => page.textContent('#data-note')).toContain("unknown column 'x1'");
    // A predictor the data lack: the message names the field, under the data and on Run.
    await page.fill('#predictors', 'x1,zz');
    await page.dispatchEvent('#predictors', 'change');
    await expect.poll(() => page.textContent('#data-note')).toContain("predictors: 'zz' is not a column of pasted data");
    await page.click('#run');
    await expect.poll(() => page.textContent('#error')).toContain("predictors: 'zz' is not a column of pasted data");
    await page.fill('#predictors', 'x1, x2, x1:x2');
    await page.dispatchEvent('#predictors', 'change');
    await expect.poll(() => page.textContent('#data-note')).toContain('normal_sigma likelihood, K = 6 groups, N = 48 observations, sigma unknown, predictors (x1, x2, x1:x2)');
    expect(await page.textContent('#model-formula')).toContain('beta_p ~ N(0, 5) for x = (x1, x2, x1:x2)');
    expect(new URL(page.url()).searchParams.get('pred')).toBe('x1, x2, x1:x2');

    const t0 = Date.now();
    await page.click('#run');
    // The coefficients' live plot, while sampling.
    await page.waitForFunction(() => window.funnelweb.liveBeta().snapshots > 0 || document.body.dataset.state !== 'running', undefined, { timeout: 90_000 });
    await waitForEnd(page);
    console.log(`predictors run (128 chains, 200 + 150 iterations, WebGPU): ${((Date.now() - t0) / 1000).toFixed(1)} s; ${await page.textContent('#progress')}`);
    expect(await page.textContent('#error')).toBe('');
    expect(await page.evaluate(() => document.body.dataset.state)).toBe('done');
    expect(await page.textContent('#overview')).toContain('webgpu');
    const live = await page.evaluate(() => window.funnelweb.liveBeta());
    expect(live.snapshots).toBeGreaterThan(0);
    expect(live.rows.map((r) => r.label)).toEqual(['beta[x1]', 'beta[x2]', 'beta[x1:x2]']);
    for (const r of live.rows) for (const v of [r.mean, r.q05, r.q95]) expect(Number.isFinite(v), `${r.label}: ${JSON.stringify(r)}`).toBe(true);
    expect(await page.locator('#live').isVisible()).toBe(false);

    // The final plots: the forest plot and one histogram per coefficient, titled with its mean and 90% interval.
    expect(await page.locator('#beta-section').isVisible()).toBe(true);
    expect(await colouredPixels(page, '#plot-beta canvas')).toBeGreaterThan(MIN_MARK_PIXELS);
    expect(await page.textContent('#plot-beta')).toContain('Coefficients: posterior mean and 90% interval vs exact posterior');
    expect(await page.$$eval('#beta-plots .panel', (ps) => ps.map((p) => (p as HTMLElement).dataset.beta))).toEqual(['beta[x1]', 'beta[x2]', 'beta[x1:x2]']);
    const titles = await page.$$eval('#beta-plots .panel .u-title', (ts) => ts.map((t) => t.textContent ?? ''));
    const { header, rows } = await summaryTable(page);
    const [mean, exactMean, z, rhat] = ['mean', 'exact mean', 'z', 'R-hat'].map((h) => header.indexOf(h));
    for (const [p, name] of ['beta[x1]', 'beta[x2]', 'beta[x1:x2]'].entries()) {
      const m = new RegExp(`^${name.replace(/[[\]]/g, '\\$&')}: (${NUMBER}) \\(90% (${NUMBER}) to (${NUMBER})\\)$`).exec(titles[p]);
      expect(m, titles[p]).not.toBeNull();
      const [v, lo, hi] = m!.slice(1).map(Number);
      expect(lo < v && v < hi, titles[p]).toBe(true);
      expect(await colouredPixels(page, `#plot-beta-${p} canvas`), name).toBeGreaterThan(MIN_MARK_PIXELS);
      // The summary table's row: the same mean, the exact posterior's, z and R-hat.
      const r = rows[name];
      expect(r, name).toBeDefined();
      expect(Number(r[mean])).toBeCloseTo(v, 2);
      expect(r[exactMean], r.join(' | ')).not.toBe('');
      expect(Math.abs(Number(r[z])), r.join(' | ')).toBeLessThan(5);
      expect(Number(r[rhat]), r.join(' | ')).toBeLessThan(1.05);
    }
    // The rows in the outputs' order: the globals, the coefficients, then the groups.
    const names = Object.keys(rows);
    expect(names.slice(0, 8)).toEqual(['mu', 'tau', 'log_tau', 'sigma', 'log_sigma', 'beta[x1]', 'beta[x2]', 'beta[x1:x2]']);
    expect(names).toContain('theta[g6]');
    expect(await page.textContent('#plot-ppc')).toContain("at the group's mean x1, x2, x1:x2");
    await page.screenshot({ path: join(shotDir, 'run-predictors.png'), fullPage: true });
    await page.locator('#beta-section').screenshot({ path: join(shotDir, 'run-predictors-beta.png') });
    console.log(`screenshots: ${join(shotDir, 'run-predictors.png')}, run-predictors-beta.png`);
    expect(consoleErrors).toEqual([]);
  });

  it('bundles the radon data with its predictors, and compares centered and non-centered on them', async () => {
    await page.goto(`${baseUrl}?data=weak&param=noncentered&compare=centered,noncentered&backend=cpu&chains=32&warmup=150&draws=100&seed=2`);
    await page.waitForFunction(() => document.body.dataset.state === 'idle');
    expect(await page.locator('#predictor-box').isVisible()).toBe(false);
    await page.selectOption('#dataset', 'radon');
    expect(await page.inputValue('#predictors')).toBe('log_uppm,floor_measure');
    expect(await page.locator('#predictor-box').isVisible()).toBe(true);
    expect(await page.locator('#columns-box').isVisible()).toBe(false);
    expect(await page.inputValue('#likelihood')).toBe('normal_sigma');
    await expect.poll(() => page.textContent('#data-note')).toContain('K = 85 groups, N = 919 observations, sigma unknown, predictors (log_uppm, floor_measure)');
    expect(page.url()).toContain('data=radon');
    expect(page.url()).toContain('pred=log_uppm%2Cfloor_measure');
    const t0 = Date.now();
    await page.click('#compare');
    await waitForEnd(page, 120_000);
    console.log(`radon compare (cpu, 32 chains, 150 + 100 iterations, two runs): ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    expect(await page.textContent('#error')).toBe('');
    expect(await page.evaluate(() => document.body.dataset.state)).toBe('done');
    const table = await page.$$eval('#compare-table tbody tr', (trs) => trs.map((tr) => Array.from(tr.children, (c) => c.textContent ?? '')));
    expect(table.map((r) => r[0])).toEqual(['centered', 'noncentered']);
    expect(await page.textContent('#compare-verdict')).toMatch(/Winner:|No parameterization sampled cleanly/);
    // 85 counties: 36 panels per run.
    expect(await page.locator('#compare-funnels .panel canvas').count()).toBe(72);
    // The chosen run's figures: its coefficients and their rows.
    expect(await page.locator('#beta-section').isVisible()).toBe(true);
    expect(await page.$$eval('#beta-plots .panel', (ps) => ps.map((p) => (p as HTMLElement).dataset.beta))).toEqual(['beta[log_uppm]', 'beta[floor_measure]']);
    const { header, rows } = await summaryTable(page);
    const mean = header.indexOf('mean');
    // posteriordb's radon: uranium raises radon, a first-floor measurement lowers it (exact: 0.79 and -0.64).
    expect(Number(rows['beta[log_uppm]'][mean])).toBeGreaterThan(0.4);
    expect(Number(rows['beta[floor_measure]'][mean])).toBeLessThan(-0.4);
    expect(await colouredPixels(page, '#plot-beta canvas')).toBeGreaterThan(MIN_MARK_PIXELS);
    await page.screenshot({ path: join(shotDir, 'compare-radon-predictors.png'), fullPage: true });
    // Another data set leaves the predictors behind; the radon set brings its own back.
    await page.selectOption('#dataset', 'weak');
    expect(await page.inputValue('#predictors')).toBe('');
    expect(page.url()).not.toContain('pred=');
    await page.selectOption('#dataset', 'radon');
    expect(await page.inputValue('#predictors')).toBe('log_uppm,floor_measure');
    // A link keeps the radon set's predictors; a blank field (none) too.
    await page.fill('#predictors', '');
    await page.dispatchEvent('#predictors', 'change');
    await expect.poll(() => page.textContent('#data-note')).not.toContain('predictors');
    const other = await browser!.newPage();
    await other.goto(page.url());
    await other.waitForFunction(() => document.body.dataset.state === 'idle');
    expect(await other.inputValue('#predictors')).toBe('');
    expect(await other.textContent('#data-note')).toContain('K = 85 groups');
    expect(await other.textContent('#data-note')).not.toContain('predictors');
    await other.close();
    expect(consoleErrors).toEqual([]);
  });
});
