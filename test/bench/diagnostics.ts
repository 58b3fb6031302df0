/**
 * Benchmark (not a timed test): `summarize` (one thread) and `summarizeParallel` (all
 * cores) on 4,096 chains × 1,000 draws × 11 parameters of AR(1) draws, the size the
 * sampler hands over. Prints wall and CPU time per run; the budget is 5 s on the 2-core
 * development machine.
 *
 *   npx tsx test/bench/diagnostics.ts            (or import { benchDiagnostics })
 */
import { availableParallelism, loadavg } from 'node:os';
import { summarize } from '../../src/diagnostics/index.ts';
import { lastParallelStats, summarizeParallel } from '../../src/diagnostics/parallel.ts';
import { xorshift32Uniforms } from '../../src/sampler/rng.ts';

const CHAINS = 4096;
const DRAWS = 1000;
const PARAMS = 11;

/** AR(1) draws x_t = rho x_{t-1} + sqrt(1 - rho^2) e_t per chain, chain-major, float32 like the GPU's. */
function ar1Draws(chains: number, draws: number, rho: number, seed: number, Type: Float32ArrayConstructor | Float64ArrayConstructor) {
  const out = new Type(chains * draws);
  const uniform = xorshift32Uniforms(seed);
  const scale = Math.sqrt(1 - rho * rho);
  for (let c = 0; c < chains; c++) {
    let x = Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
    for (let d = 0; d < draws; d++) {
      const e = Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
      x = rho * x + scale * e;
      out[c * draws + d] = x;
    }
  }
  return out;
}

function params(rho: number, Type: Float32ArrayConstructor | Float64ArrayConstructor) {
  const p: Record<string, Float32Array | Float64Array> = {};
  for (let k = 0; k < PARAMS; k++) p[`theta_${k}`] = ar1Draws(CHAINS, DRAWS, rho, 1234 + k, Type);
  return p;
}

type Params = Record<string, Float32Array | Float64Array>;

async function time(label: string, p: Params, parallel: boolean, extra = {}): Promise<number> {
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const s = parallel ? await summarizeParallel(p, CHAINS, DRAWS, extra) : summarize(p, CHAINS, DRAWS, extra);
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  const first = s.params.theta_0;
  const threads = parallel ? `${lastParallelStats.threads} threads, ${lastParallelStats.paramsByWorkers} params by workers` : '1 thread';
  console.log(
    `${label} [${threads}]: ${(ms / 1000).toFixed(2)} s wall, ${(cpuMs / 1000).toFixed(2)} s CPU` +
      `  (theta_0: rhat ${first.rhat.toFixed(4)}, ess_bulk ${first.ess_bulk.toFixed(0)}, ess_tail ${first.ess_tail.toFixed(0)})`,
  );
  return ms;
}

/** Prints the wall and CPU time of summarize() and summarizeParallel() at the sampler's size. */
export async function benchDiagnostics(): Promise<void> {
  console.log(
    `summarize(): ${CHAINS} chains × ${DRAWS} draws × ${PARAMS} parameters, AR(1) draws ` +
      `(${availableParallelism()} cores, load average ${loadavg()[0].toFixed(2)})`,
  );
  const p32 = params(0.9, Float32Array);
  await time('  rho = 0.9, float32, serial (warm-up)', p32, false);
  await time('  rho = 0.9, float32, serial', p32, false);
  await time('  rho = 0.9, float32, parallel', p32, true);
  await time('  rho = 0.9, float32, parallel, 512 superchains + energy', p32, true, {
    superchains: 512,
    energy: ar1Draws(CHAINS, DRAWS, 0.3, 99, Float32Array),
  });
  await time('  rho = 0.5, float32, parallel', params(0.5, Float32Array), true);
  await time('  rho = 0.9, float64, parallel', params(0.9, Float64Array), true);
}

if (import.meta.url === `file://${process.argv[1]}`) await benchDiagnostics();
