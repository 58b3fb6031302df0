/**
 * `funnelweb sbc` end to end on WebGPU (SwiftShader here): calibrated fits pass and a planted
 * prior mismatch is flagged, for a normal and a binomial design; sbc.json holds what it says;
 * report.html draws every figure in headless Chromium from file://; a run stopped by SIGTERM
 * keeps its finished batches and the same command finishes it with the same results as a run
 * never stopped; bad input exits 2 and writes nothing.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, funnelweb, ROOT, type Run } from './cli_helpers.ts';

const CHROMIUM = process.env.FUNNELWEB_CHROMIUM ?? '/usr/bin/chromium';
const REQUIRED = process.env.FUNNELWEB_REQUIRE_GPU === '1';
const CHROMIUM_ARGS = ['--headless=new', '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

interface Summary {
  param: string;
  fits: number;
  passed: boolean;
  parameters: number;
  parameters_in_adjusted_band: number;
}
interface Report {
  sbc: { sims: number; chains: number; shards: number; resumed_shards: number; rank_draws: number; params: string[] };
  summary: Summary[];
  results: { param: string; parameter: string; ranks: number[]; in_band: boolean; in_band_adjusted: boolean; coverage: Record<string, number> }[];
  fits: { param: string; sim: number; ranks: Record<string, number>; divergences: number; rhat_max: number }[];
  band: { lower: number[]; upper: number[] };
}

const read = (dir: string) => JSON.parse(readFileSync(join(dir, 'sbc.json'), 'utf8')) as Report;
const SMALL = ['--chains', '16', '--warmup', '150', '--draws', '100', '--quiet'];

describe('funnelweb sbc', () => {
  const dir = mkdtempSync(join(tmpdir(), 'funnelweb-sbc-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  let matched: Run;

  beforeAll(async () => {
    matched = await funnelweb(['sbc', '--data', 'demo/data/weak.json', '--sims', '200', '--param', 'noncentered', '--param', 'centered', '--param', 'auto', ...SMALL, '--out', join(dir, 'weak')]);
  }, 200_000);

  it('normal design, matched priors: every parameterization calibrated; sbc.json holds ranks, bands, coverage and every fit', () => {
    expect(matched.code, matched.stderr).toBe(0);
    expect(matched.stdout).toMatch(/noncentered +200 .* yes\n/);
    const r = read(join(dir, 'weak'));
    expect(r.sbc).toMatchObject({ sims: 200, chains: 16, rank_draws: 99, params: ['noncentered', 'centered', 'auto'] });
    expect(r.summary.map((s) => s.passed)).toEqual([true, true, true]);
    // mu, tau, 9 thetas, the log-likelihood; per parameterization.
    expect(r.results.length).toBe(3 * 12);
    expect(r.fits.length).toBe(3 * 200);
    for (const x of r.results) {
      expect(x.ranks.length).toBe(200);
      for (const k of x.ranks) expect(k >= 0 && k <= 99 && Number.isInteger(k)).toBe(true);
      expect(x.coverage['0.9']).toBeGreaterThan(0.8);
    }
    // The fits' ranks are the results' ranks, simulation by simulation.
    const mu = r.results.find((x) => x.param === 'auto' && x.parameter === 'mu')!;
    expect(r.fits.filter((f) => f.param === 'auto').map((f) => f.ranks.mu)).toEqual(mu.ranks);
    // Centered fits of weakly informed data diverge (the funnel); non-centered ones do not.
    const div = (p: string) => r.fits.filter((f) => f.param === p && f.divergences > 0).length;
    expect(div('centered')).toBeGreaterThan(100);
    expect(div('noncentered')).toBeLessThan(5);
    expect(r.band.lower.length).toBe(99);
    expect(readdirSync(join(dir, 'weak')).sort()).toEqual(['report.html', 'sbc.json', 'shards']);
  });

  it('normal design, simulations from another tau prior than the fit: flagged (tau far outside its band)', async () => {
    const run = await funnelweb(['sbc', '--data', 'demo/data/weak.json', '--sims', '200', '--sim-tau-prior', 'halfnormal:1', ...SMALL, '--out', join(dir, 'weak-mismatch')]);
    expect(run.code, run.stderr).toBe(0);
    const r = read(join(dir, 'weak-mismatch'));
    expect(r.summary[0].passed).toBe(false);
    expect(r.results.find((x) => x.parameter === 'tau')!.in_band_adjusted).toBe(false);
    expect(run.stdout).toMatch(/noncentered .* NO\n/);
  });

  it('binomial design (surgical): matched priors pass, a planted tau-prior mismatch is flagged', async () => {
    const base = ['sbc', '--data', 'demo/data/surgical.csv', '--likelihood', 'binomial', '--sims', '300', '--mu-prior', 'normal:-2,1', '--tau-prior', 'halfnormal:0.5', ...SMALL];
    const [ok, bad] = [await funnelweb([...base, '--out', join(dir, 'bin')]), await funnelweb([...base, '--sim-tau-prior', 'halfnormal:3', '--out', join(dir, 'bin-mismatch')])];
    expect(ok.code, ok.stderr).toBe(0);
    expect(bad.code, bad.stderr).toBe(0);
    const a = read(join(dir, 'bin'));
    const b = read(join(dir, 'bin-mismatch'));
    expect(a.results.length).toBe(15);
    expect(a.summary[0].passed).toBe(true);
    expect(b.summary[0].passed).toBe(false);
    expect(b.results.find((x) => x.parameter === 'tau')!.in_band).toBe(false);
  }, 120_000);

  it('normal design without sigma (sigma a parameter, ranked too): matched priors pass, a planted sigma-prior mismatch is flagged', async () => {
    const design = join(dir, 'nosigma.csv');
    const rows = ['group,y'];
    for (let k = 0; k < 8; k++) for (let i = 0; i < 3; i++) rows.push(`g${k},${(Math.sin(7 * k + 3 * i) * 3).toFixed(3)}`);
    writeFileSync(design, rows.join('\n') + '\n');
    const base = ['sbc', '--data', design, '--sims', '200', ...SMALL];
    const ok = await funnelweb([...base, '--out', join(dir, 'sigma')]);
    const bad = await funnelweb([...base, '--sim-sigma-prior', 'halfnormal:20', '--out', join(dir, 'sigma-mismatch')]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(bad.code, bad.stderr).toBe(0);
    const a = read(join(dir, 'sigma'));
    const b = read(join(dir, 'sigma-mismatch'));
    expect(a.results.map((x) => x.parameter).slice(0, 3)).toEqual(['mu', 'tau', 'sigma']);
    expect(a.summary[0].passed).toBe(true);
    expect(b.summary[0].passed).toBe(false);
    expect(b.results.find((x) => x.parameter === 'sigma')!.in_band_adjusted).toBe(false);
  }, 120_000);

  it('SIGTERM mid-run keeps the finished batches; the same command finishes the rest, equal to a run never stopped', async () => {
    const args = ['sbc', '--data', 'demo/data/weak.json', '--sims', '384', '--chains', '64', '--warmup', '100', '--draws', '50', '--param', 'noncentered', '--quiet'];
    const out = join(dir, 'stopped');
    const child = spawn(process.execPath, ['--import', 'tsx', BIN, ...args, '--out', out], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exit = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
    // Stop once the first of its six batches is kept.
    const t0 = Date.now();
    while (!(existsSync(join(out, 'shards')) && readdirSync(join(out, 'shards')).some((f) => f.endsWith('.json')))) {
      if (Date.now() - t0 > 120_000) throw new Error(`no batch finished: ${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill('SIGTERM');
    expect(await exit, stderr).toBe(143);
    expect(stderr).toMatch(/run the same command again/);
    const kept = readdirSync(join(out, 'shards')).filter((f) => f.endsWith('.json'));
    expect(kept.length).toBeGreaterThanOrEqual(1);
    expect(kept.length).toBeLessThan(6);
    expect(existsSync(join(out, 'sbc.json'))).toBe(false);
    // No temporary is left under a final name's folder.
    expect(readdirSync(join(out, 'shards')).filter((f) => f.endsWith('.tmp'))).toEqual([]);

    const again = await funnelweb([...args, '--out', out]);
    expect(again.code, again.stderr).toBe(0);
    const resumed = read(out);
    expect(resumed.sbc.resumed_shards).toBe(kept.length);
    expect(resumed.sbc.shards).toBe(6);
    const straight = await funnelweb([...args, '--out', join(dir, 'straight')]);
    expect(straight.code, straight.stderr).toBe(0);
    expect(resumed.results).toEqual(read(join(dir, 'straight')).results);
    expect(resumed.fits).toEqual(read(join(dir, 'straight')).fits);
  }, 240_000);

  it('bad input: exit 2 naming the flag, and nothing written', async () => {
    const out = join(dir, 'bad');
    const cases: [string[], RegExp][] = [
      [['--sims', '0'], /--sims/],
      [['--draws', '5', '--chains', '4'], /--draws/],
      [['--param', 'sideways'], /--param/],
      [['--sim-tau-prior', 'uniform:1'], /--sim-tau-prior/],
      [['--backend', 'tpu'], /--backend/],
      [['--predictors', 'x'], /--predictors/],
    ];
    for (const [extra, field] of cases) {
      const r = await funnelweb(['sbc', '--data', 'demo/data/weak.json', ...extra, '--out', out]);
      expect(r.code, extra.join(' ')).toBe(2);
      expect(r.stderr).toMatch(field);
      expect(existsSync(out)).toBe(false);
    }
    // A prior of sigma for data whose likelihood has no sigma parameter.
    const r = await funnelweb(['sbc', '--data', 'demo/data/surgical.csv', '--likelihood', 'binomial', '--sigma-prior', 'halfnormal:2', '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--sigma-prior/);
    // An --out holding another run's batches is refused rather than mixed in.
    mkdirSync(join(out, 'shards'), { recursive: true });
    writeFileSync(join(out, 'shards', 'p0-0-256.json'), JSON.stringify({ key: 'another', shard: { param: 'noncentered', first: 0, count: 256 }, fits: [] }));
    const other = await funnelweb(['sbc', '--data', 'demo/data/weak.json', '--sims', '10', '--out', out]);
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/another SBC run/);
    expect(existsSync(join(out, 'sbc.json'))).toBe(false);
  }, 120_000);

  describe.skipIf(!existsSync(CHROMIUM) && !REQUIRED)('report.html in headless Chromium from file://, network blocked', () => {
    let browser: Browser | undefined;
    afterAll(async () => browser?.close());

    it('attempts no network request and draws every figure', async () => {
      expect(matched.code).toBe(0);
      browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
      const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
      const attempted: string[] = [];
      await context.route('**/*', (route) => {
        const url = route.request().url();
        if (url.startsWith('file:')) return route.continue();
        attempted.push(url);
        return route.abort();
      });
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(pathToFileURL(join(dir, 'weak', 'report.html')).href);
      await page.waitForFunction(() => {
        const r = (window as unknown as { __report?: { charts: number; drawn: number } }).__report;
        return document.body.dataset.charts !== undefined && r !== undefined && r.drawn >= r.charts;
      });
      expect(errors).toEqual([]);
      expect(attempted).toEqual([]);
      const charts = Number(await page.evaluate(() => document.body.dataset.charts));
      // Per parameterization: a rank histogram and an ECDF difference for mu, tau, log_lik and 8 of the 9 groups.
      expect(charts).toBe(3 * 2 * (3 + 8));
      const pixels = await page.$$eval('canvas', (cs) =>
        cs.map((c) => {
          const d = (c as HTMLCanvasElement).getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
          let coloured = 0;
          for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0 && Math.max(d[i], d[i + 1], d[i + 2]) - Math.min(d[i], d[i + 1], d[i + 2]) > 60) coloured++;
          return coloured;
        }),
      );
      expect(pixels.length).toBe(charts);
      expect(pixels.filter((n) => n < 20)).toEqual([]);
      const text = await page.evaluate(() => document.body.innerText);
      expect(text).toMatch(/noncentered: calibrated/);
      const shots = process.env.FUNNELWEB_SCREENSHOT_DIR ?? join(ROOT, 'out');
      mkdirSync(shots, { recursive: true });
      await page.screenshot({ path: join(shots, 'sbc_report.png'), fullPage: false });
    });
  });
});
