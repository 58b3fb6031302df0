/**
 * `funnelweb diagnose DRAWS.csv | OUT_1.csv ... OUT_N.csv | RUN.nc | RUN.zarr [--superchains M] [--json OUT.json]`
 *
 * Summarises draws from any sampler: a CSV with chain and draw columns
 * (`src/io/draws_csv.ts`), CmdStan's CSV files, one per chain (`src/io/cmdstan.ts`), or
 * an ArviZ InferenceData file (`src/io/inference_data_read.ts`). It
 * prints mean, sd, quantiles, MCSE, bulk/tail ESS and R-hat per parameter (and nested
 * R-hat with --superchains), E-BFMI, divergences and acceptance when the Stan-style
 * columns are present. `--json` writes the same numbers (NaN as null) to a temporary
 * file next to OUT.json and renames it into place once everything has succeeded
 * (`writeFileAtomic`); OUT.json is checked before any work (its directory writable, not
 * an input, not a directory).
 */
import { parseArgs } from 'node:util';
import type { ParamSummary, Summary } from '../diagnostics/index.ts';
import { summarizeParallel } from '../diagnostics/parallel.ts';
import { parseDrawsCsv, type DrawsTable } from '../io/draws_csv.ts';
import { cmdstanDrawsTable, isCmdStanCsv, parseCmdStanCsv, readText } from '../io/cmdstan.ts';
import { readInferenceDataDraws } from '../io/inference_data_read.ts';
import { clip, InputError } from '../errors.ts';
import { VERBOSE_ENV } from '../gpu/native_env.ts';
import { writeFileAtomic } from '../io/write.ts';
import { checkOutputPaths, EXIT_CODES_HELP } from './options.ts';
import { exitOnStopSignals } from './signals.ts';

const USAGE = `Usage: funnelweb diagnose DRAWS.csv | OUT_1.csv ... OUT_N.csv | RUN.nc | RUN.zarr
                          [--superchains M] [--json OUT.json] [--verbose]

  DRAWS.csv          columns chain, draw and one per parameter (Stan's lp__, energy__,
                     divergent__, accept_stat__ are used when present)
  OUT_1.csv ...      CmdStan output, one file per chain, as CmdStan writes it (config
                     comments, warmup rows with save_warmup=1 are dropped; theta.1 is
                     shown as theta[1])
  RUN.nc, RUN.zarr   ArviZ InferenceData (netCDF-4 or Zarr): the posterior group, and
                     sample_stats' energy, diverging and acceptance_rate
  --superchains M    chains form M superchains of consecutive chains that share an
                     initial point: adds nested R-hat (Margossian et al. 2024)
  --json OUT.json    also write the summary as JSON
  --verbose          show a library's own diagnostics (HDF5's error stack) with an error
  -h, --help         show this help
`;

/** Statistics of the table and the JSON, in order. */
const COLUMNS = [
  'mean',
  'sd',
  'q5',
  'q50',
  'q95',
  'mcse_mean',
  'mcse_sd',
  'ess_bulk',
  'ess_tail',
  'rhat',
] as const satisfies readonly (keyof ParamSummary)[];

function parsePositiveInt(flag: string, text: string): number {
  const v = Number(text);
  if (!/^\s*\d+\s*$/.test(text) || !Number.isInteger(v) || v < 1) {
    throw new InputError(flag, `expected a positive integer, got '${text}'`);
  }
  return v;
}

function fmt(v: number | undefined, kind: 'num' | 'ess' | 'rhat'): string {
  if (v === undefined || Number.isNaN(v)) return 'NA';
  if (!Number.isFinite(v)) return v > 0 ? 'Inf' : '-Inf';
  if (kind === 'ess') return Math.round(v).toString();
  if (kind === 'rhat') return v.toFixed(3);
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(2);
  return v.toPrecision(3);
}

/** Most characters of a parameter's name in the table; longer names are cut with '…' (there only). */
export const LABEL_WIDTH = 40;

/**
 * A parameter's name as the terminal shows it: control bytes escaped (`\x1b`, `\n`), cut
 * to `max` characters with '…'. The JSON keeps the name whole.
 */
export function terminalLabel(name: string, max = LABEL_WIDTH): string {
  const safe = clip(name.length > 4 * max ? name.slice(0, 4 * max) : name, Infinity);
  return safe.length > max ? `${safe.slice(0, max - 1)}…` : safe;
}

/**
 * The summary as a fixed-width text table plus sampler diagnostics. Names are padded to the
 * longest one up to LABEL_WIDTH characters, so a long name (a 10 MB group label) costs one
 * row, not every row.
 */
export function formatSummary(s: Summary): string {
  const nested = Object.values(s.params).some((p) => p.rhat_nested !== undefined);
  const head = ['variable', ...COLUMNS, ...(nested ? ['rhat_nested'] : [])];
  const rows = Object.entries(s.params).map(([name, p]) => [
    terminalLabel(name),
    ...COLUMNS.map((k) => fmt(p[k], k.startsWith('ess') ? 'ess' : k === 'rhat' ? 'rhat' : 'num')),
    ...(nested ? [fmt(p.rhat_nested, 'rhat')] : []),
  ]);
  const widths = head.map((h, j) => rows.reduce((w, r) => Math.max(w, r[j].length), h.length));
  const line = (cells: string[]) =>
    cells.map((c, j) => (j === 0 ? c.padEnd(widths[j]) : c.padStart(widths[j]))).join('  ');
  const out = [`${s.chains} chains × ${s.draws} draws`, '', line(head), ...rows.map(line), ''];
  if (s.ebfmi.length) {
    const finite = s.ebfmi.filter((e) => Number.isFinite(e)).sort((a, b) => a - b);
    const low = s.ebfmi.filter((e) => e < 0.3).length;
    out.push(
      s.chains <= 16
        ? `E-BFMI per chain: ${s.ebfmi.map((e) => fmt(e, 'num')).join(' ')}`
        : `E-BFMI: min ${fmt(finite[0], 'num')}, median ${fmt(finite[finite.length >> 1], 'num')}, ${low} of ${s.chains} chains below 0.3`,
    );
  }
  if (!Number.isNaN(s.divergences)) {
    const per = s.chains <= 16 ? ` (per chain: ${s.divergencesPerChain.join(' ')})` : '';
    out.push(`divergences: ${s.divergences}${per}`);
  }
  if (!Number.isNaN(s.acceptRate)) out.push(`average acceptance rate: ${s.acceptRate.toFixed(3)}`);
  for (const w of s.warnings) out.push(`warning: ${w}`);
  for (const [name, p] of Object.entries(s.params)) for (const r of p.reasons) out.push(`note: ${terminalLabel(name)}: ${r}`);
  return out.join('\n') + '\n';
}

const nullIfNaN = (v: number): number | null => (Number.isFinite(v) ? v : Number.isNaN(v) ? null : v);

/** The JSON document of `--json` (NaN as null; infinities do not occur in estimates). */
export function summaryJson(s: Summary): object {
  const params: Record<string, Record<string, unknown>> = {};
  for (const [name, p] of Object.entries(s.params)) {
    const o: Record<string, unknown> = {};
    for (const k of COLUMNS) o[k] = nullIfNaN(p[k]);
    o.mcse_q5 = nullIfNaN(p.mcse_q5);
    o.mcse_q95 = nullIfNaN(p.mcse_q95);
    if (p.rhat_nested !== undefined) o.rhat_nested = nullIfNaN(p.rhat_nested);
    if (p.reasons.length) o.reasons = p.reasons;
    params[name] = o;
  }
  return {
    chains: s.chains,
    draws: s.draws,
    params,
    ebfmi: s.ebfmi.map(nullIfNaN),
    divergences: nullIfNaN(s.divergences),
    divergencesPerChain: s.divergencesPerChain,
    acceptRate: nullIfNaN(s.acceptRate),
    warnings: s.warnings,
  };
}

/**
 * Reads the draws named on the command line: one InferenceData file (.nc, .zarr), one
 * CSV with chain and draw columns, or CmdStan CSVs (one per chain).
 */
export async function readDraws(paths: readonly string[]): Promise<DrawsTable> {
  const isIdata = (p: string) => /\.(nc|zarr)\/*$/.test(p);
  if (paths.some(isIdata)) {
    if (paths.length !== 1) throw new InputError('diagnose', `an InferenceData file (.nc, .zarr) holds all chains: give it alone, got ${paths.length} files`);
    return readInferenceDataDraws(paths[0]);
  }
  const texts = await Promise.all(paths.map(readText));
  const stan = texts.map(isCmdStanCsv);
  if (stan.every(Boolean)) return cmdstanDrawsTable(texts.map((t, i) => parseCmdStanCsv(t, paths[i])));
  if (paths.length === 1) return parseDrawsCsv(texts[0], paths[0]);
  const other = paths[stan.indexOf(false)];
  throw new InputError(other, 'is not a CmdStan CSV (no lp__ column and no CmdStan configuration comments): several files must be CmdStan output, one chain each');
}

/** Entry of `funnelweb diagnose`; returns the exit code (InputError → 2 via main). */
export async function runDiagnose(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        superchains: { type: 'string' },
        json: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        verbose: { type: 'boolean' },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    throw new InputError('diagnose', `${(err as Error).message}\n\n${USAGE}`);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${USAGE}\n${EXIT_CODES_HELP}`);
    return 0;
  }
  if (values.verbose) process.env[VERBOSE_ENV] = '1';
  if (positionals.length === 0) throw new InputError('diagnose', `expected a draws file\n\n${USAGE}`);
  const superchains = values.superchains === undefined ? undefined : parsePositiveInt('--superchains', values.superchains);
  if (values.json !== undefined && values.json.trim() === '') throw new InputError('--json', 'empty file name');
  checkOutputPaths(
    positionals.map((path) => ({ flag: 'input', path })),
    values.json !== undefined ? [{ flag: '--json', path: values.json, kind: 'file' }] : [],
  );

  return await diagnoseFiles(positionals, superchains, values.json);
}

/** Reads the draws, prints the summary (warnings on stderr) and writes `--json`. */
async function diagnoseFiles(positionals: string[], superchains: number | undefined, jsonPath: string | undefined): Promise<number> {
  const table = await readDraws(positionals);
  if (superchains !== undefined && (superchains < 2 || table.chains % superchains !== 0)) {
    throw new InputError(
      '--superchains',
      `${table.chains} chains cannot form ${superchains} equal superchains (need at least 2 that divide the chain count)`,
    );
  }
  const summary = await summarizeParallel(table.params, table.chains, table.draws, {
    superchains,
    energy: table.energy,
    divergent: table.divergent,
    acceptProb: table.acceptProb,
  });
  // The table on stdout; warnings on stderr, as every command gives them.
  const text = formatSummary({ ...summary, warnings: [] });
  if (jsonPath !== undefined) {
    // Until the write, a signal's default action ends the process at once (the reading and
    // diagnostics run synchronously, and nothing is on disk yet); during it, the temporary
    // is removed first.
    const release = exitOnStopSignals(`stopped; ${clip(jsonPath)} not written`);
    try {
      await writeFileAtomic(jsonPath, JSON.stringify(summaryJson(summary), null, 2) + '\n');
    } finally {
      release();
    }
  }
  process.stdout.write(text);
  for (const w of summary.warnings) process.stderr.write(`warning: ${w}\n`);
  return 0;
}
