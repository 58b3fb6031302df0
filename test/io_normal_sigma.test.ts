/**
 * The normal likelihood with sigma unknown, between the user and the model: data without a
 * `sigma` column (or key) and without `--sigma` are of the family that declares
 * `replaces: { family: 'normal', whenMissing: 'sigma' }` (`normal_sigma`); `--sigma-prior`
 * sets its prior and is an error (exit 2) where sigma is not a parameter; the outputs carry
 * sigma and log_sigma wherever mu, tau and log_tau are (constrained draws, summary, draws
 * CSV, InferenceData posterior and divergences), and y_rep is drawn with each draw's sigma.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { dataWarnings, parseCsv, parseSeedJson, resolveFamily } from '../src/io/data.ts';
import { PredictiveVariates, toInferenceData } from '../src/io/inference_data.ts';
import { drawsCsvChunks } from '../src/io/draws_csv_write.ts';
import { checkFamilyPriors, LIKELIHOOD_CHOICES, parseDataOptions, parseSamplerOptions, samplerOptionsHelp } from '../src/cli/options.ts';
import { FAMILIES } from '../src/model/families/index.ts';
import { binomial } from '../src/model/families/binomial.ts';
import { normal } from '../src/model/families/normal.ts';
import { familyGlobals } from '../src/model/family.ts';
import { makeModel } from '../src/model/model.ts';
import { constrainedNames, constrainDraws } from '../src/sampler/constrain.ts';
import { reportRun } from '../src/sampler/report.ts';
import { sample, type SampleResult } from '../src/sampler/sample.ts';
import { keyFromSeed } from '../src/sampler/rng.ts';
import { expectInputError } from './input_errors.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const EXAMPLE = readFileSync(join(ROOT, 'examples', 'unknown_sigma.csv'), 'utf8');

/** The family that stands for the normal likelihood without sigma, found as data.ts finds it: by `replaces`. */
const SIGMA_UNKNOWN = FAMILIES.find((f) => f.replaces?.family === 'normal' && f.replaces.whenMissing === 'sigma')!;


describe('data without sigma', () => {
  it('a family declares that it stands for normal without sigma, and has the global log_sigma', () => {
    expect(SIGMA_UNKNOWN).toBeDefined();
    expect(SIGMA_UNKNOWN.id).toBe('normal_sigma');
    expect(familyGlobals(SIGMA_UNKNOWN).map((g) => [g.name, g.constrained.name, g.prior.option])).toEqual([['log_sigma', 'sigma', '--sigma-prior']]);
  });

  it('resolveFamily: normal without its sigma column is that family; with it, or for another family, the family itself', () => {
    expect(resolveFamily(normal, () => false)).toBe(SIGMA_UNKNOWN);
    expect(resolveFamily(normal, (c) => c === 'sigma')).toBe(normal);
    expect(resolveFamily(binomial, () => false)).toBe(binomial);
  });

  it('CSV with group and y only: likelihood normal_sigma, an empty sigma, labels and groups as ever', () => {
    const d = parseCsv('group,y\nb,1.5\na,2\nb,-0.5\n', { source: 'd.csv' });
    expect(d.likelihood).toBe('normal_sigma');
    expect(d.sigma.length).toBe(0);
    expect(d.columns).toBeUndefined();
    expect(d.K).toBe(2);
    expect(d.labels).toEqual(['b', 'a']);
    expect(Array.from(d.group)).toEqual([0, 1, 0]);
    expect(Array.from(d.y)).toEqual([1.5, 2, -0.5]);
  });

  it('seed JSON without a sigma key: the same, K and groups without data kept', () => {
    const d = parseSeedJson(JSON.stringify({ y: [1, 2, 3], idx: [0, 0, 2], K: 4 }), { source: 'd.json' });
    expect(d.likelihood).toBe('normal_sigma');
    expect(d.sigma.length).toBe(0);
    expect(d.K).toBe(4);
    expect(d.labels).toEqual(['0', '1', '2', '3']);
  });

  it('a sigma column, a sigma key or --sigma keeps the normal likelihood with sigma known', () => {
    expect(parseCsv('group,y,sigma\na,1,2\n').likelihood).toBeUndefined();
    expect(parseCsv('group,y\na,1\n', { options: { '--sigma': 2 } }).likelihood).toBeUndefined();
    expect(Array.from(parseCsv('group,y\na,1\n', { sigma: 2 }).sigma)).toEqual([2]);
    expect(parseSeedJson(JSON.stringify({ y: [1], idx: [0], sigma: 1 })).likelihood).toBeUndefined();
    expect(parseSeedJson(JSON.stringify({ y: [1], idx: [0] }), { sigma: 1 }).likelihood).toBeUndefined();
  });

  it('errors still name the normal likelihood the user asked for', () => {
    expectInputError(() => parseCsv('group,y,trials\na,1,10\n', { source: 'd.csv' }), 'd.csv header, column 3', /belongs to the binomial likelihood.*not to normal \(the normal likelihood's columns: 'group', 'y', 'sigma'\)/);
    expectInputError(() => parseCsv('group,y\n', { source: 'd.csv' }), 'd.csv', /no observations/);
    expectInputError(() => parseSeedJson(JSON.stringify({ y: [], idx: [] }), { source: 'd.json' }), 'd.json: y', /no observations/);
    expectInputError(() => parseCsv('group,y\na,x\n', { source: 'd.csv' }), "d.csv row 2, column 'y'", /'x' is not a number/);
  });

  it('warns when no group has 2 or more observations (sigma is informed by its prior alone), and only then', () => {
    const single = parseCsv('group,y\na,1\nb,2\nc,3\n');
    const w = dataWarnings(single);
    expect(w).toHaveLength(1);
    expect(w[0]).toMatch(/^sigma is informed by its prior alone: no group has 2 or more observations/);
    expect(w[0]).toMatch(/--sigma-prior/);
    expect(dataWarnings(parseCsv('group,y\na,1\nb,2\nb,3\n'))).toEqual([]);
    // Sigma known: nothing to warn of.
    expect(dataWarnings(parseCsv('group,y,sigma\na,1,1\nb,2,1\n'))).toEqual([]);
  });
});

describe('--likelihood and --sigma-prior', () => {
  it('the choices of --likelihood are the families that stand for no other', () => {
    expect(LIKELIHOOD_CHOICES.map((f) => f.id)).toEqual(['normal', 'binomial', 'poisson']);
    expect(parseDataOptions({ likelihood: 'normal' }).family).toBe(normal);
    expectInputError(() => parseDataOptions({ likelihood: 'normal_sigma' }), '--likelihood', /unknown likelihood 'normal_sigma' \(expected normal, binomial, poisson\): .*--likelihood normal means where the data have no 'sigma' column/);
    expectInputError(() => parseDataOptions({ likelihood: 'gamma' }), '--likelihood', /\(expected normal, binomial, poisson\)$/);
  });

  it('parses halfnormal:S, halfcauchy:S and exponential:R into priors.family.log_sigma', () => {
    expect(parseSamplerOptions({}).priors.family).toBeUndefined();
    expect(parseSamplerOptions({ 'sigma-prior': 'halfnormal:2' }).priors.family).toEqual({ log_sigma: { kind: 'halfnormal', scale: 2 } });
    expect(parseSamplerOptions({ 'sigma-prior': ' halfcauchy:0.5 ' }).priors.family).toEqual({ log_sigma: { kind: 'halfcauchy', scale: 0.5 } });
    expect(parseSamplerOptions({ 'sigma-prior': 'exponential:4' }).priors.family).toEqual({ log_sigma: { kind: 'exponential', scale: 0.25 } });
  });

  it.each([
    ['halfnormal:0', /scale must be > 0, got 0/],
    ['exponential:-1', /rate must be > 0, got -1/],
    ['halfnormal:x', /'x' is not a finite number/],
    ['gamma:2', /expected 'halfnormal:S', 'halfcauchy:S' or 'exponential:R', got 'gamma:2'/],
    ['halfnormal', /expected 'halfnormal:S'/],
    ['', /expected/],
  ])('--sigma-prior %j is an error naming it', (text, message) => expectInputError(() => parseSamplerOptions({ 'sigma-prior': text }), '--sigma-prior', message));

  it('with a likelihood that has no sigma parameter, or with --sigma, it is an error naming it', () => {
    expectInputError(() => parseSamplerOptions({ likelihood: 'binomial', 'sigma-prior': 'halfnormal:1' }), '--sigma-prior', /the binomial likelihood has no sigma parameter: --sigma-prior is for the normal likelihood without a 'sigma' column or --sigma/);
    expectInputError(() => parseSamplerOptions({ likelihood: 'poisson', 'sigma-prior': 'halfnormal:1' }), '--sigma-prior', /poisson likelihood has no sigma parameter/);
    expectInputError(() => parseSamplerOptions({ sigma: '1', 'sigma-prior': 'halfnormal:1' }), '--sigma-prior', /--sigma gives sigma, so sigma is known and has no prior/);
  });

  it('checkFamilyPriors: a sigma column makes --sigma-prior an error; data without sigma take it', () => {
    const { priors } = parseSamplerOptions({ 'sigma-prior': 'halfnormal:1' });
    expectInputError(() => checkFamilyPriors(priors, parseCsv('group,y,sigma\na,1,1\n')), '--sigma-prior', /the data give sigma \(a 'sigma' column\), so sigma is known and has no prior/);
    expect(() => checkFamilyPriors(priors, parseCsv('group,y\na,1\n'))).not.toThrow();
    expect(() => checkFamilyPriors(parseSamplerOptions({}).priors, parseCsv('group,y,sigma\na,1,1\n'))).not.toThrow();
  });

  it('help lists --sigma-prior with its forms and default', () => {
    expect(samplerOptionsHelp()).toMatch(/--sigma-prior halfnormal:S\|halfcauchy:S\|exponential:R \(default halfnormal:5\)/);
  });
});

describe('outputs of a run with sigma unknown', () => {
  const data = parseCsv(EXAMPLE, { source: 'unknown_sigma.csv' });
  const labels = data.labels;

  it('constrainedNames: mu, tau, log_tau, sigma, log_sigma, theta; rowConstrainer reads log sigma from its coordinate', () => {
    const model = makeModel(data, new Float64Array(data.K).fill(0.5));
    expect(constrainedNames(model)).toEqual(['mu', 'tau', 'log_tau', 'sigma', 'log_sigma', ...labels.map((l) => `theta[${l}]`)]);
    const D = model.dim;
    const positions = new Float64Array(3 * D);
    for (let i = 0; i < positions.length; i++) positions[i] = Math.sin(i + 1) * 2;
    const { params } = constrainDraws(model, { retainedChains: 1, draws: 3, positions } as never);
    const iX = model.layout.global('log_sigma');
    for (let r = 0; r < 3; r++) {
      const x = positions[r * D + iX];
      expect(params.log_sigma[r]).toBe(Math.fround(x));
      expect(params.sigma[r]).toBe(Math.fround(Math.exp(x)));
      // theta is read after the global: group 0's z, not log sigma.
      const mu = positions[r * D + model.layout.global('mu')];
      const s = positions[r * D + model.layout.global('log_tau')];
      expect(params[`theta[${labels[0]}]`][r]).toBe(Math.fround(mu + Math.exp(0.5 * s) * (positions[r * D + model.layout.group(0)] - 0.5 * mu)));
    }
  });

  let run: SampleResult | undefined;
  const cpuRun = async () => (run ??= await sample({ data, parameterization: 'noncentered', chains: 8, warmup: 150, draws: 60, seed: 6, backend: 'cpu' }));

  it('sample (CPU): sigma and log_sigma in the summary and the draws CSV, in their place', async () => {
    const r = await cpuRun();
    expect(r.paramNames.slice(0, 5)).toEqual(['mu', 'tau', 'log_tau', 'sigma', 'log_sigma']);
    const { report } = reportRun(r, 6);
    expect(report.data.likelihood).toBe('normal_sigma');
    expect(Object.keys(report.params).slice(0, 6)).toEqual(['mu', 'tau', 'log_tau', 'sigma', 'log_sigma', `theta[${labels[0]}]`]);
    // The example was simulated with sigma = 3.
    expect(report.params.sigma.q5).toBeGreaterThan(1.5);
    expect(report.params.sigma.q95).toBeLessThan(5);
    expect(report.params.log_sigma.q50).toBeCloseTo(Math.log(report.params.sigma.q50), 5);
    const header = drawsCsvChunks(r).next().value as string;
    expect(header).toMatch(/^chain,draw,mu,tau,log_tau,sigma,log_sigma,theta\[A\],/);
  });

  it('InferenceData: sigma and log_sigma in the posterior, no sigma in constant_data, y_rep drawn with each draw\'s sigma', async () => {
    const r = await cpuRun();
    const id = toInferenceData(r, data, { seed: 6 });
    const group = (name: string) => id.groups.find((g) => g.name === name)!;
    const v = (g: string, name: string) => group(g).variables.find((x) => x.name === name);
    expect(v('posterior', 'sigma')?.dims).toEqual(['chain', 'draw']);
    expect(v('posterior', 'sigma')?.data).toBe(r.params.sigma);
    expect(v('posterior', 'log_sigma')?.data).toBe(r.params.log_sigma);
    expect(group('constant_data').variables.map((x) => x.name)).toEqual(['observation', 'obs_group']);
    expect(id.attrs.likelihood).toBe('normal_sigma');
    expect(String(group('posterior_predictive').attrs.note)).toMatch(/^y_rep ~ Normal\(theta\[obs_group\], sigma\)/);
    // y_rep is the family's predict with the draw's theta and log sigma, variate for variate.
    const yRep = v('posterior_predictive', 'y_rep')!.data as Float32Array;
    const rng = new PredictiveVariates(keyFromSeed(6));
    const N = data.y.length;
    for (const [c, d] of [[0, 0], [3, 17], [7, 59]]) {
      const i = c * r.draws + d;
      rng.start(c, d);
      for (let o = 0; o < N; o++) {
        const theta = r.params[`theta[${labels[data.group[o]]}]`][i];
        expect(yRep[i * N + o]).toBe(Math.fround(SIGMA_UNKNOWN.predict(data, o, theta, rng, r.params.log_sigma[i])));
      }
    }
    // And its spread is sigma's: standardized residuals have sd about 1 (8 x 60 x 36 values).
    let s2 = 0;
    for (let i = 0; i < 8 * 60; i++) {
      for (let o = 0; o < N; o++) {
        const theta = r.params[`theta[${labels[data.group[o]]}]`][i];
        s2 += ((yRep[i * N + o] - theta) / r.params.sigma[i]) ** 2;
      }
    }
    expect(Math.abs(Math.sqrt(s2 / (8 * 60 * N)) - 1)).toBeLessThan(0.03);
  });

  it('divergences: divergence_sigma is sigma where each transition diverged', async () => {
    const r = await cpuRun();
    const D = r.model.dim;
    // Two recorded positions stand for divergent points.
    const at = [5, 130];
    const divergentPositions = new Float64Array(at.length * D);
    at.forEach((row, j) => divergentPositions.set(r.records.positions.subarray(row * D, (row + 1) * D), j * D));
    const fake = { ...r, records: { ...r.records, divergentChain: Int32Array.of(0, 2), divergentDraw: Int32Array.of(5, 10), divergentPositions } } as SampleResult;
    const stats = toInferenceData(fake, data, { seed: 6 }).groups.find((g) => g.name === 'sample_stats')!;
    const dSigma = stats.variables.find((x) => x.name === 'divergence_sigma');
    expect(dSigma?.dims).toEqual(['divergence']);
    const iX = r.model.layout.global('log_sigma');
    expect(Array.from(dSigma!.data as Float64Array)).toEqual(at.map((row) => Math.exp(r.records.positions[row * D + iX])));
    expect(stats.variables.findIndex((x) => x.name === 'divergence_sigma')).toBe(stats.variables.findIndex((x) => x.name === 'divergence_tau') + 1);
  });
});
