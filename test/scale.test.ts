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
 * - The normal likelihood with sigma unknown (no sigma column): the units come from the
 *   spread of y; x = log sigma moves by log scale and its prior's scale divides by scale
 *   (every prior kind), so the same identities hold, with the whole model's Jacobian checked
 *   on the normalized joint density (`logJointPerObservation`); a sampled run of rescaled
 *   data gives the rescaled posterior.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { chooseScale, IDENTITY_SCALE, logDensityOffset, scaleData, scalePriors, unscaleParams, unscalePositions, type DataScale } from '../src/model/scale.ts';
import { constrain, logDensity, logJointPerObservation, makeModel } from '../src/model/model.ts';
import { DEFAULT_PRIORS, type Priors, type ScalePrior } from '../src/model/priors.ts';
import { familyOf } from '../src/model/families/index.ts';
import { familyGlobals } from '../src/model/family.ts';
import { parseCsv } from '../src/io/data.ts';
import { readFileSync } from 'node:fs';
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

describe('standardized units: the normal likelihood with sigma unknown', () => {
  const base = parseCsv(readFileSync(join(ROOT, 'examples', 'unknown_sigma.csv'), 'utf8'));
  const family = familyOf(base.likelihood);
  const global = familyGlobals(family)[0];

  /** The data with y = shift + factor y, and every prior (sigma's of `kind`) in the same units. */
  function rescaledNs(factor: number, shift: number, kind: ScalePrior['kind']): { data: HierData; priors: Priors } {
    return {
      data: { ...base, y: base.y.map((v) => shift + factor * v) },
      priors: {
        mu: { kind: 'normal', loc: shift + factor * DEFAULT_PRIORS.mu.loc, scale: factor * 20 },
        tau: { ...DEFAULT_PRIORS.tau, scale: factor * DEFAULT_PRIORS.tau.scale },
        family: { log_sigma: { kind, scale: factor * 4 } },
      },
    };
  }

  it('data without sigma; their own units where they are near unit scale', () => {
    expect(base.likelihood).toBe('normal_sigma');
    expect(global.logScaleOfY).toBe(true);
    for (const p of ['float32', 'float64'] as const) expect(chooseScale(base, DEFAULT_PRIORS, p), p).toEqual(IDENTITY_SCALE);
  });

  it('far-off data get a scale near the spread of y (there is no sigma column to take it from)', () => {
    const { data, priors } = rescaledNs(1e29, 0, 'halfnormal');
    const s = chooseScale(data, priors, 'float32');
    expect(Math.log2(s.scale)).toBe(Math.round(Math.log2(s.scale)));
    expect(s.scale / 1e29).toBeGreaterThan(0.1);
    expect(s.scale / 1e29).toBeLessThan(10);
    const small = rescaledNs(1e-6, 40, 'halfnormal');
    const t = chooseScale(small.data, small.priors, 'float32');
    expect(t.scale).toBeLessThan(1e-4);
    expect(Math.abs(t.shift - 40)).toBeLessThan(1e-4);
  });

  it('scalePriors divides the scale of sigma\'s prior (its default too, or with no family given) by the scale', () => {
    const s: DataScale = { shift: 3, scale: 2 ** 10 };
    for (const kind of ['halfnormal', 'halfcauchy', 'exponential'] as const) {
      expect(scalePriors({ ...DEFAULT_PRIORS, family: { log_sigma: { kind, scale: 2048 } } }, s, family).family).toEqual({ log_sigma: { kind, scale: 2 } });
    }
    const dflt = global.prior.default;
    expect(scalePriors(DEFAULT_PRIORS, s, family).family).toEqual({ log_sigma: { ...dflt, scale: dflt.scale / 1024 } });
    expect(scalePriors(DEFAULT_PRIORS, s).family).toEqual({ log_sigma: { ...dflt, scale: dflt.scale / 1024 } });
    expect(scalePriors(DEFAULT_PRIORS, IDENTITY_SCALE, family)).toBe(DEFAULT_PRIORS);
  });

  it("log p of the user model at the unscaled position = the standardized model's + the offset; x moves by log scale", () => {
    const rng = testRng(11);
    // [factor, shift, partial c allowed, absolute tolerance], as for sigma known.
    const cases: [number, number, boolean, number][] = [
      [1e29, 0, false, 1e-9],
      [2 ** 40, 0, true, 1e-6],
      [3e-6, 50, false, 1e-5],
      [1, 1e6, true, 1e-5],
    ];
    for (const kind of ['halfnormal', 'halfcauchy', 'exponential'] as const) {
      for (const [factor, shift, partial, tol] of cases) {
        const { data, priors } = rescaledNs(factor, shift, kind);
        const s = chooseScale(data, priors, 'float64');
        expect(s).not.toEqual(IDENTITY_SCALE);
        for (const cKind of partial ? ['binary', 'partial'] : ['binary']) {
          const c = Float64Array.from({ length: data.K }, (_, k) => (k % 3 === 0 ? 0 : k % 3 === 1 ? 1 : cKind === 'partial' ? rng() : 0));
          const user = makeModel(data, c, priors);
          const std = makeModel(scaleData(data, s), c, scalePriors(priors, s, family));
          const iX = std.layout.global('log_sigma');
          for (let trial = 0; trial < 10; trial++) {
            const q = Float64Array.from({ length: std.dim }, () => 4 * rng() - 2);
            const back = Float64Array.from(q);
            unscalePositions(back, c, s, family);
            expect(back[iX]).toBeCloseTo(q[iX] + Math.log(s.scale), 9);
            const lpUser = logDensity(user, back);
            const lpStd = logDensity(std, q) + logDensityOffset(c, s, family, data.y.length);
            expect(Math.abs(lpUser - lpStd), `${kind} factor ${factor}, shift ${shift}, ${cKind}: ${lpUser} vs ${lpStd}`).toBeLessThan(tol * Math.max(1, Math.abs(lpUser)));
          }
        }
      }
    }
  });

  it('the whole model moves: the normalized joint density in the user\'s units is the standardized one less log scale per scalar (mu, tau, sigma, K theta, N y)', () => {
    const rng = testRng(5);
    for (const kind of ['halfnormal', 'halfcauchy', 'exponential'] as const) {
      const { data, priors } = rescaledNs(1e8, 0, kind);
      const s = chooseScale(data, priors, 'float64');
      const c = new Float64Array(data.K);
      const std = makeModel(scaleData(data, s), c, scalePriors(priors, s, family));
      const user = makeModel(data, c, priors);
      for (let trial = 0; trial < 5; trial++) {
        const q = Float64Array.from({ length: std.dim }, () => 2 * rng() - 1);
        const back = Float64Array.from(q);
        unscalePositions(back, c, s, family);
        const a = constrain(std, q);
        const b = constrain(user, back);
        const jointStd = logJointPerObservation(scaleData(data, s), scalePriors(priors, s, family), a.mu, a.tau, a.theta, a.x);
        const jointUser = logJointPerObservation(data, priors, b.mu, b.tau, b.theta, b.x);
        const scalars = 3 + data.K + data.y.length;
        expect(jointUser, kind).toBeCloseTo(jointStd - scalars * Math.log(s.scale), 6);
      }
    }
  });

  it('unscaleParams: mu and theta shifted and scaled, tau and sigma scaled, their logs moved by log scale', () => {
    const s: DataScale = { shift: 100, scale: 4 };
    const params = {
      mu: Float32Array.of(1),
      tau: Float32Array.of(2),
      log_tau: Float32Array.of(0.5),
      sigma: Float32Array.of(3),
      log_sigma: Float32Array.of(-1),
      'theta[A]': Float32Array.of(-2),
    };
    const out = unscaleParams(params, family, s);
    expect(out.mu).toBeInstanceOf(Float64Array);
    expect([out.mu[0], out.tau[0], out.log_tau[0], out.sigma[0], out.log_sigma[0], out['theta[A]'][0]]).toEqual([
      104,
      8,
      Math.fround(0.5 + Math.log(4)),
      12,
      Math.fround(-1 + Math.log(4)),
      92,
    ]);
    expect(() => unscaleParams({ 'p[A]': Float32Array.of(0.5) }, family, s)).toThrow(/no rule for the units of the parameter 'p\[A\]'/);
  });

  it('a sigma prior the data cannot be computed with is rejected naming --sigma-prior; a group out of reach names y, not sigma', () => {
    for (const p of ['float32', 'float64'] as const) {
      expect(() => chooseScale(base, { ...DEFAULT_PRIORS, family: { log_sigma: { kind: 'halfnormal', scale: 1e-300 } } }, p)).toThrow(/^--sigma-prior: sigma of the data \(about /);
      expect(() => chooseScale(base, { ...DEFAULT_PRIORS, family: { log_sigma: { kind: 'exponential', scale: 1e-300 } } }, p)).toThrow(/^--sigma-prior/);
    }
    const far = { ...base, y: base.y.map((v, i) => (base.group[i] === 3 ? 1e30 : v)) };
    expect(() => chooseScale(far, DEFAULT_PRIORS, 'float32')).toThrow(/^y \(group D\)/);
  });

  it('sample (CPU) of the data x 1e29: the posterior of the data x 1e29, lp__ the user model\'s at each position', async () => {
    const unit = rescaledNs(1, 0, 'halfnormal');
    const big = rescaledNs(1e29, 0, 'halfnormal');
    const opts = { parameterization: 'noncentered', chains: 16, warmup: 300, draws: 300, seed: 3, backend: 'cpu' } as const;
    const a = reportRun(await sample({ ...opts, ...unit }), 3).report;
    const r = await sample({ ...opts, ...big });
    expect(r.units).toBeDefined();
    const b = reportRun(r, 3).report;
    for (const name of ['mu', 'tau', 'sigma', 'theta[C]']) {
      const se = Math.hypot(a.params[name].mcse_mean, b.params[name].mcse_mean / 1e29);
      expect(Math.abs(b.params[name].mean / 1e29 - a.params[name].mean), name).toBeLessThan(5 * se);
    }
    expect(Math.abs(b.params.log_sigma.mean - Math.log(1e29) - a.params.log_sigma.mean)).toBeLessThan(5 * Math.hypot(a.params.log_sigma.mcse_mean, b.params.log_sigma.mcse_mean));
    const D = r.model.dim;
    for (let i = 0; i < 100; i++) {
      const lp = logDensity(r.model, r.records.positions.subarray(i * D, (i + 1) * D));
      expect(Math.abs(lp - r.records.logDensity[i]), `draw ${i}`).toBeLessThan(1e-9 * Math.max(1, Math.abs(lp)));
    }
  });
});
