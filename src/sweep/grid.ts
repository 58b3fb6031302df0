/**
 * The data of a parameterization sweep: points of a grid of generated data sets (groups K,
 * observations per group n, observation sd sigma, true tau, true mu) or data files. A grid
 * point's data are a function of its values and the seed alone, the same in any grid.
 */
import { InputError, clip } from '../errors.ts';
import type { HierData } from '../model/data.ts';
import { MAX_GROUPS } from '../model/data.ts';
import { PredictiveVariates } from '../io/inference_data.ts';
import { keyFromSeed } from '../sampler/rng.ts';

/** A generated data set: K groups of n observations y ~ Normal(theta_k, sigma), theta_k ~ Normal(mu, tau). */
export interface GridPoint {
  readonly K: number;
  readonly n: number;
  readonly sigma: number;
  readonly tau: number;
  readonly mu: number;
}

/** The grid's keys, their bounds and defaults (a key left out takes its default). */
const KEYS: Record<keyof GridPoint, { integer: boolean; min: number; exclusive: boolean; dflt: number }> = {
  K: { integer: true, min: 1, exclusive: false, dflt: 8 },
  n: { integer: true, min: 1, exclusive: false, dflt: 1 },
  sigma: { integer: false, min: 0, exclusive: true, dflt: 1 },
  tau: { integer: false, min: 0, exclusive: true, dflt: 1 },
  mu: { integer: false, min: -Infinity, exclusive: false, dflt: 0 },
};
/** Most observations a generated data set may have. */
export const MAX_GRID_OBSERVATIONS = 10_000_000;
/** Most points a grid may have. */
export const MAX_GRID_POINTS = 10_000;

/** Parses `--grid 'K=8,64,512;n=1,10,100;sigma=1,10;tau=1'` into its points (the product, K slowest). */
export function parseGrid(text: string, flag = '--grid'): GridPoint[] {
  const values: Partial<Record<keyof GridPoint, number[]>> = {};
  for (const part of text.split(';').map((p) => p.trim()).filter((p) => p !== '')) {
    const eq = part.indexOf('=');
    if (eq < 0) throw new InputError(flag, `'${clip(part)}' is not KEY=V,V,... (keys: ${Object.keys(KEYS).join(', ')})`);
    const key = part.slice(0, eq).trim() as keyof GridPoint;
    const spec = KEYS[key];
    if (!spec) throw new InputError(flag, `unknown key '${clip(key)}' (keys: ${Object.keys(KEYS).join(', ')})`);
    if (values[key]) throw new InputError(flag, `${key} is given twice`);
    values[key] = part
      .slice(eq + 1)
      .split(',')
      .map((t) => {
        const v = Number(t.trim());
        const ok = t.trim() !== '' && Number.isFinite(v) && (!spec.integer || Number.isInteger(v)) && (spec.exclusive ? v > spec.min : v >= spec.min);
        if (!ok) throw new InputError(flag, `${key}: '${clip(t)}' is not ${spec.integer ? 'an integer' : 'a number'} ${spec.exclusive ? '>' : '>='} ${spec.min}`);
        return v;
      });
  }
  if (Object.keys(values).length === 0) throw new InputError(flag, 'is empty');
  let points: GridPoint[] = [{ K: KEYS.K.dflt, n: KEYS.n.dflt, sigma: KEYS.sigma.dflt, tau: KEYS.tau.dflt, mu: KEYS.mu.dflt }];
  for (const key of Object.keys(KEYS) as (keyof GridPoint)[]) {
    const vs = values[key];
    if (!vs) continue;
    points = points.flatMap((p) => vs.map((v) => ({ ...p, [key]: v })));
    if (points.length > MAX_GRID_POINTS) throw new InputError(flag, `has more than ${MAX_GRID_POINTS} points`);
  }
  for (const p of points) {
    if (p.K > MAX_GROUPS) throw new InputError(flag, `K = ${p.K} is over ${MAX_GROUPS} groups`);
    if (p.K * p.n > MAX_GRID_OBSERVATIONS) throw new InputError(flag, `K = ${p.K} x n = ${p.n} is over ${MAX_GRID_OBSERVATIONS} observations`);
  }
  return points;
}

/** A grid point's name, e.g. `K=8,n=10,sigma=1,tau=1,mu=0`. */
export function pointName(p: GridPoint): string {
  return `K=${p.K},n=${p.n},sigma=${p.sigma},tau=${p.tau},mu=${p.mu}`;
}

/** FNV-1a of a string: the stream of a grid point's variates. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/**
 * A grid point's data set: theta_k = mu + tau z_k and y = theta_k + sigma e, z and e standard
 * normals from Philox stream (fnv1a(pointName), 1) keyed by the seed. Groups are labelled 0..K-1.
 */
export function generate(p: GridPoint, seed: number): { data: HierData; theta: Float64Array } {
  const rng = new PredictiveVariates(keyFromSeed(seed));
  rng.start(fnv1a(pointName(p)), 1);
  const theta = Float64Array.from({ length: p.K }, () => p.mu + p.tau * rng.normal());
  const N = p.K * p.n;
  const y = new Float64Array(N);
  const group = new Int32Array(N);
  for (let k = 0; k < p.K; k++) {
    for (let i = 0; i < p.n; i++) {
      group[k * p.n + i] = k;
      y[k * p.n + i] = theta[k] + p.sigma * rng.normal();
    }
  }
  return { data: { y, group, sigma: new Float64Array(N).fill(p.sigma), K: p.K, labels: Array.from({ length: p.K }, (_, k) => String(k)) }, theta };
}

/** How strongly the data inform each group: the sd of a group mean against tau, sigma / (sqrt(n) tau) (above 1: weakly informed, the centered funnel; below: strongly, non-centered's). */
export function informativeness(p: GridPoint): number {
  return p.sigma / (Math.sqrt(p.n) * p.tau);
}
