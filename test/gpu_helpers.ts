import { readFileSync } from 'node:fs';
import type { HierData } from '../src/model/data.ts';
import { requestGpu, type Gpu } from '../src/gpu/device.ts';
import { mulberry32 } from '../src/gpu/kernel_check.ts';
import { gpuWait } from '../src/gpu/wait.ts';

/** Seed data sets of the study (copied from shared/data into demo/data). */
export const SEED_NAMES = ['weak', 'strong', 'unbalanced'] as const;
export type SeedName = (typeof SEED_NAMES)[number];

/** Reads a seed data set without the io module (tests of io live in io.test.ts). */
export function seedData(name: SeedName): HierData {
  const raw = JSON.parse(readFileSync(new URL(`../demo/data/${name}.json`, import.meta.url), 'utf8'));
  const y = Float64Array.from(raw.y as number[]);
  return {
    y,
    group: Int32Array.from(raw.idx as number[]),
    sigma: new Float64Array(y.length).fill(raw.sigma),
    K: raw.K,
    labels: Array.from({ length: raw.K }, (_, k) => String(k)),
  };
}

/**
 * The GPU for tests. Without an adapter, GPU tests skip — unless FUNNELWEB_REQUIRE_GPU=1
 * (as in CI), when the missing adapter is a failure.
 */
let gpu: Promise<Gpu | null> | undefined;
export function testGpu(): Promise<Gpu | null> {
  gpu ??= requestGpu().catch((err) => {
    if (process.env.FUNNELWEB_REQUIRE_GPU === '1') throw err;
    return null;
  });
  return gpu;
}

/** Deterministic PRNG for test inputs (mulberry32). */
export const testRng = mulberry32;

/**
 * Ends `encoder` with copies of `buffers` into mappable ones, submits it, and returns the
 * buffers' contents (the mappable copies are destroyed).
 */
export async function submitAndRead(device: GPUDevice, encoder: GPUCommandEncoder, buffers: readonly GPUBuffer[]): Promise<ArrayBuffer[]> {
  const reads = buffers.map((b) => {
    const r = device.createBuffer({ size: b.size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    encoder.copyBufferToBuffer(b, 0, r, 0, b.size);
    return r;
  });
  device.queue.submit([encoder.finish()]);
  return Promise.all(
    reads.map(async (r) => {
      await gpuWait(() => r.mapAsync(GPUMapMode.READ));
      const data = r.getMappedRange().slice(0);
      r.destroy();
      return data;
    }),
  );
}
