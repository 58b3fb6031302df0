/**
 * Ctrl-C in `funnelweb sample`, as a user presses it: SIGINT to the process group of the
 * command (`npx funnelweb`, i.e. the package's built `bin`, and the CLI from the sources),
 * while the progress bar on stderr shows the phase.
 *
 * - during sampling: the run stops, the summary (marked partial, with the draws completed),
 *   the draws CSV (retained chains x draws completed rows, read back by `funnelweb
 *   diagnose`) and the table are written from the draws so far; exit code 130;
 * - during warmup: the acknowledgement and one line saying nothing is written, exit code
 *   130, no output file (SIGTERM, SIGHUP and the other phases: cli_signals.test.ts);
 * - a second Ctrl-C exits at once (130) and leaves no file, not even a temporary one;
 * - never a stack trace.
 */
import { spawn, execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
/** The installed command (`bin`, built into dist/ by `npm ci`), as `npx funnelweb` runs it. */
const PKG_BIN = join(ROOT, typeof PKG.bin === 'string' ? PKG.bin : PKG.bin.funnelweb);
/** The same CLI from the sources (what the other CLI tests run). */
const SRC_CLI = [process.execPath, '--import', 'tsx', join(ROOT, 'src', 'cli', 'bin.ts')];
const WEAK = join(ROOT, 'demo', 'data', 'weak.json');

/** Newest modification time under dir (ms). */
function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

interface Interrupted {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the command in its own process group and sends SIGINT to the group (as a terminal's
 * Ctrl-C does) when stderr first shows a progress line of `phase`; `again` ms later, a second one.
 */
function interruptAt(command: string[], phase: 'warmup' | 'sampling', again?: number): Promise<Interrupted> {
  return new Promise((resolve, reject) => {
    const child = spawn(command[0], command.slice(1), { cwd: ROOT, env: process.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let sent = false;
    const timer = setTimeout(() => {
      process.kill(-child.pid!, 'SIGKILL');
      reject(new Error(`no exit within 240 s; stderr:\n${stderr}`));
    }, 240_000);
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => {
      stderr += d;
      if (!sent && new RegExp(`^${phase}\\s+\\[`, 'm').test(stderr)) {
        sent = true;
        process.kill(-child.pid!, 'SIGINT');
        if (again !== undefined) setTimeout(() => process.kill(-child.pid!, 'SIGINT'), again);
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      // Whatever is still buffered in the pipes arrives before 'close'.
      child.on('close', () => resolve({ code, signal, stdout, stderr }));
    });
  });
}

function diagnose(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(SRC_CLI[0], [...SRC_CLI.slice(1), 'diagnose', ...args], { cwd: ROOT, env: process.env, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: unknown }).code) : 0, stdout, stderr });
    });
  });
}

/** A JavaScript stack trace or an uncaught error (native driver lines are not FunnelWeb's). */
function expectNoStackTrace(stderr: string): void {
  expect(stderr).not.toMatch(/^\s+at .*\.[cm]?[jt]s:\d+/m);
  expect(stderr).not.toMatch(/^\w*Error\b/m);
  expect(stderr).not.toMatch(/Uncaught|triggerUncaughtException/);
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'funnelweb-sigint-'));
  // npx runs the built command: build it when it is missing or older than the sources.
  if (!existsSync(PKG_BIN) || statSync(PKG_BIN).mtimeMs < newest(join(ROOT, 'src'))) {
    execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' });
  }
}, 300_000);
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const isFiniteNumber = (v: unknown) => typeof v === 'number' && Number.isFinite(v);

/** The outputs of a run interrupted during sampling: partial summary, CSV and table from the same draws. */
async function expectPartialOutputs(r: Interrupted, summary: string, csv: string, requested: number): Promise<void> {
  expectNoStackTrace(r.stderr);
  expect(r.stderr).toMatch(/^funnelweb: interrupted after \d+ of \d+ draws/m);
  const s = JSON.parse(readFileSync(summary, 'utf8'));
  expect(s.partial).toBe(true);
  const done = s.sampler.draws;
  expect(done).toBeGreaterThan(0);
  expect(done).toBeLessThan(requested);
  expect(s.sampler.requested_draws).toBe(requested);
  expect(r.stderr).toContain(`interrupted after ${done} of ${requested} draws`);
  for (const [name, p] of Object.entries<Record<string, number>>(s.params)) {
    for (const k of ['mean', 'sd', 'q5', 'q50', 'q95', 'rhat']) expect(isFiniteNumber(p[k]), `${name}.${k}`).toBe(true);
  }
  // The table is printed from the same draws.
  expect(r.stdout).toMatch(new RegExp(`x ${done} draws \\(partial`));
  expect(r.stdout).toMatch(/^mu\s+-?\d/m);
  // CSV: retained chains x draws completed rows; diagnose reads it back and agrees.
  const lines = readFileSync(csv, 'utf8').trimEnd().split('\n');
  expect(lines.length).toBe(1 + s.sampler.retained_chains * done);
  const out = join(dir, `diag-${Date.now()}.json`);
  const d = await diagnose([csv, '--json', out]);
  expect(d.code, d.stderr).toBe(0);
  const dj = JSON.parse(readFileSync(out, 'utf8'));
  expect(dj.draws).toBe(done);
  for (const k of ['mean', 'sd', 'rhat']) expect(dj.params.mu[k], `mu.${k}`).toBeCloseTo(s.params.mu[k], 6);
}

const sampleArgs = (summary: string, csv: string, warmup: number, draws: number) => [
  'sample', '--data', WEAK, '--chains', '256', '--warmup', String(warmup), '--draws', String(draws), '--summary', summary, '--draws-csv', csv,
];

describe('funnelweb sample: Ctrl-C', () => {
  it('during sampling: writes the partial summary, CSV and table from the draws so far; exit 130', async () => {
    const summary = join(dir, 'part.json');
    const csv = join(dir, 'part.csv');
    const r = await interruptAt([...SRC_CLI, ...sampleArgs(summary, csv, 100, 100_000)], 'sampling');
    expect(r.code, r.stderr).toBe(130);
    await expectPartialOutputs(r, summary, csv, 100_000);
  });

  it('during sampling, through npx funnelweb: the same partial outputs', async () => {
    const summary = join(dir, 'npx.json');
    const csv = join(dir, 'npx.csv');
    const r = await interruptAt(['npx', 'funnelweb', ...sampleArgs(summary, csv, 100, 100_000)], 'sampling');
    // npm re-raises the SIGINT its child got once the child has exited (130 either way in a shell).
    expect(r.code === 130 || r.signal === 'SIGINT', `code ${r.code}, signal ${r.signal}`).toBe(true);
    await expectPartialOutputs(r, summary, csv, 100_000);
  });

  it('during warmup: one line, exit 130, nothing written', async () => {
    const summary = join(dir, 'warm.json');
    const csv = join(dir, 'warm.csv');
    const r = await interruptAt([...SRC_CLI, ...sampleArgs(summary, csv, 100_000, 100)], 'warmup');
    expect(r.code, r.stderr).toBe(130);
    expectNoStackTrace(r.stderr);
    // The acknowledgement at once, then what came of it.
    expect(r.stderr.match(/^funnelweb:.*$/gm)).toEqual([
      'funnelweb: Ctrl-C (SIGINT): stopping warmup: nothing will be written; Ctrl-C or the signal again quits at once',
      'funnelweb: interrupted before the first draw (during warmup): nothing written',
    ]);
    expect(r.stdout).toBe('');
    expect(existsSync(summary)).toBe(false);
    expect(existsSync(csv)).toBe(false);
  });

  it('a second Ctrl-C exits at once with 130 and leaves no file behind', async () => {
    const sub = mkdtempSync(join(dir, 'twice-'));
    const summary = join(sub, 'twice.json');
    const csv = join(sub, 'twice.csv');
    const r = await interruptAt([...SRC_CLI, ...sampleArgs(summary, csv, 100, 100_000)], 'sampling', 30);
    expect(r.code, r.stderr).toBe(130);
    expectNoStackTrace(r.stderr);
    expect(r.stderr).toMatch(/^funnelweb: interrupted again \(SIGINT\): exiting now$/m);
    // Either nothing or complete files; never a temporary one.
    expect(readdirSync(sub).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});
