/**
 * Population-level predictors (eta_i = theta[g_i] + x_i . beta) in every output and in the
 * standardized units (src/model/scale.ts), on small data sets made by hand (K = 4 groups,
 * P = 2 predictors, one varying within groups), with a hand-made run (positions drawn at
 * random; no sampler) so that only the outputs are under test:
 *
 * - constrain: the draws gain beta[<name>] after the family's globals and before theta,
 *   equal to their coordinates; a model without predictors keeps its names.
 * - units: positions scaled by a power of two and unscaled back give beta = scale beta'
 *   exactly and the user's (mu, tau, theta, sigma); the user's log density is the
 *   standardized one plus `logDensityOffset` (no term for beta), and the normalized joint
 *   density moves by log scale per scalar (P coefficients among them); the beta prior moves
 *   (its default too) only where the data have predictors; unscaleParams scales beta[...];
 *   chooseScale does not blame mu's or tau's prior for a spread that x . beta explains.
 * - InferenceData: beta (chain, draw, predictor) with the predictor names as coordinate,
 *   divergence_beta, constant_data X; read back by our reader (.nc and .zarr) and by xarray;
 *   posterior_predictive y_rep drawn at eta of each draw.
 * - draws CSV: beta[<name>] columns that parse back; CmdStan's `beta.1` reads as `beta[1]`.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HierData } from '../src/model/data.ts';
import { constrain, logDensity, logJointPerObservation, makeModel, unconstrain, type HierModel } from '../src/model/model.ts';
import { familyOf } from '../src/model/families/index.ts';
import { DEFAULT_BETA_PRIOR, DEFAULT_PRIORS, type Priors } from '../src/model/priors.ts';
import { chooseScale, IDENTITY_SCALE, logDensityOffset, scaleData, scalePriors, unscaleParams, unscalePositions, type DataScale } from '../src/model/scale.ts';
import { constrainDraws, constrainedNames } from '../src/sampler/constrain.ts';
import type { RecordedDraws } from '../src/sampler/backend.ts';
import type { SampleResult } from '../src/sampler/sample.ts';
import { keyFromSeed } from '../src/sampler/rng.ts';
import { PredictiveVariates, toInferenceData, type IdGroup, type InferenceData } from '../src/io/inference_data.ts';
import { writeInferenceData } from '../src/io/inference_data_file.ts';
import { readInferenceDataDraws } from '../src/io/inference_data_read.ts';
import { parseDrawsCsv } from '../src/io/draws_csv.ts';
import { drawsCsvChunks } from '../src/io/draws_csv_write.ts';
import { parseCmdStanCsv, cmdstanDrawsTable } from '../src/io/cmdstan.ts';

/** Deterministic uniforms on [0, 1) (mulberry32). */
function rngOf(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NAMES = ['x1', 'x1:x2'];
const LABELS = ['A', 'B', 'C', 'D'];

/**
 * K = 4 groups of 3 observations; x1 varies within groups, x1:x2 is constant within each.
 * `sigmaKnown`: the normal likelihood with a sigma column; else sigma unknown (normal_sigma).
 */
function handData(sigmaKnown = true, factor = 1, shift = 0): HierData {
  const group = Int32Array.from([0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3]);
  const N = group.length;
  const X = new Float64Array(N * 2);
  for (let i = 0; i < N; i++) {
    X[i * 2] = (i % 3) - 1 + 0.25 * group[i];
    X[i * 2 + 1] = 0.5 * group[i] - 0.75;
  }
  const y = Float64Array.from({ length: N }, (_, i) => shift + factor * (1 + 0.7 * X[i * 2] - 1.3 * X[i * 2 + 1] + 0.3 * Math.sin(3 * i + 1)));
  return {
    ...(sigmaKnown ? {} : { likelihood: 'normal_sigma' }),
    y,
    group,
    sigma: sigmaKnown ? Float64Array.from({ length: N }, (_, i) => factor * (0.5 + 0.125 * (i % 4))) : new Float64Array(0),
    K: 4,
    labels: LABELS,
    predictors: { names: NAMES, X },
  };
}

/** The same data without predictors. */
function withoutPredictors(data: HierData): HierData {
  const { predictors: _p, ...rest } = data;
  return rest;
}

const C_MIX = Float64Array.of(0, 1, 0.5, 0);

describe('constrain: beta[<name>] after the family globals, before theta', () => {
  it('names, for sigma known and unknown; unchanged without predictors', () => {
    const known = makeModel(handData(true), C_MIX);
    expect(known.layout.beta).toEqual({ start: 2, count: 2 });
    expect(constrainedNames(known)).toEqual(['mu', 'tau', 'log_tau', 'beta[x1]', 'beta[x1:x2]', ...LABELS.map((l) => `theta[${l}]`)]);
    const unknown = makeModel(handData(false), C_MIX);
    expect(constrainedNames(unknown)).toEqual(['mu', 'tau', 'log_tau', 'sigma', 'log_sigma', 'beta[x1]', 'beta[x1:x2]', ...LABELS.map((l) => `theta[${l}]`)]);
    expect(constrainedNames(makeModel(withoutPredictors(handData(true)), C_MIX))).toEqual(['mu', 'tau', 'log_tau', ...LABELS.map((l) => `theta[${l}]`)]);
    expect(constrainedNames(makeModel(withoutPredictors(handData(false)), C_MIX))).toEqual(['mu', 'tau', 'log_tau', 'sigma', 'log_sigma', ...LABELS.map((l) => `theta[${l}]`)]);
  });

  it('rowConstrainer (constrainDraws) gives each beta its coordinate and theta as constrain does', () => {
    for (const sigmaKnown of [true, false]) {
      const model = makeModel(handData(sigmaKnown), C_MIX);
      const rng = rngOf(3);
      const n = 7;
      const positions = Float64Array.from({ length: n * model.dim }, () => 4 * rng() - 2);
      const rec = fakeRecords(model, positions, 1, n);
      const { params, paramNames } = constrainDraws(model, rec);
      expect(paramNames).toEqual(constrainedNames(model));
      for (let i = 0; i < n; i++) {
        const q = positions.subarray(i * model.dim, (i + 1) * model.dim);
        const want = constrain(model, q);
        expect(params['beta[x1]'][i]).toBe(Math.fround(want.beta![0]));
        expect(params['beta[x1:x2]'][i]).toBe(Math.fround(want.beta![1]));
        expect(params['beta[x1]'][i]).toBe(Math.fround(q[model.layout.beta.start]));
        expect(params.mu[i]).toBe(Math.fround(want.mu));
        LABELS.forEach((l, k) => expect(params[`theta[${l}]`][i], l).toBeCloseTo(want.theta[k], 5));
        if (!sigmaKnown) expect(params.log_sigma[i]).toBe(Math.fround(want.x!));
      }
    }
  });
});

describe('standardized units with predictors', () => {
  const s: DataScale = { shift: 1024, scale: 64 };
  const names = NAMES;

  it('scalePriors moves the beta prior (its default too) only where the data have predictors', () => {
    const known = familyOf(undefined);
    expect(scalePriors(DEFAULT_PRIORS, s, known, names).beta).toEqual({ kind: 'normal', loc: 0, scale: DEFAULT_BETA_PRIOR.scale / 64 });
    const given: Priors = { ...DEFAULT_PRIORS, beta: { kind: 'normal', loc: 2, scale: 8 } };
    expect(scalePriors(given, s, known, names).beta).toEqual({ kind: 'normal', loc: 2 / 64, scale: 8 / 64 });
    // Without predictors: no beta prior appears; the rest as before.
    const plain = scalePriors(DEFAULT_PRIORS, s, known);
    expect('beta' in plain).toBe(false);
    expect(plain).toEqual({ mu: { kind: 'normal', loc: (0 - 1024) / 64, scale: 5 / 64 }, tau: { kind: 'halfnormal', scale: 5 / 64 } });
    expect(scalePriors(DEFAULT_PRIORS, IDENTITY_SCALE, known, names)).toBe(DEFAULT_PRIORS);
    // The sigma-unknown family keeps moving its own prior alongside.
    const ns = scalePriors(DEFAULT_PRIORS, s, familyOf('normal_sigma'), names);
    expect(ns.beta).toEqual({ kind: 'normal', loc: 0, scale: 5 / 64 });
    expect(ns.family?.log_sigma?.scale).toBeDefined();
  });

  it('unscalePositions: beta = scale beta\' exactly, mu, tau, theta, sigma to the user\'s; round trip of positions', () => {
    for (const sigmaKnown of [true, false]) {
      const family = familyOf(sigmaKnown ? undefined : 'normal_sigma');
      const data = handData(sigmaKnown, 64, 1024);
      const priors: Priors = { ...DEFAULT_PRIORS, beta: { kind: 'normal', loc: 3, scale: 200 } };
      const user = makeModel(data, C_MIX, priors);
      const std = makeModel(scaleData(data, s), C_MIX, scalePriors(priors, s, family, names));
      expect(scaleData(data, s).predictors).toBe(data.predictors);
      const rng = rngOf(sigmaKnown ? 5 : 6);
      for (let trial = 0; trial < 10; trial++) {
        // The user's point, then the same point in standardized units, then back.
        const mu = 1024 + 64 * (2 * rng() - 1);
        const tau = 64 * Math.exp(2 * rng() - 1);
        const theta = Float64Array.from(LABELS, () => mu + tau * (2 * rng() - 1));
        const beta = Float64Array.from(names, () => 64 * (4 * rng() - 2));
        const x = sigmaKnown ? undefined : Math.log(64) + (2 * rng() - 1);
        const q = unconstrain(user, mu, tau, theta, x, beta);
        const qStd = unconstrain(std, (mu - 1024) / 64, tau / 64, theta.map((t) => (t - 1024) / 64), x === undefined ? undefined : x - Math.log(64), beta.map((b) => b / 64));
        const back = Float64Array.from(qStd);
        unscalePositions(back, C_MIX, s, family, names);
        const B0 = user.layout.beta.start;
        for (let p = 0; p < 2; p++) expect(back[B0 + p]).toBe(q[B0 + p]);
        for (let d = 0; d < user.dim; d++) expect(back[d], `coordinate ${d}`).toBeCloseTo(q[d], 9);
        const a = constrain(user, back);
        expect(a.beta).toEqual(beta);
        for (let k = 0; k < 4; k++) expect(a.theta[k]).toBeCloseTo(theta[k], 9);
        // The log density: the standardized model's plus the offset (no term for beta).
        const lpUser = logDensity(user, back);
        const lpStd = logDensity(std, qStd) + logDensityOffset(C_MIX, s, family, data.y.length);
        expect(Math.abs(lpUser - lpStd), `${lpUser} vs ${lpStd}`).toBeLessThan(1e-9 * Math.max(1, Math.abs(lpUser)));
        // The whole model: log scale per scalar (mu, tau[, sigma], K theta, P beta, N y).
        const b = constrain(std, qStd);
        const jointStd = logJointPerObservation(scaleData(data, s), scalePriors(priors, s, family, names), b.mu, b.tau, b.theta, b.x, b.beta);
        const jointUser = logJointPerObservation(data, priors, a.mu, a.tau, a.theta, a.x, a.beta);
        const scalars = (sigmaKnown ? 2 : 3) + data.K + 2 + data.y.length;
        expect(jointUser).toBeCloseTo(jointStd - scalars * Math.log(64), 8);
      }
    }
  });

  it('positions without predictors: the old layout (the optional argument left out)', () => {
    const data = withoutPredictors(handData(true, 64, 1024));
    const user = makeModel(data, C_MIX);
    const q = unconstrain(user, 1024, 64, Float64Array.of(1000, 1030, 1050, 990));
    const pos = Float64Array.from(q);
    unscalePositions(pos, C_MIX, IDENTITY_SCALE);
    expect(pos).toEqual(q);
    expect(pos.length).toBe(2 + 4);
  });

  it('unscaleParams: beta[...] times the scale (no shift), in place', () => {
    const params = { mu: Float32Array.of(1), 'beta[x1]': Float32Array.of(0.75), 'beta[x1:x2]': Float32Array.of(-3), 'theta[A]': Float32Array.of(2) };
    const b = params['beta[x1]'];
    const out = unscaleParams(params, familyOf(undefined), s);
    expect(out['beta[x1]']).toBe(b);
    expect([out['beta[x1]'][0], out['beta[x1:x2]'][0], out.mu[0], out['theta[A]'][0]]).toEqual([48, -192, 1088, 1152]);
  });

  it('chooseScale: a spread explained by x . beta does not throw; the beta prior is checked', () => {
    // 8 groups of one observation; y = 3000 k + noise with x_k = k: the group means spread over
    // thousands and sit thousands of mu-prior sds from 0 (without the predictor, a conflict).
    const K = 8;
    const X = Float64Array.from({ length: K }, (_, k) => k);
    const data: HierData = {
      y: Float64Array.from(X, (x, k) => 3000 * x + Math.sin(k)),
      group: Int32Array.from({ length: K }, (_, k) => k),
      sigma: new Float64Array(K).fill(1),
      K,
      labels: Array.from({ length: K }, (_, k) => String(k)),
      predictors: { names: ['x'], X },
    };
    const priors: Priors = { ...DEFAULT_PRIORS, beta: { kind: 'normal', loc: 0, scale: 10_000 } };
    expect(() => chooseScale(withoutPredictors(data), priors, 'float32')).toThrow(/^--(mu|tau)-prior/);
    for (const p of ['float32', 'float64'] as const) {
      const u = chooseScale(data, priors, p);
      expect(Math.log2(u.scale)).toBe(Math.round(Math.log2(u.scale)));
    }
    expect(() => chooseScale(data, { ...priors, beta: { kind: 'normal', loc: 0, scale: 1e-300 } }, 'float32')).toThrow(/^--beta-prior: scale/);
    expect(() => chooseScale(data, { ...priors, beta: { kind: 'normal', loc: 1e300, scale: 1 } }, 'float64')).toThrow(/^--beta-prior: location/);
  });
});

/** Records of a hand-made run: `positions` as `chains` x `draws` rows, one divergence. */
function fakeRecords(model: HierModel, positions: Float64Array, chains: number, draws: number): RecordedDraws {
  const n = chains * draws;
  const D = model.dim;
  return {
    retainedChains: chains,
    draws,
    positions,
    logDensity: Float64Array.from({ length: n }, (_, i) => -10 - i),
    energy: Float64Array.from({ length: n }, (_, i) => 12 + i),
    acceptProb: new Float64Array(n).fill(0.8),
    divergent: Uint8Array.from({ length: n }, (_, i) => (i === 1 ? 1 : 0)),
    divergentPositions: Float64Array.from(positions.subarray(D, 2 * D), (v) => v + 0.5),
    divergentChain: Int32Array.of(0),
    divergentDraw: Int32Array.of(1),
  };
}

/** A hand-made SampleResult: random positions (beta near `betaCentre`), constrained as a backend would. */
function fakeRun(data: HierData, chains: number, draws: number, seed: number, betaCentre = 0): SampleResult {
  const model = makeModel(data, C_MIX);
  const rng = rngOf(seed);
  const positions = Float64Array.from({ length: chains * draws * model.dim }, () => 2 * rng() - 1);
  const { start, count } = model.layout.beta;
  for (let i = 0; i < chains * draws; i++) for (let p = 0; p < count; p++) positions[i * model.dim + start + p] += betaCentre;
  const records = fakeRecords(model, positions, chains, draws);
  const { params, paramNames } = constrainDraws(model, records);
  const result = {
    model,
    backend: { name: 'cpu', adapter: 'test' },
    chains,
    retainedChains: chains,
    warmup: 0,
    draws,
    partial: false,
    requestedDraws: draws,
    params,
    paramNames,
    records,
    totals: { divergences: 1 },
    stepSize: 0.25,
    trajectoryLength: 1,
    invMass: new Float64Array(model.dim).fill(1),
    numSteps: new Int32Array(draws).fill(4),
    adaptation: {
      stepSize: new Float64Array(0),
      trajectoryLength: new Float64Array(0),
      numSteps: new Int32Array(0),
      meanAccept: new Float64Array(0),
      harmonicMeanAccept: new Float64Array(0),
      divergences: new Int32Array(0),
    },
    warmupGradientEvals: 0,
    timing: { compile_s: 0, warmup_s: 0, sampling_s: 0, total_s: 0 },
  };
  return result as unknown as SampleResult;
}

function groupOf(idata: InferenceData, name: string): IdGroup {
  const g = idata.groups.find((x) => x.name === name);
  if (!g) throw new Error(`no group ${name}`);
  return g;
}

function variable(g: IdGroup, name: string) {
  const v = g.variables.find((x) => x.name === name);
  if (!v) throw new Error(`${g.name}: no variable ${name}`);
  return v;
}

describe('InferenceData with predictors', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'funnelweb-predictors-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const C = 2;
  const Dr = 5;

  it('posterior beta (chain, draw, predictor), divergence_beta, constant_data X; none of them without predictors', () => {
    const data = handData(true);
    const result = fakeRun(data, C, Dr, 9);
    const idata = toInferenceData(result, data, { seed: 4 });
    const post = groupOf(idata, 'posterior');
    expect(post.dims).toEqual({ chain: C, draw: Dr, group: 4, predictor: 2 });
    expect(variable(post, 'predictor').data).toEqual(NAMES);
    const beta = variable(post, 'beta');
    expect(beta.dims).toEqual(['chain', 'draw', 'predictor']);
    for (let i = 0; i < C * Dr; i++) {
      expect(beta.data[i * 2]).toBe(result.params['beta[x1]'][i]);
      expect(beta.data[i * 2 + 1]).toBe(result.params['beta[x1:x2]'][i]);
    }
    expect(post.attrs).toMatchObject({ linear_predictor: 'eta_i = theta[g_i] + x_i . beta', predictors: 'x1,x1:x2' });
    const stats = groupOf(idata, 'sample_stats');
    expect(stats.dims).toMatchObject({ divergence: 1, predictor: 2 });
    const dBeta = variable(stats, 'divergence_beta');
    expect(dBeta.dims).toEqual(['divergence', 'predictor']);
    const B0 = result.model.layout.beta.start;
    expect(Array.from(dBeta.data as Float64Array)).toEqual([result.records.divergentPositions[B0], result.records.divergentPositions[B0 + 1]]);
    const cd = groupOf(idata, 'constant_data');
    expect(cd.dims).toEqual({ observation: 12, predictor: 2 });
    expect(variable(cd, 'X').data).toBe(data.predictors!.X);
    expect(variable(cd, 'X').dims).toEqual(['observation', 'predictor']);

    const plainData = withoutPredictors(data);
    const plain = toInferenceData(fakeRun(plainData, C, Dr, 9), plainData, { seed: 4 });
    expect(groupOf(plain, 'posterior').dims).toEqual({ chain: C, draw: Dr, group: 4 });
    expect(groupOf(plain, 'posterior').variables.map((v) => v.name)).toEqual(['chain', 'draw', 'group', 'mu', 'tau', 'theta', 'z']);
    expect(groupOf(plain, 'constant_data').variables.map((v) => v.name)).toEqual(['observation', 'obs_group', 'sigma']);
    expect('linear_predictor' in groupOf(plain, 'posterior').attrs).toBe(false);
    expect(groupOf(plain, 'sample_stats').dims).toEqual({ chain: C, draw: Dr, divergence: 1, group: 4 });
  });

  it('y_rep of observation i is drawn at eta_i = theta[g_i] + x_i . beta of the draw', () => {
    for (const sigmaKnown of [true, false]) {
      const data = handData(sigmaKnown);
      // Coefficients near 50: a replicate drawn at theta alone would sit far from eta.
      const result = fakeRun(data, C, Dr, 11, 50);
      const family = familyOf(data.likelihood);
      const idata = toInferenceData(result, data, { seed: 7 });
      const yRep = variable(groupOf(idata, 'posterior_predictive'), 'y_rep').data as Float32Array;
      const N = data.y.length;
      const rng = new PredictiveVariates(keyFromSeed(7));
      const X = data.predictors!.X;
      let far = 0;
      for (let c = 0; c < C; c++) {
        for (let d = 0; d < Dr; d++) {
          const i = c * Dr + d;
          rng.start(c, d);
          const x = sigmaKnown ? undefined : result.params.log_sigma[i];
          const sd = sigmaKnown ? undefined : Math.exp(x!);
          for (let o = 0; o < N; o++) {
            const theta = result.params[`theta[${LABELS[data.group[o]]}]`][i];
            const eta = theta + X[o * 2] * result.params['beta[x1]'][i] + X[o * 2 + 1] * result.params['beta[x1:x2]'][i];
            expect(yRep[i * N + o]).toBe(Math.fround(family.predict(data, o, eta, rng, x)));
            // Independently: within 6 sds of eta, and (mostly) not of theta alone.
            const z = (yRep[i * N + o] - eta) / (sd ?? data.sigma[o]);
            expect(Math.abs(z)).toBeLessThan(6);
            if (Math.abs(yRep[i * N + o] - theta) > 6 * (sd ?? data.sigma[o])) far++;
          }
        }
      }
      expect(far).toBeGreaterThan((C * Dr * N) / 2);
    }
  });

  for (const ext of ['nc', 'zarr'] as const) {
    it(`${ext}: our reader gives beta[<name>] back as the draws CSV has it`, async () => {
      const data = handData(false);
      const result = fakeRun(data, C, Dr, 13);
      const path = join(dir, `run.${ext}`);
      await writeInferenceData(path, toInferenceData(result, data, { seed: 1 }));
      const back = await readInferenceDataDraws(path);
      const csv = parseDrawsCsv([...drawsCsvChunks(result)].join(''), 'draws.csv');
      for (const n of ['beta[x1]', 'beta[x1:x2]', 'mu', 'sigma', 'theta[C]']) {
        expect(back.params[n], n).toEqual(Float64Array.from(result.params[n]));
        expect(csv.params[n], n).toEqual(Float64Array.from(result.params[n]));
      }
      expect(Object.keys(back.params).filter((n) => !n.startsWith('z[')).sort()).toEqual(['beta[x1:x2]', 'beta[x1]', 'log_sigma', 'mu', 'sigma', 'tau', ...LABELS.map((l) => `theta[${l}]`)].sort());
    });
  }

  /** Debian's interpreter (where apt puts python3-xarray), unless FUNNELWEB_PYTHON names another. */
  const PYTHON = process.env.FUNNELWEB_PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
  let hasXarray = false;
  try {
    execFileSync(PYTHON, ['-c', 'import xarray, netCDF4, h5netcdf, zarr'], { stdio: 'pipe' });
    hasXarray = true;
  } catch {
    hasXarray = false;
  }

  it.skipIf(!hasXarray)('xarray opens beta with its predictor coordinate (.nc with both engines, .zarr)', async () => {
    const data = handData(true);
    const result = fakeRun(data, C, Dr, 17);
    const idata = toInferenceData(result, data, { seed: 2 });
    const nc = join(dir, 'xr.nc');
    const zarr = join(dir, 'xr.zarr');
    await writeInferenceData(nc, idata);
    await writeInferenceData(zarr, idata);
    const script = `
import json, sys, xarray as xr
out = []
for p, engine in [(sys.argv[1], 'netcdf4'), (sys.argv[1], 'h5netcdf'), (sys.argv[2], None)]:
    op = (lambda g: xr.open_zarr(p, group=g, consolidated=True).load()) if engine is None else (lambda g: xr.open_dataset(p, group=g, engine=engine).load())
    post, stats, const = op('posterior'), op('sample_stats'), op('constant_data')
    out.append(dict(
        beta_dims=list(post['beta'].dims), predictor=[str(x) for x in post['predictor'].values],
        beta=post['beta'].sel(predictor='x1:x2').values.ravel().tolist(),
        div_dims=list(stats['divergence_beta'].dims), x_dims=list(const['X'].dims),
        X=const['X'].values.ravel().tolist(), lp=post.attrs['linear_predictor']))
print(json.dumps(out))`;
    const got = JSON.parse(execFileSync(PYTHON, ['-c', script, nc, zarr], { encoding: 'utf8' })) as {
      beta_dims: string[];
      predictor: string[];
      beta: number[];
      div_dims: string[];
      x_dims: string[];
      X: number[];
      lp: string;
    }[];
    expect(got).toHaveLength(3);
    for (const g of got) {
      expect(g.beta_dims).toEqual(['chain', 'draw', 'predictor']);
      expect(g.predictor).toEqual(NAMES);
      expect(g.beta).toEqual(Array.from(result.params['beta[x1:x2]']));
      expect(g.div_dims).toEqual(['divergence', 'predictor']);
      expect(g.x_dims).toEqual(['observation', 'predictor']);
      expect(g.X).toEqual(Array.from(data.predictors!.X));
      expect(g.lp).toBe('eta_i = theta[g_i] + x_i . beta');
    }
  });
});

describe('CSV names', () => {
  it("draws CSV header holds beta[<name>] between the globals and theta; CmdStan's beta.1 reads as beta[1]", () => {
    const data = handData(true);
    const result = fakeRun(data, 1, 3, 21);
    const header = [...drawsCsvChunks(result)][0].trim();
    expect(header).toBe(['chain', 'draw', 'mu', 'tau', 'log_tau', 'beta[x1]', 'beta[x1:x2]', ...LABELS.map((l) => `theta[${l}]`), 'lp__', 'energy__', 'divergent__', 'accept_stat__'].join(','));
    const stan = parseCmdStanCsv('lp__,accept_stat__,mu,beta.1,beta.2\n-1,0.9,0.5,1.5,2.5\n', 'chain1.csv');
    expect(Object.keys(cmdstanDrawsTable([stan]).params)).toEqual(['lp__', 'mu', 'beta[1]', 'beta[2]']);
  });
});
