/**
 * Where the page's data come from: the study's three seed data sets (bundled as text), the
 * classic eight schools, the generator (`generate.ts`), or text the modeller pastes or
 * uploads, in the seed JSON format or as CSV `group,y[,sigma]`. Parsing is
 * `src/io/data.ts`'s, so the page reports the same `InputError`s as the CLI.
 */
import { parseCsv, parseSeedJson } from '../src/io/data.ts';
import type { HierData } from '../src/model/data.ts';
import { InputError } from '../src/errors.ts';
import { generateData, type GeneratorSettings } from './generate.ts';
import weakJson from './data/weak.json?raw';
import strongJson from './data/strong.json?raw';
import unbalancedJson from './data/unbalanced.json?raw';

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

/** A data set with what is known of the truth behind it (the simulated sets know their mu and tau). */
export interface DataChoice {
  readonly data: HierData;
  readonly note: string;
  readonly truth?: { readonly mu: number; readonly tau: number };
}

export type DataSourceName = SeedName | 'eight' | 'generated' | 'custom';

/** What `chooseData` needs besides the source's name. */
export interface DataInputs {
  readonly generator: GeneratorSettings;
  readonly text: string;
  readonly textSource: string;
  readonly sigma?: number;
}

/** The chosen data set, parsed and validated (throws InputError with the CLI's messages). */
export function chooseData(name: DataSourceName, inputs: DataInputs): DataChoice {
  if (isSeedName(name)) {
    const raw = JSON.parse(SEED_SETS[name].text) as { mu: number; tau: number };
    return { data: seedData(name), note: SEED_SETS[name].note, truth: { mu: raw.mu, tau: raw.tau } };
  }
  if (name === 'eight') return { data: eightSchools(), note: 'Eight schools (Rubin 1981): coaching effects and their standard errors' };
  if (name === 'generated') {
    const g = inputs.generator;
    const sizes = g.nLo === g.nHi ? `${g.nLo}` : `${g.nLo} to ${g.nHi}`;
    return {
      data: generateData(g).data,
      note: `Generated: K = ${g.K}, ${sizes} observations per group, sigma = ${g.sigma}, true mu = ${g.mu}, tau = ${g.tau}, seed ${g.seed}`,
      truth: { mu: g.mu, tau: g.tau },
    };
  }
  return { data: parseDataText(inputs.text, inputs.textSource, inputs.sigma), note: `Your data (${inputs.textSource})` };
}

/**
 * Parses pasted or uploaded text: a JSON object (first non-blank character `{`) in the seed
 * format, anything else as CSV. `sigma` is the fallback measurement sd when the text gives
 * none (undefined: the text must give it).
 *
 * @throws InputError naming the file, row and column (or key) at fault.
 */
export function parseDataText(text: string, source: string, sigma?: number): HierData {
  const trimmed = text.trimStart();
  if (trimmed === '') throw new InputError(source, 'no data: paste CSV (group,y[,sigma]) or seed JSON, or choose a file');
  return trimmed.startsWith('{') ? parseSeedJson(text, { source, sigma }) : parseCsv(text, { source, sigma });
}

/** One line describing a data set: groups, observations, and the range of sigma. */
export function describeData(data: HierData): string {
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of data.sigma) {
    lo = Math.min(lo, s);
    hi = Math.max(hi, s);
  }
  const sig = lo === hi ? `sigma = ${lo}` : `sigma in [${lo}, ${hi}]`;
  return `K = ${data.K} groups, N = ${data.y.length} observations, ${sig}`;
}
