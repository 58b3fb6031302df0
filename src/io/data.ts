import { MAX_GROUPS, type HierData } from '../model/data.ts';
import { clip, InputError } from '../errors.ts';
import { splitCsvRecord } from './csv.ts';

/**
 * Loading and validation of observed data into `HierData`.
 *
 * Two formats:
 * - seed JSON (the study's files): `{ "y": [...], "idx": [...], "K": 9, "sigma": 10 }`;
 * - CSV with a header row naming the columns `group`, `y` and optionally `sigma`.
 *
 * Every malformed input raises `InputError` whose `field` names the place precisely:
 * `weak.json: idx[3]`, `data.csv row 7, column 'y'`, `data.csv header`.
 */
export interface LoadOptions {
  /** Measurement sd of every observation when the file gives none (e.g. `--sigma`). */
  readonly sigma?: number;
  /** Name used in error messages (default: the file's base name, or `data.json` / `data.csv`). */
  readonly source?: string;
}

/** Column names a CSV data file may have (case-sensitive, after trimming). */
export const CSV_COLUMNS = ['group', 'y', 'sigma'] as const;

/**
 * Decimal number syntax accepted in CSV cells: optional sign, digits with an optional
 * fraction, optional exponent. Stricter than `Number()`, which also takes '', '0x1f',
 * 'Infinity' and whitespace.
 */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string "${clip(v, 40)}"`;
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${clip(String(v), 40)}`;
}

/** Validates the `--sigma` fallback; `undefined` stays `undefined`. */
function checkOptionSigma(sigma: number | undefined): number | undefined {
  if (sigma === undefined) return undefined;
  if (typeof sigma !== 'number' || !Number.isFinite(sigma) || !(sigma > 0)) {
    throw new InputError('--sigma', `must be a finite number > 0, got ${String(sigma)}`);
  }
  return sigma;
}

function indexLabels(K: number): string[] {
  return Array.from({ length: K }, (_, k) => String(k));
}

/**
 * Parses the seed study's JSON format into validated `HierData`.
 *
 * Keys: `y` (array of finite numbers, N >= 1), `idx` (array of N 0-based integer groups),
 * `K` (optional positive integer; default max(idx) + 1), `sigma` (a positive number, or an
 * array of N positive numbers; if absent, `opts.sigma` is used). Extra keys (`mu`, `tau`,
 * `theta`, ...) are ignored, except `N`, which must equal the number of observations.
 * Groups are labelled "0".."K-1"; groups without observations are allowed.
 *
 * @throws InputError naming the key and element, e.g. `weak.json: idx[3]`.
 */
export function parseSeedJson(text: string, opts: LoadOptions = {}): HierData {
  const source = clip(opts.source ?? 'data.json', 200);
  const optSigma = checkOptionSigma(opts.sigma);
  const at = (key: string) => `${source}: ${key}`;
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch (err) {
    throw new InputError(source, `invalid JSON (${clip((err as Error).message, 200)})`);
  }
  if (typeof root !== 'object' || root === null || Array.isArray(root)) {
    throw new InputError(source, `expected a JSON object with keys y, idx, sigma; got ${describe(root)}`);
  }
  const obj = root as Record<string, unknown>;

  const numberArray = (key: string): unknown[] => {
    const v = obj[key];
    if (v === undefined) throw new InputError(at(key), 'missing required key');
    if (!Array.isArray(v)) throw new InputError(at(key), `expected an array, got ${describe(v)}`);
    return v;
  };

  const yRaw = numberArray('y');
  const N = yRaw.length;
  if (N === 0) throw new InputError(at('y'), 'no observations (empty data)');
  const y = new Float64Array(N);
  for (let i = 0; i < N; i++) {
    const v = yRaw[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new InputError(at(`y[${i}]`), `expected a finite number, got ${describe(v)}`);
    }
    y[i] = v;
  }

  if (obj.N !== undefined && obj.N !== N) {
    throw new InputError(at('N'), `is ${describe(obj.N)}, but y has ${N} observations`);
  }

  const idxRaw = numberArray('idx');
  if (idxRaw.length !== N) throw new InputError(at('idx'), `has ${idxRaw.length} entries, but y has ${N}`);
  const group = new Int32Array(N);
  let maxIdx = -1;
  for (let i = 0; i < N; i++) {
    const v = idxRaw[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new InputError(at(`idx[${i}]`), `expected a 0-based integer group index, got ${describe(v)}`);
    }
    if (!Number.isInteger(v)) throw new InputError(at(`idx[${i}]`), `group index must be an integer, got ${v}`);
    if (v < 0) throw new InputError(at(`idx[${i}]`), `group index must be >= 0, got ${v}`);
    if (v >= MAX_GROUPS) throw new InputError(at(`idx[${i}]`), `group index ${v} is too large: at most ${MAX_GROUPS.toLocaleString('en-US')} groups`);
    group[i] = v;
    if (v > maxIdx) maxIdx = v;
  }

  let K = maxIdx + 1;
  if (obj.K !== undefined) {
    const k = obj.K;
    if (typeof k !== 'number' || !Number.isInteger(k) || k < 1) {
      throw new InputError(at('K'), `expected a positive integer number of groups, got ${describe(k)}`);
    }
    if (k > MAX_GROUPS) throw new InputError(at('K'), `${k} groups: more than the ${MAX_GROUPS.toLocaleString('en-US')} a model may have`);
    if (maxIdx >= k) {
      const i = group.findIndex((g) => g >= k);
      throw new InputError(at(`idx[${i}]`), `group index ${group[i]} is out of range 0..${k - 1} (K = ${k})`);
    }
    K = k;
  }

  const sigma = new Float64Array(N);
  const sRaw = obj.sigma;
  if (sRaw === undefined) {
    if (optSigma === undefined) {
      throw new InputError(at('sigma'), 'missing: the file gives no sigma and no --sigma was given');
    }
    sigma.fill(optSigma);
  } else if (typeof sRaw === 'number') {
    if (!Number.isFinite(sRaw) || !(sRaw > 0)) throw new InputError(at('sigma'), `must be a finite number > 0, got ${sRaw}`);
    sigma.fill(sRaw);
  } else if (Array.isArray(sRaw)) {
    if (sRaw.length !== N) throw new InputError(at('sigma'), `has ${sRaw.length} entries, but y has ${N}`);
    for (let i = 0; i < N; i++) {
      const v = sRaw[i];
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        throw new InputError(at(`sigma[${i}]`), `expected a finite number > 0, got ${describe(v)}`);
      }
      if (!(v > 0)) throw new InputError(at(`sigma[${i}]`), `must be > 0, got ${v}`);
      sigma[i] = v;
    }
  } else {
    throw new InputError(at('sigma'), `expected a positive number or an array of them, got ${describe(sRaw)}`);
  }

  return { y, group, sigma, K, labels: indexLabels(K) };
}

/** One CSV record: its cells and the 1-based line on which it starts. */
interface CsvRecord {
  readonly cells: string[];
  readonly line: number;
}

/**
 * Splits CSV text into records (RFC 4180): fields separated by commas, records by LF or
 * CRLF; a field in double quotes may hold commas, newlines and doubled quotes (`""`).
 * Unquoted fields are trimmed; spaces around a quoted field are ignored. A leading BOM
 * is dropped. Blank lines are returned as records with a single empty cell.
 */
function splitCsv(text: string, source: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  const fail = (at: number, what: string): never => {
    throw new InputError(`${source} row ${at}`, what);
  };
  while (i < text.length) {
    const r = splitCsvRecord(text, i, line, fail, 'reject');
    records.push({ cells: r.fields, line });
    line += r.newlines + 1;
    i = r.end;
  }
  return records;
}

function isBlank(r: CsvRecord): boolean {
  return r.cells.length === 1 && r.cells[0] === '';
}

/**
 * Parses CSV data into validated `HierData`.
 *
 * The header row names the columns `group` and `y`, and optionally `sigma`, in any order
 * (case-sensitive, trimmed). Groups are string labels, numbered in order of first
 * appearance. Without a `sigma` column, `opts.sigma` is used for every observation.
 * Quoted fields follow RFC 4180. Blank lines at the end are ignored.
 *
 * Rows are numbered as lines of the file, the header being row 1 (a quoted field spanning
 * lines makes its record's row the line where it starts).
 *
 * @throws InputError naming the row and column, e.g. `data.csv row 7, column 'y'`.
 */
export function parseCsv(text: string, opts: LoadOptions = {}): HierData {
  const source = clip(opts.source ?? 'data.csv', 200);
  const optSigma = checkOptionSigma(opts.sigma);
  const records = splitCsv(text, source);
  while (records.length > 0 && isBlank(records[records.length - 1])) records.pop();
  const headerField = `${source} header`;
  if (records.length === 0) throw new InputError(source, "empty file: expected a header row 'group,y[,sigma]'");
  const header = records[0].cells;
  const col = new Map<string, number>();
  header.forEach((name, j) => {
    if (!(CSV_COLUMNS as readonly string[]).includes(name)) {
      throw new InputError(
        `${headerField}, column ${j + 1}`,
        `unknown column '${clip(name)}' (expected ${CSV_COLUMNS.map((c) => `'${c}'`).join(', ')})`,
      );
    }
    if (col.has(name)) throw new InputError(`${headerField}, column ${j + 1}`, `duplicate column '${clip(name)}'`);
    col.set(name, j);
  });
  for (const required of ['group', 'y']) {
    if (!col.has(required)) throw new InputError(headerField, `missing required column '${required}'`);
  }
  const hasSigma = col.has('sigma');
  if (!hasSigma && optSigma === undefined) {
    throw new InputError(headerField, "no 'sigma' column and no --sigma was given");
  }

  const rows = records.slice(1);
  const N = rows.length;
  if (N === 0) throw new InputError(source, 'no observations (empty data): only a header row');
  const jGroup = col.get('group')!;
  const jY = col.get('y')!;
  const jSigma = col.get('sigma');
  const y = new Float64Array(N);
  const sigma = new Float64Array(N);
  const group = new Int32Array(N);
  const labels: string[] = [];
  const labelIndex = new Map<string, number>();

  const numberCell = (r: CsvRecord, j: number, name: string): number => {
    const t = r.cells[j];
    const field = `${source} row ${r.line}, column '${name}'`;
    if (t === '') throw new InputError(field, 'empty cell, expected a number');
    if (!DECIMAL.test(t)) throw new InputError(field, `'${clip(t)}' is not a number`);
    const v = Number(t);
    if (!Number.isFinite(v)) throw new InputError(field, `'${clip(t)}' is not finite`);
    return v;
  };

  for (let i = 0; i < N; i++) {
    const r = rows[i];
    if (isBlank(r)) throw new InputError(`${source} row ${r.line}`, 'blank line inside the data');
    if (r.cells.length !== header.length) {
      throw new InputError(`${source} row ${r.line}`, `has ${r.cells.length} fields, the header has ${header.length}`);
    }
    const label = r.cells[jGroup];
    if (label === '') throw new InputError(`${source} row ${r.line}, column 'group'`, 'empty group label');
    let k = labelIndex.get(label);
    if (k === undefined) {
      k = labels.length;
      if (k >= MAX_GROUPS) throw new InputError(`${source} row ${r.line}, column 'group'`, `more than the ${MAX_GROUPS.toLocaleString('en-US')} groups a model may have`);
      labels.push(label);
      labelIndex.set(label, k);
    }
    group[i] = k;
    y[i] = numberCell(r, jY, 'y');
    if (jSigma !== undefined) {
      const s = numberCell(r, jSigma, 'sigma');
      if (!(s > 0)) throw new InputError(`${source} row ${r.line}, column 'sigma'`, `must be > 0, got ${s}`);
      sigma[i] = s;
    } else {
      sigma[i] = optSigma!;
    }
  }
  return { y, group, sigma, K: labels.length, labels };
}

/**
 * Reads a data file and parses it by extension: `.json` (seed format, `parseSeedJson`) or
 * `.csv` (`parseCsv`). Error fields name the file by its base name unless `opts.source`
 * is given.
 *
 * @throws InputError for an unreadable file, an unknown extension, or malformed data.
 */
export async function loadData(path: string, opts: LoadOptions = {}): Promise<HierData> {
  // Node's modules are imported here, not at the top, so that the parsers bundle for the browser.
  const [{ readTextFile, ReadTextError }, { basename, extname }] = await Promise.all([import('./read_text.ts'), import('node:path')]);
  const ext = extname(path).toLowerCase();
  if (ext !== '.json' && ext !== '.csv') {
    throw new InputError('--data', `'${clip(path, 200)}': unsupported file type '${clip(ext) || '(none)'}', expected .json or .csv`);
  }
  let text: string;
  try {
    text = await readTextFile(path);
  } catch (err) {
    if (!(err instanceof ReadTextError)) throw err;
    throw new InputError('--data', `cannot read '${clip(path, 200)}': ${err.reason}`);
  }
  const o: LoadOptions = { ...opts, source: opts.source ?? basename(path) };
  return ext === '.json' ? parseSeedJson(text, o) : parseCsv(text, o);
}
