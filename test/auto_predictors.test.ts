import { describe, expect, it } from 'vitest';
import { FAMILIES } from '../src/model/families/index.ts';
import { makeModel, unconstrain } from '../src/model/model.ts';
import { ensembleBeta, groupOffsets, statePrecision } from '../src/sampler/auto_centeredness.ts';
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
