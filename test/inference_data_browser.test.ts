/**
 * The InferenceData writers in a browser, as the demo page uses them: a fixture page
 * (test/fixtures/idata_browser) built with Vite samples a small run on the CPU backend in
 * headless Chromium and exports it with toInferenceData + toNetcdf (h5wasm) and toZarr;
 * the .nc bytes come back and Debian's xarray reads them (netcdf4 engine), with the
 * school names as the group coordinate and the page's own mu draws.
 * Skipped only where /usr/bin/chromium is missing and FUNNELWEB_REQUIRE_GPU is not 1.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { build } from 'vite';
import { afterAll, describe, expect, it } from 'vitest';

const CHROMIUM = process.env.FUNNELWEB_CHROMIUM ?? '/usr/bin/chromium';
const REQUIRED = process.env.FUNNELWEB_REQUIRE_GPU === '1';
const PYTHON = process.env.FUNNELWEB_PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');

describe.skipIf(!existsSync(CHROMIUM) && !REQUIRED)('InferenceData export in headless Chromium', () => {
  const outDir = mkdtempSync(join(tmpdir(), 'funnelweb-idata-browser-'));
  let server: Server | undefined;
  let browser: Browser | undefined;
  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    rmSync(outDir, { recursive: true, force: true });
  });

  it('exports .nc bytes that xarray reads, and a zarr store map', async () => {
    const root = fileURLToPath(new URL('./fixtures/idata_browser/', import.meta.url));
    const site = join(outDir, 'site');
    await build({ root, configFile: false, base: './', build: { outDir: site, emptyOutDir: true, target: 'es2022' }, logLevel: 'error' });
    server = createServer(async (req, res) => {
      const file = normalize(join(site, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname).replace(/\/$/, '/index.html')));
      if (!file.startsWith(site + sep)) return void res.writeHead(403).end();
      let body: Buffer;
      try {
        body = await readFile(file);
      } catch {
        return void res.writeHead(404).end();
      }
      res.writeHead(200, { 'content-type': extname(file) === '.js' ? 'text/javascript' : 'text/html' }).end(body);
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless=new', '--no-sandbox'], headless: true });
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    await page.waitForFunction(() => document.body.dataset.state === 'done', undefined, { timeout: 120_000 });
    const got = await page.evaluate(() => window.idataExport);
    expect(errors).toEqual([]);
    if (!got || 'error' in got) throw new Error(`export failed in the page: ${got && 'error' in got ? got.error : 'nothing'}`);
    expect(got.zarrKeys).toEqual(expect.arrayContaining(['.zmetadata', 'posterior/theta/.zarray', 'posterior/theta/0.0.0']));
    const nc = join(outDir, 'browser.nc');
    writeFileSync(nc, Uint8Array.from(got.nc));

    const script = `
import json, sys, xarray as xr
p = xr.open_dataset(sys.argv[1], group='posterior', engine='netcdf4')
print(json.dumps(dict(dims=dict(p.sizes), labels=[str(x) for x in p['group'].values], mu=[float(x) for x in p['mu'].values.ravel()],
                      lib=p.attrs['inference_library'])))`;
    const out = await new Promise<string>((resolve, reject) =>
      execFile(PYTHON, ['-c', script, nc], (err, stdout, stderr) => (err ? reject(new Error(stderr)) : resolve(stdout))),
    );
    const read = JSON.parse(out) as { dims: Record<string, number>; labels: string[]; mu: number[]; lib: string };
    expect(read.dims).toEqual({ chain: 4, draw: 50, group: 8 });
    expect(read.labels).toEqual(got.labels);
    expect(read.mu).toEqual(got.mu);
    expect(read.lib).toBe('funnelweb');
  });
});
