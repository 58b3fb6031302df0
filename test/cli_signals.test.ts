/**
 * SIGTERM, SIGHUP and Ctrl-C (SIGINT) in every phase of `funnelweb sample`, and in `compare`
 * and `reproduce`, sent to the command's process group when its stderr shows the phase; and
 * a GPU device lost mid-run (the FUNNELWEB_TEST_LOSE_DEVICE_AT test hook destroys it):
 *
 * - every signal is acknowledged at once with one `funnelweb: <signal>: ...` line saying
 *   what happens in that phase, and the exit code is 128 + the signal (130, 143, 129);
 * - sample: warmup writes nothing; sampling writes the draws so far, marked partial;
 *   diagnostics finish and the complete outputs are written; while writing, a second signal
 *   exits at once and leaves no temporary file;
 * - compare: the finished runs are kept (table, --json with `interrupted: true`, --out
 *   files); interrupted before any finished: one line, no table, no "no winner", no file;
 * - reproduce: the finished runs' summaries are kept, no report.html;
 * - a lost device: one `funnelweb: error: the GPU device was lost ...` line, exit 1, the
 *   draws read back before it written, marked partial (or nothing, during warmup);
 * - never a temporary file in the output directory, never a stack trace.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { testGpu } from './gpu_helpers.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = [process.execPath, '--import', 'tsx', join(ROOT, 'src', 'cli', 'bin.ts')];
const WEAK = join(ROOT, 'demo', 'data', 'weak.json');
const gpu = await testGpu();
afterAll(() => gpu?.device.destroy());

interface Ended {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stderr as it was when the first signal was sent. */
  stderrAtSignal: string;
}

/**
 * Runs the CLI in its own process group; when stderr first matches `when`, sends `signal`
 * to the group (as a terminal or a service manager does), and `again` ms later `second`.
 */
function signalAt(args: string[], when: RegExp | null, signal: NodeJS.Signals, opts: { again?: number; second?: NodeJS.Signals; env?: NodeJS.ProcessEnv } = {}): Promise<Ended> {
  return new Promise((resolve, reject) => {
    const child = spawn(CLI[0], [...CLI.slice(1), ...args], { cwd: ROOT, env: { ...process.env, ...opts.env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let stderrAtSignal = '';
    let sent = false;
    const timer = setTimeout(() => {
      process.kill(-child.pid!, 'SIGKILL');
      reject(new Error(`no exit within 120 s; stderr:\n${stderr}`));
    }, 120_000);
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => {
      stderr += d;
      if (!sent && when && when.test(stderr)) {
        sent = true;
        stderrAtSignal = stderr;
        process.kill(-child.pid!, signal);
        if (opts.again !== undefined) setTimeout(() => process.kill(-child.pid!, opts.second ?? signal), opts.again);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      child.on('close', () => resolve({ code, stdout, stderr, stderrAtSignal }));
    });
  });
}

function expectNoStackTrace(stderr: string): void {
  expect(stderr).not.toMatch(/^\s+at .*\.[cm]?[jt]s:\d+/m);
  expect(stderr).not.toMatch(/^\w*Error\b/m);
  expect(stderr).not.toMatch(/Uncaught|triggerUncaughtException/);
}

/** Names of temporary files or directories left in `dir` (hidden `.*.tmp`, `.tmp.old`). */
function temporaries(dir: string): string[] {
  return readdirSync(dir).filter((f) => /\.tmp(\.old)?$/.test(f) || f.startsWith('.'));
}

/** The `funnelweb: <signal>: ...` acknowledgement lines. */
function acks(stderr: string, signal: string): string[] {
  return stderr.match(new RegExp(`^funnelweb: ${signal === 'SIGINT' ? 'Ctrl-C \\(SIGINT\\)' : signal}: .*$`, 'gm')) ?? [];
}

const base = mkdtempSync(join(tmpdir(), 'funnelweb-signals-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));
const fresh = (name: string) => mkdtempSync(join(base, `${name}-`));

const sampleArgs = (dir: string, chains: number, warmup: number, draws: number, csv = true) => [
  'sample', '--data', WEAK, '--chains', String(chains), '--warmup', String(warmup), '--draws', String(draws),
  '--summary', join(dir, 's.json'), ...(csv ? ['--draws-csv', join(dir, 'd.csv')] : []),
];

/** Summary and CSV (where written) of one run agree and are whole: retained chains x draws rows. */
function expectWholeOutputs(dir: string): { summary: Record<string, unknown> & { partial: boolean; sampler: { draws: number; retained_chains: number } } } {
  const summary = JSON.parse(readFileSync(join(dir, 's.json'), 'utf8'));
  for (const k of ['mean', 'sd', 'rhat']) expect(Number.isFinite(summary.params.mu[k]), `mu.${k}`).toBe(true);
  if (!existsSync(join(dir, 'd.csv'))) return { summary };
  const text = readFileSync(join(dir, 'd.csv'), 'utf8');
  expect(text.endsWith('\n')).toBe(true);
  let rows = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) rows++;
  expect(rows).toBe(1 + summary.sampler.retained_chains * summary.sampler.draws);
  return { summary };
}

describe.skipIf(!gpu)('funnelweb sample: SIGTERM, SIGHUP, Ctrl-C in every phase', () => {
  it('SIGTERM during warmup: acknowledged at once, exit 143, nothing written', async () => {
    const dir = fresh('warm');
    const r = await signalAt(sampleArgs(dir, 256, 100_000, 100), /^warmup\s+\[/m, 'SIGTERM');
    expect(r.code, r.stderr).toBe(143);
    expectNoStackTrace(r.stderr);
    expect(acks(r.stderr, 'SIGTERM')).toEqual([expect.stringContaining('stopping warmup: nothing will be written')]);
    expect(r.stderr).toMatch(/^funnelweb: interrupted before the first draw \(during warmup\): nothing written$/m);
    expect(r.stdout).toBe('');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('SIGTERM during sampling: the draws so far are written, marked partial; exit 143', async () => {
    const dir = fresh('samp');
    const r = await signalAt(sampleArgs(dir, 256, 100, 100_000), /^sampling\s+\[/m, 'SIGTERM');
    expect(r.code, r.stderr).toBe(143);
    expectNoStackTrace(r.stderr);
    expect(acks(r.stderr, 'SIGTERM')).toEqual([expect.stringContaining('stopping sampling at the next sync')]);
    const { summary } = expectWholeOutputs(dir);
    expect(summary.partial).toBe(true);
    expect(summary.sampler.draws).toBeGreaterThan(0);
    expect(summary.sampler.draws).toBeLessThan(100_000);
    expect(r.stdout).toMatch(/x \d+ draws \(partial: interrupted, 100000 asked\)/);
    expect(temporaries(dir)).toEqual([]);
  });

  it('SIGHUP during the diagnostics: they finish and the whole outputs are written; exit 129', async () => {
    const dir = fresh('diag');
    // 2,048 chains x 1,000 draws x 12 parameters: diagnosed on worker threads for seconds.
    const r = await signalAt(sampleArgs(dir, 2048, 50, 1000, false), /^diagnose\s+\[/m, 'SIGHUP');
    expect(r.code, r.stderr).toBe(129);
    expectNoStackTrace(r.stderr);
    expect(acks(r.stderr, 'SIGHUP')).toEqual([expect.stringContaining('the diagnostics finish (seconds), then the outputs are written')]);
    // Acknowledged before the diagnostics ended (the main thread is free while they run).
    const ack = r.stderr.indexOf('funnelweb: SIGHUP:');
    expect(ack).toBeLessThan(r.stderr.search(/^diagnose .* 12\/12 parameters/m));
    const { summary } = expectWholeOutputs(dir);
    expect(summary.partial).toBe(false);
    expect(summary.sampler.draws).toBe(1000);
    expect(r.stdout).toMatch(/^mu\s+-?\d/m);
  });

  it('Ctrl-C while writing, then SIGTERM: exits at once with 143 and leaves no temporary file', async () => {
    const dir = fresh('write');
    // A 1,024-chain x 1,000-draw CSV (about 150 MB) takes a while to write.
    const r = await signalAt(sampleArgs(dir, 1024, 50, 1000), /^diagnose .* 12\/12 parameters/m, 'SIGINT', { again: 300, second: 'SIGTERM' });
    expect(r.code, r.stderr).toBe(143);
    expectNoStackTrace(r.stderr);
    expect(acks(r.stderr, 'SIGINT')).toEqual([expect.stringContaining('the outputs being written are finished first')]);
    expect(r.stderr).toMatch(/^funnelweb: interrupted again \(SIGTERM\): exiting now$/m);
    expect(temporaries(dir)).toEqual([]);
    // Whatever was renamed into place is whole.
    if (existsSync(join(dir, 'd.csv'))) expectWholeOutputs(dir);
    if (existsSync(join(dir, 's.json'))) expect(JSON.parse(readFileSync(join(dir, 's.json'), 'utf8')).sampler.draws).toBe(1000);
  });

  it('a GPU device lost during sampling: one error line, exit 1, the draws read back before it written, marked partial', async () => {
    const dir = fresh('lost');
    const r = await signalAt(sampleArgs(dir, 4096, 50, 1000, false), null, 'SIGTERM', { env: { FUNNELWEB_TEST_LOSE_DEVICE_AT: 'sampling:400' } });
    expect(r.code, r.stderr).toBe(1);
    expectNoStackTrace(r.stderr);
    const errors = r.stderr.match(/^funnelweb: .*$/gm) ?? [];
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^funnelweb: error: the GPU device was lost during sampling at draw \d+: destroyed .*the results above are from the \d+ draws per chain read back before it, marked partial\)$/);
    const { summary } = expectWholeOutputs(dir);
    expect(summary.partial).toBe(true);
    expect(summary.sampler.draws).toBeGreaterThan(0);
    expect(summary.sampler.draws).toBeLessThan(1000);
    expect(errors[0]).toContain(`from the ${summary.sampler.draws} draws per chain`);
    expect(r.stdout).toMatch(/\(partial: the GPU device failed, 1000 asked\)/);
    expect(temporaries(dir)).toEqual([]);
  });

  it('a GPU device lost during warmup: one error line, exit 1, nothing written', async () => {
    const dir = fresh('lostwarm');
    const r = await signalAt(sampleArgs(dir, 256, 300, 100), null, 'SIGTERM', { env: { FUNNELWEB_TEST_LOSE_DEVICE_AT: 'warmup:5' } });
    expect(r.code, r.stderr).toBe(1);
    expectNoStackTrace(r.stderr);
    expect(r.stderr.match(/^funnelweb: .*$/gm)).toEqual([expect.stringMatching(/^funnelweb: error: the GPU device was lost during warmup at iteration \d+: destroyed/)]);
    expect(r.stdout).toBe('');
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe.skipIf(!gpu)('funnelweb compare and reproduce: signals keep the finished runs', () => {
  it('compare, SIGTERM before any run finished: one line, exit 143, no table, no winner, no file', async () => {
    const dir = fresh('cmp0');
    const json = join(dir, 'cmp.json');
    const r = await signalAt(
      ['compare', '--data', WEAK, '--param', 'centered', '--param', 'noncentered', '--chains', '128', '--warmup', '100000', '--draws', '100', '--json', json, '--out', join(dir, 'runs')],
      / warmup \d+\//,
      'SIGTERM',
    );
    expect(r.code, r.stderr).toBe(143);
    expectNoStackTrace(r.stderr);
    expect(acks(r.stderr, 'SIGTERM')).toEqual([expect.stringContaining('stopping run 1 of 2 (centered); the 0 finished are kept')]);
    expect(r.stderr).toMatch(/^funnelweb: interrupted \(SIGTERM\) before any run finished: nothing written$/m);
    expect(r.stdout).toBe('');
    expect(r.stderr).not.toMatch(/winner/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('compare, Ctrl-C during the second run: the first run\'s row, --json (interrupted: true) and --out files; exit 130', async () => {
    const dir = fresh('cmp1');
    const json = join(dir, 'cmp.json');
    const out = join(dir, 'runs');
    const r = await signalAt(
      ['compare', '--data', WEAK, '--param', 'noncentered', '--param', 'centered', '--chains', '64', '--warmup', '50', '--draws', '3000', '--json', json, '--out', out],
      / 2\/2 centered /,
      'SIGINT',
    );
    expect(r.code, r.stderr).toBe(130);
    expectNoStackTrace(r.stderr);
    expect(acks(r.stderr, 'SIGINT')).toEqual([expect.stringContaining('stopping run 2 of 2 (centered); the 1 finished are kept')]);
    expect(r.stderr).toMatch(/^interrupted: 1 of 2 runs finished$/m);
    expect(r.stdout).toContain('noncentered');
    const doc = JSON.parse(readFileSync(json, 'utf8'));
    expect(doc.interrupted).toBe(true);
    expect(doc.rows.map((x: { name: string }) => x.name)).toEqual(['noncentered']);
    expect(readdirSync(out).sort()).toEqual(['noncentered.draws.csv', 'noncentered.summary.json']);
    expect(temporaries(dir)).toEqual([]);
  });

  it('reproduce, SIGTERM during the second run: the first run\'s summary kept, no report.html; exit 143', async () => {
    const dir = fresh('repro');
    // Enough draws that run 2 is still sampling when the signal is handled (with 100 it could
    // finish first under load, and the signal then met its summary being written).
    const r = await signalAt(['reproduce', '--out', dir, '--chains', '64', '--warmup', '50', '--draws', '2000'], / 2\/7 /, 'SIGTERM');
    expect(r.code, r.stderr).toBe(143);
    expectNoStackTrace(r.stderr);
    expect(acks(r.stderr, 'SIGTERM')).toEqual([expect.stringContaining('stopping run 2 of 7')]);
    expect(r.stderr).toMatch(/^interrupted: 1 of 7 runs finished; their summaries are in /m);
    const files = readdirSync(dir);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/\.summary\.json$/);
    expect(JSON.parse(readFileSync(join(dir, files[0]), 'utf8')).sampler.draws).toBe(2000);
  });
});

describe('funnelweb diagnose: a signal stops it, nothing written', () => {
  it('SIGTERM while it reads a large draws file: it ends at once, no --json, no temporary', async () => {
    const dir = fresh('diagnose');
    const csv = join(dir, 'big.csv');
    // 4 chains x 250,000 draws of 4 parameters: some seconds to read and diagnose.
    const lines = ['chain,draw,a,b,c,d'];
    let x = 1;
    const u = () => ((x = (x * 16807) % 2147483647) / 2147483647).toFixed(6);
    for (let c = 1; c <= 4; c++) for (let d = 1; d <= 250_000; d++) lines.push(`${c},${d},${u()},${u()},${u()},${u()}`);
    writeFileSync(csv, lines.join('\n') + '\n');
    const json = join(dir, 'out.json');
    const child = spawn(CLI[0], [...CLI.slice(1), 'diagnose', csv, '--json', json], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    let sentAt = 0;
    setTimeout(() => {
      sentAt = performance.now();
      child.kill('SIGTERM');
    }, 1500);
    const ended = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
    // Ended by the signal (its default action while nothing is being written), promptly.
    expect(ended.signal === 'SIGTERM' || ended.code === 143, `${JSON.stringify(ended)} ${stderr}`).toBe(true);
    expect(performance.now() - sentAt).toBeLessThan(5000);
    expectNoStackTrace(stderr);
    expect(existsSync(json)).toBe(false);
    expect(temporaries(dir)).toEqual([]);
  });
});
