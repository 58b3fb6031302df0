import { parseArgs } from 'node:util';
import { InputError, clip } from '../errors.ts';
import { checkOutputPaths, DATA_ARG_SPECS, SAMPLER_ARG_SPECS, samplerOptionsHelp, EXIT_CODES_HELP } from './options.ts';
import { countProgress } from './progress.ts';
import { AGAIN_TO_QUIT, handleStopSignals } from './signals.ts';
import type { DesignSpec } from '../io/design.ts';
import { localRunner, type BackendChoice, type JobRunner } from '../queue/runner.ts';
import { parseQueueUrl } from '../queue/url.ts';
import { checkSweep, type SweepSpec } from '../sweep/sweep.ts';
import { runSweep, type SweepReport } from '../sweep/run.ts';
import { designSpec } from './sbc.ts';
import { DEFAULT_COMPARE_PARAMS } from './compare.ts';
import { VERBOSE_ENV } from '../gpu/native_env.ts';

export const DEFAULT_SWEEP_DIR = 'funnelweb-sweep';

const HELP = `funnelweb sweep — which parameterization wins where: a grid of data sets x parameterizations

Each data set (a point of --grid, or a --data file) is run under every --param and ranked as
'funnelweb compare' ranks them: the winner by ESS/s among runs with clean diagnostics, each
loser with why. Generated data: K groups of n observations, y ~ Normal(theta_k, sigma),
theta_k ~ Normal(mu, tau), from --seed.

Usage: funnelweb sweep --grid 'K=8,64;n=1,10;sigma=1,10;tau=1' [--data FILE ...] [options]

Writes OUT/sweep.json ({"cells": [one row per data set and parameterization], "points": [the
winner and ESS/s ratio per data set]}), OUT/sweep.csv (the rows), OUT/report.html (the winner
over the grid, ESS/s ratios, every run's verdict) and OUT/cells/ (finished data sets: run the
same command again after an interruption and only the missing ones run).

Options:
  --grid SPEC            KEY=V,V,...;... with keys K, n, sigma, tau, mu (defaults 8, 1, 1, 1, 0)
  --data FILE            a data file to sweep too; repeat for more
  --param P              a parameterization; repeat (default ${DEFAULT_COMPARE_PARAMS.join(', ')})
  --rank-by R            min | tau (default min)
  --out DIR              output folder (default ${DEFAULT_SWEEP_DIR})
  --queue URL            hand the data sets to 'funnelweb worker' processes (BullMQ on Redis)
  --likelihood, --sigma, --trials, --exposure, --columns: for the --data files, as for 'sample'
Sampler options, for every run:
${samplerOptionsHelp()}`;

/** The sampler flags a sweep passes to every run (as argv): everything but what this process alone uses. */
const LOCAL_ONLY = new Set(['quiet', 'verbose', 'backend']);

/** The summary printed at the end: per data set, the winner and by how much. */
export function formatSweepSummary(r: SweepReport): string {
  const rows = r.points.map((p) => [p.data, p.winner ?? 'none clean', Number.isFinite(p.ess_ratio) ? `${p.ess_ratio.toPrecision(3)}x` : '-']);
  const head = ['data', 'winner', 'ESS/s vs next'];
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((x) => x[i].length)));
  const line = (x: string[]) => x.map((c, i) => c.padEnd(w[i])).join('  ').trimEnd();
  return [line(head), ...rows.map(line)].join('\n') + '\n';
}

/** `funnelweb sweep`: returns the exit code. */
export async function runSweepCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      grid: { type: 'string' },
      data: { type: 'string', multiple: true },
      param: { type: 'string', multiple: true },
      'rank-by': { type: 'string' },
      out: { type: 'string' },
      queue: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      ...SAMPLER_ARG_SPECS,
      ...DATA_ARG_SPECS,
    },
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n${EXIT_CODES_HELP}`);
    return 0;
  }
  if ((values as Record<string, unknown>).predictors !== undefined) throw new InputError('--predictors', 'sweep does not run population-level predictors yet');
  const sampler: string[] = [];
  for (const [k, spec] of Object.entries(SAMPLER_ARG_SPECS)) {
    const v = (values as Record<string, unknown>)[k];
    if (v === undefined || LOCAL_ONLY.has(k)) continue;
    if (spec.type === 'boolean') {
      if (v === true) sampler.push(`--${k}`);
    } else sampler.push(`--${k}`, String(v));
  }
  const files: DesignSpec[] = [];
  for (const path of values.data ?? []) files.push(await designSpec(path, values));
  const rankBy = (values['rank-by'] ?? 'min') as 'min' | 'tau';
  const spec: SweepSpec = {
    ...(values.grid !== undefined && { grid: values.grid }),
    files,
    params: (values.param ?? [...DEFAULT_COMPARE_PARAMS]).map((p) => p.trim()),
    sampler,
    rankBy,
  };
  const cells = checkSweep(spec);
  const backend = (values.backend ?? 'auto') as BackendChoice;
  if (!['auto', 'webgpu', 'cpu'].includes(backend)) throw new InputError('--backend', `must be auto, webgpu or cpu, got '${clip(String(values.backend))}'`);
  const queue = values.queue === undefined ? undefined : parseQueueUrl(values.queue);
  if (queue && values.backend !== undefined) throw new InputError('--backend', "chooses this process's device; with --queue the workers run the data sets (give it to 'funnelweb worker')");
  const outDir = (values.out ?? DEFAULT_SWEEP_DIR).replace(/\/+$/, '') || '/';
  checkOutputPaths((values.data ?? []).map((path) => ({ flag: '--data', path })), [{ flag: '--out', path: outDir, kind: 'directory', into: ['sweep.json', 'sweep.csv', 'report.html'] }]);
  if (values.verbose) process.env[VERBOSE_ENV] = '1';

  const stop = handleStopSignals(() => `stopping; finished data sets stay in ${outDir}/cells (run the same command again to finish); ${AGAIN_TO_QUIT}`);
  let runner: JobRunner;
  try {
    runner = queue ? await (await import('../queue/redis.ts')).redisRunner(queue) : await localRunner(backend);
  } catch (err) {
    stop.dispose();
    throw err;
  }
  try {
    const fallback = (runner as { fallbackReason?: string }).fallbackReason;
    if (fallback !== undefined) process.stderr.write(`funnelweb: no WebGPU adapter (${fallback}): running on the CPU backend\n`);
    const bar = values.quiet ? undefined : countProgress('sweep', cells.length, `data sets x ${spec.params.length} parameterizations (${runner.where})`);
    let report: SweepReport;
    try {
      report = await runSweep({ spec, outDir, runner, onProgress: (d) => bar?.update(Math.floor(10 * d) / 10), signal: stop.signal });
    } catch (err) {
      bar?.done();
      if (!stop.signal.aborted) throw err;
      process.stderr.write(`funnelweb: interrupted (${stop.received}): the data sets finished so far are kept in ${outDir}/cells; run the same command again to finish\n`);
      return stop.exitCode;
    }
    bar?.done();
    const s = report.sweep;
    process.stdout.write(`FunnelWeb sweep: ${s.data_sets} data sets x ${s.params.join(', ')} (${s.resumed} resumed) ${runner.where}, ${s.wall_s.toFixed(1)} s\n\n`);
    process.stdout.write(formatSweepSummary(report));
    process.stdout.write(`\nwrote ${outDir}/sweep.json, ${outDir}/sweep.csv and ${outDir}/report.html\n`);
    return stop.exitCode;
  } finally {
    stop.dispose();
    await runner.close();
  }
}
