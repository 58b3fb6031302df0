/**
 * The page's GPU self-test: the WGSL log-density kernel (`gpuLogDensityGrad`, float32) of
 * every likelihood family (`FAMILIES`) against the float64 CPU reference (`logDensityGrad`)
 * at random points, with the error scaled as in `src/gpu/kernel_check.ts`. Each family is
 * checked on data the page's generator makes for it (`generatorFor`: its columns at their
 * typical values, its globals at their starting true values; K = 9, 1 to 20 observations
 * per group), centered and non-centered.
 * Exposed on `window.funnelweb.selfTest()` for the browser test, and behind the page's
 * "GPU self-test" button.
 */
import { requestGpu } from '../src/gpu/device.ts';
import { FLOAT32_KERNEL_TOLERANCE, maxKernelError, mulberry32, randomModelPoints } from '../src/gpu/kernel_check.ts';
import { FAMILIES } from '../src/model/families/index.ts';
import type { HierData } from '../src/model/data.ts';
import { makeModel } from '../src/model/model.ts';
import { generateData, generatorFor } from './generate.ts';

/** float32 tolerance of the kernel (derivation in src/gpu/kernel_check.ts). */
export const SELF_TEST_TOLERANCE = FLOAT32_KERNEL_TOLERANCE;

/** The data each family's kernel is checked on: 9 groups of 1 to 20 observations, seed 1. */
export function selfTestData(): { family: string; data: HierData }[] {
  return FAMILIES.map((f) => ({ family: f.id, data: generateData({ ...generatorFor(f), K: 9, nLo: 1, nHi: 20, seed: 1 }).data }));
}

export interface SelfTestResult {
  /** Largest scaled error over log p and every gradient coordinate, all points, parameterizations and families. */
  readonly maxRelError: number;
  /** The largest scaled error of each family's kernel. */
  readonly families: readonly { readonly family: string; readonly maxRelError: number; readonly passed: boolean }[];
  readonly tolerance: number;
  /** Points per family and parameterization. */
  readonly points: number;
  readonly adapter: string;
  readonly passed: boolean;
}

/**
 * Evaluates each family's kernel at `points` random float32 positions (`randomModelPoints`:
 * theta_k in [-8, 8], mu in [-3, 3], log tau in [-3, 1.5]) for the centered and the
 * non-centered model of its data,
 * and returns the largest scaled errors.
 */
export async function selfTest(points = 256): Promise<SelfTestResult> {
  const gpu = await requestGpu();
  try {
    const families: { family: string; maxRelError: number; passed: boolean }[] = [];
    for (const { family, data } of selfTestData()) {
      const rng = mulberry32(20240601);
      let worst = 0;
      let finite = true;
      for (const cValue of [0, 1]) {
        const model = makeModel(data, new Float64Array(data.K).fill(cValue));
        const check = await maxKernelError(gpu.device, model, randomModelPoints(model, rng, points), points);
        worst = Math.max(worst, check.worst);
        finite &&= check.finite;
      }
      families.push({ family, maxRelError: worst, passed: finite && worst < SELF_TEST_TOLERANCE });
    }
    const maxRelError = Math.max(...families.map((f) => f.maxRelError));
    return { maxRelError, families, tolerance: SELF_TEST_TOLERANCE, points, adapter: gpu.adapter.label, passed: families.every((f) => f.passed) };
  } finally {
    gpu.device.destroy();
  }
}
