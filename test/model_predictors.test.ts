import { describe, expect, it } from 'vitest';
import { FAMILIES } from '../src/model/families/index.ts';
import { familyGlobalOf, logDensityGrad, logJointPerObservation, makeModel, constrain, unconstrain } from '../src/model/model.ts';
import { constantWithinGroups, predictorStats } from '../src/model/predictors.ts';
import type { Priors } from '../src/model/priors.ts';
import { mulberry32 } from '../src/gpu/kernel_check.ts';
import { predictorDataset as dataset, normal } from './predictor_data.ts';

/*
 * The model with population-level predictors, eta_i = theta[g_i] + x_i . beta, in float64:
 * its gradient against finite differences, and its log density against the per-observation
 * log joint (`logJointPerObservation`, straight from the definition, which never sees the
 * reduced statistics of `predictors.ts`), for every family and both designs: predictors
 * constant within groups (the group path for every family) and varying within groups (the
 * Gaussian families' within-group cross products; the observation path of the others).
 */

const PRIORS: Priors = { mu: { kind: 'normal', loc: 0.3, scale: 2 }, tau: { kind: 'halfnormal', scale: 1.5 }, beta: { kind: 'normal', loc: -0.2, scale: 1.7 } };

function fd(f: (x: number) => number, x: number, h: number): number {
  const d = (s: number) => (f(x + s) - f(x - s)) / (2 * s);
  return (4 * d(h / 2) - d(h)) / 3;
}

for (const family of FAMILIES) {
  for (const varying of [false, true]) {
    const design = varying ? 'varying within groups' : 'constant within groups';
    describe(`${family.id}, predictors ${design}`, () => {
      const K = 7;
      const P = 3;
      const data = dataset(family, K, P, varying, 11 + (varying ? 1 : 0));
      const stats = predictorStats(data, family)!;
      const path = !varying || family.gaussian ? 'group' : 'observation';

      it(`reduces to the ${path} path`, () => {
        expect(constantWithinGroups(data)).toBe(!varying);
        expect(stats.path).toBe(path);
        expect(stats.within !== undefined).toBe(varying && family.gaussian !== undefined);
      });

      const u = mulberry32(5);
      const cases: Record<string, Float64Array> = {
        centered: new Float64Array(K).fill(1),
        'non-centered': new Float64Array(K),
        mixed: Float64Array.from({ length: K }, () => Math.round(u())),
        partial: Float64Array.from({ length: K }, () => u()),
      };
      for (const [cname, c] of Object.entries(cases)) {
        const model = makeModel(data, c, PRIORS);
        const D = model.dim;
        const points = Array.from({ length: 6 }, () => {
          const mu = normal(u);
          const tau = Math.exp(-1.5 + 2 * u());
          const theta = Float64Array.from({ length: K }, () => mu + tau * normal(u));
          const beta = Float64Array.from({ length: P }, () => 0.7 * normal(u));
          const x = familyGlobalOf(model) ? -0.5 + u() : undefined;
          return { mu, tau, theta, beta, x, q: unconstrain(model, mu, tau, theta, x, beta) };
        });

        it(`${cname}: layout puts beta[x0..x2] after the globals, and constrain inverts unconstrain`, () => {
          expect(D).toBe(2 + (familyGlobalOf(model) ? 1 : 0) + P + K);
          expect(model.layout.names(data.labels).slice(model.layout.beta.start, model.layout.beta.start + P)).toEqual(['beta[x0]', 'beta[x1]', 'beta[x2]']);
          for (const p of points) {
            const back = constrain(model, p.q);
            expect(Array.from(back.beta!)).toEqual(Array.from(p.beta));
            for (let k = 0; k < K; k++) expect(back.theta[k]).toBeCloseTo(p.theta[k], 12);
          }
        });

        it(`${cname}: gradient matches finite differences`, () => {
          const g = new Float64Array(D);
          const gp = new Float64Array(D);
          for (const p of points) {
            const lp = logDensityGrad(model, p.q, g);
            expect(Number.isFinite(lp)).toBe(true);
            for (let d = 0; d < D; d++) {
              const h = 1e-4 * (1 + Math.abs(p.q[d]));
              const num = fd((v) => {
                const qq = Float64Array.from(p.q);
                qq[d] = v;
                return logDensityGrad(model, qq, gp);
              }, p.q[d], h);
              expect(Math.abs(num - g[d]), `coordinate ${d}: ${g[d]} vs ${num}`).toBeLessThanOrEqual(1e-6 * (1 + Math.abs(g[d]) + 1e-3 * Math.abs(lp)));
            }
          }
        });

        it(`${cname}: log p(q) = per-observation log joint + log-Jacobian, up to one constant`, () => {
          const g = new Float64Array(D);
          let offset: number | undefined;
          for (const p of points) {
            const s = Math.log(p.tau);
            let jac = s + (p.x ?? 0);
            for (let k = 0; k < K; k++) jac += (1 - c[k]) * s;
            const lp = logDensityGrad(model, p.q, g);
            const joint = logJointPerObservation(data, PRIORS, p.mu, p.tau, p.theta, p.x, p.beta) + jac;
            offset ??= lp - joint;
            expect(Math.abs(lp - joint - offset)).toBeLessThanOrEqual(1e-9 * (1 + Math.abs(lp)));
          }
        });
      }
    });
  }
}

describe('predictorStats', () => {
  it('a model without predictors has none and keeps the plain layout', () => {
    const data = dataset(FAMILIES[0], 4, 1, false, 3);
    const { predictors: _, ...plain } = data;
    const model = makeModel(plain, new Float64Array(4));
    expect(model.predictors).toBeUndefined();
    expect(model.layout.beta).toEqual({ start: 2, count: 0 });
    expect(model.dim).toBe(6);
  });

  it('group path of a Gaussian family: weighted means and within-group cross products from their definitions', () => {
    const family = FAMILIES[0];
    const data = dataset(family, 5, 2, true, 8);
    const s = predictorStats(data, family)!;
    const P = 2;
    for (let k = 0; k < 5; k++) {
      let W = 0;
      const m = [0, 0];
      for (let i = 0; i < data.y.length; i++) {
        if (data.group[i] !== k) continue;
        const w = 1 / data.sigma[i] ** 2;
        W += w;
        for (let p = 0; p < P; p++) m[p] += w * data.predictors!.X[i * P + p];
      }
      for (let p = 0; p < P; p++) expect(s.m[k * P + p]).toBeCloseTo(W > 0 ? m[p] / W : 0, 12);
    }
    // Cxx is symmetric positive semi-definite.
    const xx = s.within!.xx;
    expect(xx[1]).toBe(xx[2]);
    expect(xx[0] * xx[3] - xx[1] * xx[2]).toBeGreaterThanOrEqual(0);
  });
});
