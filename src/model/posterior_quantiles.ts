import { GL_W, GL_X, normalCdf, normalPdf } from './posterior_core.ts';

/**
 * Quantiles for the exact posterior with a family global (`posterior_global.ts`): of a mixture
 * of normals (`mixtureQuantiles`, with a fast normal CDF, `phiTaylor`) and of densities known
 * by their samples on uniform grids (`SincDensity`, `sincQuantiles`), each by safeguarded
 * Newton iteration on the CDF (`solveCdf`).
 */

/** Newton stops once a step is below this fraction of the distribution's sd (quadratic convergence: the error is then far below it). */
const QUANTILE_STEP_TOL = 1e-10;
/** Standard normal quantiles at the reported levels (Newton's starting points). */
const Z_OF_LEVEL = new Map([
  [0.05, -1.6448536269514722],
  [0.5, 0],
  [0.95, 1.6448536269514722],
]);

/**
 * The x where the increasing CDF(x) = target: Newton from `start`, with false position
 * between the bracket's ends whenever Newton leaves it (bisection if that does too) and steps
 * of one sd while one end is still open. `cdf(x, d)` returns CDF(x) and writes its density
 * into d[0] and, where it knows it, the density's derivative into d[1] (else NaN). Stops once
 * the error after the Newton step, step^2 |d[1]| / (2 d[0]) (quadratic convergence), or else
 * the step itself is below QUANTILE_STEP_TOL sd.
 */
export function solveCdf(cdf: (x: number, d: Float64Array) => number, target: number, start: number, sd: number): number {
  const d = new Float64Array(2);
  let lo = -Infinity;
  let hi = Infinity;
  let gLo = 0;
  let gHi = 0;
  let x = start;
  for (let it = 0; it < 200; it++) {
    d[1] = NaN;
    const g = cdf(x, d) - target;
    const step = g / d[0];
    const after = Number.isNaN(d[1]) ? Math.abs(step) : Math.abs(step) <= 1e-3 * sd ? (step * step * Math.abs(d[1])) / (2 * d[0]) : Infinity;
    if (after <= QUANTILE_STEP_TOL * sd && Math.abs(step) <= sd) return x - step;
    if (g > 0) [hi, gHi] = [x, g];
    else [lo, gLo] = [x, g];
    let next = x - step;
    if (!(next > lo && next < hi)) {
      next = Number.isFinite(lo) && Number.isFinite(hi) ? lo - (gLo * (hi - lo)) / (gHi - gLo) : x + (g > 0 ? -sd : sd);
      if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
    }
    x = next;
  }
  return x;
}

/**
 * Quantiles of the mixture sum_i w_i N(m_i, sd_i^2) (weights need not sum to 1), with
 * `phiTaylor` for Phi and phi, from the Cornish-Fisher expansion of its quantiles in its
 * skewness and excess kurtosis (Abramowitz & Stegun 26.2.51, to the terms in gamma_1^2 and
 * gamma_2), which leaves Newton about two steps.
 */
export function mixtureQuantiles(w: Float64Array, m: Float64Array, sd: Float64Array, levels: readonly number[]): number[] {
  const n = w.length;
  let total = 0;
  let mean = 0;
  for (let i = 0; i < n; i++) {
    total += w[i];
    mean += w[i] * m[i];
  }
  mean /= total;
  let m2 = 0;
  let m3 = 0;
  let m4 = 0;
  const inv = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const e = m[i] - mean;
    const v = sd[i] * sd[i];
    m2 += w[i] * (e * e + v);
    m3 += w[i] * e * (e * e + 3 * v);
    m4 += w[i] * (e * e * (e * e + 6 * v) + 3 * v * v);
    inv[i] = 1 / sd[i];
  }
  [m2, m3, m4] = [m2 / total, m3 / total, m4 / total];
  const scale = Math.sqrt(m2);
  const g1 = m3 / (m2 * scale);
  const g2 = m4 / (m2 * m2) - 3;
  const one = new Float64Array(1);
  const cdf = (x: number, d: Float64Array) => {
    let F = 0;
    let f = 0;
    let df = 0;
    for (let i = 0; i < n; i++) {
      const z = (x - m[i]) * inv[i];
      F += w[i] * phiTaylor(z, one);
      const p = w[i] * one[0] * inv[i];
      f += p;
      df -= p * z * inv[i];
    }
    [d[0], d[1]] = [f, df];
    return F;
  };
  return levels.map((p) => {
    const z = Z_OF_LEVEL.get(p) ?? 0;
    const cf = z + ((z * z - 1) * g1) / 6 + ((z * z * z - 3 * z) * g2) / 24 - ((2 * z * z * z - 5 * z) * g1 * g1) / 36;
    return solveCdf(cdf, p * total, mean + (Number.isFinite(cf) ? cf : z) * scale, scale);
  });
}

/** Spacing and half-range of the Phi table (Phi(-9) = 1.1e-19). */
const PHI_STEP = 1 / 128;
const PHI_RANGE = 9;
/** Taylor terms: |d| <= 1/256 and |x0| < 9, so term n is below ((9 + 1)/256)^n / n! (< 1e-18 at n = 9). */
const PHI_TERMS = 8;
/** 1/(n + 1) and 1/(n + 2) for the Taylor recursion (no division in the loop). */
const INV_N1 = Float64Array.from({ length: PHI_TERMS }, (_, n) => 1 / (n + 1));
const INV_N2 = Float64Array.from({ length: PHI_TERMS }, (_, n) => 1 / (n + 2));
let phiTable: Float64Array | undefined;

/**
 * Phi(z), and phi(z) in pdf[0], from the Taylor series about the nearest node x0 of a table
 * (spacing PHI_STEP, from `normalCdf`): with phi^{(n)}(x) = (-1)^n He_n(x) phi(x) and
 * g_n = (-1)^n He_n(x0) d^n / n!, d = z - x0 (so g_{n+1} = -(x0 d g_n + d^2 g_{n-1})/(n+1)),
 *   phi(z) = phi(x0) sum_n g_n,   Phi(z) = Phi(x0) + phi(x0) sum_n g_n d/(n + 1),
 * absolute error below 1e-15 (the table's), several times faster than `normalCdf`. |z| >= 9:
 * 0 or 1 (error < 1.2e-19).
 */
export function phiTaylor(z: number, pdf: Float64Array): number {
  if (!(Math.abs(z) < PHI_RANGE)) {
    pdf[0] = 0;
    return z > 0 ? 1 : 0;
  }
  const t = (phiTable ??= makePhiTable());
  const i = Math.round((z + PHI_RANGE) * (1 / PHI_STEP));
  const x0 = i * PHI_STEP - PHI_RANGE;
  const d = z - x0;
  const a = x0 * d;
  const b = d * d;
  let gPrev = 0;
  let g = 1;
  let sumP = 1;
  let sumC = d;
  for (let n = 0; n < PHI_TERMS; n++) {
    const next = -(a * g + b * gPrev) * INV_N1[n];
    gPrev = g;
    g = next;
    sumP += g;
    sumC += g * d * INV_N2[n];
  }
  pdf[0] = t[2 * i + 1] * sumP;
  return t[2 * i] + t[2 * i + 1] * sumC;
}

function makePhiTable(): Float64Array {
  const n = Math.round((2 * PHI_RANGE) / PHI_STEP) + 1;
  const t = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    const x = i * PHI_STEP - PHI_RANGE;
    t[2 * i] = normalCdf(x);
    t[2 * i + 1] = normalPdf(x);
  }
  return t;
}

/**
 * A density known by samples p_m >= 0 at t_m = t0 + m h (any normalization; negligible
 * at and beyond the ends, where it is taken as 0), through its sinc interpolant p(t) = sum_m p_m sinc((t - t_m)/h)
 * (Whittaker's cardinal function; Stenger 1993, Numerical Methods Based on Sinc and Analytic
 * Functions, §1.10), accurate to about the square root of the trapezoid error of the same
 * samples, and its integral
 *
 *   F(t) = h sum_m p_m (1/2 + Si(pi (t - t_m)/h) / pi)
 *
 * (Stenger §3.6, sinc indefinite integration): at the nodes from a table of Si(pi d), between
 * them by Gauss-Legendre on the interpolant. `total` = h sum_m p_m = F(infinity).
 */
export class SincDensity {
  readonly total: number;
  private readonly F: Float64Array;

  constructor(
    private readonly p: Float64Array,
    private readonly t0: number,
    private readonly h: number,
  ) {
    const n = p.length;
    const si = siPiTable(n);
    this.F = new Float64Array(n);
    let total = 0;
    for (let i = 0; i < n; i++) {
      let sum = 0;
      for (let m = 0; m < n; m++) sum += p[m] * (0.5 + (i >= m ? si[i - m] : -si[m - i]) / Math.PI);
      this.F[i] = h * sum;
      total += p[i];
    }
    this.total = h * total;
  }

  /**
   * p(t). With u = (t - t0)/h = m0 + r (|r| <= 1/2), sin(pi (u - m)) = (-1)^{m0 - m} sin(pi r):
   * one sine per evaluation and no loss of accuracy near the nodes.
   */
  density(t: number): number {
    const { p } = this;
    const u = (t - this.t0) / this.h;
    // Beyond a spacing outside the samples only the sinc tails of the (negligible) end samples reach.
    if (!(u > -1 && u < p.length)) return 0;
    const m0 = Math.round(u);
    const r = u - m0;
    if (r === 0) return m0 >= 0 && m0 < p.length ? p[m0] : 0;
    let sum = 0;
    for (let m = 0; m < p.length; m++) sum += ((m0 - m) & 1 ? -p[m] : p[m]) / (u - m);
    return (Math.sin(Math.PI * r) / Math.PI) * sum;
  }

  /** F(t): the node's F below t plus four 5-point Gauss-Legendre panels (exact to rounding for a function band-limited to pi/h over at most h). */
  cdf(t: number): number {
    const n = this.p.length;
    const u = (t - this.t0) / this.h;
    if (u <= 0) return u === 0 ? this.F[0] : 0;
    if (u >= n - 1) return this.total;
    const i = Math.floor(u);
    const a = this.t0 + i * this.h;
    const w = (t - a) / 4;
    let sum = 0;
    for (let q = 0; q < 4; q++) {
      const c = a + (q + 0.5) * w;
      for (let g = 0; g < 5; g++) sum += GL_W[g] * this.density(c + 0.5 * w * GL_X[g]);
    }
    return this.F[i] + 0.5 * w * sum;
  }
}

/** Quantiles of a sampled density (`SincDensity`) at `levels`, Newton from its mean and sd. */
export function sincQuantiles(p: Float64Array, t0: number, h: number, levels: readonly number[]): number[] {
  if (p.length === 1) return levels.map(() => t0);
  const d = new SincDensity(p, t0, h);
  let m1 = 0;
  let m2 = 0;
  for (let i = 0; i < p.length; i++) {
    const t = t0 + i * h;
    m1 += p[i] * t;
    m2 += p[i] * t * t;
  }
  const mean = (m1 * h) / d.total;
  const sd = Math.sqrt(Math.max((m2 * h) / d.total - mean * mean, h * h));
  const cdf = (t: number, dens: Float64Array) => {
    dens[0] = d.density(t);
    return d.cdf(t);
  };
  return levels.map((level) => solveCdf(cdf, level * d.total, mean + (Z_OF_LEVEL.get(level) ?? 0) * sd, sd));
}

/** Si(pi d) = integral_0^{pi d} sin(t)/t dt for d = 0..n-1: 5-point Gauss-Legendre on eighths of each [pi (d-1), pi d] (error < 1e-16). */
function siPiTable(n: number): Float64Array {
  const si = new Float64Array(n);
  const w = Math.PI / 8;
  for (let d = 1; d < n; d++) {
    let sum = 0;
    for (let q = 0; q < 8; q++) {
      const c = Math.PI * (d - 1) + (q + 0.5) * w;
      for (let g = 0; g < 5; g++) {
        const t = c + 0.5 * w * GL_X[g];
        sum += GL_W[g] * (Math.sin(t) / t);
      }
    }
    si[d] = si[d - 1] + 0.5 * w * sum;
  }
  return si;
}
