import { MAX_GROUPS, type HierData } from '../model/data.ts';
import { familyGlobals, type ColumnSpec, type Family } from '../model/family.ts';
import { DEFAULT_FAMILY, FAMILIES } from '../model/families/index.ts';
import { clip, InputError } from '../errors.ts';
import { splitCsvRecord } from './csv.ts';

/**
 * Loading and validation of observed data into `HierData`, for any likelihood family
 * (`src/model/families`): the family's `columns` (ColumnSpec) say which per-observation
 * columns the data has besides `group` and `y`, their bounds, and where a value may come from
 * when the file has no such column (the column's default `value`, or its CLI `option`).
 *
 * Two formats:
 * - seed JSON (the study's files): `{ "y": [...], "idx": [...], "K": 9, "sigma": 10 }`, a
 *   key per column of the family (a number for every observation, or an array of N);
 * - CSV with a header row naming the columns `group`, `y` and the family's columns.
 *
 * A registered family may stand for another when a column of it is missing
 * (`Family.replaces`), e.g. the normal likelihood's data without a `sigma` column (or key) and
 * without `--sigma`: the HierData then has that family's id as `likelihood` (and an empty
 * `sigma`).
 *
 * Every malformed input raises `InputError` whose `field` names the place precisely:
 * `weak.json: idx[3]`, `data.csv row 7, column 'y'`, `data.csv header`.
 */
export interface LoadOptions {
  /** The likelihood family whose columns the data has (default: normal). */
  readonly family?: Family;
  /**
   * One value for every observation of a column the file does not give, by the column's CLI
   * option (`{ '--sigma': 10 }`). An option that none of the family's columns has is an error
   * naming it.
   */
  readonly options?: Readonly<Record<string, number | undefined>>;
  /** Measurement sd of every observation when the file gives none: `options['--sigma']` (normal family). */
  readonly sigma?: number;
  /** Name used in error messages (default: the file's base name, or `data.json` / `data.csv`). */
  readonly source?: string;
}

/** Column names a CSV data file of the default (normal) family may have (case-sensitive, after trimming). */
export const CSV_COLUMNS = ['group', 'y', 'sigma'] as const;

/** The column names a CSV file of `family` may have: group, y and the family's columns. */
export function csvColumns(family: Family): string[] {
  return ['group', 'y', ...family.columns.map((c) => c.name)];
}

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

/** A column's bound in words: `> 0`, `>= 1`. */
export function boundText(spec: Pick<ColumnSpec, 'min' | 'exclusive'>): string {
  return `${spec.exclusive ? '>' : '>='} ${spec.min}`;
}

/** A column's value with its bound, in words: `number > 0`, `whole number >= 1`. */
export function boundedText(spec: Pick<ColumnSpec, 'min' | 'exclusive' | 'integer'>): string {
  return `${spec.integer ? 'whole number' : 'number'} ${boundText(spec)}`;
}

/** What a column holds, in words: `positive number` (> 0), `whole number >= 1`. */
export function valueText(spec: Pick<ColumnSpec, 'min' | 'exclusive' | 'integer'>): string {
  return spec.min === 0 && spec.exclusive ? `positive ${spec.integer ? 'whole number' : 'number'}` : boundedText(spec);
}

/** Why `v` (finite) is not a valid value of the column, or undefined when it is. */
export function columnProblem(spec: ColumnSpec, v: number): string | undefined {
  if (spec.integer && !Number.isInteger(v)) return `must be a whole number, got ${v}`;
  if (spec.exclusive ? !(v > spec.min) : !(v >= spec.min)) return `must be ${boundText(spec)}, got ${v}`;
  return undefined;
}

/** Why `y` (finite) is not a valid observation of the family, or undefined when it is. */
export function yProblem(family: Family, y: number): string | undefined {
  if (!family.yInteger) return undefined;
  if (!Number.isInteger(y)) return `must be a whole number (a count) for the ${family.id} likelihood, got ${y}`;
  if (y < 0) return `a count must be >= 0, got ${y}`;
  return undefined;
}

/** The family's columns in words for messages: `'trials'`, or `no other columns`. */
function columnList(family: Family): string {
  return family.columns.length ? family.columns.map((c) => `'${c.name}'`).join(', ') : 'no other columns';
}

/** The registered family other than `family` that has a column `name`, if any. */
function otherFamilyWith(family: Family, name: string): Family | undefined {
  return FAMILIES.find((f) => f.id !== family.id && f.columns.some((c) => c.name === name));
}

/**
 * The family the data are of: the registered family that declares it stands for `family` when
 * the column `replaces.whenMissing` is missing (`has(name)`: the file has the column or an
 * option gives it), or `family` itself. The normal likelihood without sigma is so the normal
 * likelihood with sigma unknown.
 */
export function resolveFamily(family: Family, has: (column: string) => boolean): Family {
  return FAMILIES.find((f) => f.replaces !== undefined && f.replaces.family === family.id && !has(f.replaces.whenMissing)) ?? family;
}

/**
 * The data's warnings in words (the CLI prints each as `warning: ...` on stderr before
 * sampling): a family global in y's units (`FamilyGlobal.logScaleOfY`, the residual sd)
 * that the data cannot inform because no group has 2 or more observations. Its posterior is
 * then proper (its prior), but only tau^2 + sigma^2 is identified by the data: what they
 * say of sigma is its prior's.
 */
export function dataWarnings(data: HierData): string[] {
  const family = FAMILIES.find((f) => f.id === (data.likelihood ?? DEFAULT_FAMILY.id));
  if (!family) return [];
  const scales = familyGlobals(family).filter((g) => g.logScaleOfY);
  if (scales.length === 0) return [];
  const n = new Int32Array(data.K);
  let repeated = false;
  for (let i = 0; i < data.group.length && !repeated; i++) repeated = ++n[data.group[i]] >= 2;
  if (repeated) return [];
  // Where the family stands for another without one of its columns: how to give that column instead.
  const r = family.replaces;
  const column = r && FAMILIES.find((f) => f.id === r.family)?.columns.find((c) => c.name === r.whenMissing);
  const instead = column ? `; where it is known, give it in a '${column.name}' column${column.option ? ` or with ${column.option}` : ''}` : '';
  return scales.map(
    (g) =>
      `${g.constrained.name} is informed by its prior alone: no group has 2 or more observations, so the data identify only tau^2 + ${g.constrained.name}^2 ` +
      `(its prior: ${g.prior.option}${instead})`,
  );
}

/**
 * The values of the family's columns given by CLI options (validated), by column name.
 *
 * @throws InputError naming the option: one that no column of the family has, or a value
 *   out of the column's bounds.
 */
function optionValues(family: Family, opts: LoadOptions): Map<string, number> {
  const given: Record<string, number | undefined> = { ...(opts.sigma !== undefined ? { '--sigma': opts.sigma } : {}), ...opts.options };
  const out = new Map<string, number>();
  for (const [flag, v] of Object.entries(given)) {
    if (v === undefined) continue;
    const spec = family.columns.find((c) => c.option === flag);
    if (!spec) {
      const owner = FAMILIES.find((f) => f.id !== family.id && f.columns.some((c) => c.option === flag));
      throw new InputError(
        flag,
        `the ${family.id} likelihood has no column that ${flag} gives${owner ? ` (${flag} belongs to the ${owner.id} likelihood)` : ''}; its columns: ${columnList(family)}`,
      );
    }
    if (typeof v !== 'number' || !Number.isFinite(v) || columnProblem(spec, v)) throw new InputError(flag, `must be a finite ${boundedText(spec)}, got ${String(v)}`);
    out.set(spec.name, v);
  }
  return out;
}

/** HierData from parsed arrays: the column named `sigma` is HierData's own field, the others go to `columns`. */
function hierData(family: Family, y: Float64Array, group: Int32Array, K: number, labels: string[], cols: Map<string, Float64Array>): HierData {
  const rest = [...cols].filter(([name]) => name !== 'sigma');
  return {
    ...(family.id !== DEFAULT_FAMILY.id ? { likelihood: family.id } : {}),
    y,
    group,
    sigma: cols.get('sigma') ?? new Float64Array(0),
    ...(rest.length > 0 ? { columns: Object.fromEntries(rest) } : {}),
    K,
    labels,
  };
}

function indexLabels(K: number): string[] {
  return Array.from({ length: K }, (_, k) => String(k));
}

/**
 * Parses the seed study's JSON format into validated `HierData`.
 *
 * Keys: `y` (array of finite numbers, N >= 1; whole numbers >= 0 for a count family), `idx`
 * (array of N 0-based integer groups), `K` (optional positive integer; default max(idx) + 1),
 * and one key per column of the family (`opts.family`, default normal: `sigma`), each a
 * number for every observation or an array of N; a column the file does not give takes its
 * CLI option's value (`opts.options`, `opts.sigma`) or its default; normal data with neither
 * a `sigma` key nor `opts.sigma` are of the family that replaces it then, if one is registered
 * (`resolveFamily`). Extra keys (`mu`, `tau`,
 * `theta`, ...) are ignored, except `N`, which must equal the number of observations, and a
 * column of another registered family (e.g. `sigma` for binomial data), an error. Groups are
 * labelled "0".."K-1"; groups without observations are allowed.
 *
 * @throws InputError naming the key and element, e.g. `weak.json: idx[3]`.
 */
export function parseSeedJson(text: string, opts: LoadOptions = {}): HierData {
  const source = clip(opts.source ?? 'data.json', 200);
  const requested = opts.family ?? DEFAULT_FAMILY;
  const given = optionValues(requested, opts);
  const at = (key: string) => `${source}: ${key}`;
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch (err) {
    throw new InputError(source, `invalid JSON (${clip((err as Error).message, 200)})`);
  }
  const keys = ['y', 'idx', ...requested.columns.map((c) => c.name)];
  if (typeof root !== 'object' || root === null || Array.isArray(root)) {
    throw new InputError(source, `expected a JSON object with keys ${keys.join(', ')}; got ${describe(root)}`);
  }
  const obj = root as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    if (keys.includes(key)) continue;
    const owner = otherFamilyWith(requested, key);
    if (owner) throw new InputError(at(key), `is a column of the ${owner.id} likelihood (--likelihood ${owner.id}), not of ${requested.id} (the ${requested.id} likelihood's keys: ${[...keys, 'K'].join(', ')})`);
  }
  // Normal data without sigma: sigma is a parameter (`resolveFamily`).
  const family = resolveFamily(requested, (name) => obj[name] !== undefined || given.has(name));

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
    const problem = yProblem(family, v);
    if (problem) throw new InputError(at(`y[${i}]`), problem);
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

  const cols = new Map<string, Float64Array>();
  for (const spec of family.columns) {
    const name = spec.name;
    const values = new Float64Array(N);
    const raw = obj[name];
    if (raw === undefined) {
      const v = given.get(name) ?? spec.value;
      if (v === undefined) {
        throw new InputError(at(name), `missing: the file gives no ${name}${spec.option ? ` and no ${spec.option} was given` : ''}`);
      }
      values.fill(v);
    } else if (typeof raw === 'number') {
      if (!Number.isFinite(raw) || columnProblem(spec, raw)) throw new InputError(at(name), `must be a finite ${boundedText(spec)}, got ${raw}`);
      values.fill(raw);
    } else if (Array.isArray(raw)) {
      if (raw.length !== N) throw new InputError(at(name), `has ${raw.length} entries, but y has ${N}`);
      for (let i = 0; i < N; i++) {
        const v = raw[i];
        if (typeof v !== 'number' || !Number.isFinite(v)) {
          throw new InputError(at(`${name}[${i}]`), `expected a finite ${boundedText(spec)}, got ${describe(v)}`);
        }
        const problem = columnProblem(spec, v);
        if (problem) throw new InputError(at(`${name}[${i}]`), problem);
        values[i] = v;
      }
    } else {
      throw new InputError(at(name), `expected a ${valueText(spec)} or an array of them, got ${describe(raw)}`);
    }
    cols.set(name, values);
  }
  checkObservations(family, y, cols, (i, column) => at(`${column}[${i}]`));

  return hierData(family, y, group, K, indexLabels(K), cols);
}

/**
 * Checks every observation with `family.checkObservation` (e.g. y <= trials).
 *
 * @throws InputError at `where(i, column)`.
 */
function checkObservations(family: Family, y: Float64Array, cols: Map<string, Float64Array>, where: (i: number, column: string) => string): void {
  let i = 0;
  const column = (name: string): number => {
    const c = cols.get(name);
    if (!c) throw new RangeError(`the ${family.id} likelihood asked for a column '${name}' it does not declare`);
    return c[i];
  };
  for (; i < y.length; i++) {
    const p = family.checkObservation(y[i], column);
    if (p) throw new InputError(where(i, p.column), p.problem);
  }
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
 * The header row names the columns `group`, `y` and the family's columns (`opts.family`,
 * default normal: `sigma`), in any order (case-sensitive, trimmed). A column of the family the
 * file does not have takes its CLI option's value (`opts.options`, `opts.sigma`) or its
 * default `value`, except that normal data with neither a `sigma` column nor `opts.sigma` are
 * of the normal likelihood with sigma unknown (`resolveFamily`); any other column is an
 * error (one of another registered family's, e.g. `sigma` in binomial data, says so). Groups
 * are string labels, numbered in order of first
 * appearance. Quoted fields follow RFC 4180. Blank lines at the end are ignored. y must be a
 * whole number >= 0 for a count family; each column is checked against its bounds and each
 * row with `family.checkObservation` (e.g. y <= trials).
 *
 * Rows are numbered as lines of the file, the header being row 1 (a quoted field spanning
 * lines makes its record's row the line where it starts).
 *
 * @throws InputError naming the row and column, e.g. `data.csv row 7, column 'y'`.
 */
export function parseCsv(text: string, opts: LoadOptions = {}): HierData {
  const source = clip(opts.source ?? 'data.csv', 200);
  const requested = opts.family ?? DEFAULT_FAMILY;
  const given = optionValues(requested, opts);
  const names = csvColumns(requested);
  const records = splitCsv(text, source);
  while (records.length > 0 && isBlank(records[records.length - 1])) records.pop();
  const headerField = `${source} header`;
  if (records.length === 0) {
    const shape = requested.columns.map((c) => (c.required && c.option === undefined && c.value === undefined ? `,${c.name}` : `[,${c.name}]`)).join('');
    throw new InputError(source, `empty file: expected a header row 'group,y${shape}'`);
  }
  const header = records[0].cells;
  const col = new Map<string, number>();
  header.forEach((name, j) => {
    if (!names.includes(name)) {
      const owner = otherFamilyWith(requested, name);
      throw new InputError(
        `${headerField}, column ${j + 1}`,
        owner
          ? `column '${clip(name)}' belongs to the ${owner.id} likelihood (--likelihood ${owner.id}), not to ${requested.id} (the ${requested.id} likelihood's columns: ${names.map((c) => `'${c}'`).join(', ')})`
          : `unknown column '${clip(name)}' (expected ${names.map((c) => `'${c}'`).join(', ')})`,
      );
    }
    if (col.has(name)) throw new InputError(`${headerField}, column ${j + 1}`, `duplicate column '${clip(name)}'`);
    col.set(name, j);
  });
  for (const required of ['group', 'y']) {
    if (!col.has(required)) throw new InputError(headerField, `missing required column '${required}'`);
  }
  // Normal data without sigma: sigma is a parameter (`resolveFamily`).
  const family = resolveFamily(requested, (name) => col.has(name) || given.has(name));
  // Each family column: read from the file, or one value for all (its option, else its default).
  const fill = new Map<string, number>();
  for (const spec of family.columns) {
    if (col.has(spec.name)) continue;
    const v = given.get(spec.name) ?? spec.value;
    if (v === undefined) throw new InputError(headerField, `no '${spec.name}' column${spec.option ? ` and no ${spec.option} was given` : ''}`);
    fill.set(spec.name, v);
  }

  const rows = records.slice(1);
  const N = rows.length;
  if (N === 0) throw new InputError(source, 'no observations (empty data): only a header row');
  const jGroup = col.get('group')!;
  const jY = col.get('y')!;
  const y = new Float64Array(N);
  const group = new Int32Array(N);
  const cols = new Map<string, Float64Array>(family.columns.map((c) => [c.name, new Float64Array(N)]));
  const read = family.columns.filter((c) => col.has(c.name)).map((spec) => ({ spec, j: col.get(spec.name)!, out: cols.get(spec.name)! }));
  for (const [name, v] of fill) cols.get(name)!.fill(v);
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

  let i = 0;
  const columnValue = (name: string): number => {
    const c = cols.get(name);
    if (!c) throw new RangeError(`the ${family.id} likelihood asked for a column '${name}' it does not declare`);
    return c[i];
  };
  for (; i < N; i++) {
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
    const yBad = yProblem(family, y[i]);
    if (yBad) throw new InputError(`${source} row ${r.line}, column 'y'`, yBad);
    for (const { spec, j, out } of read) {
      const v = numberCell(r, j, spec.name);
      const problem = columnProblem(spec, v);
      if (problem) throw new InputError(`${source} row ${r.line}, column '${spec.name}'`, problem);
      out[i] = v;
    }
    const p = family.checkObservation(y[i], columnValue);
    if (p) throw new InputError(`${source} row ${r.line}, column '${p.column}'`, p.problem);
  }
  return hierData(family, y, group, labels.length, labels, cols);
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
