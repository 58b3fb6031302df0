/**
 * The posterior check shared by the sampler tests: a run's mu, log tau and every theta_k
 * against the exact posterior of the normal–normal model (1-D quadrature over tau,
 * src/model/posterior.ts): each mean within MCSE_TOL Monte Carlo standard errors, each sd
 * within SD_REL_TOL of the exact one.
 */
import { expect } from 'vitest';
import type { HierData } from '../src/model/data.ts';
import { exactPosterior } from '../src/model/posterior.ts';
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
