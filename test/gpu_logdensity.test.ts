import { afterAll, describe, expect, it } from 'vitest';
import { gpuLogDensityGrad } from '../src/gpu/logdensity.ts';
import { logDensityGrad, makeModel } from '../src/model/model.ts';
import { DEFAULT_PRIORS, type Priors } from '../src/model/priors.ts';
import type { HierData } from '../src/model/data.ts';
import { SEED_NAMES, seedData, testGpu, testRng } from './gpu_helpers.ts';

const gpu = await testGpu();
afterAll(() => gpu?.device.destroy());

/**
 * float32 tolerance: inputs are rounded to float32 first, so the difference is the
 * kernel's float32 arithmetic alone. A sum of n terms of size up to M carries an
 * absolute error of about n * M * 2^-24; we bound it by REL * (1 + sum of |terms|),
 * with the term magnitudes from the float64 reference. WGSL allows exp(x) an error of
 * 3 + 2|x| ULP (WGSL spec, "Floating Point Accuracy"); |c s| <= 4 here gives 11 ULP,
 * which products with P_k r_k then carry: REL = 128 * 2^-24 ~ 7.6e-6.
 */
const REL = 128 * 2 ** -24;

function centerednessCases(K: number, rng: () => number): Record<string, Float64Array> {
  return {
    'c=0': new Float64Array(K).fill(0),
    'c=1': new Float64Array(K).fill(1),
    mixed: Float64Array.from({ length: K }, (_, k) => (k % 3 === 2 ? 1 : 0)),
    'c=0.5': new Float64Array(K).fill(0.5),
    random: Float64Array.from({ length: K }, () => Math.fround(rng())),
  };
}

/** Magnitude scale of each output: 1 + |value| + sum of |gradient terms| (finite-difference free). */
function scales(data: HierData, c: Float64Array, priors: Priors, q: Float64Array): { lp: number; grad: Float64Array } {
  // Evaluate at |.|-inflated stats: sum of absolute term sizes bounds the float32 error.
  const model = makeModel(data, c, priors);
  const g = new Float64Array(model.dim);
  const lp = logDensityGrad(model, q, g);
  const K = data.K;
  let lpAbs = Math.abs(lp) + 1;
  const gAbs = new Float64Array(model.dim).fill(1);
  const mu = q[0], s = q[1];
  for (let k = 0; k < K; k++) {
    const ck = c[k];
    const aInv = Math.exp(-ck * s), b = Math.exp((1 - ck) * s);
    const d = q[2 + k] - ck * mu, u = d * aInv;
    const r = Math.abs(mu) + Math.abs(b * d) + Math.abs(model.stats.ybar[k]);
    const Pr = model.stats.precision[k] * r;
    lpAbs += 0.5 * u * u + Math.abs(ck * s) + 0.5 * Pr * r;
    gAbs[2 + k] += Math.abs(u * aInv) + Pr * b;
    gAbs[0] += Math.abs(ck * u * aInv) + Pr * (1 + ck * b);
    gAbs[1] += ck * (u * u + 1) + Pr * (1 - ck) * b * Math.abs(d) + Pr * b * Math.abs(d);
  }
  gAbs[0] += Math.abs(g[0]) + 10;
  gAbs[1] += Math.abs(g[1]) + Math.exp(2 * s) + 10;
  return { lp: lpAbs, grad: gAbs };
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
          const D = model.dim;
          const pos = new Float64Array(B * D);
          for (let i = 0; i < pos.length; i++) {
            const d = i % D;
            const v = d === 0 ? -5 + 15 * rng() : d === 1 ? -4 + 7 * rng() : -4 + 8 * rng();
            pos[i] = Math.fround(v);
          }
          const out = await gpuLogDensityGrad(gpu!.device, model, pos, B);
          const g = new Float64Array(D);
          let worst = 0;
          for (let b = 0; b < B; b++) {
            const q = pos.subarray(b * D, (b + 1) * D);
            const lp = logDensityGrad(model, q, g);
            const sc = scales(data, c, priors, q);
            const elp = Math.abs(out.logDensity[b] - lp) / sc.lp;
            worst = Math.max(worst, elp);
            for (let d = 0; d < D; d++) worst = Math.max(worst, Math.abs(out.grad[b * D + d] - g[d]) / sc.grad[d]);
          }
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
    const D = model.dim;
    const pos = new Float64Array(B * D);
    for (let i = 0; i < pos.length; i++) pos[i] = Math.fround(-2 + 4 * rng());
    const out = await gpuLogDensityGrad(gpu!.device, model, pos, B);
    const g = new Float64Array(D);
    let worst = 0;
    for (let b = 0; b < B; b += 97) {
      const q = pos.subarray(b * D, (b + 1) * D);
      const lp = logDensityGrad(model, q, g);
      const sc = scales(data, c, DEFAULT_PRIORS, q);
      worst = Math.max(worst, Math.abs(out.logDensity[b] - lp) / sc.lp);
      for (let d = 0; d < D; d++) worst = Math.max(worst, Math.abs(out.grad[b * D + d] - g[d]) / sc.grad[d]);
    }
    expect(worst).toBeLessThan(REL);
    expect(out.logDensity.every(Number.isFinite)).toBe(true);
  });
});
