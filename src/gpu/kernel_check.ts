import { logDensityGrad, type HierModel } from '../model/model.ts';
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

/** Magnitude of each output at q: 1 + |value| + the sum of |terms| it adds up. */
export function float32ErrorScales(model: HierModel, q: ArrayLike<number>, lp: number, g: Float64Array): { lp: number; grad: Float64Array } {
  const { c, stats } = model;
  let lpAbs = Math.abs(lp) + 1;
  const gAbs = new Float64Array(model.dim).fill(1);
  const mu = q[0];
  const s = q[1];
  for (let k = 0; k < stats.K; k++) {
    const ck = c[k];
    const aInv = Math.exp(-ck * s);
    const b = Math.exp((1 - ck) * s);
    const d = q[2 + k] - ck * mu;
    const u = d * aInv;
    const r = Math.abs(mu) + Math.abs(b * d) + Math.abs(stats.ybar[k]);
    const Pr = stats.precision[k] * r;
    lpAbs += 0.5 * u * u + Math.abs(ck * s) + 0.5 * Pr * r;
    gAbs[2 + k] += Math.abs(u * aInv) + Pr * b;
    gAbs[0] += Math.abs(ck * u * aInv) + Pr * (1 + ck * b);
    gAbs[1] += ck * (u * u + 1) + Pr * (1 - ck) * b * Math.abs(d) + Pr * b * Math.abs(d);
  }
  gAbs[0] += Math.abs(g[0]) + 10;
  gAbs[1] += Math.abs(g[1]) + Math.exp(2 * s) + 10;
  return { lp: lpAbs, grad: gAbs };
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
