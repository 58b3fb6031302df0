/**
 * `funnelweb sample` end to end, as a user runs it: `funnelweb sample ...` (from the sources:
 * `node --import tsx src/cli/bin.ts`) in the repository root (the environment, including
 * vitest.config's VK_ICD_FILENAMES, is inherited, so `--backend auto` finds SwiftShader
 * where there is no GPU).
 *
 * - a good run exits 0, prints the summary table, and writes the summary JSON with the
 *   issue's fields and the draws CSV, which `funnelweb diagnose` reads back;
 * - CSV data with string group labels names the parameters theta[label];
 * - `--backend cpu` works;
 * - bad input exits 2 with a message on stderr naming the flag or field, and writes nothing.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { funnelweb, type Run } from './cli_helpers.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const WEAK = join(ROOT, 'demo', 'data', 'weak.json');


let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'funnelweb-cli-'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const isFiniteNumber = (v: unknown) => typeof v === 'number' && Number.isFinite(v);

/** The fields the issue requires of the summary JSON, with finite numbers where numbers are due. */
function expectSummaryShape(s: Record<string, any>, labels: string[]): void {
  expect(['webgpu', 'cpu']).toContain(s.device?.backend);
  expect(typeof s.device.adapter).toBe('string');
  expect(s.device.adapter.length).toBeGreaterThan(0);
  for (const k of ['compile_s', 'warmup_s', 'sampling_s', 'total_s', 'diagnostics_s', 'sampling_ended_at_s']) {
    expect(isFiniteNumber(s.timing?.[k]), `timing.${k}`).toBe(true);
    expect(s.timing[k]).toBeGreaterThanOrEqual(0);
  }
  // Sampling ended after the sampler's own phases, counted from the process start.
  expect(s.timing.sampling_ended_at_s).toBeGreaterThanOrEqual(s.timing.total_s);
  const sampler = [
    'chains', 'warmup', 'draws', 'step_size', 'trajectory_length', 'mean_leapfrog_steps', 'gradient_evals',
    'divergences', 'accept_rate', 'ebfmi_min', 'ebfmi_median',
  ];
  for (const k of sampler) expect(isFiniteNumber(s.sampler?.[k]), `sampler.${k} = ${s.sampler?.[k]}`).toBe(true);
  const names = Object.keys(s.params);
  const thetas = labels.map((l) => `theta[${l}]`);
  for (const n of ['mu', 'tau', ...thetas]) expect(names, n).toContain(n);
  // Nothing but mu, tau, log tau and one theta per group.
  expect(names.filter((n) => !['mu', 'tau', 'log_tau', ...thetas].includes(n))).toEqual([]);
  for (const n of names) {
    for (const k of ['mean', 'sd', 'q5', 'q50', 'q95', 'mcse_mean', 'ess_bulk', 'ess_tail', 'rhat']) {
      expect(isFiniteNumber(s.params[n][k]), `params.${n}.${k} = ${s.params[n][k]}`).toBe(true);
    }
    const p = s.params[n];
    expect(p.q5 <= p.q50 && p.q50 <= p.q95, `${n} quantiles`).toBe(true);
  }
  for (const k of ['ess_bulk_min_per_s', 'gradient_evals_per_s']) {
    expect(isFiniteNumber(s.throughput?.[k]), `throughput.${k}`).toBe(true);
    expect(s.throughput[k]).toBeGreaterThan(0);
  }
}

describe('funnelweb sample: good runs', () => {
  it('weak data: exits 0, prints the table, writes the summary JSON and draws CSV; diagnose reads the CSV back', async () => {
    const summary = join(dir, 'weak.json');
    const csv = join(dir, 'weak.csv');
    const r = await funnelweb(['sample', '--data', WEAK, '--chains', '256', '--warmup', '150', '--draws', '150', '--summary', summary, '--draws-csv', csv, '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/256 chains/);
    expect(r.stdout).toMatch(/^variable\s+mean\s+sd\s+q5\s+q50\s+q95\s+mcse_mean/m);
    for (const n of ['mu', 'tau', 'theta\\[0\\]', 'theta\\[8\\]']) expect(r.stdout).toMatch(new RegExp(`^${n}\\s+-?\\d`, 'm'));
    expect(r.stdout).toMatch(/E-BFMI/);
    // --quiet: no progress bar (carriage returns) on either stream.
    expect(r.stdout + r.stderr).not.toMatch(/\r/);

    const s = JSON.parse(readFileSync(summary, 'utf8'));
    expectSummaryShape(s, ['0', '1', '2', '3', '4', '5', '6', '7', '8']);
    expect(s.sampler).toMatchObject({ chains: 256, warmup: 150, draws: 150 });
    expect(s.sampler.divergences).toBe(0);
    expect(s.sampler.gradient_evals).toBeGreaterThan(256 * 300);

    // The draws CSV: a header, then chains × draws rows; diagnose reproduces the summary.
    const lines = readFileSync(csv, 'utf8').trimEnd().split('\n');
    const retained = s.sampler.retained_chains ?? 256;
    expect(lines.length).toBe(1 + retained * 150);
    expect(lines[0].split(',').slice(0, 3)).toEqual(['chain', 'draw', 'mu']);
    const out = join(dir, 'diag.json');
    const d = await funnelweb(['diagnose', csv, '--json', out]);
    expect(d.code, d.stderr).toBe(0);
    const dj = JSON.parse(readFileSync(out, 'utf8'));
    for (const n of ['mu', 'tau', 'theta[0]']) {
      for (const k of ['mean', 'sd', 'ess_bulk', 'rhat']) expect(dj.params[n][k], `${n}.${k}`).toBeCloseTo(s.params[n][k], 6);
    }
  });

  it('CSV data with string labels and --backend cpu: theta[a], theta[b], theta[c]', async () => {
    const data = join(dir, 'labels.csv');
    const rows = ['group,y,sigma'];
    const ys: Record<string, number[]> = { a: [1.2, 0.4, 2.1], b: [5.5, 6.1], c: [-0.3, 0.8, 0.1, -1.0] };
    for (const [g, v] of Object.entries(ys)) for (const y of v) rows.push(`${g},${y},1.5`);
    writeFileSync(data, rows.join('\n') + '\n');
    const summary = join(dir, 'labels.json');
    const r = await funnelweb(['sample', '--data', data, '--backend', 'cpu', '--param', 'mixed:b', '--chains', '64', '--warmup', '100', '--draws', '100', '--seed', '3', '--summary', summary, '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^theta\[a\]\s/m);
    expect(r.stdout).toMatch(/^theta\[c\]\s/m);
    const s = JSON.parse(readFileSync(summary, 'utf8'));
    expectSummaryShape(s, ['a', 'b', 'c']);
    expect(s.device.backend).toBe('cpu');
    expect(Object.keys(s.params).filter((n) => n.startsWith('theta'))).toEqual(['theta[a]', 'theta[b]', 'theta[c]']);
    expect(s.sampler.seed).toBe(3);
    if (s.data) expect(s.data.parameterization).toEqual([0, 1, 0]);
  });

  it('--param auto --backend cpu: prints the learned centeredness and writes it to the summary', async () => {
    const summary = join(dir, 'auto.json');
    const unbalanced = join(ROOT, 'demo', 'data', 'unbalanced.json');
    const r = await funnelweb(['sample', '--data', unbalanced, '--backend', 'cpu', '--param', 'auto', '--chains', '32', '--warmup', '80', '--draws', '40', '--summary', summary, '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^centeredness \(auto\): \d+ centered, \d+ non-centered, \d+ partial; .*tau estimates/m);
    expect(r.stdout).toMatch(/^ {2}c: 0=[\d.]+ 1=[\d.]+ 2=1 /m);
    const s = JSON.parse(readFileSync(summary, 'utf8'));
    expect(s.centeredness.rule).toBe('auto');
    expect(s.centeredness.c).toEqual(s.data.parameterization);
    expect(s.centeredness.c).toHaveLength(9);
    expect(s.centeredness.updates.map((u: { iteration: number }) => u.iteration)).toEqual([6, 12, 24, 40]);
    expect(s.centeredness.settled_window).toBeGreaterThanOrEqual(0);
  });
});

describe('funnelweb sample --target-ess', () => {
  it('stops at a check once the estimate reaches N, says so, and the summary holds the checks and the exact figure', async () => {
    const summary = join(dir, 'target.json');
    const r = await funnelweb(['sample', '--data', WEAK, '--chains', '256', '--warmup', '150', '--draws', '1000', '--target-ess', '30000', '--summary', summary, '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(readFileSync(summary, 'utf8'));
    expect(s.partial).toBe(false);
    expect(s.sampler.requested_draws).toBe(1000);
    expect(s.sampler.draws).toBeLessThan(1000);
    expect(s.sampler.target_ess).toMatchObject({ target: 30000, stopped_early: true, reached: true });
    expect(s.sampler.target_ess.ess_bulk_min).toBeGreaterThanOrEqual(30000);
    expect(s.sampler.target_ess.checks.at(-1).draws).toBe(s.sampler.draws);
    expect(r.stdout).toContain(`x ${s.sampler.draws} draws (--target-ess 30000: reached at a check at ${s.sampler.draws} draws, cap 1000)`);
  });

  it("without --chains and --draws: the adapter's chains, until --target-ess 4000; --draws N alone gives exactly N", async () => {
    const summary = join(dir, 'defaults.json');
    const r = await funnelweb(['sample', '--data', WEAK, '--warmup', '150', '--summary', summary, '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(readFileSync(summary, 'utf8'));
    const software = /swiftshader|fallback/i.test(s.device.adapter) || s.device.backend === 'cpu';
    expect(s.sampler.chains).toBe(software ? 1024 : 4096);
    expect(s.sampler.target_ess).toMatchObject({ target: 4000, stopped_early: true, reached: true });
    expect(s.sampler.draws).toBeGreaterThanOrEqual(100);
    expect(s.sampler.draws).toBeLessThan(1000);
    expect(r.stdout).toContain('(--target-ess 4000: reached at a check');
    const exact = join(dir, 'exact.json');
    const e = await funnelweb(['sample', '--data', WEAK, '--chains', '64', '--warmup', '100', '--draws', '120', '--summary', exact, '--quiet']);
    expect(e.code, e.stderr).toBe(0);
    const x = JSON.parse(readFileSync(exact, 'utf8'));
    expect(x.sampler.draws).toBe(120);
    expect(x.sampler.target_ess).toBeUndefined();
  });
});

describe('funnelweb sample: bad input exits 2, names the problem, writes nothing', () => {
  const cases: [string, string[], RegExp][] = [
    ['missing --data', [], /--data/],
    ['nonexistent data file', ['--data', '/nonexistent/dir/weak.json'], /nonexistent|no such file|ENOENT/i],
    ['--param mixed:99', ['--param', 'mixed:99'], /--param/],
    ['--param autox', ['--param', 'autox'], /--param/],
    ['--chains 0', ['--chains', '0'], /--chains/],
    ['--chains -1', ['--chains', '-1'], /--chains/],
    ['--chains=-1', ['--chains=-1'], /--chains/],
    ['--chains 1.5', ['--chains', '1.5'], /--chains/],
    ['--chains abc', ['--chains', 'abc'], /--chains/],
    ['--target-accept 1.5', ['--target-accept', '1.5'], /--target-accept/],
    ['--target-ess 0', ['--target-ess', '0'], /--target-ess/],
    ['--target-ess abc', ['--target-ess', 'abc'], /--target-ess/],
    ['--mu-prior normal:0,-1', ['--mu-prior', 'normal:0,-1'], /--mu-prior/],
    ['--tau-prior lognormal:1', ['--tau-prior', 'lognormal:1'], /--tau-prior/],
    ['unknown flag', ['--frobnicate', '3'], /frobnicate/],
    ['--superchains not dividing --chains', ['--chains', '256', '--superchains', '7'], /--superchains/],
    ['--backend gpu', ['--backend', 'gpu'], /--backend/],
    ['y is NaN (CSV)', ['--data', '@nan.csv'], /nan\.csv row 3, column 'y'/],
    ['y has a null (JSON)', ['--data', '@null.json'], /null\.json: y\[1\]/],
  ];

  beforeAll(() => {
    writeFileSync(join(dir, 'nan.csv'), 'group,y,sigma\na,1.0,1\nb,NaN,1\n');
    writeFileSync(join(dir, 'null.json'), JSON.stringify({ y: [1, null], idx: [0, 1], sigma: 1 }));
  });

  // Each case gets its own output directory, which must stay empty.
  it.each(cases)('%s', async (name, flags, message) => {
    const out = mkdtempSync(join(dir, 'bad-'));
    const args = flags.map((f) => (f.startsWith('@') ? join(dir, f.slice(1)) : f));
    const data = args.includes('--data') || name === 'missing --data' ? [] : ['--data', WEAK];
    const chains = args.some((a) => a.startsWith('--chains')) ? [] : ['--chains', '64'];
    const outputs = ['--summary', join(out, 'summary.json'), '--draws-csv', join(out, 'draws.csv')];
    const r = await funnelweb(['sample', ...data, ...args, ...chains, '--warmup', '10', '--draws', '10', ...outputs, '--quiet']);
    expect(r.code, `stderr: ${r.stderr}`).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/error/i);
    expect(r.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
    expect(readdirSync(out)).toEqual([]);
  });

  it('--summary into a nonexistent directory', async () => {
    const csv = join(dir, 'never.csv');
    const r = await funnelweb(['sample', '--data', WEAK, '--chains', '16', '--warmup', '10', '--draws', '10', '--summary', join(dir, 'no', 'such', 'dir', 's.json'), '--draws-csv', csv, '--quiet']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/--summary/);
    expect(existsSync(join(dir, 'no'))).toBe(false);
    expect(existsSync(csv)).toBe(false);
  });
});
