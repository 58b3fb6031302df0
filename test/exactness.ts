/**
 * The posterior check shared by the sampler tests: a run's mu, log tau and every theta_k
 * against the exact posterior of the normal–normal model (1-D quadrature over tau,
 * src/model/posterior.ts): each mean within MCSE_TOL Monte Carlo standard errors, each sd
 * within SD_REL_TOL of the exact one (`checkExact`); and every parameter with an exact value,
 * a family global's included, with the sd also allowed SD_MCSE_TOL MC errors (`checkExactAll`).
 */
import { expect } from 'vitest';
import type { HierData } from '../src/model/data.ts';
import { exactPosterior, type ExactPosterior } from '../src/model/posterior.ts';
import { exactFor } from '../src/compare/compare.ts';
import type { RunReport } from '../src/sampler/report.ts';
import type { Priors } from '../src/model/priors.ts';

/** A posterior mean may differ from the exact one by this many MCSE. */
export const MCSE_TOL = 4;
/** A posterior sd may differ from the exact one by this fraction. */
export const SD_REL_TOL = 0.05;

export interface Exactness {
  /** Largest |mean - exact mean| / MCSE over the parameters. */
  readonly worstZ: number;
  /** Largest |sd / exact sd - 1| over the parameters. */
  readonly worstSdRel: number;
}

/**
 * Compares `report` with the exact posterior of `data` (under `priors`, default the seed's) and returns the worst deviations;
 * with `assert` (the default) every parameter must be within the tolerances.
 */
export function checkExact(report: RunReport, data: HierData, assert = true, priors?: Priors): Exactness {
  const exact = exactPosterior(data, priors);
  const targets: [string, { mean: number; sd: number }][] = [
    ['mu', exact.mu],
    ['log_tau', exact.logTau],
    ...exact.theta.map((t, k): [string, { mean: number; sd: number }] => [`theta[${data.labels[k]}]`, t]),
  ];
  let worstZ = 0;
  let worstSdRel = 0;
  for (const [n, e] of targets) {
    const p = report.params[n];
    expect(p, n).toBeDefined();
    const z = Math.abs(p.mean - e.mean) / p.mcse_mean;
    const sdRel = Math.abs(p.sd / e.sd - 1);
    worstZ = Math.max(worstZ, z);
    worstSdRel = Math.max(worstSdRel, sdRel);
    if (assert) {
      expect(p.mcse_mean, `${n} mcse_mean`).toBeGreaterThan(0);
      expect(z, `${n}: mean ${p.mean} vs exact ${e.mean} (mcse ${p.mcse_mean})`).toBeLessThanOrEqual(MCSE_TOL);
      expect(sdRel, `${n}: sd ${p.sd} vs exact ${e.sd}`).toBeLessThanOrEqual(SD_REL_TOL);
    }
  }
  return { worstZ, worstSdRel };
}

/** ... or by this many MC standard errors of the sd, where that is wider (test/reference/references.ts SD_MCSE_TOL: the sd of n effective draws has a relative MC error of about 1/sqrt(2n)). */
export const SD_MCSE_TOL = 4;

export interface FullExactness extends Exactness {
  /** Largest |sd - exact sd| / mcse_sd over the parameters. */
  readonly worstSdZ: number;
  /** The parameters compared (every reported name with an exact value: `exactFor`). */
  readonly names: readonly string[];
}

/**
 * Compares every parameter of `report` that has an exact value (`exactFor`: mu, tau, log_tau,
 * every theta and a family global under both its names) with `exact`: each mean within
 * MCSE_TOL MCSE, each sd within SD_REL_TOL or SD_MCSE_TOL MCSE(sd). Every one of mu, tau,
 * log_tau, theta[label], the globals and the coefficients beta[name] of `exact` must be in the report. With `assert` false
 * it only measures.
 */
export function checkExactAll(report: RunReport, exact: ExactPosterior, assert = true): FullExactness {
  const expected = ['mu', 'tau', 'log_tau', ...exact.labels.map((l) => `theta[${l}]`), ...Object.keys(exact.globals ?? {}), ...(exact.beta ?? []).map((b) => `beta[${b.name}]`)];
  for (const n of expected) expect(report.params[n], `${n} in the run's report`).toBeDefined();
  const names = Object.keys(report.params).filter((n) => exactFor(n, exact) !== undefined);
  let worstZ = 0;
  let worstSdRel = 0;
  let worstSdZ = 0;
  for (const n of names) {
    const p = report.params[n];
    const e = exactFor(n, exact)!;
    const z = Math.abs(p.mean - e.mean) / p.mcse_mean;
    const sdRel = Math.abs(p.sd / e.sd - 1);
    const sdZ = Math.abs(p.sd - e.sd) / p.mcse_sd;
    worstZ = Math.max(worstZ, z);
    worstSdRel = Math.max(worstSdRel, sdRel);
    worstSdZ = Math.max(worstSdZ, sdZ);
    if (assert) {
      expect(p.mcse_mean, `${n} mcse_mean`).toBeGreaterThan(0);
      expect(z, `${n}: mean ${p.mean} vs exact ${e.mean} (mcse ${p.mcse_mean})`).toBeLessThanOrEqual(MCSE_TOL);
      expect(sdRel <= SD_REL_TOL || sdZ <= SD_MCSE_TOL, `${n}: sd ${p.sd} vs exact ${e.sd} (${(100 * sdRel).toFixed(1)}%, ${sdZ.toFixed(2)} MCSE)`).toBe(true);
    }
  }
  return { worstZ, worstSdRel, worstSdZ, names };
}
