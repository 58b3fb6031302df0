import type { HierData } from '../data.ts';
import { invLogit, softplus, sumByGroup, type Family, type GroupFields, type Variates } from '../family.ts';
import { lgamma, pbeta } from '../../diagnostics/special.ts';

/**
 * Binomial observations with the logit link: y_i ~ Binomial(n_i, inv_logit(theta[g_i])).
 *
 * With Y_k = sum y_i and T_k = sum n_i over group k,
 *
 *   sum_i log Binomial(y_i | n_i, p) = Y_k theta - T_k log(1 + e^theta) + sum_i log C(n_i, y_i),
 *   d/dtheta = Y_k - T_k inv_logit(theta),   Fisher information T_k p (1 - p).
 *
 * Fields: a = Y (successes), b = T (trials); 0 and 0 for a group without data.
 * WGSL: shaders/lik/binomial.wgsl.
 */
export const binomial: Family = {
  id: 'binomial',
  formula: 'y_i ~ Binomial(trials_i, p[g_i]),  p = inv_logit(theta)',
  link: 'logit',
  columns: [{ name: 'trials', required: true, integer: true, min: 1, exclusive: false, example: 50, help: 'number of trials of the observation (a whole number >= 1)' }],
  yInteger: true,
  shader: new URL('../../../shaders/lik/binomial.wgsl', import.meta.url),
  scalable: false,
  outcome: { name: 'p', of: invLogit, help: 'success probability inv_logit(theta)' },
  checkObservation(y, column) {
    const t = column('trials');
    return y > t ? { column: 'y', problem: `${y} successes is more than the ${t} trials` } : undefined;
  },
  reduce(data: HierData): GroupFields {
    return sumByGroup(data, data.columns!.trials, (y, t) => logChoose(t, y));
  },
  logLik(a, b, theta, grad) {
    grad[0] = a - b * invLogit(theta);
    return a * theta - b * softplus(theta);
  },
  logLikObservation(data, i, theta) {
    const t = data.columns!.trials[i];
    const y = data.y[i];
    return logChoose(t, y) + y * theta - t * softplus(theta);
  },
  approx(f, k, at) {
    const Y = f.a[k];
    const T = f.b[k];
    if (!(T > 0)) return { estimate: 0, se: Infinity };
    // Empirical logit with a half count added to each side (Haldane; Anscombe 1956).
    const estimate = Math.log((Y + 0.5) / (T - Y + 0.5));
    const p = invLogit(at ?? estimate);
    return { estimate, se: 1 / Math.sqrt(T * p * (1 - p)) };
  },
  predict(data, i, theta, rng) {
    return binomialVariate(data.columns!.trials[i], invLogit(theta), rng);
  },
};

/** log C(n, k). */
function logChoose(n: number, k: number): number {
  return lgamma(n + 1) - lgamma(k + 1) - lgamma(n - k + 1);
}

/**
 * An exact Binomial(n, p) variate by inversion, searched from the mode (Kemp 1986, "A modal
 * method for generating binomial variables", Commun. Statist. Theory Meth. 15): the CDF at the
 * mode is I_{1-p}(n - m, m + 1), then the pmf recursion walks down or up, O(sqrt(n p q))
 * expected steps.
 */
export function binomialVariate(n: number, p: number, rng: Variates): number {
  if (!(p > 0)) return 0;
  if (!(p < 1)) return n;
  if (p > 0.5) return n - binomialVariate(n, 1 - p, rng);
  const q = 1 - p;
  const m = Math.min(n, Math.floor((n + 1) * p));
  const fm = Math.exp(logChoose(n, m) + m * Math.log(p) + (n - m) * Math.log1p(-p));
  const Fm = m === n ? 1 : pbeta(q, n - m, m + 1);
  const u = rng.uniform();
  if (u <= Fm) {
    // Down from the mode: X = k while u > F(k - 1) = F(k) - f(k).
    let k = m;
    let f = fm;
    let F = Fm;
    while (k > 0) {
      const below = F - f;
      if (u > below) break;
      F = below;
      f *= (k * q) / ((n - k + 1) * p);
      k--;
    }
    return k;
  }
  let k = m;
  let f = fm;
  let F = Fm;
  while (k < n && u > F) {
    f *= ((n - k) * p) / ((k + 1) * q);
    k++;
    F += f;
  }
  return k;
}
