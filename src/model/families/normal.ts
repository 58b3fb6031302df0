import type { HierData } from '../data.ts';
import type { Family, GroupFields } from '../family.ts';

/**
 * Normal observations with known sd: y_i ~ Normal(theta[g_i], sigma_i).
 *
 * For group k with precision P_k = sum_i 1/sigma_i^2 and precision-weighted mean
 * ybar_k = (sum_i y_i/sigma_i^2) / P_k,
 *
 *   sum_i log N(y_i | theta, sigma_i) = -P_k (theta - ybar_k)^2 / 2 + C_k,
 *   C_k = -1/2 sum_i (y_i - ybar_k)^2/sigma_i^2 - 1/2 sum_i log(2 pi sigma_i^2),
 *
 * so a gradient costs O(K), and the device evaluates -P (theta - ybar)^2 / 2, which has no
 * S2 - 2 theta S1 + n theta^2 cancellation in float32. Fields: a = ybar, b = P (both 0 for a
 * group without data). WGSL: shaders/lik/normal.wgsl.
 */
export const normal: Family = {
  id: 'normal',
  formula: 'y_i ~ Normal(theta[g_i], sigma_i)',
  link: 'identity',
  columns: [{ name: 'sigma', required: true, option: '--sigma', integer: false, min: 0, exclusive: true, example: 10, help: 'known measurement sd of the observation (> 0)' }],
  yInteger: false,
  shader: new URL('../../../shaders/lik/normal.wgsl', import.meta.url),
  scalable: true,
  checkObservation: () => undefined,
  reduce(data: HierData): GroupFields {
    const { K, y, group, sigma } = data;
    const n = new Int32Array(K);
    const a = new Float64Array(K);
    const b = new Float64Array(K);
    let logConst = 0;
    for (let i = 0; i < y.length; i++) {
      const k = group[i];
      const w = 1 / (sigma[i] * sigma[i]);
      n[k]++;
      b[k] += w;
      a[k] += w * y[i];
      logConst -= 0.5 * Math.log(2 * Math.PI * sigma[i] * sigma[i]);
    }
    for (let k = 0; k < K; k++) a[k] = n[k] > 0 ? a[k] / b[k] : 0;
    for (let i = 0; i < y.length; i++) {
      const r = (y[i] - a[group[i]]) / sigma[i];
      logConst -= 0.5 * r * r;
    }
    return { K, n, a, b, logConst };
  },
  logLik(a, b, theta, grad) {
    const pr = b * (theta - a);
    grad[0] = -pr;
    return -0.5 * pr * (theta - a);
  },
  logLikObservation(data, i, theta) {
    const s = data.sigma[i];
    const r = (data.y[i] - theta) / s;
    return -0.5 * r * r - Math.log(s) - 0.5 * Math.log(2 * Math.PI);
  },
  // Weights 1/sigma_i^2, as in ybar; the within-group residual R enters as -R/2.
  gaussian: {
    weight: (data, i) => 1 / (data.sigma[i] * data.sigma[i]),
    withinCoefficient(_x, grad) {
      grad[0] = 0;
      return -0.5;
    },
  },
  // Normal in theta already: its fields are the normal fields (the exact posterior, posterior.ts).
  conditionalNormal: (f) => f,
  approx(f, k) {
    return { estimate: f.a[k], se: f.n[k] > 0 ? 1 / Math.sqrt(f.b[k]) : Infinity, precision: f.b[k] };
  },
  predict(data, i, theta, rng) {
    return theta + data.sigma[i] * rng.normal();
  },
};
