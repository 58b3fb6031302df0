import { parseArgs } from 'node:util';
import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { loadData } from '../io/data.ts';
import { writeFileAtomic } from '../io/write.ts';
import { InputError, parseMuPrior, parseTauPrior, DEFAULT_PRIORS } from '../model/priors.ts';
import { parseParameterization } from '../model/parameterization.ts';
import { isCenterednessRule } from '../adaptation/centeredness.ts';
import { sample, DEFAULT_CHAINS, DEFAULT_DRAWS, DEFAULT_WARMUP, type BackendKind, type SampleResult } from '../sampler/sample.ts';
import { reportRun, summaryInputs, type RunReport } from '../sampler/report.ts';
import { summarizeParallel } from '../diagnostics/parallel.ts';
import { formatSummary } from './diagnose.ts';
import { progressBar } from './progress.ts';
import { GET_WEBGPU_HINT } from '../gpu/device.ts';
import { VERBOSE_ENV } from '../gpu/native_env.ts';

const HELP = `funnelweb sample — ChEES-HMC for the hierarchical normal model, thousands of chains at once

  mu ~ Normal(m, s);  tau ~ HalfNormal(S) | HalfCauchy(S);  theta_k ~ Normal(mu, tau);  y_i ~ Normal(theta[g_i], sigma_i)

Options:
  --data FILE            .json (seed format: y, idx, sigma, K) or .csv (columns group,y[,sigma])   (required)
  --sigma S              measurement sd when the data has none
  --param P              centered | noncentered | mixed:G,G,... (listed groups centered) | partial:c_0,...,c_{K-1}
                         | auto (each group's c_k = tau^2/(tau^2+se_k^2), tau learned from the chains in warmup)
                         | auto-binary (the same, rounded to 0 or 1)   (default noncentered)
  --mu-prior normal:LOC,SCALE          (default normal:0,5)
  --tau-prior halfnormal:S|halfcauchy:S (default halfnormal:5)
  --chains N             (default ${DEFAULT_CHAINS})
  --warmup N             (default ${DEFAULT_WARMUP})
  --draws N              (default ${DEFAULT_DRAWS})
  --seed N               (default 1)
  --target-accept A      dual-averaging target of the harmonic-mean acceptance (default 0.651)
  --backend B            auto | webgpu | cpu (default auto: WebGPU, else CPU)
  --metric M             unit | diag (diagonal metric from cross-chain variances; default unit)
  --superchains M        group chains into M superchains sharing a start (adds nested R-hat)
  --summary FILE.json    write the run summary (device, timing, sampler, params, throughput)
  --draws-csv FILE.csv   write the retained draws (chain, draw, params, lp__, energy__, divergent__, accept_stat__)
  --quiet                no progress bar
  --verbose              let native warnings (Dawn, the Vulkan loader and drivers) through to stderr
`;

function int(flag: string, text: string | undefined, dflt: number, min: number): number {
  if (text === undefined) return dflt;
  const v = Number(text);
  if (text.trim() === '' || !Number.isInteger(v) || v < min) throw new InputError(flag, `must be an integer >= ${min}, got '${text}'`);
  return v;
}

function outputPath(flag: string, path: string | undefined, ext: string): string | undefined {
  if (path === undefined) return undefined;
  if (!path.endsWith(ext)) throw new InputError(flag, `must name a ${ext} file, got '${path}'`);
  const dir = dirname(resolve(path));
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new InputError(flag, `directory '${dir}' does not exist`);
  return path;
}

/** Draws as a Stan-like CSV (retained chains): chain, draw, params..., lp__, energy__, divergent__, accept_stat__. */
function drawsCsv(r: SampleResult): string {
  const { records: rec, paramNames, params } = r;
  const lines = [['chain', 'draw', ...paramNames, 'lp__', 'energy__', 'divergent__', 'accept_stat__'].join(',')];
  for (let c = 0; c < rec.retainedChains; c++) {
    for (let d = 0; d < rec.draws; d++) {
      const i = c * rec.draws + d;
      const row = [c + 1, d + 1, ...paramNames.map((n) => params[n][i]), rec.logDensity[i], rec.energy[i], rec.divergent[i], rec.acceptProb[i]];
      lines.push(row.join(','));
    }
  }
  return lines.join('\n') + '\n';
}

/** Most groups whose c is listed one by one in the printed report. */
const MAX_LISTED_GROUPS = 20;

/** The learned centeredness: rule, where it settled, tau estimates, and c (listed, or counted for many groups). */
export function formatCenteredness(cr: NonNullable<RunReport['centeredness']>, labels: readonly string[]): string {
  const c = cr.c;
  const ones = c.filter((v) => v === 1).length;
  const zeros = c.filter((v) => v === 0).length;
  const taus = [cr.initial_tau, ...cr.updates.map((u) => u.tau)].map((t) => t.toPrecision(3)).join(' -> ');
  const where = cr.settled_window === 0 ? 'kept from the data-based start' : `settled after window ${cr.settled_window} (warmup iteration ${cr.settled_iteration})`;
  const lines = [`centeredness (${cr.rule}): ${ones} centered, ${zeros} non-centered, ${c.length - ones - zeros} partial; ${where}; tau estimates ${taus}`];
  if (c.length <= MAX_LISTED_GROUPS) lines.push('  c: ' + c.map((v, k) => `${labels[k]}=${Number(v.toFixed(3))}`).join(' '));
  return lines.join('\n') + '\n';
}

/** The one line said when `--backend auto` found no WebGPU adapter and runs on the CPU. */
export function fallbackNotice(reason: string): string {
  return `warning: no WebGPU adapter: ${reason}. Sampling on the float64 CPU backend instead (much slower; --backend cpu chooses it quietly). ${GET_WEBGPU_HINT}`;
}

/** `funnelweb sample`: returns the exit code (bad input throws InputError: exit 2). */
export async function runSample(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      data: { type: 'string' },
      sigma: { type: 'string' },
      param: { type: 'string' },
      'mu-prior': { type: 'string' },
      'tau-prior': { type: 'string' },
      chains: { type: 'string' },
      warmup: { type: 'string' },
      draws: { type: 'string' },
      seed: { type: 'string' },
      'target-accept': { type: 'string' },
      backend: { type: 'string' },
      metric: { type: 'string' },
      superchains: { type: 'string' },
      summary: { type: 'string' },
      'draws-csv': { type: 'string' },
      quiet: { type: 'boolean' },
      verbose: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  // Validate everything before any work, so bad input never leaves an output file behind.
  if (!values.data) throw new InputError('--data', 'is required (a .json or .csv file)');
  let sigma: number | undefined;
  if (values.sigma !== undefined) {
    sigma = Number(values.sigma);
    if (values.sigma.trim() === '' || !Number.isFinite(sigma) || sigma <= 0) throw new InputError('--sigma', `must be a number > 0, got '${values.sigma}'`);
  }
  const chains = int('--chains', values.chains, DEFAULT_CHAINS, 1);
  const warmup = int('--warmup', values.warmup, DEFAULT_WARMUP, 0);
  const draws = int('--draws', values.draws, DEFAULT_DRAWS, 1);
  const seed = int('--seed', values.seed, 1, 0);
  if (seed > Number.MAX_SAFE_INTEGER) throw new InputError('--seed', 'must be below 2^53');
  let targetAccept: number | undefined;
  if (values['target-accept'] !== undefined) {
    targetAccept = Number(values['target-accept']);
    if (!(targetAccept > 0 && targetAccept < 1)) throw new InputError('--target-accept', `must be a number in (0, 1), got '${values['target-accept']}'`);
  }
  const backend = (values.backend ?? 'auto') as BackendKind;
  if (!['auto', 'webgpu', 'cpu'].includes(backend)) throw new InputError('--backend', `must be auto, webgpu or cpu, got '${values.backend}'`);
  const metricKind = values.metric ?? 'unit';
  if (metricKind !== 'unit' && metricKind !== 'diag') throw new InputError('--metric', `must be unit or diag, got '${values.metric}'`);
  const superchains = values.superchains === undefined ? undefined : int('--superchains', values.superchains, 1, 1);
  if (superchains !== undefined && chains % superchains !== 0) throw new InputError('--superchains', `${superchains} must divide --chains ${chains}`);
  const summaryPath = outputPath('--summary', values.summary, '.json');
  const csvPath = outputPath('--draws-csv', values['draws-csv'], '.csv');
  const priors = {
    mu: values['mu-prior'] !== undefined ? parseMuPrior(values['mu-prior']) : DEFAULT_PRIORS.mu,
    tau: values['tau-prior'] !== undefined ? parseTauPrior(values['tau-prior']) : DEFAULT_PRIORS.tau,
  };
  const data = await loadData(values.data, { sigma });
  const paramText = (values.param ?? 'noncentered').trim();
  const c = isCenterednessRule(paramText) ? paramText : parseParameterization(paramText, data.labels, '--param');

  // Read by src/gpu/native_env.ts before Dawn starts.
  if (values.verbose) process.env[VERBOSE_ENV] = '1';
  const bar = values.quiet ? undefined : progressBar();
  const controller = new AbortController();
  const onSigint = () => controller.abort(new Error('interrupted'));
  process.once('SIGINT', onSigint);
  let result: SampleResult;
  try {
    result = await sample({
      data,
      parameterization: c,
      priors,
      chains,
      warmup,
      draws,
      seed,
      targetAccept,
      backend,
      adaptMetric: metricKind === 'diag',
      superchains,
      onProgress: bar?.update,
      onBackend: (b) => {
        if (b.fallbackReason !== undefined) process.stderr.write(fallbackNotice(b.fallbackReason) + '\n');
      },
      signal: controller.signal,
    });
  } finally {
    bar?.done();
    process.off('SIGINT', onSigint);
  }
  const { report, summary } = reportRun(result, seed, await summarizeParallel(...summaryInputs(result)));
  const s = report.sampler;
  const out = process.stdout;
  out.write(`FunnelWeb: ${s.chains} chains${s.retained_chains < s.chains ? ` (${s.retained_chains} retained)` : ''} x ${s.draws} draws after ${s.warmup} warmup on ${report.device.backend} [${report.device.adapter}]\n`);
  out.write(`step size ${s.step_size.toPrecision(4)}, trajectory length ${s.trajectory_length.toPrecision(4)} (${s.mean_leapfrog_steps.toFixed(1)} leapfrog steps on average), accept ${s.accept_rate.toFixed(3)}, divergences ${s.divergences}, E-BFMI min ${s.ebfmi_min.toFixed(3)} / median ${s.ebfmi_median.toFixed(3)}\n`);
  out.write(`time ${report.timing.total_s.toFixed(2)} s (compile ${report.timing.compile_s.toFixed(2)}, warmup ${report.timing.warmup_s.toFixed(2)}, sampling ${report.timing.sampling_s.toFixed(2)}); ${(report.throughput.gradient_evals_per_s / 1e6).toFixed(2)} M gradient evals/s; min bulk ESS/s ${report.throughput.ess_bulk_min_per_s.toFixed(0)}\n\n`);
  if (report.centeredness) out.write(formatCenteredness(report.centeredness, report.data.labels) + '\n');
  out.write(formatSummary({ ...summary, warnings: [] }) + '\n');
  for (const w of report.warnings) process.stderr.write(`warning: ${w}\n`);
  if (summaryPath) await writeFileAtomic(summaryPath, JSON.stringify(report, null, 2) + '\n');
  if (csvPath) await writeFileAtomic(csvPath, drawsCsv(result));
  return 0;
}
