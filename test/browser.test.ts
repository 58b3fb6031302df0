/**
 * The demo page in a real browser: builds demo/ with Vite, serves it on 127.0.0.1, and
 * drives headless Chromium (SwiftShader's WebGPU on a machine without a GPU) through
 * playwright-core. Skipped only where /usr/bin/chromium is missing and
 * FUNNELWEB_REQUIRE_GPU is not 1 (CI sets it: there the test must run).
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
import { SELF_TEST_TOLERANCE, type SelfTestResult } from '../demo/selftest.ts';

const CHROMIUM = process.env.FUNNELWEB_CHROMIUM ?? '/usr/bin/chromium';
const REQUIRED = process.env.FUNNELWEB_REQUIRE_GPU === '1';

/**
 * Headless Chromium with WebGPU; on a machine without a GPU, Chromium falls back to
 * SwiftShader by itself (checked with Debian's chromium 156: adapter "google swiftshader").
 */
const CHROMIUM_ARGS = [
  '--enable-unsafe-webgpu',
  '--headless=new',
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wgsl': 'text/plain; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
};

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
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream' }).end(body);
    } catch {
      res.writeHead(404).end('not found');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` };
}

describe.skipIf(!existsSync(CHROMIUM) && !REQUIRED)('demo page in headless Chromium', () => {
  const outDir = mkdtempSync(join(tmpdir(), 'funnelweb-demo-'));
  /** Kept after the test, for a look at the page (FUNNELWEB_SCREENSHOT_DIR picks the folder). */
  const shotDir = process.env.FUNNELWEB_SCREENSHOT_DIR ?? mkdtempSync(join(tmpdir(), 'funnelweb-screenshot-'));
  let server: Server | undefined;
  let browser: Browser | undefined;
  let page: Page;
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`FUNNELWEB_REQUIRE_GPU=1, but there is no Chromium at ${CHROMIUM} (set FUNNELWEB_CHROMIUM)`);
    mkdirSync(shotDir, { recursive: true });
    await build({
      configFile: fileURLToPath(new URL('../demo/vite.config.ts', import.meta.url)),
      build: { outDir, emptyOutDir: true },
      logLevel: 'error',
    });
    const served = await serve(outDir);
    server = served.server;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (err) => consoleErrors.push(`page error: ${err.message}`));
    page.on('worker', (w) => w.on('console', (m) => m.type() === 'error' && consoleErrors.push(`worker: ${m.text()}`)));
    await page.goto(served.url);
    await page.waitForFunction(() => document.body.dataset.state === 'idle');
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    rmSync(outDir, { recursive: true, force: true });
  });

  it('gets a WebGPU adapter from navigator.gpu', async () => {
    const adapter = await page.evaluate(async () => {
      const a = await navigator.gpu?.requestAdapter();
      return a ? `${a.info.vendor} ${a.info.architecture}` : null;
    });
    expect(adapter).not.toBeNull();
    await expect.poll(() => page.textContent('#gpu-status')).toContain('WebGPU adapter:');
  });

  it('GPU log-density kernel matches the float64 CPU reference in the page', async () => {
    const r = await page.evaluate(() => window.funnelweb.selfTest(256));
    const result = r as SelfTestResult;
    expect(result.points).toBe(256);
    expect(result.maxRelError).toBeLessThan(SELF_TEST_TOLERANCE);
    expect(result.passed).toBe(true);
  });

  it('runs weak × non-centered (256 chains) and shows the summary against the exact posterior', async () => {
    await page.selectOption('#dataset', 'weak');
    await page.selectOption('#param-kind', 'noncentered');
    await page.selectOption('#backend', 'webgpu');
    await page.fill('#chains', '256');
    await page.fill('#warmup', '150');
    await page.fill('#draws', '150');
    await page.fill('#seed', '7');
    await page.click('#run');
    await page.waitForFunction(() => ['done', 'error', 'stopped'].includes(document.body.dataset.state ?? ''), undefined, { timeout: 150_000 });
    expect(await page.textContent('#error')).toBe('');
    expect(await page.evaluate(() => document.body.dataset.state)).toBe('done');

    const overview = await page.textContent('#overview');
    expect(overview).toContain('webgpu');
    const header = await page.$$eval('#summary thead th', (ths) => ths.map((th) => th.textContent ?? ''));
    const rows = await page.$$eval('#summary tbody tr', (trs) => trs.map((tr) => Array.from(tr.children, (c) => c.textContent ?? '')));
    expect(rows.map((r) => r[0])).toEqual(['mu', 'tau', 'log_tau', ...Array.from({ length: 9 }, (_, k) => `theta[${k}]`)]);
    // z = (mean - exact mean) / MCSE: the draws agree with the exact posterior.
    const z = header.indexOf('z');
    expect(z).toBeGreaterThan(0);
    for (const r of rows) expect(Math.abs(Number(r[z])), `${r[0]}: ${r.join(' | ')}`).toBeLessThan(5);
    expect(await page.evaluate(() => window.funnelweb.liveUpdates())).toBeGreaterThan(0);
    // Every plot drew a canvas.
    for (const id of ['plot-tuning', 'plot-divergent', 'trace-mu', 'trace-logtau', 'plot-funnel', 'plot-tau']) {
      expect(await page.locator(`#${id} canvas`).count(), id).toBe(1);
    }
    const shot = join(shotDir, 'demo.png');
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`demo screenshot: ${shot}`);
    expect(consoleErrors).toEqual([]);
  });

  it('names the field of bad input', async () => {
    await page.selectOption('#dataset', 'custom');
    await page.fill('#data-text', 'group,y,sigma\na,1.5,2\nb,oops,2\n');
    await page.click('#run');
    await expect.poll(() => page.textContent('#error')).toContain("pasted data row 3, column 'y'");
    await page.selectOption('#dataset', 'weak');
    await page.selectOption('#param-kind', 'mixed');
    await page.fill('#param-groups', '2,z');
    await page.click('#run');
    await expect.poll(() => page.textContent('#error')).toContain("group 'z' is neither a label nor an index");
  });

  it('stops a run through its AbortSignal', async () => {
    await page.selectOption('#dataset', 'weak');
    await page.selectOption('#param-kind', 'centered');
    await page.fill('#chains', '256');
    await page.fill('#warmup', '100000');
    await page.click('#run');
    await page.waitForFunction(() => document.querySelector('#progress')?.textContent?.startsWith('warmup'));
    await page.click('#stop');
    await page.waitForFunction(() => document.body.dataset.state === 'stopped', undefined, { timeout: 30_000 });
    expect(await page.textContent('#progress')).toContain('stopped');
    expect(await page.locator('#run').isEnabled()).toBe(true);
  });

  it('offers the cpu backend where the browser has no WebGPU, and runs on it', async () => {
    const nogpu = await browser!.newPage({ viewport: { width: 1400, height: 1000 } });
    nogpu.on('pageerror', (err) => consoleErrors.push(`page error (no WebGPU): ${err.message}`));
    await nogpu.addInitScript(() => Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined, configurable: true }));
    await nogpu.goto(page.url());
    await nogpu.waitForFunction(() => document.body.dataset.state === 'idle');
    await expect.poll(() => nogpu.textContent('#gpu-status')).toContain('navigator.gpu is missing');
    expect(await nogpu.inputValue('#backend')).toBe('cpu');
    await nogpu.fill('#chains', '32');
    await nogpu.fill('#warmup', '50');
    await nogpu.fill('#draws', '50');
    await nogpu.click('#run');
    await nogpu.waitForFunction(() => ['done', 'error', 'stopped'].includes(document.body.dataset.state ?? ''), undefined, { timeout: 60_000 });
    expect(await nogpu.textContent('#error')).toBe('');
    expect(await nogpu.textContent('#overview')).toContain('cpu');
    await nogpu.close();
    expect(consoleErrors).toEqual([]);
  });
});
