import { parseArgs } from 'node:util';
import { mkdir, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { dataWarnings, loadData } from '../io/data.ts';
import { chooseScale } from '../model/scale.ts';
import { writeFileAtomic } from '../io/write.ts';
import { writeDrawsCsv } from '../io/draws_csv_write.ts';
import type { HierData } from '../model/data.ts';
import { clip, EXIT_SIGNAL, InputError, RunError } from '../errors.ts';
import { parseParameterization, type Centeredness } from '../model/parameterization.ts';
import { isCenterednessRule } from '../adaptation/centeredness.ts';
import { exactPosterior, hasExactPosterior, type ExactPosterior } from '../model/posterior.ts';
import { familyOf } from '../model/families/index.ts';
import type { Family } from '../model/family.ts';
import type { Progress } from '../sampler/sample.ts';
import { runCaseWith, type CaseRun } from '../compare/run_case.ts';
import { AGAIN_TO_QUIT, handleStopSignals } from './signals.ts';
import { formatComparison, rankRows, type CompareRow, type RankBy } from '../compare/compare.ts';
import { multiRunProgressBar } from './progress.ts';
import { fallbackNotice } from './sample.ts';
import { VERBOSE_ENV } from '../gpu/native_env.ts';
import { checkFamilyPriors, checkOutputPaths, DATA_ARG_SPECS, DATA_COLUMNS_HELP, dataLoadOptions, dataOptionsHelp, outputPath, parseSamplerOptions, SAMPLER_ARG_SPECS, samplerOptionsHelp, warmupBound, type SamplerOptions, EXIT_CODES_HELP } from './options.ts';

/**
 * Parameterizations compared when no `--param` is given: the two pure forms and the
 * per-group centeredness learned during warmup (issue 13's `auto`).
 */
export const DEFAULT_COMPARE_PARAMS = ['centered', 'noncentered', 'auto'] as const;

/** Exit code after Ctrl-C (128 + SIGINT), with the finished runs' rows still printed and written. */
export const EXIT_INTERRUPTED = EXIT_SIGNAL.SIGINT;

const HELP = `funnelweb compare — run several parameterizations on the same data and seed, and rank them

Options:
  --data FILE            .json (seed format, or named arrays: --columns) or .csv (columns ${DATA_COLUMNS_HELP})   (required)
  --param P              a parameterization to run; repeat for each (default: ${DEFAULT_COMPARE_PARAMS.join(', ')})
                         centered | noncentered | mixed:G,G,... | partial:c_0,...,c_{K-1} | auto
${dataOptionsHelp()}${samplerOptionsHelp()}  --rank-by R            min | tau: the bulk-ESS/s that picks the winner (default min, over parameters)
  --json FILE.json       write the rows, the winner and each row's verdict
  --out DIR              write each run's summary JSON and draws CSV (DIR/<param>.summary.json, .draws.csv)

The winner has the highest ESS/s among runs with clean diagnostics: divergence rate <= 0.1%,
E-BFMI >= 0.3 in every chain, R-hat < 1.01, and every posterior mean within 4 MCSE of the
exact posterior (quadrature over tau, and over sigma where the data have no sigma column; the
normal likelihood only: for the others the max |dev|/MCSE column is empty and the rest decide).
Each losing row says why it lost.
`;

/** A file-name-safe form of a parameterization's name (mixed:2,6 -> mixed_2_6). */
export function slug(name: string): string {
  return name.replace(/[^A-Za-z0-9.-]+/g, '_').replace(/^_+|_+$/g, '') || 'run';
}

export type { CaseRun } from '../compare/run_case.ts';

/** Whether the CPU fallback was announced already (once per process, not once per run). */
let fallbackSaid = false;

/** Runs one parameterization and diagnoses it (`reportRun`), with its comparison row against `exact`. */
export async function runCase(
  name: string,
  c: Centeredness | string,
  data: HierData,
  exact: ExactPosterior | undefined,
  opts: SamplerOptions,
  onProgress?: (p: Progress) => void,
  signal?: AbortSignal,
): Promise<CaseRun> {
  // Read by src/gpu/native_env.ts before Dawn starts.
  if (opts.verbose) process.env[VERBOSE_ENV] = '1';
  return runCaseWith(name, c, data, exact, opts, {
    onProgress,
    onBackend: (b) => {
      if (b.fallbackReason !== undefined && !fallbackSaid) {
        fallbackSaid = true;
        process.stderr.write(fallbackNotice(b.fallbackReason) + '\n');
      }
    },
    signal,
  });
}

/**
 * The exact posterior of the data (`exactPosterior`), or undefined where their likelihood
 * (`HierData.likelihood`, which may be a family that replaces the requested one) has none.
 */
function exactOrWhyNot(data: HierData, opts: SamplerOptions): ExactPosterior | undefined {
  return hasExactPosterior(familyOf(data.likelihood)) ? exactPosterior(data, opts.priors) : undefined;
}

/** The line said under the table when there is no exact posterior to compare with. */
function noExactNote(family: Family): string {
  return `max |dev|/MCSE is empty: there is no exact posterior for the ${family.id} likelihood, so runs are judged on divergences, E-BFMI and R-hat alone.`;
}

/** `funnelweb compare`: returns the exit code (bad input throws InputError: exit 2). */
export async function runCompare(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      data: { type: 'string' },
      param: { type: 'string', multiple: true },
      ...SAMPLER_ARG_SPECS,
      ...DATA_ARG_SPECS,
      'rank-by': { type: 'string' },
      json: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n${EXIT_CODES_HELP}`);
    return 0;
  }
  if (!values.data) throw new InputError('--data', 'is required (a .json or .csv file)');
  const opts = parseSamplerOptions(values);
  const rankBy = (values['rank-by'] ?? 'min') as RankBy;
  if (rankBy !== 'min' && rankBy !== 'tau') throw new InputError('--rank-by', `must be min or tau, got '${values['rank-by']}'`);
  const jsonPath = outputPath('--json', values.json, '.json');
  const names = (values.param !== undefined && values.param.length > 0 ? values.param : [...DEFAULT_COMPARE_PARAMS]).map((x) => x.trim());
  checkOutputPaths(
    [{ flag: '--data', path: values.data }],
    [
      ...(jsonPath ? [{ flag: '--json', path: jsonPath, kind: 'file' as const }] : []),
      ...(values.out !== undefined
        ? [{ flag: '--out', path: values.out, kind: 'directory' as const, into: [...new Set(names.map(slug))].flatMap((n) => [`${n}.summary.json`, `${n}.draws.csv`]) }]
        : []),
    ],
  );
  const data = await loadData(values.data, dataLoadOptions(opts));
  checkFamilyPriors(opts.priors, data);
  // The family the data are of (a family that replaces the requested one where a column is missing).
  const family = familyOf(data.likelihood);
  // Data and priors the sampler cannot compute with are said now (exit 2), before the exact
  // posterior (slow on such data) and before any run or output directory.
  chooseScale(data, opts.priors, opts.backend === 'cpu' ? 'float64' : 'float32');

  // Check every parameterization before any run (the sampler parses them again), so a bad
  // one exits 2 before anything is written.
  const cases: { name: string }[] = [];
  for (const name of names) {
    if (!isCenterednessRule(name)) parseParameterization(name, data.labels, '--param');
    cases.push({ name });
  }
  if (cases.length === 0) throw new InputError('--param', 'no parameterization to run');
  const dup = cases.find((x, i) => cases.findIndex((y) => slug(y.name) === slug(x.name)) !== i);
  if (dup) throw new InputError('--param', `'${dup.name}' is given twice`);
  for (const w of dataWarnings(data)) process.stderr.write(`warning: ${w}\n`);
  const createdOut = values.out !== undefined ? await mkdir(values.out, { recursive: true }) : undefined;

  const exact = exactOrWhyNot(data, opts);
  const bar = opts.quiet ? undefined : multiRunProgressBar(cases.map((x) => ({ name: x.name, warmup: warmupBound(opts), draws: opts.draws })));
  // SIGINT, SIGTERM, SIGHUP: the first stops the run under way (its draws are no row) and
  // keeps the finished runs (their files are written as each finishes; their rows are
  // printed and written with `interrupted: true`); a second exits at once.
  const rows: CompareRow[] = [];
  let current = 0;
  let writing = false;
  const stop = handleStopSignals(() =>
    writing
      ? `the files being written are finished first (${rows.length} of ${cases.length} runs finished); ${AGAIN_TO_QUIT}`
      : `stopping run ${current + 1} of ${cases.length} (${clip(cases[current]?.name ?? '')}); the ${rows.length} finished are kept; ${AGAIN_TO_QUIT}`,
  );
  try {
    for (let i = 0; i < cases.length && !stop.signal.aborted; i++) {
      current = i;
      let run: CaseRun;
      try {
        run = await runCase(cases[i].name, cases[i].name, data, exact, opts, bar?.forRun(i), stop.signal);
      } catch (err) {
        if (!stop.signal.aborted || err instanceof RunError) throw err;
        break;
      }
      rows.push(run.row);
      if (values.out !== undefined) {
        writing = true;
        const base = join(values.out, slug(run.name));
        await writeFileAtomic(`${base}.summary.json`, JSON.stringify(run.report, null, 2) + '\n');
        await writeDrawsCsv(`${base}.draws.csv`, run.result);
        writing = false;
      }
    }
    bar?.done();
    const interrupted = stop.signal.aborted;
    if (interrupted && rows.length === 0) {
      // No table of nothing, and no "no winner": nothing finished, nothing is written.
      process.stderr.write(`funnelweb: interrupted (${stop.received}) before any run finished: nothing written\n`);
      // The --out directory made for this run goes too (while empty).
      if (createdOut !== undefined && values.out !== undefined) await rmdir(values.out).catch(() => {});
      return stop.exitCode;
    }
    writing = true;
    const cmp = rankRows(rows, rankBy);
    const s = opts;
    process.stdout.write(`FunnelWeb compare: ${values.data}, ${s.chains} chains x ${s.draws} draws after ${s.warmup} warmup, seed ${s.seed}; ranked by ${rankBy === 'tau' ? 'tau' : 'min'} bulk-ESS/s (per second of wall time)\n\n`);
    process.stdout.write(formatComparison(cmp));
    if (exact === undefined) process.stdout.write(`${noExactNote(family)}\n`);
    if (interrupted) process.stderr.write(`interrupted: ${rows.length} of ${cases.length} runs finished\n`);
    if (jsonPath) {
      const doc = {
        data: values.data,
        likelihood: family.id,
        ...(exact === undefined ? { exact_note: noExactNote(family) } : {}),
        chains: s.chains,
        warmup: s.warmup,
        draws: s.draws,
        seed: s.seed,
        rank_by: rankBy,
        winner: cmp.winner >= 0 ? rows[cmp.winner].name : null,
        rows: rows.map((r, i) => ({ ...r, winner: i === cmp.winner, verdict: cmp.verdicts[i] })),
        ...(interrupted ? { interrupted: true, finished_runs: rows.length, requested_runs: cases.length } : {}),
      };
      await writeFileAtomic(jsonPath, JSON.stringify(doc, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2) + '\n');
    }
    return stop.exitCode;
  } finally {
    bar?.done();
    stop.dispose();
  }
}
