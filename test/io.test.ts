import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadData, parseCsv, parseSeedJson } from '../src/io/data.ts';
import { MAX_GROUPS } from '../src/model/data.ts';
import { InputError } from '../src/errors.ts';

/** The study's seed data sets (copies of shared/data). */
const DATA_DIR = fileURLToPath(new URL('../demo/data', import.meta.url));
const SEEDS = ['weak', 'strong', 'unbalanced'] as const;

/** Runs `f`, expecting an InputError whose field is exactly `field` and message matches `msg`. */
function expectInputError(f: () => unknown, field: string, msg?: RegExp): void {
  let caught: unknown;
  try {
    f();
  } catch (err) {
    caught = err;
  }
  expect(caught, 'expected an InputError').toBeInstanceOf(InputError);
  const e = caught as InputError;
  expect(e.field).toBe(field);
  expect(e.message.startsWith(field)).toBe(true);
  if (msg) expect(e.message).toMatch(msg);
}

async function expectInputErrorAsync(p: Promise<unknown>, field: string, msg?: RegExp): Promise<void> {
  let caught: unknown;
  try {
    await p;
  } catch (err) {
    caught = err;
  }
  expect(caught, 'expected an InputError').toBeInstanceOf(InputError);
  expect((caught as InputError).field).toBe(field);
  if (msg) expect((caught as InputError).message).toMatch(msg);
}

/** A small valid seed document, modified per test. */
function seed(over: Record<string, unknown> = {}): string {
  return JSON.stringify({ N: 4, K: 3, sigma: 2, y: [1, 2.5, -3, 4], idx: [0, 1, 1, 2], ...over });
}
const J = { source: 'weak.json' };

describe('parseSeedJson: the seed data sets', () => {
  for (const name of SEEDS) {
    it(`parses ${name}.json`, () => {
      const raw = JSON.parse(readFileSync(`${DATA_DIR}/${name}.json`, 'utf8'));
      const d = parseSeedJson(readFileSync(`${DATA_DIR}/${name}.json`, 'utf8'), { source: `${name}.json` });
      expect(d.K).toBe(raw.K);
      expect(d.y.length).toBe(raw.N);
      expect(Array.from(d.y)).toEqual(raw.y);
      expect(Array.from(d.group)).toEqual(raw.idx);
      expect(d.sigma.every((s) => s === raw.sigma)).toBe(true);
      expect(d.labels).toEqual(Array.from({ length: raw.K }, (_, k) => String(k)));
    });
  }

  it('unbalanced.json has the study group sizes', () => {
    const d = parseSeedJson(readFileSync(`${DATA_DIR}/unbalanced.json`, 'utf8'));
    const n = new Array(d.K).fill(0);
    for (const g of d.group) n[g]++;
    expect(n).toEqual([10, 5, 1000, 10, 1, 5, 100, 10, 5]);
  });

  it('loadData picks the JSON parser by extension', async () => {
    const d = await loadData(`${DATA_DIR}/weak.json`);
    expect(d.K).toBe(9);
    expect(d.y.length).toBe(9);
  });
});

describe('parseSeedJson: good paths', () => {
  it('infers K = max(idx) + 1 when K is absent', () => {
    const d = parseSeedJson(JSON.stringify({ y: [1, 2, 3], idx: [0, 4, 2], sigma: 1 }));
    expect(d.K).toBe(5);
    expect(d.labels).toEqual(['0', '1', '2', '3', '4']);
  });

  it('allows empty groups when K exceeds the groups used', () => {
    const d = parseSeedJson(seed({ K: 6 }));
    expect(d.K).toBe(6);
    expect(Array.from(d.group)).toEqual([0, 1, 1, 2]);
  });

  it('accepts per-observation sigma arrays', () => {
    const d = parseSeedJson(seed({ sigma: [1, 2, 3, 0.5] }));
    expect(Array.from(d.sigma)).toEqual([1, 2, 3, 0.5]);
  });

  it('uses opts.sigma only when the file has no sigma', () => {
    const noSigma = JSON.stringify({ y: [1, 2], idx: [0, 1] });
    expect(Array.from(parseSeedJson(noSigma, { sigma: 3 }).sigma)).toEqual([3, 3]);
    expect(Array.from(parseSeedJson(seed(), { sigma: 3 }).sigma)).toEqual([2, 2, 2, 2]);
  });

  it('ignores extra keys (true mu, tau, theta)', () => {
    const d = parseSeedJson(seed({ mu: 4.5, tau: 3.5, theta: [1, 2, 3], note: 'x' }));
    expect(d.y.length).toBe(4);
  });
});

describe('parseSeedJson: bad input names the field', () => {
  it('invalid JSON', () => expectInputError(() => parseSeedJson('{"y": [1, 2', J), 'weak.json', /invalid JSON/));
  it('root not an object', () => expectInputError(() => parseSeedJson('[1, 2]', J), 'weak.json', /JSON object/));
  it('missing y', () => expectInputError(() => parseSeedJson(JSON.stringify({ idx: [0], sigma: 1 }), J), 'weak.json: y', /missing/));
  it('y not an array', () => expectInputError(() => parseSeedJson(seed({ y: 5 }), J), 'weak.json: y', /array/));
  it('K of a billion groups (refused, not a heap exhausted making their labels)', () =>
    expectInputError(() => parseSeedJson(JSON.stringify({ y: [1], idx: [0], sigma: 1, K: 1e9 }), J), 'weak.json: K', /1000000000 groups: more than the 1,048,576/));
  it('a group index past the most groups', () =>
    expectInputError(() => parseSeedJson(JSON.stringify({ y: [1], idx: [MAX_GROUPS], sigma: 1 }), J), 'weak.json: idx[0]', /too large: at most 1,048,576 groups/));
  it('a CSV of more labels than the most groups', () => {
    const text = 'group,y\n' + Array.from({ length: MAX_GROUPS + 1 }, (_, i) => `g${i},1`).join('\n') + '\n';
    expectInputError(() => parseCsv(text, { sigma: 1 }), `data.csv row ${MAX_GROUPS + 2}, column 'group'`, /more than the 1,048,576 groups/);
  });
  it('empty data', () =>
    expectInputError(() => parseSeedJson(JSON.stringify({ y: [], idx: [], sigma: 1 }), J), 'weak.json: y', /no observations/));
  it('non-numeric y', () => expectInputError(() => parseSeedJson(seed({ y: [1, '2', 3, 4] }), J), 'weak.json: y[1]', /finite number/));
  it('null y (JSON NaN stand-in)', () => expectInputError(() => parseSeedJson(seed({ y: [1, 2, null, 4] }), J), 'weak.json: y[2]', /null/));
  it('infinite y (1e999 overflows)', () =>
    expectInputError(() => parseSeedJson('{"y": [1, 1e999], "idx": [0, 0], "sigma": 1}', J), 'weak.json: y[1]', /finite/));
  it('N mismatch', () => expectInputError(() => parseSeedJson(seed({ N: 5 }), J), 'weak.json: N', /4 observations/));
  it('missing idx', () =>
    expectInputError(() => parseSeedJson(JSON.stringify({ y: [1], sigma: 1 }), J), 'weak.json: idx', /missing/));
  it('idx length mismatch', () => expectInputError(() => parseSeedJson(seed({ idx: [0, 1, 2] }), J), 'weak.json: idx', /3 entries.*y has 4/));
  it('negative idx', () => expectInputError(() => parseSeedJson(seed({ idx: [0, 1, -1, 2] }), J), 'weak.json: idx[2]', />= 0/));
  it('non-integer idx', () => expectInputError(() => parseSeedJson(seed({ idx: [0, 1.5, 1, 2] }), J), 'weak.json: idx[1]', /integer/));
  it('non-numeric idx', () => expectInputError(() => parseSeedJson(seed({ idx: [0, 1, 'a', 2] }), J), 'weak.json: idx[2]', /integer group index/));
  it('idx out of range', () => expectInputError(() => parseSeedJson(seed({ idx: [0, 3, 1, 2] }), J), 'weak.json: idx[1]', /out of range 0\.\.2/));
  it('K not a positive integer', () => {
    expectInputError(() => parseSeedJson(seed({ K: 0 }), J), 'weak.json: K', /positive integer/);
    expectInputError(() => parseSeedJson(seed({ K: 2.5 }), J), 'weak.json: K', /positive integer/);
    expectInputError(() => parseSeedJson(seed({ K: '3' }), J), 'weak.json: K', /positive integer/);
  });
  it('sigma missing and no opts.sigma: sigma is a parameter (the normal likelihood with sigma unknown)', () => {
    const d = parseSeedJson(JSON.stringify({ y: [1, 2], idx: [0, 0] }), J);
    expect(d.likelihood).toBe('normal_sigma');
    expect(d.sigma.length).toBe(0);
  });
  it('sigma <= 0', () => {
    expectInputError(() => parseSeedJson(seed({ sigma: 0 }), J), 'weak.json: sigma', /> 0/);
    expectInputError(() => parseSeedJson(seed({ sigma: -1 }), J), 'weak.json: sigma', /> 0/);
  });
  it('sigma of the wrong type', () => expectInputError(() => parseSeedJson(seed({ sigma: '10' }), J), 'weak.json: sigma', /positive number/));
  it('sigma array length mismatch', () =>
    expectInputError(() => parseSeedJson(seed({ sigma: [1, 2, 3] }), J), 'weak.json: sigma', /3 entries.*y has 4/));
  it('sigma array element <= 0', () => expectInputError(() => parseSeedJson(seed({ sigma: [1, 2, 0, 1] }), J), 'weak.json: sigma[2]', /> 0/));
  it('sigma array element non-numeric', () =>
    expectInputError(() => parseSeedJson(seed({ sigma: [1, 'x', 1, 1] }), J), 'weak.json: sigma[1]', /finite number/));
  it('bad opts.sigma', () => {
    const noSigma = JSON.stringify({ y: [1], idx: [0] });
    expectInputError(() => parseSeedJson(noSigma, { sigma: 0 }), '--sigma', /> 0/);
    expectInputError(() => parseSeedJson(noSigma, { sigma: NaN }), '--sigma', /> 0/);
  });
});

describe('parseCsv: good paths', () => {
  it('parses labels in order of first appearance, any column order, per-observation sigma', () => {
    const text = 'y, sigma ,group\n1.5,2,school B\n-2,1e-1,school A\n3,0.5,school B\n+4.25,.5,"Smith, J."\n\n\n';
    const d = parseCsv(text);
    expect(d.K).toBe(3);
    expect(d.labels).toEqual(['school B', 'school A', 'Smith, J.']);
    expect(Array.from(d.group)).toEqual([0, 1, 0, 2]);
    expect(Array.from(d.y)).toEqual([1.5, -2, 3, 4.25]);
    expect(Array.from(d.sigma)).toEqual([2, 0.1, 0.5, 0.5]);
  });

  it('uses opts.sigma without a sigma column; handles CRLF, BOM and quoted quotes', () => {
    const text = '\uFEFFgroup,y\r\n"a ""x""",1\r\n"multi\nline",2\r\n';
    const d = parseCsv(text, { sigma: 10 });
    expect(d.labels).toEqual(['a "x"', 'multi\nline']);
    expect(Array.from(d.sigma)).toEqual([10, 10]);
  });

  it('round-trips a seed data set written as CSV', () => {
    const raw = JSON.parse(readFileSync(`${DATA_DIR}/unbalanced.json`, 'utf8'));
    const lines = ['group,y,sigma', ...raw.y.map((y: number, i: number) => `g${raw.idx[i]},${y},${raw.sigma}`)];
    const d = parseCsv(lines.join('\n'));
    expect(d.y.length).toBe(raw.N);
    expect(Array.from(d.y)).toEqual(raw.y);
    // Labels come in order of first appearance, which is group order in this file.
    expect(d.labels).toEqual(Array.from({ length: 9 }, (_, k) => `g${k}`));
    expect(Array.from(d.group)).toEqual(raw.idx);
  });
});

describe('parseCsv: bad input names the row and column', () => {
  const C = { source: 'data.csv' };
  it('empty file', () => expectInputError(() => parseCsv('', C), 'data.csv', /empty file/));
  it('only a header (empty data)', () => expectInputError(() => parseCsv('group,y,sigma\n\n', C), 'data.csv', /no observations/));
  it('unknown column', () => expectInputError(() => parseCsv('group,y,sd\na,1,2\n', C), 'data.csv header, column 3', /unknown column 'sd'/));
  it('column names are case-sensitive', () => expectInputError(() => parseCsv('Group,y\na,1\n', { ...C, sigma: 1 }), 'data.csv header, column 1', /'Group'/));
  it('duplicate column', () => expectInputError(() => parseCsv('group,y,y\na,1,2\n', { ...C, sigma: 1 }), 'data.csv header, column 3', /duplicate/));
  it('missing group column', () => expectInputError(() => parseCsv('y,sigma\n1,2\n', C), 'data.csv header', /missing required column 'group'/));
  it('missing y column', () => expectInputError(() => parseCsv('group,sigma\na,2\n', C), 'data.csv header', /missing required column 'y'/));
  it('no sigma column and no opts.sigma: sigma is a parameter, not an error', () => expect(parseCsv('group,y\na,1\n', C).likelihood).toBe('normal_sigma'));
  const rows = 'group,y,sigma\na,1,1\nb,2,1\na,3,1\nb,4,1\nc,5,1\n'; // data rows are file rows 2..6
  const withRow7 = (row: string) => rows + row + '\n';
  it('non-numeric y', () => expectInputError(() => parseCsv(withRow7('c,abc,1'), C), "data.csv row 7, column 'y'", /'abc' is not a number/));
  it('NaN y', () => expectInputError(() => parseCsv(withRow7('c,NaN,1'), C), "data.csv row 7, column 'y'", /not a number/));
  it('Inf y', () => {
    expectInputError(() => parseCsv(withRow7('c,Infinity,1'), C), "data.csv row 7, column 'y'");
    expectInputError(() => parseCsv(withRow7('c,1e999,1'), C), "data.csv row 7, column 'y'", /not finite/);
  });
  it('hexadecimal y is not a decimal number', () => expectInputError(() => parseCsv(withRow7('c,0x10,1'), C), "data.csv row 7, column 'y'"));
  it('empty y cell', () => expectInputError(() => parseCsv(withRow7('c,,1'), C), "data.csv row 7, column 'y'", /empty cell/));
  it('non-numeric sigma', () => expectInputError(() => parseCsv(withRow7('c,1,ten'), C), "data.csv row 7, column 'sigma'", /not a number/));
  it('sigma <= 0', () => {
    expectInputError(() => parseCsv(withRow7('c,1,0'), C), "data.csv row 7, column 'sigma'", /> 0/);
    expectInputError(() => parseCsv(withRow7('c,1,-2'), C), "data.csv row 7, column 'sigma'", /> 0/);
  });
  it('infinite sigma', () => expectInputError(() => parseCsv(withRow7('c,1,1e400'), C), "data.csv row 7, column 'sigma'", /not finite/));
  it('empty group label', () => expectInputError(() => parseCsv(withRow7(',1,1'), C), "data.csv row 7, column 'group'", /empty group/));
  it('too few fields', () => expectInputError(() => parseCsv(withRow7('c,1'), C), 'data.csv row 7', /2 fields.*header has 3/));
  it('too many fields', () => expectInputError(() => parseCsv(withRow7('c,1,1,9'), C), 'data.csv row 7', /4 fields/));
  it('blank line inside the data', () => expectInputError(() => parseCsv(rows + '\nc,1,1\n', C), 'data.csv row 7', /blank line/));
  it('unterminated quote', () => expectInputError(() => parseCsv(withRow7('"c,1,1'), C), 'data.csv row 7', /unterminated/));
  it('text after a closing quote', () => expectInputError(() => parseCsv(withRow7('"c"x,1,1'), C), 'data.csv row 7', /after a quoted field/));
  it('row numbers count the lines of a multi-line quoted field', () =>
    expectInputError(() => parseCsv('group,y,sigma\n"two\nlines",1,1\nc,bad,1\n', C), "data.csv row 4, column 'y'"));
  it('bad opts.sigma', () => expectInputError(() => parseCsv('group,y\na,1\n', { sigma: -1 }), '--sigma'));
});

describe('loadData', () => {
  const dir = mkdtempSync(join(tmpdir(), 'funnelweb-io-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('parses .csv files and names errors by the file name', async () => {
    const good = join(dir, 'schools.csv');
    writeFileSync(good, 'group,y,sigma\nA,28,15\nB,8,10\n');
    const d = await loadData(good);
    expect(d.labels).toEqual(['A', 'B']);
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, 'group,y,sigma\nA,28,15\nB,eight,10\n');
    await expectInputErrorAsync(loadData(bad), "bad.csv row 3, column 'y'", /'eight'/);
  });

  it('names .json errors by the file name', async () => {
    const bad = join(dir, 'weak.json');
    writeFileSync(bad, seed({ idx: [0, 1, 1, 7] }));
    await expectInputErrorAsync(loadData(bad), 'weak.json: idx[3]', /out of range/);
  });

  it('rejects other extensions', async () => {
    await expectInputErrorAsync(loadData(join(dir, 'data.txt')), '--data', /unsupported file type '\.txt'/);
  });

  it('rejects unreadable files', async () => {
    await expectInputErrorAsync(loadData(join(dir, 'missing.csv')), '--data', /cannot read/);
  });
});
