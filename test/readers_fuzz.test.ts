/**
 * Property-based fuzzing of every reader (fast-check): valid files are damaged at random
 * (characters flipped, the file cut short, lines or cells deleted or repeated, garbage
 * or a huge cell inserted, chunk files deleted, cut or grown, metadata flipped) and each
 * reader must either raise InputError (its message one short printable line) or return
 * exactly the data the file holds. Never another error type, never a crash, never
 * different numbers read silently.
 *
 * "Exactly the data the file holds":
 * - data CSV: the answer of an independent, deliberately simple model of the format
 *   (unquoted RFC 4180 subset), for any mutation; quoted text only has to give InputError
 *   or data;
 * - data JSON, draws CSV, CmdStan CSV: the mutations are ones that either break the file or
 *   leave its content unchanged (a number changed to another number is a different valid
 *   file, not damage: no reader can tell), so the answer is InputError or the original;
 *   a file cut short may change its very last cell to a prefix of itself, nothing else;
 * - Zarr: InputError or the original for chunk deletion, truncation and growth, and for
 *   any byte flip in the JSON metadata (consolidated metadata doubles every document);
 * - netCDF: a file cut short is InputError; one with bytes inserted or appended is
 *   InputError or the original. A flipped byte of uncompressed data has no checksum to
 *   catch it, so for flips the property is only: InputError or a well-formed table.
 *
 * Each property runs for a few seconds (numRuns set per reader; FUNNELWEB_FUZZ_RUNS=N
 * multiplies them), from a fixed seed (FUNNELWEB_FUZZ_SEED=N for others).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../src/errors.ts';
import { CSV_COLUMNS, parseCsv, parseSeedJson } from '../src/io/data.ts';
import { parseDrawsCsv, type DrawsTable } from '../src/io/draws_csv.ts';
import { cmdstanDrawsTable, parseCmdStanCsv } from '../src/io/cmdstan.ts';
import { readInferenceDataDraws } from '../src/io/inference_data_read.ts';
import type { HierData } from '../src/model/data.ts';
import { expectedDraws, netcdfBytes, writeZarrStore } from './idata_fixture.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
/** FUNNELWEB_FUZZ_RUNS=10 runs every property ten times as long (a deeper search by hand). */
const SCALE = Math.max(1, Number(process.env.FUNNELWEB_FUZZ_RUNS ?? 1) || 1);
const runs = (n: number) => ({ numRuns: n * SCALE });
/**
 * Every property starts from one seed, so that each run of the suite tries the same cases;
 * FUNNELWEB_FUZZ_SEED=N searches elsewhere (a failure prints its seed and path to replay).
 * A property, its shrinking included, that runs past the limit fails instead of holding
 * the suite (a synchronous property blocks the test runner's own timeout).
 */
const SEED = Number(process.env.FUNNELWEB_FUZZ_SEED ?? 20_261_207) | 0;
fc.configureGlobal({ seed: SEED, interruptAfterTimeLimit: 180_000 * SCALE, markInterruptAsFailure: true });
/** A .nc read that takes longer than this is a file HDF5 loops on (InputError), not a wait for the suite. */
const NETCDF_LIMIT_MS = 5_000;
const dir = mkdtempSync(join(tmpdir(), 'fw-fuzz-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * An InputError's message is what the terminal shows: one printable line, short whatever
 * the file held (garbage, control bytes, a 1 MB cell).
 */
function checkMessage(err: InputError): void {
  expect(err.message.length).toBeLessThan(1024);
  // eslint-disable-next-line no-control-regex
  expect(err.message).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/);
}

/** Runs `f`; returns its value, or 'input-error' for InputError; rethrows anything else. */
function outcome<T>(f: () => T): T | 'input-error' {
  try {
    return f();
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    checkMessage(err);
    return 'input-error';
  }
}

async function outcomeAsync<T>(f: () => Promise<T>): Promise<T | 'input-error'> {
  try {
    return await f();
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    checkMessage(err);
    return 'input-error';
  }
}

// ---------------------------------------------------------------------------------------
// Text mutations

type Mutation =
  | { kind: 'flip'; at: number; ch: string }
  | { kind: 'truncate'; at: number }
  | { kind: 'deleteLine'; line: number }
  | { kind: 'duplicateLine'; line: number }
  | { kind: 'swapLines'; a: number; b: number }
  | { kind: 'deleteCell'; line: number; cell: number }
  | { kind: 'garbageCell'; line: number; cell: number; garbage: string }
  | { kind: 'hugeCell'; line: number; cell: number }
  | { kind: 'insert'; at: number; text: string }
  | { kind: 'crlf' };

const idx = fc.nat({ max: 10_000 });
/** Garbage: arbitrary characters, control bytes and invalid surrogates included. */
const garbage = fc.oneof(fc.string({ maxLength: 12 }), fc.string({ unit: 'binary', maxLength: 12 }), fc.constantFrom('\u001b[31m', '\u0000', 'NaN', '1e999', '0x1f', '--1', ' ', '"', ',', '\n'));

const anyMutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: idx, ch: fc.oneof(fc.string({ minLength: 1, maxLength: 1 }), fc.constantFrom('0', '9', '.', '-', 'e', ',', '\n', '\r', ' ', '\u0000')) }),
  fc.record({ kind: fc.constant('truncate' as const), at: idx }),
  fc.record({ kind: fc.constant('deleteLine' as const), line: idx }),
  fc.record({ kind: fc.constant('duplicateLine' as const), line: idx }),
  fc.record({ kind: fc.constant('swapLines' as const), a: idx, b: idx }),
  fc.record({ kind: fc.constant('deleteCell' as const), line: idx, cell: idx }),
  fc.record({ kind: fc.constant('garbageCell' as const), line: idx, cell: idx, garbage }),
  fc.record({ kind: fc.constant('hugeCell' as const), line: idx, cell: idx }),
  fc.record({ kind: fc.constant('insert' as const), at: idx, text: garbage }),
  fc.constant({ kind: 'crlf' as const }),
);

/** A huge cell: 1 MB here (the 10 MB case is in readers_verify.test.ts). */
const HUGE = 'x'.repeat(1 << 20);

function mutate(text: string, m: Mutation): string {
  const lines = text.split('\n');
  const L = (i: number) => i % lines.length;
  const cells = (line: number) => lines[line].split(',');
  switch (m.kind) {
    case 'flip': {
      const at = m.at % Math.max(1, text.length);
      return text.slice(0, at) + m.ch + text.slice(at + 1);
    }
    case 'truncate':
      return text.slice(0, m.at % Math.max(1, text.length));
    case 'insert': {
      const at = m.at % (text.length + 1);
      return text.slice(0, at) + m.text + text.slice(at);
    }
    case 'deleteLine':
      lines.splice(L(m.line), 1);
      return lines.join('\n');
    case 'duplicateLine':
      lines.splice(L(m.line), 0, lines[L(m.line)]);
      return lines.join('\n');
    case 'swapLines': {
      const [a, b] = [L(m.a), L(m.b)];
      [lines[a], lines[b]] = [lines[b], lines[a]];
      return lines.join('\n');
    }
    case 'deleteCell':
    case 'garbageCell':
    case 'hugeCell': {
      const l = L(m.line);
      const c = cells(l);
      const j = m.cell % c.length;
      if (m.kind === 'deleteCell') c.splice(j, 1);
      else c[j] = m.kind === 'hugeCell' ? HUGE : m.garbage;
      lines[l] = c.join(',');
      return lines.join('\n');
    }
    case 'crlf':
      return text.replace(/\n/g, '\r\n');
  }
}

// ---------------------------------------------------------------------------------------
// Data CSV, against a model of the format

/** Valid data CSVs: header in any column order, 1-12 rows, labels reused. */
const dataCsv = fc
  .record({
    order: fc.shuffledSubarray(['group', 'y', 'sigma'], { minLength: 3, maxLength: 3 }),
    rows: fc.array(
      fc.record({
        group: fc.constantFrom('a', 'b', 'school 3', 'x_1', 'Z'),
        y: fc.double({ min: -1e6, max: 1e6, noNaN: true }),
        sigma: fc.double({ min: 1e-3, max: 1e3, noNaN: true }),
      }),
      { minLength: 1, maxLength: 12 },
    ),
  })
  .map(({ order, rows }) => [order.join(','), ...rows.map((r) => order.map((c) => (c === 'group' ? r.group : String(r[c as 'y' | 'sigma']))).join(','))].join('\n') + '\n');

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/**
 * The data a CSV without double quotes holds, or 'input-error': a second, simpler
 * statement of the format (records at LF, CRLF or CR; cells at commas, trimmed; without a
 * sigma column, the normal likelihood with sigma unknown).
 */
function modelCsv(text: string): HierData | 'input-error' | 'unknown' {
  if (text.includes('"')) return 'unknown';
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const pieces = body.split(/\r\n|\n|\r/);
  if (pieces[pieces.length - 1] === '') pieces.pop();
  const records = pieces.map((p) => p.split(',').map((c) => c.trim()));
  const blank = (r: string[]) => r.length === 1 && r[0] === '';
  while (records.length && blank(records[records.length - 1])) records.pop();
  if (!records.length) return 'input-error';
  const header = records[0];
  if (header.some((h) => !(CSV_COLUMNS as readonly string[]).includes(h)) || new Set(header).size !== header.length) return 'input-error';
  if (!header.includes('group') || !header.includes('y')) return 'input-error';
  // Without a sigma column, sigma is a parameter: the normal likelihood with sigma unknown.
  const sigmaKnown = header.includes('sigma');
  const rows = records.slice(1);
  if (!rows.length) return 'input-error';
  const labels: string[] = [];
  const y: number[] = [];
  const sigma: number[] = [];
  const group: number[] = [];
  const num = (t: string) => (DECIMAL.test(t) && Number.isFinite(Number(t)) ? Number(t) : undefined);
  for (const r of rows) {
    if (blank(r) || r.length !== header.length) return 'input-error';
    const g = r[header.indexOf('group')];
    const yv = num(r[header.indexOf('y')]);
    const sv = sigmaKnown ? num(r[header.indexOf('sigma')]) : 1;
    if (g === '' || yv === undefined || sv === undefined || !(sv > 0)) return 'input-error';
    if (!labels.includes(g)) labels.push(g);
    group.push(labels.indexOf(g));
    y.push(yv);
    if (sigmaKnown) sigma.push(sv);
  }
  return { ...(sigmaKnown ? {} : { likelihood: 'normal_sigma' }), y: Float64Array.from(y), group: Int32Array.from(group), sigma: Float64Array.from(sigma), K: labels.length, labels };
}

describe('data CSV (parseCsv)', () => {
  it('a damaged CSV gives InputError or exactly the data it holds', () => {
    fc.assert(
      fc.property(dataCsv, fc.array(anyMutation, { minLength: 1, maxLength: 3 }), (text, ms) => {
        const damaged = ms.reduce(mutate, text);
        const got = outcome(() => parseCsv(damaged, { source: 'fuzz.csv' }));
        const want = modelCsv(damaged);
        if (want === 'unknown') expect(got === 'input-error' || typeof got === 'object').toBe(true);
        else expect(got).toEqual(want);
      }),
      runs(300),
    );
  });
});

// ---------------------------------------------------------------------------------------
// Data JSON: damage that breaks the file, or changes nothing

const seedJson = fc
  .array(fc.record({ y: fc.double({ min: -100, max: 100, noNaN: true }), idx: fc.nat({ max: 4 }) }), { minLength: 1, maxLength: 10 })
  .map((obs) => ({ y: obs.map((o) => o.y), idx: obs.map((o) => o.idx), sigma: obs.map((_, i) => 1 + i / 10), K: 5 }));

type JsonDamage =
  | { kind: 'badValue'; key: 'y' | 'idx' | 'sigma'; at: number; value: unknown }
  | { kind: 'dropElement'; key: 'y' | 'idx' | 'sigma'; at: number }
  | { kind: 'dropKey'; key: 'y' | 'idx' }
  | { kind: 'extraKey'; name: string; value: unknown }
  | { kind: 'truncate'; at: number }
  | { kind: 'whitespace'; indent: number };

const notNumber = fc.oneof(fc.string({ maxLength: 8 }), fc.constant(null), fc.boolean(), fc.constant({}), fc.constant([1]), fc.constant(HUGE));
const jsonDamage: fc.Arbitrary<JsonDamage> = fc.oneof(
  fc.record({ kind: fc.constant('badValue' as const), key: fc.constantFrom('y' as const, 'idx' as const, 'sigma' as const), at: idx, value: notNumber }),
  fc.record({ kind: fc.constant('badValue' as const), key: fc.constantFrom('idx' as const), at: idx, value: fc.constantFrom(-1, 0.5, 5, 1e12) }),
  fc.record({ kind: fc.constant('badValue' as const), key: fc.constantFrom('sigma' as const), at: idx, value: fc.constantFrom(0, -1) }),
  fc.record({ kind: fc.constant('dropElement' as const), key: fc.constantFrom('y' as const, 'idx' as const, 'sigma' as const), at: idx }),
  fc.record({ kind: fc.constant('dropKey' as const), key: fc.constantFrom('y' as const, 'idx' as const) }),
  fc.record({ kind: fc.constant('extraKey' as const), name: fc.constantFrom('mu', 'tau', 'theta', 'comment', '\u001b'), value: fc.jsonValue({ maxDepth: 2 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: idx }),
  fc.record({ kind: fc.constant('whitespace' as const), indent: fc.nat({ max: 4 }) }),
);

/** Damaged text and whether it must be rejected (else it must read as the original). */
function damageJson(obj: { y: number[]; idx: number[]; sigma: number[]; K: number }, d: JsonDamage): { text: string; breaks: boolean } {
  const o: Record<string, unknown> = { ...obj, y: [...obj.y], idx: [...obj.idx], sigma: [...obj.sigma] };
  switch (d.kind) {
    case 'badValue': {
      const a = o[d.key] as unknown[];
      a[d.at % a.length] = d.value;
      return { text: JSON.stringify(o), breaks: true };
    }
    case 'dropElement': {
      const a = o[d.key] as unknown[];
      a.splice(d.at % a.length, 1);
      return { text: JSON.stringify(o), breaks: true };
    }
    case 'dropKey':
      delete o[d.key];
      return { text: JSON.stringify(o), breaks: true };
    case 'extraKey':
      o[d.name] = d.value;
      return { text: JSON.stringify(o), breaks: false };
    case 'truncate': {
      const text = JSON.stringify(o);
      return { text: text.slice(0, d.at % text.length), breaks: true };
    }
    case 'whitespace':
      return { text: JSON.stringify(o, null, d.indent) + '\n', breaks: false };
  }
}

describe('data JSON (parseSeedJson)', () => {
  it('damage gives InputError; harmless changes read the same data', () => {
    fc.assert(
      fc.property(seedJson, jsonDamage, (obj, d) => {
        const original = parseSeedJson(JSON.stringify(obj), { source: 'fuzz.json' });
        const { text, breaks } = damageJson(obj, d);
        const got = outcome(() => parseSeedJson(text, { source: 'fuzz.json' }));
        expect(got).toEqual(breaks ? 'input-error' : original);
      }),
      runs(300),
    );
  });
});

// ---------------------------------------------------------------------------------------
// Draws CSV and CmdStan CSV: damage that breaks the file, or changes nothing

/**
 * Mutations that either break a draws file or leave its content as it was. Swapped lines
 * are harmless in a draws CSV (rows are placed by their chain and draw columns), not in
 * CmdStan's (the line order is the draw order), so they are asked for there only.
 */
function structuralMutation(bodyFrom: number, swaps: boolean): fc.Arbitrary<Mutation> {
  const bodyLine = fc.nat({ max: 10_000 }).map((n) => bodyFrom + n);
  return fc.oneof(
    fc.record({ kind: fc.constant('deleteLine' as const), line: idx }),
    fc.record({ kind: fc.constant('duplicateLine' as const), line: idx }),
    ...(swaps ? [fc.record({ kind: fc.constant('swapLines' as const), a: bodyLine, b: bodyLine })] : []),
    fc.record({ kind: fc.constant('deleteCell' as const), line: idx, cell: idx }),
    fc.record({ kind: fc.constant('garbageCell' as const), line: bodyLine, cell: idx, garbage: garbage.map((g) => `x${g}`) }),
    fc.record({ kind: fc.constant('hugeCell' as const), line: bodyLine, cell: idx }),
    fc.constant({ kind: 'crlf' as const }),
  );
}

/**
 * The lines after `bodyFrom` wrap around inside the body only: a line index past the end
 * picks a body line, never the header or the comments above it.
 */
function mutateBody(text: string, m: Mutation, bodyFrom: number): string {
  const n = text.split('\n').length;
  const wrap = (i: number) => (i >= bodyFrom ? bodyFrom + ((i - bodyFrom) % Math.max(1, n - 1 - bodyFrom)) : i);
  const w: Mutation =
    m.kind === 'swapLines' ? { ...m, a: wrap(m.a), b: wrap(m.b) } : m.kind === 'garbageCell' || m.kind === 'hugeCell' ? { ...m, line: wrap(m.line) } : m;
  return mutate(text, w);
}

/**
 * The draws of a file cut short: equal to `want`'s, but for at most one cell (the last
 * one, cut to a prefix of its digits). A CSV holds no count of its rows, so a draws file
 * cut at a line end is indistinguishable from a complete one with fewer draws or chains:
 * `want` is then the reading of the intact lines.
 */
function expectSameOrCutLastCell(got: DrawsTable, want: DrawsTable): void {
  expect(got.chains).toBe(want.chains);
  expect(got.draws).toBe(want.draws);
  expect(Object.keys(got.params)).toEqual(Object.keys(want.params));
  const differing: string[] = [];
  const cols: [string, ArrayLike<number> | undefined, ArrayLike<number> | undefined][] = [
    ...Object.keys(want.params).map((k) => [k, got.params[k], want.params[k]] as [string, ArrayLike<number>, ArrayLike<number>]),
    ['energy', got.energy, want.energy],
    ['divergent', got.divergent, want.divergent],
    ['acceptProb', got.acceptProb, want.acceptProb],
  ];
  for (const [name, a, b] of cols) {
    expect(a === undefined, name).toBe(b === undefined);
    if (!a || !b) continue;
    for (let i = 0; i < b.length; i++) if (!Object.is(a[i], b[i])) differing.push(`${name}[${i}]`);
  }
  expect(differing.length, differing.join(' ')).toBeLessThanOrEqual(1);
}

const DRAWS_CSV = (() => {
  const lines = ['# written by a sampler', 'chain,draw,mu,tau,theta[1],lp__,energy__,divergent__,accept_stat__'];
  for (let c = 1; c <= 3; c++) {
    for (let d = 1; d <= 5; d++) {
      const v = (k: number) => (Math.sin(c * 11 + d * 3 + k) * 4).toFixed(5);
      lines.push([c, d, v(1), Math.abs(Number(v(2))).toFixed(5), v(3), v(4), v(5), (c + d) % 4 === 0 ? 1 : 0, (0.5 + d / 20).toFixed(3)].join(','));
    }
  }
  return lines.join('\n') + '\n';
})();

describe('draws CSV (parseDrawsCsv)', () => {
  const original = parseDrawsCsv(DRAWS_CSV, 'fuzz.csv');
  it('damage gives InputError; harmless changes (lines swapped, CRLF, comments) read the same data', () => {
    fc.assert(
      fc.property(fc.array(structuralMutation(2, true), { minLength: 1, maxLength: 2 }), (ms) => {
        const damaged = ms.reduce((t, m) => mutateBody(t, m, 2), DRAWS_CSV);
        const got = outcome(() => parseDrawsCsv(damaged, 'fuzz.csv'));
        if (got !== 'input-error') expect(got).toEqual(original);
      }),
      runs(300),
    );
  });

  it('a file cut short reads as its whole lines would, but for at most the cut cell', () => {
    fc.assert(
      fc.property(fc.nat({ max: DRAWS_CSV.length - 1 }), (at) => {
        const got = outcome(() => parseDrawsCsv(DRAWS_CSV.slice(0, at), 'fuzz.csv'));
        // The same file cut at the end of the line the cut falls in (or at the cut, when it
        // falls at a line's start): a shorter, intact file.
        const eol = at === 0 || DRAWS_CSV[at - 1] === '\n' ? at - 1 : DRAWS_CSV.indexOf('\n', at);
        const whole = outcome(() => parseDrawsCsv(DRAWS_CSV.slice(0, eol < 0 && at > 0 ? DRAWS_CSV.length : eol + 1), 'fuzz.csv'));
        if (whole === 'input-error') expect(got).toBe('input-error');
        else if (got !== 'input-error') expectSameOrCutLastCell(got, whole);
      }),
      runs(200),
    );
  });

  it('any damage at all: InputError or a table, never another error', () => {
    fc.assert(
      fc.property(fc.array(anyMutation, { minLength: 1, maxLength: 3 }), (ms) => {
        const got = outcome(() => parseDrawsCsv(ms.reduce(mutate, DRAWS_CSV), 'fuzz.csv'));
        if (got !== 'input-error') expect(got.chains * got.draws).toBeGreaterThan(0);
      }),
      runs(300),
    );
  });
});

/** One CmdStan chain: config comments, 3 saved warmup rows, the marker, 4 draws. */
function cmdstanChain(id: number): string {
  const header = 'lp__,accept_stat__,stepsize__,treedepth__,n_leapfrog__,divergent__,energy__,mu,tau,theta.1,theta.2';
  const row = (i: number) => {
    const v = (k: number) => (Math.cos(id * 5 + i * 1.3 + k) * 3).toFixed(4);
    return [v(0), (0.6 + i / 50).toFixed(3), '0.4', '2', '3', i % 3 === 0 ? 1 : 0, v(1), v(2), Math.abs(Number(v(3))).toFixed(4), v(4), v(5)].join(',');
  };
  return [
    '# stan_version_major = 2',
    '#     num_warmup = 3',
    '#     save_warmup = 1',
    '#     thin = 1 (Default)',
    `# id = ${id}`,
    header,
    row(1),
    row(2),
    row(3),
    '# Adaptation terminated',
    '# Step size = 0.4',
    '# Diagonal elements of inverse mass matrix:',
    '# 1, 1',
    row(4),
    row(5),
    row(6),
    row(7),
    '#  Elapsed Time: 0.1 seconds',
    '',
  ].join('\n');
}

describe('CmdStan CSV (parseCmdStanCsv)', () => {
  const files = [cmdstanChain(1), cmdstanChain(2)];
  const read = (texts: string[]) => cmdstanDrawsTable(texts.map((t, i) => parseCmdStanCsv(t, `chain_${i + 1}.csv`)));
  const original = read(files);
  // One change at a time: a CmdStan file numbers no draws, so a row deleted and another
  // repeated in the same file is a valid file with other draws, not detectable damage.
  it('damage to one chain\'s file gives InputError; harmless changes read the same draws', () => {
    fc.assert(
      fc.property(fc.nat({ max: 1 }), fc.array(structuralMutation(6, false), { minLength: 1, maxLength: 1 }), (which, ms) => {
        const texts = [...files];
        texts[which] = ms.reduce((t, m) => mutateBody(t, m, 6), texts[which]);
        const got = outcome(() => read(texts));
        if (got !== 'input-error') expect(got).toEqual(original);
      }),
      runs(300),
    );
  });

  it('a file cut short gives InputError, or the same draws with at most its last cell cut', () => {
    fc.assert(
      fc.property(fc.nat({ max: 1 }), fc.nat({ max: files[0].length - 1 }), (which, at) => {
        const texts = [...files];
        texts[which] = texts[which].slice(0, at);
        const got = outcome(() => read(texts));
        if (got !== 'input-error') expectSameOrCutLastCell(got, original);
      }),
      runs(200),
    );
  });

  it('any damage at all: InputError or a table, never another error', () => {
    fc.assert(
      fc.property(fc.array(anyMutation, { minLength: 1, maxLength: 3 }), (ms) => {
        const got = outcome(() => read([ms.reduce(mutate, files[0]), files[1]]));
        if (got !== 'input-error') expect(got.chains).toBe(2);
      }),
      runs(300),
    );
  });
});

// ---------------------------------------------------------------------------------------
// InferenceData: Zarr and netCDF

type StoreDamage =
  | { kind: 'deleteFile'; file: number }
  | { kind: 'truncateFile'; file: number; at: number }
  | { kind: 'growFile'; file: number; extra: Uint8Array }
  | { kind: 'flipMeta'; file: number; at: number; byte: number };

const storeDamage: fc.Arbitrary<StoreDamage> = fc.oneof(
  fc.record({ kind: fc.constant('deleteFile' as const), file: idx }),
  fc.record({ kind: fc.constant('truncateFile' as const), file: idx, at: idx }),
  fc.record({ kind: fc.constant('growFile' as const), file: idx, extra: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  fc.record({ kind: fc.constant('flipMeta' as const), file: idx, at: idx, byte: fc.nat({ max: 255 }) }),
);

const isMeta = (key: string) => /(^|\/)\.z(array|attrs|group|metadata)$/.test(key);

describe('InferenceData .zarr (readInferenceDataDraws)', () => {
  const z = join(dir, 'fuzz.zarr');
  const files = writeZarrStore(z);
  const keys = [...files.keys()].sort();
  const chunks = keys.filter((k) => !isMeta(k));
  const metas = keys.filter(isMeta);
  const want = expectedDraws();

  it('a deleted, cut or grown chunk, or a flipped metadata byte: InputError or the original draws', async () => {
    await fc.assert(
      fc.asyncProperty(storeDamage, async (d) => {
        const key = d.kind === 'flipMeta' ? metas[d.file % metas.length] : d.kind === 'deleteFile' ? keys[d.file % keys.length] : chunks[d.file % chunks.length];
        const path = join(z, key);
        const bytes = files.get(key)!;
        try {
          if (d.kind === 'deleteFile') unlinkSync(path);
          else if (d.kind === 'truncateFile') writeFileSync(path, bytes.subarray(0, d.at % bytes.length));
          else if (d.kind === 'growFile') writeFileSync(path, Buffer.concat([bytes, d.extra]));
          else {
            const b = Uint8Array.from(bytes);
            b[d.at % b.length] = d.byte;
            writeFileSync(path, b);
          }
          const got = await outcomeAsync(() => readInferenceDataDraws(z));
          // A deleted .zattrs of the root or a group, or .zgroup, or .zmetadata itself, loses nothing.
          if (got !== 'input-error') expect(got).toEqual(want);
          // Damage to chunks (no fill_value) and to array metadata is always caught.
          if (d.kind !== 'flipMeta' && !isMeta(key)) expect(got).toBe('input-error');
        } finally {
          writeFileSync(path, bytes);
        }
      }),
      runs(200),
    );
  });

  it('the xarray-written golden (Blosc): a chunk cut or grown, InputError or the original draws', async () => {
    const g = join(dir, 'golden.zarr');
    const { cpSync, readdirSync, statSync } = await import('node:fs');
    cpSync(join(root, 'test/golden/cmdstan_warmup.zarr'), g, { recursive: true });
    const want = await readInferenceDataDraws(g);
    const chunkFiles: string[] = [];
    for (const grp of ['posterior', 'sample_stats']) {
      for (const arr of readdirSync(join(g, grp))) {
        if (!statSync(join(g, grp, arr)).isDirectory()) continue;
        for (const f of readdirSync(join(g, grp, arr))) if (!f.startsWith('.')) chunkFiles.push(join(grp, arr, f));
      }
    }
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: chunkFiles.length - 1 }), fc.oneof(fc.nat({ max: 100_000 }).map((at) => ({ cut: at })), fc.uint8Array({ minLength: 1, maxLength: 8 }).map((extra) => ({ extra }))), async (f, d) => {
        const path = join(g, chunkFiles[f]);
        const bytes = readFileSync(path);
        try {
          writeFileSync(path, 'cut' in d ? bytes.subarray(0, d.cut % bytes.length) : Buffer.concat([bytes, d.extra]));
          const got = await outcomeAsync(() => readInferenceDataDraws(g));
          if (got !== 'input-error') expect(got).toEqual(want);
          if ('cut' in d) expect(got).toBe('input-error');
        } finally {
          writeFileSync(path, bytes);
        }
      }),
      runs(100),
    );
  });
});

describe('InferenceData .nc (readInferenceDataDraws)', () => {
  const nc = join(dir, 'fuzz.nc');

  it('cut short: InputError; bytes inserted or appended: InputError or the original draws', async () => {
    const bytes = await netcdfBytes();
    const want = expectedDraws();
    writeFileSync(nc, bytes);
    expect(await readInferenceDataDraws(nc)).toEqual(want);
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.nat({ max: bytes.length - 1 }).map((at) => ({ cut: at })),
          fc.record({ at: fc.nat({ max: bytes.length }), extra: fc.uint8Array({ minLength: 1, maxLength: 64 }) }),
        ),
        async (d) => {
          const damaged = 'cut' in d ? bytes.subarray(0, d.cut) : Buffer.concat([bytes.subarray(0, d.at), d.extra, bytes.subarray(d.at)]);
          writeFileSync(nc, damaged);
          const got = await outcomeAsync(() => readInferenceDataDraws(nc, { netcdfLimitMs: NETCDF_LIMIT_MS }));
          if ('cut' in d) expect(got).toBe('input-error');
          else if (got !== 'input-error') expect(got).toEqual(want);
        },
      ),
      runs(60),
    );
  });

  it('flipped bytes (own writer, and the zlib-compressed golden): InputError or a well-formed table', async () => {
    const sources = [await netcdfBytes(), new Uint8Array(readFileSync(join(root, 'test/golden/cmdstan_warmup.nc')))];
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: 1 }), fc.array(fc.record({ at: fc.nat({ max: 200_000 }), byte: fc.nat({ max: 255 }) }), { minLength: 1, maxLength: 4 }), async (s, flips) => {
        const b = Uint8Array.from(sources[s]);
        for (const f of flips) b[f.at % b.length] = f.byte;
        writeFileSync(nc, b);
        const got = await outcomeAsync(() => readInferenceDataDraws(nc, { netcdfLimitMs: NETCDF_LIMIT_MS }));
        if (got !== 'input-error') {
          expect(got.chains).toBeGreaterThan(0);
          for (const v of Object.values(got.params)) expect(v.length).toBe(got.chains * got.draws);
        }
      }),
      runs(60),
    );
  });
});

// ---------------------------------------------------------------------------------------
// The CLI on damaged files: exit 2, one line, no stack

describe('funnelweb diagnose on damaged files', () => {
  it('exit 2, one line on stderr, no stack trace, nothing on stdout', () => {
    const nc = readFileSync(join(root, 'test/golden/cmdstan_warmup.nc'));
    fc.assert(
      fc.property(fc.constantFrom('nc', 'csv', 'cmdstan'), fc.nat({ max: 1_000_000 }), (kind, n) => {
        const path = join(dir, `cli-${kind}.${kind === 'nc' ? 'nc' : 'csv'}`);
        if (kind === 'nc') writeFileSync(path, nc.subarray(0, 1 + (n % (nc.length - 1))));
        else if (kind === 'csv') writeFileSync(path, mutate(DRAWS_CSV, { kind: 'garbageCell', line: 2 + (n % 15), cell: n % 9, garbage: `x\u001b[2J${n}` }));
        else writeFileSync(path, mutate(cmdstanChain(1), { kind: 'deleteCell', line: [6, 7, 8, 13, 14, 15, 16][n % 7], cell: n % 11 }));
        const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/bin.ts', 'diagnose', path], { cwd: root, encoding: 'utf8', timeout: 60_000 });
        expect(r.status, r.stderr).toBe(2);
        expect(r.stdout).toBe('');
        expect(r.stderr).toMatch(/^funnelweb: error: [^\n]*\n$/);
        expect(r.stderr).not.toMatch(/\n\s+at |HDF5-DIAG|#000|Error:/);
        // eslint-disable-next-line no-control-regex
        expect(r.stderr.slice(0, -1)).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
      }),
      { numRuns: 3 },
    );
  });
});
