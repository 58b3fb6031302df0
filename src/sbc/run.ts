/**
 * The SBC coordinator: cuts a run into shards (`shardsOf`), has a `JobRunner` compute the
 * shards not already finished, keeps each finished shard in OUT/shards/ as it arrives (so an
 * interrupted or restarted run loses no finished work and never computes a shard twice), and
 * from all of them writes OUT/sbc.json and OUT/report.html.
 */
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError, RunError, clip } from '../errors.ts';
import { writeFileAtomic } from '../io/write.ts';
import { reportHtml } from '../report/html.ts';
import type { JobRunner } from '../queue/runner.ts';
import { configOf, specKey, type Job, type SbcSpec } from '../queue/jobs.ts';
import { assemble, rankedNames, SBC_ALPHA, shardsOf, type FitResult, type ParamCalibration, type ParamSummary, type SbcShard } from './sbc.ts';
import { ecdfBand, RANK_DRAWS } from './ranks.ts';

/** Chains per batch a shard aims at: sets per shard = max(1, floor(BATCH_CHAINS / chains)). */
export const BATCH_CHAINS = 4096;

/** Everything `sbc.json` holds. */
export interface SbcReport {
  readonly sbc: {
    readonly design: string;
    readonly likelihood: string;
    readonly groups: number;
    readonly observations: number;
    readonly sims: number;
    readonly chains: number;
    readonly warmup: number;
    readonly draws: number;
    readonly rank_draws: number;
    readonly seed: number;
    readonly params: readonly string[];
    readonly priors: { readonly mu: string; readonly tau: string; readonly sigma?: string };
    readonly sim_priors: { readonly mu: string; readonly tau: string; readonly sigma?: string };
    readonly alpha: number;
    readonly runner: string;
    readonly shards: number;
    readonly resumed_shards: number;
    readonly wall_s: number;
  };
  readonly summary: readonly ParamSummary[];
  readonly results: readonly ParamCalibration[];
  readonly fits: readonly (FitResult & { readonly param: string })[];
  /** The simultaneous bands of the rank ECDF at the points i / (rank_draws + 1): counts of ranks below i. */
  readonly band: { readonly alpha: number; readonly gamma: number; readonly lower: number[]; readonly upper: number[]; readonly adjusted: { readonly alpha: number; readonly gamma: number; readonly lower: number[]; readonly upper: number[] } };
}

/** A finished shard as kept in OUT/shards/. */
interface ShardFile {
  readonly key: string;
  readonly shard: SbcShard;
  readonly fits: FitResult[];
}

/** JSON writes NaN as null: back to NaN. */
function fitFromJson(f: FitResult): FitResult {
  return { ...f, rhat_max: f.rhat_max ?? NaN, ess_bulk_min: f.ess_bulk_min ?? NaN };
}

/**
 * A shard's result as it came back (from this process, a worker, or a file): one fit per
 * simulation of the shard, in order, each with an integer rank in 0..RANK_DRAWS for every
 * ranked quantity; anything else is refused (a result from a queue is data, checked).
 */
function checkFits(x: unknown, shard: SbcShard, names: readonly string[]): FitResult[] {
  const bad = (why: string) => new RunError(`the result of simulations ${shard.first}..${shard.first + shard.count - 1} (${shard.param}) is malformed: ${why}`);
  if (!Array.isArray(x) || x.length !== shard.count) throw bad(`expected ${shard.count} fits`);
  return x.map((f: FitResult, j) => {
    if (typeof f !== 'object' || f === null || f.sim !== shard.first + j) throw bad(`fit ${j} is not simulation ${shard.first + j}`);
    for (const n of names) {
      const r = f.ranks?.[n];
      if (!(Number.isInteger(r) && r >= 0 && r <= RANK_DRAWS)) throw bad(`simulation ${f.sim}: rank of ${n} is ${String(r)}`);
    }
    return fitFromJson(f);
  });
}

const shardName = (spec: SbcSpec, s: SbcShard) => `p${spec.params.indexOf(s.param)}-${s.first}-${s.count}.json`;

/** The finished shards of `spec` in `dir` (by file name); shards of another spec are an error. */
async function finishedShards(dir: string, spec: SbcSpec, key: string, names: readonly string[]): Promise<Map<string, FitResult[]>> {
  const out = new Map<string, FitResult[]>();
  let files: string[];
  try {
    files = await readdir(dir);
  } catch {
    return out;
  }
  for (const name of files.filter((n) => /^p\d+-\d+-\d+\.json$/.test(n))) {
    let f: ShardFile;
    try {
      f = JSON.parse(await readFile(join(dir, name), 'utf8')) as ShardFile;
    } catch {
      continue; // Unreadable: computed again (every shard file is written whole, so this is not ours).
    }
    if (f.key !== key) throw new InputError('--out', `'${clip(dir)}' holds shards of another SBC run (other data, options or version): use another --out, or remove that folder`);
    if (name !== shardName(spec, f.shard) || !Array.isArray(f.fits) || f.fits.length !== f.shard.count) continue;
    try {
      out.set(name, checkFits(f.fits, f.shard, names));
    } catch {
      continue; // Not a shard of this run after all: computed again.
    }
  }
  return out;
}

export interface SbcRunOptions {
  readonly spec: SbcSpec;
  readonly outDir: string;
  readonly runner: JobRunner;
  /** Overall progress: iterations (warmup and draws) done of the total over every shard, resumed shards counted done. */
  readonly onProgress?: (done: number, total: number) => void;
  /** Called when a shard is kept (its file written). */
  readonly onShard?: (finished: number, total: number) => void;
  readonly signal?: AbortSignal;
}

/** Runs (or finishes) an SBC run and writes OUT/sbc.json and OUT/report.html. */
export async function runSbc(o: SbcRunOptions): Promise<SbcReport> {
  const t0 = performance.now();
  const { spec, outDir } = o;
  const cfg = configOf(spec);
  const key = specKey(spec);
  const shardDir = join(outDir, 'shards');
  const shards = shardsOf(cfg, Math.max(1, Math.floor(BATCH_CHAINS / cfg.chains)));
  const names = rankedNames(cfg.design);
  const done = await finishedShards(shardDir, spec, key, names);
  const resumed = shards.filter((s) => done.has(shardName(spec, s))).length;
  const todo = shards.filter((s) => !done.has(shardName(spec, s)));
  await mkdir(shardDir, { recursive: true });
  const per = cfg.warmup + cfg.draws;
  const progress = new Float64Array(todo.length);
  // Progress over every shard, the resumed ones done.
  const total = shards.length * per;
  const doneSoFar = () => resumed * per + progress.reduce((a, b) => a + b, 0);
  const jobs: Job[] = todo.map((shard) => ({ kind: 'sbc-shard', spec, shard }));
  let finished = resumed;
  o.onShard?.(finished, shards.length);
  await o.runner.run(jobs, {
    onProgress: (i, d) => {
      progress[i] = d;
      o.onProgress?.(doneSoFar(), total);
    },
    onDone: async (i, result) => {
      const shard = todo[i];
      const name = shardName(spec, shard);
      if (done.has(name)) return; // counted once, whichever worker finished it first
      const fits = checkFits(result, shard, names);
      const file: ShardFile = { key, shard, fits };
      await writeFileAtomic(join(shardDir, name), JSON.stringify(file) + '\n');
      done.set(name, fits);
      progress[i] = per;
      o.onProgress?.(doneSoFar(), total);
      o.onShard?.(++finished, shards.length);
    },
    ...(o.signal && { signal: o.signal }),
  });
  const byParam = new Map<string, FitResult[]>();
  for (const s of shards) byParam.set(s.param, [...(byParam.get(s.param) ?? []), ...done.get(shardName(spec, s))!]);
  const { results, summary } = assemble(cfg, byParam);
  const band = ecdfBand(cfg.sims, RANK_DRAWS, SBC_ALPHA);
  const adj = ecdfBand(cfg.sims, RANK_DRAWS, SBC_ALPHA / names.length);
  const report: SbcReport = {
    sbc: {
      design: spec.design.name,
      likelihood: cfg.design.likelihood ?? 'normal',
      groups: cfg.design.K,
      observations: cfg.design.y.length,
      sims: cfg.sims,
      chains: cfg.chains,
      warmup: cfg.warmup,
      draws: cfg.draws,
      rank_draws: RANK_DRAWS,
      seed: cfg.seed,
      params: cfg.params,
      priors: { mu: spec.muPrior, tau: spec.tauPrior, ...(spec.sigmaPrior !== undefined && { sigma: spec.sigmaPrior }) },
      sim_priors: { mu: spec.simMuPrior, tau: spec.simTauPrior, ...((spec.simSigmaPrior ?? spec.sigmaPrior) !== undefined && { sigma: (spec.simSigmaPrior ?? spec.sigmaPrior)! }) },
      alpha: SBC_ALPHA,
      runner: o.runner.where,
      shards: shards.length,
      resumed_shards: resumed,
      wall_s: (performance.now() - t0) / 1000,
    },
    summary,
    results,
    fits: cfg.params.flatMap((param) => byParam.get(param)!.map((f) => ({ param, ...f }))),
    band: {
      alpha: band.alpha,
      gamma: band.gamma,
      lower: Array.from(band.lower),
      upper: Array.from(band.upper),
      adjusted: { alpha: adj.alpha, gamma: adj.gamma, lower: Array.from(adj.lower), upper: Array.from(adj.upper) },
    },
  };
  const json = JSON.stringify(report, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 1);
  await writeFileAtomic(join(outDir, 'sbc.json'), json + '\n');
  await writeFileAtomic(join(outDir, 'report.html'), await reportHtml(`FunnelWeb SBC: ${spec.design.name}`, report, 'sbc_page.js'));
  return report;
}
