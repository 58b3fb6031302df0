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
