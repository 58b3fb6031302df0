import { describe, expect, it } from 'vitest';
import { composeShader, createComputePipeline } from '../src/gpu/shader.ts';
import { withErrorScopes } from '../src/gpu/device.ts';
import { cheesEnsembleStats } from '../src/adaptation/chees.ts';
import { packPositions } from '../src/gpu/layout.ts';
import { makeLayout } from '../src/model/layout.ts';
import { submitAndRead, testGpu, testRng } from './gpu_helpers.ts';

const gpu = await testGpu();

/**
 * The warmup reductions of shaders/reduce.wgsl on a synthetic ensemble built to exercise
 * the masking contract (adaptation/chees.ts): divergent chains with non-finite proposals,
 * chains with a non-finite momentum, valid chains below the 1e-4 acceptance cut (in V, not
 * in S), a zero acceptance, and ordinary ones. Checked against cheesEnsembleStats (float64)
 * and direct float64 sums.
 */
const K = 9;
const NV = 3;
const NB = NV + 1;
const D = K + 2; // the model's coordinate order: mu, log tau, z_0..z_8
const FIELDS = 7;

/** Coordinate d -> (block, lane) in the kernels' block layout (src/gpu/layout.ts). */
function blockOf(d: number): [number, number] {
  const layout = makeLayout(K);
  if (d < layout.groupStart) return [NV, d]; // the globals, in the last block's lanes
  return [(d - layout.group(0)) >> 2, (d - layout.group(0)) & 3];
}

interface Ensemble {
  chains: number;
  initial: Float64Array; // chain-major, D per chain
  proposed: Float64Array;
  velocity: Float64Array;
  current: Float64Array; // positions after the transition (the moments' input)
  accept: Float64Array;
  divergent: Uint8Array;
  valid: Uint8Array;
}

function makeEnsemble(chains: number, seed: number): Ensemble {
  const rnd = testRng(seed);
  const normal = () => Math.sqrt(-2 * Math.log(rnd() + 1e-12)) * Math.cos(2 * Math.PI * rnd());
  const e: Ensemble = {
    chains,
    initial: new Float64Array(chains * D),
    proposed: new Float64Array(chains * D),
    velocity: new Float64Array(chains * D),
    current: new Float64Array(chains * D),
    accept: new Float64Array(chains),
    divergent: new Uint8Array(chains),
    valid: new Uint8Array(chains),
  };
  for (let c = 0; c < chains; c++) {
    for (let d = 0; d < D; d++) {
      // Values exactly representable in float32, so both sides see the same inputs.
      e.initial[c * D + d] = Math.fround(3 + normal());
      e.proposed[c * D + d] = Math.fround(3.5 + 1.5 * normal());
      e.velocity[c * D + d] = Math.fround(normal());
      e.current[c * D + d] = Math.fround(100 + normal()); // large offset: the shift matters
    }
    const kind = c % 10;
    let a = Math.fround(0.01 + 0.99 * rnd());
    if (kind === 0) {
      e.divergent[c] = 1;
      a = 0;
      e.proposed[c * D + (c % D)] = c % 20 === 0 ? NaN : Infinity;
    } else if (kind === 1) {
      // A non-finite momentum makes the energy non-finite: the kernel reports a = 0.
      a = 0;
      e.velocity[c * D + (c % D)] = -Infinity;
    } else if (kind === 2) {
      a = Math.fround(5e-5); // valid, below the ChEES cut
    } else if (kind === 3 && c % 30 === 3) {
      a = 0; // valid, zero acceptance: the harmonic mean is 0
    }
    e.accept[c] = a;
    e.valid[c] = kind === 0 || kind === 1 ? 0 : 1;
  }
  return e;
}

interface Reduced {
  partial1: Float32Array;
  partial3: Float32Array;
  means: Float32Array;
}

async function reduceOnGpu(e: Ensemble, threads: number, moments: boolean, wide: boolean): Promise<Reduced> {
  const device = gpu!.device;
  const B = e.chains;
  const code = await composeShader(['reduce', wide ? 'reduce_wide' : 'reduce_blocks'], {
    NV: { type: 'u32', value: NV },
    NB: { type: 'u32', value: NB },
    WGR: { type: 'u32', value: 64 },
    MOMENTS: { type: 'bool', value: moments },
  });
  const region = NB * B * 4;
  const warm = new Float32Array(3 * region);
  [e.initial, e.proposed, e.velocity].forEach((q, r) => warm.set(packPositions(K, B, q), r * region));
  const state = packPositions(K, B, e.current);
  const info = new Float32Array(B * 4);
  for (let c = 0; c < B; c++) info.set([e.accept[c], e.divergent[c], 0, e.valid[c]], 4 * c);
  return withErrorScopes(device, async () => {
    const [ens, means, chees] = await Promise.all([
      createComputePipeline(device, 'ensemble', code, 'ensemble_partial'),
      createComputePipeline(device, 'means', code, 'ensemble_means'),
      createComputePipeline(device, 'chees', code, 'chees_partial'),
    ]);
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
    const mk = (size: number, data?: Float32Array<ArrayBuffer> | Uint32Array<ArrayBuffer>, u = usage) => {
      const b = device.createBuffer({ size: Math.max(16, size), usage: u });
      if (data) device.queue.writeBuffer(b, 0, data);
      return b;
    };
    const buffers: Record<number, GPUBuffer> = {
      0: mk(16, new Uint32Array([B, threads, 0, 0]), GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST),
      1: mk(state.byteLength, state),
      2: mk(warm.byteLength, warm),
      3: mk(info.byteLength, info),
      4: mk(NB * threads * FIELDS * 16),
      5: mk(threads * 16),
      6: mk((2 * NB + 2) * 16),
    };
    const bind = (p: GPUComputePipeline, bindings: number[]) =>
      device.createBindGroup({ layout: p.getBindGroupLayout(0), entries: bindings.map((b) => ({ binding: b, resource: { buffer: buffers[b] } })) });
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(ens);
    pass.setBindGroup(0, bind(ens, [0, 1, 2, 3, 4]));
    // The wide form: a row of workgroups per block.
    pass.dispatchWorkgroups(Math.ceil(threads / 64), wide ? NB : 1);
    pass.setPipeline(means);
    pass.setBindGroup(0, bind(means, [0, 4, 6]));
    pass.dispatchWorkgroups(NB);
    pass.setPipeline(chees);
    pass.setBindGroup(0, bind(chees, [0, 2, 3, 5, 6]));
    pass.dispatchWorkgroups(Math.ceil(threads / 64));
    pass.end();
    const out = (await submitAndRead(device, enc, [4, 5, 6].map((b) => buffers[b]))).map((d) => new Float32Array(d));
    for (const b of Object.values(buffers)) b.destroy();
    return { partial1: out[0], partial3: out[1], means: out[2] };
  });
}

function rel(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(1e-30, Math.abs(a), Math.abs(b));
}

describe.skipIf(!gpu)('warmup reductions (shaders/reduce.wgsl with reduce_blocks.wgsl or reduce_wide.wgsl) vs float64', () => {
  for (const [chains, threads, moments, wide] of [
    [1000, 32, false, false],
    [1000, 32, true, false],
    [777, 5, true, false],
    [1000, 32, false, true],
    [777, 5, true, true],
  ] as const) {
    it(`${wide ? 'wide' : 'unrolled'} form, ${chains} chains, ${threads} threads, moments ${moments}: masking contract, means, ChEES gradient`, async () => {
      const e = makeEnsemble(chains, 42 + chains);
      const ref = cheesEnsembleStats(e.proposed, e.velocity, e.initial, e.accept, Array.from(e.divergent, (d, c) => d === 1 || !e.valid[c]), chains, D);
      const got = await reduceOnGpu(e, threads, moments, wide);
      // Partial sums of every field, per block, in float64.
      const sums = new Float64Array(NB * FIELDS * 4);
      for (let j = 0; j < NB; j++) {
        for (let t = 0; t < threads; t++) {
          for (let i = 0; i < FIELDS * 4; i++) sums[j * FIELDS * 4 + i] += got.partial1[((j * threads + t) * FIELDS) * 4 + i];
        }
      }
      const [numValid, weightSum, invSum, acceptSum] = sums.subarray(4 * 4, 4 * 4 + 4);
      expect(numValid).toBe(ref.numValid);
      expect(sums[5 * 4]).toBe(e.divergent.reduce((s, d) => s + d, 0));
      expect(rel(acceptSum / chains, ref.meanAccept)).toBeLessThan(1e-5);
      expect(invSum).toBe(Infinity); // a valid chain with a = 0
      expect(numValid / invSum).toBe(ref.harmonicMeanAccept);
      // The means kernel: mq' (acceptance-weighted over S), mq0 (over V), and the totals.
      let refWeight = 0;
      const mqp = new Float64Array(D);
      const mq0 = new Float64Array(D);
      for (let c = 0; c < chains; c++) {
        if (!e.valid[c]) continue;
        for (let d = 0; d < D; d++) mq0[d] += e.initial[c * D + d] / ref.numValid;
        if (e.accept[c] >= 1e-4) {
          refWeight += e.accept[c];
          for (let d = 0; d < D; d++) mqp[d] += e.accept[c] * e.proposed[c * D + d];
        }
      }
      expect(rel(weightSum, refWeight)).toBeLessThan(1e-5);
      for (let d = 0; d < D; d++) {
        const [j, lane] = blockOf(d);
        expect(Math.abs(got.means[j * 4 + lane] - mqp[d] / refWeight)).toBeLessThan(1e-5 * (1 + Math.abs(mqp[d] / refWeight)));
        expect(Math.abs(got.means[(NB + j) * 4 + lane] - mq0[d])).toBeLessThan(1e-5 * (1 + Math.abs(mq0[d])));
      }
      expect(got.means[2 * NB * 4]).toBe(numValid);
      // The ChEES gradient (sum over threads of the partials, normalised as the host does).
      let gradSum = 0;
      for (let t = 0; t < threads; t++) gradSum += got.partial3[4 * t];
      expect(Number.isFinite(gradSum)).toBe(true);
      expect(rel(gradSum / (weightSum + 1e-20), ref.cheesGradient)).toBeLessThan(1e-3);
      // Position moments over all chains, shifted by chain 0 (only with MOMENTS).
      for (let d = 0; d < D; d++) {
        const [j, lane] = blockOf(d);
        const base = j * FIELDS * 4;
        if (!moments) {
          expect([sums[base + 2 * 4 + lane], sums[base + 3 * 4 + lane]]).toEqual([0, 0]);
          continue;
        }
        const shift = e.current[d];
        let s1 = 0;
        let s2 = 0;
        for (let c = 0; c < chains; c++) {
          const x = e.current[c * D + d] - shift;
          s1 += x;
          s2 += x * x;
        }
        expect(got.partial1[((j * threads) * FIELDS + 6) * 4 + lane]).toBe(shift);
        expect(Math.abs(sums[base + 2 * 4 + lane] - s1)).toBeLessThan(1e-4 * chains);
        expect(rel(sums[base + 3 * 4 + lane], s2)).toBeLessThan(1e-4);
      }
    });
  }
});
