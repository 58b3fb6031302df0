/**
 * Synthetic data of any registered likelihood family (src/model/families), made from the
 * family's own contract so that a new family is covered without an edit here:
 *
 *   theta_k ~ Normal(mu, tau),  k = 0..K-1;
 *   every column of the family (ColumnSpec) at its `example` value;
 *   y_i = family.predict(data, i, theta[g_i], rng): one draw of the observation model.
 *
 * The column named `sigma` is HierData's own `sigma` field (the normal family's known sd);
 * every other column goes to `columns`. Randomness: xorshift32 uniforms from `seed`, normals
 * by Box–Muller, so the same arguments give the same data.
 */
import type { HierData } from '../src/model/data.ts';
import type { Family, Variates } from '../src/model/family.ts';
import { DEFAULT_FAMILY, familyOf } from '../src/model/families/index.ts';
import { xorshift32Uniforms } from '../src/sampler/rng.ts';

export interface FamilyDataOptions {
  /** Observations per group (default: 1 + (k mod 3), as test/bench/synthetic.ts). */
  readonly sizes?: readonly number[];
  /** Hyperparameters the thetas are drawn from (default 0 and 1: theta on the link scale). */
  readonly mu?: number;
  readonly tau?: number;
  readonly seed?: number;
}

/**
 * Uniforms from xorshift32 and standard normals by Box–Muller (the cosine branch). The seed is
 * spread by a multiplicative hash (Knuth's 2^32 / phi) and the first outputs dropped: from a
 * small seed xorshift's first uniforms are near 0 (seed 1 gives 6e-5, a 4.4-sd normal).
 */
export function seededVariates(seed: number): Variates {
  const uniform = xorshift32Uniforms(Math.imul(seed >>> 0 || 1, 0x9e3779b9));
  for (let i = 0; i < 8; i++) uniform();
  return {
    uniform,
    normal: () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform()),
  };
}

/** K groups of `family`'s data, with the thetas they were drawn from. */
export function familyData(family: Family | string, K: number, o: FamilyDataOptions = {}): { data: HierData; theta: Float64Array } {
  const fam = typeof family === 'string' ? familyOf(family) : family;
  const sizes = o.sizes ?? Array.from({ length: K }, (_, k) => 1 + (k % 3));
  if (sizes.length !== K) throw new Error(`familyData: ${sizes.length} group sizes for K = ${K}`);
  const rng = seededVariates(o.seed ?? 1);
  const mu = o.mu ?? 0;
  const tau = o.tau ?? 1;
  const theta = Float64Array.from({ length: K }, () => mu + tau * rng.normal());
  const group = Int32Array.from(sizes.flatMap((n, k) => Array<number>(n).fill(k)));
  const N = group.length;
  const cols: Record<string, Float64Array> = {};
  for (const c of fam.columns) cols[c.name] = new Float64Array(N).fill(c.example);
  const { sigma = new Float64Array(0), ...columns } = cols;
  const y = new Float64Array(N);
  const data: HierData = {
    // The default family's data carry no `likelihood`, as a seed-format file's do.
    ...(fam !== DEFAULT_FAMILY && { likelihood: fam.id }),
    y,
    group,
    sigma,
    ...(Object.keys(columns).length > 0 && { columns }),
    K,
    labels: Array.from({ length: K }, (_, k) => String(k)),
  };
  for (let i = 0; i < N; i++) y[i] = fam.predict(data, i, theta[group[i]], rng);
  return { data, theta };
}
