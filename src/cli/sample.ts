import { parseArgs } from 'node:util';
import { existsSync, statSync } from 'node:fs';
import { dataWarnings, loadData } from '../io/data.ts';
import { removePendingTemporaries, writeFileAtomic } from '../io/write.ts';
import { clip, EXIT_RUN_FAILED, EXIT_SIGNAL, InputError, OutputError, RunError } from '../errors.ts';
import { writeDrawsCsv } from '../io/draws_csv_write.ts';
import { toInferenceData } from '../io/inference_data.ts';
import { inferenceDataFormat, writeInferenceData } from '../io/inference_data_file.ts';
import { parseParameterization } from '../model/parameterization.ts';
import { isCenterednessRule } from '../adaptation/centeredness.ts';
import { DEFAULT_CHAINS_SOFTWARE, DEFAULT_DRAWS, DEFAULT_WARMUP, sample, type SampleResult } from '../sampler/sample.ts';
import { DEFAULT_TARGET_ESS, MIN_TARGET_DRAWS } from '../sampler/target_ess.ts';
import { reportRun, summaryInputs, type RunReport } from '../sampler/report.ts';
import { startSummaryWorkers, summarizeParallel, PARALLEL_MIN_DRAWS, type SummaryWorkers } from '../diagnostics/parallel.ts';
import { formatSummary, terminalLabel } from './diagnose.ts';
import { countProgress, diagnosticsProgress, progressBar } from './progress.ts';
import { checkFamilyPriors, checkOutputPaths, DATA_ARG_SPECS, DATA_COLUMNS_HELP, dataLoadOptions, dataOptionsHelp, outputPath, parseSamplerOptions, SAMPLER_ARG_SPECS, samplerOptionsHelp, EXIT_CODES_HELP } from './options.ts';
import { GET_WEBGPU_HINT, requestGpu, type Gpu } from '../gpu/device.ts';
import { availableParallelism } from 'node:os';
import { AGAIN_TO_QUIT, handleStopSignals } from './signals.ts';
import type { Progress } from '../sampler/sample.ts';
import { VERBOSE_ENV } from '../gpu/native_env.ts';

const HELP = `funnelweb sample — ChEES-HMC for hierarchical models, thousands of chains at once

  mu ~ Normal(m, s);  tau ~ HalfNormal(S) | HalfCauchy(S);  theta_k ~ Normal(mu, tau);  y_i given theta[g_i] by --likelihood

Options:
  --data FILE            .json (seed format: y, idx, K and the likelihood's columns; or named arrays: --columns) or .csv (columns
                         ${DATA_COLUMNS_HELP})   (required)
${dataOptionsHelp()}  --param P              centered | noncentered | mixed:G,G,... (listed groups centered) | partial:c_0,...,c_{K-1}
                         | auto (each group's c_k: the mean of tau^2/(tau^2+se_k^2) over the posterior's range of log tau, se_k
                           from the family's Fisher information, re-estimated in warmup; docs/auto-centeredness.md)
                         | auto-binary (the same, rounded to 0 or 1)   (default noncentered)
${samplerOptionsHelp({ chains: 'adapter', warmup: DEFAULT_WARMUP, draws: DEFAULT_DRAWS, targetEss: DEFAULT_TARGET_ESS })}  --summary FILE.json    write the run summary (device, timing, sampler, params, throughput)
  --draws-csv FILE.csv   write the retained draws (chain, draw, params, lp__, energy__, divergent__, accept_stat__)
  --out RUN.nc|RUN.zarr  write ArviZ InferenceData: netCDF-4 (.nc) or a Zarr v2 directory (.zarr)
`;

/** " (auto: settled and mixed at 250, cap 1000)" for the report's first line. */
function warmupNote(r: SampleResult): string {
  const a = r.warmupAuto;
  if (!a) return '';
  return a.stoppedAt !== null ? ` (auto: settled and mixed at ${a.stoppedAt}, cap ${a.max})` : ` (auto: ran to its cap of ${a.max} without settling)`;
}

/** Exit code after Ctrl-C (128 + SIGINT), as shells report a process stopped by it. */
export const EXIT_INTERRUPTED = EXIT_SIGNAL.SIGINT;

/**
 * Test hook: `FUNNELWEB_TEST_LOSE_DEVICE_AT=warmup:N` or `sampling:N` destroys the GPU
 * device at the first progress report of that phase at or after iteration N, as a lost
 * device would end the run (tests of the lost-device path; not for users).
 */
export const LOSE_DEVICE_ENV = 'FUNNELWEB_TEST_LOSE_DEVICE_AT';

/** The phases of `funnelweb sample`, as its signal acknowledgement names them. */
type SamplePhase = 'setup' | 'warmup' | 'sampling' | 'diagnostics' | 'writing';

/** What a first signal does in each phase of `funnelweb sample` (its acknowledgement). */
const SAMPLE_SIGNAL_ACTION: Record<SamplePhase, string> = {
  setup: 'stopping before warmup: nothing will be written',
  warmup: 'stopping warmup: nothing will be written',
  sampling: 'stopping sampling at the next sync: the draws so far will be diagnosed and written, marked partial',
  diagnostics: 'the diagnostics finish (seconds), then the outputs are written',
  writing: 'the outputs being written are finished first',
};

/** The LOSE_DEVICE_ENV hook's phase and iteration, or null when unset. */
function loseDeviceHook(): { phase: Progress['phase']; iteration: number } | null {
  const v = process.env[LOSE_DEVICE_ENV];
  if (!v) return null;
  const m = /^(warmup|sampling):(\d+)$/.exec(v.trim());
  if (!m) throw new InputError(LOSE_DEVICE_ENV, `must be warmup:N or sampling:N, got '${v}'`);
  return { phase: m[1] as Progress['phase'], iteration: Number(m[2]) };
}

/** The one line said when `--backend auto` found no WebGPU adapter and runs on the CPU. */
export function fallbackNotice(reason: string): string {
  return `warning: no WebGPU adapter: ${reason}. Sampling on the float64 CPU backend instead (much slower; --backend cpu chooses it quietly). ${GET_WEBGPU_HINT}`;
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
  if (c.length <= MAX_LISTED_GROUPS) lines.push('  c: ' + c.map((v, k) => `${terminalLabel(labels[k])}=${Number(v.toFixed(3))}`).join(' '));
  return lines.join('\n') + '\n';
}

/** `funnelweb sample`: returns the exit code (bad input throws InputError: exit 2). */
export async function runSample(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      data: { type: 'string' },
      param: { type: 'string' },
      ...SAMPLER_ARG_SPECS,
      ...DATA_ARG_SPECS,
      summary: { type: 'string' },
      'draws-csv': { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n${EXIT_CODES_HELP}`);
    return 0;
  }
  // Validate everything before any work, so bad input never leaves an output file behind.
  if (!values.data) throw new InputError('--data', 'is required (a .json or .csv file)');
  const opts = parseSamplerOptions(values);
  const { priors, warmup, warmupMax, draws, seed, targetAccept, backend, adaptMetric, superchains, quiet, verbose } = opts;
  // Without --chains the adapter decides (sample's DEFAULT_CHAINS_SOFTWARE on a software one);
  // without --draws, sampling ends once the answer is good enough (DEFAULT_TARGET_ESS).
  const chains = values.chains === undefined ? undefined : opts.chains;
  const targetEss = opts.targetEss ?? (values.draws === undefined ? DEFAULT_TARGET_ESS : undefined);
  const summaryPath = outputPath('--summary', values.summary, '.json');
  const csvPath = outputPath('--draws-csv', values['draws-csv'], '.csv');
  const outFormat = values.out === undefined ? undefined : inferenceDataFormat(values.out);
  if (values.out !== undefined && !outFormat) throw new InputError('--out', `must name a .nc file or a .zarr directory, got '${values.out}'`);
  const outPath = values.out && outputPath('--out', values.out.replace(/\/+$/, ''), outFormat === 'zarr' ? '.zarr' : '.nc');
  if (outPath && outFormat === 'netcdf' && existsSync(outPath) && statSync(outPath).isDirectory()) throw new InputError('--out', `'${outPath}' is a directory`);
  checkOutputPaths(
    [{ flag: '--data', path: values.data }],
    [
      ...(summaryPath ? [{ flag: '--summary', path: summaryPath, kind: 'file' as const }] : []),
      ...(csvPath ? [{ flag: '--draws-csv', path: csvPath, kind: 'file' as const }] : []),
      ...(outPath ? [{ flag: '--out', path: outPath, kind: outFormat === 'zarr' ? ('directory' as const) : ('file' as const) }] : []),
    ],
  );
  const data = await loadData(values.data, dataLoadOptions(opts));
  checkFamilyPriors(priors, data);
  const paramText = (values.param ?? 'noncentered').trim();
  const c = isCenterednessRule(paramText) ? paramText : parseParameterization(paramText, data.labels, '--param');
  for (const w of dataWarnings(data)) process.stderr.write(`warning: ${w}\n`);

  // Read by src/gpu/native_env.ts before Dawn starts.
  if (verbose) process.env[VERBOSE_ENV] = '1';
  const bar = quiet ? undefined : progressBar();
  // SIGINT (Ctrl-C), SIGTERM, SIGHUP: the first is acknowledged at once and stops the run
  // (setup or warmup: nothing is kept; sampling: the draws so far are diagnosed and written,
  // marked partial; diagnostics and writing: they finish); a second exits at once, leaving
  // no temporary file. Exit code 128 + the first signal's number.
  let phase: SamplePhase = 'setup';
  const stop = handleStopSignals(() => `${SAMPLE_SIGNAL_ACTION[phase]}; ${AGAIN_TO_QUIT}`);
  const lose = loseDeviceHook();
  let hookGpu: Gpu | undefined;
  // The diagnostics' worker threads start (load their code) while the sampler runs, when
  // the draws will be many enough for them.
  // As many workers as cores: they do all the work, so that the main thread stays free to
  // answer a signal and to draw the progress line on time.
  const workers = (data.K + 3) * (chains ?? DEFAULT_CHAINS_SOFTWARE) * (targetEss !== undefined ? MIN_TARGET_DRAWS : draws) >= PARALLEL_MIN_DRAWS ? startSummaryWorkers(availableParallelism() + 1) : null;
  try {
    if (lose) hookGpu = await requestGpu();
    const onProgress = (p: Progress) => {
      phase = p.phase;
      if (lose && hookGpu && p.phase === lose.phase && p.iteration >= lose.iteration) {
        hookGpu.device.destroy();
        hookGpu = undefined;
      }
      bar?.update(p);
    };
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
        ...(targetEss !== undefined && { targetEss }),
        seed,
        targetAccept,
        backend,
        adaptMetric,
        superchains,
        onProgress,
        onBackend: (b) => {
          phase = 'warmup';
          if (b.fallbackReason !== undefined) process.stderr.write(fallbackNotice(b.fallbackReason) + '\n');
        },
        signal: stop.signal,
        ...(lose ? { gpu: hookGpu } : {}),
      });
    } catch (err) {
      bar?.done();
      // A fault (a lost device) is reported as such even when a signal came too.
      if (!stop.signal.aborted || err instanceof RunError) throw err;
      process.stderr.write(`funnelweb: interrupted before the first draw (during ${phase === 'setup' ? 'setup' : 'warmup'}): nothing written\n`);
      return stop.exitCode;
    }
    bar?.done();
    phase = 'diagnostics';
    if (result.fault === undefined && result.partial) {
      process.stderr.write(
        `funnelweb: interrupted after ${result.draws} of ${result.requestedDraws} draws: writing the partial results (${AGAIN_TO_QUIT})\n`,
      );
    }
    // performance.now() counts from the process start in Node.
    const sampledAt = performance.now();
    const inputs = summaryInputs(result);
    const diag = quiet ? undefined : diagnosticsProgress(result.paramNames.length, inputs[1] * inputs[2]);
    inputs[3] = { ...inputs[3], onProgress: diag?.update };
    const diagnosed = await summarizeParallel(...withWorkers(inputs, workers));
    diag?.done();
    const { report, summary } = reportRun(result, seed, diagnosed);
    report.timing.diagnostics_s = (performance.now() - sampledAt) / 1000;
    report.timing.sampling_ended_at_s = sampledAt / 1000;
    const s = report.sampler;
    const out = process.stdout;
    out.write(`FunnelWeb: ${s.chains} chains${s.retained_chains < s.chains ? ` (${s.retained_chains} retained)` : ''} x ${s.draws} draws${result.partial ? ` (partial: ${result.fault !== undefined ? 'the GPU device failed' : 'interrupted'}, ${result.requestedDraws} asked)` : ''}${targetNote(report)} after ${s.warmup} warmup${warmupNote(result)} on ${report.device.backend} [${report.device.adapter}]\n`);
    out.write(`step size ${s.step_size.toPrecision(4)}, trajectory length ${s.trajectory_length.toPrecision(4)} (${s.mean_leapfrog_steps.toFixed(1)} leapfrog steps on average), accept ${s.accept_rate.toFixed(3)}, divergences ${s.divergences}, E-BFMI min ${s.ebfmi_min.toFixed(3)} / median ${s.ebfmi_median.toFixed(3)}\n`);
    out.write(`time ${report.timing.total_s.toFixed(2)} s (compile ${report.timing.compile_s.toFixed(2)}, warmup ${report.timing.warmup_s.toFixed(2)}, sampling ${report.timing.sampling_s.toFixed(2)}), then diagnostics ${report.timing.diagnostics_s.toFixed(2)} s; ${(report.throughput.gradient_evals_per_s / 1e6).toFixed(2)} M gradient evals/s; min bulk ESS/s ${report.throughput.ess_bulk_min_per_s.toFixed(0)}\n\n`);
    if (report.centeredness) out.write(formatCenteredness(report.centeredness, report.data.labels) + '\n');
    out.write(formatSummary({ ...summary, warnings: [] }) + '\n');
    for (const w of report.warnings) process.stderr.write(`warning: ${w}\n`);
    phase = 'writing';
    // Every output is attempted: one that cannot be written (a full disk) costs no other.
    let unwritten = 0;
    const attempt = async (write: () => Promise<void>) => {
      try {
        await write();
      } catch (err) {
        if (!(err instanceof OutputError)) throw err;
        unwritten++;
        process.stderr.write(`funnelweb: error: ${err.message}\n`);
      }
    };
    if (summaryPath) await attempt(() => writeFileAtomic(summaryPath, JSON.stringify(report, null, 2) + '\n'));
    if (csvPath) {
      await attempt(async () => {
        const rows = result.records.retainedChains * result.draws;
        const bar = quiet ? undefined : countProgress('write', rows, `rows of ${clip(csvPath)}`);
        try {
          await writeDrawsCsv(csvPath, result, { onRows: (n) => bar?.update(n) });
        } finally {
          bar?.done();
        }
      });
    }
    if (outPath) {
      await attempt(async () => {
        if (!quiet) process.stderr.write(`writing ${clip(outPath)} (InferenceData)…\n`);
        const t0 = performance.now();
        await writeInferenceData(outPath, toInferenceData(result, data, { seed }));
        if (!quiet) process.stderr.write(`wrote ${outPath} (InferenceData) in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
      });
    }
    if (result.fault !== undefined) {
      throw new RunError(`${result.fault} (the results above are from the ${result.draws} draws per chain read back before it, marked partial)`);
    }
    // Each unwritten output was said in its own line; a run that produced no posterior said so in its warning.
    if (unwritten > 0 || report.failed !== undefined) return EXIT_RUN_FAILED;
    return stop.exitCode;
  } finally {
    workers?.close();
    stop.dispose();
    hookGpu?.device.destroy();
  }
}

/** " (--target-ess 4000: estimated at 220 draws, cap 1000)": what the target did, for the run's first line. */
function targetNote(report: RunReport): string {
  const t = report.sampler.target_ess;
  if (!t) return '';
  const where = t.stopped_early ? `reached at a check at ${report.sampler.draws} draws` : `not reached by the cap`;
  return ` (--target-ess ${t.target}: ${where}, cap ${report.sampler.requested_draws})`;
}

/** summarizeParallel's arguments with the workers started ahead. */
function withWorkers(
  args: ReturnType<typeof summaryInputs>,
  workers: SummaryWorkers | null,
): Parameters<typeof summarizeParallel> {
  const [params, chains, draws, opts] = args;
  return [params, chains, draws, { ...opts, workers, ...(workers ? { callerWorks: false } : {}) }];
}
