/**
 * Where the page's data come from: the study's three seed data sets (bundled as text), the
 * classic eight schools, the surgical mortality data (binomial), the Minnesota radon data with
 * two population-level predictors (posteriordb's `radon_mn`), the generator (`generate.ts`,
 * any likelihood family), or text the modeller pastes or uploads, in the seed JSON format
 * (or named-array JSON, as Stan and posteriordb have it) or as CSV `group,y` and the family's
 * columns. Pasted data and the radon set may name predictors (the form's "predictors", as
 * the CLI's `--predictors`: columns, `a:b` products) and pasted data a column mapping (as
 * `--columns`: `y=log_radon,group=county_idx`). Parsing is `src/io/data.ts`'s, so the page
 * reports the same `InputError`s as the CLI (naming the form's field where the CLI names a
 * flag: `predictors`, `columns`).
 */
import { checkColumnMap, columnTargets, parseCsv, parsePredictorTerms, parseSeedJson, type LoadOptions } from '../src/io/data.ts';
import type { HierData } from '../src/model/data.ts';
import { familyGlobals, type Family } from '../src/model/family.ts';
import { FAMILIES, familyOf } from '../src/model/families/index.ts';
import { clip, InputError } from '../src/errors.ts';
import { generateData, type GeneratorSettings } from './generate.ts';
import weakJson from './data/weak.json?raw';
import strongJson from './data/strong.json?raw';
import unbalancedJson from './data/unbalanced.json?raw';
import surgicalCsv from './data/surgical.csv?raw';
import radonJson from './data/radon_mn.json?raw';

export const SEED_SETS = {
  weak: { text: weakJson, note: 'Weakly informed groups: one noisy observation each (sigma = 10)' },
  strong: { text: strongJson, note: 'Strongly informed groups: one precise observation each (sigma = 0.1)' },
  unbalanced: { text: unbalancedJson, note: 'Unbalanced groups: 10, 5, 1000, 10, 1, 5, 100, 10, 5 observations (sigma = 10)' },
} as const;

export type SeedName = keyof typeof SEED_SETS;

/**
 * The eight schools (Rubin 1981; Gelman et al., Bayesian Data Analysis, 3rd ed., table 5.2):
 * estimated coaching effects y_j with standard errors sigma_j, one "observation" per school.
 */
export const EIGHT_SCHOOLS = {
  labels: ['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H'],
  y: [28, 8, -3, 7, -1, 1, 18, 12],
  sigma: [15, 10, 16, 11, 9, 11, 10, 18],
} as const;

export function eightSchools(): HierData {
  const K = EIGHT_SCHOOLS.y.length;
  return {
    y: Float64Array.from(EIGHT_SCHOOLS.y),
    group: Int32Array.from({ length: K }, (_, k) => k),
    sigma: Float64Array.from(EIGHT_SCHOOLS.sigma),
    K,
    labels: [...EIGHT_SCHOOLS.labels],
  };
}

/**
 * Surgical mortality in 12 hospitals (Spiegelhalter et al., BUGS Examples Volume 1,
 * "Surgical: institutional ranking"): deaths y_j among n_j cardiac operations on babies,
 * one binomial observation per hospital; the CLI's `demo/data/surgical.csv`.
 */
export const SURGICAL = { text: surgicalCsv, likelihood: 'binomial' } as const;

export function surgical(): HierData {
  return parseCsv(SURGICAL.text, { source: 'surgical.csv', family: familyOf(SURGICAL.likelihood) });
}

/**
 * The Minnesota radon data (Gelman & Hill 2007; posteriordb's `radon_mn`, unchanged): log
 * radon of 919 houses in 85 counties, with the county's log uranium (`log_uppm`, constant
 * within a county) and the floor of the measurement (`floor_measure`: 0 basement, 1 first
 * floor), read as named-array JSON with the CLI's `--columns y=log_radon,group=county_idx`.
 * No sigma: the normal likelihood with sigma unknown. The form's predictors start at
 * posteriordb's model's two (`radon_hierarchical_intercept`).
 */
export const RADON = {
  text: radonJson,
  source: 'radon_mn.json',
  likelihood: 'normal_sigma',
  columns: { y: 'log_radon', group: 'county_idx' },
  predictors: 'log_uppm,floor_measure',
} as const;

/** The radon data with the predictors `predictors` names (the form's text; absent: RADON's own, blank: none). */
export function radon(predictors: string = RADON.predictors): HierData {
  return relabelled(() =>
    parseSeedJson(RADON.text, { source: RADON.source, family: familyOf('normal'), columns: RADON.columns, ...predictorOption(predictors) }),
  );
}

/**
 * The parameterization the study found best for each seed set (SEED.md): non-centered for
 * weak data, centered for strong data, groups 2 and 6 centered for unbalanced data.
 */
export const RECOMMENDED_PARAMETERIZATION: Record<SeedName, string> = {
  weak: 'noncentered',
  strong: 'centered',
  unbalanced: 'mixed:2,6',
};

export function isSeedName(name: string): name is SeedName {
  return Object.hasOwn(SEED_SETS, name);
}

export function seedData(name: SeedName): HierData {
  return parseSeedJson(SEED_SETS[name].text, { source: `${name}.json` });
}

/** The true parameters behind simulated data: mu, tau and the family's globals on their natural scale, by constrained name (`sigma`). */
export interface Truth {
  readonly mu: number;
  readonly tau: number;
  readonly globals?: Readonly<Record<string, number>>;
}

/** A data set with what is known of the truth behind it (the simulated sets know their mu and tau). */
export interface DataChoice {
  readonly data: HierData;
  readonly note: string;
  readonly truth?: Truth;
}

export type DataSourceName = SeedName | 'eight' | 'surgical' | 'radon' | 'generated' | 'custom';

/** The sources whose data may have predictors (the form shows the predictors input for them). */
export function takesPredictors(name: string): boolean {
  return name === 'custom' || name === 'radon';
}

/** The likelihood of a data source whose data fix it (the bundled sets); undefined where the form's choice applies. */
export function fixedLikelihood(name: DataSourceName): string | undefined {
  if (isSeedName(name) || name === 'eight') return familyOf(undefined).id;
  if (name === 'surgical') return SURGICAL.likelihood;
  if (name === 'radon') return RADON.likelihood;
  return undefined;
}

/** What `chooseData` needs besides the source's name. */
export interface DataInputs {
  readonly generator: GeneratorSettings;
  readonly text: string;
  readonly textSource: string;
  /** The likelihood of pasted or uploaded data (default: normal). */
  readonly likelihood?: string;
  /** A value for every observation of a column the text does not give, by column name (e.g. sigma). */
  readonly fallback?: Readonly<Record<string, number>>;
  /** The form's predictors (`x1,x2,x1:x2`; blank: none), for pasted data and the radon set (absent there: its own two). */
  readonly predictors?: string;
  /** The form's column mapping for pasted data (`y=log_radon,group=county_idx`; blank: none). */
  readonly columns?: string;
}

/** The chosen data set, parsed and validated (throws InputError with the CLI's messages). */
export function chooseData(name: DataSourceName, inputs: DataInputs): DataChoice {
  if (isSeedName(name)) {
    const raw = JSON.parse(SEED_SETS[name].text) as { mu: number; tau: number };
    return { data: seedData(name), note: SEED_SETS[name].note, truth: { mu: raw.mu, tau: raw.tau } };
  }
  if (name === 'eight') return { data: eightSchools(), note: 'Eight schools (Rubin 1981): coaching effects and their standard errors' };
  if (name === 'surgical') return { data: surgical(), note: 'Surgical mortality (BUGS examples): deaths in cardiac operations at 12 hospitals' };
  if (name === 'radon') {
    return {
      data: radon(inputs.predictors),
      note: 'Minnesota radon (Gelman & Hill; posteriordb radon_mn): log radon of 919 houses in 85 counties; columns log_uppm (county log uranium) and floor_measure (0 basement, 1 first floor)',
    };
  }
  if (name === 'generated') {
    const g = inputs.generator;
    const sizes = g.nLo === g.nHi ? `${g.nLo}` : `${g.nLo} to ${g.nHi}`;
    const cols = Object.entries(g.columns).map(([c, v]) => `${c} = ${v}, `).join('');
    const globals = Object.entries(g.globals).map(([c, v]) => `, ${c} = ${v}`).join('');
    const hasGlobals = Object.keys(g.globals).length > 0;
    return {
      data: generateData(g).data,
      note: `Generated (${g.likelihood}): K = ${g.K}, ${sizes} observations per group, ${cols}true mu = ${g.mu}, tau = ${g.tau}${globals}, seed ${g.seed}`,
      truth: { mu: g.mu, tau: g.tau, ...(hasGlobals && { globals: { ...g.globals } }) },
    };
  }
  return {
    data: parseDataText(inputs.text, inputs.textSource, inputs.likelihood, inputs.fallback, { predictors: inputs.predictors, columns: inputs.columns }),
    note: `Your data (${inputs.textSource})`,
  };
}

/** The CSV header a family's data have: `group,y,sigma`, `group,y,trials`. */
export function csvHeader(family: Family): string {
  return ['group', 'y', ...family.columns.map((c) => c.name)].join(',');
}

/**
 * The family whose columns the loader reads for data of `family`: the family it stands for
 * where it replaces one when a column is missing (`Family.replaces`: the normal likelihood
 * with unknown sigma reads as the normal likelihood, and the loader resolves which one the
 * data are from the sigma column), else `family` itself.
 */
export function loaderFamily(family: Family): Family {
  return family.replaces ? familyOf(family.replaces.family) : family;
}

/**
 * The families that stand for `family` when one of its columns is missing (`replaces`), with
 * that column: for the normal likelihood, the one with unknown sigma.
 */
export function replacements(family: Family): { family: Family; whenMissing: string }[] {
  return FAMILIES.filter((f) => f.replaces?.family === family.id).map((f) => ({ family: f, whenMissing: f.replaces!.whenMissing }));
}

/**
 * The likelihood choice's label of a family: a family that another replaces when its column
 * c is missing says `c known`, the replacing one `c unknown` (`normal, sigma known`,
 * `normal, sigma unknown`); each with its link.
 */
export function likelihoodLabel(family: Family): string {
  const link = `(${family.link} link)`;
  if (family.replaces) return `${family.replaces.family}, ${family.replaces.whenMissing} unknown ${link}`;
  const missing = replacements(family).map((r) => r.whenMissing);
  return missing.length > 0 ? `${family.id}, ${missing.join(', ')} known ${link}` : `${family.id} ${link}`;
}

/**
 * Parses pasted or uploaded text: a JSON object (first non-blank character `{`) in the seed
 * format, anything else as CSV, with the columns of `likelihood`'s family (`loaderFamily`:
 * for the normal likelihood with sigma known or unknown, the normal one's). `fallback` gives
 * a column's value for every observation when the text has none (the form's "sigma when the
 * data give none"); a column without one must be in the text, unless it has a default or a
 * family replaces this one when it is missing (the loader then returns data of that family:
 * `Family.replaces`).
 *
 * @throws InputError naming the file, row and column (or key) at fault.
 */
export function parseDataText(
  text: string,
  source: string,
  likelihood?: string,
  fallback: Readonly<Record<string, number>> = {},
  model: { readonly predictors?: string; readonly columns?: string } = {},
): HierData {
  const family = loaderFamily(familyOf(likelihood, 'likelihood'));
  const trimmed = text.trimStart();
  if (trimmed === '') throw new InputError(source, `no data: paste CSV (${csvHeader(family)}) or seed JSON, or choose a file`);
  const options: Record<string, number> = {};
  for (const c of family.columns) if (c.option !== undefined && fallback[c.name] !== undefined) options[c.option] = fallback[c.name];
  const columns = parseColumnsText(model.columns ?? '', family);
  const opts: LoadOptions = { source, family, options, ...predictorOption(model.predictors ?? ''), ...(columns && { columns }) };
  return relabelled(() => (trimmed.startsWith('{') ? parseSeedJson(text, opts) : parseCsv(text, opts)));
}

/** The form's fields for what the CLI's flags give: the predictors and the column mapping. */
const FORM_FIELDS: Readonly<Record<string, string>> = { '--predictors': 'predictors', '--columns': 'columns' };

/**
 * Runs a loader, naming the form's field in an InputError where the loader names the CLI's
 * flag (`--predictors: 'zz' is not a column ...` -> `predictors: 'zz' is not a column ...`).
 */
function relabelled<T>(load: () => T): T {
  try {
    return load();
  } catch (err) {
    const field = err instanceof InputError ? FORM_FIELDS[err.field] : undefined;
    if (field === undefined) throw err;
    throw new InputError(field, (err as InputError).message.slice((err as InputError).field.length + 2));
  }
}

/**
 * The form's predictors (`x1, x2, x1:x2`): names split at commas and trimmed, checked as the
 * CLI's `--predictors` (`parsePredictorTerms`: none empty, none twice, at most 16); blank
 * text: none.
 *
 * @throws InputError naming `predictors`.
 */
export function parsePredictorsText(text: string): string[] {
  if (text.trim() === '') return [];
  return parsePredictorTerms(text.split(','), 'predictors').map((t) => t.name);
}

/** The loader's `predictors` option from the form's text (none: no option). */
function predictorOption(text: string): Pick<LoadOptions, 'predictors'> {
  const names = parsePredictorsText(text);
  return names.length > 0 ? { predictors: names } : {};
}

/**
 * The form's column mapping (`y=log_radon, group=county_idx`), as the CLI's `--columns`:
 * FunnelWeb's column name = the data's, pairs separated by commas, checked against `family`
 * (`checkColumnMap`); blank text: none (undefined).
 *
 * @throws InputError naming `columns`: an entry without `=` or with an empty side, a column
 *   mapped twice, an unknown column (the likelihood's listed), one name for two columns.
 */
export function parseColumnsText(text: string, family: Family): Record<string, string> | undefined {
  if (text.trim() === '') return undefined;
  const form = `expected T=NAME pairs separated by commas, T one of ${columnTargets(family).join(', ')} (e.g. y=log_radon,group=county_idx)`;
  const map: Record<string, string> = {};
  for (const part of text.split(',')) {
    const m = /^([^=]*)=([^=]*)$/.exec(part.trim());
    if (!m || m[1].trim() === '' || m[2].trim() === '') throw new InputError('columns', `'${clip(part.trim())}': ${form}`);
    const target = m[1].trim();
    if (Object.hasOwn(map, target)) throw new InputError('columns', `'${clip(target)}' is mapped twice`);
    map[target] = m[2].trim();
  }
  checkColumnMap(family, map, 'columns');
  return map;
}

/** A column's values: `sigma` is HierData's own field, the others are in `columns`. */
export function columnValues(data: HierData, name: string): Float64Array | undefined {
  return name === 'sigma' ? data.sigma : data.columns?.[name];
}

/**
 * One line describing a data set: likelihood, groups, observations, the range of each column,
 * the family's global parameters as unknown (`sigma unknown`), and the predictors where there
 * are any (`predictors (log_uppm, floor_measure)`).
 */
export function describeData(data: HierData): string {
  const family = familyOf(data.likelihood);
  const ranges = family.columns.map((c) => {
    const v = columnValues(data, c.name) ?? new Float64Array(0);
    let lo = Infinity;
    let hi = -Infinity;
    for (const x of v) {
      lo = Math.min(lo, x);
      hi = Math.max(hi, x);
    }
    return lo === hi ? `${c.name} = ${lo}` : `${c.name} in [${lo}, ${hi}]`;
  });
  const unknown = familyGlobals(family).map((g) => `${g.constrained.name} unknown`);
  const predictors = data.predictors?.names.length ? [`predictors (${data.predictors.names.join(', ')})`] : [];
  return [`${family.id} likelihood`, `K = ${data.K} groups`, `N = ${data.y.length} observations`, ...ranges, ...unknown, ...predictors].join(', ');
}
