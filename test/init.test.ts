/** Where chains start (src/sampler/init.ts): the normal family as Stan's box; fixed-unit families about their data. */
import { describe, expect, it } from 'vitest';
import { startingPositions } from '../src/sampler/init.ts';
import { initialPositions, keyFromSeed } from '../src/sampler/rng.ts';
import { makeModel, thetaOf } from '../src/model/model.ts';
import { seedData } from './gpu_helpers.ts';

/** Rare events: 12 groups of 10,000 trials with about 1 success each (logit near -9.2). */
function rareBinomial() {
  const K = 12;
  const y = Float64Array.from({ length: K }, (_, k) => k % 3);
  return { likelihood: 'binomial', y, group: Int32Array.from({ length: K }, (_, k) => k), sigma: new Float64Array(0), columns: { trials: new Float64Array(K).fill(10_000) }, K, labels: Array.from({ length: K }, (_, k) => String(k)) };
}

describe('starting positions', () => {
  it('normal data: exactly the uniform (-2, 2) box (standardized units already centre the data)', () => {
    const data = seedData('unbalanced');
    const model = makeModel(data, new Float64Array(data.K).fill(0.5));
    expect(startingPositions(model, keyFromSeed(4), 64)).toEqual(initialPositions(keyFromSeed(4), 64, data.K));
  });

  for (const c of [0, 1, 0.4]) {
    it(`binomial rare events, c = ${c}: every theta starts within 2 + 2 of the data's centre, tau within (e^-2, 1)`, () => {
      const data = rareBinomial();
      const model = makeModel(data, new Float64Array(data.K).fill(c));
      const chains = 256;
      const q = startingPositions(model, keyFromSeed(9), chains);
      const { layout } = model;
      const est = Array.from(model.stats.ybar).sort((a, b) => a - b);
      const m = 0.5 * (est[5] + est[6]);
      expect(m).toBeLessThan(-8);
      let spread = 0;
      for (let ch = 0; ch < chains; ch++) {
        const row = ch * layout.dim;
        const mu = q[row + layout.global('mu')];
        const s = q[row + layout.global('log_tau')];
        expect(s).toBeGreaterThan(-2);
        expect(s).toBeLessThan(0);
        expect(Math.abs(mu - m)).toBeLessThan(2);
        for (let k = 0; k < data.K; k++) {
          const th = thetaOf(mu, s, q[row + layout.group(k)], c);
          // |u_mu| < 2 and tau^(1-c) |u_k - c u_mu| < 1 * (2 + 2c)
          expect(Math.abs(th - m)).toBeLessThan(4 + 2 * c);
          spread = Math.max(spread, Math.abs(th - m));
        }
      }
      expect(spread).toBeGreaterThan(1); // still over-dispersed, not a point start
    });
  }
});
