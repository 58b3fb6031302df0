import { afterAll, describe, expect, it } from 'vitest';
import { FLOAT32_KERNEL_TOLERANCE, maxKernelError, randomKernelPoints } from '../src/gpu/kernel_check.ts';
import { makeModel } from '../src/model/model.ts';
import { DEFAULT_PRIORS, type Priors } from '../src/model/priors.ts';
import type { HierData } from '../src/model/data.ts';
import { SEED_NAMES, seedData, testGpu, testRng } from './gpu_helpers.ts';

const gpu = await testGpu();
afterAll(() => gpu?.device.destroy());

/** Error bound and its derivation: src/gpu/kernel_check.ts (128 * 2^-24 ~ 7.6e-6, scaled by the terms' size). */
const REL = FLOAT32_KERNEL_TOLERANCE;

function centerednessCases(K: number, rng: () => number): Record<string, Float64Array> {
  return {
    'c=0': new Float64Array(K).fill(0),
    'c=1': new Float64Array(K).fill(1),
    mixed: Float64Array.from({ length: K }, (_, k) => (k % 3 === 2 ? 1 : 0)),
    'c=0.5': new Float64Array(K).fill(0.5),
    // One c per block of four groups (the kernel's one-exp-per-block path), the last block
    // partly padding.
    'c per block': Float64Array.from({ length: K }, (_, k) => [0.25, 0.75, 0.4][Math.min(2, k >> 2)]),
    random: Float64Array.from({ length: K }, () => Math.fround(rng())),
  };
}

describe.skipIf(!gpu)('GPU log-density and gradient vs float64 CPU reference', () => {
  const B = 1024;
  for (const name of SEED_NAMES) {
    for (const tauKind of ['halfnormal', 'halfcauchy'] as const) {
      const data = seedData(name);
      const rng = testRng(name.length * 7919 + (tauKind === 'halfnormal' ? 1 : 2));
      const priors: Priors = { mu: DEFAULT_PRIORS.mu, tau: { kind: tauKind, scale: 5 } };
      for (const [label, c] of Object.entries(centerednessCases(data.K, rng))) {
        it(`${name} × ${label} × ${tauKind}: ${B} random points`, async () => {
          const model = makeModel(data, c, priors);
          const { worst } = await maxKernelError(gpu!.device, model, randomKernelPoints(rng, B, model.dim), B);
          expect(worst).toBeLessThan(REL);
        });
      }
    }
  }

  it('handles 65,536 chains and 1,000 groups (including empty groups)', async () => {
    const rng = testRng(42);
    const K = 1000;
    const N = 3000;
    // Groups 990..999 have no observations (prior only).
    const group = Int32Array.from({ length: N }, () => Math.floor(rng() * 990));
    const data: HierData = {
      y: Float64Array.from({ length: N }, () => 10 * rng() - 5),
      group,
      sigma: Float64Array.from({ length: N }, () => 0.5 + 2 * rng()),
      K,
      labels: Array.from({ length: K }, (_, k) => `g${k}`),
    };
    const c = Float64Array.from({ length: K }, () => (rng() < 0.5 ? 0 : Math.fround(rng())));
    const model = makeModel(data, c);
    const B = 65536;
    const pos = new Float64Array(B * model.dim);
    for (let i = 0; i < pos.length; i++) pos[i] = Math.fround(-2 + 4 * rng());
    const { worst, finite } = await maxKernelError(gpu!.device, model, pos, B, 97);
    expect(worst).toBeLessThan(REL);
    expect(finite).toBe(true);
  });
});
