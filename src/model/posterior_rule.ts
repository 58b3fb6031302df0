import { QUANTILE_LEVELS, TAIL_LOG_DROP, type TauGrid } from './posterior_core.ts';
import { mixtureQuantiles, SincDensity, sincQuantiles, solveCdf } from './posterior_quantiles.ts';
import type { GroupStats } from './suffstats.ts';

/**
 * The product quadrature rule of `posterior_global.ts` over (s = log tau, x = the family
 * global): its columns (one x each, on a sinh-mapped x axis) and their rows (on each column's
 * own sinh-mapped s axis), the moments by the rule and by its sub-rules, and the quantiles and
 * TauGrid of its marginals. See `posterior_global.ts` for the method.
 */

/** The axes' scale a: this multiple of the curvature sd at the centre (an sd above 1 counts as 1). */
export const SINH_SCALE_PER_SD = 4;
/** Hard limits on columns and on rows per column (tails decay at least exponentially, so never hit). */
const MAX_COLUMNS = 1 << 16;
const MAX_ROWS = 1 << 20;
/** Mixture quantiles drop the lightest nodes whose weights sum to at most this fraction (CDF error at most this). */
const QUANTILE_MASS_TOL = 1e-11;
/** Most points of the TauGrid (the marginal of s on a uniform grid, for figures). */
const MAX_GRID_POINTS = 2048;
/** Step of the central differences for curvatures and of the conditional mode's Newton iteration. */
export const FD_STEP = 1e-3;
/** Standard normal quantiles at QUANTILE_LEVELS: Newton's starting points for s, mean + z sd. */
const Z_LEVELS = [-1.6448536269514722, 0, 1.6448536269514722];
/** Golden-section tolerance of the mode search (relative to 1 + |t|); modes only centre the axes. */
const MODE_TOL = 1e-7;

/** One x: the known-sd statistics given x and log f(s, x) as a function of s (with M, V of mu | s, x, y in `out`). */
export interface Slice {
  readonly stats: GroupStats;
  readonly lf: (s: number, out?: { M: number; V: number }) => number;
}

/** NaN (an overflow far in a tail) counts as -Infinity. */
const finite = (v: number) => (Number.isNaN(v) ? -Infinity : v);

/** A local maximum of f near t0: walk uphill with doubling steps until bracketed, then golden section. */
export function localMax(f: (t: number) => number, t0: number, step: number): number {
  let [a, b, c] = [t0 - step, t0, t0 + step];
  let [fa, fb, fc] = [finite(f(a)), finite(f(b)), finite(f(c))];
  for (let it = 0; it < 200 && !(fb >= fa && fb >= fc); it++) {
    step *= 2;
    if (fc > fa) {
      [a, fa, b, fb] = [b, fb, c, fc];
      c = b + step;
      fc = finite(f(c));
    } else {
      [c, fc, b, fb] = [b, fb, a, fa];
      a = b - step;
      fa = finite(f(a));
    }
  }
  const g = (Math.sqrt(5) - 1) / 2;
  let p = c - g * (c - a);
  let q = a + g * (c - a);
  let fp = finite(f(p));
  let fq = finite(f(q));
  for (let it = 0; it < 200 && c - a > MODE_TOL * (1 + Math.abs(b)); it++) {
    if (fp > fq) {
      [c, q, fq] = [q, p, fp];
      p = c - g * (c - a);
      fp = finite(f(p));
    } else {
      [a, p, fp] = [p, q, fq];
      q = a + g * (c - a);
      fq = finite(f(q));
    }
  }
  return 0.5 * (a + c);
}

/** sd of a log density at t from its curvature (central differences); 1 where it is not concave. */
function curvatureSd(f: (t: number) => number, t: number): number {
  const d2 = (f(t + FD_STEP) - 2 * f(t) + f(t - FD_STEP)) / (FD_STEP * FD_STEP);
  return d2 < 0 && Number.isFinite(d2) ? 1 / Math.sqrt(-d2) : 1;
}

/**
 * The mode of f(., x) from `start` by Newton's method on central differences (a few steps from
 * a neighbour's mode), golden section where f is not concave there; and its curvature sd.
 */
function conditionalMode(f: (t: number) => number, start: number): { centre: number; sd: number } {
  let t = start;
  for (let it = 0; it < 20; it++) {
    const [fm, f0, fp] = [f(t - FD_STEP), f(t), f(t + FD_STEP)];
    const d2 = (fp - 2 * f0 + fm) / (FD_STEP * FD_STEP);
    if (!(d2 < 0 && Number.isFinite(d2))) break;
    const step = Math.max(-1, Math.min(1, -((fp - fm) / (2 * FD_STEP)) / d2));
    t += step;
    if (Math.abs(step) <= 1e-3 / Math.sqrt(-d2)) return { centre: t, sd: curvatureSd(f, t) };
  }
  const c = localMax(f, t, 0.25);
  return { centre: c, sd: curvatureSd(f, c) };
}

/** An axis of the rule: node i at t_i = centre + a sinh(i h), weight a cosh(i h) h. */
export interface Axis {
  readonly centre: number;
  readonly a: number;
  readonly h: number;
}

const axisAt = (ax: Axis, i: number) => ax.centre + ax.a * Math.sinh(i * ax.h);
const axisLogJacobian = (ax: Axis, i: number) => Math.log(ax.a * Math.cosh(i * ax.h));

/** One column of the rule (one x), rows lo .. lo + n - 1 on its own s axis. */
export interface Column {
  readonly j: number;
  readonly x: number;
  readonly sAxis: Axis;
  readonly lo: number;
  /** log f(s_i, x_j) + the log-Jacobians of both axes: the node's log weight (before h^2). */
  readonly lw: Float64Array;
  readonly s: Float64Array;
  /** mu | s, x, y ~ N(M, V) at each node; tau^2 = e^{2s}. */
  readonly M: Float64Array;
  readonly V: Float64Array;
  readonly tau2: Float64Array;
  /** Per group: precision P_k(x) and estimate ybar_k(x) of the conditional normal likelihood. */
  readonly P: Float64Array;
  readonly ybar: Float64Array;
}

export interface Rule {
  readonly xAxis: Axis;
  /** Spacing of every column's s axis (in its v). */
  readonly hs: number;
  /** Largest node log weight. */
  readonly top: number;
  /** In increasing j, contiguous. */
  readonly cols: readonly Column[];
}

/**
 * The product rule with spacings `hs` (rows) and `xAxis.h` (columns). Column j (x on `xAxis`) centres its s axis at the mode of
 * f(., x) (from its neighbour's) and extends both ways until the log weight is TAIL_LOG_DROP
 * below the rule's maximum, and so is e^{mX x} times it, and upwards also until tau^mTau
 * times it is (as the 1-D grid, so that E[tau^2] and E[e^{2x}] converge); columns are added
 * outwards until a whole column is below.
 */
export function buildRule(sliceAt: (x: number) => Slice, name: string, xAxis: Axis, hs: number, sMode: number, mTau: number, mX: number): Rule {
  let top = -Infinity;
  let topTau = -Infinity;
  let topX = -Infinity;
  const column = (j: number, start: number): { col: Column; below: boolean } => {
    const x = axisAt(xAxis, j);
    const jx = axisLogJacobian(xAxis, j);
    const sl = sliceAt(x);
    const mode = conditionalMode(sl.lf, start);
    const sAxis: Axis = { centre: mode.centre, a: SINH_SCALE_PER_SD * Math.min(mode.sd, 1), h: hs };
    const cache = new Map<number, [number, number, number]>();
    const mv = { M: 0, V: 0 };
    const ev = (i: number): number => {
      let e = cache.get(i);
      if (e === undefined) {
        const s = axisAt(sAxis, i);
        const v = finite(sl.lf(s, mv)) + axisLogJacobian(sAxis, i) + jx;
        e = [v, mv.M, mv.V];
        cache.set(i, e);
        top = Math.max(top, v);
        topTau = Math.max(topTau, v + mTau * s);
        topX = Math.max(topX, v + mX * x);
      }
      return e[0];
    };
    // A row is negligible when it is, weighted by e^{mX x} (this column's) and, upwards, by tau^mTau.
    const negligible = (i: number) => ev(i) < top - TAIL_LOG_DROP && ev(i) + mX * x < topX - TAIL_LOG_DROP;
    let hi = 0;
    while (!(negligible(hi) && ev(hi) + mTau * axisAt(sAxis, hi) < topTau - TAIL_LOG_DROP) && hi < MAX_ROWS) hi++;
    let lo = 0;
    while (!negligible(lo) && lo > -MAX_ROWS) lo--;
    const n = hi - lo + 1;
    const [lw, sv, M, V, tau2] = Array.from({ length: 5 }, () => new Float64Array(n));
    let best = -Infinity;
    let bestTau = -Infinity;
    for (let r = 0; r < n; r++) {
      const [v, m, w] = cache.get(lo + r)!;
      const s = axisAt(sAxis, lo + r);
      [lw[r], sv[r], M[r], V[r], tau2[r]] = [v, s, m, w, Math.exp(2 * s)];
      best = Math.max(best, v);
      bestTau = Math.max(bestTau, v + mTau * s);
    }
    const below = best < top - TAIL_LOG_DROP && bestTau < topTau - TAIL_LOG_DROP && best + mX * x < topX - TAIL_LOG_DROP;
    return { col: { j, x, sAxis, lo, lw, s: sv, M, V, tau2, P: sl.stats.precision, ybar: sl.stats.ybar }, below };
  };
  const cols: Column[] = [];
  for (const dir of [1, -1]) {
    let start = dir === 1 ? sMode : cols[0].sAxis.centre;
    for (let j = dir === 1 ? 0 : -1; ; j += dir) {
      if (cols.length >= MAX_COLUMNS) throw new RangeError(`the exact posterior's quadrature needs more than ${MAX_COLUMNS} columns in ${name}`);
      const { col, below } = column(j, start);
      cols.push(col);
      start = col.sAxis.centre;
      if (below) break;
    }
  }
  cols.sort((a, b) => a.j - b.j);
  return { xAxis, hs, top, cols };
}

/** Slots of the moments vector (mean, sd pairs): mu, tau, log tau, x, g(x), then theta_k at THETA + 2k. */
export const MU = 0;
export const TAU = 2;
export const LOG_TAU = 4;
export const X = 6;
export const GX = 8;
export const THETA = 10;

/**
 * A sub-rule: every 2^ls-th row of every 2^lx-th column (the rule at spacings 2^ls h_s and
 * 2^lx h_x); (0, 0) is the rule itself.
 */
export interface Level {
  readonly ls: number;
  readonly lx: number;
}

/** A column's first row offset on the sub-rule, or -1 when the column is not on it. */
function firstOnLevel(col: Column, level: Level): number {
  if (col.j % (1 << level.lx) !== 0) return -1;
  const stride = 1 << level.ls;
  const r = (((-col.lo) % stride) + stride) % stride;
  return r < col.lw.length ? r : -1;
}

export interface Moments {
  readonly logZ: number;
  readonly moments: Float64Array;
}

/**
 * Means and sds (`MU` ... `THETA` slots) and log p(y) by the sub-rule `level`: each a
 * mixture over the nodes of the conditional moments, accumulated about `shift` (the values at
 * the mode) against cancellation.
 */
export function ruleMoments(rule: Rule, level: Level, shift: Float64Array, K: number, of: (x: number) => number): Moments {
  const stride = 1 << level.ls;
  const s1 = new Float64Array(THETA + 2 * K);
  const s2 = new Float64Array(THETA + 2 * K);
  const add = (slot: number, w: number, m: number, v: number) => {
    const d = m - shift[slot];
    s1[slot] += w * d;
    s2[slot] += w * (v + d * d);
  };
  let total = 0;
  let wr = new Float64Array(0);
  for (const col of rule.cols) {
    const first = firstOnLevel(col, level);
    if (first < 0) continue;
    const n = col.lw.length;
    if (wr.length < n) wr = new Float64Array(n);
    const { s, M, V, tau2, P, ybar } = col;
    let wCol = 0;
    for (let r = first; r < n; r += stride) {
      const w = (wr[r] = Math.exp(col.lw[r] - rule.top));
      wCol += w;
      add(MU, w, M[r], V[r]);
      add(TAU, w, Math.exp(s[r]), 0);
      add(LOG_TAU, w, s[r], 0);
    }
    total += wCol;
    add(X, wCol, col.x, 0);
    add(GX, wCol, of(col.x), 0);
    // theta_k: a tight loop over the column's nodes per group.
    for (let k = 0; k < K; k++) {
      const slot = THETA + 2 * k;
      const pk = P[k];
      const yk = ybar[k];
      const c = shift[slot];
      let a1 = 0;
      let a2 = 0;
      for (let r = first; r < n; r += stride) {
        const wk = 1 / (1 + tau2[r] * pk);
        const d = wk * M[r] + (1 - wk) * yk - c;
        a1 += wr[r] * d;
        a2 += wr[r] * (wk * tau2[r] + wk * wk * V[r] + d * d);
      }
      s1[slot] += a1;
      s2[slot] += a2;
    }
  }
  const moments = new Float64Array(THETA + 2 * K);
  for (let slot = 0; slot < moments.length; slot += 2) {
    const m = s1[slot] / total;
    moments[slot] = shift[slot] + m;
    moments[slot + 1] = Math.sqrt(Math.max(0, s2[slot] / total - m * m));
  }
  return { logZ: rule.top + Math.log(total * stride * rule.hs * (1 << level.lx) * rule.xAxis.h), moments };
}

/** Largest change of a mean or sd (in sds) or of log p(y) from `a` to `b`; infinite sds skipped. */
export function difference(a: Moments, b: Moments): number {
  let err = Math.abs(a.logZ - b.logZ);
  for (let m = 0; m < a.moments.length; m += 2) {
    const sd = a.moments[m + 1];
    if (!Number.isFinite(sd) || sd === 0) continue;
    err = Math.max(err, Math.abs(a.moments[m] - b.moments[m]) / sd, Math.abs(sd - b.moments[m + 1]) / sd);
  }
  return err;
}

/** The conditional means at the mode (column 0, row 0), as the accumulation's shifts; `of` maps x to the global's constrained value. */
export function modeShift(rule: Rule, K: number, of: (x: number) => number): Float64Array {
  const col = rule.cols.find((c) => c.j === 0)!;
  const r = Math.min(Math.max(-col.lo, 0), col.lw.length - 1);
  const shift = new Float64Array(THETA + 2 * K);
  [shift[MU], shift[TAU], shift[LOG_TAU], shift[X], shift[GX]] = [col.M[r], Math.exp(col.s[r]), col.s[r], col.x, of(col.x)];
  for (let k = 0; k < K; k++) {
    const wk = 1 / (1 + col.tau2[r] * col.P[k]);
    shift[THETA + 2 * k] = wk * col.M[r] + (1 - wk) * col.ybar[k];
  }
  return shift;
}

/** Each column's samples of the s-marginal's density in its own v (node weights / Z, times h of x), as a SincDensity. */
function columnDensities(rule: Rule, logZ: number): SincDensity[] {
  const hx = rule.xAxis.h;
  return rule.cols.map((c) => new SincDensity(c.lw.map((v) => Math.exp(v - logZ) * hx), c.lo * rule.hs, rule.hs));
}

/**
 * Quantiles of s: F(q) = sum over columns of each column's CDF in its v at v(q) =
 * asinh((q - c)/a) (a change of variables), density sum_j p_j(v(q)) / (a cosh v(q)).
 */
export function sQuantiles(rule: Rule, logZ: number, mean: number, sd: number): number[] {
  const dens = columnDensities(rule, logZ);
  const cdf = (q: number, d: Float64Array) => {
    let F = 0;
    let f = 0;
    rule.cols.forEach((c, j) => {
      const v = Math.asinh((q - c.sAxis.centre) / c.sAxis.a);
      F += dens[j].cdf(v);
      f += dens[j].density(v) / (c.sAxis.a * Math.cosh(v));
    });
    d[0] = f;
    return F;
  };
  return QUANTILE_LEVELS.map((p, l) => solveCdf(cdf, p, mean + Z_LEVELS[l] * sd, sd));
}

/** Quantiles of x from the columns' sums (the x-marginal's density in the x axis' v), through their sinc interpolant. */
export function xQuantiles(rule: Rule, logZ: number): number[] {
  const { xAxis } = rule;
  const px = Float64Array.from(rule.cols, (c) => c.lw.reduce((sum, v) => sum + Math.exp(v - logZ), 0) * rule.hs);
  return sincQuantiles(px, rule.cols[0].j * xAxis.h, xAxis.h, QUANTILE_LEVELS).map((v) => xAxis.centre + xAxis.a * Math.sinh(v));
}

/** The marginal density of s on a uniform grid over the rule's range (at most MAX_GRID_POINTS), for figures and `TauGrid` users. */
export function tauGrid(rule: Rule, logZ: number): TauGrid {
  const dens = columnDensities(rule, logZ);
  let lo = Infinity;
  let hi = -Infinity;
  let h = Infinity;
  for (const c of rule.cols) {
    lo = Math.min(lo, c.s[0]);
    hi = Math.max(hi, c.s[c.s.length - 1]);
    h = Math.min(h, c.sAxis.a * c.sAxis.h);
  }
  h = Math.max(h, (hi - lo) / (MAX_GRID_POINTS - 1));
  const s = Float64Array.from({ length: Math.floor((hi - lo) / h) + 1 }, (_, i) => lo + i * h);
  const density = s.map((q) => {
    let f = 0;
    rule.cols.forEach((c, j) => {
      const v = Math.asinh((q - c.sAxis.centre) / c.sAxis.a);
      f += dens[j].density(v) / (c.sAxis.a * Math.cosh(v));
    });
    return Math.max(0, f);
  });
  const total = density.reduce((a, b) => a + b, 0);
  return { s, weight: density.map((d) => d / total), density, h };
}

/**
 * Quantiles of mu and every theta_k: mixtures of normals over the nodes of the sub-rule of
 * level `level` (accurate to about the convergence tolerance), the lightest nodes carrying at
 * most QUANTILE_MASS_TOL of the weight dropped.
 */
export function mixtureSummaries(rule: Rule, level: Level, K: number): { mu: number[]; theta: number[][] } {
  const all: { col: Column; r: number; w: number }[] = [];
  let total = 0;
  for (const col of rule.cols) {
    const first = firstOnLevel(col, level);
    if (first < 0) continue;
    for (let r = first; r < col.lw.length; r += 1 << level.ls) {
      const w = Math.exp(col.lw[r] - rule.top);
      all.push({ col, r, w });
      total += w;
    }
  }
  all.sort((a, b) => b.w - a.w);
  let n = all.length;
  for (let tail = 0; n > 1 && tail + all[n - 1].w <= QUANTILE_MASS_TOL * total; ) tail += all[--n].w;
  const [w, m, sd] = [new Float64Array(n), new Float64Array(n), new Float64Array(n)];
  for (let i = 0; i < n; i++) {
    const { col, r } = all[i];
    [w[i], m[i], sd[i]] = [all[i].w, col.M[r], Math.sqrt(col.V[r])];
  }
  const mu = mixtureQuantiles(w, m, sd, QUANTILE_LEVELS);
  const theta: number[][] = [];
  for (let k = 0; k < K; k++) {
    for (let i = 0; i < n; i++) {
      const { col, r } = all[i];
      const wk = 1 / (1 + col.tau2[r] * col.P[k]);
      m[i] = wk * col.M[r] + (1 - wk) * col.ybar[k];
      sd[i] = Math.sqrt(wk * col.tau2[r] + wk * wk * col.V[r]);
    }
    theta.push(mixtureQuantiles(w, m, sd, QUANTILE_LEVELS));
  }
  return { mu, theta };
}

