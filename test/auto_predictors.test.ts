import { describe, expect, it } from 'vitest';
import { FAMILIES } from '../src/model/families/index.ts';
import { makeModel, unconstrain } from '../src/model/model.ts';
import { ensembleBeta, groupOffsets, initialStats, statePrecision } from '../src/sampler/auto_centeredness.ts';
import { predictorFit } from '../src/model/predictors.ts';
import { startingPositions } from '../src/sampler/init.ts';
import { keyFromSeed } from '../src/sampler/rng.ts';
import type { HierData } from '../src/model/data.ts';
import { predictorDataset } from './predictor_data.ts';

/*
 * `auto` with population-level predictors: each group's information and estimate are taken
 * at the linear predictor with the ensemble's median coefficients (src/sampler/auto_centeredness.ts).
 */

const binomial = FAMILIES.find((f) => f.id === 'binomial')!;
const normal = FAMILIES.find((f) => f.id === 'normal')!;

/** Chain-major positions of `chains` chains, all at (mu, tau, theta, beta) except beta_p spread symmetrically about `beta`. */
function ensemble(model: ReturnType<typeof makeModel>, chains: number, theta: Float64Array, beta: number[]): Float64Array {
  const out = new Float64Array(chains * model.dim);
  for (let ch = 0; ch < chains; ch++) {
    const b = beta.map((v, p) => v + (ch - (chains - 1) / 2) * 0.01 * (p + 1));
    out.set(unconstrain(model, 0.2, 0.7, theta, undefined, b), ch * model.dim);
  }
  return out;
}

describe('auto with predictors', () => {
  it('the ensemble coefficients are the chains\' medians', () => {
    const data = predictorDataset(normal, 6, 2, true, 4);
    const model = makeModel(data, new Float64Array(6));
    const theta = Float64Array.from({ length: 6 }, (_, k) => 0.1 * k);
    const beta = ensembleBeta(model, ensemble(model, 9, theta, [0.5, -1.5]), 9)!;
    expect(beta[0]).toBeCloseTo(0.5, 12);
    expect(beta[1]).toBeCloseTo(-1.5, 12);
    expect(ensembleBeta(makeModel({ ...data, predictors: undefined }, new Float64Array(6)), new Float64Array(8 * 9), 9)).toBeUndefined();
  });

  it('group offsets: m_k . beta on the group path, the mean of x_i . beta over the group on the observation path', () => {
    for (const [family, varying] of [[normal, true], [binomial, false], [binomial, true]] as const) {
      const data = predictorDataset(family, 7, 3, varying, 9);
      const model = makeModel(data, new Float64Array(7));
      const beta = Float64Array.of(0.3, -0.7, 1.1);
      const o = groupOffsets(model, beta);
      const X = data.predictors!.X;
      for (let k = 0; k < 7; k++) {
        // From the definition: the (weighted, for the normal family) mean over the group's observations.
        let num = 0;
        let den = 0;
        for (let i = 0; i < data.y.length; i++) {
          if (data.group[i] !== k) continue;
          const w = family.gaussian ? family.gaussian.weight(data, i) : 1;
          num += w * (0.3 * X[3 * i] - 0.7 * X[3 * i + 1] + 1.1 * X[3 * i + 2]);
          den += w;
        }
        expect(o[k], `${family.id} group ${k}`).toBeCloseTo(den > 0 ? num / den : 0, 12);
      }
    }
  });

  it('binomial observation path: each group\'s information is the sum of its observations\' n p (1 - p) at eta_i', () => {
    const data = predictorDataset(binomial, 8, 2, true, 13);
    const model = makeModel(data, new Float64Array(8));
    expect(model.predictors!.path).toBe('observation');
    const theta = Float64Array.from({ length: 8 }, (_, k) => -1 + 0.25 * k);
    const pos = ensemble(model, 5, theta, [0.4, -0.9]);
    const prec = statePrecision(model, pos, 5, undefined, ensembleBeta(model, pos, 5));
    const trials = data.columns!.trials;
    const X = data.predictors!.X;
    for (let k = 0; k < 8; k++) {
      let info = 0;
      for (let i = 0; i < data.y.length; i++) {
        if (data.group[i] !== k) continue;
        const p = 1 / (1 + Math.exp(-(theta[k] + 0.4 * X[2 * i] - 0.9 * X[2 * i + 1])));
        info += trials[i] * p * (1 - p);
      }
      expect(prec[k], `group ${k}`).toBeCloseTo(info, 9);
    }
  });
});

describe('the start with predictors, from the data alone', () => {
  /** One observation per group (as posteriordb's GLMM_Poisson), counts exactly e^(1 + 0.8 x1 - 0.5 x2) rounded, x2 up to 4.6. */
  function series(K: number): HierData {
    const X = new Float64Array(2 * K);
    const y = new Float64Array(K);
    for (let k = 0; k < K; k++) {
      const t = -1.67 + (3.34 * k) / (K - 1);
      X[2 * k] = t;
      X[2 * k + 1] = t * t * t;
      y[k] = Math.round(Math.exp(3 + 0.8 * t - 0.1 * t * t * t));
    }
    return { likelihood: 'poisson', y, group: Int32Array.from({ length: K }, (_, k) => k), sigma: new Float64Array(0), columns: { exposure: new Float64Array(K).fill(1) }, K, labels: Array.from({ length: K }, (_, k) => String(k + 1)), predictors: { names: ['t', 't:t:t'], X } };
  }

  it('the meta-regression recovers the coefficients of groups\' estimates that lie on a plane', () => {
    const model = makeModel(series(40), new Float64Array(40));
    const fit = predictorFit(model.stats, model.predictors!)!;
    expect(fit[0]).toBeCloseTo(3, 1);
    expect(fit[1]).toBeCloseTo(0.8, 1);
    expect(fit[2]).toBeCloseTo(-0.1, 1);
    // What the fit leaves of the estimates has almost no spread: the range of log tau starts small.
    const left = initialStats(model.stats, model.predictors).ybar;
    const sd = Math.sqrt(left.reduce((a, v) => a + (v - 3) ** 2, 0) / left.length);
    expect(sd).toBeLessThan(0.05);
    expect(initialStats(model.stats, undefined)).toBe(model.stats);
  });

  it('count data: coefficients start about the fit, within 1 of it in x . beta, and theta about what it leaves', () => {
    const model = makeModel(series(40), new Float64Array(40));
    const fit = predictorFit(model.stats, model.predictors!)!;
    const chains = 64;
    const q = startingPositions(model, keyFromSeed(2), chains);
    const B0 = model.layout.beta.start;
    for (let ch = 0; ch < chains; ch++) {
      let worst = 0;
      for (let k = 0; k < 40; k++) {
        const x = model.predictors!.m.subarray(2 * k, 2 * k + 2);
        worst = Math.max(worst, Math.abs(x[0] * (q[ch * model.dim + B0] - fit[1]) + x[1] * (q[ch * model.dim + B0 + 1] - fit[2])));
      }
      expect(worst).toBeLessThanOrEqual(1);
      expect(Math.abs(q[ch * model.dim + model.layout.global('mu')] - fit[0])).toBeLessThan(2.1);
    }
  });
});
