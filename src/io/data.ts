import { MAX_GROUPS, MAX_PREDICTORS, type HierData, type Predictors } from '../model/data.ts';
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
 * Three formats:
 * - seed JSON (the study's files): `{ "y": [...], "idx": [...], "K": 9, "sigma": 10 }`, a
 *   key per column of the family (a number for every observation, or an array of N);
 * - named-array JSON, as Stan and posteriordb have it (`{ "N": 919, "J": 85, "log_radon":
 *   [...], "county_idx": [...] }`), read when `LoadOptions.columns` is given or the file has a
 *   `group` key and no `idx`: arrays of N are columns, other keys are ignored;
 * - CSV with a header row naming the columns `group`, `y` and the family's columns.
 *
 * `LoadOptions.columns` maps FunnelWeb's column names to the file's (`y=log_radon`), and
 * `LoadOptions.predictors` names population-level predictors: further columns (CSV) or keys
 * (JSON), or products of them (`a:b`).
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
  /**
   * Population-level predictors (`--predictors`): each a column of the file (a CSV column, a
   * JSON array of N numbers) or a product of columns written `a:b` (`a:a` is a's square),
   * read into `HierData.predictors` in this order, named as given. Absent or empty: none (no
   * `predictors` key on the HierData).
   */
  readonly predictors?: readonly string[];
  /**
   * The file's names of FunnelWeb's columns (`--columns`): `{ y: 'log_radon', group:
   * 'county_idx', trials: 'N' }`; the targets are `y`, `group` and the family's columns
   * (`columnTargets`). Applies to CSV headers and JSON keys; given for a JSON file, the file
   * is read as named-array JSON (`parseSeedJson`).
   */
  readonly columns?: Readonly<Record<string, string>>;
}

/** FunnelWeb's column names that `LoadOptions.columns` may map for `family`: y, group and the family's columns. */
export function columnTargets(family: Family): string[] {
  return ['y', 'group', ...family.columns.map((c) => c.name)];
}

/**
 * Checks a column mapping (`LoadOptions.columns`) against the family's targets.
 *
 * @throws InputError naming `field`: an unknown target (the valid ones listed; one of another
 *   likelihood's says so), an empty file name, one file name for two targets.
 */
export function checkColumnMap(family: Family, map: Readonly<Record<string, string>>, field = '--columns'): void {
  const targets = columnTargets(family);
  const bySource = new Map<string, string>();
  for (const [target, source] of Object.entries(map)) {
    if (!targets.includes(target)) {
      const owner = otherFamilyWith(family, target);
      throw new InputError(
        field,
        `unknown column '${clip(target)}' to map${owner ? ` ('${clip(target)}' is a column of the ${owner.id} likelihood)` : ''}: the ${family.id} likelihood's columns are ${targets.map((t) => `'${t}'`).join(', ')}`,
      );
    }
    if (typeof source !== 'string' || source.trim() === '') throw new InputError(field, `${clip(target)}=: empty name of the file's column for '${clip(target)}'`);
    const other = bySource.get(source);
    if (other !== undefined) throw new InputError(field, `'${clip(source)}' is mapped to both '${other}' and '${clip(target)}': one of the file's columns can be only one of them`);
    bySource.set(source, target);
  }
}

/** One population-level predictor: its name as given and the file's columns whose product it is. */
export interface PredictorTerm {
  readonly name: string;
  readonly factors: readonly string[];
}

/**
 * Parses predictor names (`LoadOptions.predictors`): each a column name, or a product of
 * columns `a:b` (R's interaction syntax; `a:a` a square), spaces around names trimmed.
 *
 * @throws InputError naming `field`: an empty name, a name given twice (or the same product
 *   twice, `a:b` and `b:a`), more than MAX_PREDICTORS.
 */
export function parsePredictorTerms(names: readonly string[], field = '--predictors'): PredictorTerm[] {
  if (names.length > MAX_PREDICTORS) throw new InputError(field, `${names.length} predictors: at most ${MAX_PREDICTORS}`);
  const terms: PredictorTerm[] = [];
  const seen = new Map<string, string>();
  names.forEach((raw, p) => {
    const text = String(raw).trim();
    if (text === '') throw new InputError(field, `predictor ${p + 1} has an empty name`);
    const factors = text.split(':').map((f) => f.trim());
    if (factors.some((f) => f === '')) throw new InputError(field, `'${clip(text)}': an empty column name in a product (write a:b)`);
    const name = factors.join(':');
    const key = [...factors].sort().join(':');
    const before = seen.get(key);
    if (before !== undefined) {
      throw new InputError(field, before === name ? `'${clip(name)}' is given twice` : `'${clip(name)}' is the same product as '${clip(before)}'`);
    }
    seen.set(key, name);
    terms.push({ name, factors });
  });
  return terms;
}

/**
 * Checks that no file column is two of FunnelWeb's columns (after `--columns`) and that no
 * predictor's column is one the model reads otherwise: `sources` names the file's y, group
 * and family columns by their FunnelWeb name (`{ y: 'log_radon' }`).
 */
function checkPredictorSources(terms: readonly PredictorTerm[], sources: ReadonlyMap<string, string>): void {
  // One file column for two of FunnelWeb's (`--columns y=sigma` while sigma is read from 'sigma').
  const seen = new Map<string, string>();
  for (const [target, source] of sources) {
    const other = seen.get(source);
    if (other !== undefined) {
      const own = source === target ? target : source === other ? other : undefined;
      throw new InputError('--columns', `'${clip(source)}' would be both the ${other} and the ${target} column${own ? `: name the file's ${own} column too (--columns ${own}=NAME)` : ''}`);
    }
    seen.set(source, target);
  }
  for (const t of terms) {
    for (const f of t.factors) {
      for (const [target, source] of sources) {
        if (f === source) {
          throw new InputError(
            '--predictors',
            `'${clip(t.name)}': '${clip(f)}' is the ${target} column${source !== target ? ` (--columns ${target}=${clip(source)})` : ''}, not a predictor`,
          );
        }
      }
    }
  }
}

/**
 * The design matrix of `terms` (N x P, row-major) from the file's columns (`column(name)`:
 * N finite values, already checked).
 *
 * @throws InputError naming `--predictors`: a product that overflows, a predictor constant
 *   over all observations (collinear with the intercept mu).
 */
function designMatrix(terms: readonly PredictorTerm[], N: number, column: (name: string) => Float64Array): Predictors {
  const P = terms.length;
  const X = new Float64Array(N * P);
  terms.forEach((t, p) => {
    const cols = t.factors.map(column);
    let constant = true;
    for (let i = 0; i < N; i++) {
      let v = 1;
      for (const c of cols) v *= c[i];
      if (!Number.isFinite(v)) throw new InputError('--predictors', `'${clip(t.name)}' of observation ${i + 1} is not finite (the product overflows)`);
      X[i * P + p] = v;
      if (v !== X[p]) constant = false;
    }
    if (constant) {
      throw new InputError(
        '--predictors',
        `'${clip(t.name)}' is ${X[p]} for every observation: mu is the intercept (theta_k ~ Normal(mu, tau)), so a constant predictor ` +
          `only duplicates it and its coefficient is not identified; leave it out`,
      );
    }
  });
  return { names: terms.map((t) => t.name), X };
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
function hierData(family: Family, y: Float64Array, group: Int32Array, K: number, labels: string[], cols: Map<string, Float64Array>, predictors?: Predictors): HierData {
  const rest = [...cols].filter(([name]) => name !== 'sigma');
  return {
    ...(family.id !== DEFAULT_FAMILY.id ? { likelihood: family.id } : {}),
    y,
    group,
    sigma: cols.get('sigma') ?? new Float64Array(0),
    ...(rest.length > 0 ? { columns: Object.fromEntries(rest) } : {}),
    K,
    labels,
    ...(predictors ? { predictors } : {}),
  };
}

function indexLabels(K: number): string[] {
  return Array.from({ length: K }, (_, k) => String(k));
}

/**
 * Parses JSON data into validated `HierData`: the seed study's format, or named-array JSON as
 * Stan and posteriordb have it.
 *
 * **Seed format** (no `opts.columns`, and an `idx` key or no `group` key). Keys: `y` (array of
 * finite numbers, N >= 1; whole numbers >= 0 for a count family), `idx` (array of N 0-based
 * integer groups), `K` (optional positive integer; default max(idx) + 1), and one key per
 * column of the family (`opts.family`, default normal: `sigma`), each a number for every
 * observation or an array of N; a column the file does not give takes its CLI option's value
 * (`opts.options`, `opts.sigma`) or its default; normal data with neither a `sigma` key nor
 * `opts.sigma` are of the family that replaces it then, if one is registered
 * (`resolveFamily`). Extra keys (`mu`, `tau`, `theta`, ...) are ignored, except `N`, which
 * must equal the number of observations, and a column of another registered family (e.g.
 * `sigma` for binomial data), an error. Groups are labelled "0".."K-1"; groups without
 * observations are allowed.
 *
 * **Named-array format** (`opts.columns` given, or a `group` key and no `idx`): each of
 * FunnelWeb's columns is read from the key `opts.columns` maps it to, else from the key of its
 * own name (`y`, `sigma`, `trials`, ...). Only those keys and the predictors' are read; every
 * other key is ignored (Stan's sizes `N`, `J`, `I`, a scalar `n`). The group column holds
 * labels, as a CSV's does: K is the number of distinct values and the labels are the values
 * as text, in numeric order for numbers (Stan's 1..J), in order of first appearance for
 * strings. Without a group key (mapped, `group`, or an unmapped seed-style `idx`, read as in
 * the seed format) every observation is its own group, labelled "1".."N" (Stan's 1-based row
 * numbers).
 *
 * Predictors (`opts.predictors`, either format): keys holding arrays of N finite numbers, or
 * products of them (`a:b`).
 *
 * @throws InputError naming the key and element, e.g. `weak.json: idx[3]`; a flag's problem
 *   (`--columns`: a mapped key the file lacks; `--predictors`: a key it lacks, a constant
 *   predictor) names the flag.
 */
export function parseSeedJson(text: string, opts: LoadOptions = {}): HierData {
  const source = clip(opts.source ?? 'data.json', 200);
  const requested = opts.family ?? DEFAULT_FAMILY;
  const given = optionValues(requested, opts);
  const map = opts.columns ?? {};
  checkColumnMap(requested, map);
  const terms = parsePredictorTerms(opts.predictors ?? []);
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
  const has = (key: string) => Object.prototype.hasOwnProperty.call(obj, key) && obj[key] !== undefined;
  const named = opts.columns !== undefined || (!has('idx') && has('group'));
  const factors = new Set(terms.flatMap((t) => t.factors));
  if (!named) {
    for (const key of Object.keys(obj)) {
      if (keys.includes(key) || factors.has(key)) continue;
      const owner = otherFamilyWith(requested, key);
      if (owner) throw new InputError(at(key), `is a column of the ${owner.id} likelihood (--likelihood ${owner.id}), not of ${requested.id} (the ${requested.id} likelihood's keys: ${[...keys, 'K'].join(', ')})`);
    }
  }
  const keyList = () => {
    const all = Object.keys(obj);
    return all.length ? all.map((k) => `'${clip(k)}'`).join(', ') : 'none';
  };
  for (const [target, key] of Object.entries(map)) {
    if (!has(key)) throw new InputError('--columns', `${clip(target)}=${clip(key)}: ${source} has no key '${clip(key)}' (its keys: ${keyList()})`);
  }
  // The key of each of FunnelWeb's columns; the group's: its mapped key, else `group`
  // (named) or `idx` (0-based indices, as the seed format has them), else none.
  const src = (name: string): string => map[name] ?? name;
  const groupKey = map.group ?? (named && has('group') ? 'group' : has('idx') || !named ? 'idx' : undefined);
  const groupIndices = groupKey === 'idx' && map.group === undefined;
  const sources = new Map<string, string>([['y', src('y')], ...(groupKey !== undefined ? [['group', groupKey] as [string, string]] : []), ...requested.columns.map((c): [string, string] => [c.name, src(c.name)])]);
  checkPredictorSources(terms, sources);
  // Normal data without sigma: sigma is a parameter (`resolveFamily`).
  const family = resolveFamily(requested, (name) => has(src(name)) || given.has(name));

  const numberArray = (key: string, hint = ''): unknown[] => {
    const v = obj[key];
    if (v === undefined) throw new InputError(at(key), `missing required key${hint}`);
    if (!Array.isArray(v)) throw new InputError(at(key), `expected an array, got ${describe(v)}`);
    return v;
  };

  const yKey = src('y');
  const yRaw = numberArray(yKey, named ? ` (name the file's key of the observations with --columns y=NAME)` : '');
  const N = yRaw.length;
  if (N === 0) throw new InputError(at(yKey), 'no observations (empty data)');
  const y = new Float64Array(N);
  for (let i = 0; i < N; i++) {
    const v = yRaw[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new InputError(at(`${yKey}[${i}]`), `expected a finite number, got ${describe(v)}`);
    }
    const problem = yProblem(family, v);
    if (problem) throw new InputError(at(`${yKey}[${i}]`), problem);
    y[i] = v;
  }

  if (!named && obj.N !== undefined && obj.N !== N) {
    throw new InputError(at('N'), `is ${describe(obj.N)}, but y has ${N} observations`);
  }

  let group: Int32Array;
  let K: number;
  let labels: string[];
  if (groupKey === undefined) {
    // No group column: every observation is its own group, labelled by its 1-based row.
    if (N > MAX_GROUPS) throw new InputError(at(yKey), `${N} observations, each its own group (no group column): more than the ${MAX_GROUPS.toLocaleString('en-US')} groups a model may have`);
    group = Int32Array.from({ length: N }, (_, i) => i);
    K = N;
    labels = Array.from({ length: N }, (_, i) => String(i + 1));
  } else if (groupIndices) {
    ({ group, K } = seedGroups(obj, N, at));
    labels = indexLabels(K);
  } else {
    ({ group, K, labels } = labelGroups(numberArray(groupKey), groupKey, N, at));
  }

  const cols = new Map<string, Float64Array>();
  for (const spec of family.columns) {
    const name = spec.name;
    const key = src(name);
    const values = new Float64Array(N);
    const raw = obj[key];
    if (raw === undefined) {
      const v = given.get(name) ?? spec.value;
      if (v === undefined) {
        throw new InputError(at(key), `missing: the file gives no ${name}${spec.option ? ` and no ${spec.option} was given` : ''}${named ? ` (name its key with --columns ${name}=NAME)` : ''}`);
      }
      values.fill(v);
    } else if (typeof raw === 'number') {
      if (!Number.isFinite(raw) || columnProblem(spec, raw)) throw new InputError(at(key), `must be a finite ${boundedText(spec)}, got ${raw}`);
      values.fill(raw);
    } else if (Array.isArray(raw)) {
      if (raw.length !== N) throw new InputError(at(key), `has ${raw.length} entries, but y has ${N}`);
      for (let i = 0; i < N; i++) {
        const v = raw[i];
        if (typeof v !== 'number' || !Number.isFinite(v)) {
          throw new InputError(at(`${key}[${i}]`), `expected a finite ${boundedText(spec)}, got ${describe(v)}`);
        }
        const problem = columnProblem(spec, v);
        if (problem) throw new InputError(at(`${key}[${i}]`), problem);
        values[i] = v;
      }
    } else {
      throw new InputError(at(key), `expected a ${valueText(spec)} or an array of them, got ${describe(raw)}`);
    }
    cols.set(name, values);
  }
  checkObservations(family, y, cols, (i, column) => at(`${src(column)}[${i}]`));

  let predictors: Predictors | undefined;
  if (terms.length > 0) {
    const used = new Set(sources.values());
    const read = new Map<string, Float64Array>();
    const column = (key: string): Float64Array => {
      let c = read.get(key);
      if (c) return c;
      const raw = obj[key];
      if (!has(key)) {
        const avail = Object.keys(obj).filter((k) => !used.has(k) && Array.isArray(obj[k]) && (obj[k] as unknown[]).length === N);
        throw new InputError('--predictors', `'${clip(key)}' is not a key of ${source} (its other arrays of ${N}: ${avail.length ? avail.map((k) => `'${clip(k)}'`).join(', ') : 'none'})`);
      }
      if (!Array.isArray(raw)) throw new InputError(at(key), `expected an array of ${N} numbers (a predictor's value for each observation), got ${describe(raw)}`);
      if (raw.length !== N) throw new InputError(at(key), `has ${raw.length} entries, but y has ${N}`);
      c = new Float64Array(N);
      for (let i = 0; i < N; i++) {
        const v = raw[i];
        if (typeof v !== 'number' || !Number.isFinite(v)) throw new InputError(at(`${key}[${i}]`), `expected a finite number (predictor '${clip(key)}'), got ${describe(v)}`);
        c[i] = v;
      }
      read.set(key, c);
      return c;
    };
    predictors = designMatrix(terms, N, column);
  }

  return hierData(family, y, group, K, labels, cols, predictors);
}

/**
 * The seed format's groups: `idx` (N 0-based integers), `K` (optional; default max(idx) + 1).
 *
 * @throws InputError at `idx[i]` or `K`.
 */
function seedGroups(obj: Record<string, unknown>, N: number, at: (key: string) => string): { group: Int32Array; K: number } {
  const idxRaw = obj.idx;
  if (idxRaw === undefined) throw new InputError(at('idx'), 'missing required key');
  if (!Array.isArray(idxRaw)) throw new InputError(at('idx'), `expected an array, got ${describe(idxRaw)}`);
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
  return { group, K };
}

/**
 * Groups from a named-array JSON's group column of labels: all finite numbers (K distinct
 * values, labelled as text in numeric order: Stan's 1..J) or all non-empty strings (in order
 * of first appearance, as a CSV's).
 *
 * @throws InputError at `key[i]`: a value of neither kind, or of the other kind than the first.
 */
function labelGroups(raw: unknown[], key: string, N: number, at: (key: string) => string): { group: Int32Array; K: number; labels: string[] } {
  if (raw.length !== N) throw new InputError(at(key), `has ${raw.length} entries, but y has ${N}`);
  const numeric = typeof raw[0] === 'number';
  const index = new Map<number | string, number>();
  const order: (number | string)[] = [];
  for (let i = 0; i < N; i++) {
    const v = raw[i];
    const ok = numeric ? typeof v === 'number' && Number.isFinite(v) : typeof v === 'string' && v !== '';
    if (!ok) {
      throw new InputError(at(`${key}[${i}]`), `expected a group label (${numeric ? 'a finite number, as the first is' : 'a non-empty string, as the first is'}), got ${describe(v)}`);
    }
    if (!index.has(v as number | string)) {
      if (order.length >= MAX_GROUPS) throw new InputError(at(`${key}[${i}]`), `more than the ${MAX_GROUPS.toLocaleString('en-US')} groups a model may have`);
      index.set(v as number | string, order.length);
      order.push(v as number | string);
    }
  }
  if (numeric) {
    (order as number[]).sort((a, b) => a - b);
    order.forEach((v, k) => index.set(v, k));
  }
  const group = new Int32Array(N);
  for (let i = 0; i < N; i++) group[i] = index.get(raw[i] as number | string)!;
  return { group, K: order.length, labels: order.map((v) => String(v)) };
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
 * of the normal likelihood with sigma unknown (`resolveFamily`). `opts.columns` renames
 * them (`{ y: 'r', trials: 'n' }`: the file's column `r` is y). The predictors' columns
 * (`opts.predictors`) are read as numbers into `HierData.predictors`; any other column is an
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
  const map = opts.columns ?? {};
  checkColumnMap(requested, map);
  const terms = parsePredictorTerms(opts.predictors ?? []);
  // The file's name of each of FunnelWeb's columns (`--columns`), and back.
  const src = (name: string): string => map[name] ?? name;
  const names = csvColumns(requested);
  const fileNames = names.map(src);
  const targetOf = new Map(names.map((n) => [src(n), n]));
  checkPredictorSources(terms, new Map(names.map((n) => [n, src(n)])));
  const factors = new Set(terms.flatMap((t) => t.factors));
  const records = splitCsv(text, source);
  while (records.length > 0 && isBlank(records[records.length - 1])) records.pop();
  const headerField = `${source} header`;
  if (records.length === 0) {
    const shape = requested.columns.map((c) => (c.required && c.option === undefined && c.value === undefined ? `,${src(c.name)}` : `[,${src(c.name)}]`)).join('');
    throw new InputError(source, `empty file: expected a header row '${src('group')},${src('y')}${shape}${terms.length ? `,${[...factors].join(',')}` : ''}'`);
  }
  const header = records[0].cells;
  for (const [target, name] of Object.entries(map)) {
    if (!header.includes(name)) throw new InputError('--columns', `${clip(target)}=${clip(name)}: ${source} has no column '${clip(name)}' (its columns: ${header.map((h) => `'${clip(h)}'`).join(', ')})`);
  }
  for (const f of factors) {
    if (header.includes(f)) continue;
    const avail = header.filter((h) => !targetOf.has(h));
    throw new InputError('--predictors', `'${clip(f)}' is not a column of ${source} (its other columns: ${avail.length ? avail.map((h) => `'${clip(h)}'`).join(', ') : 'none'})`);
  }
  // FunnelWeb's columns and the predictors' by the index of their file column.
  const col = new Map<string, number>();
  const pcol = new Map<string, number>();
  header.forEach((name, j) => {
    const target = targetOf.get(name);
    if (target === undefined) {
      if (factors.has(name)) {
        if (pcol.has(name)) throw new InputError(`${headerField}, column ${j + 1}`, `duplicate column '${clip(name)}'`);
        pcol.set(name, j);
        return;
      }
      const owner = otherFamilyWith(requested, name);
      throw new InputError(
        `${headerField}, column ${j + 1}`,
        owner
          ? `column '${clip(name)}' belongs to the ${owner.id} likelihood (--likelihood ${owner.id}), not to ${requested.id} (the ${requested.id} likelihood's columns: ${fileNames.map((c) => `'${c}'`).join(', ')})`
          : `unknown column '${clip(name)}' (expected ${fileNames.map((c) => `'${c}'`).join(', ')}${terms.length ? ` or a predictor's` : ''})`,
      );
    }
    if (col.has(target)) throw new InputError(`${headerField}, column ${j + 1}`, `duplicate column '${clip(name)}'`);
    col.set(target, j);
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
  const preds = [...pcol].map(([name, j]) => ({ name, j, out: new Float64Array(N) }));
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
    if (label === '') throw new InputError(`${source} row ${r.line}, column '${src('group')}'`, 'empty group label');
    let k = labelIndex.get(label);
    if (k === undefined) {
      k = labels.length;
      if (k >= MAX_GROUPS) throw new InputError(`${source} row ${r.line}, column '${src('group')}'`, `more than the ${MAX_GROUPS.toLocaleString('en-US')} groups a model may have`);
      labels.push(label);
      labelIndex.set(label, k);
    }
    group[i] = k;
    y[i] = numberCell(r, jY, src('y'));
    const yBad = yProblem(family, y[i]);
    if (yBad) throw new InputError(`${source} row ${r.line}, column '${src('y')}'`, yBad);
    for (const { spec, j, out } of read) {
      const v = numberCell(r, j, src(spec.name));
      const problem = columnProblem(spec, v);
      if (problem) throw new InputError(`${source} row ${r.line}, column '${src(spec.name)}'`, problem);
      out[i] = v;
    }
    const p = family.checkObservation(y[i], columnValue);
    if (p) throw new InputError(`${source} row ${r.line}, column '${src(p.column)}'`, p.problem);
    for (const { name, j, out } of preds) out[i] = numberCell(r, j, name);
  }
  const byName = new Map(preds.map((p) => [p.name, p.out]));
  const predictors = terms.length > 0 ? designMatrix(terms, N, (name) => byName.get(name)!) : undefined;
  return hierData(family, y, group, labels.length, labels, cols, predictors);
}

/**
 * Reads a data file and parses it by extension: `.json` (seed or named-array format,
 * `parseSeedJson`) or `.csv` (`parseCsv`). Error fields name the file by its base name unless `opts.source`
 * is given.
 *
 * @throws InputError for an unreadable file, an unknown extension, or malformed data.
 */
export async function loadData(path: string, opts: LoadOptions = {}): Promise<HierData> {
  const { text, format, name } = await readDataFile(path);
  const o: LoadOptions = { ...opts, source: opts.source ?? name };
  return format === 'json' ? parseSeedJson(text, o) : parseCsv(text, o);
}

/**
 * A data file's text, its format by extension (.json or .csv) and base name, unparsed (`sbc`
 * and `sweep` send it to workers as it is).
 *
 * @throws InputError naming `--data`: another extension, or a file that cannot be read.
 */
export async function readDataFile(path: string): Promise<{ text: string; format: 'json' | 'csv'; name: string }> {
  // Node's modules are imported here, not at the top, so that the parsers bundle for the browser.
  const [{ readTextFile, ReadTextError }, { basename, extname }] = await Promise.all([import('./read_text.ts'), import('node:path')]);
  const ext = extname(path).toLowerCase();
  if (ext !== '.json' && ext !== '.csv') {
    throw new InputError('--data', `'${clip(path, 200)}': unsupported file type '${clip(ext) || '(none)'}', expected .json or .csv`);
  }
  try {
    return { text: await readTextFile(path), format: ext === '.json' ? 'json' : 'csv', name: basename(path) };
  } catch (err) {
    if (!(err instanceof ReadTextError)) throw err;
    throw new InputError('--data', `cannot read '${clip(path, 200)}': ${err.reason}`);
  }
}
