/**
 * The seed study (Betancourt's hierarchical-modeling case study as replicated in PyMC3;
 * see the project's SEED.md): its data sets, which ship with the package under
 * `demo/data/`, the cases it ran, and the figures it published.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseSeedJson } from '../io/data.ts';
import type { HierData } from '../model/data.ts';

/** The study's three data sets. */
export const SEED_DATA_SETS = ['weak', 'strong', 'unbalanced'] as const;
export type SeedDataSet = (typeof SEED_DATA_SETS)[number];

/**
 * Where a seed data set lives, relative to this module (the package ships `demo/data/*.json`).
 * The one place that knows the path.
 */
export function seedDataUrl(name: SeedDataSet): URL {
  return new URL(`../../demo/data/${name}.json`, import.meta.url);
}

/** The values the study simulated its data from (stored beside the data in each JSON file). */
export interface SeedTruth {
  readonly mu: number;
  readonly tau: number;
  readonly theta: readonly number[];
}

/** A seed data set with its generating values. */
export interface SeedData {
  readonly name: SeedDataSet;
  readonly data: HierData;
  readonly truth: SeedTruth;
  /** Measurement sd of the data set (one for all observations in the seed data). */
  readonly sigma: number;
}

/** Loads a seed data set shipped with the package, with its true mu, tau and theta. */
export async function loadSeedData(name: SeedDataSet): Promise<SeedData> {
  const url = seedDataUrl(name);
  const text = await readFile(fileURLToPath(url), 'utf8');
  const data = parseSeedJson(text, { source: `${name}.json` });
  const raw = JSON.parse(text) as { mu: number; tau: number; theta: number[]; sigma: number };
  return { name, data, truth: { mu: raw.mu, tau: raw.tau, theta: raw.theta }, sigma: raw.sigma };
}

/** One case of the study: a data set and a parameterization (`--param` syntax). */
export interface StudyCase {
  readonly dataSet: SeedDataSet;
  readonly param: 'centered' | 'noncentered' | 'mixed:2,6';
}

/** The study's seven cases, in its order. */
export const STUDY_CASES: readonly StudyCase[] = [
  { dataSet: 'weak', param: 'centered' },
  { dataSet: 'weak', param: 'noncentered' },
  { dataSet: 'strong', param: 'centered' },
  { dataSet: 'strong', param: 'noncentered' },
  { dataSet: 'unbalanced', param: 'centered' },
  { dataSet: 'unbalanced', param: 'noncentered' },
  { dataSet: 'unbalanced', param: 'mixed:2,6' },
];

/** What the study published for one case (PyMC3 3.11, NUTS, 4 chains x 10,000 draws, target_accept 0.95). */
export interface PublishedFigures {
  /** Divergent transitions of 40,000. */
  readonly divergences: number;
  readonly transitions: number;
  /** E-BFMI range over its 4 chains. */
  readonly ebfmi: readonly [number, number];
  /** Step size range over its 4 chains (not reported for the weak data). */
  readonly stepSize?: readonly [number, number];
  /** Wall time in seconds. */
  readonly time_s: number;
}

/** The study's table (SEED.md, "What the study found"), keyed `dataSet/param`. */
export const PUBLISHED: Readonly<Record<string, PublishedFigures>> = {
  'weak/centered': { divergences: 706, transitions: 40_000, ebfmi: [0.19, 0.32], time_s: 132 },
  'weak/noncentered': { divergences: 0, transitions: 40_000, ebfmi: [0.87, 0.91], time_s: 90 },
  'strong/centered': { divergences: 0, transitions: 40_000, ebfmi: [1.01, 1.03], stepSize: [0.37, 0.47], time_s: 75 },
  'strong/noncentered': { divergences: 0, transitions: 40_000, ebfmi: [0.77, 0.8], stepSize: [0.016, 0.021], time_s: 313 },
  'unbalanced/centered': { divergences: 7, transitions: 40_000, ebfmi: [0.79, 0.82], stepSize: [0.21, 0.32], time_s: 106 },
  'unbalanced/noncentered': { divergences: 63, transitions: 40_000, ebfmi: [0.77, 0.85], stepSize: [0.09, 0.1], time_s: 217 },
  'unbalanced/mixed:2,6': { divergences: 6, transitions: 40_000, ebfmi: [0.96, 0.99], stepSize: [0.34, 0.39], time_s: 147 },
};

/** The key of a case in `PUBLISHED`. */
export const caseKey = (c: StudyCase): string => `${c.dataSet}/${c.param}`;
