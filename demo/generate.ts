/**
 * Synthetic data like the seed study's (SEED.md): true mu and tau, theta_k ~ Normal(mu, tau),
 * and n_k observations y ~ Normal(theta_k, sigma) in each of K groups. The group sizes are
 * one fixed n, or spread log-uniformly over a range [lo, hi] (the study's unbalanced set
 * spans 1 to 1,000), so that weakly and strongly informed groups sit side by side.
 *
 * Randomness is Philox4x32-10 (`src/sampler/rng.ts`) keyed by the seed, so a generator's
 * settings (and hence a shared link) always give the same data.
 */
import type { HierData } from '../src/model/data.ts';
import { InputError } from '../src/errors.ts';
import { keyFromSeed, philox4x32, toUnit, type PhiloxKey } from '../src/sampler/rng.ts';

export interface GeneratorSettings {
  /** Groups. */
  readonly K: number;
  /** Observations per group: one count, or the range [lo, hi] (log-uniform). */
  readonly nLo: number;
  readonly nHi: number;
  readonly sigma: number;
  readonly mu: number;
  readonly tau: number;
  readonly seed: number;
}

/** The study's unbalanced design as a generator: K = 9, 1 to 1,000 per group, sigma = 10, mu = 4.5, tau = 3.5. */
export const DEFAULT_GENERATOR: GeneratorSettings = { K: 9, nLo: 1, nHi: 1000, sigma: 10, mu: 4.5, tau: 3.5, seed: 1 };

/** Most observations a generated data set may hold (the page keeps them all in memory, and plots them). */
export const MAX_GENERATED_OBSERVATIONS = 1_000_000;
/** Most groups (the page draws a funnel panel per group; the sampler takes more). */
export const MAX_GENERATED_GROUPS = 1000;

/** Philox streams of the generator: counter word 2 tells them apart. */
const STREAM_SIZE = 0;
const STREAM_THETA = 1;
const STREAM_Y = 2;

/** A standard normal from Philox words (Box–Muller on the first two words of counter (i, j, stream)). */
function normal(key: PhiloxKey, i: number, j: number, stream: number): number {
  const w = philox4x32([i, j, stream, 0x5eed], key);
  return Math.sqrt(-2 * Math.log(toUnit(w[0]))) * Math.cos(2 * Math.PI * toUnit(w[1]));
}

function uniform(key: PhiloxKey, i: number, stream: number): number {
  return toUnit(philox4x32([i, 0, stream, 0x5eed], key)[0]);
}

/** Checks the settings, naming the field at fault (the page shows the message). */
export function checkGenerator(g: GeneratorSettings): void {
  const int = (field: string, v: number, min: number, max: number) => {
    if (!Number.isInteger(v) || v < min || v > max) throw new InputError(`generator ${field}`, `must be an integer in [${min}, ${max}], got ${v}`);
  };
  int('K', g.K, 1, MAX_GENERATED_GROUPS);
  int('observations per group', g.nLo, 0, MAX_GENERATED_OBSERVATIONS);
  int('observations per group (upper end)', g.nHi, g.nLo, MAX_GENERATED_OBSERVATIONS);
  if (!(Number.isFinite(g.sigma) && g.sigma > 0)) throw new InputError('generator sigma', `must be a finite number > 0, got ${g.sigma}`);
  if (!Number.isFinite(g.mu)) throw new InputError('generator mu', `must be a finite number, got ${g.mu}`);
  if (!(Number.isFinite(g.tau) && g.tau > 0)) throw new InputError('generator tau', `must be a finite number > 0, got ${g.tau}`);
  int('seed', g.seed, 0, 2 ** 32 - 1);
}

/** Group sizes: n_k = round(exp(U(log lo', log hi'))) with lo' = max(lo, 0.5), so 0 stays possible when lo = 0. */
export function groupSizes(g: GeneratorSettings): Int32Array {
  const key = keyFromSeed(g.seed);
  const out = new Int32Array(g.K);
  if (g.nLo === g.nHi) return out.fill(g.nLo);
  const a = Math.log(Math.max(g.nLo, 0.5));
  const b = Math.log(g.nHi + 0.5);
  for (let k = 0; k < g.K; k++) out[k] = Math.min(g.nHi, Math.max(g.nLo, Math.round(Math.exp(a + (b - a) * uniform(key, k, STREAM_SIZE)))));
  return out;
}

/** Generates the data set, and the true theta_k it was drawn from. */
export function generateData(g: GeneratorSettings): { data: HierData; theta: Float64Array } {
  checkGenerator(g);
  const sizes = groupSizes(g);
  const N = sizes.reduce((a, b) => a + b, 0);
  if (N > MAX_GENERATED_OBSERVATIONS) throw new InputError('generator observations per group', `${N} observations in all exceed ${MAX_GENERATED_OBSERVATIONS}`);
  if (N === 0) throw new InputError('generator observations per group', 'every group is empty: no data');
  const key = keyFromSeed(g.seed);
  const theta = Float64Array.from({ length: g.K }, (_, k) => g.mu + g.tau * normal(key, k, 0, STREAM_THETA));
  const y = new Float64Array(N);
  const group = new Int32Array(N);
  for (let k = 0, i = 0; k < g.K; k++) {
    for (let j = 0; j < sizes[k]; j++, i++) {
      group[i] = k;
      y[i] = theta[k] + g.sigma * normal(key, k, j, STREAM_Y);
    }
  }
  return {
    data: { y, group, sigma: new Float64Array(N).fill(g.sigma), K: g.K, labels: Array.from({ length: g.K }, (_, k) => String(k)) },
    theta,
  };
}
