/**
 * Compile-and-run probe for one model width, run in a child process so that its peak RSS
 * is its own: builds a synthetic K-group data set, creates the WebGPU backend (compiles
 * every pipeline), runs a few warmup and sampling transitions, and prints one JSON line
 * {K, chains, compile_s, run_s, max_rss_mb, finite}. Used by test/gpu_wide.test.ts and the
 * scaling bench.
 *
 *   npx tsx test/bench/compile_probe.ts K [chains] [param]
 */
import { makeModel } from '../../src/model/model.ts';
import { parseParameterization } from '../../src/model/parameterization.ts';
import { createWebGpuBackend } from '../../src/sampler/gpu_backend.ts';
import { initialPositions, keyFromSeed } from '../../src/sampler/rng.ts';
import { requestGpu } from '../../src/gpu/device.ts';
import { peakRssMb, syntheticData } from './synthetic.ts';

const K = Number(process.argv[2] ?? 9);
const chains = Number(process.argv[3] ?? 256);
const param = process.argv[4] ?? 'centered';
const data = syntheticData(K, 1);
const model = makeModel(data, parseParameterization(param, data.labels));
const gpu = await requestGpu();
const t0 = performance.now();
const b = await createWebGpuBackend(model, chains, 1, gpu);
const compile_s = (performance.now() - t0) / 1000;
const t1 = performance.now();
await b.init(initialPositions(keyFromSeed(1), chains, K));
const invMass = new Float64Array(model.dim).fill(1);
for (let it = 0; it < 3; it++) {
  b.step({ iteration: it, stepSize: 0.02, numSteps: 4, invMass });
  await b.ensembleStats();
}
b.beginSampling(3, Math.min(chains, 16));
for (let it = 3; it < 6; it++) {
  b.step({ iteration: it, stepSize: 0.02, numSteps: 4, invMass });
  b.recordDraw();
}
const { draws } = await b.collect();
const run_s = (performance.now() - t1) / 1000;
let finite = true;
for (const v of draws.positions) if (!Number.isFinite(v)) finite = false;
b.destroy();
gpu.device.destroy();
console.log(JSON.stringify({ K, chains, compile_s, run_s, max_rss_mb: peakRssMb(), finite }));
process.exit(0);
