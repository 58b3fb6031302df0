/**
 * Synthetic hierarchical data of any width for benchmarks and width tests: K groups with
 * 1 + (k mod 3) observations each, y ~ Normal(theta_k, sigma), theta_k ~ Normal(1, 2),
 * sigma = 5 (a deterministic mulberry32 stream, so the same K gives the same data).
 */
import type { HierData } from '../../src/model/data.ts';
import { mulberry32 } from '../../src/gpu/kernel_check.ts';

export function syntheticData(K: number, seed = 1): HierData {
  const rand = mulberry32(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const y: number[] = [];
  const group: number[] = [];
  for (let k = 0; k < K; k++) {
    const theta = 1 + 2 * normal();
    for (let i = 0; i <= k % 3; i++) {
      y.push(theta + 5 * normal());
      group.push(k);
    }
  }
  return {
    y: Float64Array.from(y),
    group: Int32Array.from(group),
    sigma: new Float64Array(y.length).fill(5),
    K,
    labels: Array.from({ length: K }, (_, k) => String(k)),
  };
}
