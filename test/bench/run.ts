/**
 * `npm run bench` — FunnelWeb's benchmarks (figures, not pass/fail tests):
 *  1. transition-kernel throughput (gradient evaluations per second while sampling) at
 *     4,096 and 65,536 chains and L = 20 or 200 leapfrog steps, WebGPU beside the float64
 *     CPU backend, after a reference: a plain vec4 HMC kernel for a 10-d normal;
 *  2. end-to-end ChEES-HMC runs of the seed study's seven cases at 4,096 chains
 *     (1,000 warmup + 1,000 draws), WebGPU, and the CPU backend on the same cases;
 *  3. 65,536 chains × 1,000 draws (memory-bounded recording) on seed cases;
 *  4. diagnostics: summarising 4,096 chains × 1,000 draws × 11 parameters;
 *  5. FunnelWeb against Stan in the same run (test/bench/stan.ts): min bulk ESS per second
 *     of whole-process wall time, `funnelweb sample` with its defaults as a child process,
 *     against rstan NUTS (compile excluded) at adapt_delta 0.95 and 0.8, on four cases;
 *     skipped with a message when Rscript with rstan is absent;
 *  5b. FunnelWeb vs Stan on posteriordb's models with predictors (`--only stan-predictors`,
 *     test/bench/stan_predictors.ts): radon_mn, seeds and GLMM_Poisson, `funnelweb sample
 *     --param auto` as a child process (whole process) against rstan NUTS at adapt_delta 0.8
 *     and 0.95 on the same model and priors; skipped with a message when Rscript with rstan
 *     is absent;
 *  6. (only when asked: --only defaults) the defaults beside other chain and draw counts and
 *     the fixed 1,000-iteration warmup, whole-process ESS/s, interleaved (test/bench/defaults.ts);
 *  7. scaling (`--only scaling` for this alone): chains 1,024 to 262,144 x
 *     K = 9, 100, 1,000, 10,000 groups, each cell in its own process (gradient evals/s,
 *     compile, time to first draw, peak RSS, GPU memory), and compile time against K.
 *     --scaling-quick shrinks it (chains 1,024 and 4,096; K up to 1,000, plus 10,000 at 4,096
 *     chains), the default on software adapters (SwiftShader) unless --scaling-full;
 *     --scaling-chains / --scaling-groups pick the grid,
 *     --wide-kernel registers|stream and --threads-per-chain N the wide kernel.
 *
 * 10. observations (`--only observations`; not in the default set): Poisson with two
 *     predictors that vary within groups (the O(N·P) observation path), N = 1,000 to
 *     1,000,000 observations over K = 100 groups at 4,096 chains (--obs-n, --scaling-chains),
 *     each cell in its own process (test/bench/observations_probe.ts): gradient evaluations and
 *     observation terms per second, compile time, GPU memory (the observations' share
 *     apart) and peak RSS.
 *
 *  9. families (`--only families` for this alone; not in the default set: 4.7 minutes
 *     on the 2-core SwiftShader machine, busy): per-group gradient throughput of every registered likelihood family
 *     against the normal family's, K = 9 and 1,000 (--scaling-groups), 1,024 and 4,096
 *     chains (--scaling-chains), each (K, chains) one process with every family's backend,
 *     best of --families-rounds (3) interleaved rounds (test/bench/families.ts).
 *
 * 11. sbc (`--only sbc`; not in the default set): SBC simulations per second in one batched
 *     `funnelweb sbc` against a loop of `funnelweb sample` processes and a loop of the
 *     library's sample() with the same chains per simulation; sweep data sets per minute
 *     in-process and on 1 and 3 `funnelweb worker` processes (test/bench/sbc.ts).
 *
 *  8. (only when asked: --only auto) learned centeredness (`--param auto`, `auto-binary`)
 *     beside the fixed forms on the seed data and on wide unbalanced data (AUTO_CASES;
 *     `--cases` picks a subset, `--auto-chains N` the chains of the wide sets, default
 *     4,096). Its ESS/Mgrad column (min bulk ESS per million gradient evaluations) compares
 *     the forms apart from the machine's speed; a partial c costs the kernel more per gradient.
 *
 * Options: --quick (smaller runs), --only kernel,cases,cpu,big,diagnostics,stan,stan-predictors,scaling[,defaults,auto,families,observations,sbc], --metric-compare
 * (cases with and without the diagonal metric), --cases data:param,... (a subset of the
 * seven), --big-iterations N (warmup = draws = N at 65,536 chains; default 1000).
 */
import { parseArgs } from 'node:util';
import { requestGpu } from '../../src/gpu/device.ts';
import { benchDiagnostics } from './diagnostics.ts';
import { referenceKernelThroughput } from './reference.ts';
import { AUTO_CASES, SEED_CASES, formatCases, kernelThroughput, runCase, type CaseResult } from './sampler.ts';
import { benchDefaults } from './defaults.ts';
import { STAN_CASES, THROUGHPUT_ARGS, afterSampling, formatAnswerTable, formatStanTable, processStartSeconds, runFunnelWebCli, runStan, stanAvailable, type FunnelWebRun } from './stan.ts';
import { PREDICTOR_CASES, formatStanPredictorsTable, runFunnelWebPredictors, runStanPredictors, type PredictorFunnelWebRun } from './stan_predictors.ts';
import { benchCompile, benchObservations, benchScaling } from './scaling.ts';
import { benchSbc, benchSweepWorkers } from './sbc.ts';
import { benchFamilies } from './families.ts';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean' },
    only: { type: 'string' },
    'metric-compare': { type: 'boolean' },
    'big-iterations': { type: 'string' },
    cases: { type: 'string' },
    'auto-chains': { type: 'string' },
    'scaling-quick': { type: 'boolean' },
    'scaling-full': { type: 'boolean' },
    'scaling-chains': { type: 'string' },
    'scaling-groups': { type: 'string' },
    'wide-kernel': { type: 'string' },
    'threads-per-chain': { type: 'string' },
    'families-rounds': { type: 'string' },
    'obs-n': { type: 'string' },
  },
});
/** A comma-separated list of numbers from an option, or the default. */
const list = (text: string | undefined, dflt: number[]) => (text ? text.split(',').map(Number) : dflt);

/** `data:param,...`; a token without ':' continues the previous param (as in mixed:2,6). */
function parseCases(text: string): (readonly [string, string])[] {
  const out: [string, string][] = [];
  for (const tok of text.split(',')) {
    const i = tok.indexOf(':');
    if (i < 0 && out.length) out[out.length - 1][1] += `,${tok}`;
    else out.push([tok.slice(0, i), tok.slice(i + 1)]);
  }
  return out;
}
const cases = values.cases ? parseCases(values.cases) : SEED_CASES;
const only = new Set((values.only ?? 'kernel,cases,cpu,big,diagnostics,stan,stan-predictors,scaling').split(','));
const quick = values.quick === true;
const iters = quick ? 200 : 1000;
const bigIters = Number(values['big-iterations'] ?? (quick ? 100 : 1000));

// Only the in-process WebGPU sections need a GPU here (stan and defaults run the CLI).
const gpu = ['kernel', 'cases', 'big', 'auto'].some((s) => only.has(s)) ? await requestGpu() : undefined;
console.log(`FunnelWeb benchmarks — adapter: ${gpu ? gpu.adapter.label : 'none requested here'}; node ${process.version}; ${new Date().toISOString()}\n`);

// Diagnostics first, in a fresh process (as `funnelweb diagnose` runs), before the GPU runs
// fill the heap.
if (only.has('diagnostics')) {
  console.log('4. Diagnostics');
  await benchDiagnostics();
  console.log();
}

if (only.has('kernel')) {
  console.log('1. Transition kernel while sampling (fixed eps = 0.05), gradient evaluations per second');
  for (const L of [20, 200]) {
    const g = await referenceKernelThroughput(gpu!, 65536, L, quick ? 2 : Math.max(3, 200 / L));
    console.log(`   reference: plain vec4 HMC, 10-d standard normal (test/bench/normal10.wgsl), 65536 chains, L = ${L}: ${(g / 1e6).toFixed(2)} M chain-steps/s`);
  }
  for (const [d, p] of [['weak', 'noncentered'], ['strong', 'centered'], ['unbalanced', 'mixed:2,6'], ['weak', 'partial:0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5']] as const) {
    for (const [chains, L] of [[4096, 20], [65536, 20], [65536, 200]] as const) {
      const g = await kernelThroughput(d, p, chains, L, quick ? 2 : Math.max(3, 200 / L), 'webgpu', gpu!);
      console.log(`   webgpu ${String(chains).padStart(6)} chains  L = ${String(L).padStart(3)}  ${d} × ${p}: ${(g / 1e6).toFixed(2)} M grad/s`);
    }
    const c = await kernelThroughput(d, p, 1024, 20, quick ? 2 : 5, 'cpu');
    console.log(`   cpu      ${String(1024).padStart(4)} chains  L =  20  ${d} × ${p}: ${(c / 1e6).toFixed(2)} M grad/s (float64 TypeScript)`);
  }
  console.log();
}

const rows: CaseResult[] = [];
const flush = (title: string, r: CaseResult[]) => {
  console.log(title);
  console.log(formatCases(r));
  console.log();
};

if (only.has('cases')) {
  const r: CaseResult[] = [];
  for (const [d, p] of cases) {
    r.push(await runCase(d, p, { chains: 4096, warmup: iters, draws: iters, backend: 'webgpu', gpu: gpu! }));
    if (values['metric-compare']) r.push({ ...(await runCase(d, p, { chains: 4096, warmup: iters, draws: iters, backend: 'webgpu', gpu: gpu!, adaptMetric: true })), param: `${p} +diag` });
  }
  flush(`2. Seed cases, WebGPU, 4,096 chains × ${iters} warmup + ${iters} draws (ESS/s per second of total wall time)`, r);
  rows.push(...r);
}

if (only.has('cpu')) {
  const r: CaseResult[] = [];
  const chains = quick ? 64 : 256;
  for (const [d, p] of cases) r.push(await runCase(d, p, { chains, warmup: iters, draws: iters, backend: 'cpu' }));
  flush(`2b. Same cases on the float64 CPU backend, ${chains} chains × ${iters} + ${iters}`, r);
  rows.push(...r);
}

if (only.has('big')) {
  const r: CaseResult[] = [];
  for (const [d, p] of [['weak', 'noncentered'], ['unbalanced', 'mixed:2,6']] as const) {
    r.push(await runCase(d, p, { chains: 65536, warmup: bigIters, draws: bigIters, backend: 'webgpu', gpu: gpu! }));
  }
  flush(`3. 65,536 chains × ${bigIters} warmup + ${bigIters} draws (draws of a retained subset; ESS scaled to all chains)`, r);
  rows.push(...r);
}

if (only.has('auto')) {
  const r: CaseResult[] = [];
  const wideChains = Number(values['auto-chains'] ?? 4096);
  for (const [d, p] of values.cases ? cases : AUTO_CASES) {
    const chains = d.startsWith('wide') ? wideChains : 4096;
    const row = await runCase(d, p, { chains, warmup: iters, draws: iters, backend: 'webgpu', gpu: gpu! });
    console.log(formatCases([row]).split('\n')[1]);
    r.push(row);
  }
  flush(`8. auto vs fixed parameterizations, WebGPU, ${iters} warmup + ${iters} draws (ESS/s per second of total wall time)`, r);
  rows.push(...r);
}

if (only.has('stan')) {
  console.log(`5. FunnelWeb vs Stan, min bulk ESS per second (FunnelWeb: whole \`funnelweb sample ${THROUGHPUT_ARGS.join(' ')}\` process; Stan: its own elapsed time, compile excluded); and the time to a usable answer with the defaults`);
  const avail = stanAvailable();
  if (!avail.ok) console.log(`   Stan skipped: ${avail.why} (install R with rstan, e.g. Debian's r-cran-rstan, to compare)`);
  // The child processes need the CPU: this process's GPU device is released first.
  gpu?.device.destroy();
  const startup = processStartSeconds();
  const fw: FunnelWebRun[] = [];
  const answer: FunnelWebRun[] = [];
  for (const [d, p] of STAN_CASES) {
    fw.push(await runFunnelWebCli(d, p, [...THROUGHPUT_ARGS]));
    answer.push(await runFunnelWebCli(d, p));
  }
  const stan = avail.ok ? await runStan(STAN_CASES, undefined, quick ? { draws: 2000 } : {}) : null;
  console.log(formatStanTable(fw, stan, startup));
  console.log('');
  console.log(formatAnswerTable(answer, stan));
  const main = answer.find((f) => f.data === 'unbalanced');
  if (main) console.log(`\n   After sampling, the main job (unbalanced x mixed:2,6, defaults): ${afterSampling(main)} of ${main.wall_s.toFixed(2)} s wall (goal: <= 20%)`);
  const main4096 = fw.find((f) => f.data === 'unbalanced');
  if (main4096) console.log(`   After sampling, ${THROUGHPUT_ARGS.join(' ')}: ${afterSampling(main4096)} of ${main4096.wall_s.toFixed(2)} s wall`);
  console.log();
}

if (only.has('stan-predictors')) {
  console.log("5b. FunnelWeb vs Stan with predictors (posteriordb's radon_mn, seeds, GLMM_Poisson), min bulk ESS per second (FunnelWeb: whole `funnelweb sample --param auto` process; Stan: its own elapsed time, compile excluded)");
  const avail = stanAvailable();
  if (!avail.ok) console.log(`   Stan skipped: ${avail.why} (install R with rstan, e.g. Debian's r-cran-rstan, to compare)`);
  gpu?.device.destroy();
  const fw: PredictorFunnelWebRun[] = [];
  for (const c of PREDICTOR_CASES) fw.push(await runFunnelWebPredictors(c));
  const stan = avail.ok ? await runStanPredictors(PREDICTOR_CASES, undefined, quick ? { draws: 2000 } : {}) : null;
  console.log(formatStanPredictorsTable(fw, stan));
  console.log();
}

if (only.has('defaults')) {
  console.log('6. Defaults: whole-process min bulk ESS/s of `funnelweb sample` for chain and draw counts around them (runs interleaved)');
  gpu?.device.destroy();
  console.log(await benchDefaults(values.cases ? cases : [['unbalanced', 'mixed:2,6'], ['weak', 'noncentered']], undefined, quick ? 1 : 2));
  console.log();
}

if (only.has('scaling')) {
  // Whether the adapter is a software one (SwiftShader): the quick grid then, unless --scaling-full.
  const software = gpu ? gpu.adapter.isFallback : await requestGpu().then((g) => (g.device.destroy(), g.adapter.isFallback));
  const sq = values['scaling-quick'] === true || (software && values['scaling-full'] !== true);
  const chains = list(values['scaling-chains'], sq ? [1024, 4096] : [1024, 4096, 16384, 65536, 262144]);
  const groups = list(values['scaling-groups'], sq ? [9, 100, 1000] : [9, 100, 1000, 10000]);
  const common = {
    steps: 20,
    iterations: sq ? 3 : 10,
    timeout: sq ? 300 : 600,
    wideKernel: values['wide-kernel'],
    threadsPerChain: values['threads-per-chain'] ? Number(values['threads-per-chain']) : undefined,
  };
  console.log('7. Scaling: chains x groups (each cell a fresh process)');
  await benchScaling({ ...common, chains, groups });
  if (sq && !values['scaling-groups']) await benchScaling({ ...common, chains: [4096], groups: [10000], iterations: 1 });
  console.log('\n   Compile time against K');
  await benchCompile([1, 9, 16, 17, 64, 100, 128, 129, 500, 1000, 2000, 10000], 300);
  console.log();
}

if (only.has('observations')) {
  console.log('10. Observations: Poisson, 2 predictors varying within groups (observation path), K = 100 (each N a fresh process)');
  gpu?.device.destroy();
  await benchObservations({
    ns: list(values['obs-n'], [1_000, 10_000, 100_000, 1_000_000]),
    chains: list(values['scaling-chains'], [4096]),
    K: 100,
    P: 2,
    steps: 4,
    iterations: quick ? 1 : 2,
    timeout: 1800,
  });
  console.log();
}

if (only.has('families')) {
  console.log('9. Likelihood families: per-group gradient throughput against the normal family (each K x chains a fresh process)');
  gpu?.device.destroy();
  await benchFamilies({
    groups: list(values['scaling-groups'], [9, 1000]),
    chains: list(values['scaling-chains'], [1024, 4096]),
    steps: 20,
    iterations: 3,
    rounds: Number(values['families-rounds'] ?? (quick ? 2 : 3)),
    timeout: 300,
    wideKernel: values['wide-kernel'],
  });
  console.log();
}

if (only.has('sbc')) {
  console.log('11. SBC: simulations per second, one batch against a loop of fits; sweeps on BullMQ workers');
  gpu?.device.destroy();
  console.log(await benchSbc({ sims: quick ? 256 : 1000, chains: 64, warmup: 300, draws: 200, loopSims: quick ? 4 : 10, param: 'noncentered' }));
  console.log();
  console.log('    Sweep data sets per minute (centered and non-centered, 256 chains x 300 + 300)');
  console.log(await benchSweepWorkers(quick ? 'K=8;n=1,10;sigma=1,10' : 'K=8,32;n=1,10;sigma=1,10', ['--chains', '256', '--warmup', '300', '--draws', '300']));
  console.log();
}

gpu?.device.destroy();
process.exit(0);
