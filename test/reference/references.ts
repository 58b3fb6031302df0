/**
 * Reference posteriors from long Stan runs (make_references.R beside this file): the data
 * sets under data/<family>_<name>.json and the posteriors <family>_<name>.json, found by
 * family id, and the check of a run's report against one. Data sets with population-level
 * predictors (data/<family>_predictors_<name>.json, key `predictors`) have references of their
 * own (`referencesOf(family, { predictors: true })`), with a `beta[<name>]` entry per predictor.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { expect } from 'vitest';
import type { HierData, Predictors } from '../../src/model/data.ts';
import type { Family } from '../../src/model/family.ts';
import type { RunReport } from '../../src/sampler/report.ts';

const DIR = new URL('./', import.meta.url);

/** One parameter of a reference posterior (posterior::summarise_draws). */
export interface ReferenceParam {
  readonly mean: number;
  readonly sd: number;
  readonly mcse_mean: number;
  readonly mcse_sd: number;
  readonly ess_bulk: number;
  readonly ess_tail?: number;
  readonly rhat?: number;
}

export interface Reference {
  /** `<family>_<name>`. */
  readonly name: string;
  readonly data: HierData;
  readonly stan_version: string;
  readonly draws: number;
  readonly divergences: number;
  readonly params: Readonly<Record<string, ReferenceParam>>;
  /** The predictors' names (`beta[<name>]` in `params`), as `data.predictors.names`; absent: none. */
  readonly predictors?: readonly string[];
  /** The priors of a run with predictors (make_references.R), as the data file gives them or the defaults. */
  readonly priors?: ReferencePriors;
}

/** The priors a reference with predictors was run with: mu ~ Normal, tau ~ Half-(kind), beta_p ~ Normal. */
export interface ReferencePriors {
  readonly mu: { readonly kind: 'normal'; readonly loc: number; readonly scale: number };
  readonly tau: { readonly kind: 'halfnormal' | 'halfcauchy'; readonly scale: number };
  readonly beta: { readonly kind: 'normal'; readonly loc: number; readonly scale: number };
}

export interface ReferenceOptions {
  /**
   * false (the default): the references of data sets without predictors only; true: those of
   * data sets with predictors only.
   */
  readonly predictors?: boolean;
}

/**
 * Every reference posterior of `family` (files <family.id>_*.json), by name: those without
 * predictors, or (`opts.predictors`) those with.
 */
export function referencesOf(family: Family, opts: ReferenceOptions = {}): Reference[] {
  return readdirSync(DIR)
    .filter((f) => f.startsWith(`${family.id}_`) && f.endsWith('.json'))
    .sort()
    .map((f) => {
      const ref = JSON.parse(readFileSync(new URL(f, DIR), 'utf8'));
      return {
        name: f.replace(/\.json$/, ''),
        data: referenceData(family, ref.data),
        stan_version: ref.stan_version,
        draws: ref.draws,
        divergences: ref.divergences,
        params: ref.params,
        ...(ref.predictors ? { predictors: [ref.predictors].flat().map(String) } : {}),
        ...(ref.priors ? { priors: ref.priors } : {}),
      };
    })
    .filter((r) => (r.data.predictors !== undefined) === (opts.predictors ?? false));
}

/**
 * A data set of data/ as HierData: JSON keys likelihood, y, group (0-based), K, labels and
 * the family's columns (a column absent from the file takes its default `value`; `sigma` is
 * HierData's own field, as the io layer has it), and `predictors` where the file has them
 * (`{ names: [P names], X: [N rows of P] }`, read into HierData's row-major X).
 */
export function referenceData(family: Family, file: string): HierData {
  const raw = JSON.parse(readFileSync(new URL(`data/${file}`, DIR), 'utf8'));
  expect(raw.likelihood).toBe(family.id);
  const y = Float64Array.from(raw.y as number[]);
  const columns: Record<string, Float64Array> = {};
  let sigma = new Float64Array(0);
  for (const spec of family.columns) {
    const given = raw[spec.name] as number[] | number | undefined;
    const v = given === undefined ? new Float64Array(y.length).fill(spec.value ?? NaN) : typeof given === 'number' ? new Float64Array(y.length).fill(given) : Float64Array.from(given);
    if (spec.name === 'sigma') sigma = v;
    else columns[spec.name] = v;
  }
  return {
    likelihood: family.id,
    y,
    group: Int32Array.from(raw.group as number[]),
    sigma,
    ...(Object.keys(columns).length ? { columns } : {}),
    K: raw.K,
    labels: (raw.labels as string[]).map(String),
    ...(raw.predictors ? { predictors: referencePredictors(raw.predictors, y.length, file) } : {}),
  };
}

/** A data file's `predictors` ({ names, X: N rows of P }) as HierData's, X row-major. */
function referencePredictors(raw: { names: unknown; X: unknown }, N: number, file: string): Predictors {
  const names = [raw.names as string[]].flat().map(String);
  const rows = raw.X as number[][];
  const P = names.length;
  expect(rows.length, `${file}: predictors.X rows`).toBe(N);
  const X = new Float64Array(N * P);
  rows.forEach((row, i) => {
    expect([row].flat().length, `${file}: predictors.X[${i}] length`).toBe(P);
    X.set([row].flat(), i * P);
  });
  return { names, X };
}

/** A posterior mean may differ from Stan's by this many combined MCSE, sqrt(ours^2 + Stan's^2). */
export const MEAN_Z_TOL = 4;
/** A posterior sd may differ from Stan's by this fraction ... */
export const SD_REL_TOL = 0.05;
/**
 * ... or by this many combined MC standard errors of the sd, where that is wider. The sd of a
 * run of n effective draws carries a relative MC error of about sqrt((kurtosis - 1) / 4n)
 * (1/sqrt(2n) for a normal): 5% is 2.8 of those at n = 1,600 but only 1.6 at n = 500, which
 * the heavy-tailed tau of a few groups (tau's posterior is skewed, its sd's error larger
 * still) reaches on the CPU backend's shorter runs; 4 combined MCSE(sd) keeps the check at
 * the same false-alarm rate as the means'.
 */
export const SD_MCSE_TOL = 4;

export interface ReferenceCheck {
  /** Largest |mean - Stan's| / combined MCSE. */
  readonly worstZ: number;
  /** Largest |sd / Stan's sd - 1|. */
  readonly worstSdRel: number;
  /** Largest |sd - Stan's sd| / combined MCSE(sd). */
  readonly worstSdZ: number;
}

/**
 * Compares `report` with the reference posterior `ref` (mu, tau, log_tau, every theta and,
 * where the data have predictors, every `beta[<name>]`).
 */
export function checkReference(report: RunReport, ref: Reference): ReferenceCheck {
  let worstZ = 0;
  let worstSdRel = 0;
  let worstSdZ = 0;
  const names = ['mu', 'tau', 'log_tau', ...ref.data.labels.map((l) => `theta[${l}]`), ...(ref.data.predictors?.names ?? []).map((n) => `beta[${n}]`)];
  for (const n of names) {
    const p = report.params[n];
    const r = ref.params[n];
    expect(p, `${n} in the run`).toBeDefined();
    expect(r, `${n} in the reference`).toBeDefined();
    expect(p.mcse_mean, `${n} mcse_mean`).toBeGreaterThan(0);
    const z = Math.abs(p.mean - r.mean) / Math.hypot(p.mcse_mean, r.mcse_mean);
    const sdRel = Math.abs(p.sd / r.sd - 1);
    const sdZ = Math.abs(p.sd - r.sd) / Math.hypot(p.mcse_sd, r.mcse_sd);
    worstZ = Math.max(worstZ, z);
    worstSdRel = Math.max(worstSdRel, sdRel);
    worstSdZ = Math.max(worstSdZ, sdZ);
    expect(z, `${ref.name} ${n}: mean ${p.mean} vs Stan ${r.mean} (mcse ${p.mcse_mean}, Stan's ${r.mcse_mean})`).toBeLessThanOrEqual(MEAN_Z_TOL);
    expect(sdRel <= SD_REL_TOL || sdZ <= SD_MCSE_TOL, `${ref.name} ${n}: sd ${p.sd} vs Stan ${r.sd} (${(100 * sdRel).toFixed(1)}%, ${sdZ.toFixed(2)} MCSE)`).toBe(true);
  }
  return { worstZ, worstSdRel, worstSdZ };
}
