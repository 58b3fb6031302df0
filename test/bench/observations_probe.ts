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
import { packPredictorData } from '../../src/gpu/layout.ts';
import { initialPositions, keyFromSeed } from '../../src/sampler/rng.ts';
import { probe, timeBackend } from './probe.ts';
import { syntheticPoissonPredictors } from './synthetic.ts';

const [N, K, chains, P = 2, L = 4, iters = 1] = process.argv.slice(2, 8).map(Number);
const out: Record<string, unknown> = { N, K, chains, P, L };
await probe(out, async () => {
  const data = syntheticPoissonPredictors(N, K, P, 1);
  const model = makeModel(data, parseParameterization('noncentered', data.labels));
  out.data_mb = packPredictorData(model).byteLength / 2 ** 20;
  const initial = initialPositions(keyFromSeed(1), chains, K, undefined, model.dim - K - P, P);
  Object.assign(out, await timeBackend(model, chains, initial, { L, iters, stepSize: 0.01 }));
  out.obs_grad_per_s = (out.grad_per_s as number) * N;
});
