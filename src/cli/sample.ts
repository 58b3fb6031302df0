import { parseArgs } from 'node:util';
import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { loadData } from '../io/data.ts';
import { writeFileAtomic } from '../io/write.ts';
import { writeDrawsCsv } from '../io/draws_csv_write.ts';
import { toInferenceData } from '../io/inference_data.ts';
import { inferenceDataFormat, writeInferenceData } from '../io/inference_data_file.ts';
import { InputError, parseMuPrior, parseTauPrior, DEFAULT_PRIORS } from '../model/priors.ts';
import { parseParameterization } from '../model/parameterization.ts';
import { sample, DEFAULT_CHAINS, DEFAULT_DRAWS, DEFAULT_WARMUP, DEFAULT_WARMUP_MAX, type BackendKind, type SampleResult } from '../sampler/sample.ts';
import { reportRun, summaryInputs } from '../sampler/report.ts';
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
                         (default noncentered)
  --mu-prior normal:LOC,SCALE          (default normal:0,5)
  --tau-prior halfnormal:S|halfcauchy:S (default halfnormal:5)
  --chains N             (default ${DEFAULT_CHAINS})
  --warmup N|auto[:MAX]  warmup iterations, or auto: stop when the step size and trajectory length have
                         settled and the chains have mixed (checked every 50 iterations), at most MAX
                         (default ${DEFAULT_WARMUP}, MAX ${DEFAULT_WARMUP_MAX})
  --draws N              (default ${DEFAULT_DRAWS})
  --seed N               (default 1)
  --target-accept A      dual-averaging target of the harmonic-mean acceptance (default 0.651)
  --backend B            auto | webgpu | cpu (default auto: WebGPU, else CPU)
  --metric M             unit | diag (diagonal metric from cross-chain variances; default unit)
  --superchains M        group chains into M superchains sharing a start (adds nested R-hat)
  --summary FILE.json    write the run summary (device, timing, sampler, params, throughput)
  --draws-csv FILE.csv   write the retained draws (chain, draw, params, lp__, energy__, divergent__, accept_stat__)
  --out RUN.nc|RUN.zarr  write ArviZ InferenceData: netCDF-4 (.nc) or a Zarr v2 directory (.zarr)
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

/** `--warmup`: N, `auto` or `auto:MAX`. */
function parseWarmup(text: string | undefined): { warmup: number | 'auto'; warmupMax?: number } {
  const t = text ?? DEFAULT_WARMUP;
  if (t === 'auto') return { warmup: 'auto' };
  if (t.startsWith('auto:')) return { warmup: 'auto', warmupMax: int('--warmup', t.slice(5), DEFAULT_WARMUP_MAX, 0) };
  if (!/^\s*\d+\s*$/.test(t)) throw new InputError('--warmup', `must be an integer >= 0, auto or auto:MAX, got '${t}'`);
  return { warmup: int('--warmup', t, 0, 0) };
}

/** " (auto: stopped at 250 of 1000)" for the report's first line. */
function warmupNote(r: SampleResult): string {
  const a = r.warmupAuto;
  if (!a) return '';
  return a.stoppedAt !== null ? ` (auto: settled and mixed at ${a.stoppedAt}, cap ${a.max})` : ` (auto: ran to its cap of ${a.max} without settling)`;
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
      out: { type: 'string' },
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
  const { warmup, warmupMax } = parseWarmup(values.warmup);
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
  const outFormat = values.out === undefined ? undefined : inferenceDataFormat(values.out);
  if (values.out !== undefined && !outFormat) throw new InputError('--out', `must name a .nc file or a .zarr directory, got '${values.out}'`);
  const outPath = values.out && outputPath('--out', values.out.replace(/\/+$/, ''), outFormat === 'zarr' ? '.zarr' : '.nc');
  if (outPath && outFormat === 'netcdf' && existsSync(outPath) && statSync(outPath).isDirectory()) throw new InputError('--out', `'${outPath}' is a directory`);
  const priors = {
    mu: values['mu-prior'] !== undefined ? parseMuPrior(values['mu-prior']) : DEFAULT_PRIORS.mu,
    tau: values['tau-prior'] !== undefined ? parseTauPrior(values['tau-prior']) : DEFAULT_PRIORS.tau,
  };
  const data = await loadData(values.data, { sigma });
  const c = parseParameterization(values.param ?? 'noncentered', data.labels, '--param');

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
      warmupMax,
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
  out.write(`FunnelWeb: ${s.chains} chains${s.retained_chains < s.chains ? ` (${s.retained_chains} retained)` : ''} x ${s.draws} draws after ${s.warmup} warmup${warmupNote(result)} on ${report.device.backend} [${report.device.adapter}]\n`);
  out.write(`step size ${s.step_size.toPrecision(4)}, trajectory length ${s.trajectory_length.toPrecision(4)} (${s.mean_leapfrog_steps.toFixed(1)} leapfrog steps on average), accept ${s.accept_rate.toFixed(3)}, divergences ${s.divergences}, E-BFMI min ${s.ebfmi_min.toFixed(3)} / median ${s.ebfmi_median.toFixed(3)}\n`);
  out.write(`time ${report.timing.total_s.toFixed(2)} s (compile ${report.timing.compile_s.toFixed(2)}, warmup ${report.timing.warmup_s.toFixed(2)}, sampling ${report.timing.sampling_s.toFixed(2)}); ${(report.throughput.gradient_evals_per_s / 1e6).toFixed(2)} M gradient evals/s; min bulk ESS/s ${report.throughput.ess_bulk_min_per_s.toFixed(0)}\n\n`);
  out.write(formatSummary({ ...summary, warnings: [] }) + '\n');
  for (const w of report.warnings) process.stderr.write(`warning: ${w}\n`);
  if (summaryPath) await writeFileAtomic(summaryPath, JSON.stringify(report, null, 2) + '\n');
  if (csvPath) await writeDrawsCsv(csvPath, result);
  if (outPath) {
    const t0 = performance.now();
    await writeInferenceData(outPath, toInferenceData(result, data, { seed }));
    if (!values.quiet) process.stderr.write(`wrote ${outPath} (InferenceData) in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  }
  return 0;
}
