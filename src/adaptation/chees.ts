import type { EnsembleStats } from './ensemble_stats.ts';
import { dualAveraging, type DualAveragingState } from './dual_averaging.ts';

/**
 * ChEES trajectory-length and step-size adaptation for an ensemble of HMC chains
 * (Hoffman, Radul & Sountsov 2021, "An Adaptive-MCMC Scheme for Setting Trajectory Lengths
 * in Hamiltonian Monte Carlo", AISTATS), following BlackJAX `adaptation/chees_adaptation.py`
 * and TFP `experimental/mcmc/gradient_based_trajectory_length_adaptation.py`.
 *
 * Every iteration n all chains run u_n T / eps leapfrog steps (u_n: Halton jitter, see
 * `halton.ts`). From the ensemble the backend reduces (see `cheesEnsembleStats`):
 * - the harmonic mean of the acceptance probabilities, which drives dual averaging of
 *   log eps toward `targetAccept` (BlackJAX: `da_update(target - harmonic_mean)`);
 * - the ChEES gradient, maximized in log T by Adam without momentum.
 *
 * ChEES = 1/4 E[(||q' - E q||^2 - ||q - E q||^2)^2], and its derivative in the integration
 * time t of the proposal, with velocity v' = dq'/dt = M^-1 p' at the trajectory end, is
 *   dChEES/dt = E[(||q' - E q'||^2 - ||q - E q||^2) (q' - E q') . v'],
 * estimated by the acceptance-weighted ensemble average `cheesGradient`; the chain rule
 * through t = u T gives dChEES/dlog T = u T dChEES/dt (BlackJAX's
 * `jitter_generator(...) * trajectory_length * ...`).
 *
 * Masking contract (the CPU and WebGPU backends both follow it):
 * - a chain is *valid* when its transition did not diverge and its acceptance probability,
 *   proposal and end momentum are all finite; only valid chains enter the harmonic mean
 *   and the mean of initial positions;
 * - the ChEES sums (proposal mean and gradient) further drop valid chains with
 *   acceptance below `MIN_ACCEPT_FOR_GRADIENT` = 1e-4 (TFP's
 *   `tf.where(accept_prob > 1e-4, trajectory_grad, 0.)`);
 * - a non-finite harmonic mean becomes 0 (BlackJAX), and any update that would make
 *   eps or T non-finite is skipped, keeping the last good value (counted in `numSkipped`).
 */

/** Target acceptance of HMC in high dimension (Beskos, Pillai, Roberts, Sanz-Serna & Stuart 2013; BlackJAX `OPTIMAL_TARGET_ACCEPTANCE_RATE`). */
export const OPTIMAL_TARGET_ACCEPTANCE_RATE = 0.651;
/** Clip of the log-space trajectory update, ~log(2)/2 (TFP; BlackJAX `LOG_UPDATE_CLIP` "like the original implementation in TFP"). */
export const LOG_UPDATE_CLIP = 0.35;
/** Upper bound on leapfrog steps per iteration (TFP and BlackJAX `max_leapfrog_steps = 1000`). */
export const MAX_LEAPFROG_STEPS = 1000;
/** Adam learning rate on log T (TFP `adaptation_rate = 0.025`; Hoffman et al. 2021, sec. 4). */
export const ADAM_LEARNING_RATE = 0.025;
/** Adam second-moment decay: TFP's RMSProp-like `msg_adaptation_rate = 0.05`, i.e. b2 = 0.95 (no first moment, b1 = 0). */
export const ADAM_B2 = 0.95;
/** Adam denominator epsilon, optax's default `eps = 1e-8` (added to sqrt(vhat)). */
export const ADAM_EPS = 1e-8;
/** Iterate-averaging decay: weight n^-0.5 on the n-th iterate (BlackJAX `decay_rate = 0.5`; TFP `iteration_f**(-0.5)`). */
export const DECAY_RATE = 0.5;
/** Chains with smaller acceptance probability do not enter the ChEES gradient (TFP). */
export const MIN_ACCEPT_FOR_GRADIENT = 1e-4;
/** Guards the acceptance-weighted means against division by zero (TFP 1e-20; BlackJAX `EPS_FLOAT`). */
export const EPS_FLOAT = 1e-20;

export interface CheesParams {
  readonly targetAccept: number;
  readonly learningRate: number;
  readonly b2: number;
  readonly adamEps: number;
  readonly decayRate: number;
  readonly maxLeapfrogSteps: number;
}

export const DEFAULT_CHEES: CheesParams = {
  targetAccept: OPTIMAL_TARGET_ACCEPTANCE_RATE,
  learningRate: ADAM_LEARNING_RATE,
  b2: ADAM_B2,
  adamEps: ADAM_EPS,
  decayRate: DECAY_RATE,
  maxLeapfrogSteps: MAX_LEAPFROG_STEPS,
};

export interface CheesState {
  /** Step size of the next iteration (the dual-averaging iterate). */
  readonly stepSize: number;
  /** Moving average of log step size, weight n^-decayRate on the n-th value. */
  readonly logStepSizeAvg: number;
  /** Trajectory length T of the next iteration (the Adam iterate, clipped to [eps, 1000 eps]). */
  readonly trajectoryLength: number;
  /** Moving average of log T. */
  readonly logTrajectoryLengthAvg: number;
  readonly da: DualAveragingState;
  /** Adam second moment of d ChEES / d log T (first moment unused: b1 = 0). */
  readonly adamV: number;
  /** Adam steps taken (for bias correction). */
  readonly adamStep: number;
  /** Next adaptation iteration n (starts at 1). */
  readonly step: number;
  /** Updates (of eps or T) skipped because they were not finite. */
  readonly numSkipped: number;
}

/** Leapfrog steps of an iteration with jitter u: min(1000, max(1, ceil(u T / eps))) (TFP; BlackJAX `ceil(jitter * T/eps)`). */
export function numLeapfrogSteps(u: number, trajectoryLength: number, stepSize: number, maxSteps: number = MAX_LEAPFROG_STEPS): number {
  const n = Math.ceil((u * trajectoryLength) / stepSize);
  if (!Number.isFinite(n)) return n > 0 ? maxSteps : 1;
  return Math.min(maxSteps, Math.max(1, n));
}

export interface Chees {
  init(options: { stepSize: number; trajectoryLength?: number }): CheesState;
  update(state: CheesState, stats: Pick<EnsembleStats, 'harmonicMeanAccept' | 'cheesGradient' | 'numValid'>, jitter: number): CheesState;
  final(state: CheesState): { stepSize: number; trajectoryLength: number };
}

/**
 * Builds ChEES adaptation (BlackJAX `chees_adaptation.base`):
 *
 * - `init({stepSize, trajectoryLength})`: T defaults to one leapfrog step, T = eps
 *   (BlackJAX `trajectory_length=step_size`); dual averaging starts at eps (mu = log 10 eps).
 * - `update(state, stats, u)` for the iteration that just ran with jitter u:
 *     1. h = harmonic mean acceptance (0 if not finite); dual averaging with gradient
 *        target - h gives eps' = exp(log x); kept only if finite;
 *     2. g = u T cheesGradient (d ChEES / d log T);
 *        Adam with b1 = 0: v = b2 v + (1 - b2) g^2, vhat = v / (1 - b2^k),
 *        Delta = clip(lr g / (sqrt(vhat) + 1e-8), +-0.35) (ascent, as TFP),
 *        log T' = log T + Delta; kept only if finite;
 *     3. averages with w = n^-0.5: avg = (1 - w) avg + w log(new value) for eps and T;
 *     4. T' is clipped to [eps', 1000 eps'] (BlackJAX: at least one step, at most
 *        `max_leapfrog_steps`).
 *   The next iteration uses the iterates eps' and T' (as TFP does for T during
 *   adaptation; BlackJAX instead feeds back exp(avg log T), which slows T by a further n^-0.5).
 * - `final(state)`: exp of the averaged log eps and log T, T clipped to [eps, 1000 eps]
 *   (BlackJAX's returned `step_size` and `num_leapfrog_steps * step_size`).
 */
export function chees(params: Partial<CheesParams> = {}): Chees {
  const p: CheesParams = { ...DEFAULT_CHEES, ...params };
  const da = dualAveraging();

  function init(options: { stepSize: number; trajectoryLength?: number }): CheesState {
    const stepSize = options.stepSize;
    const trajectoryLength = options.trajectoryLength ?? stepSize;
    if (!(stepSize > 0 && Number.isFinite(stepSize))) throw new RangeError(`step size must be finite and > 0, got ${stepSize}`);
    if (!(trajectoryLength > 0 && Number.isFinite(trajectoryLength))) {
      throw new RangeError(`trajectory length must be finite and > 0, got ${trajectoryLength}`);
    }
    return {
      stepSize,
      logStepSizeAvg: 0,
      trajectoryLength,
      logTrajectoryLengthAvg: 0,
      da: da.init(stepSize),
      adamV: 0,
      adamStep: 0,
      step: 1,
      numSkipped: 0,
    };
  }

  function update(
    state: CheesState,
    stats: Pick<EnsembleStats, 'harmonicMeanAccept' | 'cheesGradient' | 'numValid'>,
    jitter: number,
  ): CheesState {
    let numSkipped = state.numSkipped;

    // 1. Step size: dual averaging on the harmonic-mean acceptance.
    const harmonic = Number.isFinite(stats.harmonicMeanAccept) ? stats.harmonicMeanAccept : 0;
    const daNext = da.update(state.da, p.targetAccept - harmonic);
    const epsCandidate = Math.exp(daNext.logX);
    let stepSize = state.stepSize;
    let daState = state.da;
    if (Number.isFinite(epsCandidate) && epsCandidate > 0 && daNext.numSkipped === state.da.numSkipped) {
      stepSize = epsCandidate;
      daState = daNext;
    } else {
      numSkipped++;
    }

    // 2. Trajectory length: Adam (b1 = 0) ascent on d ChEES / d log T.
    const logT = Math.log(state.trajectoryLength);
    const g = stats.numValid > 0 ? jitter * state.trajectoryLength * stats.cheesGradient : 0;
    const adamStep = state.adamStep + 1;
    const adamV = p.b2 * state.adamV + (1 - p.b2) * g * g;
    const vHat = adamV / (1 - Math.pow(p.b2, adamStep));
    const rawUpdate = (p.learningRate * g) / (Math.sqrt(vHat) + p.adamEps);
    const logUpdate = Math.min(LOG_UPDATE_CLIP, Math.max(-LOG_UPDATE_CLIP, rawUpdate));
    let newLogT = logT + logUpdate;
    let nextAdamV = adamV;
    let nextAdamStep = adamStep;
    if (!Number.isFinite(newLogT) || !Number.isFinite(adamV)) {
      newLogT = logT;
      nextAdamV = state.adamV;
      nextAdamStep = state.adamStep;
      numSkipped++;
    }

    // 3. Iterate averaging in log space.
    const w = Math.pow(state.step, -p.decayRate);
    const logStepSizeAvg = (1 - w) * state.logStepSizeAvg + w * Math.log(stepSize);
    const logTrajectoryLengthAvg = (1 - w) * state.logTrajectoryLengthAvg + w * newLogT;

    // 4. Between one step and maxLeapfrogSteps steps.
    const trajectoryLength = clip(Math.exp(newLogT), stepSize, p.maxLeapfrogSteps * stepSize);

    return {
      stepSize,
      logStepSizeAvg,
      trajectoryLength,
      logTrajectoryLengthAvg,
      da: daState,
      adamV: nextAdamV,
      adamStep: nextAdamStep,
      step: state.step + 1,
      numSkipped,
    };
  }

  function final(state: CheesState): { stepSize: number; trajectoryLength: number } {
    if (state.step === 1) return { stepSize: state.stepSize, trajectoryLength: state.trajectoryLength };
    const stepSize = Math.exp(state.logStepSizeAvg);
    const trajectoryLength = clip(Math.exp(state.logTrajectoryLengthAvg), stepSize, p.maxLeapfrogSteps * stepSize);
    return { stepSize, trajectoryLength };
  }

  return { init, update, final };
}

function clip(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}

const defaultChees = chees();

/** `init` with the default constants. */
export const init = defaultChees.init;
/** `update` with the default constants (target acceptance 0.651). */
export const update = defaultChees.update;
/** `final` with the default constants. */
export const final = defaultChees.final;

/** The adaptation part of `EnsembleStats` (everything but the position moments). */
export type CheesStats = Omit<EnsembleStats, 'positionMean' | 'positionVar'>;

/**
 * Reduces one transition of the ensemble to the statistics ChEES needs, in float64; the
 * reference for the WebGPU reduction. Inputs are chain-major (chain c, coordinate d at
 * c * D + d):
 * - `proposed` q'_c: the end of the trajectory (the divergent point for divergent chains),
 * - `momentum` p'_c at the trajectory end,
 * - `initial` q0_c: the position the transition started from,
 * - `accept` alpha_c (0 for divergent), `divergent` (non-zero = diverged),
 * - `invMass` (optional, length D): the diagonal M^-1; the velocity is v' = M^-1 p'
 *   (identity when omitted, as in TFP and BlackJAX, which adapt no metric during ChEES).
 *
 * With V = valid chains (not divergent; alpha, q', p' finite) and S = {c in V: alpha_c >= 1e-4}:
 *   numValid = |V|, numDivergent = C - |V|,
 *   meanAccept = (1/C) sum_{c in V} alpha_c,
 *   harmonicMeanAccept = |V| / sum_{c in V} 1/alpha_c  (0 if some alpha = 0, NaN if V is empty),
 *   mq0 = mean_{c in V} q0_c,   mq' = sum_S alpha q' / (sum_S alpha + 1e-20),
 *   g_c = (||q'_c - mq'||^2 - ||q0_c - mq0||^2) ((q'_c - mq') . v'_c),
 *   cheesGradient = sum_S alpha_c g_c / (sum_S alpha_c + 1e-20)   (0 when S is empty).
 */
export function cheesEnsembleStats(
  proposed: ArrayLike<number>,
  momentum: ArrayLike<number>,
  initial: ArrayLike<number>,
  accept: ArrayLike<number>,
  divergent: ArrayLike<number | boolean>,
  chains: number,
  D: number,
  invMass?: ArrayLike<number>,
): CheesStats {
  const valid = new Uint8Array(chains);
  let numValid = 0;
  let acceptSum = 0;
  let invAcceptSum = 0;
  const mq0 = new Float64Array(D);
  const mqp = new Float64Array(D);
  let weightSum = 0;
  for (let c = 0; c < chains; c++) {
    const a = accept[c];
    let ok = !divergent[c] && Number.isFinite(a);
    const row = c * D;
    for (let d = 0; ok && d < D; d++) {
      if (!Number.isFinite(proposed[row + d]) || !Number.isFinite(momentum[row + d])) ok = false;
    }
    if (!ok) continue;
    valid[c] = 1;
    numValid++;
    acceptSum += a;
    invAcceptSum += 1 / a;
    for (let d = 0; d < D; d++) mq0[d] += initial[row + d];
    if (a >= MIN_ACCEPT_FOR_GRADIENT) {
      weightSum += a;
      for (let d = 0; d < D; d++) mqp[d] += a * proposed[row + d];
    }
  }
  for (let d = 0; d < D; d++) {
    mq0[d] /= numValid;
    mqp[d] /= weightSum + EPS_FLOAT;
  }
  let gradSum = 0;
  for (let c = 0; c < chains; c++) {
    const a = accept[c];
    if (!valid[c] || !(a >= MIN_ACCEPT_FOR_GRADIENT)) continue;
    const row = c * D;
    let sqProp = 0;
    let sqInit = 0;
    let dot = 0;
    for (let d = 0; d < D; d++) {
      const x = proposed[row + d] - mqp[d];
      const x0 = initial[row + d] - mq0[d];
      const v = invMass === undefined ? momentum[row + d] : invMass[d] * momentum[row + d];
      sqProp += x * x;
      sqInit += x0 * x0;
      dot += x * v;
    }
    gradSum += a * (sqProp - sqInit) * dot;
  }
  return {
    numValid,
    numDivergent: chains - numValid,
    meanAccept: acceptSum / chains,
    harmonicMeanAccept: numValid / invAcceptSum,
    cheesGradient: gradSum / (weightSum + EPS_FLOAT),
  };
}
