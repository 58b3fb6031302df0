import type { HierData } from '../data.ts';
import type { Family, GroupFields } from '../family.ts';

/** Default prior of sigma: HalfNormal(5), as the seed study's tau (`priors.ts` DEFAULT_PRIORS). */
const DEFAULT_SIGMA_SCALE = 5;

/**
 * Normal observations with one unknown residual sd: y_i ~ Normal(theta[g_i], sigma), sampled as
 * x = log sigma (`--likelihood normal` with neither a sigma column nor `--sigma`).
 *
 * With n_k observations of mean ybar_k in group k, N = sum n_k and the within-group sum of
 * squares SS = sum_i (y_i - ybar_{g_i})^2, w = e^{-2x} = 1/sigma^2:
 *
 *   sum_i log N(y_i | theta[g_i], sigma) = sum_k -n_k w (theta_k - ybar_k)^2 / 2
 *                                          - N x - SS w / 2 - N log(2 pi) / 2,
 *
 * so a gradient costs O(K): per group l_k = -n_k w (theta_k - ybar_k)^2 / 2 with
 * dl_k/dtheta = -n_k w (theta_k - ybar_k) and dl_k/dx = -2 l_k, and the theta-free term
 * g(x) = -N x - SS w / 2, g'(x) = -N + SS w. Given sigma the likelihood is exactly normal in
 * theta (precision n_k w), which the exact posterior integrates over x (`conditionalNormal`).
 *
 * Fields: a = ybar, b = n (0 and 0 for a group without data); stats = (N, SS, groups with
 * data, the sum of squares about the grand mean). WGSL: shaders/lik/normal_sigma.wgsl.
 */
export const normalSigma: Family = {
  id: 'normal_sigma',
  formula: 'y_i ~ Normal(theta[g_i], sigma),  sigma unknown',
  link: 'identity',
  columns: [],
  yInteger: false,
  shader: new URL('../../../shaders/lik/normal_sigma.wgsl', import.meta.url),
  scalable: true,
  replaces: { family: 'normal', whenMissing: 'sigma' },
  globals: [{
    name: 'log_sigma',
    constrained: { name: 'sigma', of: Math.exp, help: 'residual sd of the observations' },
    logScaleOfY: true,
    prior: { option: '--sigma-prior', default: { kind: 'halfnormal', scale: DEFAULT_SIGMA_SCALE } },
    start: (f) => ({ centre: Math.log(typicalSigma(f)), width: 2 }),
  }],
  checkObservation: () => undefined,
  reduce(data: HierData): GroupFields {
    const { K, y, group } = data;
    const n = new Int32Array(K);
    const a = new Float64Array(K);
    const b = new Float64Array(K);
    let total = 0;
    for (let i = 0; i < y.length; i++) {
      n[group[i]]++;
      a[group[i]] += y[i];
      total += y[i];
    }
    let groups = 0;
    for (let k = 0; k < K; k++) {
      b[k] = n[k];
      if (n[k] > 0) {
        a[k] /= n[k];
        groups++;
      }
    }
    const N = y.length;
    const grand = N > 0 ? total / N : 0;
    let ss = 0;
    let ssTotal = 0;
    for (let i = 0; i < N; i++) {
      const r = y[i] - a[group[i]];
      const t = y[i] - grand;
      ss += r * r;
      ssTotal += t * t;
    }
    return { K, n, a, b, logConst: -0.5 * N * Math.log(2 * Math.PI), stats: Float64Array.of(N, ss, groups, ssTotal) };
  },
  logLik(a, b, theta, grad, x = 0) {
    const w = Math.exp(-2 * x);
    const r = theta - a;
    const pr = b * w * r;
    const l = -0.5 * pr * r;
    grad[0] = -pr;
    grad[1] = -2 * l;
    return l;
  },
  logLikGlobal(stats, x, grad) {
    const [N, ss] = stats;
    const w = Math.exp(-2 * x);
    grad[0] = -N + ss * w;
    return -N * x - 0.5 * ss * w;
  },
  // Unweighted means, as ybar; the within-group residual R enters as -R e^{-2x}/2.
  gaussian: {
    weight: () => 1,
    withinCoefficient(x = 0, grad) {
      const w = Math.exp(-2 * x);
      grad[0] = w;
      return -0.5 * w;
    },
  },
  conditionalNormal(f, x) {
    const w = Math.exp(-2 * x);
    const [N, ss] = f.stats!;
    return { K: f.K, n: f.n, a: f.a, b: f.b.map((n) => n * w), logConst: f.logConst - N * x - 0.5 * ss * w };
  },
  logLikObservation(data, i, theta, x = 0) {
    const r = (data.y[i] - theta) * Math.exp(-x);
    return -0.5 * r * r - x - 0.5 * Math.log(2 * Math.PI);
  },
  approx(f, k, _at, x) {
    if (!(f.n[k] > 0)) return { estimate: 0, se: Infinity, precision: 0 };
    const sigma = x === undefined ? typicalSigma(f) : Math.exp(x);
    return { estimate: f.a[k], se: sigma / Math.sqrt(f.n[k]), precision: f.n[k] / (sigma * sigma) };
  },
  predict(data, i, theta, rng, x = 0) {
    return theta + Math.exp(x) * rng.normal();
  },
};

/**
 * A typical sigma from the data alone: the pooled within-group sd sqrt(SS / (N - K')) where
 * groups have repeated observations, else the sd of all y about their mean, else 1.
 */
function typicalSigma(f: GroupFields): number {
  const [N, ss, groups, ssTotal] = f.stats!;
  if (N > groups && ss > 0) return Math.sqrt(ss / (N - groups));
  if (N > 1 && ssTotal > 0) return Math.sqrt(ssTotal / (N - 1));
  return 1;
}
