/**
 * Radix-2 fast Fourier transform and the FFT-based autocovariance of many chains.
 *
 * The autocovariance is computed the way `posterior::autocovariance` (and ArviZ's
 * `autocov`) do it: centre the chain, zero-pad it to M >= 2N, take |FFT|^2 and transform
 * back (Wiener–Khinchin). Zero padding to at least 2N - 1 makes the circular correlation
 * equal to the linear one, so any such M gives the same numbers up to rounding; R pads to
 * 2 * nextn(N), FunnelWeb to the next power of two.
 *
 * For many chains only the *sum* over chains of the autocovariance is needed (the
 * multi-chain ESS of Vehtari et al. 2021 averages per-chain autocovariances), and the
 * inverse transform is linear, so `chainAutocovarianceMean` sums power spectra and
 * does a single inverse transform. Two real chains share one complex transform
 * (a + ib), and |A_f|^2 + |B_f|^2 = (|Z_f|^2 + |Z_{M-f}|^2) / 2 recovers their spectra.
 * The forward transforms are decimation-in-frequency without the bit-reversal
 * permutation: the spectra are summed in bit-reversed order and reordered once.
 */

/** Smallest power of two >= n (n >= 1). */
export function nextPow2(n: number): number {
  let m = 1;
  while (m < n) m *= 2;
  return m;
}

interface FftPlan {
  readonly size: number;
  /** cos(2*pi*k/size), sin(2*pi*k/size) for k < size/2. */
  readonly cos: Float64Array;
  readonly sin: Float64Array;
  /** Bit-reversal permutation of 0..size-1. */
  readonly bitrev: Uint32Array;
}

const plans = new Map<number, FftPlan>();

function plan(size: number): FftPlan {
  let p = plans.get(size);
  if (p) return p;
  if (size < 1 || (size & (size - 1)) !== 0) throw new RangeError(`FFT size must be a power of two, got ${size}`);
  const half = size >> 1;
  const cos = new Float64Array(Math.max(half, 1));
  const sin = new Float64Array(Math.max(half, 1));
  for (let k = 0; k < half; k++) {
    const a = (2 * Math.PI * k) / size;
    cos[k] = Math.cos(a);
    sin[k] = Math.sin(a);
  }
  const bits = Math.round(Math.log2(size));
  const bitrev = new Uint32Array(size);
  for (let i = 0; i < size; i++) {
    let r = 0;
    for (let b = 0, v = i; b < bits; b++, v >>= 1) r = (r << 1) | (v & 1);
    bitrev[i] = r;
  }
  p = { size, cos, sin, bitrev };
  plans.set(size, p);
  return p;
}

/**
 * Decimation-in-frequency stages from block size `first` down to 2, in place, natural
 * order in, bit-reversed order out, forward sign (e^{-2 pi i f t / M}).
 */
function difStages(re: Float64Array, im: Float64Array, p: FftPlan, first: number): void {
  const M = p.size;
  const cs = p.cos;
  const sn = p.sin;
  for (let size = first; size >= 4; size >>= 1) {
    const half = size >> 1;
    const step = M / size;
    for (let start = 0; start < M; start += size) {
      for (let j = 0, tw = 0; j < half; j++, tw += step) {
        const a = start + j;
        const b = a + half;
        const ar = re[a];
        const ai = im[a];
        const br = re[b];
        const bi = im[b];
        re[a] = ar + br;
        im[a] = ai + bi;
        const dr = ar - br;
        const di = ai - bi;
        const c = cs[tw];
        const s = sn[tw];
        // (dr + i di) * (c - i s)
        re[b] = dr * c + di * s;
        im[b] = di * c - dr * s;
      }
    }
  }
  if (first >= 2) {
    for (let a = 0; a < M; a += 2) {
      const ar = re[a];
      const ai = im[a];
      const br = re[a + 1];
      const bi = im[a + 1];
      re[a] = ar + br;
      im[a] = ai + bi;
      re[a + 1] = ar - br;
      im[a + 1] = ai - bi;
    }
  }
}

/**
 * In-place complex discrete Fourier transform of (re, im), natural order in and out:
 *   X_f = sum_t x_t e^{-2 pi i f t / M}        (forward)
 *   x_t = (1/M) sum_f X_f e^{+2 pi i f t / M}  (inverse = true, scaled by 1/M)
 * M = re.length must be a power of two (Cooley & Tukey 1965, radix 2).
 */
export function fft(re: Float64Array, im: Float64Array, inverse = false): void {
  const M = re.length;
  if (im.length !== M) throw new RangeError('fft: re and im must have the same length');
  if (M <= 1) return;
  const p = plan(M);
  // The inverse transform is the forward transform of the conjugate, conjugated.
  if (inverse) for (let i = 0; i < M; i++) im[i] = -im[i];
  difStages(re, im, p, M);
  const br = p.bitrev;
  for (let i = 0; i < M; i++) {
    const j = br[i];
    if (j > i) {
      const tr = re[i];
      re[i] = re[j];
      re[j] = tr;
      const ti = im[i];
      im[i] = im[j];
      im[j] = ti;
    }
  }
  if (inverse) {
    const s = 1 / M;
    for (let i = 0; i < M; i++) {
      re[i] *= s;
      im[i] = -im[i] * s;
    }
  }
}

/** Reusable scratch for `chainAutocovarianceMean` (one per transform size). */
interface AcovScratch {
  re: Float64Array;
  im: Float64Array;
  power: Float64Array;
  ya: Float64Array;
  yb: Float64Array;
}
const scratches = new Map<number, AcovScratch>();

function scratch(M: number, n: number): AcovScratch {
  let s = scratches.get(M);
  if (!s || s.ya.length < n) {
    s = {
      re: new Float64Array(M),
      im: new Float64Array(M),
      power: new Float64Array(M),
      ya: new Float64Array(Math.max(n, M >> 1)),
      yb: new Float64Array(Math.max(n, M >> 1)),
    };
    scratches.set(M, s);
  }
  return s;
}

/** Mean of a chain with R's second-pass correction (as `mean.default` does). */
function chainMean(x: ArrayLike<number>, off: number, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += x[off + i];
  let m = s / n;
  let c = 0;
  for (let i = 0; i < n; i++) c += x[off + i] - m;
  m += c / n;
  return m;
}

/** Centres chain (off, n) into y; a constant chain gives exact zeros (R returns rep(0, N)). */
function centre(x: ArrayLike<number>, off: number, n: number, y: Float64Array): void {
  const x0 = x[off];
  let constant = true;
  for (let i = 1; i < n; i++) {
    if (x[off + i] !== x0) {
      constant = false;
      break;
    }
  }
  if (constant) {
    y.fill(0, 0, n);
    return;
  }
  const m = chainMean(x, off, n);
  for (let i = 0; i < n; i++) y[i] = x[off + i] - m;
}

/**
 * Mean over chains of the biased autocovariance of each chain,
 *   out[k] = (1/C) sum_c (1/N) sum_{t < N-k} (x_{c,t} - xbar_c)(x_{c,t+k} - xbar_c),  k < N,
 * which is `rowMeans(apply(x, 2, posterior:::autocovariance))`. Chain-major input:
 * element (c, t) at c*N + t. `out` has length >= N.
 */
export function chainAutocovarianceMean(
  x: ArrayLike<number>,
  chains: number,
  n: number,
  out: Float64Array = new Float64Array(n),
): Float64Array {
  if (n < 1 || chains < 1) return out;
  const M = Math.max(2, nextPow2(2 * n));
  const half = M >> 1;
  const p = plan(M);
  const s = scratch(M, n);
  const { re, im, power, ya, yb } = s;
  const cs = p.cos;
  const sn = p.sin;
  power.fill(0);
  for (let c = 0; c < chains; c += 2) {
    centre(x, c * n, n, ya);
    if (c + 1 < chains) centre(x, (c + 1) * n, n, yb);
    else yb.fill(0, 0, n);
    // First DIF stage with the zero upper half folded into the load:
    // z[j] = a_j + 0, z[j + M/2] = a_j * w^j.
    for (let j = 0; j < n; j++) {
      const a = ya[j];
      const b = yb[j];
      re[j] = a;
      im[j] = b;
      const co = cs[j];
      const si = sn[j];
      re[j + half] = a * co + b * si;
      im[j + half] = b * co - a * si;
    }
    for (let j = n; j < half; j++) {
      re[j] = 0;
      im[j] = 0;
      re[j + half] = 0;
      im[j + half] = 0;
    }
    difStages(re, im, p, half);
    for (let f = 0; f < M; f++) power[f] += re[f] * re[f] + im[f] * im[f];
  }
  // Reorder to natural frequency order and split the packed pairs' spectra.
  const br = p.bitrev;
  for (let f = 0; f < M; f++) re[f] = power[br[f]];
  im[0] = re[0];
  for (let f = 1; f < M; f++) im[f] = 0.5 * (re[f] + re[M - f]);
  for (let f = 1; f < M; f++) re[f] = im[f];
  im.fill(0);
  // The summed spectrum is real and even: its inverse transform is real.
  fft(re, im, true);
  const scale = 1 / (n * chains);
  for (let k = 0; k < n; k++) out[k] = re[k] * scale;
  return out;
}

/**
 * Biased autocovariance of one chain, `posterior::autocovariance`:
 *   acov[k] = (1/N) sum_{t < N-k} (x_t - xbar)(x_{t+k} - xbar),
 * all zeros for a constant chain. FFT-based, O(N log N).
 */
export function autocovariance(x: ArrayLike<number>): Float64Array {
  return chainAutocovarianceMean(x, 1, x.length);
}
