/**
 * Population-level predictors (`--predictors`) and data as Stan and posteriordb users have it
 * (`--columns`, named-array JSON): the readers (`src/io/data.ts`) and the CLI's data options
 * (`src/cli/options.ts`).
 *
 * The four posteriordb data sets under test/reference/data/posteriordb are the files of
 * posteriordb (github.com/stan-dev/posteriordb, posterior_database/data/data/<name>.json.zip),
 * unchanged: radon_mn (919 homes in 85 Minnesota counties; floor and county log uranium),
 * seeds_data (21 plates, binomial, two plate-level predictors), GLMM_Poisson_data (40 yearly
 * counts, a year trend) and surgical_data (12 hospitals, binomial).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadData, parseCsv, parseSeedJson, type LoadOptions } from '../src/io/data.ts';
import { dataLoadOptions, dataOptionsHelp, DATA_ARG_SPECS, parseDataOptions, parseSamplerOptions } from '../src/cli/options.ts';
import { binomial } from '../src/model/families/binomial.ts';
import { poisson } from '../src/model/families/poisson.ts';
import { MAX_PREDICTORS, type HierData } from '../src/model/data.ts';
import { DEFAULT_PRIORS } from '../src/model/priors.ts';
import { expectInputError } from './input_errors.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PDB = join(ROOT, 'test', 'reference', 'data', 'posteriordb');
const DEMO = join(ROOT, 'demo', 'data');
const text = (name: string) => readFileSync(join(PDB, `${name}.json`), 'utf8');
const RADON = text('radon_mn');
const SEEDS = text('seeds_data');
const GLMM = text('GLMM_Poisson_data');
const SURGICAL = text('surgical_data');
const radonRaw = JSON.parse(RADON) as { N: number; J: number; floor_measure: number[]; log_radon: number[]; log_uppm: number[]; county_idx: number[] };

/** Observation i's value of predictor p. */
const x = (d: HierData, i: number, p: number) => d.predictors!.X[i * d.predictors!.names.length + p];

const RADON_OPTS: LoadOptions = { source: 'radon_mn.json', predictors: ['log_uppm', 'floor_measure'], columns: { y: 'log_radon', group: 'county_idx' } };

describe('posteriordb radon_mn: named arrays, county labels, two predictors', () => {
  const d = parseSeedJson(RADON, RADON_OPTS);

  it('919 observations in 85 counties, P = 2, sigma unknown (normal likelihood without sigma)', () => {
    expect(d.y.length).toBe(919);
    expect(d.K).toBe(85);
    expect(d.likelihood).toBe('normal_sigma');
    expect(d.predictors!.names).toEqual(['log_uppm', 'floor_measure']);
    expect(d.predictors!.X.length).toBe(919 * 2);
  });

  it('y, groups and X match the file, row by row', () => {
    expect(Array.from(d.y)).toEqual(radonRaw.log_radon);
    for (let i = 0; i < 919; i++) {
      expect(d.labels[d.group[i]]).toBe(String(radonRaw.county_idx[i]));
      expect(x(d, i, 0)).toBe(radonRaw.log_uppm[i]);
      expect(x(d, i, 1)).toBe(radonRaw.floor_measure[i]);
    }
  });

  it('spot checks: rows 0, 3, 500, 918', () => {
    expect(d.y[0]).toBe(0.0953101798043249);
    expect(d.group[0]).toBe(0);
    expect(x(d, 0, 0)).toBe(-0.507408136699532);
    expect(x(d, 3, 1)).toBe(1); // the first home measured on a floor
    expect(d.y[500]).toBe(1.87180217690159);
    expect(d.labels[d.group[500]]).toBe('49');
    expect(d.group[500]).toBe(48);
    expect(x(d, 500, 0)).toBe(0.335142781859153);
    expect(d.y[918]).toBe(1.33500106673234);
    expect(d.group[918]).toBe(84);
    expect(x(d, 918, 0)).toBe(0.42303648985639);
  });

  it('labels are Stan\'s county numbers 1..85 in numeric order (not first-appearance or string order)', () => {
    expect(d.labels).toEqual(Array.from({ length: 85 }, (_, k) => String(k + 1)));
    const n = new Array(85).fill(0);
    for (const g of d.group) n[g]++;
    expect(n[0]).toBe(4); // county 1
    expect(n[1]).toBe(52); // county 2
    expect(n[84]).toBe(2); // county 85
  });

  it('an interaction and a square are products of the columns, named as written', () => {
    const e = parseSeedJson(RADON, { ...RADON_OPTS, predictors: ['floor_measure', 'log_uppm:floor_measure', 'log_uppm:log_uppm'] });
    expect(e.predictors!.names).toEqual(['floor_measure', 'log_uppm:floor_measure', 'log_uppm:log_uppm']);
    for (const i of [0, 3, 500, 918]) {
      expect(x(e, i, 0)).toBe(radonRaw.floor_measure[i]);
      expect(x(e, i, 1)).toBe(radonRaw.log_uppm[i] * radonRaw.floor_measure[i]);
      expect(x(e, i, 2)).toBe(radonRaw.log_uppm[i] * radonRaw.log_uppm[i]);
    }
  });

  it('the scalars N and J are ignored, an unmapped array is not read', () => {
    const e = parseSeedJson(RADON, { source: 'radon_mn.json', columns: { y: 'log_radon', group: 'county_idx' } });
    expect(e.K).toBe(85);
    expect('predictors' in e).toBe(false);
    expect(e.columns).toBeUndefined();
  });

  it('the CLI path: flags -> parseSamplerOptions -> loadData', async () => {
    const opts = parseSamplerOptions({ likelihood: 'normal', predictors: 'log_uppm,floor_measure', columns: 'y=log_radon,group=county_idx', 'beta-prior': 'normal:0,2' });
    expect(opts.predictors).toEqual(['log_uppm', 'floor_measure']);
    expect(opts.columns).toEqual({ y: 'log_radon', group: 'county_idx' });
    expect(opts.priors.beta).toEqual({ kind: 'normal', loc: 0, scale: 2 });
    const e = await loadData(join(PDB, 'radon_mn.json'), dataLoadOptions(opts));
    expect([e.y.length, e.K, e.predictors!.names.length]).toEqual([919, 85, 2]);
    expect(e.predictors!.X).toEqual(d.predictors!.X);
  });
});

describe('posteriordb seeds, surgical, GLMM_Poisson: no group column, one group per observation', () => {
  it('seeds (binomial): y = n, trials = N (an array here, not a count), x1, x2 and their interaction', () => {
    const d = parseSeedJson(SEEDS, { family: binomial, source: 'seeds_data.json', columns: { y: 'n', trials: 'N' }, predictors: ['x1', 'x2', 'x1:x2'] });
    const raw = JSON.parse(SEEDS);
    expect(d.likelihood).toBe('binomial');
    expect(d.K).toBe(21);
    expect(d.labels).toEqual(Array.from({ length: 21 }, (_, i) => String(i + 1)));
    expect(Array.from(d.group)).toEqual(Array.from({ length: 21 }, (_, i) => i));
    expect(Array.from(d.y)).toEqual(raw.n);
    expect(Array.from(d.columns!.trials)).toEqual(raw.N);
    expect([d.y[5], d.columns!.trials[5]]).toEqual([5, 6]);
    expect(d.predictors!.names).toEqual(['x1', 'x2', 'x1:x2']);
    for (let i = 0; i < 21; i++) {
      expect(x(d, i, 0)).toBe(raw.x1[i]);
      expect(x(d, i, 1)).toBe(raw.x2[i]);
      expect(x(d, i, 2)).toBe(raw.x1[i] * raw.x2[i]);
    }
    expect([x(d, 16, 2), x(d, 5, 2)]).toEqual([1, 0]);
  });

  it('surgical (binomial): y = r, trials = n; the same data as demo/data/surgical.csv', () => {
    const d = parseSeedJson(SURGICAL, { family: binomial, columns: { y: 'r', trials: 'n' } });
    const csv = parseCsv(readFileSync(join(DEMO, 'surgical.csv'), 'utf8'), { family: binomial });
    expect(d.K).toBe(12);
    expect(d.labels).toEqual(Array.from({ length: 12 }, (_, i) => String(i + 1)));
    expect(Array.from(d.y)).toEqual(Array.from(csv.y));
    expect(Array.from(d.columns!.trials)).toEqual(Array.from(csv.columns!.trials));
    expect('predictors' in d).toBe(false);
  });

  it('GLMM_Poisson: y = C (n is a scalar 40 and ignored), a cubic trend in year, exposure 1', () => {
    const d = parseSeedJson(GLMM, { family: poisson, columns: { y: 'C' }, predictors: ['year', 'year:year', 'year:year:year'] });
    const raw = JSON.parse(GLMM);
    expect(d.likelihood).toBe('poisson');
    expect(d.K).toBe(40);
    expect(d.labels[39]).toBe('40');
    expect(Array.from(d.y)).toEqual(raw.C);
    expect(Array.from(d.columns!.exposure)).toEqual(new Array(40).fill(1));
    expect(x(d, 0, 0)).toBe(-1.66802789939819);
    expect(x(d, 0, 1)).toBe(-1.66802789939819 * -1.66802789939819);
    expect(x(d, 0, 2)).toBe(-1.66802789939819 * -1.66802789939819 * -1.66802789939819);
    expect(x(d, 39, 0)).toBe(1.66802789939819);
  });

  it('mapping a family column to a scalar gives it to every observation (as the seed format does)', () => {
    const d = parseSeedJson(JSON.stringify({ r: [1, 2], T: 10 }), { family: binomial, columns: { y: 'r', trials: 'T' } });
    expect(Array.from(d.columns!.trials)).toEqual([10, 10]);
  });
});

describe('named-array JSON: group labels', () => {
  it('numbers in numeric order, not first appearance; groups without data are not made', () => {
    const d = parseSeedJson(JSON.stringify({ obs: [1, 2, 3, 4], g: [10, 2, 10, 7] }), { columns: { y: 'obs', group: 'g' } });
    expect(d.labels).toEqual(['2', '7', '10']);
    expect(Array.from(d.group)).toEqual([2, 0, 2, 1]);
    expect(d.K).toBe(3);
  });

  it('strings in order of first appearance, as a CSV\'s', () => {
    const d = parseSeedJson(JSON.stringify({ y: [1, 2, 3], county: ['b', 'a', 'b'] }), { columns: { group: 'county' } });
    expect(d.labels).toEqual(['b', 'a']);
    expect(Array.from(d.group)).toEqual([0, 1, 0]);
  });

  it('a group key and no idx reads the file as named arrays without --columns', () => {
    const d = parseSeedJson(JSON.stringify({ y: [1, 2, 3], group: [3, 1, 3], sigma: 1 }));
    expect(d.labels).toEqual(['1', '3']);
    expect(Array.from(d.sigma)).toEqual([1, 1, 1]);
  });

  it('an unmapped idx keeps its seed meaning (0-based, K) under --columns', () => {
    const d = parseSeedJson(JSON.stringify({ obs: [1, 2], idx: [0, 2], K: 4, sigma: 1 }), { columns: { y: 'obs' } });
    expect(d.K).toBe(4);
    expect(d.labels).toEqual(['0', '1', '2', '3']);
  });

  it('bad labels name the element', () => {
    const C = { source: 'd.json', columns: { group: 'g' } };
    expectInputError(() => parseSeedJson(JSON.stringify({ y: [1, 2], g: [1, 'a'] }), C), 'd.json: g[1]', /finite number, as the first is/);
    expectInputError(() => parseSeedJson(JSON.stringify({ y: [1, 2], g: ['a', ''] }), C), 'd.json: g[1]', /non-empty string/);
    expectInputError(() => parseSeedJson(JSON.stringify({ y: [1, 2], g: [1, null] }), C), 'd.json: g[1]', /got null/);
    expectInputError(() => parseSeedJson(JSON.stringify({ y: [1, 2], g: [1] }), C), 'd.json: g', /1 entries, but y has 2/);
  });

  it('y missing says how to name it', () => expectInputError(() => parseSeedJson(RADON, { source: 'r.json', columns: { group: 'county_idx' } }), 'r.json: y', /--columns y=NAME/));
  it('y mapped to a scalar', () => expectInputError(() => parseSeedJson(RADON, { source: 'r.json', columns: { y: 'N' } }), 'r.json: N', /expected an array, got number 919/));
  it('a family column missing says how to name it', () => expectInputError(() => parseSeedJson(SEEDS, { family: binomial, source: 's.json', columns: { y: 'n' } }), 's.json: trials', /--columns trials=NAME/));
  it('an element of a mapped column names the file\'s key', () =>
    expectInputError(() => parseSeedJson(JSON.stringify({ r: [1, 12], n: [10, 10] }), { family: binomial, source: 's.json', columns: { y: 'r', trials: 'n' } }), 's.json: r[1]', /12 successes is more than the 10 trials/));
});

describe('CSV with predictors and renamed columns', () => {
  const CSV = 'county,log_radon,floor,uppm\nA,0.5,0,-0.5\nA,1.5,1,-0.5\nB,2.5,0,0.25\nC,1,1,0.5\n';
  const O: LoadOptions = { source: 'r.csv', columns: { y: 'log_radon', group: 'county' }, predictors: ['uppm', 'floor', 'uppm:floor'] };

  it('reads the predictors\' columns, in the order given, and the products', () => {
    const d = parseCsv(CSV, O);
    expect(d.labels).toEqual(['A', 'B', 'C']);
    expect(Array.from(d.group)).toEqual([0, 0, 1, 2]);
    expect(Array.from(d.y)).toEqual([0.5, 1.5, 2.5, 1]);
    expect(d.predictors!.names).toEqual(['uppm', 'floor', 'uppm:floor']);
    expect(Array.from(d.predictors!.X)).toEqual([-0.5, 0, -0, -0.5, 1, -0.5, 0.25, 0, 0, 0.5, 1, 0.5]);
  });

  it('predictor columns in a CSV with FunnelWeb\'s own names', () => {
    const d = parseCsv('group,y,sigma,x\na,1,1,2\nb,2,1,3\n', { predictors: ['x'] });
    expect(Array.from(d.predictors!.X)).toEqual([2, 3]);
    expect(Array.from(d.sigma)).toEqual([1, 1]);
  });

  it('other unknown columns are still an error', () =>
    expectInputError(() => parseCsv('group,y,sigma,x,z\na,1,1,2,0\nb,2,1,3,0\n', { source: 'd.csv', predictors: ['x'] }), 'd.csv header, column 5', /unknown column 'z'/));
  it('a renamed column names the file\'s column in row errors', () =>
    expectInputError(() => parseCsv('county,log_radon\nA,x\n', { source: 'r.csv', columns: { y: 'log_radon', group: 'county' } }), "r.csv row 2, column 'log_radon'", /'x' is not a number/));
  it('a binomial CSV with renamed columns', () => {
    const d = parseCsv('hospital,r,n\nA,0,47\nB,18,148\n', { family: binomial, columns: { group: 'hospital', y: 'r', trials: 'n' } });
    expect(Array.from(d.columns!.trials)).toEqual([47, 148]);
    expect(d.labels).toEqual(['A', 'B']);
  });
});

describe('without --predictors or --columns nothing changes', () => {
  for (const name of ['weak', 'strong', 'unbalanced']) {
    it(`${name}.json: the same HierData as before, no predictors key`, () => {
      const t = readFileSync(join(DEMO, `${name}.json`), 'utf8');
      const d = parseSeedJson(t);
      expect('predictors' in d).toBe(false);
      expect(parseSeedJson(t, { predictors: [] })).toEqual(d);
      const raw = JSON.parse(t);
      expect(Array.from(d.group)).toEqual(raw.idx);
      expect(d.labels).toEqual(Array.from({ length: raw.K }, (_, k) => String(k)));
    });
  }
  it('surgical.csv', () => {
    const t = readFileSync(join(DEMO, 'surgical.csv'), 'utf8');
    const d = parseCsv(t, { family: binomial });
    expect('predictors' in d).toBe(false);
    expect(Object.keys(d).sort()).toEqual(['columns', 'group', 'K', 'labels', 'likelihood', 'sigma', 'y'].sort());
  });
  it('a seed file with predictors keeps its groups and gains only the predictors', () => {
    const t = JSON.stringify({ y: [1, 2, 3], idx: [0, 1, 1], sigma: 1, x: [0.5, 1, 2] });
    const { predictors, ...rest } = parseSeedJson(t, { predictors: ['x'] });
    expect(rest).toEqual(parseSeedJson(t));
    expect(predictors).toEqual({ names: ['x'], X: new Float64Array([0.5, 1, 2]) });
  });
  it('the CLI options: no predictors, columns or beta prior', () => {
    const o = parseSamplerOptions({});
    expect('predictors' in o || 'columns' in o).toBe(false);
    expect(o.priors).toEqual(DEFAULT_PRIORS);
    expect(dataLoadOptions(o)).toEqual({ family: o.family, options: {} });
  });
  it('a seed file without idx is still an error (not one group per observation) without --columns', () =>
    expectInputError(() => parseSeedJson(JSON.stringify({ y: [1], sigma: 1 }), { source: 'w.json' }), 'w.json: idx', /missing/));
});

describe('--predictors: bad input names the field', () => {
  const J = (o: Record<string, unknown> = {}) => JSON.stringify({ y: [1, 2, 3], idx: [0, 1, 1], sigma: 1, a: [1, 2, 3], b: [0, 1, 0], ...o });
  const P = (predictors: string[], o: Record<string, unknown> = {}) => () => parseSeedJson(J(o), { source: 'd.json', predictors });

  it('unknown column (JSON) lists the available ones', () => expectInputError(P(['a', 'c']), '--predictors', /'c' is not a key of d\.json \(its other arrays of 3: 'a', 'b'\)/));
  it('unknown column (CSV) lists the available ones', () =>
    expectInputError(() => parseCsv('group,y,sigma,a\ng,1,1,2\n', { source: 'd.csv', predictors: ['c'] }), '--predictors', /'c' is not a column of d\.csv \(its other columns: 'a'\)/));
  it('unknown column (named JSON)', () => expectInputError(() => parseSeedJson(RADON, { ...RADON_OPTS, predictors: ['uppm'] }), '--predictors', /'uppm' is not a key.*'floor_measure', 'log_uppm'/));
  it('non-finite value (JSON: file, element, column)', () => {
    expectInputError(P(['a'], { a: [1, null, 3] }), 'd.json: a[1]', /finite number \(predictor 'a'\), got null/);
    expectInputError(P(['a'], { a: [1, 2, '3'] }), 'd.json: a[2]', /the string "3"/);
    expectInputError(() => parseSeedJson('{"y":[1,2],"idx":[0,1],"sigma":1,"a":[1,1e999]}', { source: 'd.json', predictors: ['a'] }), 'd.json: a[1]', /finite/);
  });
  it('non-finite value (CSV: file, row, column)', () => {
    expectInputError(() => parseCsv('group,y,sigma,a\ng,1,1,2\nh,1,1,NaN\n', { source: 'd.csv', predictors: ['a'] }), "d.csv row 3, column 'a'", /'NaN' is not a number/);
    expectInputError(() => parseCsv('group,y,sigma,a\ng,1,1,2\nh,1,1,1e999\n', { source: 'd.csv', predictors: ['a'] }), "d.csv row 3, column 'a'", /not finite/);
    expectInputError(() => parseCsv('group,y,sigma,a\ng,1,1,\n', { source: 'd.csv', predictors: ['a'] }), "d.csv row 2, column 'a'", /empty cell/);
  });
  it('a scalar or an array of another length', () => {
    expectInputError(P(['a'], { a: 3 }), 'd.json: a', /expected an array of 3 numbers/);
    expectInputError(P(['a'], { a: [1, 2] }), 'd.json: a', /2 entries, but y has 3/);
    expectInputError(P(['K'], { K: 2 }), 'd.json: K', /expected an array of 3 numbers/);
  });
  it('a product that overflows', () => expectInputError(P(['a:a'], { a: [1, 2, 1e200] }), '--predictors', /'a:a' of observation 3 is not finite/));
  it('duplicate names, and the same product twice', () => {
    expectInputError(P(['a', 'b', 'a']), '--predictors', /'a' is given twice/);
    expectInputError(P(['a:b', 'b:a']), '--predictors', /'b:a' is the same product as 'a:b'/);
  });
  it(`more than ${MAX_PREDICTORS}`, () => expectInputError(P(Array.from({ length: MAX_PREDICTORS + 1 }, (_, p) => `x${p}`)), '--predictors', /17 predictors: at most 16/));
  it('the y, group or family column', () => {
    expectInputError(P(['y']), '--predictors', /'y' is the y column/);
    expectInputError(P(['idx']), '--predictors', /'idx' is the group column/);
    expectInputError(P(['a:sigma']), '--predictors', /'a:sigma': 'sigma' is the sigma column/);
    expectInputError(() => parseSeedJson(RADON, { ...RADON_OPTS, predictors: ['log_radon'] }), '--predictors', /'log_radon' is the y column \(--columns y=log_radon\)/);
    expectInputError(() => parseSeedJson(RADON, { ...RADON_OPTS, predictors: ['county_idx'] }), '--predictors', /is the group column/);
    expectInputError(() => parseSeedJson(SEEDS, { family: binomial, columns: { y: 'n', trials: 'N' }, predictors: ['N'] }), '--predictors', /'N' is the trials column/);
    expectInputError(() => parseCsv('group,y,sigma\ng,1,1\n', { predictors: ['group'] }), '--predictors', /is the group column/);
  });
  it('an empty name', () => {
    expectInputError(P(['a', '']), '--predictors', /predictor 2 has an empty name/);
    expectInputError(P(['a:']), '--predictors', /empty column name in a product/);
  });
  it('a constant predictor: mu is the intercept', () => {
    expectInputError(P(['a'], { a: [2, 2, 2] }), '--predictors', /'a' is 2 for every observation: mu is the intercept/);
    expectInputError(P(['b:b'], { b: [-1, 1, 1] }), '--predictors', /'b:b' is 1 for every observation/);
    expectInputError(() => parseCsv('group,y,sigma,a\ng,1,1,0\nh,2,1,0\n', { predictors: ['a'] }), '--predictors', /mu is the intercept/);
  });
  it('a predictor of another likelihood\'s column name is read, not refused', () => {
    const d = parseSeedJson(JSON.stringify({ y: [1, 2], idx: [0, 1], trials: [3, 4], sigma: [1, 1] }), { predictors: ['trials'] });
    expect(Array.from(d.predictors!.X)).toEqual([3, 4]);
  });
});

describe('--columns: bad input names the field', () => {
  it('unknown target lists the likelihood\'s columns', () => {
    expectInputError(() => parseSeedJson(RADON, { columns: { obs: 'log_radon' } }), '--columns', /unknown column 'obs' to map: the normal likelihood's columns are 'y', 'group', 'sigma'/);
    expectInputError(() => parseSeedJson(SEEDS, { columns: { trials: 'N' } }), '--columns', /'trials' is a column of the binomial likelihood/);
    expectInputError(() => parseDataOptions({ likelihood: 'binomial', columns: 'sigma=s' }), '--columns', /'y', 'group', 'trials'/);
  });
  it('a source missing from the file (JSON and CSV)', () => {
    expectInputError(() => parseSeedJson(RADON, { source: 'r.json', columns: { y: 'radon' } }), '--columns', /y=radon: r\.json has no key 'radon' \(its keys: 'N', 'J', 'floor_measure'/);
    expectInputError(() => parseCsv('g,y\na,1\n', { source: 'd.csv', columns: { group: 'county' } }), '--columns', /group=county: d\.csv has no column 'county' \(its columns: 'g', 'y'\)/);
  });
  it('the same source for two targets', () => {
    expectInputError(() => parseDataOptions({ columns: 'y=a,group=a' }), '--columns', /'a' is mapped to both 'y' and 'group'/);
    expectInputError(() => parseSeedJson(RADON, { columns: { y: 'log_radon', group: 'log_radon' } }), '--columns', /mapped to both/);
    // A mapped name that is another column's own, unmapped name.
    expectInputError(() => parseCsv('group,y,sigma\na,1,1\n', { columns: { y: 'sigma' } }), '--columns', /'sigma' would be both the y and the sigma column: name the file's sigma column too/);
  });
  it('malformed text', () => {
    for (const t of ['y', 'y=', '=log_radon', 'y=a=b', 'y=a,', '', ' ']) expectInputError(() => parseDataOptions({ columns: t }), '--columns', /T=NAME|empty/);
    expectInputError(() => parseDataOptions({ columns: 'y=a,y=b' }), '--columns', /'y' is mapped twice/);
  });
  it('parsed: names trimmed', () => expect(parseDataOptions({ columns: ' y = log_radon , group=county_idx ' }).columns).toEqual({ y: 'log_radon', group: 'county_idx' }));
});

describe('the CLI flags', () => {
  it('are parseArgs options of sample and compare', () => {
    for (const f of ['predictors', 'columns', 'beta-prior']) expect(DATA_ARG_SPECS[f]).toEqual({ type: 'string' });
  });
  it('--predictors: split at commas, trimmed, checked early', () => {
    expect(parseDataOptions({ predictors: ' a , b:c ' }).predictors).toEqual(['a', 'b:c']);
    expect(parseDataOptions({ predictors: 'a : b' }).predictors).toEqual(['a:b']);
    expectInputError(() => parseDataOptions({ predictors: '' }), '--predictors', /empty/);
    expectInputError(() => parseDataOptions({ predictors: 'a,,b' }), '--predictors', /predictor 2 has an empty name/);
    expectInputError(() => parseDataOptions({ predictors: 'a,a' }), '--predictors', /given twice/);
  });
  it('--beta-prior: normal:LOC,SCALE, only with --predictors', () => {
    expect(parseSamplerOptions({ predictors: 'x', 'beta-prior': 'normal:1,0.5' }).priors.beta).toEqual({ kind: 'normal', loc: 1, scale: 0.5 });
    expect(parseSamplerOptions({ predictors: 'x' }).priors.beta).toBeUndefined();
    expectInputError(() => parseSamplerOptions({ 'beta-prior': 'normal:0,1' }), '--beta-prior', /only meaningful with --predictors/);
    expectInputError(() => parseSamplerOptions({ predictors: 'x', 'beta-prior': 'normal:0,-1' }), '--beta-prior', /scale must be > 0/);
    expectInputError(() => parseSamplerOptions({ predictors: 'x', 'beta-prior': 'cauchy:0,1' }), '--beta-prior', /expected 'normal:LOC,SCALE'/);
  });
  it('the help text documents them, and one group per observation', () => {
    const h = dataOptionsHelp();
    expect(h).toMatch(/--columns T=NAME/);
    expect(h).toMatch(/--predictors A,B,A:B/);
    expect(h).toMatch(/--beta-prior normal:LOC,SCALE/);
    expect(h).toMatch(/each\s+observation is its own group, labelled 1\.\.N/);
  });
});
