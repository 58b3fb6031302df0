/**
 * InferenceData output (`funnelweb sample --out run.nc|run.zarr`) read by a reader that is
 * not ours: Debian's python3 with xarray, netCDF4, h5netcdf and zarr (`.ci/run` installs
 * python3-xarray python3-netcdf4 python3-zarr). test/inference_data_check.py opens every
 * group of the file with xarray (netcdf4 and h5netcdf engines for .nc, open_zarr with
 * consolidated metadata for .zarr) and compares every value with the draws CSV of the
 * same run, the labels coordinate, the dimensions and the attributes.
 *
 * Also: a bad `--out` exits 2 before any work; with a small draw budget the file holds
 * the retained chains and says so; the posterior predictive stays within its bound; a
 * .zarr directory is replaced whole.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadData } from '../src/io/data.ts';
import { toInferenceData } from '../src/io/inference_data.ts';
import { writeInferenceData } from '../src/io/inference_data_file.ts';
import { toZarr } from '../src/io/zarr.ts';
import { writeDirAtomic } from '../src/io/write.ts';
import { readInferenceDataDraws } from '../src/io/inference_data_read.ts';
import { parseDrawsCsv } from '../src/io/draws_csv.ts';
import { drawsCsvChunks, writeDrawsCsv } from '../src/io/draws_csv_write.ts';
import { sample } from '../src/sampler/sample.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'src', 'cli', 'bin.ts');
const WEAK = join(ROOT, 'demo', 'data', 'weak.json');
const CHECK = join(ROOT, 'test', 'inference_data_check.py');
/** Debian's interpreter (where apt puts python3-xarray), unless FUNNELWEB_PYTHON names another. */
const PYTHON = process.env.FUNNELWEB_PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], timeout = 180_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd: ROOT, env: process.env, timeout, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: unknown }).code as number | null) : 0;
      resolve({ code: typeof code === 'number' ? code : null, stdout, stderr });
    });
  });
}

interface CheckReport {
  engines: string[];
  groups: Record<string, { dims: Record<string, number>; vars: string[]; coords: string[]; attrs: Record<string, unknown> }>;
  compared: number;
  n_divergences: number;
  max_z_rel_err: number;
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'funnelweb-idata-'));
  try {
    execFileSync(PYTHON, ['-c', 'import xarray, netCDF4, h5netcdf, zarr'], { stdio: 'pipe' });
  } catch {
    throw new Error(`${PYTHON} cannot import xarray, netCDF4, h5netcdf and zarr: apt-get install python3-xarray python3-netcdf4 python3-zarr (or set FUNNELWEB_PYTHON)`);
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// weak x centered diverges in the funnel's neck: the divergence variables get exercised.
const RUN_ARGS = ['sample', '--data', WEAK, '--param', 'centered', '--chains', '16', '--warmup', '150', '--draws', '100', '--seed', '3', '--backend', 'cpu', '--quiet'];

describe('funnelweb sample --out, read by xarray', () => {
  for (const ext of ['nc', 'zarr'] as const) {
    it(`${ext}: every group opens and every value equals the draws CSV`, async () => {
      const out = join(dir, `run.${ext}`);
      const csv = join(dir, `run-${ext}.csv`);
      const r = await run(process.execPath, ['--import', 'tsx', BIN, ...RUN_ARGS, '--out', out, '--draws-csv', csv]);
      expect(r.code, r.stderr).toBe(0);
      const check = await run(PYTHON, [CHECK, out, csv, WEAK]);
      expect(check.code, check.stderr).toBe(0);
      const rep = JSON.parse(check.stdout) as CheckReport;
      expect(rep.engines).toEqual(ext === 'nc' ? ['netcdf4', 'h5netcdf'] : ['zarr']);
      // 16 x 100 draws x (mu, tau, 9 theta, lp, energy, acceptance, diverging) + 2 x 9 observations, per engine
      expect(rep.compared).toBe(rep.engines.length * (16 * 100 * 15 + 2 * 9));
      expect(rep.n_divergences).toBeGreaterThan(0);
      expect(rep.max_z_rel_err).toBeLessThan(1e-4);
      const post = rep.groups.posterior;
      expect(post.dims).toEqual({ chain: 16, draw: 100, group: 9 });
      expect(post.vars).toEqual(['mu', 'tau', 'theta', 'z']);
      expect(post.coords).toEqual(['chain', 'draw', 'group']);
      expect(post.attrs).toMatchObject({ inference_library: 'funnelweb', chains: 16, retained_chains: 16, tuning_steps: 150, seed: 3 });
      expect(String(post.attrs.created_at)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$/);
      expect(rep.groups.sample_stats.vars).toEqual(
        expect.arrayContaining(['lp', 'energy', 'acceptance_rate', 'step_size', 'n_steps', 'diverging', 'divergence_chain', 'divergence_draw', 'divergence_mu', 'divergence_tau', 'divergence_theta', 'divergence_z']),
      );
      expect(rep.groups.observed_data.coords).toEqual(['obs_group', 'observation']);
      expect(rep.groups.posterior_predictive.dims).toEqual({ chain: 16, draw: 100, observation: 9 });
      expect(rep.groups.warmup_sample_stats.dims).toEqual({ draw: 150 });

      // Our own reader (h5wasm for .nc, zarrita for .zarr) gives diagnose the same draws.
      const back = await readInferenceDataDraws(out);
      const fromCsv = parseDrawsCsv(readFileSync(csv, 'utf8'), csv);
      expect(back.chains).toBe(16);
      expect(back.draws).toBe(100);
      const names = ['mu', 'tau', ...Array.from({ length: 9 }, (_, k) => `theta[${k}]`)];
      expect(Object.keys(back.params).filter((n) => !n.startsWith('z['))).toEqual(names);
      for (const n of names) expect(back.params[n], n).toEqual(fromCsv.params[n]);
      expect(back.energy).toEqual(fromCsv.energy);
      expect(back.divergent).toEqual(fromCsv.divergent);
      expect(back.acceptProb).toEqual(fromCsv.acceptProb);
    });
  }

  it('rejects a bad --out before any work, exit 2, nothing written', async () => {
    for (const bad of ['run.csv', 'run', 'run.nc4']) {
      const target = join(dir, bad);
      const r = await run(process.execPath, ['--import', 'tsx', BIN, ...RUN_ARGS, '--out', target], 30_000);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('--out');
      expect(r.stdout).toBe('');
      expect(existsSync(target)).toBe(false);
    }
    const r = await run(process.execPath, ['--import', 'tsx', BIN, ...RUN_ARGS, '--out', join(dir, 'no-such-dir', 'run.nc')], 30_000);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('does not exist');
    mkdirSync(join(dir, 'taken.nc'));
    const taken = await run(process.execPath, ['--import', 'tsx', BIN, ...RUN_ARGS, '--out', join(dir, 'taken.nc')], 30_000);
    expect(taken.code).toBe(2);
    expect(taken.stderr).toContain('is a directory');
  });
});

describe('sigma unknown (data without sigma): read by xarray', () => {
  it('zarr: sigma and log_sigma in the posterior equal the draws CSV, no sigma in constant_data, y_rep by each draw\'s sigma', async () => {
    // The weak data's y and idx without sigma: the normal likelihood with sigma unknown.
    const weak = JSON.parse(readFileSync(WEAK, 'utf8')) as { y: number[]; idx: number[] };
    const data = join(dir, 'weak_no_sigma.json');
    writeFileSync(data, JSON.stringify({ y: weak.y, idx: weak.idx }));
    const out = join(dir, 'no_sigma.zarr');
    const csv = join(dir, 'no_sigma.csv');
    const args = ['sample', '--data', data, '--param', 'centered', '--chains', '16', '--warmup', '150', '--draws', '100', '--seed', '3', '--backend', 'cpu', '--quiet'];
    const r = await run(process.execPath, ['--import', 'tsx', BIN, ...args, '--out', out, '--draws-csv', csv]);
    expect(r.code, r.stderr).toBe(0);
    // One observation per group: sigma rests on its prior, and the run says so.
    expect(r.stderr).toMatch(/warning: sigma is informed by its prior alone/);
    const check = await run(PYTHON, [CHECK, out, csv, data]);
    expect(check.code, check.stderr).toBe(0);
    const rep = JSON.parse(check.stdout) as CheckReport;
    expect(rep.groups.posterior.vars).toEqual(['log_sigma', 'mu', 'sigma', 'tau', 'theta', 'z']);
    expect(rep.groups.posterior.attrs).toMatchObject({ likelihood: 'normal_sigma' });
    expect(rep.groups.constant_data.vars).toEqual(['obs_group']);
    // 16 x 100 draws x (mu, tau, sigma, log_sigma, 9 theta, lp, energy, acceptance, diverging) + 9 observations
    expect(rep.compared).toBe(16 * 100 * 17 + 9);
    const back = await readInferenceDataDraws(out);
    const fromCsv = parseDrawsCsv(readFileSync(csv, 'utf8'), csv);
    for (const n of ['sigma', 'log_sigma']) expect(back.params[n], n).toEqual(fromCsv.params[n]);
  });
});

describe('retained chains and bounds', () => {
  it('holds the retained prefix of the chains and bounds y_rep, and says so', async () => {
    const data = await loadData(WEAK);
    // budget for 5 of 12 chains: 40 draws x (D + 3) = 40 x 14 floats each
    const result = await sample({ data, chains: 12, warmup: 60, draws: 40, seed: 5, backend: 'cpu', drawBudget: 5 * 40 * 14 });
    expect(result.retainedChains).toBe(5);
    const idata = toInferenceData(result, data, { seed: 5, maxPredictiveValues: 3 * 40 * 9 + 7 });
    const nc = join(dir, 'retained.nc');
    const zarr = join(dir, 'retained.zarr');
    await writeInferenceData(nc, idata);
    await writeInferenceData(zarr, idata);
    const script = `
import json, sys, xarray as xr
out = {}
for p in sys.argv[1:]:
    kw = dict(consolidated=True) if p.endswith('.zarr') else {}
    op = xr.open_zarr if p.endswith('.zarr') else xr.open_dataset
    post = op(p, group='posterior', **kw)
    pp = op(p, group='posterior_predictive', **kw)
    out[p.rsplit('.', 1)[1]] = dict(chains=int(post.sizes['chain']), attr=int(post.attrs['retained_chains']), of=int(post.attrs['chains']),
                       note=post.attrs['chains_note'], pp=int(pp.sizes['chain']), ppnote=pp.attrs['note'],
                       mu0=float(post['mu'].values[4, 39]))
print(json.dumps(out))`;
    const r = await run(PYTHON, ['-c', script, nc, zarr]);
    expect(r.code, r.stderr).toBe(0);
    const got = JSON.parse(r.stdout) as Record<string, { chains: number; attr: number; of: number; note: string; pp: number; ppnote: string; mu0: number }>;
    for (const k of ['nc', 'zarr']) {
      expect(got[k]).toMatchObject({ chains: 5, attr: 5, of: 12, pp: 3 });
      expect(got[k].note).toContain('0..4 of 12');
      expect(got[k].ppnote).toContain('chains 0..2 of the 5');
      expect(got[k].mu0).toBe(result.params.mu[4 * 40 + 39]);
    }
  });
});

describe('zarr store layout', () => {
  it('has consolidated metadata for every group and array, and chunk files covering each array', async () => {
    const data = await loadData(WEAK);
    const result = await sample({ data, chains: 4, warmup: 20, draws: 10, seed: 1, backend: 'cpu' });
    const files = toZarr(toInferenceData(result, data));
    const meta = JSON.parse(new TextDecoder().decode(files.get('.zmetadata')!)) as { zarr_consolidated_format: number; metadata: Record<string, unknown> };
    expect(meta.zarr_consolidated_format).toBe(1);
    const docs = [...files.keys()].filter((k) => /(^|\/)\.z(group|attrs|array)$/.test(k));
    expect(Object.keys(meta.metadata).sort()).toEqual(docs.sort());
    const theta = meta.metadata['posterior/theta/.zarray'] as { shape: number[]; dtype: string; compressor: null };
    expect(theta).toMatchObject({ shape: [4, 10, 9], dtype: '<f4', compressor: null });
    expect(meta.metadata['posterior/theta/.zattrs']).toEqual({ _ARRAY_DIMENSIONS: ['chain', 'draw', 'group'] });
    expect(files.get('posterior/theta/0.0.0')!.byteLength).toBe(4 * 10 * 9 * 4);
  });

  it('replaces an existing .zarr directory whole, and leaves nothing behind on error', async () => {
    const target = join(dir, 'replace.zarr');
    mkdirSync(join(target, 'stale'), { recursive: true });
    writeFileSync(join(target, 'stale', 'x'), 'old');
    await writeDirAtomic(target, new Map([['.zgroup', new TextEncoder().encode('{"zarr_format": 2}')]]));
    expect(readdirSync(target)).toEqual(['.zgroup']);
    await expect(writeDirAtomic(join(dir, 'bad.zarr'), new Map([['../escape', new Uint8Array(1)]]))).rejects.toThrow(/bad store key/);
    expect(readdirSync(dir).filter((f) => f.includes('bad.zarr'))).toEqual([]);
    expect(readFileSync(join(target, '.zgroup'), 'utf8')).toContain('zarr_format');
  });
});

describe('draws CSV in pieces', () => {
  it('joins to the same text whatever the piece size, and parses back to the draws', async () => {
    const data = await loadData(WEAK);
    const result = await sample({ data, chains: 3, warmup: 20, draws: 10, seed: 2, backend: 'cpu' });
    const whole = [...drawsCsvChunks(result)];
    const pieces = [...drawsCsvChunks(result, 7)];
    expect(whole).toHaveLength(2); // header, then the 30 rows
    expect(pieces).toHaveLength(1 + Math.ceil(30 / 7));
    expect(pieces.join('')).toBe(whole.join(''));
    const path = join(dir, 'pieces.csv');
    await writeDrawsCsv(path, result);
    const t = parseDrawsCsv(readFileSync(path, 'utf8'), path);
    expect(t.chains).toBe(3);
    expect(t.params['theta[4]']).toEqual(Float64Array.from(result.params['theta[4]']));
    expect(t.energy).toEqual(Float64Array.from(result.records.energy));
  });
});
