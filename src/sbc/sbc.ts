/**
 * Simulation-based calibration in batches (Talts et al. 2018; Modrák et al. 2023, "Simulation-
 * based calibration checking for Bayesian computation: the choice of test quantities shapes
 * sensitivity"): every simulation's data set is fitted by its own `chains` chains, many data
 * sets per batch (`batch/sample_batch.ts`), and each true value is ranked among thinned
 * posterior draws. The work is cut into shards (a parameterization and a range of
 * simulations), each one batch: the unit a queue hands to a worker (`src/queue/`). A shard's
 * result depends only on the configuration and its range, never on which process ran it.
 */
import { InputError } from '../errors.ts';
import type { HierData } from '../model/data.ts';
import { makeModel, type HierModel } from '../model/model.ts';
import { parseParameterization } from '../model/parameterization.ts';
import { familyOf } from '../model/families/index.ts';
import { familyGlobals } from '../model/family.ts';
import type { Priors } from '../model/priors.ts';
import { isCenterednessRule } from '../adaptation/centeredness.ts';
import { RHAT_THRESHOLD, rhatEssBulk } from '../diagnostics/summary.ts';
import type { Gpu } from '../gpu/device.ts';
import { constrainSet, sampleBatch } from '../batch/sample_batch.ts';
import { checkBatchModels } from '../batch/backend.ts';
import { simulation, type Truth } from './simulate.ts';
import { coverage, ecdfBand, inBand, rankOf, RANK_DRAWS, thinIndices } from './ranks.ts';

/** What every shard of one SBC run shares. */
export interface SbcConfig {
  readonly design: HierData;
  /** The parameterizations compared (`--param` texts: centered, noncentered, mixed:..., partial:..., auto, auto-binary). */
  readonly params: readonly string[];
  readonly sims: number;
  readonly chains: number;
  readonly warmup: number;
  readonly draws: number;
  readonly seed: number;
  /** The fit's priors. */
  readonly priors: Priors;
  /** The priors the simulations draw mu, tau (and a family global: sigma) from (the fit's unless a sensitivity check says otherwise). */
  readonly simPriors: Pick<Priors, 'mu' | 'tau' | 'family'>;
}

/** One shard: simulations first .. first + count - 1 under one parameterization. */
export interface SbcShard {
  readonly param: string;
  readonly first: number;
  readonly count: number;
}

/**
 * One fit's diagnostics. Every fit's ranks count, whatever its diagnostics: a fit that
 * diverged or mixed badly is kept (and counted), as dropping it would hide exactly what SBC
 * is for.
 */
export interface FitResult {
  readonly sim: number;
  readonly truth: { readonly mu: number; readonly tau: number };
  /** Rank of each parameter's true value among the RANK_DRAWS thinned draws (0..RANK_DRAWS). */
  readonly ranks: Record<string, number>;
  readonly divergences: number;
  readonly rhat_max: number;
  readonly ess_bulk_min: number;
  readonly step_size: number;
  /** Leapfrog steps per chain per draw. */
  readonly leapfrog_steps: number;
  /** R-hat of some parameter at RHAT_THRESHOLD (1.01) or above. */
  readonly high_rhat: boolean;
  /** Bulk ESS of some parameter below the RANK_DRAWS thinned draws the ranks are taken among (SBC's usual check that the thinned draws are near independent). */
  readonly low_ess: boolean;
  /** The fit gave non-finite draws (or diagnostics): its ranks still count, with NaN draws never below the truth. */
  readonly failed: boolean;
}

/**
 * Names of the ranked quantities: mu, tau, a family global by its constrained name (sigma),
 * theta[<label>], and the log-likelihood (a derived quantity, as Modrák et al. recommend).
 */
export function rankedNames(design: HierData): string[] {
  const g = familyGlobals(familyOf(design.likelihood))[0];
  return ['mu', 'tau', ...(g ? [g.constrained.name] : []), ...design.labels.map((l) => `theta[${l}]`), 'log_lik'];
}

/** Checks a configuration (field names as the CLI's options). */
export function checkConfig(cfg: SbcConfig): void {
  const int = (field: string, v: number, min: number) => {
    if (!(Number.isInteger(v) && v >= min)) throw new InputError(field, `must be an integer >= ${min}, got ${v}`);
  };
  int('--sims', cfg.sims, 1);
  int('--chains', cfg.chains, 1);
  int('--warmup', cfg.warmup, 0);
  int('--draws', cfg.draws, 4);
  if (cfg.chains * cfg.draws < RANK_DRAWS) throw new InputError('--draws', `${cfg.chains} chains x ${cfg.draws} draws per fit are fewer than the ${RANK_DRAWS} draws the ranks are taken among`);
  if (cfg.params.length === 0) throw new InputError('--param', 'give at least one parameterization');
  for (const p of cfg.params) if (!isCenterednessRule(p)) parseParameterization(p, cfg.design.labels);
  if (new Set(cfg.params).size !== cfg.params.length) throw new InputError('--param', 'a parameterization is given twice');
  // The batch sampler's reach: a family without a global parameter, no predictors.
  checkBatchModels([makeModel(cfg.design, new Float64Array(cfg.design.K), cfg.priors)]);
}

/** The sampler's seed of simulation `sim`: seed + golden-ratio multiples, mod 2^53. */
export function samplerSeed(seed: number, sim: number): number {
  return Number((BigInt(seed) + 0x9e3779b97f4a7c15n * BigInt(sim + 1)) % 2n ** 53n);
}

/** The shards of a run: per parameterization, ranges of `setsPerBatch` simulations. */
export function shardsOf(cfg: SbcConfig, setsPerBatch: number): SbcShard[] {
  const out: SbcShard[] = [];
  for (const param of cfg.params) for (let first = 0; first < cfg.sims; first += setsPerBatch) out.push({ param, first, count: Math.min(setsPerBatch, cfg.sims - first) });
  return out;
}

/** log-likelihood of a model's data at theta (and the family global x; up to the family's constant, the same for every draw). */
function logLik(model: HierModel, theta: (k: number) => number, x?: number): number {
  const { stats } = model;
  const g = new Float64Array(2);
  let s = 0;
  for (let k = 0; k < stats.K; k++) if (stats.n[k] > 0) s += stats.family.logLik(stats.a[k], stats.b[k], theta(k), g, x);
  if (x !== undefined && stats.family.logLikGlobal && stats.familyStats) s += stats.family.logLikGlobal(stats.familyStats, x, g);
  return s;
}

export interface ShardOptions {
  readonly backend?: 'webgpu' | 'cpu';
  readonly gpu?: Gpu;
  readonly onProgress?: (done: number, total: number) => void;
  readonly signal?: AbortSignal;
}

/** Runs one shard as one batch: simulates its data sets, fits them together, ranks the truths. */
export async function runShard(cfg: SbcConfig, shard: SbcShard, o: ShardOptions = {}): Promise<FitResult[]> {
  const { design, chains: C, draws } = cfg;
  const sims = Array.from({ length: shard.count }, (_, j) => simulation(design, cfg.simPriors, cfg.seed, shard.first + j));
  const rule = isCenterednessRule(shard.param) ? shard.param : undefined;
  const c = rule ? new Float64Array(design.K) : parseParameterization(shard.param, design.labels);
  const models = sims.map((s) => makeModel(s.data, c, cfg.priors));
  const run = await sampleBatch({
    models,
    chainsPerSet: C,
    seeds: sims.map((_, j) => samplerSeed(cfg.seed, shard.first + j)),
    warmup: cfg.warmup,
    draws,
    ...(o.backend && { backend: o.backend }),
    ...(o.gpu && { gpu: o.gpu }),
    ...(rule && { auto: rule }),
    ...(o.onProgress && { onProgress: o.onProgress }),
    ...(o.signal && { signal: o.signal }),
  });
  const idx = thinIndices(C, draws);
  const names = rankedNames(design);
  const out: FitResult[] = [];
  for (const [j, set] of run.sets.entries()) {
    // The diagnostics take a few ms per set: let timers (a queue lock's renewal) and signals in between.
    await new Promise((r) => setTimeout(r, 0));
    const truth: Truth = sims[j].truth;
    const values = constrainSet(set.model, set.draws, C);
    const ranks: Record<string, number> = {};
    let rhatMax = -Infinity;
    let essMin = Infinity;
    let finite = true;
    const th = design.labels.map((l) => values[`theta[${l}]`]);
    // The family global's unconstrained draws (log sigma), for the log-likelihood.
    const fg = set.model.familyGlobal;
    const xs = fg ? values[fg.global.name] : undefined;
    for (const name of names) {
      if (name === 'log_lik') {
        const ll = new Float64Array(idx.length);
        for (const [i, at] of idx.entries()) ll[i] = logLik(set.model, (k) => th[k][at], xs?.[at]);
        const llTrue = logLik(set.model, (k) => truth.theta[k], truth.x);
        ranks[name] = rankOf(ll, Int32Array.from(ll, (_, i) => i), llTrue);
        continue;
      }
      const v = values[name];
      const t = name === 'mu' ? truth.mu : name === 'tau' ? truth.tau : truth.global && name === truth.global.name ? truth.global.value : truth.theta[design.labels.indexOf(name.slice(6, -1))];
      ranks[name] = rankOf(v, idx, t);
      const { rhat: r, ess_bulk: e } = rhatEssBulk(v, C, draws);
      if (!Number.isFinite(r) || !Number.isFinite(e)) finite = false;
      else {
        rhatMax = Math.max(rhatMax, r);
        essMin = Math.min(essMin, e);
      }
    }
    out.push({
      sim: shard.first + j,
      truth: { mu: truth.mu, tau: truth.tau },
      ranks,
      divergences: set.divergences,
      rhat_max: finite ? rhatMax : NaN,
      ess_bulk_min: finite ? essMin : NaN,
      step_size: set.stepSize,
      leapfrog_steps: set.leapfrogSteps / draws,
      high_rhat: finite && rhatMax >= RHAT_THRESHOLD,
      low_ess: finite && essMin < RANK_DRAWS,
      failed: !finite,
    });
  }
  return out;
}

/** One parameter's calibration under one parameterization. */
export interface ParamCalibration {
  readonly param: string;
  readonly parameter: string;
  /** Ranks by simulation (0..RANK_DRAWS). */
  readonly ranks: number[];
  /** The ranks' ECDF inside the simultaneous 95% band. */
  readonly in_band: boolean;
  /** Inside the band at 1 - 0.05 / (number of parameters): the check `passed` uses. */
  readonly in_band_adjusted: boolean;
  readonly ecdf_max_deviation: number;
  readonly coverage: Record<string, number>;
}

/** Per parameterization: did every parameter stay in its (multiplicity-adjusted) band, and how many fits failed. */
export interface ParamSummary {
  readonly param: string;
  readonly fits: number;
  readonly failed_fits: number;
  readonly divergent_fits: number;
  readonly high_rhat_fits: number;
  readonly low_ess_fits: number;
  readonly divergences: number;
  readonly parameters: number;
  readonly parameters_in_band: number;
  readonly parameters_in_adjusted_band: number;
  /** Every parameter inside its band at simultaneous level 1 - 0.05 / parameters (Bonferroni over parameters). */
  readonly passed: boolean;
  readonly rhat_max: number;
  readonly ess_bulk_min_median: number;
}

/** The band level of `in_band`. */
export const SBC_ALPHA = 0.05;

/** Gathers the shards' fits (any order) into the calibration of every parameter under every parameterization. */
export function assemble(cfg: SbcConfig, fits: ReadonlyMap<string, readonly FitResult[]>): { results: ParamCalibration[]; summary: ParamSummary[] } {
  const names = rankedNames(cfg.design);
  const band = ecdfBand(cfg.sims, RANK_DRAWS, SBC_ALPHA);
  const adjusted = ecdfBand(cfg.sims, RANK_DRAWS, SBC_ALPHA / names.length);
  const results: ParamCalibration[] = [];
  const summary: ParamSummary[] = [];
  for (const param of cfg.params) {
    const f = [...(fits.get(param) ?? [])].sort((a, b) => a.sim - b.sim);
    if (f.length !== cfg.sims || f.some((x, i) => x.sim !== i)) throw new Error(`sbc: ${param} has ${f.length} of ${cfg.sims} simulations`);
    let inBandCount = 0;
    let adjustedCount = 0;
    for (const parameter of names) {
      const ranks = f.map((x) => x.ranks[parameter]);
      const b = inBand(ranks, band);
      const a = inBand(ranks, adjusted);
      inBandCount += b.inBand ? 1 : 0;
      adjustedCount += a.inBand ? 1 : 0;
      results.push({ param, parameter, ranks, in_band: b.inBand, in_band_adjusted: a.inBand, ecdf_max_deviation: b.maxDeviation, coverage: coverage(ranks) });
    }
    const ess = f.map((x) => x.ess_bulk_min).filter(Number.isFinite).sort((a, b) => a - b);
    summary.push({
      param,
      fits: f.length,
      failed_fits: f.filter((x) => x.failed).length,
      divergent_fits: f.filter((x) => x.divergences > 0).length,
      high_rhat_fits: f.filter((x) => x.high_rhat).length,
      low_ess_fits: f.filter((x) => x.low_ess).length,
      divergences: f.reduce((s, x) => s + x.divergences, 0),
      parameters: names.length,
      parameters_in_band: inBandCount,
      parameters_in_adjusted_band: adjustedCount,
      passed: adjustedCount === names.length,
      rhat_max: f.reduce((m, x) => (Number.isFinite(x.rhat_max) ? Math.max(m, x.rhat_max) : m), -Infinity),
      ess_bulk_min_median: ess.length ? ess[Math.floor(ess.length / 2)] : NaN,
    });
  }
  return { results, summary };
}
