/**
 * Sampler-level diagnostics: E-BFMI from the energy trace, divergences, acceptance.
 */
import { type DrawsArray, checkShape } from './validate.ts';

/** E-BFMI below this suggests the momentum resampling explores the energy poorly (Betancourt 2016; Stan). */
export const EBFMI_THRESHOLD = 0.3;

/**
 * Estimated Bayesian fraction of missing information per chain (Betancourt 2016,
 * "Diagnosing suboptimal cotangent disintegrations in Hamiltonian Monte Carlo", eq. 3;
 * Stan's `check_energy`):
 *   E-BFMI_c = sum_{t>=1} (E_{c,t} - E_{c,t-1})^2 / sum_t (E_{c,t} - mean_t E_{c,t})^2.
 * NaN for chains with fewer than 2 draws, constant or non-finite energy.
 */
export function ebfmi(energy: DrawsArray, chains: number, draws: number): Float64Array {
  checkShape(energy, chains, draws);
  const out = new Float64Array(chains);
  for (let c = 0; c < chains; c++) {
    const off = c * draws;
    if (draws < 2) {
      out[c] = NaN;
      continue;
    }
    let s = 0;
    for (let t = 0; t < draws; t++) s += energy[off + t];
    const m = s / draws;
    let num = 0;
    let den = 0;
    for (let t = 0; t < draws; t++) {
      const d = energy[off + t] - m;
      den += d * d;
      if (t > 0) {
        const dd = energy[off + t] - energy[off + t - 1];
        num += dd * dd;
      }
    }
    out[c] = den > 0 && Number.isFinite(num) && Number.isFinite(den) ? num / den : NaN;
  }
  return out;
}

/** Divergent transitions (flags 0/1, chain-major) per chain and in total. */
export function divergences(
  divergent: Uint8Array,
  chains: number,
  draws: number,
): { total: number; perChain: Int32Array } {
  checkShape(divergent, chains, draws);
  const perChain = new Int32Array(chains);
  let total = 0;
  for (let c = 0; c < chains; c++) {
    let k = 0;
    for (let t = 0; t < draws; t++) if (divergent[c * draws + t] !== 0) k++;
    perChain[c] = k;
    total += k;
  }
  return { total, perChain };
}

/** Average acceptance probability over all chains and draws (NaN when empty or non-finite). */
export function acceptanceRate(acceptProb: ArrayLike<number>): number {
  if (acceptProb.length === 0) return NaN;
  let s = 0;
  for (let i = 0; i < acceptProb.length; i++) s += acceptProb[i];
  return s / acceptProb.length;
}
