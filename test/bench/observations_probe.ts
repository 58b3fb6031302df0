/**
 * One cell of the observations table (`npm run bench -- --only observations`), in its own
 * process so that its peak RSS is its own: Poisson with P predictors that vary within
 * groups (test/bench/synthetic.ts), N observations over K groups, `chains` chains on the
 * WebGPU backend (the observation path: O(N·P) per gradient). Prints one JSON line:
 *   compile_s     creating the backend (pipelines compiled, data and state uploaded);
 *   grad_per_s    gradient evaluations per second while sampling (`iters` transitions of
 *                 L leapfrog steps, none recorded);
 *   obs_grad_per_s  observation terms per second: grad_per_s x N;
 *   gpu_mb        every GPU buffer allocated;  data_mb  of which the observations;
 *   max_rss_mb    the process's peak resident memory;  kernel  the wide kernel's form / threads per chain.
 *
 *   npx tsx test/bench/observations_probe.ts N K chains [P=2] [L=4] [iters=1]
 */
import { makeModel } from '../../src/model/model.ts';
import { parseParameterization } from '../../src/model/parameterization.ts';
import { createWebGpuBackend } from '../../src/sampler/gpu_backend.ts';
import { packPredictorData } from '../../src/gpu/layout.ts';
import { initialPositions, keyFromSeed } from '../../src/sampler/rng.ts';
import { requestGpu } from '../../src/gpu/device.ts';
import { peakRssMb, syntheticPoissonPredictors } from './synthetic.ts';

const [N, K, chains, P = 2, L = 4, iters = 1] = process.argv.slice(2, 8).map(Number);
const out: Record<string, unknown> = { N, K, chains, P, L };
try {
  const data = syntheticPoissonPredictors(N, K, P, 1);
  const model = makeModel(data, parseParameterization('noncentered', data.labels));
  out.data_mb = packPredictorData(model).byteLength / 2 ** 20;
  const gpu = await requestGpu();
  const t0 = performance.now();
  const b = await createWebGpuBackend(model, chains, 1, gpu, {});
  out.compile_s = (performance.now() - t0) / 1000;
  const info = b as unknown as { bufferBytes: number; wideLayout: { kind: string; tpc: number } | null };
  out.kernel = info.wideLayout ? `${info.wideLayout.kind}/${info.wideLayout.tpc}` : 'baked';
  await b.init(initialPositions(keyFromSeed(1), chains, K, undefined, model.dim - K - P, P));
  const invMass = new Float64Array(model.dim).fill(1);
  const stepSize = 0.01;
  b.beginSampling(iters + 1, 0);
  b.step({ iteration: 0, stepSize, numSteps: L, invMass });
  await b.sync();
  const t1 = performance.now();
  for (let i = 1; i <= iters; i++) b.step({ iteration: i, stepSize, numSteps: L, invMass });
  await b.sync();
  const dt = (performance.now() - t1) / 1000;
  const total = (await b.collect()).totals.gradientEvals;
  out.grad_per_s = (total * iters) / (iters + 1) / dt;
  out.obs_grad_per_s = (out.grad_per_s as number) * N;
  out.gpu_mb = info.bufferBytes / 2 ** 20;
  b.destroy();
  gpu.device.destroy();
} catch (err) {
  out.error = (err as Error).message.split('\n')[0];
}
out.max_rss_mb = peakRssMb();
console.log(JSON.stringify(out));
process.exit(0);
