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
import { initialPositions, keyFromSeed } from '../../src/sampler/rng.ts';
import { probe, timeBackend } from './probe.ts';
import { syntheticData } from './synthetic.ts';

const [K, chains, L = 20, iters = 3] = process.argv.slice(2, 6).map(Number);
const kind = (process.argv[6] || undefined) as 'registers' | 'stream' | undefined;
const tpc = process.argv[7] ? Number(process.argv[7]) : NaN;
const out: Record<string, unknown> = { K, chains, L };
await probe(out, async () => {
  const data = syntheticData(K, 1);
  const model = makeModel(data, parseParameterization('noncentered', data.labels));
  const backend = { wideKernel: kind || undefined, threadsPerChain: Number.isFinite(tpc) ? tpc : undefined };
  Object.assign(out, await timeBackend(model, chains, initialPositions(keyFromSeed(1), chains, K), { L, iters, stepSize: 0.05, backend }));
});
