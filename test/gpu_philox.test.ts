import { describe, expect, it } from 'vitest';
import { composeShader, createComputePipeline } from '../src/gpu/shader.ts';
import { withErrorScopes } from '../src/gpu/device.ts';
import { philox4x32, toUnit } from '../src/sampler/rng.ts';
import { submitAndRead, testGpu, testRng } from './gpu_helpers.ts';

const gpu = await testGpu();

/**
 * Test entry points over shaders/philox.wgsl: `mul` writes mulhilo(M0, b), the high word of
 * mulhilo(a, b) and hi16(b) for input pairs, `unit` the bits of to_unit(x) for input words,
 * `gen` philox4x32(counter, key) for input (counter, key) rows.
 */
const HARNESS = `
@group(0) @binding(0) var<storage, read> inp: array<vec4u>;
@group(0) @binding(1) var<storage, read_write> outp: array<vec4u>;
@compute @workgroup_size(64)
fn mul(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.x;
  if (i >= arrayLength(&inp)) { return; }
  let v = inp[i];
  // The multiplier is a constant in the kernel (PHILOX_M0/M1); also test it as a variable.
  let r0 = mulhilo(PHILOX_M0, v.x);
  let r1 = mulhilo(v.y, v.x);
  outp[i] = vec4u(r0, r1.x, hi16(v.x));
}
@compute @workgroup_size(64)
fn unit(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.x;
  if (i >= arrayLength(&inp)) { return; }
  outp[i] = bitcast<vec4u>(to_unit(inp[i]));
}
@compute @workgroup_size(64)
fn gen(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.x;
  if (2u * i + 1u >= arrayLength(&inp)) { return; }
  outp[i] = philox4x32(inp[2u * i], inp[2u * i + 1u].xy);
}
`;

async function run(entry: 'mul' | 'unit' | 'gen', soft: boolean, input: Uint32Array<ArrayBuffer>, outRows: number): Promise<Uint32Array> {
  const device = gpu!.device;
  const code = (await composeShader(['philox'], { SOFT_SHIFTS: { type: 'bool', value: soft } })) + HARNESS;
  return withErrorScopes(device, async () => {
    const pipeline = await createComputePipeline(device, `philox ${entry}`, code, entry);
    const inBuf = device.createBuffer({ size: input.byteLength, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
    const outBuf = device.createBuffer({ size: outRows * 16, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
    device.queue.writeBuffer(inBuf, 0, input);
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: inBuf } }, { binding: 1, resource: { buffer: outBuf } }] }));
    pass.dispatchWorkgroups(Math.ceil(outRows / 64));
    pass.end();
    const [data] = await submitAndRead(device, enc, [outBuf]);
    for (const b of [inBuf, outBuf]) b.destroy();
    return new Uint32Array(data);
  });
}

const M0 = 0xd2511f53;

// Both forms of the 16- and 23-bit fields (SOFT_SHIFTS: float32 arithmetic for software
// adapters, shifts otherwise) must give the same bits.
describe.skipIf(!gpu).each([false, true])('WGSL Philox4x32-10 (shaders/philox.wgsl) on the GPU, SOFT_SHIFTS = %s', (soft) => {
  it('mulhilo and hi16 are exact (vs BigInt) on edge and random words', async () => {
    const edges = [0, 1, 0xffff, 0x10000, 0x7fff, 0x8000, 0x7fffffff, 0x80000000, 0x80008000, 0xffff0000, 0xffff8000, 0xfffeffff, 0xffffffff, 0x0000ffff, 0x7fff8000, 0x12345678, 0xdeadbeef, M0];
    const rnd = testRng(20261125);
    const pairs: [number, number][] = [];
    for (const a of edges) for (const b of edges) pairs.push([a, b]);
    for (let i = 0; i < 4096; i++) pairs.push([Math.floor(rnd() * 2 ** 32) >>> 0, Math.floor(rnd() * 2 ** 32) >>> 0]);
    const input = new Uint32Array(pairs.length * 4);
    pairs.forEach(([a, b], i) => input.set([b, a, 0, 0], 4 * i));
    const out = await run('mul', soft, input, pairs.length);
    const bad: string[] = [];
    pairs.forEach(([a, b], i) => {
      const pm = BigInt(M0) * BigInt(b);
      const pv = BigInt(a) * BigInt(b);
      const want = [Number(pm >> 32n), Number(pm & 0xffffffffn), Number(pv >> 32n), b >>> 16];
      const got = Array.from(out.subarray(4 * i, 4 * i + 4));
      if (got.some((g, k) => g !== want[k])) bad.push(`a=${a.toString(16)} b=${b.toString(16)}: got ${got.map((x) => x.toString(16))} want ${want.map((x) => x.toString(16))}`);
    });
    expect(bad.slice(0, 5)).toEqual([]);
  });

  it('to_unit gives the float32 (2m + 1) 2^-24 of the TypeScript twin', async () => {
    const edges = [0, 1, 0x1ff, 0x200, 0x7fffffff, 0x80000000, 0x800001ff, 0xfffffe00, 0xffffffff, 0x3fffffff, 0xc0000000];
    const rnd = testRng(99);
    const words = [...edges];
    for (let i = 0; i < 4096 - edges.length; i++) words.push(Math.floor(rnd() * 2 ** 32) >>> 0);
    const out = await run('unit', soft, Uint32Array.from(words), words.length / 4);
    const got = new Float32Array(out.buffer);
    const bad = words.filter((w, i) => got[i] !== toUnit(w)).map((w) => w.toString(16));
    expect(bad.slice(0, 5)).toEqual([]);
    expect(got[0]).toBe(2 ** -24);
    expect(got[8]).toBe(1 - 2 ** -24);
  });

  it('gives the same words as the TypeScript twin (and so Random123)', async () => {
    const rnd = testRng(7);
    const rows: [number[], number[]][] = [
      [[0, 0, 0, 0], [0, 0]],
      [[0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff]],
      [[0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0]],
    ];
    for (let i = 0; i < 1024; i++) {
      const w = () => Math.floor(rnd() * 2 ** 32) >>> 0;
      rows.push([[w(), w(), w(), w()], [w(), w()]]);
    }
    const input = new Uint32Array(rows.length * 8);
    rows.forEach(([c, k], i) => input.set([...c, ...k, 0, 0], 8 * i));
    const out = await run('gen', soft, input, rows.length);
    let mismatches = 0;
    rows.forEach(([c, k], i) => {
      const want = philox4x32(c as [number, number, number, number], k as [number, number]);
      for (let j = 0; j < 4; j++) if (out[4 * i + j] !== want[j]) mismatches++;
    });
    expect(mismatches).toBe(0);
    // Random123's known answer (kat_vectors: philox4x32 10, pi digits), checked on the GPU.
    expect(Array.from(out.subarray(8, 12))).toEqual([0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1]);
  });
});
