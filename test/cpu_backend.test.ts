import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { numLeapfrogSteps } from '../src/adaptation/chees.ts';
import { trajectoryJitter } from '../src/adaptation/halton.ts';
import type { HierData } from '../src/model/data.ts';
import { logDensityGrad, makeModel, unconstrain, type HierModel } from '../src/model/model.ts';
import { exactPosterior } from '../src/model/posterior.ts';
import {
  CPU_ADAPTER,
  CPU_STATE_LIMIT_BYTES,
  VV_DIVERGENT,
  VV_ENERGY,
  VV_INITIAL_ENERGY,
  VV_LOG_DENSITY,
  VV_STEPS,
  createCpuBackend,
  kineticEnergy,
  velocityVerlet,
} from '../src/sampler/cpu_backend.ts';
import { initialPositions, keyFromSeed, momentumNormals } from '../src/sampler/rng.ts';
import { InputError } from '../src/errors.ts';

function loadSeed(name: string): HierData {
  const j = JSON.parse(readFileSync(new URL(`../demo/data/${name}.json`, import.meta.url), 'utf8')) as { y: number[]; idx: number[]; sigma: number; K: number };
  return {
    y: Float64Array.from(j.y),
    group: Int32Array.from(j.idx),
    sigma: new Float64Array(j.y.length).fill(j.sigma),
    K: j.K,
    labels: Array.from({ length: j.K }, (_, k) => String(k)),
  };
}

const strong = loadSeed('strong');
const centered = makeModel(strong, new Float64Array(strong.K).fill(1));
const D = centered.dim;

/**
 * Exact posterior mean of mu for the normal-normal model with known sds, by 1-D quadrature
 * over tau (Gelman et al., BDA3 sec. 5.4, with mu ~ N(m0, s0^2) instead of a flat prior):
 *   p(tau | y) ∝ p(tau) a^-1/2 prod_k v_k^-1/2 exp(-1/2 sum_k y_k^2/v_k + b^2/(2a)),
 *   v_k = tau^2 + se_k^2, a = 1/s0^2 + sum 1/v_k, b = m0/s0^2 + sum y_k/v_k,
 *   E[mu | y] = E_tau[b / a]. HalfNormal(5) tau prior, as in DEFAULT_PRIORS.
 */
function exactPosteriorMeanMu(model: HierModel): number {
  const { ybar, se } = model.stats;
  const { loc: m0, scale: s0 } = model.priors.mu;
  const tauScale = model.priors.tau.scale;
  const n = 100_000;
  const tMax = 15 * tauScale;
  const logW = new Float64Array(n);
  const cond = new Float64Array(n);
  let maxLogW = -Infinity;
  for (let i = 0; i < n; i++) {
    const tau = ((i + 0.5) * tMax) / n;
    let a = 1 / (s0 * s0);
    let b = m0 / (s0 * s0);
    let l = -0.5 * (tau / tauScale) ** 2;
    for (let k = 0; k < ybar.length; k++) {
      const v = tau * tau + se[k] * se[k];
      a += 1 / v;
      b += ybar[k] / v;
      l -= 0.5 * Math.log(v) + (0.5 * ybar[k] * ybar[k]) / v;
    }
    logW[i] = l - 0.5 * Math.log(a) + (0.5 * b * b) / a;
    cond[i] = b / a;
    maxLogW = Math.max(maxLogW, logW[i]);
  }
  let z = 0;
  let m = 0;
  for (let i = 0; i < n; i++) {
    const w = Math.exp(logW[i] - maxLogW);
    z += w;
    m += w * cond[i];
  }
  return m / z;
}

/** A point near the posterior bulk of strong × centered, and a metric matching its scales. */
function nearMode(): { q: Float64Array; invMass: Float64Array } {
  const q = unconstrain(centered, 4.6, 3.5, strong.y);
  // Posterior sds: mu ~1.3, log tau ~0.25, theta_k ~0.1 (sigma = 0.1, tau >> sigma).
  const invMass = new Float64Array(D);
  invMass[0] = 1.3 ** 2;
  invMass[1] = 0.25 ** 2;
  for (let k = 0; k < strong.K; k++) invMass[2 + k] = 0.1 ** 2;
  return { q, invMass };
}

/** Energy error H(end) - H(start) of L leapfrog steps of size eps from q with momentum n / sqrt(M^-1). */
function energyError(eps: number, L: number, seedChain: number): number {
  const { q, invMass } = nearMode();
  const p = new Float64Array(D);
  momentumNormals(keyFromSeed(5), 0, seedChain, strong.K, p);
  for (let d = 0; d < D; d++) p[d] /= Math.sqrt(invMass[d]);
  const g = new Float64Array(D);
  const lp = logDensityGrad(centered, q, g);
  const out = new Float64Array(5);
  velocityVerlet(centered, q, p, g, lp, eps, invMass, L, out);
  expect(out[VV_DIVERGENT]).toBe(0);
  expect(out[VV_STEPS]).toBe(L);
  return out[VV_ENERGY] - out[VV_INITIAL_ENERGY];
}

describe('CPU backend memory', () => {
  it('more chains than its state limit: an InputError naming the most that fit, before any allocation', async () => {
    const model = makeModel(loadSeed('weak'), new Float64Array(9));
    const most = Math.floor(CPU_STATE_LIMIT_BYTES / (48 * model.dim + 40));
    const e = await createCpuBackend(model, 100_000_000, 1).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(InputError);
    expect((e as InputError).message).toContain(`use at most ${most.toLocaleString('en-US')} chains`);
    const ok = await createCpuBackend(model, 16, 1);
    expect(ok.chains).toBe(16);
    ok.destroy();
  });
});

describe('velocity Verlet integrator', () => {
  it('conserves energy to O(eps^2) on a near-Gaussian posterior', () => {
    const T = 1.5;
    for (const chain of [0, 1, 2]) {
      const e1 = Math.abs(energyError(0.1, Math.round(T / 0.1), chain));
      const e2 = Math.abs(energyError(0.05, Math.round(T / 0.05), chain));
      const e3 = Math.abs(energyError(0.025, Math.round(T / 0.025), chain));
      expect(e1).toBeLessThan(0.05);
      // Halving eps divides the error by ~4 (second-order integrator).
      expect(e1 / e2).toBeGreaterThan(3);
      expect(e1 / e2).toBeLessThan(5.5);
      expect(e2 / e3).toBeGreaterThan(3.5);
      expect(e2 / e3).toBeLessThan(4.5);
    }
  });

  it('is reversible: L steps, momentum flip, L steps returns to the start', () => {
    const { q, invMass } = nearMode();
    // Move away from the mode so the trajectory is not trivial.
    q[0] += 1;
    q[1] -= 0.3;
    const q0 = Float64Array.from(q);
    const p = new Float64Array(D);
    momentumNormals(keyFromSeed(9), 3, 1, strong.K, p);
    for (let d = 0; d < D; d++) p[d] /= Math.sqrt(invMass[d]);
    const p0 = Float64Array.from(p);
    const g = new Float64Array(D);
    const lp0 = logDensityGrad(centered, q, g);
    const out = new Float64Array(5);
    velocityVerlet(centered, q, p, g, lp0, 0.05, invMass, 60, out);
    expect(Math.abs(q[0] - q0[0])).toBeGreaterThan(0.1);
    for (let d = 0; d < D; d++) p[d] = -p[d];
    velocityVerlet(centered, q, p, g, out[VV_LOG_DENSITY], 0.05, invMass, 60, out);
    for (let d = 0; d < D; d++) {
      expect(Math.abs(q[d] - q0[d])).toBeLessThan(1e-10);
      expect(Math.abs(-p[d] - p0[d])).toBeLessThan(1e-10 / Math.sqrt(invMass[d]));
    }
    expect(Math.abs(out[VV_LOG_DENSITY] - lp0)).toBeLessThan(1e-8);
  });

  it('stops at the first divergent step and reports it', () => {
    const { q, invMass } = nearMode();
    const p = new Float64Array(D);
    momentumNormals(keyFromSeed(9), 0, 0, strong.K, p);
    const g = new Float64Array(D);
    const lp = logDensityGrad(centered, q, g);
    const out = new Float64Array(5);
    velocityVerlet(centered, q, p, g, lp, 5, new Float64Array(D).fill(1), 50, out);
    expect(out[VV_DIVERGENT]).toBe(1);
    expect(out[VV_STEPS]).toBeLessThan(50);
    expect(kineticEnergy([1, 2], [1, 0.5])).toBe(1.5);
  });
});

describe('CPU backend', () => {
  it('samples strong × centered: posterior mean of mu within 4 MCSE of the exact value', async () => {
    const chains = 256;
    const warmup = 400;
    const draws = 1000;
    const seed = 2024;
    const backend = await createCpuBackend(centered, chains, seed);
    expect(backend.adapter).toBe(CPU_ADAPTER);
    expect(backend.name).toBe('cpu');
    expect(backend.dim).toBe(D);
    await backend.init(initialPositions(keyFromSeed(seed), chains, strong.K));
    const invMass = new Float64Array(D).fill(1);
    const eps = 0.05;
    const T = 1;
    let sampledSteps = 0;
    const t0 = performance.now();
    for (let it = 0; it < warmup + draws; it++) {
      if (it === warmup) backend.beginSampling(draws, chains);
      // A short phase with a small step lets chains started far from the data (where the
      // centered posterior is stiff) reach the bulk without diverging forever.
      const e = it < 200 ? eps / 10 : eps;
      const L = numLeapfrogSteps(trajectoryJitter(it), it < 200 ? T / 4 : T, e);
      backend.step({ iteration: it, stepSize: e, numSteps: L, invMass });
      if (it >= warmup) {
        backend.recordDraw();
        sampledSteps += L;
      }
    }
    const seconds = (performance.now() - t0) / 1000;
    console.log(`cpu backend: ${chains} chains × ${warmup + draws} iterations in ${seconds.toFixed(2)} s = ${((chains * (warmup + draws)) / seconds).toFixed(0)} chain-iterations/s`);
    const stats = await backend.ensembleStats();
    const { draws: rec, totals } = await backend.collect();
    expect(await backend.sync()).toBe(totals.divergences);
    backend.destroy();

    expect(rec.retainedChains).toBe(chains);
    expect(rec.draws).toBe(draws);
    expect(rec.positions.length).toBe(chains * draws * D);
    expect(totals.gradientEvals).toBe(chains * sampledSteps);
    expect(totals.divergences).toBe(0);
    let acc = 0;
    for (const a of rec.acceptProb) acc += a;
    expect(totals.meanAccept).toBeCloseTo(acc / (chains * draws), 12);
    expect(totals.meanAccept).toBeGreaterThan(0.8);
    expect(Array.from(rec.energy).every(Number.isFinite)).toBe(true);

    // The last draw of every chain is the current state: the ensemble mean agrees.
    let lastMu = 0;
    for (let c = 0; c < chains; c++) lastMu += rec.positions[(c * draws + draws - 1) * D];
    expect(stats.positionMean[0]).toBeCloseTo(lastMu / chains, 12);

    // MCSE from independent chains: sd of per-chain means / sqrt(chains).
    const chainMeans = new Float64Array(chains);
    for (let c = 0; c < chains; c++) {
      let s = 0;
      for (let t = 0; t < draws; t++) s += rec.positions[(c * draws + t) * D];
      chainMeans[c] = s / draws;
    }
    const mean = chainMeans.reduce((a, b) => a + b, 0) / chains;
    const sd = Math.sqrt(chainMeans.reduce((a, b) => a + (b - mean) ** 2, 0) / (chains - 1));
    const mcse = sd / Math.sqrt(chains);
    const exact = exactPosterior(strong).mu.mean;
    // Independent check of the truth: a plain 100k-point grid in tau.
    expect(Math.abs(exactPosteriorMeanMu(centered) - exact)).toBeLessThan(1e-4);
    expect(Math.abs(mean - exact)).toBeLessThan(4 * mcse);
    expect(mcse).toBeLessThan(0.05);
  });

  it('is deterministic for a seed (Philox), and the seed matters', async () => {
    const run = async (seed: number) => {
      const b = await createCpuBackend(centered, 8, seed);
      await b.init(initialPositions(keyFromSeed(1), 8, strong.K));
      b.beginSampling(5, 8);
      for (let it = 0; it < 5; it++) {
        b.step({ iteration: it, stepSize: 0.01, numSteps: 3, invMass: new Float64Array(D).fill(1) });
        b.recordDraw();
      }
      return (await b.collect()).draws.positions;
    };
    expect(Array.from(await run(3))).toEqual(Array.from(await run(3)));
    expect(Array.from(await run(3))).not.toEqual(Array.from(await run(4)));
  });

  it('flags divergences with a huge step, records where, and keeps the previous position', async () => {
    const chains = 16;
    const backend = await createCpuBackend(centered, chains, 11);
    const start = initialPositions(keyFromSeed(11), chains, strong.K);
    await backend.init(start);
    backend.beginSampling(2, 4);
    for (let it = 0; it < 2; it++) {
      backend.step({ iteration: it, stepSize: 50, numSteps: 10, invMass: new Float64Array(D).fill(1) });
      backend.recordDraw();
    }
    const stats = await backend.ensembleStats();
    expect(stats.numDivergent).toBe(chains);
    expect(stats.numValid).toBe(0);
    expect(stats.meanAccept).toBe(0);
    expect(Number.isNaN(stats.harmonicMeanAccept)).toBe(true);
    expect(stats.cheesGradient).toBe(0);
    for (const v of stats.positionMean) expect(Number.isFinite(v)).toBe(true);
    expect(await backend.sync()).toBe(2 * chains);

    const { draws: rec, totals } = await backend.collect();
    expect(totals.divergences).toBe(2 * chains);
    expect(totals.meanAccept).toBe(0);
    expect(Array.from(rec.divergent)).toEqual(new Array(8).fill(1));
    // Chains stay where they started; no NaN enters the state or the draws.
    for (let c = 0; c < 4; c++) {
      for (let t = 0; t < 2; t++) {
        for (let d = 0; d < D; d++) expect(rec.positions[(c * 2 + t) * D + d]).toBe(start[c * D + d]);
        expect(Number.isFinite(rec.logDensity[c * 2 + t])).toBe(true);
        expect(Number.isFinite(rec.energy[c * 2 + t])).toBe(true);
      }
    }
    // Divergent points of the retained chains, in recording order, away from the start.
    expect(Array.from(rec.divergentChain)).toEqual([0, 1, 2, 3, 0, 1, 2, 3]);
    expect(Array.from(rec.divergentDraw)).toEqual([0, 0, 0, 0, 1, 1, 1, 1]);
    expect(rec.divergentPositions.length).toBe(8 * D);
    let moved = 0;
    for (let d = 0; d < D; d++) moved += Math.abs(rec.divergentPositions[d] - start[d]);
    expect(moved).toBeGreaterThan(1);
    backend.destroy();
  });

  it('validates its inputs', async () => {
    const backend = await createCpuBackend(centered, 4, 0);
    await expect(backend.init(new Float64Array(3))).rejects.toThrow(RangeError);
    expect(() => backend.recordDraw()).toThrow();
    expect(() => backend.beginSampling(10, 5)).toThrow(RangeError);
    backend.beginSampling(1, 1);
    await backend.init(new Float64Array(4 * D));
    backend.step({ iteration: 0, stepSize: 0.01, numSteps: 1, invMass: new Float64Array(D).fill(1) });
    backend.recordDraw();
    expect(() => backend.recordDraw()).toThrow(RangeError);
    expect(() => backend.step({ iteration: 1, stepSize: 0.01, numSteps: 1, invMass: new Float64Array(2) })).toThrow(RangeError);
  });
});
