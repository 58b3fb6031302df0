/**
 * One cell of the scaling table (test/bench/scaling.ts), in its own process so that its
 * peak RSS is its own: a K-group synthetic model (noncentered) and `chains` chains on the
 * WebGPU backend. Prints one JSON line:
 *   compile_s     creating the backend (every pipeline compiled, buffers allocated);
 *   first_draw_s  from the start to the end of the first transition (compile, initial
 *                 points, one transition of L steps): the earliest a draw can exist;
 *   grad_per_s    gradient evaluations per second while sampling (`iters` transitions of
 *                 L leapfrog steps, none recorded);
 *   max_rss_mb    the process's peak resident memory;  gpu_mb  GPU buffers allocated;
 *   kernel        'baked', or the wide kernel's form / threads per chain;
 *   error         instead of the figures when the configuration does not fit.
 *
 *   npx tsx test/bench/scaling_probe.ts K chains [L=20] [iters=3] [registers|stream] [threadsPerChain]
 */
import { makeModel } from '../../src/model/model.ts';
import { parseParameterization } from '../../src/model/parameterization.ts';
import { createWebGpuBackend } from '../../src/sampler/gpu_backend.ts';
import { initialPositions, keyFromSeed } from '../../src/sampler/rng.ts';
import { requestGpu } from '../../src/gpu/device.ts';
import { peakRssMb, syntheticData } from './synthetic.ts';

const [K, chains, L = 20, iters = 3] = process.argv.slice(2, 6).map(Number);
const kind = (process.argv[6] || undefined) as 'registers' | 'stream' | undefined;
const tpc = process.argv[7] ? Number(process.argv[7]) : NaN;
const out: Record<string, unknown> = { K, chains, L };
try {
  const data = syntheticData(K, 1);
  const model = makeModel(data, parseParameterization('noncentered', data.labels));
  const gpu = await requestGpu();
  const t0 = performance.now();
  const b = await createWebGpuBackend(model, chains, 1, gpu, { wideKernel: kind || undefined, threadsPerChain: Number.isFinite(tpc) ? tpc : undefined });
  out.compile_s = (performance.now() - t0) / 1000;
  const info = b as unknown as { bufferBytes: number; wideLayout: { kind: string; tpc: number } | null };
  out.kernel = info.wideLayout ? `${info.wideLayout.kind}/${info.wideLayout.tpc}` : 'baked';
  await b.init(initialPositions(keyFromSeed(1), chains, K));
  const invMass = new Float64Array(model.dim).fill(1);
  const stepSize = 0.05;
  b.beginSampling(iters + 1, 0);
  b.step({ iteration: 0, stepSize, numSteps: L, invMass });
  await b.sync();
  out.first_draw_s = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  for (let i = 1; i <= iters; i++) b.step({ iteration: i, stepSize, numSteps: L, invMass });
  await b.sync();
  const dt = (performance.now() - t1) / 1000;
  const before = (await b.collect()).totals.gradientEvals;
  out.grad_per_s = (before * iters) / (iters + 1) / dt;
  out.gpu_mb = info.bufferBytes / 2 ** 20;
  b.destroy();
  gpu.device.destroy();
} catch (err) {
  out.error = (err as Error).message.split('\n')[0];
}
out.max_rss_mb = peakRssMb();
console.log(JSON.stringify(out));
process.exit(0);
