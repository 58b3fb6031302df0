/**
 * What the one-process bench probes share (scaling_probe.ts, observations_probe.ts): the
 * timed run of a WebGPU backend, and the probe's one JSON line.
 */
import type { HierModel } from '../../src/model/model.ts';
import { createWebGpuBackend, type WebGpuBackendOptions } from '../../src/sampler/gpu_backend.ts';
import { requestGpu } from '../../src/gpu/device.ts';
import { peakRssMb } from './synthetic.ts';

/**
 * Creates `model`'s backend for `chains` chains, starts it at `initial`, runs one untimed
 * transition of L leapfrog steps, then `iters` timed ones (none recorded). Figures:
 * compile_s (backend created: pipelines compiled, buffers allocated), first_draw_s (start
 * to the end of the first transition), grad_per_s (gradient evaluations per second while
 * sampling), gpu_mb (every GPU buffer), kernel ('baked', or the wide kernel's form / threads
 * per chain).
 */
export async function timeBackend(
  model: HierModel,
  chains: number,
  initial: Float64Array,
  o: { readonly L: number; readonly iters: number; readonly stepSize: number; readonly backend?: WebGpuBackendOptions },
): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const gpu = await requestGpu();
  const t0 = performance.now();
  const b = await createWebGpuBackend(model, chains, 1, gpu, o.backend ?? {});
  out.compile_s = (performance.now() - t0) / 1000;
  const info = b as unknown as { bufferBytes: number; wideLayout: { kind: string; tpc: number } | null };
  out.kernel = info.wideLayout ? `${info.wideLayout.kind}/${info.wideLayout.tpc}` : 'baked';
  await b.init(initial);
  const invMass = new Float64Array(model.dim).fill(1);
  const step = (iteration: number) => b.step({ iteration, stepSize: o.stepSize, numSteps: o.L, invMass });
  b.beginSampling(o.iters + 1, 0);
  step(0);
  await b.sync();
  out.first_draw_s = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  for (let i = 1; i <= o.iters; i++) step(i);
  await b.sync();
  const dt = (performance.now() - t1) / 1000;
  const total = (await b.collect()).totals.gradientEvals;
  out.grad_per_s = (total * o.iters) / (o.iters + 1) / dt;
  out.gpu_mb = info.bufferBytes / 2 ** 20;
  b.destroy();
  gpu.device.destroy();
  return out;
}

/** Runs a probe's body, then prints `out` (with `error` when the body threw, and the peak RSS) as one JSON line and exits. */
export async function probe(out: Record<string, unknown>, body: () => Promise<void>): Promise<never> {
  try {
    await body();
  } catch (err) {
    out.error = (err as Error).message.split('\n')[0];
  }
  out.max_rss_mb = peakRssMb();
  console.log(JSON.stringify(out));
  process.exit(0);
}
