/**
 * Synthetic hierarchical data of any width for benchmarks and width tests: K groups with
 * 1 + (k mod 3) observations each, y ~ Normal(theta_k, sigma), theta_k ~ Normal(1, 2),
 * sigma = 5 (a deterministic mulberry32 stream, so the same K gives the same data).
 */
import { readFileSync } from 'node:fs';
import type { HierData } from '../../src/model/data.ts';
import { mulberry32 } from '../../src/gpu/kernel_check.ts';

export function syntheticData(K: number, seed = 1): HierData {
  const rand = mulberry32(seed);
  return simulateGroups(Array.from({ length: K }, (_, k) => 1 + (k % 3)), 1, 2, 5, boxMuller(rand));
}

/** Standard normals by Box–Muller (the cosine branch) from uniforms in [0, 1). */
export function boxMuller(rand: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

/**
 * Data of the model with `sizes[k]` observations in group k: for each group in turn,
 * theta_k = mu + tau * normal(), then its y = theta_k + sigma * normal(); sigma known.
 */
export function simulateGroups(sizes: readonly number[], mu: number, tau: number, sigma: number, normal: () => number): HierData {
  const K = sizes.length;
  const y: number[] = [];
  const group: number[] = [];
  for (let k = 0; k < K; k++) {
    const theta = mu + tau * normal();
    for (let i = 0; i < sizes[k]; i++) {
      y.push(theta + sigma * normal());
      group.push(k);
    }
  }
  return {
    y: Float64Array.from(y),
    group: Int32Array.from(group),
    sigma: new Float64Array(y.length).fill(sigma),
    K,
    labels: Array.from({ length: K }, (_, k) => String(k)),
  };
}

/**
 * This process's peak resident memory in MB: VmHWM from /proc/self/status (Linux), the high
 * water mark of the process's own address space. `process.resourceUsage().maxRSS` is not
 * that for a spawned child: Linux carries the parent's peak at the fork across the exec
 * into it, so a probe spawned by a large bench process reported the bench's 1.1 GB.
 */
export function peakRssMb(): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) / 1024;
  } catch {
    // not Linux: fall through
  }
  return process.resourceUsage().maxRSS / 1024;
}

/**
 * Poisson data with `P` predictors that vary within groups, N observations spread evenly
 * over K groups: x_i0 ~ Normal(0, 1), the others Bernoulli(1/2); theta_k ~ Normal(1, 0.5);
 * beta_p = 0.3 / (p + 1); y_i ~ Poisson(exp(theta[g_i] + x_i·beta)). The observation path
 * of the predictors kernel (O(N·P) per gradient) is what reads them.
 */
export function syntheticPoissonPredictors(N: number, K: number, P: number, seed = 1): HierData {
  const rand = mulberry32(seed);
  const normal = boxMuller(rand);
  const theta = Array.from({ length: K }, () => 1 + 0.5 * normal());
  const group = new Int32Array(N);
  const X = new Float64Array(N * P);
  const y = new Float64Array(N);
  for (let i = 0; i < N; i++) {
    const k = i % K;
    group[i] = k;
    let eta = theta[k];
    for (let p = 0; p < P; p++) {
      const x = p === 0 ? normal() : rand() < 0.5 ? 1 : 0;
      X[i * P + p] = x;
      eta += (0.3 / (p + 1)) * x;
    }
    // Poisson by inversion (the rates here are small).
    const lambda = Math.exp(eta);
    let n = 0;
    let q = Math.exp(-lambda);
    let c = q;
    const u = rand();
    while (u > c && n < 1000) {
      n++;
      q *= lambda / n;
      c += q;
    }
    y[i] = n;
  }
  return {
    likelihood: 'poisson',
    y,
    group,
    sigma: new Float64Array(0),
    columns: { exposure: new Float64Array(N).fill(1) },
    K,
    labels: Array.from({ length: K }, (_, k) => String(k)),
    predictors: { names: Array.from({ length: P }, (_, p) => `x${p}`), X },
  };
}
