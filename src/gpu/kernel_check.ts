import { familyGlobalOf, logDensityGrad, unconstrain, type HierModel } from '../model/model.ts';
import type { Family } from '../model/family.ts';
import { gpuLogDensityGrad } from './logdensity.ts';

/**
 * Checks the float32 WGSL log-density kernel against the float64 reference
 * (`logDensityGrad`). Shared by the tests and the demo page's GPU self-test.
 *
 * Inputs are rounded to float32 first, so the difference is the kernel's float32 arithmetic
 * alone. A sum of n terms of size up to M carries an absolute error of about n M 2^-24, so
 * each output's error is divided by 1 + |value| + the sum of |terms| it adds up
 * (`float32ErrorScales`). WGSL allows exp(x) an error of 3 + 2|x| ULP (WGSL spec, "Floating
 * Point Accuracy"); |c s| <= 4 at the test points gives 11 ULP, which products with
 * P_k r_k then carry: the tolerance is 128 * 2^-24 ~ 7.6e-6.
 */
export const FLOAT32_KERNEL_TOLERANCE = 128 * 2 ** -24;

/** Deterministic uniform(0, 1) generator for test inputs (mulberry32, Tommy Ettinger). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `points` float32-exact positions: mu in [-5, 10], log tau in [-4, 3], z in [-4, 4] (chain-major). */
export function randomKernelPoints(rng: () => number, points: number, D: number): Float64Array {
  const pos = new Float64Array(points * D);
  for (let i = 0; i < pos.length; i++) {
    const d = i % D;
    pos[i] = Math.fround(d === 0 ? -5 + 15 * rng() : d === 1 ? -4 + 7 * rng() : -4 + 8 * rng());
  }
  return pos;
}

/** Central finite difference of f at x with step h. */
export const fd = (f: (x: number) => number, x: number, h: number) => (f(x + h) - f(x - h)) / (2 * h);

/** Scratch for the family's d l / d theta and d l / d x. */
const likGrad = new Float64Array(2);

/**
 * The family's log-likelihood of fields (a, b) at theta (and its global x, for a family with
 * one), its theta-derivative and its x-derivative (0 without a global).
 */
export function familyLik(family: Family, a: number, b: number, theta: number, x?: number): { l: number; d: number; dx: number } {
  likGrad[1] = 0;
  const l = family.logLik(a, b, theta, likGrad, x);
  return { l, d: likGrad[0], dx: x === undefined ? 0 : likGrad[1] };
}

/**
 * Magnitude of each output of the float32 log-density at q: 1 + |value| + the sum of |terms|
 * it adds up, where a group's likelihood term (any family) counts its sensitivity to float32
 * rounding of each input, |theta l'| (theta itself rounded at |mu| + |b d|) + |a dl/da| +
 * |b dl/db|, and its derivative likewise (l'' by finite differences).
 */
export function float32ErrorScales(model: HierModel, q: ArrayLike<number>, lp: number, g: Float64Array): { lp: number; grad: Float64Array } {
  const { c, stats } = model;
  const L = model.layout;
  const iMu = L.global('mu');
  const iLogTau = L.global('log_tau');
  let lpAbs = Math.abs(lp) + 1;
  const gAbs = new Float64Array(model.dim).fill(1);
  const mu = q[iMu];
  const s = q[iLogTau];
  const fg = familyGlobalOf(model);
  const x = fg ? q[fg.index] : undefined;
  for (let k = 0; k < stats.K; k++) {
    const ck = c[k];
    const aInv = Math.exp(-ck * s);
    const b = Math.exp((1 - ck) * s);
    const d = q[L.group(k)] - ck * mu;
    const u = d * aInv;
    const th = mu + b * d;
    const fa = stats.a[k];
    const fb = stats.b[k];
    const r = Math.abs(mu) + Math.abs(b * d);
    const family = stats.family;
    const { l, d: l1, dx } = familyLik(family, fa, fb, th, x);
    const l2 = fd((t) => familyLik(family, fa, fb, t, x).d, th, 1e-4 * (1 + Math.abs(th)));
    const sens = (which: 'l' | 'd') => {
      const v = (a: number, bb: number) => familyLik(family, a, bb, th, x)[which];
      return (fa !== 0 ? Math.abs(fa * fd((x) => v(x, fb), fa, 1e-6 * Math.abs(fa))) : 0) + (fb !== 0 ? Math.abs(fb * fd((x) => v(fa, x), fb, 1e-6 * Math.abs(fb))) : 0);
    };
    const Sl = Math.abs(l) + Math.abs(l1) * r + sens('l');
    const Sd = Math.abs(l1) + Math.abs(l2) * r + sens('d');
    lpAbs += 0.5 * u * u + Math.abs(ck * s) + Sl;
    gAbs[L.group(k)] += Math.abs(u * aInv) + Sd * b;
    gAbs[iMu] += Math.abs(ck * u * aInv) + Sd * (1 + ck * b);
    gAbs[iLogTau] += ck * (u * u + 1) + Sd * (2 - ck) * b * Math.abs(d) + Math.abs(l1) * b * Math.abs(d);
    // The family global: its term's error follows the likelihood's (theta's rounding) and its own.
    if (fg) gAbs[fg.index] += Math.abs(dx) * 4 + Sl + Sd * r;
  }
  if (fg && x !== undefined) {
    // The theta-free term g(x) and the prior, e.g. N |x| + SS e^{-2x}: their own size.
    const st = stats.familyStats!;
    const scale = Math.abs(st[0] ?? 0) * (1 + Math.abs(x)) + Math.abs(st[1] ?? 0) * Math.exp(-2 * x) * 4 + Math.exp(2 * Math.abs(x)) + 10;
    lpAbs += scale;
    gAbs[fg.index] += Math.abs(g[fg.index]) + scale;
  }
  gAbs[iMu] += Math.abs(g[iMu]) + 10;
  gAbs[iLogTau] += Math.abs(g[iLogTau]) + Math.exp(2 * s) + 10;
  return { lp: lpAbs, grad: gAbs };
}

/**
 * `points` float32-exact positions of `model` (chain-major) with every theta_k in [-8, 8],
 * mu in [-3, 3] and log tau in [-3, 1.5], mapped to its coordinates by `unconstrain`: a
 * range every family's likelihood is finite on in float32 (e^theta of a log link included),
 * unlike the raw coordinate box of `randomKernelPoints`, where theta reaches mu + e^3 * 4.
 */
export function randomModelPoints(model: HierModel, rng: () => number, points: number): Float64Array {
  const D = model.dim;
  const out = new Float64Array(points * D);
  for (let p = 0; p < points; p++) {
    const mu = -3 + 6 * rng();
    const tau = Math.exp(-3 + 4.5 * rng());
    const theta = Array.from({ length: model.stats.K }, () => -8 + 16 * rng());
    // A family global (log sigma) in [-2, 1.5].
    const q = unconstrain(model, mu, tau, theta, familyGlobalOf(model) ? -2 + 3.5 * rng() : undefined);
    for (let d = 0; d < D; d++) out[p * D + d] = Math.fround(q[d]);
  }
  return out;
}

/**
 * Runs the kernel at chain-major `positions` (every `stride`-th point checked) and returns
 * the largest scaled error over log p and every gradient coordinate, and whether all are finite.
 */
export async function maxKernelError(device: GPUDevice, model: HierModel, positions: Float64Array, points: number, stride = 1): Promise<{ worst: number; finite: boolean }> {
  const D = model.dim;
  const out = await gpuLogDensityGrad(device, model, positions, points);
  const g = new Float64Array(D);
  let worst = 0;
  for (let b = 0; b < points; b += stride) {
    const q = positions.subarray(b * D, (b + 1) * D);
    const lp = logDensityGrad(model, q, g);
    const sc = float32ErrorScales(model, q, lp, g);
    worst = Math.max(worst, Math.abs(out.logDensity[b] - lp) / sc.lp);
    for (let d = 0; d < D; d++) worst = Math.max(worst, Math.abs(out.grad[b * D + d] - g[d]) / sc.grad[d]);
  }
  return { worst, finite: out.logDensity.every(Number.isFinite) && out.grad.every(Number.isFinite) };
}
