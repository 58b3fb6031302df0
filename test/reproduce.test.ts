/**
 * `funnelweb reproduce` end to end with a small configuration (64 chains x 200 + 200): it
 * exits 0 and writes report.html and the seven summaries; the page, opened from file:// in
 * headless Chromium with every non-file request aborted, attempts no network request, throws
 * no error, draws every chart (each canvas holds coloured data pixels, not only grey axes)
 * and fills every table. Screenshots are kept (FUNNELWEB_SCREENSHOT_DIR, default out/ in the
 * repository root): reproduce_report.png (the full page), reproduce_unbalanced.png (the unbalanced
 * data's section), reproduce_top.png and reproduce_closing.png (one screen each).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'src', 'cli', 'bin.ts');
const CHROMIUM = process.env.FUNNELWEB_CHROMIUM ?? '/usr/bin/chromium';
const REQUIRED = process.env.FUNNELWEB_REQUIRE_GPU === '1';
const CHROMIUM_ARGS = ['--headless=new', '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run'];
const SHOT_DIR = process.env.FUNNELWEB_SCREENSHOT_DIR ?? join(ROOT, 'out');
/** Smallest number of coloured (non-grey) pixels a canvas must hold to count as drawn. */
const MIN_DATA_PIXELS = 20;

function funnelweb(args: string[], timeout = 280_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', BIN, ...args], { cwd: ROOT, env: process.env, timeout, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: unknown }).code as number | null) : 0;
      resolve({ code: typeof code === 'number' ? code : null, stdout, stderr });
    });
  });
}

describe('funnelweb reproduce', () => {
  const dir = mkdtempSync(join(tmpdir(), 'funnelweb-reproduce-'));
  let run: { code: number | null; stdout: string; stderr: string };

  beforeAll(async () => {
    run = await funnelweb(['reproduce', '--out', dir, '--chains', '64', '--warmup', '200', '--draws', '200', '--quiet']);
  }, 300_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('exits 0 and writes report.html and one summary per case', () => {
    expect(run.code, run.stderr).toBe(0);
    const files = readdirSync(dir).sort();
    expect(files).toEqual(
      ['report.html', ...['strong_centered', 'strong_noncentered', 'unbalanced_centered', 'unbalanced_mixed_2_6', 'unbalanced_noncentered', 'weak_centered', 'weak_noncentered'].map((f) => `${f}.summary.json`)].sort(),
    );
    const s = JSON.parse(readFileSync(join(dir, 'unbalanced_mixed_2_6.summary.json'), 'utf8'));
    expect(s.data.parameterization).toEqual([0, 0, 1, 0, 0, 0, 1, 0, 0]);
    expect(s.sampler.chains).toBe(64);
    expect(run.stdout).toMatch(/(reproduced|NOT reproduced) \(unbalanced\)/);
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=/);
  });

  describe.skipIf(!existsSync(CHROMIUM) && !REQUIRED)('report.html in headless Chromium from file://, network blocked', () => {
    let browser: Browser | undefined;
    afterAll(async () => browser?.close());

    it('attempts no network request, draws every chart and fills every table', async () => {
      expect(run.code).toBe(0);
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
      await page.goto(pathToFileURL(join(dir, 'report.html')).href);
      await page.waitForFunction(() => {
        const r = (window as unknown as { __report?: { charts: number; drawn: number } }).__report;
        return document.body.dataset.charts !== undefined && r !== undefined && r.drawn >= r.charts;
      });
      expect(errors).toEqual([]);
      expect(attempted).toEqual([]);

      const charts = Number(await page.evaluate(() => document.body.dataset.charts));
      // Per case: 2 traces, tau, PPC, ACF and 9 theta funnels, and a z funnel per non-centered
      // group (9 in each non-centered case, 7 in mixed:2,6); per data set: strip plot and 9 overlaid funnels.
      const expected = 7 * (5 + 9) + (3 * 9 + 7) + 3 * (1 + 9);
      expect(charts).toBe(expected);
      const pixels = await page.$$eval('canvas', (cs) =>
        cs.map((c) => {
          const ctx = (c as HTMLCanvasElement).getContext('2d')!;
          const d = ctx.getImageData(0, 0, c.width, c.height).data;
          let coloured = 0;
          for (let i = 0; i < d.length; i += 4) {
            const max = Math.max(d[i], d[i + 1], d[i + 2]);
            const min = Math.min(d[i], d[i + 1], d[i + 2]);
            if (d[i + 3] > 0 && max - min > 60) coloured++;
          }
          return coloured;
        }),
      );
      expect(pixels.length).toBe(charts);
      const blank = pixels.flatMap((n, i) => (n < MIN_DATA_PIXELS ? [i] : []));
      expect(blank, `canvases without data pixels: ${blank.join(', ')}`).toEqual([]);

      const tables = await page.$$eval('table:not(.u-legend)', (ts) => ts.map((t) => ({ rows: t.querySelectorAll('tbody tr').length, empty: Array.from(t.querySelectorAll('td')).filter((td) => (td.textContent ?? '').trim() === '').length })));
      // Per case: diagnostics and parameters; per data set: the ranking; the closing table.
      expect(tables.length).toBe(7 * 2 + 3 + 1);
      for (const t of tables) {
        expect(t.rows).toBeGreaterThan(0);
        expect(t.empty).toBe(0);
      }
      const closingRows = await page.$$eval('table.closing tbody tr', (trs) => trs.map((tr) => tr.children[0].textContent));
      expect(closingRows).toEqual(['weak/centered', 'weak/noncentered', 'strong/centered', 'strong/noncentered', 'unbalanced/centered', 'unbalanced/noncentered', 'unbalanced/mixed:2,6']);
      expect(await page.$$eval('ul.conclusions li', (lis) => lis.length)).toBe(3);

      mkdirSync(SHOT_DIR, { recursive: true });
      await page.screenshot({ path: join(SHOT_DIR, 'reproduce_report.png'), fullPage: true });
      await page.locator('#ds-unbalanced').screenshot({ path: join(SHOT_DIR, 'reproduce_unbalanced.png') });
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({ path: join(SHOT_DIR, 'reproduce_top.png') });
      await page.locator('#closing').scrollIntoViewIfNeeded();
      await page.evaluate(() => document.getElementById('closing')!.scrollIntoView());
      await page.screenshot({ path: join(SHOT_DIR, 'reproduce_closing.png') });
    });
  });
});
