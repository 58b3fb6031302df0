import type { HierData } from '../src/model/data.ts';
import { mulberry32 } from '../src/gpu/kernel_check.ts';
import { boxMuller, simulateGroups } from './bench/synthetic.ts';

/** Largest group of `wideData`: group sizes run from 1 to this many observations. */
export const WIDE_MAX_GROUP = 1000;

/**
 * A wide, unbalanced data set for `--param auto` (deterministic): K groups whose sizes
 * n_k = round(1000^u_k), u_k ~ Uniform(0, 1) (log-uniform from 1 to 1,000 observations; the
 * first group has 1 and the second 1,000 so that both ends are always present), drawn as the
 * study drew its data: mu = 4.5, tau = 3.5, theta_k ~ Normal(mu, tau),
 * y ~ Normal(theta_k, sigma = 10). Normals by Box–Muller from mulberry32(seed).
 */
export function wideData(K: number, seed = 13): HierData {
  const rng = mulberry32(seed);
  const n = Array.from({ length: K }, (_, k) => (k === 0 ? 1 : k === 1 ? WIDE_MAX_GROUP : Math.round(WIDE_MAX_GROUP ** rng())));
  return simulateGroups(n, 4.5, 3.5, 10, boxMuller(rng));
}
