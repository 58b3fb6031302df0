/**
 * Where the page's data come from: the study's three seed data sets (bundled as text), or
 * text the modeller pastes or uploads, in the seed JSON format or as CSV `group,y[,sigma]`.
 * Parsing is `src/io/data.ts`'s, so the page reports the same `InputError`s as the CLI.
 */
import { parseCsv, parseSeedJson } from '../src/io/data.ts';
import type { HierData } from '../src/model/data.ts';
import { InputError } from '../src/model/priors.ts';
import weakJson from './data/weak.json?raw';
import strongJson from './data/strong.json?raw';
import unbalancedJson from './data/unbalanced.json?raw';

export const SEED_SETS = {
  weak: { text: weakJson, note: 'Weakly informed groups: one noisy observation each' },
  strong: { text: strongJson, note: 'Strongly informed groups: one precise observation each' },
  unbalanced: { text: unbalancedJson, note: 'Unbalanced groups: 10, 5, 1000, 10, 1, 5, 100, 10, 5 observations' },
} as const;

export type SeedName = keyof typeof SEED_SETS;

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
