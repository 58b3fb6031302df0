/**
 * `funnelweb sweep` end to end on WebGPU (SwiftShader here): a 2 x 2 grid of data sets from
 * strongly to weakly informed groups x centered and non-centered; the physics of the funnel
 * shows (centered diverges on weak data and is the faster form on strong data); sweep.json,
 * sweep.csv and report.html hold what they say; the page draws its figures in Chromium; bad
 * input exits 2. The same sweep on three BullMQ workers, one SIGKILLed mid-job, gives the
 * same runs (everything the draws decide; the clock-bound ESS/s aside).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, funnelweb, ROOT, type Run } from './cli_helpers.ts';
import { SWEEP_CSV_COLUMNS } from '../src/sweep/run.ts';
import { REDIS_SERVER, startRedis } from './redis_helpers.ts';

const CHROMIUM = process.env.FUNNELWEB_CHROMIUM ?? '/usr/bin/chromium';
const REDIS = REDIS_SERVER;
const REQUIRED = process.env.FUNNELWEB_REQUIRE_GPU === '1';

interface Row {
  data: string;
  param: string;
  informativeness: number;
  winner: boolean;
  verdict: string;
  divergences: number;
  ess_bulk_min: number;
  ess_bulk_min_per_s: number;
  rhat_max: number;
  step_size: number;
  mean_leapfrog_steps: number;
}
const ARGS = ['sweep', '--grid', 'K=8;n=1,10;sigma=1,10;tau=1', '--param', 'centered', '--param', 'noncentered', '--chains', '128', '--warmup', '300', '--draws', '300', '--quiet'];
const read = (dir: string) => JSON.parse(readFileSync(join(dir, 'sweep.json'), 'utf8')) as { cells: Row[]; points: { data: string; winner: string | null; ess_ratio: number | null }[]; sweep: { runner: string; data_sets: number } };
/** What the draws decide (the same in any process on the same device): every field but the clock's. */
const drawn = (rows: Row[]) => rows.map((r) => ({ data: r.data, param: r.param, divergences: r.divergences, ess: r.ess_bulk_min, rhat: r.rhat_max, step: r.step_size, L: r.mean_leapfrog_steps }));

describe('funnelweb sweep', () => {
  const dir = mkdtempSync(join(tmpdir(), 'funnelweb-sweep-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  let run: Run;
  beforeAll(async () => {
    run = await funnelweb([...ARGS, '--out', join(dir, 'local')], 280_000);
  }, 300_000);

  it('every data set x parameterization has a row; the funnel shows where it should', () => {
    expect(run.code, run.stderr).toBe(0);
    const r = read(join(dir, 'local'));
    expect(r.sweep.data_sets).toBe(4);
    expect(r.cells.length).toBe(8);
    expect(r.points.length).toBe(4);
    const row = (n: number, sigma: number, param: string) => r.cells.find((c) => c.data === `K=8,n=${n},sigma=${sigma},tau=1,mu=0` && c.param === param)!;
    // Weakly informed (sigma / sqrt(n) tau = 10): the centered form diverges in the funnel's neck.
    expect(row(1, 10, 'centered').informativeness).toBeCloseTo(10, 10);
    expect(row(1, 10, 'centered').divergences).toBeGreaterThan(0);
    expect(row(1, 10, 'centered').verdict).toMatch(/^lost: .*divergences/);
    // Strongly informed (0.316): centered is the faster form.
    expect(row(10, 1, 'centered').ess_bulk_min_per_s).toBeGreaterThan(row(10, 1, 'noncentered').ess_bulk_min_per_s);
    expect(row(10, 1, 'noncentered').step_size).toBeLessThan(row(10, 1, 'centered').step_size);
    // One winner at most per data set, and the points agree with the rows.
    for (const p of r.points) {
      const winners = r.cells.filter((c) => c.data === p.data && c.winner);
      expect(winners.length).toBeLessThanOrEqual(1);
      expect(p.winner).toBe(winners[0]?.param ?? null);
    }
    expect(run.stdout).toMatch(/K=8,n=10,sigma=1,tau=1,mu=0 +\S+/);
  });

  it('sweep.csv has the rows of sweep.json under its header', () => {
    const csv = readFileSync(join(dir, 'local', 'sweep.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe(SWEEP_CSV_COLUMNS.join(','));
    expect(csv.length).toBe(1 + 8);
    expect(readdirSync(join(dir, 'local')).sort()).toEqual(['cells', 'report.html', 'sweep.csv', 'sweep.json']);
  });

  it('bad input: exit 2 naming the flag, nothing written', async () => {
    for (const [args, flag] of [
      [['--grid', 'K=0'], /--grid/],
      [['--grid', 'Q=1'], /--grid/],
      [['--grid', 'K=4', '--param', 'mixed:9'], /--param/],
      [['--grid', 'K=4', '--chains', 'x'], /--chains/],
      [[], /--grid/],
    ] as [string[], RegExp][]) {
      const r = await funnelweb(['sweep', ...args, '--out', join(dir, 'bad')]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(flag);
      expect(existsSync(join(dir, 'bad'))).toBe(false);
    }
  });

  describe.skipIf(!existsSync(CHROMIUM) && !REQUIRED)('report.html in headless Chromium', () => {
    let browser: Browser | undefined;
    afterAll(async () => browser?.close());
    it('draws the winner map and the ratio chart, no network', async () => {
      browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless=new', '--no-sandbox'], headless: true });
      const context = await browser.newContext();
      const attempted: string[] = [];
      await context.route('**/*', (route) => (route.request().url().startsWith('file:') ? route.continue() : (attempted.push(route.request().url()), route.abort())));
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(pathToFileURL(join(dir, 'local', 'report.html')).href);
      await page.waitForFunction(() => {
        const r = (window as unknown as { __report?: { charts: number; drawn: number } }).__report;
        return document.body.dataset.charts !== undefined && r !== undefined && r.drawn >= r.charts;
      });
      expect(errors).toEqual([]);
      expect(attempted).toEqual([]);
      expect(Number(await page.evaluate(() => document.body.dataset.charts))).toBe(2);
      const rows = await page.$$eval('table:not(.u-legend) tbody tr', (trs) => trs.length);
      expect(rows).toBe(4 + 8);
    });
  });

  describe.skipIf(!existsSync(REDIS) && !REQUIRED)('on three BullMQ workers, one SIGKILLed mid-job', () => {
    let redis: { stop(): void } | undefined;
    const workers: { proc: ChildProcess; log: string; exit: Promise<unknown> }[] = [];
    afterAll(() => {
      for (const w of workers) w.proc.kill('SIGKILL');
      redis?.stop();
    });

    it('every data set once; the same runs as in-process', async () => {
      const r = await startRedis(dir);
      redis = r;
      const url = r.url;
      for (let i = 0; i < 3; i++) {
        const proc = spawn(process.execPath, ['--import', 'tsx', BIN, 'worker', '--queue', url], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
        const w = { proc, log: '', exit: new Promise((res) => proc.on('exit', res)) };
        proc.stderr!.on('data', (d) => (w.log += d));
        workers.push(w);
      }
      while (!workers.every((w) => w.log.includes('listening'))) await new Promise((r) => setTimeout(r, 50));
      const coord = funnelweb([...ARGS, '--queue', url, '--out', join(dir, 'queued')], 280_000);
      let victim;
      while (!(victim = workers.find((w) => / started/.test(w.log)))) await new Promise((r) => setTimeout(r, 20));
      victim.proc.kill('SIGKILL');
      await victim.exit;
      const q = await coord;
      expect(q.code, q.stderr).toBe(0);
      const job = / job (\S+): started/.exec(victim.log)![1];
      expect(workers.filter((w) => w !== victim).some((w) => w.log.includes(`job ${job}: done`))).toBe(true);
      expect(readdirSync(join(dir, 'queued', 'cells')).sort()).toEqual(['c0.json', 'c1.json', 'c2.json', 'c3.json']);
      const a = read(join(dir, 'queued'));
      const b = read(join(dir, 'local'));
      expect(a.sweep.runner).toMatch(/BullMQ/);
      expect(drawn(a.cells)).toEqual(drawn(b.cells));
    }, 280_000);
  });
});
