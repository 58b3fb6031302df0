import { describe, expect, it } from 'vitest';
import { composeShader, f32Literal, MAX_UNROLL, unrollLoops } from '../src/gpu/shader.ts';

describe('shader composer', () => {
  it('writes float32 constants that parse back bit-exactly', () => {
    let s = 12345;
    const next = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const values = [0, -0, 1, -1, 0.1, 1 / 3, 5, 1e-30, -7.44585657, 3.4e38, 1.4e-45, 16777217, 2 ** 31];
    for (let i = 0; i < 2000; i++) values.push((next() - 0.5) * 10 ** Math.floor(next() * 60 - 30));
    for (const x of values) {
      const lit = f32Literal('X', x);
      expect(lit).toMatch(/^-?(\d+(\.\d*)?(e[+-]?\d+)?)$/);
      expect(Math.fround(parseFloat(lit))).toBe(Math.fround(x) === 0 ? 0 : Math.fround(x));
    }
    expect(() => f32Literal('X', Infinity)).toThrow(/X must be finite/);
    expect(() => f32Literal('X', 1e39)).toThrow(/X overflows float32/);
  });

  it('declares typed constants and vec4f arrays in the prelude', async () => {
    const code = await composeShader([], {
      N: { type: 'u32', value: 3 },
      B: { type: 'bool', value: true },
      F: { type: 'f32', value: 0.5 },
      A: { type: 'vec4f[]', value: [1, 2, 3, 4, 0.25, 0, -1, 8] },
    });
    expect(code).toContain('const N: u32 = 3u;');
    expect(code).toContain('const B: bool = true;');
    expect(code).toContain('const F: f32 = 0.500000000;');
    expect(code).toContain('const A = array<vec4f, 2>(vec4f(1.00000000, 2.00000000, 3.00000000, 4.00000000), vec4f(0.250000000, 0.0, -1.00000000, 8.00000000));');
    await expect(composeShader([], { A: { type: 'vec4f[]', value: [1, 2, 3] } })).rejects.toThrow(/multiple of 4/);
    await expect(composeShader([], { bad: { type: 'u32', value: 1 } })).rejects.toThrow(/bad shader constant name/);
  });

  it('unrolls marked loops up to MAX_UNROLL and leaves longer ones rolled', () => {
    const src = ['for (var j = 0u; j < NV; j++) { // @unroll', '  x[j] = 1.0;', '}'].join('\n');
    const small = unrollLoops(src, { NV: { type: 'u32', value: 3 } });
    expect(small.match(/const j = (\d)u;/g)).toEqual(['const j = 0u;', 'const j = 1u;', 'const j = 2u;']);
    expect(small).not.toContain('for (');
    const big = unrollLoops(src, { NV: { type: 'u32', value: MAX_UNROLL + 1 } });
    expect(big).toBe(src);
  });
});
