/**
 * The page's GPU self-test: the WGSL log-density kernel (`gpuLogDensityGrad`, float32)
 * against the float64 CPU reference (`logDensityGrad`) at random points, with the error
 * scaled as in `test/gpu_logdensity.test.ts`. Exposed on `window.funnelweb.selfTest()` for
 * the browser test, and behind the page's "GPU self-test" button.
 */
import { requestGpu } from '../src/gpu/device.ts';
import { gpuLogDensityGrad } from '../src/gpu/logdensity.ts';
import { logDensityGrad, makeModel, type HierModel } from '../src/model/model.ts';
import type { HierData } from '../src/model/data.ts';

/**
 * float32 tolerance of the kernel, as in test/gpu_logdensity.test.ts: WGSL allows exp(x)
 * 3 + 2|x| ULP, which products with P_k r_k then carry: 128 * 2^-24 ~ 7.6e-6.
 */
export const SELF_TEST_TOLERANCE = 128 * 2 ** -24;

export interface SelfTestResult {
  /** Largest scaled error over log p and every gradient coordinate, all points and parameterizations. */
  readonly maxRelError: number;
  readonly tolerance: number;
  readonly points: number;
  readonly adapter: string;
  readonly passed: boolean;
}

/** Deterministic test inputs (mulberry32). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Magnitude of each output at q: 1 + |value| + the sum of |terms| it adds up (the same
 * bound as test/gpu_logdensity.test.ts), so that the float32 error of a sum of n terms of
 * size up to M, about n M 2^-24, is compared with the terms' size, not the result's.
 */
function scales(model: HierModel, q: Float64Array, lp: number, g: Float64Array): { lp: number; grad: Float64Array } {
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
 * Evaluates the kernel at `points` random float32 positions (mu in [-5, 10], log tau in
 * [-4, 3], z in [-4, 4]) for the centered and the non-centered model of `data`, and
 * returns the largest scaled error.
 */
export async function selfTest(data: HierData, points = 256): Promise<SelfTestResult> {
  const gpu = await requestGpu();
  try {
    const rng = mulberry32(20240601);
    let worst = 0;
    for (const cValue of [0, 1]) {
      const model = makeModel(data, new Float64Array(data.K).fill(cValue));
      const D = model.dim;
      const pos = new Float64Array(points * D);
      for (let i = 0; i < pos.length; i++) {
        const d = i % D;
        pos[i] = Math.fround(d === 0 ? -5 + 15 * rng() : d === 1 ? -4 + 7 * rng() : -4 + 8 * rng());
      }
      const out = await gpuLogDensityGrad(gpu.device, model, pos, points);
      const g = new Float64Array(D);
      for (let b = 0; b < points; b++) {
        const q = pos.subarray(b * D, (b + 1) * D);
        const lp = logDensityGrad(model, q, g);
        const sc = scales(model, q, lp, g);
        worst = Math.max(worst, Math.abs(out.logDensity[b] - lp) / sc.lp);
        for (let d = 0; d < D; d++) worst = Math.max(worst, Math.abs(out.grad[b * D + d] - g[d]) / sc.grad[d]);
      }
    }
    return { maxRelError: worst, tolerance: SELF_TEST_TOLERANCE, points, adapter: gpu.adapter.label, passed: worst < SELF_TEST_TOLERANCE };
  } finally {
    gpu.device.destroy();
  }
}
