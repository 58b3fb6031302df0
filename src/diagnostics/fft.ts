/**
 * Fast Fourier transform (power-of-two sizes, radix-4 decimation in frequency with a
 * final radix-2 stage when needed) and the FFT-based autocovariance of many chains.
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
 * permutation: the spectra are summed in bit-reversed order and reordered once; the
 * first stage (upper half zero) is folded into the load and the last into the sum of
 * |X_f|^2.
 */

/** Smallest power of two >= n (n >= 1). */
export function nextPow2(n: number): number {
  let m = 1;
  while (m < n) m *= 2;
  return m;
}

interface FftPlan {
  readonly size: number;
  /** cos(2*pi*k/size), sin(2*pi*k/size) for k < size (radix-4 needs k up to 3*size/4). */
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
  const cos = new Float64Array(size);
  const sin = new Float64Array(size);
  for (let k = 0; k < size; k++) {
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
 * Decimation-in-frequency stages for block sizes `first`, first/4, ... (radix 4, each
 * equal to two radix-2 stages), then one radix-2 stage if log2(first) is odd. In place,
 * natural order in, bit-reversed order out, forward sign (e^{-2 pi i f t / M}).
 * With `power`, the last stage adds |X_f|^2 into power[f] instead of storing X_f.
 */
function difStages(re: Float64Array, im: Float64Array, p: FftPlan, first: number, power: Float64Array | null): void {
  const M = p.size;
  const cs = p.cos;
  const sn = p.sin;
  let size = first;
  for (; size >= 8; size >>= 2) {
    const q = size >> 2;
    const step = M / size;
    for (let j = 0; j < q; j++) {
      const k1 = j * step;
      const c1 = cs[k1];
      const s1 = sn[k1];
      const c2 = cs[2 * k1];
      const s2 = sn[2 * k1];
      const c3 = cs[3 * k1];
      const s3 = sn[3 * k1];
      for (let a = j; a < M; a += size) {
        const b = a + q;
        const c = b + q;
        const d = c + q;
        const a0r = re[a];
        const a0i = im[a];
        const a1r = re[b];
        const a1i = im[b];
        const a2r = re[c];
        const a2i = im[c];
        const a3r = re[d];
        const a3i = im[d];
        const t0r = a0r + a2r;
        const t0i = a0i + a2i;
        const t1r = a0r - a2r;
        const t1i = a0i - a2i;
        const t2r = a1r + a3r;
        const t2i = a1i + a3i;
        // t3 = -i (a1 - a3)
        const t3r = a1i - a3i;
        const t3i = a3r - a1r;
        re[a] = t0r + t2r;
        im[a] = t0i + t2i;
        const ur = t0r - t2r;
        const ui = t0i - t2i;
        re[b] = ur * c2 + ui * s2;
        im[b] = ui * c2 - ur * s2;
        const vr = t1r + t3r;
        const vi = t1i + t3i;
        re[c] = vr * c1 + vi * s1;
        im[c] = vi * c1 - vr * s1;
        const wr = t1r - t3r;
        const wi = t1i - t3i;
        re[d] = wr * c3 + wi * s3;
        im[d] = wi * c3 - wr * s3;
      }
    }
  }
  if (size === 4) {
    for (let a = 0; a < M; a += 4) {
      const a0r = re[a];
      const a0i = im[a];
      const a1r = re[a + 1];
      const a1i = im[a + 1];
      const a2r = re[a + 2];
      const a2i = im[a + 2];
      const a3r = re[a + 3];
      const a3i = im[a + 3];
      const t0r = a0r + a2r;
      const t0i = a0i + a2i;
      const t1r = a0r - a2r;
      const t1i = a0i - a2i;
      const t2r = a1r + a3r;
      const t2i = a1i + a3i;
      const t3r = a1i - a3i;
      const t3i = a3r - a1r;
      const y0r = t0r + t2r;
      const y0i = t0i + t2i;
      const y1r = t0r - t2r;
      const y1i = t0i - t2i;
      const y2r = t1r + t3r;
      const y2i = t1i + t3i;
      const y3r = t1r - t3r;
      const y3i = t1i - t3i;
      if (power) {
        power[a] += y0r * y0r + y0i * y0i;
        power[a + 1] += y1r * y1r + y1i * y1i;
        power[a + 2] += y2r * y2r + y2i * y2i;
        power[a + 3] += y3r * y3r + y3i * y3i;
      } else {
        re[a] = y0r;
        im[a] = y0i;
        re[a + 1] = y1r;
        im[a + 1] = y1i;
        re[a + 2] = y2r;
        im[a + 2] = y2i;
        re[a + 3] = y3r;
        im[a + 3] = y3i;
      }
    }
  } else if (size === 2) {
    for (let a = 0; a < M; a += 2) {
      const ar = re[a];
      const ai = im[a];
      const br = re[a + 1];
      const bi = im[a + 1];
      const y0r = ar + br;
      const y0i = ai + bi;
      const y1r = ar - br;
      const y1i = ai - bi;
      if (power) {
        power[a] += y0r * y0r + y0i * y0i;
        power[a + 1] += y1r * y1r + y1i * y1i;
      } else {
        re[a] = y0r;
        im[a] = y0i;
        re[a + 1] = y1r;
        im[a + 1] = y1i;
      }
    }
  } else if (power) {
    // size 1: nothing left to transform
    for (let a = 0; a < M; a++) power[a] += re[a] * re[a] + im[a] * im[a];
  }
}

/**
 * In-place complex discrete Fourier transform of (re, im), natural order in and out:
 *   X_f = sum_t x_t e^{-2 pi i f t / M}        (forward)
 *   x_t = (1/M) sum_f X_f e^{+2 pi i f t / M}  (inverse = true, scaled by 1/M)
 * M = re.length must be a power of two (Cooley & Tukey 1965; radix 4, Gentleman & Sande 1966).
 */
export function fft(re: Float64Array, im: Float64Array, inverse = false): void {
  const M = re.length;
  if (im.length !== M) throw new RangeError('fft: re and im must have the same length');
  if (M <= 1) return;
  const p = plan(M);
  // The inverse transform is the forward transform of the conjugate, conjugated.
  if (inverse) for (let i = 0; i < M; i++) im[i] = -im[i];
  difStages(re, im, p, M, null);
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

function scratch(M: number): AcovScratch {
  let s = scratches.get(M);
  if (!s) {
    s = {
      re: new Float64Array(M),
      im: new Float64Array(M),
      power: new Float64Array(M),
      ya: new Float64Array(M),
      yb: new Float64Array(M),
    };
    scratches.set(M, s);
  }
  return s;
}

/**
 * Mean of a chain with R's second-pass correction (`mean.default`):
 * m = sum/n, then m += sum(x - m)/n.
 */
export function chainMean(x: Float64Array, off: number, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += x[off + i];
  const m = s / n;
  let c = 0;
  for (let i = 0; i < n; i++) c += x[off + i] - m;
  return m + c / n;
}

/**
 * Centres chain (off, n) into y and returns its mean; a constant chain gives exact zeros
 * (R returns rep(0, N)). The mean is the plain sum / n: an error of a few ulps in the
 * centre changes the autocovariance only at second order.
 */
export function centre(x: Float64Array, off: number, n: number, y: Float64Array): number {
  const x0 = x[off];
  let s = 0;
  let differs = 0;
  for (let i = 0; i < n; i++) {
    const v = x[off + i];
    s += v;
    differs |= v !== x0 ? 1 : 0;
  }
  if (differs === 0) {
    y.fill(0, 0, n);
    return x0;
  }
  const m = s / n;
  for (let i = 0; i < n; i++) y[i] = x[off + i] - m;
  return m;
}

/**
 * Mean over chains of the biased autocovariance of each chain,
 *   out[k] = (1/C) sum_c (1/N) sum_{t < N-k} (x_{c,t} - xbar_c)(x_{c,t+k} - xbar_c),  k < N,
 * which is `rowMeans(apply(x, 2, posterior:::autocovariance))`. Chain-major input:
 * element (c, t) at c*N + t. `out` has length >= N; `means`, when given, receives the
 * chain means (length >= C).
 */
export function chainAutocovarianceMean(
  x: Float64Array,
  chains: number,
  n: number,
  out: Float64Array = new Float64Array(n),
  means?: Float64Array,
): Float64Array {
  if (n < 1 || chains < 1) return out;
  const M = Math.max(8, nextPow2(2 * n));
  const q = M >> 2;
  const p = plan(M);
  const { re, im, power, ya, yb } = scratch(M);
  const cs = p.cos;
  const sn = p.sin;
  power.fill(0);
  // Zero tails: entries n..M/2-1 of ya, yb stay zero for every chain.
  ya.fill(0);
  yb.fill(0);
  for (let c = 0; c < chains; c += 2) {
    const ma = centre(x, c * n, n, ya);
    if (means) means[c] = ma;
    if (c + 1 < chains) {
      const mb = centre(x, (c + 1) * n, n, yb);
      if (means) means[c + 1] = mb;
    } else yb.fill(0, 0, n);
    // First radix-4 stage with the zero upper half (n <= M/2) folded into the load:
    // a0 = z[j], a1 = z[j + M/4], a2 = a3 = 0.
    for (let j = 0; j < q; j++) {
      const a0r = ya[j];
      const a0i = yb[j];
      const a1r = ya[j + q];
      const a1i = yb[j + q];
      re[j] = a0r + a1r;
      im[j] = a0i + a1i;
      const ur = a0r - a1r;
      const ui = a0i - a1i;
      const c2 = cs[2 * j];
      const s2 = sn[2 * j];
      re[j + q] = ur * c2 + ui * s2;
      im[j + q] = ui * c2 - ur * s2;
      // t3 = -i a1
      const vr = a0r + a1i;
      const vi = a0i - a1r;
      const c1 = cs[j];
      const s1 = sn[j];
      re[j + 2 * q] = vr * c1 + vi * s1;
      im[j + 2 * q] = vi * c1 - vr * s1;
      const wr = a0r - a1i;
      const wi = a0i + a1r;
      const c3 = cs[3 * j];
      const s3 = sn[3 * j];
      re[j + 3 * q] = wr * c3 + wi * s3;
      im[j + 3 * q] = wi * c3 - wr * s3;
    }
    difStages(re, im, p, q, power);
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
  return chainAutocovarianceMean(Float64Array.from(x), 1, x.length);
}
