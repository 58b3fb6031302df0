import { EBFMI_THRESHOLD, medianFinite, minFinite, summarize, type ParamSummary, type SummarizeOptions, type Summary } from '../diagnostics/index.ts';
import type { SampleResult } from './sample.ts';
import { parameterizationAdvice } from '../adaptation/centeredness.ts';
import { clip, listCapped } from '../errors.ts';

/** Fields of one parameter in the run summary (`funnelweb sample --summary`). */
export type ParamReport = Pick<
  ParamSummary,
  'mean' | 'sd' | 'q5' | 'q50' | 'q95' | 'mcse_mean' | 'mcse_sd' | 'ess_bulk' | 'ess_tail' | 'rhat' | 'rhat_nested'
>;

/** The JSON written by `funnelweb sample --summary FILE` (see README, "Summary JSON"). */
export interface RunReport {
  /** `fallback_reason`: why `--backend auto` ran on the CPU (no WebGPU adapter); absent otherwise. */
  device: { backend: 'cpu' | 'webgpu'; adapter: string; fallback_reason?: string };
  /** True when sampling was interrupted: `sampler.draws` draws of `sampler.requested_draws` were kept. */
  partial: boolean;
  /**
   * `units`: present when the sampler ran in standardized units, y' = (y - shift)/scale
   * (`model/scale.ts`); every parameter here is in the data's own units, `sampler.step_size`
   * and `sampler.trajectory_length` in the sampler's.
   */
  data: {
    /** The likelihood family's id (`--likelihood`: normal, binomial, ...); `reportRun` always sets it (absent: normal). */
    likelihood?: string;
    groups: number;
    labels: string[];
    parameterization: number[];
    units?: { shift: number; scale: number };
  };
  /**
   * Set when the run produced no posterior (no chain moved from its start): why. The CLI then
   * exits 1; the files it writes say so too.
   */
  failed?: string;
  /**
   * Seconds of each phase of `sample`. The CLI adds `diagnostics_s` (from the end of
   * sampling to the summary and report ready: R-hat, ESS, MCSE, E-BFMI) and
   * `sampling_ended_at_s` (seconds since the process started when sampling ended).
   */
  timing: { compile_s: number; warmup_s: number; sampling_s: number; total_s: number; diagnostics_s?: number; sampling_ended_at_s?: number };
  sampler: {
    chains: number;
    retained_chains: number;
    warmup: number;
    /** Automatic warmup only: the iteration where it stopped, or null when it ran to its cap (`warmup_max`). */
    warmup_stopped_at?: number | null;
    warmup_max?: number;
    /** Draws per chain kept (fewer than requested_draws when partial). */
    draws: number;
    requested_draws: number;
    seed?: number;
    step_size: number;
    trajectory_length: number;
    mean_leapfrog_steps: number;
    gradient_evals: number;
    divergences: number;
    accept_rate: number;
    ebfmi_min: number;
    ebfmi_median: number;
    /**
     * With `--target-ess N`: the target; whether a check's estimates met it and R-hat < 1.01
     * (`stopped_early`: sampling stopped there) and whether the run's exact min bulk ESS
     * (over all retained chains, scaled to all chains as `throughput.ess_scale` says) reached
     * N; and each check (draws per chain, chains read, the min ESS estimate and its
     * parameter, the max R-hat and its parameter). See `sampler/target_ess.ts`.
     */
    target_ess?: {
      target: number;
      stopped_early: boolean;
      reached: boolean;
      ess_bulk_min: number;
      checks: { draws: number; chains: number; ess_bulk_min: number; parameter: string; rhat_max: number; rhat_parameter: string }[];
    };
  };
  params: Record<string, ParamReport>;
  throughput: { ess_bulk_min_per_s: number; gradient_evals_per_s: number; ess_scale: number };
  warnings: string[];
  /**
   * With `--param auto` / `auto-binary`: the learned c (also `data.parameterization`), the
   * data-based start tau, each window end's ensemble tau (applied or not), and the window
   * (1-based; 0 = the start was kept) and warmup iteration at which c last changed.
   */
  centeredness?: {
    rule: string;
    c: number[];
    initial_tau: number;
    updates: { iteration: number; tau: number; changed: boolean }[];
    settled_window: number;
    settled_iteration: number;
  };
}

/**
 * Mean leapfrog steps per transition at or above which the step size counts as collapsed
 * (trajectory length / step size: ~15–30 in the seed study's well-parameterized cases at
 * 4,096 chains, ~265 for strong × noncentered; see the README's benchmarks).
 */
export const COLLAPSED_STEP_LEAPFROG = 100;

/**
 * The arguments of `summarize` for a run's retained draws (also for `summarizeParallel`,
 * which Node callers use for large runs): parameters, chains, draws and the sampler traces.
 */
export function summaryInputs(result: SampleResult): [Record<string, Float32Array | Float64Array>, number, number, SummarizeOptions] {
  const rec = result.records;
  const chains = rec.retainedChains;
  return [
    result.params,
    chains,
    rec.draws,
    {
      energy: rec.energy,
      divergent: rec.divergent,
      acceptProb: rec.acceptProb,
      // Superchains are consecutive equal groups; the retained prefix holds whole ones.
      superchains: result.superchains !== undefined ? (result.superchains * chains) / result.chains : undefined,
    },
  ];
}

/**
 * Diagnoses a run (R-hat, ESS, MCSE, E-BFMI over the retained chains; divergences and
 * acceptance over all chains) and builds its report. When only a prefix of the chains was
 * retained, ESS per second is scaled by chains / retained (chains are independent after
 * warmup, so ESS adds up across them); `throughput.ess_scale` records the factor.
 */
export function reportRun(result: SampleResult, seed?: number, precomputed?: Summary): { report: RunReport; summary: Summary } {
  const rec = result.records;
  const chains = rec.retainedChains;
  const summary = precomputed ?? summarize(...summaryInputs(result));
  const params: Record<string, ParamReport> = {};
  for (const name of result.paramNames) {
    const p = summary.params[name];
    params[name] = {
      mean: p.mean,
      sd: p.sd,
      q5: p.q5,
      q50: p.q50,
      q95: p.q95,
      mcse_mean: p.mcse_mean,
      mcse_sd: p.mcse_sd,
      ess_bulk: p.ess_bulk,
      ess_tail: p.ess_tail,
      rhat: p.rhat,
      ...(p.rhat_nested !== undefined ? { rhat_nested: p.rhat_nested } : {}),
    };
  }
  const total = result.timing.total_s;
  const gradientEvals = result.warmupGradientEvals + result.totals.gradientEvals;
  const essScale = result.chains / chains;
  // Reductions over parameters and chains are loops: a spread (Math.min(...xs)) overflows
  // the stack at a million chains.
  let essMin = Infinity;
  for (const n of result.paramNames) essMin = Math.min(essMin, params[n].ess_bulk);
  const ebfmi = summary.ebfmi;
  const ebfmiMin = minFinite(ebfmi);
  let stepSum = 0;
  for (let t = 0; t < result.numSteps.length; t++) stepSum += result.numSteps[t];
  const meanSteps = stepSum / result.numSteps.length;
  const warnings: string[] = [];
  const div = result.totals.divergences;
  if (div > 0) {
    const n = result.chains * result.draws;
    warnings.push(`${div} of ${n} transitions (${((100 * div) / n).toFixed(2)}%) diverged after warmup: the posterior has geometry the sampler cannot follow (try another parameterization or a higher --target-accept).`);
  }
  if (meanSteps >= COLLAPSED_STEP_LEAPFROG) {
    warnings.push(`the step size collapsed to ${result.stepSize.toPrecision(3)} (${meanSteps.toFixed(0)} leapfrog steps per transition): the posterior's scales differ widely across coordinates.`);
  }
  // A fixed parameterization in trouble: name the likely cure from each group's se_k vs
  // the posterior tau: the median of tau^2 over the retained draws, i.e. the square of tau's
  // posterior median (tau > 0, and squaring is monotone there), which the summary already
  // holds (sorting 4 M draws again cost about 1 s at 4,096 x 1,000).
  if (!result.centeredness && (div > 0 || meanSteps >= COLLAPSED_STEP_LEAPFROG)) {
    const tau2 = summary.params.tau.q50 ** 2;
    const advice = Number.isFinite(tau2) ? parameterizationAdvice(result.model.stats, result.model.c, tau2) : undefined;
    if (advice) warnings.push(advice);
  }
  let lowBfmi = 0;
  for (let c = 0; c < ebfmi.length; c++) if (ebfmi[c] < EBFMI_THRESHOLD) lowBfmi++;
  if (lowBfmi > 0) warnings.push(`E-BFMI below ${EBFMI_THRESHOLD} in ${lowBfmi} of ${ebfmi.length} chains (min ${ebfmiMin.toFixed(3)}): momentum resampling explores the energy poorly (funnel?).`);
  const stuck = stuckChains(result);
  let failed: string | undefined;
  if (result.draws >= 2 && stuck === chains) {
    failed = `no chain moved from its start in ${result.draws} draws: every proposal was rejected${div > 0 ? ` (${div} divergent transitions)` : ''}. These draws are the initial values, not a posterior: check the data and priors for values the model cannot fit.`;
    warnings.push(failed);
  } else if (result.draws >= 2 && stuck > 0) {
    warnings.push(`${stuck} of ${chains} retained chains never moved from where sampling began: their draws are one point repeated.`);
  }
  const te = result.targetEss;
  const essRun = essMin * essScale;
  if (te && !(essRun >= te.target)) {
    warnings.push(
      te.reached
        ? `--target-ess ${te.target}: the estimate at ${result.draws} draws per chain reached the target, but the exact min bulk ESS over all draws is ${essRun.toFixed(0)}: run again with more --draws or a lower target.`
        : `--target-ess ${te.target} was not reached in ${result.draws} draws per chain (min bulk ESS ${essRun.toFixed(0)}): run again with more --draws or --chains.`,
    );
  }
  const highRhat = result.paramNames.filter((n) => !(params[n].rhat < 1.01));
  if (highRhat.length) warnings.push(`R-hat >= 1.01 (or NaN) for ${listCapped(highRhat.map((n) => clip(n, 40)))}: chains have not mixed.`);
  // The diagnostics' own R-hat, divergence and E-BFMI warnings are said above, with more detail.
  for (const w of summary.warnings) if (!/^R-hat|^E-BFMI|divergent transitions$/.test(w)) warnings.push(w);
  const report: RunReport = {
    device: {
      backend: result.backend.name,
      adapter: result.backend.adapter,
      ...(result.backend.fallbackReason !== undefined && { fallback_reason: result.backend.fallbackReason }),
    },
    partial: result.partial,
    data: {
      likelihood: result.model.stats.family.id,
      groups: result.model.stats.K,
      labels: [...result.model.stats.labels],
      parameterization: Array.from(result.model.c),
      ...(result.units && { units: { shift: result.units.shift, scale: result.units.scale } }),
    },
    ...(failed !== undefined && { failed }),
    timing: { ...result.timing },
    sampler: {
      chains: result.chains,
      retained_chains: chains,
      warmup: result.warmup,
      ...(result.warmupAuto ? { warmup_stopped_at: result.warmupAuto.stoppedAt, warmup_max: result.warmupAuto.max } : {}),
      draws: result.draws,
      requested_draws: result.requestedDraws,
      ...(seed !== undefined ? { seed } : {}),
      step_size: result.stepSize,
      trajectory_length: result.trajectoryLength,
      mean_leapfrog_steps: meanSteps,
      gradient_evals: gradientEvals,
      divergences: div,
      accept_rate: result.totals.meanAccept,
      ebfmi_min: ebfmiMin,
      ebfmi_median: medianFinite(ebfmi),
      ...(te && {
        target_ess: {
          target: te.target,
          stopped_early: te.reached,
          reached: essRun >= te.target,
          ess_bulk_min: essRun,
          checks: te.checks.map((c) => ({ draws: c.draws, chains: c.chains, ess_bulk_min: c.essBulkMin, parameter: c.parameter, rhat_max: c.rhatMax, rhat_parameter: c.rhatParameter })),
        },
      }),
    },
    params,
    throughput: { ess_bulk_min_per_s: essRun / total, gradient_evals_per_s: gradientEvals / total, ess_scale: essScale },
    warnings,
  };
  const cr = result.centeredness;
  if (cr) {
    report.centeredness = {
      rule: cr.rule,
      c: Array.from(cr.c),
      initial_tau: cr.initialTau,
      updates: cr.updates.map((u) => ({ ...u })),
      settled_window: cr.settledWindow,
      settled_iteration: cr.settledIteration,
    };
  }
  return { report, summary };
}

/**
 * How many retained chains never moved during sampling: every draw of every coordinate equal
 * to the chain's first (mu and log tau decide it: a move that changes only some z is
 * possible but changes the log density, so lp__ is checked too).
 */
export function stuckChains(result: Pick<SampleResult, 'params' | 'records' | 'draws'>): number {
  const { mu, log_tau: s } = result.params;
  const lp = result.records.logDensity;
  const n = result.draws;
  const chains = result.records.retainedChains;
  let stuck = 0;
  for (let c = 0; c < chains; c++) {
    const o = c * n;
    let moved = false;
    for (let d = 1; d < n && !moved; d++) moved = mu[o + d] !== mu[o] || s[o + d] !== s[o] || lp[o + d] !== lp[o];
    if (!moved) stuck++;
  }
  return stuck;
}
