import { describe, expect, it } from 'vitest';
import {
  initialPositions,
  keyFromSeed,
  metropolisUniform,
  momentumNormals,
  mulhi32,
  philox4x32,
  toUnit,
} from '../src/sampler/rng.ts';

describe('Philox4x32-10', () => {
  // Known-answer vectors of Random123 (kat_vectors, philox4x32_10).
  const kat: Array<[[number, number, number, number], [number, number], number[]]> = [
    [[0, 0, 0, 0], [0, 0], [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]],
    [
      [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff],
      [0xffffffff, 0xffffffff],
      [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd],
    ],
    [
      [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344],
      [0xa4093822, 0x299f31d0],
      [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1],
    ],
  ];
  for (const [ctr, key, want] of kat) {
    it(`matches the Random123 known answer for counter ${ctr.map((x) => x.toString(16)).join(',')}`, () => {
      expect(Array.from(philox4x32(ctr, key))).toEqual(want);
    });
  }

  it('mulhi32 is the exact high word of the 64-bit product', () => {
    const cases: Array<[number, number]> = [
      [0xffffffff, 0xffffffff],
      [0xd2511f53, 0x12345678],
      [0xcd9e8d57, 0xdeadbeef],
      [1, 0xffffffff],
      [0x10000, 0x10000],
      [0, 0xabcdef01],
    ];
    for (const [a, b] of cases) {
      const want = Number((BigInt(a) * BigInt(b)) >> 32n);
      expect(mulhi32(a, b)).toBe(want);
    }
  });

  it('is a pure function of counter and key', () => {
    const a = philox4x32([7, 3, 1, 0], [42, 0]);
    const b = philox4x32([7, 3, 1, 0], [42, 0]);
    const c = philox4x32([7, 3, 2, 0], [42, 0]);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
  });
});

describe('seed, toUnit', () => {
  it('splits a 53-bit seed into two u32 key words', () => {
    expect(keyFromSeed(0)).toEqual([0, 0]);
    expect(keyFromSeed(42)).toEqual([42, 0]);
    expect(keyFromSeed(2 ** 32 + 5)).toEqual([5, 1]);
    expect(keyFromSeed(2 ** 53 - 1)).toEqual([0xffffffff, 0x1fffff]);
    expect(() => keyFromSeed(-1)).toThrow(RangeError);
    expect(() => keyFromSeed(1.5)).toThrow(RangeError);
  });

  it('maps u32 words strictly inside (0, 1), exactly representable in float32', () => {
    expect(toUnit(0)).toBe(2 ** -24);
    expect(toUnit(0xffffffff)).toBe(1 - 2 ** -24);
    expect(toUnit(0x80000000)).toBe(0.5 + 2 ** -24);
    expect(toUnit(0x7fffffff)).toBe(0.5 - 2 ** -24);
    for (const x of [0, 1, 255, 256, 511, 512, 0x12345678, 0x7fffffff, 0x80000000, 0xdeadbeef, 0xffffffff]) {
      const u = toUnit(x);
      expect(u).toBeGreaterThan(0);
      expect(u).toBeLessThan(1);
      expect(Math.fround(u)).toBe(u);
    }
  });
});

describe('momentum normals, Metropolis uniforms, initial positions', () => {
  const key = keyFromSeed(20240607);

  it('momentum normals follow the block/lane layout', () => {
    const K = 9; // NZ = 3 blocks for z, block 3 for (mu, log tau)
    const out = new Float64Array(K + 2);
    momentumNormals(key, 5, 17, K, out);
    const boxMuller = (w: Uint32Array) => {
      const r0 = Math.sqrt(-2 * Math.log(toUnit(w[0])));
      const r1 = Math.sqrt(-2 * Math.log(toUnit(w[2])));
      return [r0 * Math.cos(2 * Math.PI * toUnit(w[1])), r0 * Math.sin(2 * Math.PI * toUnit(w[1])), r1 * Math.cos(2 * Math.PI * toUnit(w[3])), r1 * Math.sin(2 * Math.PI * toUnit(w[3]))];
    };
    const blocks = [0, 1, 2, 3].map((b) => boxMuller(philox4x32([5, 17, b, 0], key)));
    for (let k = 0; k < K; k++) expect(out[2 + k]).toBe(blocks[Math.floor(k / 4)][k % 4]);
    expect(out[0]).toBe(blocks[3][0]);
    expect(out[1]).toBe(blocks[3][1]);
  });

  it('momentum normals are N(0, 1): moments over many draws', () => {
    const K = 6;
    const D = K + 2;
    const out = new Float64Array(D);
    let n = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    let s4 = 0;
    let cross = 0;
    for (let it = 0; it < 200; it++) {
      for (let ch = 0; ch < 250; ch++) {
        momentumNormals(key, it, ch, K, out);
        for (let d = 0; d < D; d++) {
          const x = out[d];
          s1 += x;
          s2 += x * x;
          s3 += x * x * x;
          s4 += x * x * x * x;
          n++;
        }
        cross += out[2] * out[3];
      }
    }
    const mean = s1 / n;
    const m2 = s2 / n;
    // n = 400,000: sd of the mean ~0.0016, of m2 ~0.0022, of m3 ~0.0039, of m4 ~0.015.
    expect(Math.abs(mean)).toBeLessThan(0.008);
    expect(Math.abs(m2 - 1)).toBeLessThan(0.012);
    expect(Math.abs(s3 / n)).toBeLessThan(0.02);
    expect(Math.abs(s4 / n - 3)).toBeLessThan(0.08);
    expect(Math.abs(cross / 50000)).toBeLessThan(0.02); // lanes of one block are independent
  });

  it('momentum normals are deterministic and differ across iterations and chains', () => {
    const a = new Float64Array(11);
    const b = new Float64Array(11);
    momentumNormals(key, 3, 4, 9, a);
    momentumNormals(key, 3, 4, 9, b);
    expect(Array.from(a)).toEqual(Array.from(b));
    momentumNormals(key, 3, 5, 9, b);
    expect(Array.from(a)).not.toEqual(Array.from(b));
    momentumNormals(key, 4, 4, 9, b);
    expect(Array.from(a)).not.toEqual(Array.from(b));
    momentumNormals(keyFromSeed(1), 3, 4, 9, b);
    expect(Array.from(a)).not.toEqual(Array.from(b));
  });

  it('Metropolis uniforms use word 2 of the (mu, log tau) block and are uniform', () => {
    expect(metropolisUniform(key, 11, 2, 9)).toBe(toUnit(philox4x32([11, 2, 3, 0], key)[2]));
    expect(metropolisUniform(key, 11, 2, 8)).toBe(toUnit(philox4x32([11, 2, 2, 0], key)[2]));
    let sum = 0;
    let below = 0;
    const n = 100000;
    for (let i = 0; i < n; i++) {
      const u = metropolisUniform(key, i >> 8, i & 255, 9);
      sum += u;
      if (u < 0.25) below++;
    }
    expect(Math.abs(sum / n - 0.5)).toBeLessThan(0.005); // sd 0.0009
    expect(Math.abs(below / n - 0.25)).toBeLessThan(0.007); // sd 0.0014
  });

  it('initial positions: uniform on (-2, 2) with the block/lane layout', () => {
    const K = 5;
    const D = K + 2;
    const chains = 8;
    const x = initialPositions(key, chains, K);
    expect(x.length).toBe(chains * D);
    for (const v of x) {
      expect(v).toBeGreaterThan(-2);
      expect(v).toBeLessThan(2);
    }
    const c = 3;
    const w = (b: number) => philox4x32([0xffffffff, c, b, 0], key);
    expect(x[c * D + 0]).toBe(-2 + 4 * toUnit(w(2)[0])); // mu: block NZ = 2, lane 0
    expect(x[c * D + 1]).toBe(-2 + 4 * toUnit(w(2)[1])); // log tau: lane 1
    expect(x[c * D + 2 + 4]).toBe(-2 + 4 * toUnit(w(1)[0])); // z[4]: block 1, lane 0
    expect(x[c * D + 2 + 3]).toBe(-2 + 4 * toUnit(w(0)[3])); // z[3]: block 0, lane 3
  });

  it('initial positions: chains of a superchain share their start', () => {
    const K = 3;
    const D = K + 2;
    const x = initialPositions(key, 12, K, 3);
    const single = initialPositions(key, 3, K);
    for (let c = 0; c < 12; c++) {
      const s = Math.floor(c / 4);
      expect(Array.from(x.subarray(c * D, (c + 1) * D))).toEqual(Array.from(single.subarray(s * D, (s + 1) * D)));
    }
    expect(() => initialPositions(key, 10, K, 3)).toThrow(RangeError);
  });
});
