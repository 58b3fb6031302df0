/**
 * Every `npx funnelweb ...` command in README.md runs as written, at test size: each is taken
 * from the README's ```sh blocks (comments and `[optional]` parts dropped), run with `npx`
 * in a scratch folder that holds what the README assumes (the seed data under demo/data, a
 * draws CSV, four CmdStan chain files, an InferenceData file), with small chain, warmup and
 * draw counts appended (the last value of a flag wins), and must exit 0 and produce what the
 * README says it produces. `npm ci` and `npm test` run in .ci/run; the quickstart runs in
 * test/package.test.ts; `npm run demo:build` in test/browser.test.ts.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { constants, accessSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testGpu } from './gpu_helpers.ts';
import { startRedis } from './redis_helpers.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

/**
 * The README's shell commands that start with `npx funnelweb`, comments and `[...]` removed;
 * a line ending in a backslash continues on the next, as in the shell.
 */
export function readmeCommands(text: string): string[][] {
  const out: string[][] = [];
  for (const block of text.matchAll(/```sh\n([\s\S]*?)```/g)) {
    for (const raw of block[1].replace(/\\\n/g, ' ').split('\n')) {
      const line = raw.replace(/#.*$/, '').replace(/\[[^\]]*\]/g, '').trim();
      if (line.startsWith('npx funnelweb ')) out.push(line.split(/\s+/).slice(1));
    }
  }
  return out;
}

/** Test-size counts appended to commands that sample. */
const SMALL: Record<string, string[]> = {
  sample: ['--chains', '128', '--warmup', '100', '--draws', '100', '--quiet'],
  compare: ['--chains', '64', '--warmup', '100', '--draws', '100', '--quiet'],
  reproduce: ['--chains', '64', '--warmup', '100', '--draws', '100', '--quiet'],
  diagnose: [],
  sbc: ['--sims', '64', '--chains', '16', '--warmup', '100', '--draws', '100', '--quiet'],
  sweep: ['--grid', 'K=8;n=1,10', '--chains', '64', '--warmup', '100', '--draws', '100', '--quiet'],
  worker: [],
};

/** The Redis address the README's queue examples name; the test runs its own server and puts its address there. */
const README_QUEUE = 'redis://127.0.0.1:6379';

function npx(args: string[], cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('npx', ['--no-install', ...args], { cwd, env: { ...process.env, npm_config_update_notifier: 'false' }, timeout: 280_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: unknown }).code as number | null) : 0;
      resolve({ code: typeof code === 'number' ? code : null, stdout, stderr });
    });
  });
}

describe("README's commands", () => {
  const commands = readmeCommands(README);
  let dir = '';

  beforeAll(() => {
    // A scratch folder with what the README's commands assume: the seed data and the inputs
    // of the diagnose examples.
    // Inside the repository (out/ is ignored), so that npx finds this package's bin as it
    // does in a clone.
    mkdirSync(join(ROOT, 'out'), { recursive: true });
    dir = mkdtempSync(join(ROOT, 'out', 'readme-'));
    mkdirSync(join(dir, 'demo'));
    symlinkSync(join(ROOT, 'demo', 'data'), join(dir, 'demo', 'data'));
    symlinkSync(join(ROOT, 'examples'), join(dir, 'examples'));
    for (let i = 1; i <= 4; i++) copyFileSync(join(ROOT, 'test', 'golden', 'cmdstan', `cmdstan_warmup_${i}.csv`), join(dir, `output_${i}.csv`));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('lists the main job, compare, reproduce, sbc, sweep, worker and the three diagnose forms', () => {
    const verbs = commands.map((c) => c[1]);
    expect(verbs.filter((v) => v === 'sample').length).toBeGreaterThanOrEqual(1);
    for (const v of ['compare', 'reproduce', 'sbc', 'sweep', 'worker']) expect(verbs).toContain(v);
    // The acceptance command of SBC as the README gives it.
    expect(commands.map((c) => c.join(' '))).toContain('funnelweb sbc --data demo/data/weak.json --sims 1000 --chains 64 --param centered --param noncentered --param auto --out sbc');
    expect(verbs.filter((v) => v === 'diagnose').length).toBe(3);
  });

  it("has an executable bin after the build (npx runs it directly once it has linked it)", () => {
    // npx links a checkout's bin once and caches the link; only its first run sets the
    // mode, so a later fresh build must leave dist/cli/bin.js executable itself.
    expect(() => accessSync(join(ROOT, 'dist', 'cli', 'bin.js'), constants.X_OK)).not.toThrow();
  });

  it('runs each command as written (test-size counts appended)', async () => {
    // The commands run on WebGPU when there is an adapter (required in CI), else they
    // fall back to the CPU backend, which is too slow for this test: skip then.
    if (!(await testGpu())) return;
    // The main job first: its outputs feed the diagnose examples. Workers start before the
    // commands that queue work for them, on a Redis of the test's own.
    const ordered = [...commands].sort((a, b) => Number(a[1] === 'diagnose') - Number(b[1] === 'diagnose'));
    const queued = ordered.some((c) => c.includes(README_QUEUE));
    const redis = queued ? await startRedis(dir) : undefined;
    const workers: ChildProcess[] = [];
    try {
      for (const cmd of ordered.filter((c) => c[1] === 'worker')) {
        const args = cmd.map((a) => (a === README_QUEUE ? redis!.url : a));
        // Its own process group: stopping it stops npx and the worker under it.
        const w = spawn('npx', ['--no-install', ...args], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
        let log = '';
        w.stderr!.on('data', (d) => (log += d));
        workers.push(w);
        for (const t0 = Date.now(); !log.includes('listening'); ) {
          if (Date.now() - t0 > 60_000 || w.exitCode !== null) throw new Error(`${cmd.join(' ')} did not start: ${log}`);
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      for (const cmd of ordered.filter((c) => c[1] !== 'worker')) await runOne(cmd.map((a) => (a === README_QUEUE ? redis!.url : a)));
    } finally {
      for (const w of workers) if (w.pid) process.kill(-w.pid, 'SIGTERM');
      redis?.stop();
    }
  });

  async function runOne(cmd: string[]): Promise<void> {
    {
      const verb = cmd[1];
      const extra = [...(SMALL[verb] ?? [])];
      if (verb === 'sample') extra.push('--draws-csv', 'draws.csv', '--out', 'run.nc');
      const r = await npx([...cmd, ...extra], dir);
      expect(r.code, `${cmd.join(' ')}\n${r.stderr}`).toBe(0);
      expect(r.stderr, cmd.join(' ')).not.toMatch(/\n\s+at |Error:/);
      if (verb === 'sample') {
        const summary = JSON.parse(readFileSync(join(dir, cmd[cmd.indexOf('--summary') + 1]), 'utf8'));
        expect(summary.sampler.chains).toBe(128);
        expect(Number.isFinite(summary.params.tau.mean)).toBe(true);
        expect(existsSync(join(dir, 'draws.csv')) && existsSync(join(dir, 'run.nc'))).toBe(true);
      }
      if (verb === 'compare') expect(r.stdout).toMatch(/minESS\/s/);
      if (verb === 'reproduce') expect(existsSync(join(dir, cmd[cmd.indexOf('--out') + 1], 'report.html'))).toBe(true);
      if (verb === 'diagnose') expect(r.stdout).toMatch(/ess_bulk|bulk/i);
      if (verb === 'sbc' || verb === 'sweep') {
        const out = join(dir, cmd[cmd.indexOf('--out') + 1]);
        expect(existsSync(join(out, `${verb}.json`)) && existsSync(join(out, 'report.html'))).toBe(true);
        if (cmd.includes('--queue')) expect(r.stdout).toMatch(/on BullMQ workers/);
      }
    }
  }
});
