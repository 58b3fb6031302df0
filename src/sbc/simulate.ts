/**
 * The simulations of simulation-based calibration (Talts et al. 2018): parameters drawn from
 * the prior, then data drawn from the likelihood with the design's structure (its groups,
 * sizes and per-observation columns: sigma, trials, exposure), only y replaced.
 */
import type { HierData } from '../model/data.ts';
import type { Variates } from '../model/family.ts';
import { familyOf } from '../model/families/index.ts';
import type { MuPrior, Priors, TauPrior } from '../model/priors.ts';
import { PredictiveVariates } from '../io/inference_data.ts';
import { keyFromSeed } from '../sampler/rng.ts';

/** The true values of one simulation. */
export interface Truth {
  readonly mu: number;
  readonly tau: number;
  readonly theta: Float64Array;
}

/** A draw of mu from its prior. */
export function drawMu(p: MuPrior, rng: Variates): number {
  return p.loc + p.scale * rng.normal();
}

/** A draw of tau from its prior: HalfNormal(s) = s |N(0, 1)|; HalfCauchy(s) = s tan(pi u / 2). */
export function drawTau(p: TauPrior, rng: Variates): number {
  if (p.kind === 'halfnormal') return p.scale * Math.abs(rng.normal());
  return p.scale * Math.tan((Math.PI / 2) * rng.uniform());
}

/** mu and tau from `priors`, then theta_k ~ Normal(mu, tau) for the K groups. */
export function drawTruth(priors: Pick<Priors, 'mu' | 'tau'>, K: number, rng: Variates): Truth {
  const mu = drawMu(priors.mu, rng);
  const tau = drawTau(priors.tau, rng);
  const theta = new Float64Array(K);
  for (let k = 0; k < K; k++) theta[k] = mu + tau * rng.normal();
  return { mu, tau, theta };
}

/** The design's data with every y drawn from the family's likelihood at `truth.theta` (`Family.predict`). */
export function simulateData(design: HierData, truth: Truth, rng: Variates): HierData {
  const family = familyOf(design.likelihood);
  const y = new Float64Array(design.y.length);
  for (let i = 0; i < y.length; i++) y[i] = family.predict(design, i, truth.theta[design.group[i]], rng);
  return { ...design, y };
}

/**
 * Simulation `sim` of a run seeded `seed`: its truth from `simPriors` and its data. Its
 * variates are Philox stream (chain = sim, draw = 0) of `PredictiveVariates` keyed by the seed,
 * so a simulation is the same whichever batch, worker or machine runs it.
 */
export function simulation(design: HierData, simPriors: Pick<Priors, 'mu' | 'tau'>, seed: number, sim: number): { truth: Truth; data: HierData } {
  const rng = new PredictiveVariates(keyFromSeed(seed));
  rng.start(sim, 0);
  const truth = drawTruth(simPriors, design.K, rng);
  return { truth, data: simulateData(design, truth, rng) };
}
