/**
 * Where the page's data come from: the study's three seed data sets (bundled as text), the
 * classic eight schools and the surgical mortality data (binomial), the generator
 * (`generate.ts`, any likelihood family), or text the modeller pastes or uploads, in the
 * seed JSON format or as CSV `group,y` and the family's columns. Parsing is
 * `src/io/data.ts`'s, so the page reports the same `InputError`s as the CLI.
 */
import { parseCsv, parseSeedJson } from '../src/io/data.ts';
import type { HierData } from '../src/model/data.ts';
import { familyGlobals, type Family } from '../src/model/family.ts';
import { FAMILIES, familyOf } from '../src/model/families/index.ts';
import { InputError } from '../src/errors.ts';
import { generateData, type GeneratorSettings } from './generate.ts';
import weakJson from './data/weak.json?raw';
import strongJson from './data/strong.json?raw';
import unbalancedJson from './data/unbalanced.json?raw';
import surgicalCsv from './data/surgical.csv?raw';

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

export type DataSourceName = SeedName | 'eight' | 'surgical' | 'generated' | 'custom';

/** The likelihood of a data source whose data fix it (the bundled sets); undefined where the form's choice applies. */
export function fixedLikelihood(name: DataSourceName): string | undefined {
  if (isSeedName(name) || name === 'eight') return familyOf(undefined).id;
  if (name === 'surgical') return SURGICAL.likelihood;
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
}

/** The chosen data set, parsed and validated (throws InputError with the CLI's messages). */
export function chooseData(name: DataSourceName, inputs: DataInputs): DataChoice {
  if (isSeedName(name)) {
    const raw = JSON.parse(SEED_SETS[name].text) as { mu: number; tau: number };
    return { data: seedData(name), note: SEED_SETS[name].note, truth: { mu: raw.mu, tau: raw.tau } };
  }
  if (name === 'eight') return { data: eightSchools(), note: 'Eight schools (Rubin 1981): coaching effects and their standard errors' };
  if (name === 'surgical') return { data: surgical(), note: 'Surgical mortality (BUGS examples): deaths in cardiac operations at 12 hospitals' };
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
  return { data: parseDataText(inputs.text, inputs.textSource, inputs.likelihood, inputs.fallback), note: `Your data (${inputs.textSource})` };
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
export function parseDataText(text: string, source: string, likelihood?: string, fallback: Readonly<Record<string, number>> = {}): HierData {
  const family = loaderFamily(familyOf(likelihood, 'likelihood'));
  const trimmed = text.trimStart();
  if (trimmed === '') throw new InputError(source, `no data: paste CSV (${csvHeader(family)}) or seed JSON, or choose a file`);
  const options: Record<string, number> = {};
  for (const c of family.columns) if (c.option !== undefined && fallback[c.name] !== undefined) options[c.option] = fallback[c.name];
  const opts = { source, family, options };
  return trimmed.startsWith('{') ? parseSeedJson(text, opts) : parseCsv(text, opts);
}

/** A column's values: `sigma` is HierData's own field, the others are in `columns`. */
export function columnValues(data: HierData, name: string): Float64Array | undefined {
  return name === 'sigma' ? data.sigma : data.columns?.[name];
}

/**
 * One line describing a data set: likelihood, groups, observations, the range of each column,
 * and the family's global parameters as unknown (`sigma unknown`).
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
  return [`${family.id} likelihood`, `K = ${data.K} groups`, `N = ${data.y.length} observations`, ...ranges, ...unknown].join(', ');
}
