/**
 * Data loading, outputs and comparison for every likelihood family, driven by the Family
 * contract (src/model/family.ts): the CSV and seed-JSON readers take the family's columns
 * (ColumnSpec: bounds, integer, default value, CLI option) and checkObservation; the
 * constrained draws add the family's per-group outcome (p = inv_logit(theta)); the
 * InferenceData holds the family's columns and replicates drawn by its `predict`; compare
 * leaves the exact-posterior columns empty where there is no exact posterior.
 *
 * A family that is not registered (`exposureFamily`: an optional column with a default and an
 * exclusive bound, like a Poisson exposure) checks the generic ColumnSpec path.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseCsv, parseSeedJson } from '../src/io/data.ts';
import { PredictiveVariates, PREDICTIVE_STREAM, toInferenceData } from '../src/io/inference_data.ts';
import { drawsCsvChunks } from '../src/io/draws_csv_write.ts';
import { parseDataOptions } from '../src/cli/options.ts';
import { compareRow, formatComparison, rankRows } from '../src/compare/compare.ts';
import { binomial } from '../src/model/families/binomial.ts';
import { normal } from '../src/model/families/normal.ts';
import { invLogit, type Family } from '../src/model/family.ts';
import { makeModel } from '../src/model/model.ts';
import { constrainedNames, constrainDraws } from '../src/sampler/constrain.ts';
import { reportRun } from '../src/sampler/report.ts';
import { sample } from '../src/sampler/sample.ts';
import { keyFromSeed, philox4x32Into, toUnit } from '../src/sampler/rng.ts';
import { expectInputError } from './input_errors.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SURGICAL = readFileSync(join(ROOT, 'demo', 'data', 'surgical.csv'), 'utf8');


/** A count family outside the registry: column `exposure`, optional (default 1), > 0; y <= 100 * exposure. */
const exposureFamily: Family = {
  ...binomial,
  id: 'exposed',
  formula: 'y_i ~ Exposed(exposure_i rate[g_i])',
  columns: [{ name: 'exposure', required: false, value: 1, integer: false, min: 0, exclusive: true, example: 1, help: 'exposure of the observation (> 0; default 1)' }],
  outcome: { name: 'rate', of: Math.exp, help: 'rate exp(theta)' },
  checkObservation(y, column) {
    const e = column('exposure');
    return y > 100 * e ? { column: 'exposure', problem: `${y} events is more than 100 per unit of exposure ${e}` } : undefined;
  },
};

const B = { family: binomial, source: 'd.csv' };
const BJ = { family: binomial, source: 'd.json' };

describe('CSV data of the binomial family', () => {
  it('parses the surgical data: y, trials, labels, likelihood', () => {
    const d = parseCsv(SURGICAL, { family: binomial });
    expect(d.likelihood).toBe('binomial');
    expect(d.K).toBe(12);
    expect(d.labels).toEqual('ABCDEFGHIJKL'.split(''));
    expect(Array.from(d.y)).toEqual([0, 18, 8, 46, 8, 13, 9, 31, 14, 8, 29, 24]);
    expect(Array.from(d.columns!.trials)).toEqual([47, 148, 119, 810, 211, 196, 148, 215, 207, 97, 256, 360]);
    expect(d.sigma.length).toBe(0);
  });

  it('keeps normal data as it was: no likelihood field, sigma in its own field, no columns', () => {
    const d = parseCsv('group,y,sigma\na,1.5,2\n');
    expect(d.likelihood).toBeUndefined();
    expect(d.columns).toBeUndefined();
    expect(Array.from(d.sigma)).toEqual([2]);
  });

  const rows = 'group,y,trials\na,1,10\nb,2,10\n'; // data rows 2..3
  it('y not a whole number', () => expectInputError(() => parseCsv(rows + 'c,2.5,10\n', B), "d.csv row 4, column 'y'", /whole number.*binomial.*2\.5/));
  it('y negative', () => expectInputError(() => parseCsv(rows + 'c,-1,10\n', B), "d.csv row 4, column 'y'", />= 0, got -1/));
  it('y greater than trials (checkObservation)', () => expectInputError(() => parseCsv(rows + 'c,11,10\n', B), "d.csv row 4, column 'y'", /11 successes is more than the 10 trials/));
  it('trials 0', () => expectInputError(() => parseCsv(rows + 'c,0,0\n', B), "d.csv row 4, column 'trials'", /must be >= 1, got 0/));
  it('trials not a whole number', () => expectInputError(() => parseCsv(rows + 'c,1,2.5\n', B), "d.csv row 4, column 'trials'", /whole number, got 2\.5/));
  it('trials not a number', () => expectInputError(() => parseCsv(rows + 'c,1,ten\n', B), "d.csv row 4, column 'trials'", /'ten' is not a number/));
  it('no trials column', () => expectInputError(() => parseCsv('group,y\na,1\n', B), 'd.csv header', /no 'trials' column/));
  it('a sigma column (the normal family\'s) names it and lists the binomial columns', () =>
    expectInputError(() => parseCsv('group,y,trials,sigma\na,1,10,1\n', B), 'd.csv header, column 4', /'sigma' belongs to the normal likelihood.*'group', 'y', 'trials'/));
  it('a trials column in normal data names the binomial likelihood', () =>
    expectInputError(() => parseCsv('group,y,trials\na,1,10\n', { source: 'd.csv' }), 'd.csv header, column 3', /--likelihood binomial/));
  it('an unknown column lists the family\'s columns', () => expectInputError(() => parseCsv('group,y,n\na,1,10\n', B), 'd.csv header, column 3', /unknown column 'n' \(expected 'group', 'y', 'trials'\)/));
  it('--sigma (the normal family\'s option) is an error naming it', () => expectInputError(() => parseCsv(rows, { ...B, sigma: 2 }), '--sigma', /binomial likelihood has no column/));
  it('the empty file says the header it expects', () => expectInputError(() => parseCsv('', B), 'd.csv', /'group,y,trials'/));
});

describe('seed JSON data of the binomial family', () => {
  const json = (o: Record<string, unknown>) => JSON.stringify({ y: [1, 2, 3], idx: [0, 1, 1], trials: [5, 5, 5], ...o });
  it('trials as an array or one number for all', () => {
    expect(Array.from(parseSeedJson(json({}), BJ).columns!.trials)).toEqual([5, 5, 5]);
    const d = parseSeedJson(json({ trials: 7 }), BJ);
    expect(Array.from(d.columns!.trials)).toEqual([7, 7, 7]);
    expect(d.likelihood).toBe('binomial');
    expect(d.labels).toEqual(['0', '1']);
  });
  it('y not a whole number', () => expectInputError(() => parseSeedJson(json({ y: [1, 2.5, 3] }), BJ), 'd.json: y[1]', /whole number/));
  it('y greater than trials', () => expectInputError(() => parseSeedJson(json({ trials: [5, 5, 2] }), BJ), 'd.json: y[2]', /more than the 2 trials/));
  it('trials 0 (scalar and element)', () => {
    expectInputError(() => parseSeedJson(json({ trials: 0 }), BJ), 'd.json: trials', /whole number >= 1, got 0/);
    expectInputError(() => parseSeedJson(json({ trials: [5, 0, 5] }), BJ), 'd.json: trials[1]', />= 1, got 0/);
  });
  it('trials of the wrong length or type', () => {
    expectInputError(() => parseSeedJson(json({ trials: [5, 5] }), BJ), 'd.json: trials', /2 entries, but y has 3/);
    expectInputError(() => parseSeedJson(json({ trials: '5' }), BJ), 'd.json: trials', /whole number >= 1 or an array/);
    expectInputError(() => parseSeedJson(json({ trials: [5, 'x', 5] }), BJ), 'd.json: trials[1]', /finite whole number >= 1/);
  });
  it('trials missing', () => expectInputError(() => parseSeedJson(JSON.stringify({ y: [1], idx: [0] }), BJ), 'd.json: trials', /missing: the file gives no trials/));
  it('a sigma key names the normal likelihood and lists the binomial keys', () =>
    expectInputError(() => parseSeedJson(json({ sigma: 1 }), BJ), 'd.json: sigma', /normal likelihood.*keys: y, idx, trials, K/));
});

describe('a family outside the registry: the generic ColumnSpec path', () => {
  const E = { family: exposureFamily, source: 'e.csv' };
  it('an optional column takes its default where the file has none', () => {
    const d = parseCsv('group,y\na,3\nb,4\n', E);
    expect(d.likelihood).toBe('exposed');
    expect(Array.from(d.columns!.exposure)).toEqual([1, 1]);
    expect(Array.from(parseSeedJson(JSON.stringify({ y: [3], idx: [0] }), { family: exposureFamily }).columns!.exposure)).toEqual([1]);
  });
  it('exposure 0 or negative (exclusive bound)', () => {
    expectInputError(() => parseCsv('group,y,exposure\na,3,2\nb,4,0\n', E), "e.csv row 3, column 'exposure'", /must be > 0, got 0/);
    expectInputError(() => parseCsv('group,y,exposure\na,3,-1.5\n', E), "e.csv row 2, column 'exposure'", /must be > 0, got -1\.5/);
    expectInputError(() => parseSeedJson(JSON.stringify({ y: [3], idx: [0], exposure: -1 }), { family: exposureFamily, source: 'e.json' }), 'e.json: exposure', /> 0/);
  });
  it('a fractional exposure is fine (not integer); a fractional count is not', () => {
    expect(Array.from(parseCsv('group,y,exposure\na,3,0.25\n', E).columns!.exposure)).toEqual([0.25]);
    expectInputError(() => parseCsv('group,y,exposure\na,3.5,1\n', E), "e.csv row 2, column 'y'", /whole number/);
  });
  it("the family's checkObservation names its column and row", () =>
    expectInputError(() => parseCsv('group,y,exposure\na,3,1\na,500,2\n', E), "e.csv row 3, column 'exposure'", /500 events/));
});

describe('--likelihood and the column options', () => {
  it('defaults to normal; --sigma is validated against its column', () => {
    expect(parseDataOptions({}).family).toBe(normal);
    expect(parseDataOptions({ sigma: '2.5' }).columnOptions).toEqual({ '--sigma': 2.5 });
    expectInputError(() => parseDataOptions({ sigma: '0' }), '--sigma', /must be a number > 0, got '0'/);
  });
  it('binomial; --sigma with binomial names --sigma', () => {
    expect(parseDataOptions({ likelihood: 'binomial' }).family).toBe(binomial);
    expectInputError(() => parseDataOptions({ likelihood: 'binomial', sigma: '1' }), '--sigma', /binomial likelihood has no column that --sigma gives.*trials/);
  });
  it('an unknown likelihood lists the registered ones', () => expectInputError(() => parseDataOptions({ likelihood: 'gamma' }), '--likelihood', /unknown likelihood 'gamma' \(expected normal, binomial/));
});

describe('outputs of a binomial run', () => {
  const data = parseCsv(SURGICAL, { family: binomial });

  it('constrainedNames: theta then p per group; rowConstrainer: p = inv_logit(theta) from theta in float64', () => {
    const model = makeModel(data, new Float64Array(12).fill(0.5));
    const names = constrainedNames(model);
    expect(names.slice(0, 3)).toEqual(['mu', 'tau', 'log_tau']);
    expect(names.slice(3, 15)).toEqual(data.labels.map((l) => `theta[${l}]`));
    expect(names.slice(15)).toEqual(data.labels.map((l) => `p[${l}]`));
    const D = model.dim;
    const positions = new Float64Array(2 * D);
    for (let i = 0; i < positions.length; i++) positions[i] = Math.sin(i + 1) * 2;
    const { params } = constrainDraws(model, { retainedChains: 1, draws: 2, positions } as never);
    for (let r = 0; r < 2; r++) {
      const mu = positions[r * D + model.layout.global('mu')];
      const s = positions[r * D + model.layout.global('log_tau')];
      for (let k = 0; k < 12; k++) {
        const theta = mu + Math.exp(0.5 * s) * (positions[r * D + model.layout.group(k)] - 0.5 * mu);
        expect(params[`p[${data.labels[k]}]`][r]).toBe(Math.fround(invLogit(theta)));
      }
    }
  });

  it('sample (CPU): p in the summary and the draws CSV; InferenceData: p, trials, int64 y and y_rep within 0..trials', async () => {
    const r = await sample({ data, parameterization: 'noncentered', chains: 8, warmup: 60, draws: 25, seed: 4, backend: 'cpu' });
    expect(r.paramNames.filter((n) => n.startsWith('p['))).toHaveLength(12);
    const { report } = reportRun(r, 4);
    expect(report.data.likelihood).toBe('binomial');
    expect(report.params['p[D]'].mean).toBeGreaterThan(0.02);
    expect(report.params['p[D]'].mean).toBeLessThan(0.12);
    const header = drawsCsvChunks(r).next().value as string;
    expect(header).toMatch(/theta\[L\],p\[A\],.*p\[L\],lp__/);

    const id = toInferenceData(r, data, { seed: 4 });
    const group = (name: string) => id.groups.find((g) => g.name === name)!;
    const v = (g: string, name: string) => group(g).variables.find((x) => x.name === name)!;
    expect(v('posterior', 'p').dims).toEqual(['chain', 'draw', 'group']);
    const p = v('posterior', 'p').data as Float32Array;
    expect(p[5 * 12 + 3]).toBe(r.params['p[D]'][5]);
    expect(v('observed_data', 'y').data).toBeInstanceOf(BigInt64Array);
    expect(v('constant_data', 'trials').data).toBeInstanceOf(BigInt64Array);
    expect(group('constant_data').variables.some((x) => x.name === 'sigma')).toBe(false);
    const yRep = v('posterior_predictive', 'y_rep').data as BigInt64Array;
    expect(yRep).toBeInstanceOf(BigInt64Array);
    const trials = data.columns!.trials;
    let sum = 0;
    for (let i = 0; i < yRep.length; i++) {
      const y = Number(yRep[i]);
      expect(y >= 0 && y <= trials[i % 12]).toBe(true);
      sum += y;
    }
    // Replicates centred on the data: the total deaths over 200 draws near the observed 208.
    expect(sum / (8 * 25)).toBeGreaterThan(150);
    expect(sum / (8 * 25)).toBeLessThan(270);
    expect(id.attrs.likelihood).toBe('binomial');
    expect(String(group('posterior_predictive').attrs.note)).toMatch(/^y_rep ~ Binomial\(trials, p\[obs_group\]\)/);
  });
});

describe('PredictiveVariates', () => {
  it('normals: observations 4b..4b+3 take the four Box–Muller normals of block b (the y_rep of earlier releases)', () => {
    const key = keyFromSeed(9);
    const rng = new PredictiveVariates(key);
    rng.start(3, 7);
    const w = new Uint32Array(4);
    for (let b = 0; b < 3; b++) {
      philox4x32Into(PREDICTIVE_STREAM, 3, 7, b, key[0], key[1], w);
      const r0 = Math.sqrt(-2 * Math.log(toUnit(w[0])));
      const a0 = 2 * Math.PI * toUnit(w[1]);
      const r1 = Math.sqrt(-2 * Math.log(toUnit(w[2])));
      const a1 = 2 * Math.PI * toUnit(w[3]);
      expect([rng.normal(), rng.normal(), rng.normal(), rng.normal()]).toEqual([r0 * Math.cos(a0), r0 * Math.sin(a0), r1 * Math.cos(a1), r1 * Math.sin(a1)]);
    }
  });
  it('uniforms lie in (0, 1), with mean 1/2 and variance 1/12', () => {
    const rng = new PredictiveVariates(keyFromSeed(1));
    rng.start(0, 0);
    let m = 0;
    let m2 = 0;
    const n = 40_000;
    for (let i = 0; i < n; i++) {
      const u = rng.uniform();
      expect(u > 0 && u < 1).toBe(true);
      m += u;
      m2 += u * u;
    }
    expect(Math.abs(m / n - 0.5)).toBeLessThan(0.01);
    expect(Math.abs(m2 / n - (m / n) ** 2 - 1 / 12)).toBeLessThan(0.003);
  });
});

describe('compare without an exact posterior', () => {
  it('leaves the deviation empty and judges on the diagnostics', () => {
    const report = {
      device: { backend: 'cpu', adapter: 'test' },
      data: { likelihood: 'binomial', groups: 1, labels: ['A'], parameterization: [0] },
      timing: { compile_s: 0, warmup_s: 1, sampling_s: 1, total_s: 2 },
      partial: false,
      sampler: { chains: 10, retained_chains: 10, warmup: 10, draws: 10, requested_draws: 10, step_size: 0.3, trajectory_length: 2, mean_leapfrog_steps: 7, gradient_evals: 1e4, divergences: 0, accept_rate: 0.7, ebfmi_min: 0.8, ebfmi_median: 0.9 },
      params: Object.fromEntries(['mu', 'tau', 'log_tau', 'theta[A]', 'p[A]'].map((n) => [n, { mean: 9, sd: 1, q5: 0, q50: 1, q95: 2, mcse_mean: 0.01, mcse_sd: 0.01, ess_bulk: 900, ess_tail: 900, rhat: 1.001 }])),
      throughput: { ess_bulk_min_per_s: 450, gradient_evals_per_s: 5e3, ess_scale: 1 },
      warnings: [],
    } as const;
    const row = compareRow('noncentered', report as never, undefined);
    expect(row.exact_deviation_max).toBeNaN();
    expect(row.exact_deviation_param).toBe('');
    expect(row.clean).toBe(true);
    const text = formatComparison(rankRows([row]));
    expect(text.split('\n')[1]).toMatch(/1\.001\s*$/);
  });
});
