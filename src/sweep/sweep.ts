/**
 * Parameterization sweeps: every data set of a grid (or list of files) run under every
 * parameterization, ranked as `funnelweb compare` ranks them (the winner by ESS/s among clean
 * runs; each loser with why). One job per data set runs all its parameterizations one after
 * another on one device, so their ESS/s are comparable wherever the job ran.
 */
import { parseArgs } from 'node:util';
import { InputError, clip } from '../errors.ts';
import { familyOf } from '../model/families/index.ts';
import { exactPosterior, hasExactPosterior } from '../model/posterior.ts';
import { parseParameterization } from '../model/parameterization.ts';
import { isCenterednessRule } from '../adaptation/centeredness.ts';
import { rankRows, type CompareRow, type RankBy } from '../compare/compare.ts';
import { runCaseWith } from '../compare/run_case.ts';
import { parseSamplerOptions, SAMPLER_ARG_SPECS, type SamplerOptions } from '../cli/options.ts';
import type { Gpu } from '../gpu/device.ts';
import { generate, informativeness, parseGrid, pointName, type GridPoint } from './grid.ts';
import { designOf, type DesignSpec } from '../io/design.ts';

/** A sweep as data: its grid and files, parameterizations, and the sampler's flags as given. */
export interface SweepSpec {
  /** `--grid` text (absent: files only). */
  readonly grid?: string;
  /** `--data` files, each as the CLI read it. */
  readonly files: readonly DesignSpec[];
  readonly params: readonly string[];
  /** The sampler flags (`--chains 1024 --draws 500 ...`) as argv, parsed as `compare` parses them. */
  readonly sampler: readonly string[];
  readonly rankBy: RankBy;
}

/** One data set of a sweep. */
export type SweepCell = { readonly kind: 'grid'; readonly name: string; readonly point: GridPoint } | { readonly kind: 'file'; readonly name: string; readonly file: number };

/** The sampler options of a spec (checked as the CLI checks its flags). */
export function samplerOptionsOf(spec: SweepSpec): SamplerOptions {
  const { values } = parseArgs({ args: [...spec.sampler], strict: true, allowPositionals: false, options: SAMPLER_ARG_SPECS });
  return parseSamplerOptions(values);
}

/** Every data set of a sweep: the grid's points, then the files. */
export function cellsOf(spec: SweepSpec): SweepCell[] {
  const grid = spec.grid !== undefined ? parseGrid(spec.grid).map((point): SweepCell => ({ kind: 'grid', name: pointName(point), point })) : [];
  return [...grid, ...spec.files.map((f, i): SweepCell => ({ kind: 'file', name: f.name, file: i }))];
}

/** Checks a sweep spec (field names as the CLI's flags). */
export function checkSweep(spec: SweepSpec): SweepCell[] {
  samplerOptionsOf(spec);
  if (spec.rankBy !== 'min' && spec.rankBy !== 'tau') throw new InputError('--rank-by', `must be min or tau, got '${clip(String(spec.rankBy))}'`);
  const cells = cellsOf(spec);
  if (cells.length === 0) throw new InputError('--grid', 'give a grid or at least one --data file');
  if (spec.params.length === 0) throw new InputError('--param', 'give at least one parameterization');
  if (new Set(spec.params).size !== spec.params.length) throw new InputError('--param', 'a parameterization is given twice');
  const datas = spec.files.map(designOf);
  for (const p of spec.params) {
    if (isCenterednessRule(p)) continue;
    for (const d of datas) parseParameterization(p, d.labels);
    for (const c of cells) if (c.kind === 'grid') parseParameterization(p, Array.from({ length: c.point.K }, (_, k) => String(k)));
  }
  return cells;
}

/** A run's comparison row with its min bulk ESS (over parameters; the draws decide it, not the clock). */
export type SweepRun = CompareRow & { readonly ess_bulk_min: number };

/** A data set's result: its rows (one per parameterization, in order), the winner and the verdicts. */
export interface CellResult {
  readonly cell: number;
  readonly name: string;
  readonly point?: GridPoint;
  readonly rows: SweepRun[];
  readonly winner: number;
  readonly verdicts: string[];
  readonly adapter: string;
}

export interface CellRunOptions {
  readonly backend?: 'webgpu' | 'cpu';
  readonly gpu?: Gpu;
  readonly onProgress?: (done: number, total: number) => void;
  readonly signal?: AbortSignal;
}

/** Runs data set `cell` of a sweep under every parameterization and ranks the runs. */
export async function runCell(spec: SweepSpec, index: number, o: CellRunOptions = {}): Promise<CellResult> {
  const opts = samplerOptionsOf(spec);
  const cell = cellsOf(spec)[index];
  if (!cell) throw new InputError('job.cell', `${index} is not a data set of the sweep`);
  const data = cell.kind === 'grid' ? generate(cell.point, opts.seed).data : designOf(spec.files[cell.file]);
  const exact = hasExactPosterior(familyOf(data.likelihood)) ? exactPosterior(data, opts.priors) : undefined;
  const rows: SweepRun[] = [];
  let adapter = '';
  const warmupBound = opts.warmup === 'auto' ? (opts.warmupMax ?? 1000) : opts.warmup;
  const per = warmupBound + opts.draws;
  for (const [i, name] of spec.params.entries()) {
    const { report, row } = await runCaseWith(name, isCenterednessRule(name) ? name : parseParameterization(name, data.labels), data, exact, opts, {
      ...(o.backend && { backend: o.backend }),
      ...(o.gpu && { gpu: o.gpu }),
      onProgress: (p) => o.onProgress?.(i * per + Math.min(per, (p.phase === 'sampling' ? warmupBound : 0) + p.iteration), spec.params.length * per),
      ...(o.signal && { signal: o.signal }),
    });
    adapter = `${report.device.backend} [${report.device.adapter}]`;
    const essMin = Math.min(...Object.values(report.params).map((p) => (Number.isFinite(p.ess_bulk) ? p.ess_bulk : Infinity)));
    rows.push({ ...row, ess_bulk_min: Number.isFinite(essMin) ? essMin : NaN });
  }
  const cmp = rankRows(rows, spec.rankBy);
  return { cell: index, name: cell.name, ...(cell.kind === 'grid' && { point: cell.point }), rows, winner: cmp.winner, verdicts: [...cmp.verdicts], adapter };
}

/** One row of sweep.json's `cells` (and of sweep.csv): a data set under one parameterization. */
export interface SweepRow {
  readonly data: string;
  readonly K?: number;
  readonly n?: number;
  readonly sigma?: number;
  readonly tau?: number;
  readonly mu?: number;
  /** sigma / (sqrt(n) tau): above 1 weakly informed groups, below 1 strongly informed. */
  readonly informativeness?: number;
  readonly param: string;
  readonly winner: boolean;
  readonly verdict: string;
  readonly clean: boolean;
  readonly divergences: number;
  readonly divergence_rate: number;
  readonly ess_bulk_min: number;
  readonly ess_bulk_min_per_s: number;
  readonly ess_bulk_tau_per_s: number;
  readonly rhat_max: number;
  readonly ebfmi_min: number;
  readonly step_size: number;
  readonly mean_leapfrog_steps: number;
  readonly wall_s: number;
  readonly exact_deviation_max: number;
  readonly device: string;
}

/** A cell's rows for sweep.json. */
export function sweepRows(r: CellResult): SweepRow[] {
  return r.rows.map((row, i) => ({
    data: r.name,
    ...(r.point && { ...r.point, informativeness: informativeness(r.point) }),
    param: row.name,
    winner: i === r.winner,
    verdict: r.verdicts[i],
    clean: row.clean,
    divergences: row.divergences,
    divergence_rate: row.divergence_rate,
    ess_bulk_min: row.ess_bulk_min,
    ess_bulk_min_per_s: row.ess_bulk_min_per_s,
    ess_bulk_tau_per_s: row.ess_bulk_tau_per_s,
    rhat_max: row.rhat_max,
    ebfmi_min: row.ebfmi_min,
    step_size: row.step_size,
    mean_leapfrog_steps: row.mean_leapfrog_steps,
    wall_s: row.wall_s,
    exact_deviation_max: row.exact_deviation_max,
    device: r.adapter,
  }));
}
