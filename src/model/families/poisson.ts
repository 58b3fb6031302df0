import type { HierData } from '../data.ts';
import { sumByGroup, type Family, type GroupFields, type Variates } from '../family.ts';
import { lgamma } from '../../diagnostics/special.ts';

/**
 * Poisson counts with the log link and an exposure: y_i ~ Poisson(e_i exp(theta[g_i])).
 *
 * With Y_k = sum y_i and E_k = sum e_i over group k,
 *
 *   sum_i log Poisson(y_i | e_i e^theta) = Y_k theta - E_k e^theta + sum_i (y_i log e_i - log y_i!),
 *   d/dtheta = Y_k - E_k e^theta,   Fisher information E_k e^theta.
 *
 * Fields: a = Y (events), b = E (exposure); 0 and 0 for a group without data.
 * WGSL: shaders/lik/poisson.wgsl.
 */
export const poisson: Family = {
  id: 'poisson',
  formula: 'y_i ~ Poisson(exposure_i rate[g_i]),  rate = exp(theta)',
  link: 'log',
  columns: [{ name: 'exposure', required: false, value: 1, integer: false, min: 0, exclusive: true, example: 1, help: 'exposure of the observation (> 0; default 1)' }],
  yInteger: true,
  shader: new URL('../../../shaders/lik/poisson.wgsl', import.meta.url),
  scalable: false,
  outcome: { name: 'rate', of: Math.exp, help: 'event rate exp(theta) per unit exposure' },
  checkObservation: () => undefined,
  reduce(data: HierData): GroupFields {
    return sumByGroup(data, data.columns!.exposure, (y, e) => y * Math.log(e) - lgamma(y + 1));
  },
  logLik(a, b, theta, grad) {
    const m = b * Math.exp(theta);
    grad[0] = a - m;
    return a * theta - m;
  },
  logLikObservation(data, i, theta) {
    const e = data.columns!.exposure[i];
    const y = data.y[i];
    return y * (theta + Math.log(e)) - e * Math.exp(theta) - lgamma(y + 1);
  },
  approx(f, k, at) {
    const Y = f.a[k];
    const E = f.b[k];
    if (!(E > 0)) return { estimate: 0, se: Infinity };
    const estimate = Math.log((Y + 0.5) / E);
    return { estimate, se: 1 / Math.sqrt(E * Math.exp(at ?? estimate)) };
  },
  predict(data, i, theta, rng) {
    return poissonVariate(data.columns!.exposure[i] * Math.exp(theta), rng);
  },
};

/**
 * An exact Poisson(lambda) variate: inversion by sequential search for lambda < 10; else
 * Hörmann's transformed rejection with squeeze, PTRS (1993, "The transformed rejection method
 * for generating Poisson random variables", Insurance: Math. Econ. 12, 39–45).
 */
export function poissonVariate(lambda: number, rng: Variates): number {
  if (!(lambda > 0)) return 0;
  if (!Number.isFinite(lambda)) return Infinity;
  if (lambda < 10) {
    let k = 0;
    let f = Math.exp(-lambda);
    let F = f;
    const u = rng.uniform();
    while (u > F && k < 1000) {
      k++;
      f *= lambda / k;
      F += f;
    }
    return k;
  }
  const slam = Math.sqrt(lambda);
  const loglam = Math.log(lambda);
  const b = 0.931 + 2.53 * slam;
  const a = -0.059 + 0.02483 * b;
  const invalpha = 1.1239 + 1.1328 / (b - 3.4);
  const vr = 0.9277 - 3.6224 / (b - 2);
  for (;;) {
    const U = rng.uniform() - 0.5;
    const V = rng.uniform();
    const us = 0.5 - Math.abs(U);
    const k = Math.floor(((2 * a) / us + b) * U + lambda + 0.43);
    if (us >= 0.07 && V <= vr) return k;
    if (k < 0 || (us < 0.013 && V > us)) continue;
    if (Math.log(V) + Math.log(invalpha) - Math.log(a / (us * us) + b) <= -lambda + k * loglam - lgamma(k + 1)) return k;
  }
}
