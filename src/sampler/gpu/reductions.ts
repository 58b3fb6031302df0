/**
 * The host's half of the chain reductions: the partial sums the kernels write
 * (shaders/reduce.wgsl's ensemble_partial and chees_partial, the transition kernels' totals)
 * added in float64 into the adaptation's ensemble statistics and the sampling totals.
 */
import type { EnsembleStats } from '../../adaptation/ensemble_stats.ts';
import type { ModelLayout } from '../../model/layout.ts';
import { deviceSlots } from '../../gpu/layout.ts';
import { gpuWait } from '../../gpu/wait.ts';

/** Most threads writing partial sums (the host adds them in float64). */
const MAX_REDUCE_THREADS = 1024;
/** Chains per reduction thread aimed at (fewer partials to add for small ensembles). */
const CHAINS_PER_REDUCE_THREAD = 32;
/** vec4 fields per block in ensemble_partial's output (FIELDS in shaders/reduce.wgsl), and their indices. */
export const ENSEMBLE_FIELDS = 7;
const F_SUM_Q = 2;
const F_SUM_Q2 = 3;
const F_SCALARS = 4;
const F_DIVERGENT = 5;
/** The shift (chain 0's position) is the same in every partial: taken once, not summed. */
const F_SHIFT = 6;

/** Threads that write partial sums for `chains` chains. */
export function reduceThreads(chains: number): number {
  return Math.min(chains, MAX_REDUCE_THREADS, Math.max(64, Math.ceil(chains / CHAINS_PER_REDUCE_THREAD)));
}

/** Bytes of the two partial-sum buffers: ensemble_partial's (p1) and chees_partial's (p3). */
export function partialBytes(NV: number, threads: number): { p1: number; p3: number } {
  return { p1: (NV + 1) * threads * ENSEMBLE_FIELDS * 16, p3: threads * 16 };
}

/** What `ensembleStats` needs to know of the run. */
export interface EnsembleShape {
  readonly chains: number;
  readonly K: number;
  readonly NV: number;
  readonly dim: number;
  readonly threads: number;
  readonly layout: ModelLayout;
}

/**
 * The ensemble statistics from the partial sums read back in one buffer (`all`: p1, then p3
 * at `p3Word`), added in float64.
 */
export function ensembleStats(all: Float32Array, p3Word: number, s: EnsembleShape): EnsembleStats {
  const G = s.threads;
  const S = s.NV + 1;
  // Sum partials in float64 (per block j, field f: a vec4).
  const sums = new Float64Array(S * ENSEMBLE_FIELDS * 4);
  for (let j = 0; j < S; j++) {
    for (let w = 0; w < G; w++) {
      const src = ((j * G + w) * ENSEMBLE_FIELDS) * 4;
      const dst = j * ENSEMBLE_FIELDS * 4;
      for (let i = 0; i < ENSEMBLE_FIELDS * 4; i++) if (i < F_SHIFT * 4 || w === 0) sums[dst + i] += all[src + i];
    }
  }
  let gradSum = 0;
  for (let w = 0; w < G; w++) gradSum += all[p3Word + 4 * w];
  const scal = F_SCALARS * 4; // block 0
  const numValid = sums[scal];
  const weightSum = sums[scal + 1];
  const invSum = sums[scal + 2];
  const acceptSum = sums[scal + 3];
  const numDivergent = sums[F_DIVERGENT * 4];
  const C = s.chains;
  const positionMean = new Float64Array(s.dim);
  const positionVar = new Float64Array(s.dim);
  const put = (d: number, j: number, lane: number) => {
    const base = j * ENSEMBLE_FIELDS * 4;
    const m = sums[base + F_SUM_Q * 4 + lane] / C;
    const v = Math.max(0, sums[base + F_SUM_Q2 * 4 + lane] / C - m * m) * (C / Math.max(1, C - 1));
    positionMean[d] = m + sums[base + F_SHIFT * 4 + lane];
    positionVar[d] = v;
  };
  // Every coordinate from its block and lane (`deviceSlots`).
  const slots = deviceSlots(s.layout);
  for (let d = 0; d < s.dim; d++) put(d, slots[d] >> 2, slots[d] & 3);
  return {
    numValid,
    numDivergent,
    meanAccept: acceptSum / C,
    harmonicMeanAccept: numValid / invSum,
    cheesGradient: gradSum / (weightSum + 1e-20),
    positionMean,
    positionVar,
  };
}

/** Sampling totals over all chains (per chain: divergences, sum of acceptance, leapfrog steps). */
export interface Totals {
  readonly divergences: number;
  readonly acceptSum: number;
  readonly steps: number;
}

/**
 * Reads the per-chain totals buffer back and sums it (in float64) while the readback is
 * mapped. The copy is encoded at the call, so the totals are those of the work submitted
 * before it, whatever is submitted while the mapping is pending; each call takes its own
 * staging buffer (chains × 16 bytes) from a pool, so calls may overlap (the sampler keeps two
 * in flight) and none is created per sync.
 */
export class TotalsReader {
  /** Idle staging buffers. */
  private readonly idle: GPUBuffer[] = [];

  /** `made` receives every staging buffer created (the backend destroys them). */
  constructor(
    private readonly device: GPUDevice,
    private readonly totals: GPUBuffer,
    private readonly chains: number,
    private readonly made: (b: GPUBuffer) => void,
  ) {}

  read(): Promise<Totals> {
    const device = this.device;
    const bytes = this.chains * 16;
    let staging = this.idle.pop();
    if (!staging) {
      staging = device.createBuffer({ label: 'totals readback', size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      this.made(staging);
    }
    const enc = device.createCommandEncoder({ label: 'totals copy' });
    enc.copyBufferToBuffer(this.totals, 0, staging, 0, bytes);
    device.queue.submit([enc.finish()]);
    return gpuWait(() => staging.mapAsync(GPUMapMode.READ)).then(() => {
      const t = new Float32Array(staging.getMappedRange());
      let divergences = 0;
      let acceptSum = 0;
      let steps = 0;
      for (let c = 0; c < this.chains; c++) {
        divergences += t[4 * c];
        acceptSum += t[4 * c + 1];
        steps += t[4 * c + 2];
      }
      staging.unmap();
      this.idle.push(staging);
      return { divergences, acceptSum, steps };
    });
  }
}
