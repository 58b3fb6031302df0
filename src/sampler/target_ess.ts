/**
 * Ending sampling once the answer is good enough (`--target-ess N`): sampling stops at the
 * first check where every parameter's bulk ESS, estimated from the draws so far, reaches N
 * and its R-hat is below RHAT_STOP (1.0091, inside the report's 1.01).
 *
 * **The estimate.** Bulk ESS (rank-normalized split chains; Vehtari, Gelman, Simpson,
 * Carpenter & Bürkner 2021, `diagnostics/ess.ts`) of the first M retained chains over the
 * n draws made so far, scaled to all C chains: ESS_hat = ESS(M chains) * C / M. After warmup
 * the chains are independent draws of one distribution, so ESS adds up across chains; the
 * run's own figure (the report's min `ess_bulk` times `ess_scale`) is the same estimator
 * over every retained chain. R-hat (rank-normalized split R-hat, the larger of bulk and
 * tail) is the report's too, over the same M chains: with thousands of chains a few draws
 * each give ESS in the hundreds of thousands, but split chains of 50 draws still carry their
 * autocorrelation (R-hat^2 is about 1 + tau_int / n for split chains of n draws at
 * stationarity: 1.02 at 100 draws per chain on the study's strong x centered), and a run the
 * report would flag for R-hat is no answer. M is as many chains as keep a check to about CHECK_VALUES
 * values (every parameter's n draws of M chains), at least MIN_CHECK_CHAINS: a check costs
 * the summary of those values (a sort and a dozen streaming passes, 150-300 ns a value on the
 * 2-core test machine: 0.2-0.4 s for 2^21 values, 2x the whole sampling phase of 1,024 chains
 * x 149 draws there, which 2^19 cut to a quarter), whatever the number of chains and draws.
 * At 2^19 and 100 draws of 12 parameters, 436 chains: the noise of an R-hat estimate from
 * them is about sqrt(2 / 436) = 7% of R-hat^2 - 1, i.e. +-0.0007 near 1.01.
 *
 * **When it is checked.** At draw counts that depend only on the draws (never on wall time or
 * on how the device's work was split), so the same seed on the same adapter stops at the
 * same draw: first at MIN_TARGET_DRAWS (or the cap, if lower), then where the estimates
 * project both conditions met with TARGET_MARGIN to spare (ESS grows in proportion to the
 * draws, R-hat - 1 falls in proportion to them), no sooner than
 * CHECK_MIN_GROWTH times and no later than CHECK_MAX_GROWTH times the draws of the last
 * check, and at most at the cap (`--draws`). Before each check the sampler waits for the
 * device and reads the draws back, so a check stalls the device once; with the projection,
 * runs took 1-5 checks (5 for 1,000 groups).
 *
 * **Honesty.** The estimate from M chains is noisy and the stop is taken on it; the run's
 * diagnostics are then computed exactly on every retained chain, and the report says whether
 * that exact min bulk ESS reached the target (`sampler.target_ess`), with a warning when it
 * did not. The minimum over many parameters of noisy estimates is biased low, so stopping
 * tends to come late rather than early.
 */
import { summarizeParam, RHAT_THRESHOLD } from '../diagnostics/summary.ts';
import { allocateConstrained, constrainedNames, rowConstrainer } from './constrain.ts';
import type { HierModel } from '../model/model.ts';
import type { RecordedDraws } from './backend.ts';

/**
 * Fewest draws per chain before a stop: enough for each chain's E-BFMI (its energy
 * differences), for split chains of 50 draws in R-hat and ESS, and for the tail ESS's
 * quantile indicators to be more than a handful of runs per chain.
 */
export const MIN_TARGET_DRAWS = 100;
/**
 * `funnelweb sample`'s target when --draws is not given: 4,000, ten times the 400 that
 * Vehtari et al. (2021) ask of bulk and tail ESS before R-hat and ESS estimates are trusted;
 * the Monte Carlo standard error of a posterior mean is then sd / 63.
 */
export const DEFAULT_TARGET_ESS = 4000;
/** Values (parameters x chains x draws) one check's estimate is computed from, at most (see above). */
export const CHECK_VALUES = 2 ** 19;
/**
 * Fewest chains a check's estimate is computed from (when fewer are retained, all of them),
 * within MAX_CHECK_VALUES. R-hat from M chains has a relative noise of about sqrt(2 / M) in
 * R-hat^2 - 1, and a check takes the max over every parameter: at 1,000 groups, 16 chains
 * read max R-hat 1.043 / 1.023 / 1.011 / 1.008 at 100 / 200 / 400 / 548 draws, where the
 * report's exact figure over 66 chains at 548 draws was under 1.01 on every parameter.
 */
export const MIN_CHECK_CHAINS = 64;
/**
 * Most values one check reads whatever MIN_CHECK_CHAINS asks: 32 M (about 200 MB of scratch
 * and 5-7 s on the test machine, against 450 s of sampling for 1,000 groups at 1,024 chains,
 * where 8 M cut the checks to 13-20 chains after 400 draws).
 */
export const MAX_CHECK_VALUES = 2 ** 25;
/** The next check is placed where the projected ESS is this factor over the target (and R-hat - 1 this factor under 0.01). */
export const TARGET_MARGIN = 1.1;
/**
 * R-hat a check must be under to stop: RHAT_THRESHOLD's distance from 1 shrunk by
 * TARGET_MARGIN (1.0091), so that the run's exact R-hat over all chains, a little different
 * from the estimate, stays under the report's threshold. (At 4,096 chains of the study's weak
 * x noncentered, a check read 1.0099 on 1,747 chains at 100 draws where the report then found
 * 1.0100.)
 */
export const RHAT_STOP = 1 + (RHAT_THRESHOLD - 1) / TARGET_MARGIN;
/** The next check comes after at least this factor more draws than the last... */
export const CHECK_MIN_GROWTH = 1.1;
/** ...and at most this factor more. */
export const CHECK_MAX_GROWTH = 2;

/**
 * One check: the draws per chain it saw and the chains it read; its estimate of the min bulk
 * ESS over all chains and the parameter with it; the max R-hat and its parameter.
 */
export interface TargetEssCheck {
  readonly draws: number;
  readonly chains: number;
  readonly essBulkMin: number;
  readonly parameter: string;
  readonly rhatMax: number;
  readonly rhatParameter: string;
}

/** What `--target-ess` did in a run. */
export interface TargetEssState {
  readonly target: number;
  /** Draws per chain at the next check (the cap when none comes before it). */
  readonly nextCheck: number;
  readonly checks: readonly TargetEssCheck[];
  /** True once a check's estimates met the target and R-hat (sampling stopped there). */
  readonly reached: boolean;
}

/** The state before sampling: the first check at MIN_TARGET_DRAWS draws, or at the cap. */
export function init(target: number, cap: number): TargetEssState {
  return { target, nextCheck: Math.min(cap, MIN_TARGET_DRAWS), checks: [], reached: false };
}

/**
 * Chains a check at n draws reads: as many as CHECK_VALUES allows, at least MIN_CHECK_CHAINS
 * (within MAX_CHECK_VALUES, and at least 2), at most those retained.
 */
export function checkChains(retained: number, params: number, n: number): number {
  const per = Math.max(1, params * n);
  const floor = Math.max(2, Math.min(MIN_CHECK_CHAINS, Math.floor(MAX_CHECK_VALUES / per)));
  return Math.max(1, Math.min(retained, Math.max(floor, Math.floor(CHECK_VALUES / per))));
}

/**
 * Estimated min bulk ESS over every parameter the report lists (`constrainedNames`) from the
 * first `n` draws of chains 0..M-1 of `rec` (whose arrays hold `rec.draws` slots per
 * chain), scaled to `chains` chains, and the max R-hat there. A NaN (a constant parameter,
 * too few draws) counts as not met: ESS 0, R-hat Infinity.
 */
export function estimate(model: HierModel, rec: RecordedDraws, n: number, chains: number): TargetEssCheck {
  const names = constrainedNames(model);
  const M = checkChains(rec.retainedChains, names.length, n);
  const D = model.dim;
  const stride = rec.draws;
  // The M chains' first n draws, repacked chain-major with n draws each (in the recording's
  // precision), then constrained.
  const pos = rec.positions instanceof Float32Array ? new Float32Array(M * n * D) : new Float64Array(M * n * D);
  for (let c = 0; c < M; c++) {
    const from = c * stride * D;
    const src = rec.positions.subarray(from, from + n * D);
    pos.set(src, c * n * D);
  }
  const out = allocateConstrained(model, M * n);
  rowConstrainer(model, out)(pos, 0, M * n);
  let min = Infinity;
  let parameter = names[0];
  let rhatMax = -Infinity;
  let rhatParameter = names[0];
  for (let i = 0; i < names.length; i++) {
    const p = summarizeParam(out[i], M, n);
    const v = Number.isFinite(p.ess_bulk) ? (p.ess_bulk * chains) / M : 0;
    if (v < min) {
      min = v;
      parameter = names[i];
    }
    const r = Number.isFinite(p.rhat) ? p.rhat : Infinity;
    if (r > rhatMax) {
      rhatMax = r;
      rhatParameter = names[i];
    }
  }
  return { draws: n, chains: M, essBulkMin: min, parameter, rhatMax, rhatParameter };
}

/**
 * The state after a check at `check.draws` draws: reached, or the next check's draw count
 * (projected from the estimate, within CHECK_MIN_GROWTH..CHECK_MAX_GROWTH of this one, at
 * most `cap`).
 */
export function update(state: TargetEssState, check: TargetEssCheck, cap: number): TargetEssState {
  const checks = [...state.checks, check];
  if (check.essBulkMin >= state.target && check.rhatMax < RHAT_STOP) return { ...state, checks, reached: true, nextCheck: check.draws };
  const n = check.draws;
  const forEss = check.essBulkMin > 0 ? (n * state.target * TARGET_MARGIN) / check.essBulkMin : Infinity;
  const forRhat = Number.isFinite(check.rhatMax) ? (n * (check.rhatMax - 1) * TARGET_MARGIN) / (RHAT_STOP - 1) : Infinity;
  const projected = Math.max(forEss, forRhat);
  const next = Math.min(cap, Math.ceil(Math.min(n * CHECK_MAX_GROWTH, Math.max(n * CHECK_MIN_GROWTH, projected))));
  return { ...state, checks, nextCheck: Math.min(cap, Math.max(n + 1, next)) };
}
