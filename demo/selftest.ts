/**
 * The page's GPU self-test: the WGSL log-density kernel (`gpuLogDensityGrad`, float32)
 * against the float64 CPU reference (`logDensityGrad`) at random points, with the error
 * scaled as in `src/gpu/kernel_check.ts`. Exposed on `window.funnelweb.selfTest()` for
 * the browser test, and behind the page's "GPU self-test" button.
 */
import { requestGpu } from '../src/gpu/device.ts';
import { FLOAT32_KERNEL_TOLERANCE, maxKernelError, mulberry32, randomKernelPoints } from '../src/gpu/kernel_check.ts';
import { makeModel } from '../src/model/model.ts';
import type { HierData } from '../src/model/data.ts';

/** float32 tolerance of the kernel (derivation in src/gpu/kernel_check.ts). */
export const SELF_TEST_TOLERANCE = FLOAT32_KERNEL_TOLERANCE;

export interface SelfTestResult {
  /** Largest scaled error over log p and every gradient coordinate, all points and parameterizations. */
  readonly maxRelError: number;
  readonly tolerance: number;
  readonly points: number;
  readonly adapter: string;
  readonly passed: boolean;
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
      const check = await maxKernelError(gpu.device, model, randomKernelPoints(rng, points, model.dim), points);
      worst = Math.max(worst, check.worst);
    }
    return { maxRelError: worst, tolerance: SELF_TEST_TOLERANCE, points, adapter: gpu.adapter.label, passed: worst < SELF_TEST_TOLERANCE };
  } finally {
    gpu.device.destroy();
  }
}
