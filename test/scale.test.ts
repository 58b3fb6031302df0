/**
 * Standardized units (src/model/scale.ts): any finite data scale samples the user's
 * posterior, and what no affine map makes representable is rejected naming the field.
 *
 * - The map is exact: the log density of the user's model at the unscaled position equals
 *   the standardized model's plus the constant `logDensityOffset`, for every centeredness.
 * - The seed study's data run unchanged (identity units), so their draws are as before.
 * - y and sigma multiplied by 1e29 (y about 1e30) or 1e-5 (sigma 1e-6), with the priors in
 *   the same units, give the exact posterior of those data on WebGPU (float32) within
 *   Monte Carlo error: mu, log tau and every theta.
 * - y = 1e30 in one group, sigma of 1e-300, 1e-20 or 1e308, a prior of scale 1e308 or
 *   location 1e300: `funnelweb sample` exits 2 with one line naming the field, before any
 *   sampling, on both backends.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { chooseScale, IDENTITY_SCALE, logDensityOffset, scaleData, scalePriors, unscalePositions, type DataScale } from '../src/model/scale.ts';
import { logDensity, makeModel } from '../src/model/model.ts';
import { DEFAULT_PRIORS, type Priors } from '../src/model/priors.ts';
import type { HierData } from '../src/model/data.ts';
import { InputError } from '../src/errors.ts';
import { sample, type PositionSnapshot } from '../src/sampler/sample.ts';
import { reportRun } from '../src/sampler/report.ts';
import { SEED_NAMES, seedData, testGpu, testRng } from './gpu_helpers.ts';
import { checkExact } from './exactness.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const gpu = await testGpu();
afterAll(() => gpu?.device.destroy());

/** The data with y = shift + factor y and sigma = factor sigma, and the priors in the same units. */
function rescaled(data: HierData, factor: number, shift = 0): { data: HierData; priors: Priors } {
  return {
    data: { ...data, y: data.y.map((v) => shift + factor * v), sigma: data.sigma.map((v) => factor * v) },
    priors: {
      mu: { kind: 'normal', loc: shift + factor * DEFAULT_PRIORS.mu.loc, scale: factor * DEFAULT_PRIORS.mu.scale },
      tau: { ...DEFAULT_PRIORS.tau, scale: factor * DEFAULT_PRIORS.tau.scale },
    },
  };
}

describe('standardized units: the map', () => {
  it('the seed data run in their own units (identity) on both precisions', () => {
    for (const name of SEED_NAMES) {
      for (const p of ['float32', 'float64'] as const) expect(chooseScale(seedData(name), DEFAULT_PRIORS, p), `${name} ${p}`).toEqual(IDENTITY_SCALE);
    }
  });

  it('far-off data get a power-of-two scale near their spread, and a shift to their centre', () => {
    const { data, priors } = rescaled(seedData('weak'), 1e29);
    const s = chooseScale(data, priors, 'float32');
    expect(Math.log2(s.scale)).toBe(Math.round(Math.log2(s.scale)));
    expect(s.scale / 1e29).toBeGreaterThan(0.1);
    expect(s.scale / 1e29).toBeLessThan(10);
    expect(s.shift).toBe(0);
    const shifted = rescaled(seedData('strong'), 1e-5, 3);
    const t = chooseScale(shifted.data, shifted.priors, 'float32');
    expect(t.scale).toBeLessThan(1e-3);
    expect(Math.abs(t.shift - 3)).toBeLessThan(1e-3);
  });

  it('log p of the user model at the unscaled position = the standardized model\'s + the offset, for any centeredness', () => {
    const rng = testRng(7);
    const base = seedData('unbalanced');
    // [factor, shift, partial c allowed, absolute tolerance]. A partially centered z in the
    // user's units, z = c shift + c scale mu' + scale^c (z' - c mu'), cancels catastrophically
    // when the scale is far from 1 (scale^c is lost beside c scale mu'): only the positions
    // written back are affected, not the sampling, which runs in standardized units. With a
    // shift, the user-unit sufficient statistics themselves carry float64 rounding of
    // ~1e-16 of the shift over sigma (the test's reference is the less exact side).
    const cases: [number, number, boolean, number][] = [
      [1e29, 0, false, 1e-9],
      [2 ** 40, 0, true, 1e-6],
      // shift / sigma = 50 / 3e-5 ≈ 2e6: the user-unit reference keeps about 10 of float64's 16 digits
      [3e-6, 50, false, 1e-5],
      [1, 1e6, true, 1e-5],
    ];
    for (const [factor, shift, partial, tol] of cases) {
      const { data, priors } = rescaled(base, factor, shift);
      const s: DataScale = chooseScale(data, priors, 'float64');
      expect(s).not.toEqual(IDENTITY_SCALE);
      for (const kind of partial ? ['binary', 'partial'] : ['binary']) {
        const c = Float64Array.from({ length: data.K }, (_, k) => (k % 3 === 0 ? 0 : k % 3 === 1 ? 1 : kind === 'partial' ? rng() : 0));
        const user = makeModel(data, c, priors);
        const std = makeModel(scaleData(data, s), c, scalePriors(priors, s));
        for (let trial = 0; trial < 20; trial++) {
          const q = Float64Array.from({ length: data.K + 2 }, () => 4 * rng() - 2);
          const back = Float64Array.from(q);
          unscalePositions(back, c, s);
          const lpUser = logDensity(user, back);
          const lpStd = logDensity(std, q) + logDensityOffset(c, s);
          expect(Math.abs(lpUser - lpStd), `factor ${factor}, shift ${shift}, ${kind}: ${lpUser} vs ${lpStd}`).toBeLessThan(tol * Math.max(1, Math.abs(lpUser)));
        }
      }
    }
  });
});

describe('standardized units: what cannot be represented is rejected, naming the field', () => {
  const weak = seedData('weak');
  const cases: [string, HierData, Priors, RegExp][] = [
    ['y = 1e30 in one group', { ...weak, y: weak.y.map((v, i) => (i === 3 ? 1e30 : v)) }, DEFAULT_PRIORS, /^y \(group 3\)/],
    ['y = 1e30 everywhere, default priors', { ...weak, y: weak.y.map(() => 1e30) }, DEFAULT_PRIORS, /^--mu-prior/],
    ['sigma 1e-300', { ...weak, sigma: weak.sigma.map(() => 1e-300) }, DEFAULT_PRIORS, /^sigma/],
    ['sigma 1e-20', { ...weak, sigma: weak.sigma.map(() => 1e-20) }, DEFAULT_PRIORS, /^sigma/],
    ['sigma 1e308', { ...weak, sigma: weak.sigma.map(() => 1e308) }, DEFAULT_PRIORS, /^sigma/],
    ['sigma spanning 1e-200..1', { ...weak, sigma: weak.sigma.map((v, i) => (i === 0 ? 1e-200 : v)) }, DEFAULT_PRIORS, /^sigma \(observation 1\)|^y \(group 0\)/],
    ['--tau-prior halfcauchy:1e308', weak, { ...DEFAULT_PRIORS, tau: { kind: 'halfcauchy', scale: 1e308 } }, /^--tau-prior/],
    ['--mu-prior normal:1e300,1', weak, { ...DEFAULT_PRIORS, mu: { kind: 'normal', loc: 1e300, scale: 1 } }, /^--mu-prior/],
  ];
  for (const [name, data, priors, field] of cases) {
    it(name, () => {
      for (const p of ['float32', 'float64'] as const) {
        let err: unknown;
        try {
          chooseScale(data, priors, p);
        } catch (e) {
          err = e;
        }
        expect(err, `${name} (${p})`).toBeInstanceOf(InputError);
        expect((err as InputError).message, p).toMatch(field);
        expect((err as InputError).message.length).toBeLessThan(400);
      }
    });
  }

  it('float32 limits are tighter than float64: a group 1e6 standard errors out runs on the CPU backend only', () => {
    const data = { ...weak, y: weak.y.map((v, i) => (i === 3 ? 1e7 : v)) };
    expect(() => chooseScale(data, DEFAULT_PRIORS, 'float32')).toThrow(/^y \(group 3\)/);
    expect(() => chooseScale(data, DEFAULT_PRIORS, 'float64')).not.toThrow();
  });
});

describe('standardized units: the CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fw-scale-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const weakJson = () => JSON.parse(JSON.stringify({ y: Array.from(seedData('weak').y), idx: Array.from(seedData('weak').group), sigma: 10, K: 9 }));
  const run = (args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli', 'bin.ts'), 'sample', ...args, '--chains', '64', '--warmup', '20', '--draws', '20', '--quiet'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 120_000,
    });
  const cases: [string, (d: ReturnType<typeof weakJson>) => void, string[], RegExp][] = [
    ['y = 1e30 in one group', (d) => (d.y[3] = 1e30), [], /y \(group 3\)/],
    ['sigma 1e-300', (d) => (d.sigma = 1e-300), [], /sigma/],
    ['sigma 1e308', (d) => (d.sigma = 1e308), [], /sigma/],
    ['--tau-prior halfcauchy:1e308', () => {}, ['--tau-prior', 'halfcauchy:1e308'], /--tau-prior/],
    ['--mu-prior normal:1e300,1', () => {}, ['--mu-prior', 'normal:1e300,1'], /--mu-prior/],
  ];
  for (const [name, edit, flags, field] of cases) {
    for (const backend of ['webgpu', 'cpu']) {
      it.skipIf(backend === 'webgpu' && !gpu)(`${name} (--backend ${backend}): exit 2, one line naming the field, nothing written`, () => {
        const d = weakJson();
        edit(d);
        const file = join(dir, `${name.replace(/\W+/g, '_')}.json`);
        writeFileSync(file, JSON.stringify(d));
        const summary = join(dir, 'never.json');
        const r = run(['--data', file, '--backend', backend, '--summary', summary, ...flags]);
        expect(r.status, r.stderr).toBe(2);
        const lines = r.stderr.trim().split('\n');
        expect(lines, r.stderr).toHaveLength(1);
        expect(lines[0]).toMatch(/^funnelweb: error: /);
        expect(lines[0]).toMatch(field);
        expect(r.stderr).not.toMatch(/\n\s+at /);
        expect(r.stdout).toBe('');
        expect(existsSync(summary)).toBe(false);
      });
    }
  }
});

describe('standardized units: compare', () => {
  it('data it cannot compute with: exit 2 at once, before the exact posterior, no --out directory made', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fw-scale-cmp-'));
    try {
      const weak = seedData('weak');
      const file = join(dir, 'y1e30.json');
      writeFileSync(file, JSON.stringify({ y: Array.from(weak.y, (v, i) => (i === 3 ? 1e30 : v)), idx: Array.from(weak.group), sigma: 10, K: 9 }));
      const out = join(dir, 'out');
      const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli', 'bin.ts'), 'compare', '--data', file, '--out', out, '--quiet'], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^funnelweb: error: y \(group 3\)/);
      // Said before the --out directory is made, which comes before the exact posterior
      // (48 s for such data on the 2-core machine).
      expect(existsSync(out)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!gpu)('standardized units: live snapshots', () => {
  it('are in the user\'s units with the run\'s centeredness: the last one equals the last recorded positions', async () => {
    const { data, priors } = rescaled(seedData('unbalanced'), 1e-5, 1e3);
    const snaps: PositionSnapshot[] = [];
    const r = await sample({ data, priors, parameterization: 'mixed:2,6', chains: 64, warmup: 100, draws: 40, seed: 5, backend: 'webgpu', gpu: gpu!, snapshotChains: 4, syncSeconds: Infinity, onSnapshot: (x) => snaps.push(x) });
    expect(r.units).toBeDefined();
    const last = snaps.at(-1)!;
    expect(last.iteration).toBe(40);
    expect(Array.from(last.centeredness)).toEqual(Array.from(r.model.c));
    const D = r.model.dim;
    for (let ch = 0; ch < 4; ch++) {
      for (let d = 0; d < D; d++) {
        const rec = r.records.positions[(ch * r.draws + r.draws - 1) * D + d];
        const snap = last.positions[ch * D + d];
        // (records: unscaled in float32 in place; snapshots: in float64)
        expect(Math.abs(snap - rec), `chain ${ch} coordinate ${d}: ${snap} vs ${rec}`).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(rec)));
      }
    }
  });
});

describe.skipIf(!gpu)('standardized units: the posterior of rescaled data is the rescaled posterior (WebGPU, float32)', () => {
  const cases: [string, 'weak' | 'strong', string, number, number][] = [
    ['weak x 1e29 (y about 1e30), noncentered', 'weak', 'noncentered', 1e29, 0],
    ['strong x 1e-5 (sigma 1e-6) shifted by 1e3, centered', 'strong', 'centered', 1e-5, 1e3],
  ];
  for (const [name, set, param, factor, shift] of cases) {
    it(name, async () => {
      const { data, priors } = rescaled(seedData(set), factor, shift);
      const result = await sample({ data, priors, parameterization: param, chains: 1024, draws: 400, seed: 11, backend: 'webgpu', gpu: gpu! });
      expect(result.units, 'ran in standardized units').toBeDefined();
      const { report } = reportRun(result, 11);
      expect(report.sampler.divergences).toBeLessThanOrEqual(1e-4 * 1024 * 400);
      for (const p of Object.values(report.params)) expect(p.rhat).toBeLessThan(1.01);
      checkExact(report, data, true, priors);
      // Positions and lp__ come back in the user's units: the user's model at each recorded
      // position gives its recorded lp__ (float32 records; without a shift z keeps its
      // relative precision).
      if (shift === 0) {
        const D = result.model.dim;
        const pos = result.records.positions;
        for (let i = 0; i < 200; i++) {
          const lp = logDensity(result.model, pos.subarray(i * D, (i + 1) * D));
          expect(Math.abs(lp - result.records.logDensity[i]), `draw ${i}`).toBeLessThan(1e-3 * Math.max(1, Math.abs(lp)));
        }
      }
    });
  }
});
