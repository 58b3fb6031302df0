import { cheesEnsembleStats } from '../adaptation/chees.ts';
import { crossChainMoments } from '../adaptation/metric.ts';
import { logDensityGrad, type HierModel } from '../model/model.ts';
import type { Backend, BackendFactory, EnsembleStats, RecordedDraws, SamplingTotals, TransitionParams } from './backend.ts';
import { truncateDraws } from './backend.ts';
import { keyFromSeed, metropolisUniform, momentumNormals, type PhiloxKey } from './rng.ts';
import { InputError } from '../errors.ts';

/**
 * Most bytes of chain state the CPU backend allocates (4 GiB): about 7.6 million chains at
 * K = 9, which would take the float64 backend hours per iteration batch anyway.
 */
export const CPU_STATE_LIMIT_BYTES = 2 ** 32;

/**
 * The float64 TypeScript backend: static-length HMC for every chain of the ensemble, one
 * chain after another. It is the fallback when no WebGPU adapter exists and the oracle the
 * WebGPU backend is tested against (same Philox draws, same masking rules).
 *
 * One transition of chain c at iteration `it` (Neal 2011, "MCMC using Hamiltonian
 * dynamics", sec. 5.3.2; BlackJAX `mcmc/hmc.py`):
 *   p = n / sqrt(M^-1), n ~ N(0, I) from `momentumNormals(key, it, c)`;
 *   H(q, p) = -log p(q) + 1/2 sum_d M^-1_d p_d^2;
 *   L = numSteps velocity-Verlet steps of size eps (see `velocityVerlet`), stopping at the
 *   first divergent step;
 *   alpha = min(1, exp(H0 - H1)) (0 if divergent); accept iff u < alpha with
 *   u = `metropolisUniform(key, it, c, K)`.
 */

/** A step is divergent when H - H0 exceeds this (Stan's and BlackJAX's `divergence_threshold = 1000`) or H is not finite. */
export const DIVERGENCE_THRESHOLD = 1000;

/** Kinetic energy 1/2 sum_d M^-1_d p_d^2 of the diagonal Euclidean metric. */
export function kineticEnergy(p: ArrayLike<number>, invMass: ArrayLike<number>): number {
  let k = 0;
  for (let d = 0; d < invMass.length; d++) k += invMass[d] * p[d] * p[d];
  return 0.5 * k;
}

/** Slots of the `out` array of `velocityVerlet`. */
export const VV_LOG_DENSITY = 0;
export const VV_ENERGY = 1;
export const VV_STEPS = 2;
export const VV_DIVERGENT = 3;
export const VV_INITIAL_ENERGY = 4;

/**
 * Integrates Hamiltonian dynamics with `numSteps` velocity-Verlet (leapfrog) steps of size
 * eps (Leimkuhler & Reich 2004; BlackJAX `integrators.velocity_verlet`), in place:
 *   p <- p + eps/2 grad log p(q);  q <- q + eps M^-1 p;  p <- p + eps/2 grad log p(q).
 * `q`, `p` and `grad` (the gradient at q, consistent with `logDensity`) are overwritten by
 * the end state. After every step H = -log p(q) + K(p) is checked, and the integration stops
 * at the first step with a non-finite H or H - H0 > `DIVERGENCE_THRESHOLD`, leaving q, p at
 * that (divergent) point. No allocation: results go to `out` (length >= 5):
 * [log p at the end, H at the end, steps taken, divergent (0/1), H0].
 */
export function velocityVerlet(
  model: HierModel,
  q: Float64Array,
  p: Float64Array,
  grad: Float64Array,
  logDensity: number,
  stepSize: number,
  invMass: ArrayLike<number>,
  numSteps: number,
  out: Float64Array,
): void {
  const D = q.length;
  const half = 0.5 * stepSize;
  const h0 = -logDensity + kineticEnergy(p, invMass);
  let lp = logDensity;
  let h = h0;
  let steps = 0;
  let divergent = 0;
  for (let s = 0; s < numSteps; s++) {
    for (let d = 0; d < D; d++) {
      p[d] += half * grad[d];
      q[d] += stepSize * invMass[d] * p[d];
    }
    lp = logDensityGrad(model, q, grad);
    for (let d = 0; d < D; d++) p[d] += half * grad[d];
    h = -lp + kineticEnergy(p, invMass);
    steps++;
    if (!(h - h0 <= DIVERGENCE_THRESHOLD)) {
      // NaN compares false, so a non-finite H (or H0) lands here too.
      divergent = 1;
      break;
    }
  }
  out[VV_LOG_DENSITY] = lp;
  out[VV_ENERGY] = h;
  out[VV_STEPS] = steps;
  out[VV_DIVERGENT] = divergent;
  out[VV_INITIAL_ENERGY] = h0;
}

/** Adapter description reported by the CPU backend. */
export const CPU_ADAPTER = 'cpu (float64 TypeScript)';

/**
 * Longest stretch (ms) the CPU backend computes without letting the event loop run
 * (Ctrl-C, an AbortSignal's timer, a worker's messages); one macrotask costs about a
 * millisecond, under 2% of this.
 */
export const YIELD_INTERVAL_MS = 50;

class CpuBackend implements Backend {
  readonly name = 'cpu' as const;
  readonly adapter = CPU_ADAPTER;
  readonly dim: number;

  private readonly key: PhiloxKey;
  private readonly K: number;
  // Chain state (chain-major).
  private readonly position: Float64Array;
  private readonly grad: Float64Array;
  private readonly logDensity: Float64Array;
  // Info of the last transition.
  private readonly initial: Float64Array;
  private readonly proposed: Float64Array;
  private readonly endMomentum: Float64Array;
  private readonly accept: Float64Array;
  private readonly divergent: Uint8Array;
  private readonly energy: Float64Array;
  private readonly lastInvMass: Float64Array;
  // Scratch of one chain.
  private readonly q: Float64Array;
  private readonly p: Float64Array;
  private readonly g: Float64Array;
  private readonly vv = new Float64Array(5);
  // Sampling phase.
  private sampling = false;
  private recording: {
    draws: number;
    retained: number;
    positions: Float64Array;
    logDensity: Float64Array;
    energy: Float64Array;
    acceptProb: Float64Array;
    divergent: Uint8Array;
    divergentPositions: number[];
    divergentChain: number[];
    divergentDraw: number[];
  } | null = null;
  private drawIndex = 0;
  /** When the backend last let the event loop run (see `letEventsIn`). */
  private lastYield = performance.now();
  private totalDivergences = 0;
  private totalAccept = 0;
  private sampledIterations = 0;
  private gradientEvals = 0;

  constructor(
    private model: HierModel,
    readonly chains: number,
    seed: number,
  ) {
    if (!(Number.isInteger(chains) && chains >= 1)) throw new RangeError(`chains must be a positive integer, got ${chains}`);
    const D = model.dim;
    this.dim = D;
    this.K = model.stats.K;
    this.key = keyFromSeed(seed);
    const n = chains * D;
    // Five float64 arrays of D per chain here, and the initial positions: refused beyond the
    // limit before any is allocated (a heap exhausted midway ends the process with no word).
    const stateBytes = 48 * n + 40 * chains;
    if (stateBytes > CPU_STATE_LIMIT_BYTES) {
      const most = Math.floor(CPU_STATE_LIMIT_BYTES / (48 * D + 40));
      throw new InputError('chains', `${chains} chains x ${this.K} groups need ${stateBytes.toLocaleString('en-US')} bytes of float64 state on the CPU backend, over its ${CPU_STATE_LIMIT_BYTES.toLocaleString('en-US')}-byte limit: use at most ${most.toLocaleString('en-US')} chains`);
    }
    this.position = new Float64Array(n);
    this.grad = new Float64Array(n);
    this.logDensity = new Float64Array(chains);
    this.initial = new Float64Array(n);
    this.proposed = new Float64Array(n);
    this.endMomentum = new Float64Array(n);
    this.accept = new Float64Array(chains);
    this.divergent = new Uint8Array(chains);
    this.energy = new Float64Array(chains);
    this.lastInvMass = new Float64Array(D).fill(1);
    this.q = new Float64Array(D);
    this.p = new Float64Array(D);
    this.g = new Float64Array(D);
  }

  async init(positions: Float64Array): Promise<void> {
    const D = this.dim;
    if (positions.length !== this.chains * D) {
      throw new RangeError(`init: expected ${this.chains * D} position values (chains × D), got ${positions.length}`);
    }
    this.position.set(positions);
    for (let c = 0; c < this.chains; c++) {
      this.logDensity[c] = logDensityGrad(this.model, this.position.subarray(c * D, (c + 1) * D), this.g);
      this.grad.set(this.g, c * D);
    }
  }

  async reparameterize(model: HierModel, positions: Float64Array): Promise<void> {
    if (this.sampling) throw new Error('reparameterize() is only available before sampling');
    if (model.dim !== this.dim) throw new RangeError(`reparameterize: the model has dimension ${model.dim}, the backend ${this.dim}`);
    this.model = model;
    await this.init(positions);
  }

  step(params: TransitionParams): void {
    const { iteration, stepSize, numSteps, invMass } = params;
    const D = this.dim;
    const { q, p, g, vv, key, model } = this;
    if (invMass.length !== D) throw new RangeError(`invMass has length ${invMass.length}, expected ${D}`);
    this.lastInvMass.set(invMass);
    for (let c = 0; c < this.chains; c++) {
      const row = c * D;
      for (let d = 0; d < D; d++) {
        q[d] = this.position[row + d];
        g[d] = this.grad[row + d];
        this.initial[row + d] = q[d];
      }
      momentumNormals(key, iteration, c, this.K, p, model.layout.beta.start, model.layout.beta.count);
      for (let d = 0; d < D; d++) p[d] /= Math.sqrt(invMass[d]);

      velocityVerlet(model, q, p, g, this.logDensity[c], stepSize, invMass, numSteps, vv);
      const h0 = vv[VV_INITIAL_ENERGY];
      const h1 = vv[VV_ENERGY];
      const divergent = vv[VV_DIVERGENT] !== 0;
      const alpha = divergent ? 0 : Math.min(1, Math.exp(h0 - h1));

      for (let d = 0; d < D; d++) {
        this.proposed[row + d] = q[d];
        this.endMomentum[row + d] = p[d];
      }
      this.accept[c] = alpha;
      this.divergent[c] = divergent ? 1 : 0;
      if (metropolisUniform(key, iteration, c, this.K, model.layout.beta.count) < alpha) {
        for (let d = 0; d < D; d++) {
          this.position[row + d] = q[d];
          this.grad[row + d] = g[d];
        }
        this.logDensity[c] = vv[VV_LOG_DENSITY];
        this.energy[c] = h1;
      } else {
        this.energy[c] = h0;
      }
      if (this.sampling) {
        this.totalDivergences += this.divergent[c];
        this.totalAccept += alpha;
        // Leapfrog steps actually computed (a divergent trajectory stops early).
        this.gradientEvals += vv[VV_STEPS];
      }
    }
    if (this.sampling) this.sampledIterations++;
  }

  async positions(): Promise<Float64Array> {
    if (this.sampling) throw new Error('positions() is only available before sampling');
    return Float64Array.from(this.position);
  }

  /**
   * Transitions here run on the calling thread, and resolved promises alone never let
   * timers, signals (Ctrl-C) or messages in; so every YIELD_INTERVAL_MS this waits one
   * macrotask, letting an AbortSignal fire between iterations.
   */
  private async letEventsIn(): Promise<void> {
    const t = performance.now();
    if (t - this.lastYield < YIELD_INTERVAL_MS) return;
    await new Promise((resolve) => setTimeout(resolve, 0));
    this.lastYield = performance.now();
  }

  async ensembleStats(): Promise<EnsembleStats> {
    await this.letEventsIn();
    const D = this.dim;
    const chees = cheesEnsembleStats(
      this.proposed,
      this.endMomentum,
      this.initial,
      this.accept,
      this.divergent,
      this.chains,
      D,
      this.lastInvMass,
    );
    const positionMean = new Float64Array(D);
    const positionVar = new Float64Array(D);
    crossChainMoments(this.position, this.chains, D, positionMean, positionVar);
    return { ...chees, positionMean, positionVar };
  }

  beginSampling(draws: number, retainedChains: number): void {
    if (!(Number.isInteger(draws) && draws >= 0)) throw new RangeError(`draws must be a non-negative integer, got ${draws}`);
    if (!(Number.isInteger(retainedChains) && retainedChains >= 0 && retainedChains <= this.chains)) {
      throw new RangeError(`retainedChains must be an integer in 0..${this.chains}, got ${retainedChains}`);
    }
    const n = retainedChains * draws;
    this.recording = {
      draws,
      retained: retainedChains,
      positions: new Float64Array(n * this.dim),
      logDensity: new Float64Array(n),
      energy: new Float64Array(n),
      acceptProb: new Float64Array(n),
      divergent: new Uint8Array(n),
      divergentPositions: [],
      divergentChain: [],
      divergentDraw: [],
    };
    this.sampling = true;
    this.drawIndex = 0;
    this.totalDivergences = 0;
    this.totalAccept = 0;
    this.sampledIterations = 0;
    this.gradientEvals = 0;
  }

  recordDraw(): void {
    const rec = this.recording;
    if (rec === null) throw new Error('recordDraw called before beginSampling');
    const t = this.drawIndex;
    if (t >= rec.draws) throw new RangeError(`recordDraw: all ${rec.draws} draws already recorded`);
    const D = this.dim;
    for (let c = 0; c < rec.retained; c++) {
      const i = c * rec.draws + t;
      rec.positions.set(this.position.subarray(c * D, (c + 1) * D), i * D);
      rec.logDensity[i] = this.logDensity[c];
      rec.energy[i] = this.energy[c];
      rec.acceptProb[i] = this.accept[c];
      rec.divergent[i] = this.divergent[c];
      if (this.divergent[c]) {
        for (let d = 0; d < D; d++) rec.divergentPositions.push(this.proposed[c * D + d]);
        rec.divergentChain.push(c);
        rec.divergentDraw.push(t);
      }
    }
    this.drawIndex++;
  }

  async sync(): Promise<number> {
    // The work so far is done (steps run synchronously): its count, read at the call.
    const divergences = this.totalDivergences;
    await this.letEventsIn();
    return divergences;
  }

  async snapshotPositions(n: number): Promise<Float64Array> {
    return this.position.slice(0, Math.min(n, this.chains) * this.dim);
  }

  /** The recording as it stands (`rec.draws` slots per chain, the divergence lists packed). */
  private recorded(): RecordedDraws {
    const rec = this.recording;
    if (rec === null) throw new Error('records asked for before beginSampling');
    return {
      retainedChains: rec.retained,
      draws: rec.draws,
      positions: rec.positions,
      logDensity: rec.logDensity,
      energy: rec.energy,
      acceptProb: rec.acceptProb,
      divergent: rec.divergent,
      divergentPositions: Float64Array.from(rec.divergentPositions),
      divergentChain: Int32Array.from(rec.divergentChain),
      divergentDraw: Int32Array.from(rec.divergentDraw),
    };
  }

  async recordedSoFar(): Promise<{ draws: RecordedDraws; n: number }> {
    const draws = this.recorded();
    await this.letEventsIn();
    return { draws, n: this.drawIndex };
  }

  async collect(): Promise<{ draws: RecordedDraws; totals: SamplingTotals }> {
    // Chain-major with the requested number of draws; if fewer were recorded, repacked.
    const draws = truncateDraws(this.recorded(), this.drawIndex, this.dim);
    const totals: SamplingTotals = {
      divergences: this.totalDivergences,
      meanAccept: this.sampledIterations > 0 ? this.totalAccept / (this.sampledIterations * this.chains) : NaN,
      gradientEvals: this.gradientEvals,
    };
    return { draws, totals };
  }

  destroy(): void {
    this.recording = null;
  }
}

/**
 * Creates the float64 CPU backend for `chains` chains of `model`, drawing its randomness
 * from Philox keyed by `seed` (see `rng.ts`), so it reproduces the WebGPU backend's draws.
 */
export const createCpuBackend: BackendFactory = async (model: HierModel, chains: number, seed: number): Promise<Backend> =>
  new CpuBackend(model, chains, seed);
