import { parseArgs } from 'node:util';
import { InputError, clip } from '../errors.ts';
import { readDataFile } from '../io/data.ts';
import { checkOutputPaths, DATA_ARG_SPECS, intOption, parseDataOptions, EXIT_CODES_HELP } from './options.ts';
import { countProgress } from './progress.ts';
import { AGAIN_TO_QUIT, handleStopSignals } from './signals.ts';
import { configOf, type SbcSpec } from '../queue/jobs.ts';
import { localRunner, type BackendChoice, type JobRunner } from '../queue/runner.ts';
import { parseQueueUrl } from '../queue/url.ts';
import { BATCH_CHAINS, runSbc, type SbcReport } from '../sbc/run.ts';
import { RANK_DRAWS } from '../sbc/ranks.ts';
import { VERBOSE_ENV } from '../gpu/native_env.ts';

/** Defaults of `funnelweb sbc`: enough draws per fit for ranks and R-hat, few enough for 1,000 simulations in minutes. */
export const SBC_DEFAULTS = { sims: 1000, chains: 64, warmup: 300, draws: 200, out: 'funnelweb-sbc' } as const;

const HELP = `funnelweb sbc — simulation-based calibration, many simulated data sets per GPU batch

Draws mu and tau from the priors and theta_k ~ Normal(mu, tau), simulates y with the design's
groups, sizes and columns (sigma, trials, exposure), fits every simulation with its own chains
(many simulations per batch), and checks that each true value's rank among ${RANK_DRAWS} thinned
posterior draws is uniform (rank ECDF inside the simultaneous 95% band; Säilynoja et al. 2022).

Usage: funnelweb sbc --data DESIGN [options]

Writes OUT/sbc.json (ranks, bands, coverage, every fit's diagnostics), OUT/report.html (rank
histograms and ECDF-difference plots) and OUT/shards/ (finished batches: run the same command
again after an interruption and only the missing ones run).

Options:
  --data FILE            the design: a .json or .csv data file (its y is replaced)
  --param P              centered | noncentered | mixed:G,... | partial:c,... | auto | auto-binary;
                         repeat to compare (default noncentered)
  --sims N               simulations (default ${SBC_DEFAULTS.sims})
  --chains N             chains per simulation (default ${SBC_DEFAULTS.chains})
  --warmup N             warmup iterations of every fit (default ${SBC_DEFAULTS.warmup})
  --draws N              draws per chain (default ${SBC_DEFAULTS.draws})
  --seed N               (default 1): the same seed gives the same simulations and results
  --mu-prior normal:LOC,SCALE          the fit's prior (default normal:0,5)
  --tau-prior halfnormal:S|halfcauchy:S (default halfnormal:5)
  --sigma-prior halfnormal:S|halfcauchy:S|exponential:R   the fit's prior of sigma, for normal
                         data without a sigma column (sigma a parameter; default halfnormal:5)
  --sim-mu-prior, --sim-tau-prior, --sim-sigma-prior   the priors the simulations draw from
                         (default: the fit's); different ones make a sensitivity check SBC should flag
  --backend B            auto | webgpu | cpu (default auto)
  --out DIR              output folder (default ${SBC_DEFAULTS.out})
  --queue URL            hand the batches to 'funnelweb worker' processes through BullMQ on Redis
                         (redis:// or rediss://) instead of running them here
  --quiet                no progress bar
  --verbose              let native warnings through to stderr
  --likelihood, --sigma, --trials, --exposure, --columns: as for 'funnelweb sample'
`;

/** Reads the design file into a spec's design (its text, as a worker will parse it). */
export async function designSpec(path: string, values: Record<string, unknown>): Promise<SbcSpec['design']> {
  const { text, format, name } = await readDataFile(path);
  const { family, columnOptions, predictors, columns } = parseDataOptions(values);
  if (predictors) throw new InputError('--predictors', 'sbc does not run population-level predictors yet');
  return {
    name,
    format,
    text,
    ...(values.likelihood !== undefined && { likelihood: family.id }),
    ...(Object.keys(columnOptions).length > 0 && { options: columnOptions }),
    ...(columns && { columns }),
  };
}

/** The summary table printed at the end. */
export function formatSbcSummary(r: SbcReport): string {
  const rows = r.summary.map((s) => [s.param, String(s.fits), String(s.divergent_fits), String(s.high_rhat_fits), String(s.low_ess_fits), String(s.failed_fits), `${s.parameters_in_band}/${s.parameters}`, `${s.parameters_in_adjusted_band}/${s.parameters}`, s.passed ? 'yes' : 'NO']);
  const head = ['param', 'fits', 'divergent', 'R-hat>=1.01', 'ESS<99', 'non-finite', 'in 95% band', 'in adjusted band', 'calibrated'];
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((x) => x[i].length)));
  const line = (x: string[]) => x.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ');
  return [line(head), ...rows.map(line)].join('\n') + '\n';
}

/** `funnelweb sbc`: returns the exit code. */
export async function runSbcCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      data: { type: 'string' },
      param: { type: 'string', multiple: true },
      sims: { type: 'string' },
      chains: { type: 'string' },
      warmup: { type: 'string' },
      draws: { type: 'string' },
      seed: { type: 'string' },
      'mu-prior': { type: 'string' },
      'tau-prior': { type: 'string' },
      'sim-mu-prior': { type: 'string' },
      'sim-tau-prior': { type: 'string' },
      'sigma-prior': { type: 'string' },
      'sim-sigma-prior': { type: 'string' },
      backend: { type: 'string' },
      out: { type: 'string' },
      queue: { type: 'string' },
      quiet: { type: 'boolean' },
      verbose: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      ...DATA_ARG_SPECS,
    },
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n${EXIT_CODES_HELP}`);
    return 0;
  }
  // Everything is checked before any work: bad input leaves no output behind.
  if (!values.data) throw new InputError('--data', 'is required (the design: a .json or .csv data file)');
  const backend = (values.backend ?? 'auto') as BackendChoice;
  if (!['auto', 'webgpu', 'cpu'].includes(backend)) throw new InputError('--backend', `must be auto, webgpu or cpu, got '${clip(String(values.backend))}'`);
  const seed = intOption('--seed', values.seed, 1, 0);
  if (seed > Number.MAX_SAFE_INTEGER) throw new InputError('--seed', 'must be below 2^53');
  const muPrior = (values['mu-prior'] ?? 'normal:0,5').trim();
  const tauPrior = (values['tau-prior'] ?? 'halfnormal:5').trim();
  const spec: SbcSpec = {
    design: await designSpec(values.data, values),
    params: (values.param ?? ['noncentered']).map((p) => p.trim()),
    sims: intOption('--sims', values.sims, SBC_DEFAULTS.sims, 1),
    chains: intOption('--chains', values.chains, SBC_DEFAULTS.chains, 1),
    warmup: intOption('--warmup', values.warmup, SBC_DEFAULTS.warmup, 0),
    draws: intOption('--draws', values.draws, SBC_DEFAULTS.draws, 4),
    seed,
    muPrior,
    tauPrior,
    simMuPrior: (values['sim-mu-prior'] ?? muPrior).trim(),
    simTauPrior: (values['sim-tau-prior'] ?? tauPrior).trim(),
    ...(values['sigma-prior'] !== undefined && { sigmaPrior: values['sigma-prior'].trim() }),
    ...(values['sim-sigma-prior'] !== undefined && { simSigmaPrior: values['sim-sigma-prior'].trim() }),
  };
  configOf(spec);
  const queue = values.queue === undefined ? undefined : parseQueueUrl(values.queue);
  if (queue && values.backend !== undefined) throw new InputError('--backend', "chooses this process's device; with --queue the workers run the batches (give it to 'funnelweb worker')");
  const outDir = (values.out ?? SBC_DEFAULTS.out).replace(/\/+$/, '') || '/';
  checkOutputPaths([{ flag: '--data', path: values.data }], [{ flag: '--out', path: outDir, kind: 'directory', into: ['sbc.json', 'report.html'] }]);
  if (values.verbose) process.env[VERBOSE_ENV] = '1';

  const quiet = values.quiet === true;
  const stop = handleStopSignals(() => `stopping; finished batches stay in ${outDir}/shards (run the same command again to finish); ${AGAIN_TO_QUIT}`);
  let runner: JobRunner;
  try {
    // BullMQ loads only where a queue is named.
    runner = queue ? await (await import('../queue/redis.ts')).redisRunner(queue) : await localRunner(backend);
  } catch (err) {
    stop.dispose();
    throw err;
  }
  try {
    const fallback = (runner as { fallbackReason?: string }).fallbackReason;
    if (fallback !== undefined) process.stderr.write(`funnelweb: no WebGPU adapter (${fallback}): running on the CPU backend\n`);
    const batches = Math.ceil(spec.sims / Math.max(1, Math.floor(BATCH_CHAINS / spec.chains))) * spec.params.length;
    const bar = quiet ? undefined : countProgress('sbc', batches, `batches of ${Math.min(spec.sims, Math.max(1, Math.floor(BATCH_CHAINS / spec.chains)))} fits x ${spec.chains} chains (${spec.params.length} x ${spec.sims} fits, ${runner.where})`);
    let report: SbcReport;
    try {
      report = await runSbc({
        spec,
        outDir,
        runner,
        // Batches done, with the one under way in tenths.
        onProgress: (d, t) => bar?.update(t > 0 ? Math.floor((10 * batches * d) / t) / 10 : batches),
        signal: stop.signal,
      });
    } catch (err) {
      bar?.done();
      if (!stop.signal.aborted) throw err;
      process.stderr.write(`funnelweb: interrupted (${stop.received}): the batches finished so far are kept in ${outDir}/shards; run the same command again to finish\n`);
      return stop.exitCode;
    }
    bar?.done();
    const s = report.sbc;
    process.stdout.write(`FunnelWeb SBC: ${s.sims} simulations x ${s.params.length} parameterizations, ${s.chains} chains x ${s.draws} draws each after ${s.warmup} warmup, ${s.shards} batches (${s.resumed_shards} resumed) ${runner.where}, ${s.wall_s.toFixed(1)} s\n\n`);
    process.stdout.write(formatSbcSummary(report));
    process.stdout.write(`\nwrote ${outDir}/sbc.json and ${outDir}/report.html\n`);
    return stop.exitCode;
  } finally {
    stop.dispose();
    await runner.close();
  }
}
