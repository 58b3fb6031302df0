/**
 * Pipelines are made once per device (and layout) for the same WGSL and entry point, so a
 * second run on the same device compiles nothing it compiled before; what differs in code,
 * entry point or layout is its own pipeline, a failed compile is not kept, and runs that
 * share pipelines give the draws of runs that do not.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { cachedLayout, createComputePipeline } from '../src/gpu/shader.ts';
import { requestGpu } from '../src/gpu/device.ts';
import { sample } from '../src/sampler/sample.ts';
import { seedData, testGpu } from './gpu_helpers.ts';

const gpu = await testGpu();
afterAll(() => gpu?.device.destroy());

const code = (v: number) => `@group(0) @binding(0) var<storage, read_write> out: array<f32>;
@compute @workgroup_size(1) fn main() { out[0] = ${v.toFixed(1)}; }
@compute @workgroup_size(1) fn other() { out[0] = -${v.toFixed(1)}; }`;

describe.skipIf(!gpu)('pipeline cache', () => {
  it('the same device, code and entry point: the same pipeline; any difference: another', async () => {
    const d = gpu!.device;
    const a = await createComputePipeline(d, 'a', code(1));
    expect(await createComputePipeline(d, 'a again', code(1))).toBe(a);
    expect(await createComputePipeline(d, 'b', code(2))).not.toBe(a);
    expect(await createComputePipeline(d, 'a other', code(1), 'other')).not.toBe(a);
    const { layout } = cachedLayout(d, 'test layout', [{ binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'storage' } }]);
    expect(cachedLayout(d, 'test layout', []).layout).toBe(layout);
    const withLayout = await createComputePipeline(d, 'a on a layout', code(1), 'main', layout);
    expect(withLayout).not.toBe(a);
    expect(await createComputePipeline(d, 'again', code(1), 'main', layout)).toBe(withLayout);
  });

  it('another device has its own pipelines', async () => {
    const other = await requestGpu();
    try {
      const a = await createComputePipeline(gpu!.device, 'a', code(3));
      expect(await createComputePipeline(other.device, 'a', code(3))).not.toBe(a);
    } finally {
      other.device.destroy();
    }
  });

  it('a failed compile is not kept: it fails again, with its message', async () => {
    const bad = 'fn main( {';
    await expect(createComputePipeline(gpu!.device, 'bad', bad)).rejects.toThrow(/WGSL compile error in bad/);
    await expect(createComputePipeline(gpu!.device, 'bad again', bad)).rejects.toThrow(/WGSL compile error in bad again/);
  });

  it('runs on one device sharing pipelines give the draws of a run on a fresh device', async () => {
    const opts = { data: seedData('unbalanced'), parameterization: 'mixed:2,6', chains: 128, warmup: 40, draws: 30, seed: 9, backend: 'webgpu' as const };
    const first = await sample({ ...opts, gpu: gpu! });
    await sample({ ...opts, parameterization: 'centered', gpu: gpu! });
    const again = await sample({ ...opts, gpu: gpu! });
    const fresh = await requestGpu();
    try {
      const alone = await sample({ ...opts, gpu: fresh });
      for (const r of [again, alone]) expect(Buffer.from(r.records.positions.buffer).equals(Buffer.from(first.records.positions.buffer))).toBe(true);
    } finally {
      fresh.device.destroy();
    }
  });
});
