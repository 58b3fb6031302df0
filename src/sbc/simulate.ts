/**
 * The simulations of simulation-based calibration (Talts et al. 2018): parameters drawn from
 * the prior, then data drawn from the likelihood with the design's structure (its groups,
 * sizes and per-observation columns: sigma, trials, exposure), only y replaced.
 */
import type { HierData } from '../model/data.ts';
import { familyGlobals, type FamilyGlobal, type Variates } from '../model/family.ts';
import { familyOf } from '../model/families/index.ts';
import type { MuPrior, Priors, ScalePrior, TauPrior } from '../model/priors.ts';
import { PredictiveVariates } from '../io/inference_data.ts';
import { keyFromSeed } from '../sampler/rng.ts';

/** The true values of one simulation. */
export interface Truth {
  readonly mu: number;
  readonly tau: number;
  readonly theta: Float64Array;
  /** The family's global, unconstrained (log sigma) and by its constrained name (sigma); absent without one. */
  readonly x?: number;
  readonly global?: { readonly name: string; readonly value: number };
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

/** A draw of a positive scale from its prior: HalfNormal, HalfCauchy as tau's; Exponential(1 / scale) by inversion. */
export function drawScale(p: ScalePrior, rng: Variates): number {
  if (p.kind === 'exponential') return -p.scale * Math.log(rng.uniform());
  return drawTau({ kind: p.kind, scale: p.scale }, rng);
}

/**
 * mu and tau from `priors`, then theta_k ~ Normal(mu, tau) for the K groups; with `global`
 * (a family's global, e.g. sigma), its value from `globalPrior` last.
 */
export function drawTruth(priors: Pick<Priors, 'mu' | 'tau'>, K: number, rng: Variates, global?: { readonly g: FamilyGlobal; readonly prior: ScalePrior }): Truth {
  const mu = drawMu(priors.mu, rng);
  const tau = drawTau(priors.tau, rng);
  const theta = new Float64Array(K);
  for (let k = 0; k < K; k++) theta[k] = mu + tau * rng.normal();
  if (!global) return { mu, tau, theta };
  const value = drawScale(global.prior, rng);
  return { mu, tau, theta, x: Math.log(value), global: { name: global.g.constrained.name, value } };
}

/** The design's data with every y drawn from the family's likelihood at `truth.theta` (and its global, `Family.predict`). */
export function simulateData(design: HierData, truth: Truth, rng: Variates): HierData {
  const family = familyOf(design.likelihood);
  const y = new Float64Array(design.y.length);
  for (let i = 0; i < y.length; i++) y[i] = family.predict(design, i, truth.theta[design.group[i]], rng, truth.x);
  return { ...design, y };
}

/** The design family's global and the prior the simulations draw it from (`simPriors.family`, else its default); undefined without one. */
export function simulatedGlobal(design: HierData, simPriors: Pick<Priors, 'family'>): { g: FamilyGlobal; prior: ScalePrior } | undefined {
  const g = familyGlobals(familyOf(design.likelihood))[0];
  return g && { g, prior: simPriors.family?.[g.name] ?? g.prior.default };
}

/**
 * Simulation `sim` of a run seeded `seed`: its truth from `simPriors` and its data. Its
 * variates are Philox stream (chain = sim, draw = 0) of `PredictiveVariates` keyed by the seed,
 * so a simulation is the same whichever batch, worker or machine runs it.
 */
export function simulation(design: HierData, simPriors: Pick<Priors, 'mu' | 'tau' | 'family'>, seed: number, sim: number): { truth: Truth; data: HierData } {
  const rng = new PredictiveVariates(keyFromSeed(seed));
  rng.start(sim, 0);
  const truth = drawTruth(simPriors, design.K, rng, simulatedGlobal(design, simPriors));
  return { truth, data: simulateData(design, truth, rng) };
}
