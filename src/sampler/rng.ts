/**
 * Counter-based random numbers: Philox4x32-10 (Salmon, Moraes, Dror & Shaw 2011,
 * "Parallel random numbers: as easy as 1, 2, 3", SC'11; the Random123 library).
 *
 * A counter-based generator has no state: the random words of (iteration, chain, block)
 * are a pure function of that counter and the seed's key, so the float64 CPU backend and
 * the WGSL twin in the WebGPU backend draw *bit-identical* u32 words for the same draw,
 * whatever order chains are processed in. The conventions below (counter layout, key,
 * u32 -> (0,1) map) are therefore part of the contract with the shader and must not change.
 *
 * Counter layout (c0, c1, c2, c3):
 * - momentum normals of iteration `it`, chain `ch`, block `b`:   (it, ch, b, 0)
 * - Metropolis uniform of iteration `it`, chain `ch`:            (it, ch, 0x80000000, 0), word 0
 * - initial position of start `s` (chain or superchain), block b: (0xffffffff, s, b, 0)
 *
 * Blocks: with NZ = ceil(K/4), block b < NZ holds z[4b..4b+3] in lanes 0..3, and block NZ
 * holds mu (lane 0) and log tau (lane 1); lanes 2, 3 of block NZ are unused.
 */

/** Philox4x32 round multipliers (Random123 `PHILOX_M4x32_0`, `PHILOX_M4x32_1`). */
const PHILOX_M0 = 0xd2511f53;
const PHILOX_M1 = 0xcd9e8d57;
/** Philox key schedule ("Weyl") constants: golden ratio and sqrt(3) - 1 in 0.32 fixed point (Random123 `PHILOX_W32_0/1`). */
const PHILOX_W0 = 0x9e3779b9;
const PHILOX_W1 = 0xbb67ae85;
/** Rounds of Philox4x32-10, the Random123 default ("Crush-resistant" with margin). */
export const PHILOX_ROUNDS = 10;

/** Counter word c0 of initial positions (no iteration reaches 2^32 - 1). */
export const INIT_ITERATION = 0xffffffff;
/** Initial positions are uniform on (INIT_LOW, INIT_LOW + INIT_WIDTH) = (-2, 2), Stan's default. */
export const INIT_LOW = -2;
export const INIT_WIDTH = 4;

const TWO_PI = 2 * Math.PI;
/** 2^-24 and 2^-25: `toUnit` keeps the top 24 bits, centred in their cell. */
const TWO_POW_M24 = 1 / 16777216;
const TWO_POW_M23 = 1 / 8388608;
const TWO_POW_32 = 4294967296;

/** Philox key: two u32 words. */
export type PhiloxKey = readonly [number, number];

/**
 * The key of an integer seed in [0, 2^53): (seed mod 2^32, floor(seed / 2^32)).
 * @throws RangeError when the seed is not a safe non-negative integer.
 */
export function keyFromSeed(seed: number): PhiloxKey {
  if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`seed must be an integer in [0, 2^53), got ${seed}`);
  return [seed >>> 0, Math.floor(seed / TWO_POW_32) >>> 0];
}

/**
 * High 32 bits of the exact 64-bit product of two u32 words.
 * With a = aH 2^16 + aL and b = bH 2^16 + bL every partial product is below 2^32 and
 * therefore exact in float64; carries are propagated through the middle 16-bit column.
 */
export function mulhi32(a: number, b: number): number {
  const aL = a & 0xffff;
  const aH = a >>> 16;
  const bL = b & 0xffff;
  const bH = b >>> 16;
  const ll = aL * bL;
  const lh = aL * bH;
  const hl = aH * bL;
  const mid = (ll >>> 16) + (lh & 0xffff) + (hl & 0xffff);
  return (aH * bH + (lh >>> 16) + (hl >>> 16) + (mid >>> 16)) >>> 0;
}

/**
 * Philox4x32-10 of one counter, written into `out` (4 u32 words); no allocation.
 *
 * Round (Salmon et al. 2011, sec. 3.3): with (hi0, lo0) = M0 * c0 and (hi1, lo1) = M1 * c2,
 *   c' = (hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0),
 * and the key is bumped by (W0, W1) between rounds.
 */
export function philox4x32Into(
  c0: number,
  c1: number,
  c2: number,
  c3: number,
  k0: number,
  k1: number,
  out: Uint32Array | number[],
): void {
  c0 >>>= 0;
  c1 >>>= 0;
  c2 >>>= 0;
  c3 >>>= 0;
  k0 >>>= 0;
  k1 >>>= 0;
  for (let r = 0; r < PHILOX_ROUNDS; r++) {
    if (r > 0) {
      k0 = (k0 + PHILOX_W0) >>> 0;
      k1 = (k1 + PHILOX_W1) >>> 0;
    }
    const hi0 = mulhi32(PHILOX_M0, c0);
    const lo0 = Math.imul(PHILOX_M0, c0) >>> 0;
    const hi1 = mulhi32(PHILOX_M1, c2);
    const lo1 = Math.imul(PHILOX_M1, c2) >>> 0;
    c0 = (hi1 ^ c1 ^ k0) >>> 0;
    c1 = lo1;
    c2 = (hi0 ^ c3 ^ k1) >>> 0;
    c3 = lo0;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
}

/** Philox4x32-10 of `counter` under `key` (allocating convenience form of `philox4x32Into`). */
export function philox4x32(counter: readonly [number, number, number, number], key: PhiloxKey): Uint32Array {
  const out = new Uint32Array(4);
  philox4x32Into(counter[0], counter[1], counter[2], counter[3], key[0], key[1], out);
  return out;
}

/**
 * Maps a u32 word to (0, 1): u = (x >>> 9) 2^-23 + 2^-24 = (2m + 1) 2^-24 with m the top 23
 * bits. (2m + 1) < 2^24 fits float32's significand, so the WGSL twin computes the very same
 * value; u is never 0 or 1, so log(u) in Box–Muller is finite.
 */
export function toUnit(x: number): number {
  return (x >>> 9) * TWO_POW_M23 + TWO_POW_M24;
}

/** Number of 4-lane blocks for the z coordinates, NZ = ceil(K / 4); block NZ holds (mu, log tau). */
export function numZBlocks(K: number): number {
  return Math.ceil(K / 4);
}

const scratchWords = new Uint32Array(4);

/**
 * Standard normal momentum draws of (iteration `it`, chain `ch`) for the D = G + P + K
 * coordinates q = (mu, log tau[, x], beta_0..beta_{P-1}, z_0..z_{K-1}) of a layout with
 * G = `globals` global coordinates besides the P population-level coefficients
 * (`model/layout.ts`; x a family's global), written into `out` (length >= D).
 *
 * Blocks of four as on the device (`gpu/layout.ts`): z_k takes lane k % 4 of block
 * floor(k / 4) (blocks 0..NZ-1, NZ = ceil(K/4)); beta_p lane p % 4 of block NZ + floor(p / 4)
 * (NB = ceil(P/4) blocks); mu and log tau lanes 0 and 1 of block NV = NZ + NB; x lane 0 of
 * block NV + 1. Without predictors NV = NZ.
 *
 * Block b gives w = philox((it, ch, b, 0), key), u_j = toUnit(w_j) and Box–Muller pairs
 *   n0 = r cos(2 pi u1), n1 = r sin(2 pi u1), r = sqrt(-2 ln u0),
 *   n2 = r' cos(2 pi u3), n3 = r' sin(2 pi u3), r' = sqrt(-2 ln u2)
 * (Box & Muller 1958); lane j of the block is n_j.
 */
export function momentumNormals(key: PhiloxKey, it: number, ch: number, K: number, out: Float64Array, globals = 2, P = 0): void {
  const nz = numZBlocks(K);
  const nv = nz + numZBlocks(P);
  const w = scratchWords;
  if (globals > 2) {
    // A family's global (layout coordinate 2): n0 of block NV + 1, drawn only for such models.
    philox4x32Into(it, ch, nv + 1, 0, key[0], key[1], w);
    out[2] = Math.sqrt(-2 * Math.log(toUnit(w[0]))) * Math.cos(TWO_PI * toUnit(w[1]));
  }
  const zStart = globals + P;
  for (let b = 0; b <= nv; b++) {
    philox4x32Into(it, ch, b, 0, key[0], key[1], w);
    if (b === nv) {
      const r0 = Math.sqrt(-2 * Math.log(toUnit(w[0])));
      const a0 = TWO_PI * toUnit(w[1]);
      out[0] = r0 * Math.cos(a0);
      out[1] = r0 * Math.sin(a0);
    } else if (b < nz) {
      boxMuller4(w, out, zStart + 4 * b, Math.min(4, K - 4 * b));
    } else {
      boxMuller4(w, out, globals + 4 * (b - nz), Math.min(4, P - 4 * (b - nz)));
    }
  }
}

/** The first `lanes` of the four Box–Muller normals of the words `w`, into out[at..]. */
function boxMuller4(w: Uint32Array, out: Float64Array, at: number, lanes: number): void {
  const r0 = Math.sqrt(-2 * Math.log(toUnit(w[0])));
  const a0 = TWO_PI * toUnit(w[1]);
  const r1 = Math.sqrt(-2 * Math.log(toUnit(w[2])));
  const a1 = TWO_PI * toUnit(w[3]);
  out[at] = r0 * Math.cos(a0);
  if (lanes > 1) out[at + 1] = r0 * Math.sin(a0);
  if (lanes > 2) out[at + 2] = r1 * Math.cos(a1);
  if (lanes > 3) out[at + 3] = r1 * Math.sin(a1);
}

/**
 * Uniform in (0, 1) of the Metropolis test of (iteration `it`, chain `ch`) for K groups and P
 * predictors: word 2 of the (mu, log tau) momentum block NV = ceil(K/4) + ceil(P/4),
 * toUnit(philox((it, ch, NV, 0))[2]), a word that block's Box–Muller pair leaves unused (one
 * Philox call fewer per transition).
 */
export function metropolisUniform(key: PhiloxKey, it: number, ch: number, K: number, P = 0): number {
  philox4x32Into(it, ch, numZBlocks(K) + numZBlocks(P), 0, key[0], key[1], scratchWords);
  return toUnit(scratchWords[2]);
}

/**
 * Initial positions, uniform on (-2, 2) in every unconstrained coordinate (Stan's default),
 * chain-major (chain c, coordinate d at c * D + d, D = `globals` + P + K; the globals take
 * lanes 0.. of block NV = NZ + ceil(P/4), a family's global lane 2; beta_p lane p % 4 of
 * block NZ + floor(p / 4); as `momentumNormals`).
 *
 * Coordinate (block b, lane l) of start s gets -2 + 4 toUnit(philox((2^32 - 1, s, b, 0))[l]),
 * where s is the chain index, or with `superchains` = S (dividing `chains`) the superchain
 * floor(c / (chains / S)): chains of one superchain share their start, as nested R-hat
 * (Margossian et al. 2024) requires.
 */
export function initialPositions(key: PhiloxKey, chains: number, K: number, superchains?: number, globals = 2, P = 0): Float64Array {
  const D = K + globals + P;
  const nz = numZBlocks(K);
  const nv = nz + numZBlocks(P);
  const perStart = superchains === undefined ? 1 : chains / superchains;
  if (superchains !== undefined && !(Number.isInteger(perStart) && superchains >= 1)) {
    throw new RangeError(`superchains (${superchains}) must divide chains (${chains})`);
  }
  const out = new Float64Array(chains * D);
  const w = new Uint32Array(4);
  const unif = (lane: number) => INIT_LOW + INIT_WIDTH * toUnit(w[lane]);
  for (let c = 0; c < chains; c++) {
    const start = Math.floor(c / perStart);
    const row = c * D;
    for (let b = 0; b <= nv; b++) {
      philox4x32Into(INIT_ITERATION, start, b, 0, key[0], key[1], w);
      if (b === nv) {
        for (let g = 0; g < globals; g++) out[row + g] = unif(g);
      } else if (b < nz) {
        const lanes = Math.min(4, K - 4 * b);
        for (let l = 0; l < lanes; l++) out[row + globals + P + 4 * b + l] = unif(l);
      } else {
        const lanes = Math.min(4, P - 4 * (b - nz));
        for (let l = 0; l < lanes; l++) out[row + globals + 4 * (b - nz) + l] = unif(l);
      }
    }
  }
  return out;
}

/**
 * Uniforms in (0, 1) from xorshift32 (Marsaglia 2003, shifts 13, 17, 5), (x + 1/2) / 2^32:
 * a small deterministic stream for figures, benchmarks and tests, not the sampler's
 * randomness (that is Philox, above). A seed of 0 is taken as 1 (xorshift's fixed point).
 */
export function xorshift32Uniforms(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return (x + 0.5) / 4294967296;
  };
}
