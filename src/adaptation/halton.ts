/**
 * Quasi-random jitter of the ChEES trajectory length: the base-2 Halton (van der Corput)
 * sequence, as TFP's `_halton_sequence` and BlackJAX's `dynamic_hmc.halton_sequence` compute
 * it. Low-discrepancy jitter spreads the trajectory lengths of consecutive iterations evenly
 * over (0, T], which the ChEES paper found more stable than uniform noise
 * (Hoffman, Radul & Sountsov 2021, sec. 3.2).
 */

/**
 * Bits of the sequence index that are used: 10 gives 1024 distinct lengths
 * (TFP `MAX_HALTON_SEQUENCE_BITS = 10`; BlackJAX uses ceil(log2(warmup + sampling steps))).
 */
export const MAX_HALTON_BITS = 10;

/** Default jitter amount a: the length is drawn from ((1 - a) T, T] (TFP and BlackJAX default 1). */
export const DEFAULT_JITTER_AMOUNT = 1;

/**
 * The i-th element (i = 0, 1, 2, ...) of the base-2 Halton sequence, BlackJAX's
 * `halton_sequence(i, max_bits)`: the bits of n = i + 1 reflected about the binary point,
 *
 *   h(i) = sum_{j < maxBits} bit_j(i + 1) 2^{-(j+1)},
 *
 * so h(0) = 1/2, h(1) = 1/4, h(2) = 3/4, h(3) = 1/8, ... Only the low `maxBits` bits of
 * i + 1 count, so h = 0 when i + 1 is a multiple of 2^maxBits.
 */
export function haltonSequence(i: number, maxBits: number = MAX_HALTON_BITS): number {
  let n = i + 1;
  let value = 0;
  let weight = 0.5;
  for (let j = 0; j < maxBits && n > 0; j++) {
    if (n % 2 === 1) value += weight;
    n = Math.floor(n / 2);
    weight *= 0.5;
  }
  return value;
}

/**
 * Jitter u of iteration i (0-based, warmup and sampling counted together):
 *   u = (1 - a) + a h(i),
 * TFP's `trajectory_jitter * jitter_amount + (1 - jitter_amount)`, and BlackJAX's `jitter_gn`.
 * The iteration then integrates for u T (see `numLeapfrogSteps` in `chees.ts`).
 */
export function trajectoryJitter(i: number, jitterAmount: number = DEFAULT_JITTER_AMOUNT, maxBits: number = MAX_HALTON_BITS): number {
  return (1 - jitterAmount) + jitterAmount * haltonSequence(i, maxBits);
}

/** Bits BlackJAX uses for a run of `totalIterations` (warmup + sampling): ceil(log2(total)), at least 1. */
export function haltonBitsFor(totalIterations: number): number {
  return Math.max(1, Math.ceil(Math.log2(Math.max(2, totalIterations))));
}
