/**
 * `funnelweb sample --likelihood binomial` and `compare --likelihood binomial` end to end, as a
 * user runs them (from the sources, in the repository root), on the surgical data
 * (demo/data/surgical.csv): the summary has p[<label>] with R-hat and ESS and records the
 * likelihood; the draws CSV has the p columns and `diagnose` reads them back; the
 * InferenceData file is read by Debian's xarray (p in the posterior, trials in constant_data,
 * integer y and y_rep within 0..trials). On the CPU backend and, where there is an adapter,
 * on WebGPU. Bad input (a count that is not whole, y > trials, trials 0, a sigma column or
 * --sigma with binomial, an unknown likelihood) exits 2, names the place, and writes nothing.
 * The normal likelihood without a sigma column (sigma a parameter) likewise, below.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { funnelweb, ROOT } from './cli_helpers.ts';
import { testGpu } from './gpu_helpers.ts';

const SURGICAL = join(ROOT, 'demo', 'data', 'surgical.csv');
const LABELS = 'ABCDEFGHIJKL'.split('');
const TRIALS = [47, 148, 119, 810, 211, 196, 148, 215, 207, 97, 256, 360];
/** Debian's interpreter (where apt puts python3-xarray), unless FUNNELWEB_PYTHON names another. */
const PYTHON = process.env.FUNNELWEB_PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
const gpu = await testGpu();

/** Reads the InferenceData file with xarray and prints what the test checks, as JSON. */
const XARRAY_CHECK = `
import json, sys
import numpy as np
import xarray as xr
path = sys.argv[1]
post = xr.open_dataset(path, group='posterior')
obs = xr.open_dataset(path, group='observed_data')
const = xr.open_dataset(path, group='constant_data')
pp = xr.open_dataset(path, group='posterior_predictive')
theta = post['theta'].values.astype(float)
p = post['p'].values.astype(float)
y_rep = pp['y_rep'].values
trials = const['trials'].values
print(json.dumps({
  'p_dims': list(post['p'].dims),
  'labels': [str(x) for x in post['group'].values],
  'p_err': float(np.max(np.abs(p - 1 / (1 + np.exp(-theta))))),
  'y_dtype': str(obs['y'].dtype), 'y': obs['y'].values.tolist(),
  'trials_dtype': str(trials.dtype), 'trials': trials.tolist(),
  'const_vars': sorted(const.data_vars),
  'y_rep_dtype': str(y_rep.dtype),
  'y_rep_in_range': bool(((y_rep >= 0) & (y_rep <= trials)).all()),
  'y_rep_mean': (y_rep.mean(axis=(0, 1)) / trials).tolist(),
  'p_mean': p.mean(axis=(0, 1)).tolist(),
  'likelihood': post.attrs['likelihood'],
}))
`;

function python(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(PYTHON, args, { timeout: 120_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: unknown }).code as number | null) : 0;
      resolve({ code: typeof code === 'number' ? code : null, stdout, stderr });
    });
  });
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'funnelweb-families-'));
  try {
    execFileSync(PYTHON, ['-c', 'import xarray, netCDF4'], { stdio: 'pipe' });
  } catch {
    throw new Error(`${PYTHON} cannot import xarray and netCDF4: apt-get install python3-xarray python3-netcdf4 (or set FUNNELWEB_PYTHON)`);
  }
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function binomialRun(backend: 'cpu' | 'webgpu', chains: number): Promise<void> {
  const out = mkdtempSync(join(dir, `${backend}-`));
  const [summary, csv, nc] = ['s.json', 'd.csv', 'r.nc'].map((f) => join(out, f));
  const r = await funnelweb(['sample', '--data', SURGICAL, '--likelihood', 'binomial', '--backend', backend, '--chains', String(chains), '--warmup', '150', '--draws', '100', '--seed', '2', '--summary', summary, '--draws-csv', csv, '--out', nc, '--quiet']);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toMatch(/^p\[A\]\s+0\.0\d/m);
  expect(r.stdout).toMatch(/^p\[L\]\s/m);

  const s = JSON.parse(readFileSync(summary, 'utf8'));
  expect(s.device.backend).toBe(backend);
  expect(s.data.likelihood).toBe('binomial');
  const names = Object.keys(s.params);
  expect(names).toEqual(['mu', 'tau', 'log_tau', ...LABELS.map((l) => `theta[${l}]`), ...LABELS.map((l) => `p[${l}]`)]);
  for (const l of LABELS) {
    const p = s.params[`p[${l}]`];
    expect(p.mean > 0 && p.mean < 0.25, `p[${l}] mean ${p.mean}`).toBe(true);
    expect(Number.isFinite(p.rhat) && Number.isFinite(p.ess_bulk) && Number.isFinite(p.ess_tail)).toBe(true);
    // p is a monotone map of theta: its quantiles are theta's, mapped.
    const t = s.params[`theta[${l}]`];
    expect(p.q50).toBeCloseTo(1 / (1 + Math.exp(-t.q50)), 5);
    expect(p.ess_bulk).toBeCloseTo(t.ess_bulk, 0);
  }
  // Hospital H (31 of 215) is the worst and A (0 of 47) the best, partially pooled.
  expect(s.params['p[H]'].mean).toBeGreaterThan(s.params['p[A]'].mean);

  const header = readFileSync(csv, 'utf8').split('\n', 1)[0].split(',');
  expect(header).toContain('p[A]');
  const dj = join(out, 'diag.json');
  const d = await funnelweb(['diagnose', csv, '--json', dj]);
  expect(d.code, d.stderr).toBe(0);
  expect(JSON.parse(readFileSync(dj, 'utf8')).params['p[C]'].mean).toBeCloseTo(s.params['p[C]'].mean, 6);
  const dn = await funnelweb(['diagnose', nc]);
  expect(dn.code, dn.stderr).toBe(0);
  expect(dn.stdout).toMatch(/^p\[C\]\s/m);

  const py = await python(['-c', XARRAY_CHECK, nc]);
  expect(py.code, py.stderr).toBe(0);
  const x = JSON.parse(py.stdout);
  expect(x.p_dims).toEqual(['chain', 'draw', 'group']);
  expect(x.labels).toEqual(LABELS);
  expect(x.p_err).toBeLessThan(1e-6);
  expect(x.y_dtype).toBe('int64');
  expect(x.y).toEqual([0, 18, 8, 46, 8, 13, 9, 31, 14, 8, 29, 24]);
  expect(x.trials_dtype).toBe('int64');
  expect(x.trials).toEqual(TRIALS);
  expect(x.const_vars).toEqual(['trials']);
  expect(x.y_rep_dtype).toBe('int64');
  expect(x.y_rep_in_range).toBe(true);
  // y_rep / trials averages p over the draws (binomial sd of the mean over >= 800 replicates is < 0.005).
  for (let k = 0; k < 12; k++) expect(Math.abs(x.y_rep_mean[k] - x.p_mean[k]), LABELS[k]).toBeLessThan(0.02);
  expect(x.likelihood).toBe('binomial');
}

describe('funnelweb sample --likelihood binomial', () => {
  it('CPU backend: summary with p[...], draws CSV, InferenceData read by xarray', async () => {
    await binomialRun('cpu', 16);
  }, 120_000);

  it.skipIf(!gpu)('WebGPU: the same', async () => {
    await binomialRun('webgpu', 128);
  }, 120_000);

  it('help lists the likelihoods, their columns and outcomes', async () => {
    const r = await funnelweb(['sample', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--likelihood ID/);
    expect(r.stdout).toMatch(/binomial\s+y_i ~ Binomial\(trials_i, p\[g_i\]\)/);
    expect(r.stdout).toMatch(/column trials: number of trials/);
    expect(r.stdout).toMatch(/reports p\[<group>\]/);
    expect(r.stdout).toMatch(/--sigma S\s+normal likelihood/);
  });
});

describe('funnelweb compare --likelihood binomial', () => {
  it('ranks without an exact posterior and says so in one line', async () => {
    const json = join(dir, 'cmp.json');
    const r = await funnelweb(['compare', '--data', SURGICAL, '--likelihood', 'binomial', '--backend', 'cpu', '--param', 'centered', '--param', 'noncentered', '--chains', '16', '--warmup', '100', '--draws', '60', '--json', json, '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/minESS\/s/);
    expect(r.stdout.match(/no exact posterior for the binomial likelihood/g)).toHaveLength(1);
    const doc = JSON.parse(readFileSync(json, 'utf8'));
    expect(doc.likelihood).toBe('binomial');
    expect(doc.rows).toHaveLength(2);
    for (const row of doc.rows) {
      expect(row.exact_deviation_max).toBeNull();
      expect(row.exact_deviation_param).toBe('');
      expect(row.problems.join(' ')).not.toMatch(/exact/);
    }
  }, 120_000);
});

describe('bad binomial input exits 2, names the place, writes nothing', () => {
  const files: Record<string, string> = {
    'frac.csv': 'group,y,trials\na,1,10\nb,2.5,10\n',
    'over.csv': 'group,y,trials\na,1,10\nb,11,10\n',
    'zero.csv': 'group,y,trials\na,1,10\nb,0,0\n',
    'sigma.csv': 'group,y,trials,sigma\na,1,10,1\n',
    'over.json': JSON.stringify({ y: [1, 12], idx: [0, 1], trials: 10 }),
  };
  // [name, flags, message, the commands run (compare reads data and flags as sample does)]
  const cases: [string, string[], RegExp, string[]?][] = [
    ['y not a whole number', ['--data', '@frac.csv', '--likelihood', 'binomial'], /frac\.csv row 3, column 'y': must be a whole number/],
    ['y greater than trials', ['--data', '@over.csv', '--likelihood', 'binomial'], /over\.csv row 3, column 'y': 11 successes is more than the 10 trials/, ['sample', 'compare']],
    ['y greater than trials (JSON)', ['--data', '@over.json', '--likelihood', 'binomial'], /over\.json: y\[1\]: 12 successes/],
    ['trials 0', ['--data', '@zero.csv', '--likelihood', 'binomial'], /zero\.csv row 3, column 'trials': must be >= 1, got 0/],
    ['a sigma column with binomial', ['--data', '@sigma.csv', '--likelihood', 'binomial'], /sigma\.csv header, column 4: column 'sigma' belongs to the normal likelihood.*'trials'/],
    ['--sigma with binomial', ['--data', SURGICAL, '--likelihood', 'binomial', '--sigma', '1'], /--sigma: the binomial likelihood has no column that --sigma gives/, ['sample', 'compare']],
    ['binomial data without --likelihood', ['--data', SURGICAL], /surgical\.csv header, column 3: column 'trials' belongs to the binomial likelihood \(--likelihood binomial\)/],
    ['unknown --likelihood', ['--data', SURGICAL, '--likelihood', 'poissonx'], /--likelihood: unknown likelihood 'poissonx' \(expected normal, binomial/],
  ];
  beforeAll(() => {
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  });
  it.each(cases)('%s', async (_name, flags, message, verbs = ['sample']) => {
    const out = mkdtempSync(join(dir, 'bad-'));
    const args = flags.map((f) => (f.startsWith('@') ? join(dir, f.slice(1)) : f));
    for (const verb of verbs) {
      const outputs = verb === 'sample' ? ['--summary', join(out, 's.json'), '--draws-csv', join(out, 'd.csv'), '--out', join(out, 'r.nc')] : ['--json', join(out, 'c.json'), '--out', join(out, 'runs')];
      const r = await funnelweb([verb, ...args, '--backend', 'cpu', '--chains', '8', '--warmup', '10', '--draws', '10', ...outputs, '--quiet']);
      expect(r.code, `${verb}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(readdirSync(out)).toEqual([]);
    }
  });
});

/**
 * The normal likelihood with sigma unknown (data with group and y only), end to end: sigma and
 * log_sigma after log_tau in the summary, the draws CSV and the InferenceData file (read back
 * by test/inference_data_check.py with xarray, y_rep standardized by each draw's sigma);
 * `diagnose` prints them; `--sigma-prior` where sigma is no parameter exits 2 writing nothing.
 */
const UNKNOWN_SIGMA = join(ROOT, 'examples', 'unknown_sigma.csv');
const IDATA_CHECK = join(ROOT, 'test', 'inference_data_check.py');

/** The example CSV as seed JSON (y, idx in the order labels first appear, no sigma), for inference_data_check.py. */
function unknownSigmaJson(path: string): string[] {
  const rows = readFileSync(UNKNOWN_SIGMA, 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
  const labels = [...new Set(rows.map((r) => r[0]))];
  writeFileSync(path, JSON.stringify({ y: rows.map((r) => Number(r[1])), idx: rows.map((r) => labels.indexOf(r[0])) }));
  return labels;
}

async function unknownSigmaRun(backend: 'cpu' | 'webgpu', chains: number): Promise<void> {
  const out = mkdtempSync(join(dir, `sigma-${backend}-`));
  const [summary, csv, nc, json] = ['s.json', 'd.csv', 'r.nc', 'data.json'].map((f) => join(out, f));
  const labels = unknownSigmaJson(json);
  // Centered: z = theta, which the check recomputes from the CSV's float32 mu, tau and theta
  // without the cancellation of (theta - mu) / tau at a small tau (these data sit near 10).
  const r = await funnelweb(['sample', '--data', UNKNOWN_SIGMA, '--param', 'centered', '--backend', backend, '--chains', String(chains), '--warmup', '200', '--draws', '100', '--seed', '4', '--sigma-prior', 'halfnormal:10', '--summary', summary, '--draws-csv', csv, '--out', nc, '--quiet']);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toMatch(/^sigma\s+\d/m);
  expect(r.stdout).toMatch(/^log_sigma\s+\d/m);
  expect(r.stderr).not.toMatch(/informed by its prior alone/);

  const s = JSON.parse(readFileSync(summary, 'utf8'));
  expect(s.device.backend).toBe(backend);
  expect(s.data.likelihood).toBe('normal_sigma');
  expect(Object.keys(s.params)).toEqual(['mu', 'tau', 'log_tau', 'sigma', 'log_sigma', ...labels.map((l) => `theta[${l}]`)]);
  // Simulated with sigma = 3 (36 observations in 8 groups).
  expect(s.params.sigma.q5 > 1.5 && s.params.sigma.q95 < 5, JSON.stringify(s.params.sigma)).toBe(true);
  expect(Number.isFinite(s.params.sigma.rhat) && Number.isFinite(s.params.log_sigma.ess_bulk)).toBe(true);

  const header = readFileSync(csv, 'utf8').split('\n', 1)[0].split(',');
  expect(header.slice(0, 7)).toEqual(['chain', 'draw', 'mu', 'tau', 'log_tau', 'sigma', 'log_sigma']);
  expect(header.slice(-4)).toEqual(['lp__', 'energy__', 'divergent__', 'accept_stat__']);
  const dj = join(out, 'diag.json');
  const d = await funnelweb(['diagnose', csv, '--json', dj]);
  expect(d.code, d.stderr).toBe(0);
  expect(d.stdout).toMatch(/^sigma\s/m);
  expect(JSON.parse(readFileSync(dj, 'utf8')).params.sigma.mean).toBeCloseTo(s.params.sigma.mean, 6);
  const dn = await funnelweb(['diagnose', nc]);
  expect(dn.code, dn.stderr).toBe(0);
  expect(dn.stdout).toMatch(/^log_sigma\s/m);

  const py = await python([IDATA_CHECK, nc, csv, json]);
  expect(py.code, py.stderr).toBe(0);
  const rep = JSON.parse(py.stdout);
  expect(rep.groups.posterior.vars).toEqual(['log_sigma', 'mu', 'sigma', 'tau', 'theta', 'z']);
  expect(rep.groups.constant_data.vars).toEqual(['obs_group']);
  expect(rep.groups.posterior.attrs.likelihood).toBe('normal_sigma');
  // Every draw of mu, tau, sigma, log_sigma, 8 theta and the 4 sampler columns, and y, per engine.
  expect(rep.compared).toBe(2 * (chains * 100 * 16 + 36));
}

describe('funnelweb sample, normal likelihood without a sigma column', () => {
  it('CPU backend: sigma and log_sigma in the summary, draws CSV and InferenceData (read by xarray); diagnose prints them', async () => {
    await unknownSigmaRun('cpu', 16);
  }, 120_000);

  it.skipIf(!gpu)('WebGPU: the same', async () => {
    await unknownSigmaRun('webgpu', 128);
  }, 120_000);

  it("the README's command for it runs as written (CPU, test-size counts)", async () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const line = readme.split('\n').find((l) => l.startsWith('npx funnelweb sample') && l.includes('examples/unknown_sigma.csv'));
    expect(line, 'README has a sample command on examples/unknown_sigma.csv').toBeDefined();
    const args = line!.replace(/#.*$/, '').trim().split(/\s+/).slice(2);
    const out = mkdtempSync(join(dir, 'readme-'));
    const withOut = args.map((a, i) => (args[i - 1] === '--summary' ? join(out, a) : a));
    const r = await funnelweb([...withOut, '--backend', 'cpu', '--chains', '16', '--warmup', '150', '--draws', '100', '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    expect(Object.keys(JSON.parse(readFileSync(join(out, args[args.indexOf('--summary') + 1]), 'utf8')).params)).toContain('sigma');
  }, 120_000);

  it('warns on stderr when no group has 2 or more observations, and runs', async () => {
    const file = join(dir, 'single.csv');
    writeFileSync(file, 'group,y\na,1.2\nb,0.4\nc,2.5\nd,1.9\n');
    const r = await funnelweb(['sample', '--data', file, '--backend', 'cpu', '--chains', '8', '--warmup', '50', '--draws', '20', '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^warning: sigma is informed by its prior alone: no group has 2 or more observations/m);
    expect(r.stdout).toMatch(/^sigma\s/m);
  }, 120_000);

  it('help of sample, compare and reproduce lists --sigma-prior with its default', async () => {
    for (const verb of ['sample', 'compare', 'reproduce']) {
      const r = await funnelweb([verb, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout, verb).toMatch(/--sigma-prior halfnormal:S\|halfcauchy:S\|exponential:R \(default halfnormal:5\)/);
    }
  });
});

describe('--sigma-prior where sigma is no parameter, and normal_sigma as --likelihood: exit 2, nothing written', () => {
  const files: Record<string, string> = { 'known.csv': 'group,y,sigma\na,1,1\nb,2,1\n' };
  const cases: [string, string[], RegExp][] = [
    ['with binomial', ['--data', SURGICAL, '--likelihood', 'binomial', '--sigma-prior', 'halfnormal:1'], /--sigma-prior: the binomial likelihood has no sigma parameter/],
    ['with a sigma column', ['--data', '@known.csv', '--sigma-prior', 'halfnormal:1'], /--sigma-prior: the data give sigma \(a 'sigma' column\), so sigma is known/],
    ['with --sigma', ['--data', UNKNOWN_SIGMA, '--sigma', '2', '--sigma-prior', 'exponential:1'], /--sigma-prior: --sigma gives sigma/],
    ['malformed', ['--data', UNKNOWN_SIGMA, '--sigma-prior', 'halfnormal:-1'], /--sigma-prior: scale must be > 0, got -1/],
    ['--likelihood normal_sigma', ['--data', UNKNOWN_SIGMA, '--likelihood', 'normal_sigma'], /--likelihood: unknown likelihood 'normal_sigma' \(expected normal, binomial, poisson\)/],
  ];
  beforeAll(() => {
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  });
  it.each(cases)('%s', async (_name, flags, message) => {
    const out = mkdtempSync(join(dir, 'bad-sigma-'));
    const args = flags.map((f) => (f.startsWith('@') ? join(dir, f.slice(1)) : f));
    for (const verb of ['sample', 'compare']) {
      const outputs = verb === 'sample' ? ['--summary', join(out, 's.json'), '--draws-csv', join(out, 'd.csv'), '--out', join(out, 'r.nc')] : ['--json', join(out, 'c.json'), '--out', join(out, 'runs')];
      const r = await funnelweb([verb, ...args, '--backend', 'cpu', '--chains', '8', '--warmup', '10', '--draws', '10', ...outputs, '--quiet']);
      expect(r.code, `${verb}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(readdirSync(out)).toEqual([]);
    }
  });
  it('reproduce: the seed data give sigma', async () => {
    const out = join(dir, 'study-never');
    const r = await funnelweb(['reproduce', '--sigma-prior', 'halfnormal:1', '--out', out, '--backend', 'cpu', '--quiet']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/--sigma-prior: the seed data give sigma/);
    expect(existsSync(out)).toBe(false);
  });
});
