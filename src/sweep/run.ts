/**
 * The sweep coordinator: one job per data set (`sweep.ts`), run by a `JobRunner` (in this
 * process, or workers on BullMQ); each finished data set kept in OUT/cells/ as it arrives (a
 * restarted sweep runs only the missing ones); then OUT/sweep.json, OUT/sweep.csv and
 * OUT/report.html (the winner over the grid and the ESS/s ratios).
 */
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError, RunError, clip } from '../errors.ts';
import { writeFileAtomic } from '../io/write.ts';
import { reportHtml } from '../report/html.ts';
import type { JobRunner } from '../queue/runner.ts';
import { specKey, type Job } from '../queue/jobs.ts';
import { checkSweep, sweepRows, type CellResult, type SweepRow, type SweepRun, type SweepSpec } from './sweep.ts';

/** One data set's outcome on the map: the winner, and by how much. */
export interface SweepPoint {
  readonly data: string;
  readonly K?: number;
  readonly n?: number;
  readonly sigma?: number;
  readonly tau?: number;
  readonly informativeness?: number;
  /** The winning parameterization, or null when no run was clean. */
  readonly winner: string | null;
  /** The winner's ESS/s over the best other run's (any run with a finite ESS/s); NaN without two. */
  readonly ess_ratio: number;
  /** ESS/s of every parameterization, by name. */
  readonly ess_per_s: Record<string, number>;
}

export interface SweepReport {
  readonly sweep: {
    readonly data_sets: number;
    readonly params: readonly string[];
    readonly grid: string | null;
    readonly files: readonly string[];
    readonly sampler: readonly string[];
    readonly rank_by: string;
    readonly runner: string;
    readonly resumed: number;
    readonly wall_s: number;
  };
  readonly cells: readonly SweepRow[];
  readonly points: readonly SweepPoint[];
}

/** A data set's result as it came back (a worker's is untrusted): the shape sweep.json needs, or an error. */
function checkCell(x: unknown, index: number, params: readonly string[]): CellResult {
  const bad = (why: string) => new RunError(`the result of data set ${index} is malformed: ${why}`);
  const r = x as CellResult;
  if (typeof r !== 'object' || r === null || r.cell !== index || typeof r.name !== 'string') throw bad('not this data set');
  if (!Array.isArray(r.rows) || r.rows.length !== params.length || r.rows.some((row, i) => row?.name !== params[i])) throw bad('not one run per parameterization');
  if (!Number.isInteger(r.winner) || r.winner < -1 || r.winner >= params.length) throw bad('no valid winner');
  if (!Array.isArray(r.verdicts) || r.verdicts.length !== params.length || r.verdicts.some((v) => typeof v !== 'string')) throw bad('no verdicts');
  // JSON carries NaN as null.
  const fix = (row: object) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, v === null ? NaN : v])) as unknown as SweepRun;
  return { ...r, rows: r.rows.map(fix) };
}

export interface SweepRunOptions {
  readonly spec: SweepSpec;
  readonly outDir: string;
  readonly runner: JobRunner;
  readonly onProgress?: (done: number, total: number) => void;
  readonly signal?: AbortSignal;
}

/** Runs (or finishes) a sweep and writes OUT/sweep.json, OUT/sweep.csv and OUT/report.html. */
export async function runSweep(o: SweepRunOptions): Promise<SweepReport> {
  const t0 = performance.now();
  const { spec, outDir } = o;
  const cells = checkSweep(spec);
  const key = specKey(spec);
  const dir = join(outDir, 'cells');
  const done = new Map<number, CellResult>();
  let files: string[] = [];
  try {
    files = await readdir(dir);
  } catch {
    // A new sweep.
  }
  for (const f of files.filter((n) => /^c\d+\.json$/.test(n))) {
    let kept: { key: string; result: unknown };
    try {
      kept = JSON.parse(await readFile(join(dir, f), 'utf8'));
    } catch {
      continue;
    }
    if (kept.key !== key) throw new InputError('--out', `'${clip(dir)}' holds data sets of another sweep (other grid, data, parameterizations or options): use another --out, or remove that folder`);
    const i = Number(f.slice(1, -5));
    try {
      done.set(i, checkCell(kept.result, i, spec.params));
    } catch {
      // Not usable: run again.
    }
  }
  const resumed = done.size;
  await mkdir(dir, { recursive: true });
  const todo = cells.map((_, i) => i).filter((i) => !done.has(i));
  const jobs: Job[] = todo.map((cell) => ({ kind: 'sweep-cell', spec, cell }));
  const progress = new Float64Array(todo.length);
  const report = () => o.onProgress?.(resumed + progress.reduce((a, b) => a + b, 0), cells.length);
  report();
  await o.runner.run(jobs, {
    onProgress: (i, d, t) => {
      progress[i] = t > 0 ? Math.min(1, d / t) : 0;
      report();
    },
    onDone: async (i, result) => {
      const index = todo[i];
      if (done.has(index)) return;
      const r = checkCell(result, index, spec.params);
      await writeFileAtomic(join(dir, `c${index}.json`), JSON.stringify({ key, result: r }, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v)) + '\n');
      done.set(index, r);
      progress[i] = 1;
      report();
    },
    ...(o.signal && { signal: o.signal }),
  });
  const results = cells.map((_, i) => done.get(i)!);
  const rows = results.flatMap(sweepRows);
  const points: SweepPoint[] = results.map((r) => {
    const ess = Object.fromEntries(r.rows.map((row) => [row.name, row.ess_bulk_min_per_s]));
    const w = r.winner >= 0 ? r.rows[r.winner] : undefined;
    const others = r.rows.filter((row) => row !== w && Number.isFinite(row.ess_bulk_min_per_s)).map((row) => row.ess_bulk_min_per_s);
    return {
      data: r.name,
      ...(r.point && { K: r.point.K, n: r.point.n, sigma: r.point.sigma, tau: r.point.tau, informativeness: r.point.sigma / (Math.sqrt(r.point.n) * r.point.tau) }),
      winner: w ? w.name : null,
      ess_ratio: w && others.length ? w.ess_bulk_min_per_s / Math.max(...others) : NaN,
      ess_per_s: ess,
    };
  });
  const out: SweepReport = {
    sweep: {
      data_sets: cells.length,
      params: spec.params,
      grid: spec.grid ?? null,
      files: spec.files.map((f) => f.name),
      sampler: spec.sampler,
      rank_by: spec.rankBy,
      runner: o.runner.where,
      resumed,
      wall_s: (performance.now() - t0) / 1000,
    },
    cells: rows,
    points,
  };
  const json = JSON.stringify(out, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 1);
  await writeFileAtomic(join(outDir, 'sweep.json'), json + '\n');
  await writeFileAtomic(join(outDir, 'sweep.csv'), sweepCsv(rows));
  await writeFileAtomic(join(outDir, 'report.html'), await reportHtml('FunnelWeb sweep', out, 'sweep_page.js'));
  return out;
}

/** CSV columns of sweep.csv, in order. */
export const SWEEP_CSV_COLUMNS = ['data', 'K', 'n', 'sigma', 'tau', 'mu', 'informativeness', 'param', 'winner', 'clean', 'divergences', 'divergence_rate', 'ess_bulk_min', 'ess_bulk_min_per_s', 'ess_bulk_tau_per_s', 'rhat_max', 'ebfmi_min', 'step_size', 'mean_leapfrog_steps', 'wall_s', 'exact_deviation_max', 'verdict'] as const;

/** The rows as CSV (RFC 4180 quoting; empty for absent or non-finite values). */
export function sweepCsv(rows: readonly SweepRow[]): string {
  const cell = (v: unknown) => {
    if (v === undefined || v === null || (typeof v === 'number' && !Number.isFinite(v))) return '';
    const t = String(v);
    return /[",\n\r]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t;
  };
  return [SWEEP_CSV_COLUMNS.join(','), ...rows.map((r) => SWEEP_CSV_COLUMNS.map((c) => cell((r as unknown as Record<string, unknown>)[c])).join(','))].join('\n') + '\n';
}
