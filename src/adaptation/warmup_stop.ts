/**
 * When to end warmup (`--warmup auto`): a check every WARMUP_CHECK_INTERVAL iterations that
 * ends adaptation once
 *
 * 1. **the adaptation has settled**: the step size and trajectory length that warmup would
 *    hand to sampling now (ChEES's iterate averages, `chees.final`) changed by at most
 *    SETTLED_LOG_CHANGE in log space since the previous check; and
 * 2. **the ensemble has mixed**, judged from two snapshots of every chain's position, x at
 *    the previous check and y at this one (Delta = WARMUP_CHECK_INTERVAL iterations apart),
 *    coordinate by coordinate over the C chains:
 *    - the chains have forgotten where they were: the cross-chain correlation
 *      rho = cor(x, y) is at most MAX_LAG_CORRELATION;
 *      this is the classic R-hat of C chains of the two draws x, y (Gelman & Rubin 1992):
 *      R-hat^2 = 1 / (1 - rho) for stationary chains, so rho <= 0.1 is R-hat <= 1.054 at a
 *      lag of Delta iterations — the many-short-chains view of Margossian, Hoffman,
 *      Sountsov, Riou-Durand, Vehtari & Gelman (2023, "Nested R-hat"): the question after
 *      warmup is whether the chains have forgotten their initialisation, not whether each
 *      chain is long;
 *    - the ensemble is no longer moving: its mean moved by at most MAX_MEAN_SHIFT
 *      pooled sds and its sd by at most a factor exp(MAX_LOG_SD_CHANGE), so both snapshots
 *      are draws of one distribution.
 *
 *    The estimates carry no allowance for their noise (standard errors 1/sqrt(C) for rho
 *    and log sd, sqrt(2/C) sds for the mean): with few chains they are noisy and the rule
 *    waits, to the cap if need be, rather than stop on a lucky draw. At 4,096 chains the
 *    standard errors are 0.016-0.022, far inside the thresholds. Measured: 128 chains of
 *    strong x noncentered with an allowance of 1-3 standard errors stopped at 550-650
 *    iterations with the trajectory length at half its converged value (the ensemble's sd
 *    still growing 13-22% per check) and 2.5x less ESS than after 1,000; without it they ran
 *    to the cap.
 *
 * The rule is a deterministic function of the adaptation state and the positions at
 * iterations that are multiples of WARMUP_CHECK_INTERVAL, so where warmup stops depends on
 * the seed, never on how the iterations were split into device runs or on wall time.
 * Warmup stops at the first check where the adaptation has settled and the last
 * MIXED_CHECKS comparisons found the ensemble mixed (so never before 150 iterations), or at
 * the cap. Pure `init` / `update`, as the other adaptation modules.
 *
 * Why both (measured at 4,096 chains, seed 1; docs/benchmarks.md): settled adaptation
 * alone is not enough. In strong x centered the step size and trajectory length sat on a
 * plateau at 100-150 iterations (changes of 2% and 0.5-2%) while the chains had barely
 * moved (lag correlation 0.73-0.76); the trajectory length then grew about tenfold between
 * 250 and 400 iterations, and the chains mixed at 350-450. In strong x noncentered the
 * ensemble mixed at 600 while the trajectory length still moved. Where the rule stopped:
 * weak x noncentered 150, unbalanced x mixed:2,6 300, strong x centered 450, strong x
 * noncentered 750, with the min bulk ESS and R-hat of the fixed 1,000-iteration warmup.
 * The posterior checks against exact quadrature (test/sampler_posterior.test.ts) run with it.
 */
import { pnorm, qnorm } from '../diagnostics/special.ts';

/** Iterations between checks; checks fall on multiples of it (device runs end there). */
export const WARMUP_CHECK_INTERVAL = 50;
/** Earliest stop (with MIXED_CHECKS = 2 comparisons needed, the first possible stop is at 150). */
export const MIN_AUTO_WARMUP = 100;
/** Default cap of `--warmup auto`: the fixed warmup FunnelWeb used before (and Stan's default). */
export const MAX_AUTO_WARMUP = 1000;
/**
 * Largest |change in log| of the tuned step size and trajectory length between checks
 * (about 10%). Near its optimum HMC's efficiency changes slowly with both; at 5% the
 * trajectory length of strong x noncentered (which moves by 7-25% between checks once the
 * ensemble has mixed) held warmup longer (800 vs 750 iterations at 4,096 chains) for no
 * gain in ESS (1.38 M vs 1.40 M).
 */
export const SETTLED_LOG_CHANGE = 0.1;
/** Largest cross-chain correlation of a coordinate between snapshots WARMUP_CHECK_INTERVAL apart. */
export const MAX_LAG_CORRELATION = 0.1;
/** Largest shift of the ensemble mean between snapshots, in pooled posterior sds. */
export const MAX_MEAN_SHIFT = 0.1;
/** Largest |change in log sd| of the ensemble between snapshots (about 10%). */
export const MAX_LOG_SD_CHANGE = 0.1;
/** Consecutive checks (each comparing two snapshots) that must find the ensemble mixed. */
export const MIXED_CHECKS = 2;
/**
 * Coordinates up to which the three mixing thresholds hold as they are; beyond, each is
 * raised for the number of coordinates (`mixingThreshold`).
 */
export const MULTIPLICITY_FREE_DIM = 16;

/**
 * The threshold for the max over `dim` coordinates of a mixing statistic whose chance part
 * at a coordinate that has mixed is about Normal(0, se) (se: 1/sqrt(C) for the lag
 * correlation and the log-sd change, sqrt(2/C) for the mean shift in sds, C chains):
 * `limit` up to MULTIPLICITY_FREE_DIM coordinates; beyond, raised so that chance alone fails
 * a check no more often than it does for MULTIPLICITY_FREE_DIM coordinates at the same C.
 * Each coordinate's chance of exceeding it is then p * MULTIPLICITY_FREE_DIM / dim, p =
 * 2 Phi(-limit / se) (a Bonferroni split of the 16-coordinate rate). Without it the max over
 * many coordinates is mostly noise: at 1,024 chains the mean-shift limit of 0.1 sds is 2.3
 * standard errors, crossed by chance in 2.4% of coordinates, so a 1,000-group model never
 * passed (warmup ran to its cap). At 4,096 chains and 1,000 coordinates the mean-shift
 * threshold becomes 0.137 sds; at 1,024, 0.149. Never below `limit`; the models of the
 * study (11 coordinates) keep the thresholds as they were.
 */
export function mixingThreshold(limit: number, se: number, dim: number): number {
  if (dim <= MULTIPLICITY_FREE_DIM || !(se > 0)) return limit;
  const p = (2 * pnorm(-limit / se) * MULTIPLICITY_FREE_DIM) / dim;
  if (!(p > 0)) return limit;
  return Math.max(limit, -se * qnorm(p / 2));
}

export interface WarmupStopParams {
  readonly interval: number;
  readonly minWarmup: number;
  readonly settledLogChange: number;
  readonly maxLagCorrelation: number;
  readonly maxMeanShift: number;
  readonly maxLogSdChange: number;
}

export const DEFAULT_WARMUP_STOP: WarmupStopParams = {
  interval: WARMUP_CHECK_INTERVAL,
  minWarmup: MIN_AUTO_WARMUP,
  settledLogChange: SETTLED_LOG_CHANGE,
  maxLagCorrelation: MAX_LAG_CORRELATION,
  maxMeanShift: MAX_MEAN_SHIFT,
  maxLogSdChange: MAX_LOG_SD_CHANGE,
};

/** What one check found (kept in the run's result: `SampleResult.warmupAuto.checks`). */
export interface WarmupCheck {
  /** Warmup iterations done at this check. */
  readonly iteration: number;
  /** |log change| since the previous check of the tuned step size and trajectory length (NaN at the first check). */
  readonly stepSizeChange: number;
  readonly trajectoryLengthChange: number;
  /** Over coordinates: the largest lag correlation, mean shift (sds) and |log sd change| (NaN at the first check). */
  readonly lagCorrelation: number;
  readonly meanShift: number;
  readonly logSdChange: number;
  readonly settled: boolean;
  /** This check's comparison found the ensemble mixed (stopping needs MIXED_CHECKS in a row). */
  readonly mixed: boolean;
  /** Both held (and iteration >= minWarmup): warmup ends here. */
  readonly stop: boolean;
}

export interface WarmupStopState {
  /** Positions at the previous check (chain-major) and the tuned values then; absent before the first. */
  readonly previous?: { readonly positions: ArrayLike<number>; readonly logStepSize: number; readonly logTrajectoryLength: number };
  /** Consecutive checks up to the previous one that found the ensemble mixed. */
  readonly mixedRun?: number;
}

export interface WarmupStopInput {
  readonly iteration: number;
  /** What `chees.final` returns now. */
  readonly tuned: { readonly stepSize: number; readonly trajectoryLength: number };
  /**
   * Current positions, chain-major (chain c, coordinate d at c * dim + d). Kept, not copied,
   * until the next check (a wide model's ensemble is large): the caller must not modify it.
   */
  readonly positions: ArrayLike<number>;
  readonly chains: number;
  readonly dim: number;
}

/** Cross-chain comparison of two snapshots: the largest lag correlation, mean shift (in pooled sds) and |log-sd change| over coordinates. */
export function snapshotDrift(x: ArrayLike<number>, y: ArrayLike<number>, chains: number, dim: number): { lagCorrelation: number; meanShift: number; logSdChange: number } {
  let lagCorrelation = -Infinity;
  let meanShift = 0;
  let logSdChange = 0;
  for (let d = 0; d < dim; d++) {
    let n = 0;
    let sx = 0;
    let sy = 0;
    for (let c = 0; c < chains; c++) {
      const a = x[c * dim + d];
      const b = y[c * dim + d];
      if (!Number.isFinite(a) || !Number.isFinite(b)) continue;
      n++;
      sx += a;
      sy += b;
    }
    if (n < 2) return { lagCorrelation: NaN, meanShift: NaN, logSdChange: NaN };
    const mx = sx / n;
    const my = sy / n;
    let vx = 0;
    let vy = 0;
    let cxy = 0;
    for (let c = 0; c < chains; c++) {
      const a = x[c * dim + d];
      const b = y[c * dim + d];
      if (!Number.isFinite(a) || !Number.isFinite(b)) continue;
      vx += (a - mx) * (a - mx);
      vy += (b - my) * (b - my);
      cxy += (a - mx) * (b - my);
    }
    // A coordinate that does not vary (all chains equal) has nothing to mix.
    if (!(vx > 0 && vy > 0)) {
      if (vx !== vy) return { lagCorrelation: 1, meanShift: Infinity, logSdChange: Infinity };
      continue;
    }
    lagCorrelation = Math.max(lagCorrelation, cxy / Math.sqrt(vx * vy));
    meanShift = Math.max(meanShift, Math.abs(my - mx) / Math.sqrt((vx + vy) / (2 * (n - 1))));
    logSdChange = Math.max(logSdChange, Math.abs(0.5 * Math.log(vy / vx)));
  }
  return { lagCorrelation: lagCorrelation === -Infinity ? 0 : lagCorrelation, meanShift, logSdChange };
}

/**
 * Builds the stopping rule: `init()`, then `update(state, input)` at every iteration that
 * is a multiple of `params.interval` (the caller only calls it there). Returns the next
 * state and the check; `check.stop` ends warmup. `reset` forgets the previous check (after
 * a metric window changes the scale, the next check only records).
 */
export function warmupStop(params: Partial<WarmupStopParams> = {}) {
  const p: WarmupStopParams = { ...DEFAULT_WARMUP_STOP, ...params };

  function init(): WarmupStopState {
    return {};
  }

  function update(state: WarmupStopState, input: WarmupStopInput): { state: WarmupStopState; check: WarmupCheck } {
    const { chains, dim } = input;
    if (input.positions.length !== chains * dim) throw new RangeError(`positions: expected ${chains * dim} values, got ${input.positions.length}`);
    const logStepSize = Math.log(input.tuned.stepSize);
    const logTrajectoryLength = Math.log(input.tuned.trajectoryLength);
    const positions = input.positions;
    const prev = state.previous;
    if (!prev) {
      const next: WarmupStopState = { previous: { positions, logStepSize, logTrajectoryLength }, mixedRun: 0 };
      const check = { iteration: input.iteration, stepSizeChange: NaN, trajectoryLengthChange: NaN, lagCorrelation: NaN, meanShift: NaN, logSdChange: NaN, settled: false, mixed: false, stop: false };
      return { state: next, check };
    }
    const stepSizeChange = Math.abs(logStepSize - prev.logStepSize);
    const trajectoryLengthChange = Math.abs(logTrajectoryLength - prev.logTrajectoryLength);
    const settled = stepSizeChange <= p.settledLogChange && trajectoryLengthChange <= p.settledLogChange;
    const drift = snapshotDrift(prev.positions, positions, chains, dim);
    const se = 1 / Math.sqrt(chains);
    const mixed =
      drift.lagCorrelation <= mixingThreshold(p.maxLagCorrelation, se, dim) &&
      drift.meanShift <= mixingThreshold(p.maxMeanShift, Math.SQRT2 * se, dim) &&
      drift.logSdChange <= mixingThreshold(p.maxLogSdChange, se, dim);
    const mixedRun = mixed ? (state.mixedRun ?? 0) + 1 : 0;
    const stop = settled && mixedRun >= MIXED_CHECKS && input.iteration >= p.minWarmup;
    const next: WarmupStopState = { previous: { positions, logStepSize, logTrajectoryLength }, mixedRun };
    return { state: next, check: { iteration: input.iteration, stepSizeChange, trajectoryLengthChange, ...drift, settled, mixed, stop } };
  }

  function reset(): WarmupStopState {
    return {};
  }

  return { init, update, reset, params: p };
}
