/**
 * The package as users get it: `npm pack` (which builds dist/ through the `prepare` script),
 * the tarball installed into an empty folder with npm, and then, with plain `node` and no
 * TypeScript loader:
 *
 * - the installed `funnelweb --help` (node_modules/.bin) prints the usage and exits 0;
 * - the installed `funnelweb reproduce` finds the seed data, its page script and uPlot in the
 *   package and writes its report;
 * - the tarball holds the built JavaScript with its declarations, the shaders, the seed data
 *   sets and the quickstart, and no TypeScript sources;
 * - a plain `.mjs` script imports `loadData`, `sample`, `reportRun` from 'funnelweb' and
 *   samples on WebGPU (shaders resolved from the installed package), printing a summary;
 * - TypeScript resolves the package's declarations (`types`), WebGPU's types included;
 * - the summary worker threads start from dist/ (`summarizeParallel` with all the work
 *   left to the workers gives the single-threaded answer);
 * - the README's quickstart, examples/quickstart.mjs, runs from the installed package.
 *
 * The WebGPU parts skip without an adapter unless FUNNELWEB_REQUIRE_GPU=1.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testGpu } from './gpu_helpers.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const gpu = await testGpu();

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[], cwd: string, timeout = 300_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd, env: process.env, timeout, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: unknown }).code as number | null) : 0;
      resolve({ code: typeof code === 'number' ? code : null, stdout, stderr });
    });
  });
}

function ok(r: Run, what: string): Run {
  if (r.code !== 0) throw new Error(`${what} exited ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
  return r;
}

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
let dir: string;
let pkg: string;
let files: string[];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'funnelweb-pack-'));
  const packed = ok(await run(npm, ['pack', '--json', '--pack-destination', dir], ROOT), 'npm pack');
  // npm pack --json prints the prepare script's output first; the JSON array is last.
  const info = JSON.parse(packed.stdout.slice(packed.stdout.lastIndexOf('\n[') + 1)) as { filename: string; files: { path: string }[] }[];
  files = info[0].files.map((f) => f.path);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'funnelweb-user', private: true, type: 'module' }) + '\n');
  ok(await run(npm, ['install', '--no-audit', '--no-fund', '--prefer-offline', '--no-package-lock', join(dir, info[0].filename)], dir), 'npm install');
  pkg = join(dir, 'node_modules', 'funnelweb');
}, 600_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('npm pack, installed into an empty folder', () => {
  it('ships the built JavaScript, declarations, shaders, seed data and quickstart, not the sources', () => {
    for (const f of ['dist/index.js', 'dist/index.d.ts', 'dist/cli/bin.js', 'dist/diagnostics/summary_worker.js', 'dist/report/page.js', 'dist/report/report_common.js', 'dist/report/sbc_page.js', 'dist/report/sweep_page.js', 'shaders/hmc.wgsl', 'shaders/batch_hmc.wgsl', 'shaders/batch_stats.wgsl', 'demo/data/unbalanced.json', 'examples/quickstart.mjs', 'package.json']) {
      expect(files).toContain(f);
    }
    expect(files.filter((f) => f.startsWith('src/') || f.startsWith('test/'))).toEqual([]);
    const manifest = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8'));
    // no tsx at run time; h5wasm, zarrita and @zarrita/storage read and write InferenceData; uPlot is inlined into reproduce's report;
    // webgpu-utils lays out the structs the host packs from their WGSL (src/gpu/structs.ts); bullmq and ioredis (its
    // Redis client, used directly for the connection check) carry sbc's and sweep's jobs to workers (src/queue/redis.ts)
    expect(Object.keys(manifest.dependencies).sort()).toEqual(['@webgpu/types', '@zarrita/storage', 'bullmq', 'h5wasm', 'ioredis', 'uplot', 'webgpu', 'webgpu-utils', 'zarrita']);
    expect(readFileSync(join(pkg, 'dist', 'cli', 'bin.js'), 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });

  it('runs the installed `funnelweb --help` with plain node', async () => {
    const bin = join(dir, 'node_modules', '.bin', 'funnelweb');
    expect(existsSync(bin)).toBe(true);
    const r = ok(await run(bin, ['--help'], dir), 'funnelweb --help');
    expect(r.stdout).toContain('funnelweb sample --data FILE');
    expect(r.stdout).toContain('funnelweb diagnose DRAWS.csv');
    expect(r.stderr).toBe('');
    const s = ok(await run(bin, ['sample', '--help'], dir), 'funnelweb sample --help');
    expect(s.stdout).toContain('--verbose');
  });

  it('runs the installed `funnelweb reproduce`: seed data, page script and uPlot found in the package', async () => {
    const bin = join(dir, 'node_modules', '.bin', 'funnelweb');
    const out = join(dir, 'study');
    ok(await run(bin, ['reproduce', '--out', out, '--chains', '16', '--warmup', '60', '--draws', '60', '--quiet'], dir), 'funnelweb reproduce');
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toContain('uPlot');
    expect(html).toContain('window.__report');
    expect(existsSync(join(out, 'unbalanced_mixed_2_6.summary.json'))).toBe(true);
  });

  it('writes and reads InferenceData and reads CmdStan files with plain node (h5wasm, zarrita from the installed package)', async () => {
    const bin = join(dir, 'node_modules', '.bin', 'funnelweb');
    const golden = join(ROOT, 'test', 'golden');
    for (const input of [[join(golden, 'cmdstan_warmup.nc')], [join(golden, 'cmdstan_warmup.zarr')], [1, 2, 3, 4].map((i) => join(golden, 'cmdstan', `cmdstan_warmup_${i}.csv`))]) {
      const r = ok(await run(bin, ['diagnose', ...input], dir), `funnelweb diagnose ${input[0]}`);
      expect(r.stdout).toMatch(/4 chains × 200 draws/);
      expect(r.stdout).toMatch(/^theta\[8\]\s/m);
    }
    for (const out of ['run.nc', 'run.zarr']) {
      ok(await run(bin, ['sample', '--data', join(ROOT, 'demo', 'data', 'weak.json'), '--backend', 'cpu', '--chains', '4', '--warmup', '30', '--draws', '20', '--quiet', '--out', out], dir), `funnelweb sample --out ${out}`);
      const r = ok(await run(bin, ['diagnose', out], dir), `funnelweb diagnose ${out}`);
      expect(r.stdout).toMatch(/4 chains × 20 draws/);
    }
  });

  it('starts the summary worker threads from dist/', async () => {
    writeFileSync(
      join(dir, 'workers.mjs'),
      `import { summarize } from 'funnelweb';
import { summarizeParallel, lastParallelStats } from './node_modules/funnelweb/dist/diagnostics/parallel.js';
const chains = 4, draws = 200, params = {};
for (const name of ['a', 'b', 'c']) {
  const x = new Float64Array(chains * draws);
  for (let i = 0; i < x.length; i++) x[i] = Math.sin(i * (name.charCodeAt(0) - 90) * 0.37) + (i % 7) / 7;
  params[name] = x;
}
const par = await summarizeParallel(params, chains, draws, { threads: 2, callerWorks: false });
const one = summarize(params, chains, draws);
console.log(JSON.stringify({ stats: lastParallelStats, same: JSON.stringify(par) === JSON.stringify(one) }));
`,
    );
    const r = ok(await run(process.execPath, ['workers.mjs'], dir), 'workers.mjs');
    const out = JSON.parse(r.stdout);
    expect(out.stats.workerFailures).toEqual([]);
    expect(out.stats.paramsByWorkers).toBe(3);
    expect(out.same).toBe(true);
  });

  it('gives TypeScript users its declarations (types resolve, WebGPU types included)', async () => {
    writeFileSync(
      join(dir, 'consumer.ts'),
      `import { loadData, sample, reportRun, requestGpu, type SampleResult } from 'funnelweb';
const data = await loadData('data.json');
const result: SampleResult = await sample({ data, chains: 8, backend: 'auto' });
const chains: number = reportRun(result).report.sampler.chains;
const device: GPUDevice = (await requestGpu()).device;
// @ts-expect-error: chains is a number (fails as an unused directive if the types were any)
const wrong: string = result.chains;
console.log(chains, device.label, wrong, result.backend.fallbackReason ?? '');
`,
    );
    const compilerOptions = { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, lib: ['ES2022', 'DOM'], types: [] };
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['consumer.ts'] }) + '\n');
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const r = await run(process.execPath, [tsc, '-p', 'tsconfig.json'], dir);
    expect(r.stdout + r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  describe.skipIf(!gpu)('on WebGPU', () => {
    it("samples on WebGPU from a plain .mjs script: import { loadData, sample, reportRun } from 'funnelweb'", async () => {
      writeFileSync(
        join(dir, 'script.mjs'),
        `import { loadData, sample, reportRun } from 'funnelweb';
const data = await loadData(process.argv[2]);
const result = await sample({ data, parameterization: 'noncentered', chains: 64, warmup: 40, draws: 40, seed: 3, backend: 'webgpu' });
const { report } = reportRun(result);
console.log(JSON.stringify({ device: report.device, sampler: report.sampler, mu: report.params.mu, n: result.params.mu.length }));
`,
      );
      const r = ok(await run(process.execPath, ['script.mjs', join(pkg, 'demo', 'data', 'weak.json')], dir), 'script.mjs');
      const out = JSON.parse(r.stdout);
      expect(out.device.backend).toBe('webgpu');
      expect(out.device.adapter).toBe(gpu!.adapter.label);
      expect(out.sampler.chains).toBe(64);
      expect(out.sampler.draws).toBe(40);
      expect(out.n).toBe(64 * 40);
      expect(Number.isFinite(out.mu.mean) && out.mu.sd > 0).toBe(true);
      expect(r.stderr).toBe('');
    });

    it("runs the README's quickstart (examples/quickstart.mjs) from the installed package", async () => {
      const r = ok(await run(process.execPath, ['examples/quickstart.mjs'], pkg), 'quickstart.mjs');
      expect(r.stdout).toMatch(/^webgpu \[.+\]: 1024 chains x 500 draws\n/);
      expect(r.stdout).toMatch(/^mu {2}mean -?\d+\.\d{3} sd \d+\.\d{3} R-hat \d\.\d{4} bulk ESS \d+$/m);
      expect(r.stdout).toMatch(/^divergences \d+, min bulk ESS\/s \d+$/m);
      // Its own two progress lines and nothing else (no native noise).
      expect(r.stderr).toMatch(/^warmup done: step size \S+\nsampling done: step size \S+\n$/);
    });
  });
});
