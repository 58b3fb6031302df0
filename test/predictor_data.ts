import type { HierData } from '../src/model/data.ts';
import type { Family } from '../src/model/family.ts';
import { mulberry32 } from '../src/gpu/kernel_check.ts';

/** A standard normal from two uniforms (Box–Muller, cosine branch). */
export function normal(u: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
}

/** A data set of `family` with K groups (sizes 0..5, group 1 empty), P predictors, varying within groups or not. */
export function predictorDataset(family: Family, K: number, P: number, varying: boolean, seed: number): HierData {
  const u = mulberry32(seed);
  const group: number[] = [];
  for (let k = 0; k < K; k++) {
    const n = k === 1 ? 0 : 1 + Math.floor(u() * 5);
    for (let j = 0; j < n; j++) group.push(k);
  }
  const N = group.length;
  const groupRow = Array.from({ length: K }, () => Array.from({ length: P }, () => normal(u)));
  const X = new Float64Array(N * P);
  for (let i = 0; i < N; i++) for (let p = 0; p < P; p++) X[i * P + p] = varying ? (p === 0 ? normal(u) : Math.round(u())) : groupRow[group[i]][p];
  const y = new Float64Array(N);
  const cols: Record<string, Float64Array> = {};
  for (const c of family.columns) cols[c.name] = Float64Array.from({ length: N }, () => (c.integer ? 1 + Math.floor(u() * 30) : 0.5 + u()));
  for (let i = 0; i < N; i++) {
    if (family.id === 'binomial') y[i] = Math.floor(u() * (cols.trials[i] + 1));
    else if (family.id === 'poisson') y[i] = Math.floor(u() * 12);
    else y[i] = 1 + 2 * normal(u);
  }
  return {
    ...(family.id !== 'normal' ? { likelihood: family.id } : {}),
    y,
    group: Int32Array.from(group),
    sigma: cols.sigma ?? new Float64Array(0),
    ...(Object.keys(cols).some((c) => c !== 'sigma') ? { columns: Object.fromEntries(Object.entries(cols).filter(([c]) => c !== 'sigma')) } : {}),
    K,
    labels: Array.from({ length: K }, (_, k) => `g${k}`),
    predictors: { names: Array.from({ length: P }, (_, p) => `x${p}`), X },
  };
}

