/**
 * Nesterov's primal-dual averaging (Nesterov 2009, "Primal-dual subgradient methods for
 * convex problems") as adapted to HMC step sizes by Hoffman & Gelman (2014, "The No-U-Turn
 * Sampler", JMLR 15, Algorithm 5). The same `init`/`update`/`final` triple as BlackJAX's
 * `optimizers/dual_averaging.py`.
 *
 * With gradient H_t (for step sizes: target acceptance - observed acceptance), t = 1, 2, ...:
 *   Hbar_t     = (1 - 1/(t + t0)) Hbar_{t-1} + H_t / (t + t0)
 *   log x_t    = mu - sqrt(t)/gamma Hbar_t
 *   log xbar_t = t^-kappa log x_t + (1 - t^-kappa) log xbar_{t-1}
 * with mu = log(10 x_0) (a point the iterates shrink toward, H&G sec. 3.2.1).
 *
 * Note: BlackJAX averages the *previous* iterate (log xbar_t uses log x_{t-1}); this module
 * follows Algorithm 5 of the paper (and Stan), which averages the new one. ChEES
 * (`chees.ts`) uses only the iterate x_t, not xbar.
 */

/** Stabilizes early iterations (Hoffman & Gelman 2014, sec. 3.2.1: t0 = 10; BlackJAX/Stan default). */
export const DA_T0 = 10;
/** Shrinkage toward mu (Hoffman & Gelman 2014: gamma = 0.05; BlackJAX/Stan default). */
export const DA_GAMMA = 0.05;
/** Iterate-averaging exponent in (0.5, 1] (Hoffman & Gelman 2014: kappa = 0.75; BlackJAX/Stan default). */
export const DA_KAPPA = 0.75;

export interface DualAveragingParams {
  readonly t0: number;
  readonly gamma: number;
  readonly kappa: number;
}

export const DEFAULT_DUAL_AVERAGING: DualAveragingParams = { t0: DA_T0, gamma: DA_GAMMA, kappa: DA_KAPPA };

export interface DualAveragingState {
  /** log x_t, the current iterate. */
  readonly logX: number;
  /** log xbar_t, the averaged iterate (0 before the first update). */
  readonly logXAvg: number;
  /** Next iteration index t (starts at 1). */
  readonly step: number;
  /** Hbar_t, the running average of the gradients. */
  readonly avgError: number;
  /** Shrinkage point mu = log(10 x_0). */
  readonly mu: number;
  /** Updates skipped because the gradient or the new iterate was not finite. */
  readonly numSkipped: number;
}

export interface DualAveraging {
  init(x0: number): DualAveragingState;
  update(state: DualAveragingState, gradient: number): DualAveragingState;
  final(state: DualAveragingState): number;
}

/**
 * Builds the dual averaging triple for the given constants (BlackJAX `dual_averaging(t0, gamma, kappa)`).
 * - `init(x0)`: log x = log x0, mu = log(10 x0), t = 1, Hbar = 0, log xbar = 0.
 * - `update(state, H)`: one step of Algorithm 5; a non-finite H or new iterate leaves the
 *   state unchanged except for `numSkipped` (the last good value is kept).
 * - `final(state)`: exp(log xbar), the averaged iterate.
 */
export function dualAveraging(params: DualAveragingParams = DEFAULT_DUAL_AVERAGING): DualAveraging {
  const { t0, gamma, kappa } = params;

  function init(x0: number): DualAveragingState {
    if (!(x0 > 0) || !Number.isFinite(x0)) throw new RangeError(`dual averaging needs a finite x0 > 0, got ${x0}`);
    return { logX: Math.log(x0), logXAvg: 0, step: 1, avgError: 0, mu: Math.log(10 * x0), numSkipped: 0 };
  }

  function update(state: DualAveragingState, gradient: number): DualAveragingState {
    const t = state.step;
    const regStep = t + t0;
    const avgError = (1 - 1 / regStep) * state.avgError + gradient / regStep;
    const logX = state.mu - (Math.sqrt(t) / gamma) * avgError;
    const eta = Math.pow(t, -kappa);
    const logXAvg = eta * logX + (1 - eta) * state.logXAvg;
    if (!Number.isFinite(logX) || !Number.isFinite(logXAvg) || !Number.isFinite(avgError)) {
      return { ...state, numSkipped: state.numSkipped + 1 };
    }
    return { logX, logXAvg, step: t + 1, avgError, mu: state.mu, numSkipped: state.numSkipped };
  }

  function final(state: DualAveragingState): number {
    return Math.exp(state.logXAvg);
  }

  return { init, update, final };
}

const defaultDualAveraging = dualAveraging();

/** `init` with the default constants (t0 = 10, gamma = 0.05, kappa = 0.75). */
export const init = defaultDualAveraging.init;
/** `update` with the default constants. */
export const update = defaultDualAveraging.update;
/** `final` with the default constants. */
export const final = defaultDualAveraging.final;
