import { describe, expect, it } from 'vitest';
import * as cheesMod from '../src/adaptation/chees.ts';
import {
  ADAM_LEARNING_RATE,
  LOG_UPDATE_CLIP,
  MAX_LEAPFROG_STEPS,
  chees,
  cheesEnsembleStats,
  numLeapfrogSteps,
} from '../src/adaptation/chees.ts';
import { DA_GAMMA, DA_T0, dualAveraging } from '../src/adaptation/dual_averaging.ts';
import * as da from '../src/adaptation/dual_averaging.ts';
import { MAX_HALTON_BITS, haltonBitsFor, haltonSequence, trajectoryJitter } from '../src/adaptation/halton.ts';
import * as metric from '../src/adaptation/metric.ts';

/** Small deterministic LCG for synthetic noise (Numerical Recipes constants). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 0.5) / 4294967296;
  };
}

describe('halton', () => {
  it('is the base-2 van der Corput sequence of i + 1 (BlackJAX indexing)', () => {
    const want = [0.5, 0.25, 0.75, 0.125, 0.625, 0.375, 0.875, 0.0625];
    want.forEach((h, i) => expect(haltonSequence(i)).toBe(h));
  });

  it('keeps only maxBits bits of i + 1', () => {
    expect(MAX_HALTON_BITS).toBe(10);
    expect(haltonSequence(1022)).toBe(1 - 2 ** -10); // i + 1 = 1023 = 0b1111111111
    expect(haltonSequence(1023)).toBe(0); // i + 1 = 1024: no low bit set
    expect(haltonSequence(1024)).toBe(0.5); // i + 1 = 1025 -> 1
    expect(haltonSequence(1023, 11)).toBe(2 ** -11);
  });

  it('its first 2^k - 1 values are the grid j / 2^k, j = 1..2^k - 1', () => {
    const k = 6;
    const vals = Array.from({ length: 2 ** k - 1 }, (_, i) => haltonSequence(i) * 2 ** k).sort((a, b) => a - b);
    expect(vals).toEqual(Array.from({ length: 2 ** k - 1 }, (_, j) => j + 1));
  });

  it('maps jitter amount a to (1 - a) + a h', () => {
    expect(trajectoryJitter(0)).toBe(0.5);
    expect(trajectoryJitter(0, 0.5)).toBe(0.75);
    expect(trajectoryJitter(1, 0)).toBe(1);
    expect(haltonBitsFor(2000)).toBe(11);
    expect(haltonBitsFor(1024)).toBe(10);
  });
});

describe('dual averaging', () => {
  it('first update by hand (Hoffman & Gelman 2014, Alg. 5)', () => {
    const s0 = da.init(1);
    expect(s0.logX).toBe(0);
    expect(s0.mu).toBeCloseTo(Math.log(10), 15);
    const s1 = da.update(s0, 0.1);
    const hbar = 0.1 / (1 + DA_T0);
    expect(s1.avgError).toBeCloseTo(hbar, 15);
    expect(s1.logX).toBeCloseTo(Math.log(10) - (1 / DA_GAMMA) * hbar, 14);
    expect(s1.logXAvg).toBeCloseTo(s1.logX, 15); // weight 1^-kappa = 1 on the first iterate
    expect(s1.step).toBe(2);
  });

  it('converges to the target on a synthetic acceptance function', () => {
    // Acceptance as a function of the step size, with noise: a(eps) = exp(-(eps/0.4)^2).
    const accept = (eps: number) => Math.exp(-((eps / 0.4) ** 2));
    const target = 0.651;
    const epsStar = 0.4 * Math.sqrt(-Math.log(target));
    const rand = lcg(7);
    let s = da.init(0.01);
    for (let t = 0; t < 3000; t++) {
      const eps = Math.exp(s.logX);
      const a = Math.min(1, Math.max(0, accept(eps) + 0.1 * (rand() - 0.5)));
      s = da.update(s, target - a);
    }
    expect(da.final(s)).toBeCloseTo(epsStar, 2);
    expect(Math.abs(accept(da.final(s)) - target)).toBeLessThan(0.01);
  });

  it('keeps the previous state on a non-finite gradient', () => {
    const s1 = da.update(da.init(0.5), 0.2);
    for (const bad of [NaN, Infinity, -Infinity]) {
      const s2 = da.update(s1, bad);
      expect(s2.logX).toBe(s1.logX);
      expect(s2.logXAvg).toBe(s1.logXAvg);
      expect(s2.step).toBe(s1.step);
      expect(s2.numSkipped).toBe(s1.numSkipped + 1);
    }
  });

  it('rejects a non-positive initial value and accepts custom constants', () => {
    expect(() => da.init(0)).toThrow(RangeError);
    const custom = dualAveraging({ t0: 0, gamma: 1, kappa: 1 });
    const s = custom.update(custom.init(1), 1);
    expect(s.logX).toBeCloseTo(Math.log(10) - 1, 14);
  });
});

describe('ChEES', () => {
  const ok = { harmonicMeanAccept: 0.651, numValid: 100 };

  it('starts at one leapfrog step and counts steps as min(1000, max(1, ceil(uT/eps)))', () => {
    const s = cheesMod.init({ stepSize: 0.1 });
    expect(s.trajectoryLength).toBe(0.1);
    expect(s.step).toBe(1);
    expect(cheesMod.init({ stepSize: 0.1, trajectoryLength: 2 }).trajectoryLength).toBe(2);
    expect(numLeapfrogSteps(0.5, 1, 0.1)).toBe(5);
    expect(numLeapfrogSteps(0.51, 1, 0.1)).toBe(6);
    expect(numLeapfrogSteps(1e-9, 1, 0.1)).toBe(1);
    expect(numLeapfrogSteps(0, 1, 0.1)).toBe(1);
    expect(numLeapfrogSteps(1, 1e9, 1e-3)).toBe(MAX_LEAPFROG_STEPS);
    expect(numLeapfrogSteps(1, Infinity, 1)).toBe(MAX_LEAPFROG_STEPS);
    expect(() => cheesMod.init({ stepSize: 0 })).toThrow(RangeError);
  });

  it('moves T up for a positive ChEES gradient and down for a negative one, by ~ the learning rate', () => {
    // (eps small enough that the [eps, 1000 eps] clip stays inactive; at zero dual-averaging
    // gradient the first eps iterate is exp(mu) = 10 eps0.)
    const s0 = cheesMod.init({ stepSize: 0.001, trajectoryLength: 1 });
    const up = cheesMod.update(s0, { ...ok, cheesGradient: 3 }, 0.5);
    const down = cheesMod.update(s0, { ...ok, cheesGradient: -3 }, 0.5);
    // First Adam step with b1 = 0: vhat = g^2, so the update is lr * sign(g) (up to eps = 1e-8).
    expect(Math.log(up.trajectoryLength)).toBeCloseTo(ADAM_LEARNING_RATE, 8);
    expect(Math.log(down.trajectoryLength)).toBeCloseTo(-ADAM_LEARNING_RATE, 8);
    expect(up.adamStep).toBe(1);
  });

  it('clips the log update to ±0.35', () => {
    const fast = chees({ learningRate: 10 });
    const s0 = fast.init({ stepSize: 0.01, trajectoryLength: 1 });
    const up = fast.update(s0, { ...ok, cheesGradient: 1 }, 1);
    const down = fast.update(s0, { ...ok, cheesGradient: -1 }, 1);
    expect(Math.log(up.trajectoryLength)).toBeCloseTo(LOG_UPDATE_CLIP, 12);
    expect(Math.log(down.trajectoryLength)).toBeCloseTo(-LOG_UPDATE_CLIP, 12);
  });

  it('clips T to [eps, 1000 eps]', () => {
    const fast = chees({ learningRate: 10 });
    let s = fast.init({ stepSize: 0.1 });
    for (let i = 0; i < 5; i++) s = fast.update(s, { ...ok, cheesGradient: -1 }, 1);
    expect(s.trajectoryLength).toBe(s.stepSize);
    s = fast.init({ stepSize: 1e-4, trajectoryLength: 0.09 });
    for (let i = 0; i < 20; i++) s = fast.update(s, { ...ok, cheesGradient: 1 }, 1);
    expect(s.trajectoryLength).toBeCloseTo(1000 * s.stepSize, 12);
    expect(fast.final(s).trajectoryLength).toBeLessThanOrEqual(1000 * fast.final(s).stepSize * (1 + 1e-12));
  });

  it('ignores non-finite gradients (keeps T) and non-finite harmonic means (as 0)', () => {
    const s0 = cheesMod.init({ stepSize: 0.1, trajectoryLength: 1 });
    const s1 = cheesMod.update(s0, { ...ok, cheesGradient: NaN }, 0.5);
    expect(s1.trajectoryLength).toBe(1);
    expect(s1.adamStep).toBe(0);
    expect(s1.numSkipped).toBe(1);
    expect(Number.isFinite(s1.stepSize)).toBe(true);
    const s2 = cheesMod.update(s0, { ...ok, cheesGradient: Infinity }, 0.5);
    expect(s2.trajectoryLength).toBe(1);
    // A NaN harmonic mean is treated as acceptance 0: same as an explicit 0.
    const sNaN = cheesMod.update(s0, { harmonicMeanAccept: NaN, numValid: 0, cheesGradient: 0 }, 0.5);
    const sZero = cheesMod.update(s0, { harmonicMeanAccept: 0, numValid: 0, cheesGradient: 0 }, 0.5);
    expect(sNaN.stepSize).toBe(sZero.stepSize);
    const sOne = cheesMod.update(s0, { harmonicMeanAccept: 1, numValid: 10, cheesGradient: 0 }, 0.5);
    expect(sZero.stepSize).toBeLessThan(sOne.stepSize);
    // No valid chains: no trajectory signal.
    const sNone = cheesMod.update(s0, { harmonicMeanAccept: NaN, numValid: 0, cheesGradient: 5 }, 0.5);
    expect(sNone.trajectoryLength).toBe(1);
  });

  it('averages log eps and log T with weights n^-0.5 (final)', () => {
    let s = cheesMod.init({ stepSize: 0.001, trajectoryLength: 1 });
    expect(cheesMod.final(s)).toEqual({ stepSize: 0.001, trajectoryLength: 1 });
    const logEps: number[] = [];
    const logT: number[] = [];
    const grads = [1, -2, 0.5, 3];
    for (const g of grads) {
      s = cheesMod.update(s, { ...ok, cheesGradient: g }, 0.7);
      logEps.push(Math.log(s.stepSize));
      logT.push(Math.log(s.trajectoryLength));
    }
    let aE = 0;
    let aT = 0;
    logEps.forEach((v, i) => {
      const w = (i + 1) ** -0.5;
      aE = (1 - w) * aE + w * v;
      aT = (1 - w) * aT + w * logT[i];
    });
    const f = cheesMod.final(s);
    expect(Math.log(f.stepSize)).toBeCloseTo(aE, 12);
    expect(Math.log(f.trajectoryLength)).toBeCloseTo(aT, 12);
  });

  it('adapts eps to the target and T to the optimum of a synthetic ChEES', () => {
    // Acceptance a(eps) = exp(-(eps/0.4)^2); ChEES(t) = -(t - t*)^2 around t* = 3, so the
    // per-iteration gradient in t is -2 (uT - t*). Averaged over Halton jitter u ~ U(0,1),
    // d/dT E[ChEES(uT)] = 0 at T = t* E[u]/E[u^2] = 1.5 t*.
    const accept = (eps: number) => Math.exp(-((eps / 0.4) ** 2));
    const tStar = 3;
    let s = cheesMod.init({ stepSize: 0.05 });
    for (let i = 0; i < 2000; i++) {
      const u = trajectoryJitter(i);
      const t = u * s.trajectoryLength;
      s = cheesMod.update(s, { harmonicMeanAccept: accept(s.stepSize), numValid: 64, cheesGradient: -2 * (t - tStar) }, u);
    }
    const f = cheesMod.final(s);
    expect(Math.abs(accept(f.stepSize) - 0.651)).toBeLessThan(0.02);
    expect(f.trajectoryLength / (1.5 * tStar)).toBeGreaterThan(0.85);
    expect(f.trajectoryLength / (1.5 * tStar)).toBeLessThan(1.15);
  });
});

describe('cheesEnsembleStats', () => {
  /** Straightforward reference of the documented formulas. */
  function reference(q1: number[][], p1: number[][], q0: number[][], a: number[], div: boolean[]) {
    const C = a.length;
    const D = q0[0].length;
    const valid = a.map((ai, c) => !div[c] && Number.isFinite(ai) && q1[c].every(Number.isFinite) && p1[c].every(Number.isFinite));
    const S = valid.map((v, c) => v && a[c] >= 1e-4);
    const nV = valid.filter(Boolean).length;
    const mq0 = Array.from({ length: D }, (_, d) => q0.reduce((s, r, c) => s + (valid[c] ? r[d] : 0), 0) / nV);
    const wsum = a.reduce((s, ai, c) => s + (S[c] ? ai : 0), 0);
    const mq1 = Array.from({ length: D }, (_, d) => q1.reduce((s, r, c) => s + (S[c] ? a[c] * r[d] : 0), 0) / (wsum + 1e-20));
    let num = 0;
    for (let c = 0; c < C; c++) {
      if (!S[c]) continue;
      const x = q1[c].map((v, d) => v - mq1[d]);
      const x0 = q0[c].map((v, d) => v - mq0[d]);
      const sq = (v: number[]) => v.reduce((s, y) => s + y * y, 0);
      const dot = x.reduce((s, y, d) => s + y * p1[c][d], 0);
      num += a[c] * (sq(x) - sq(x0)) * dot;
    }
    return {
      numValid: nV,
      harmonic: nV / a.reduce((s, ai, c) => s + (valid[c] ? 1 / ai : 0), 0),
      grad: num / (wsum + 1e-20),
      meanAccept: a.reduce((s, ai, c) => s + (valid[c] ? ai : 0), 0) / C,
    };
  }

  it('matches the reference formulas with masking of divergent, non-finite and low-acceptance chains', () => {
    const rand = lcg(3);
    const C = 7;
    const D = 3;
    const q0 = Array.from({ length: C }, () => Array.from({ length: D }, () => rand() * 4 - 2));
    const q1 = q0.map((r) => r.map((v) => v * 1.5 + (rand() - 0.5)));
    const p1 = Array.from({ length: C }, () => Array.from({ length: D }, () => rand() * 2 - 1));
    const a = [0.9, 0.5, 1, 0.3, 5e-5, 0.7, 0.8];
    const div = [false, false, false, true, false, false, false];
    q1[5][1] = NaN; // non-finite proposal: invalid
    const st = cheesEnsembleStats(q1.flat(), p1.flat(), q0.flat(), a, div, C, D);
    const ref = reference(q1, p1, q0, a, div);
    expect(st.numValid).toBe(5);
    expect(st.numDivergent).toBe(2);
    expect(st.numValid).toBe(ref.numValid);
    expect(st.harmonicMeanAccept).toBeCloseTo(ref.harmonic, 14);
    expect(st.meanAccept).toBeCloseTo(ref.meanAccept, 14);
    expect(st.cheesGradient).toBeCloseTo(ref.grad, 12);
    expect(Number.isFinite(st.cheesGradient)).toBe(true);
  });

  it('uses the velocity M^-1 p when an inverse mass is given', () => {
    const q0 = [0, 0, 1, 1, -1, 2];
    const q1 = [0.5, -0.2, 1.5, 0.7, -1.4, 2.6];
    const p = [1, 2, -1, 0.5, 0.3, -0.7];
    const a = [1, 0.8, 0.6];
    const div = [0, 0, 0];
    const invMass = [2, 0.5];
    const withM = cheesEnsembleStats(q1, p, q0, a, div, 3, 2, invMass);
    const v = p.map((x, i) => x * invMass[i % 2]);
    const viaV = cheesEnsembleStats(q1, v, q0, a, div, 3, 2);
    expect(withM.cheesGradient).toBeCloseTo(viaV.cheesGradient, 14);
  });

  it('gives a positive gradient when proposals spread out along their velocity', () => {
    const C = 4;
    const q0 = [-1, 1, -0.5, 0.5];
    const q1 = q0.map((x) => 2 * x);
    const p = q0.map((x) => x); // moving away from the mean
    const st = cheesEnsembleStats(q1, p, q0, [1, 1, 1, 1], [0, 0, 0, 0], C, 1);
    expect(st.cheesGradient).toBeGreaterThan(0);
    const back = cheesEnsembleStats(q1, p.map((x) => -x), q0, [1, 1, 1, 1], [0, 0, 0, 0], C, 1);
    expect(back.cheesGradient).toBeLessThan(0);
  });

  it('harmonic mean is 0 if some valid acceptance is 0, NaN with no valid chain; gradient stays finite', () => {
    const q = [0, 1, 2];
    const zero = cheesEnsembleStats(q, q, q, [0.5, 0, 1], [0, 0, 0], 3, 1);
    expect(zero.harmonicMeanAccept).toBe(0);
    const none = cheesEnsembleStats(q, q, q, [0, 0, 0], [1, 1, 1], 3, 1);
    expect(none.numValid).toBe(0);
    expect(Number.isNaN(none.harmonicMeanAccept)).toBe(true);
    expect(none.cheesGradient).toBe(0);
    expect(none.meanAccept).toBe(0);
  });
});

describe('metric', () => {
  it('averages cross-chain variances and regularizes toward 1e-3 like Stan', () => {
    const chains = 20;
    let s = metric.init(2, chains);
    expect(Array.from(metric.final(s))).toEqual([1, 1]);
    s = metric.update(s, { positionVar: new Float64Array([1, 4]) });
    s = metric.update(s, { positionVar: new Float64Array([3, 0.01]) });
    s = metric.update(s, { positionVar: new Float64Array([NaN, 1]) }); // skipped
    expect(s.count).toBe(2);
    expect(s.numSkipped).toBe(1);
    const inv = metric.final(s);
    const w = chains / (chains + 5);
    expect(inv[0]).toBeCloseTo(w * 2 + 1e-3 * (1 - w), 14);
    expect(inv[1]).toBeCloseTo(w * 2.005 + 1e-3 * (1 - w), 14);
  });

  it('update is pure', () => {
    const s0 = metric.init(1, 4);
    const s1 = metric.update(s0, { positionVar: new Float64Array([2]) });
    expect(s0.sumVar[0]).toBe(0);
    expect(s1.sumVar[0]).toBe(2);
  });

  it('crossChainMoments: mean and unbiased variance per coordinate', () => {
    // chains: (1, 10), (2, 20), (3, 30), (6, 0)
    const x = new Float64Array([1, 10, 2, 20, 3, 30, 6, 0]);
    const mean = new Float64Array(2);
    const v = new Float64Array(2);
    metric.crossChainMoments(x, 4, 2, mean, v);
    expect(Array.from(mean)).toEqual([3, 15]);
    // Confirmed by hand: var(1,2,3,6) = (4+1+0+9)/3 = 14/3; var(10,20,30,0) = (25+25+225+225)/3*... = 500/3
    expect(v[0]).toBeCloseTo(14 / 3, 14);
    expect(v[1]).toBeCloseTo(500 / 3, 12);
  });
});
