/**
 * The draws of the retained chains: the transition kernel writes them into a record buffer
 * of `slots` iterations (shaders/hmc.wgsl, binding 8), which is copied back chunk by chunk
 * and unpacked, slot-major (GPU) to chain-major (host), while the device goes on.
 */
import type { HierModel } from '../../model/model.ts';
import { gpuWait } from '../../gpu/wait.ts';
import { allocateConstrained, rowConstrainer } from '../constrain.ts';
import type { RecordedDraws } from '../backend.ts';

/** Largest record chunk, bytes: draws are copied back to the host chunk by chunk. */
const RECORD_CHUNK_BYTES = 64 * 2 ** 20;
/** Chains per tile when unpacking records (see `flush`). */
const RECORD_TILE_CHAINS = 64;

/** The host's copy of the records, filled chunk by chunk. */
interface HostRecord {
  positions: Float32Array;
  logDensity: Float32Array;
  energy: Float32Array;
  acceptProb: Float32Array;
  divergent: Uint8Array;
  divPos: number[];
  divChain: number[];
  divDraw: number[];
  /** Constrained draws, filled chunk by chunk as the positions are unpacked (by `constrain`). */
  constrained: Float32Array[];
  constrain: (pos: Float32Array, from: number, to: number) => void;
}

/** The record buffer, its readbacks and the host's copy; the slot bookkeeping of the sampling steps. */
export class Recorder {
  /** The record buffer (binding 8 of the transition kernels): a 16-byte placeholder until `begin`. */
  buffer: GPUBuffer;
  /** Iterations the record buffer holds. */
  slots = 0;
  retained = 0;
  draws = 0;
  /** The next free slot of the current chunk. */
  slotInChunk = 0;
  /** Draws issued so far. */
  private drawIndex = 0;
  private chunkStart = 0;
  private record?: HostRecord;
  /** Resolves when every chunk copied so far is unpacked. */
  pending: Promise<void> = Promise.resolve();
  /** Readback buffers of the record buffer's size, reused from chunk to chunk (see `flush`). */
  private staging: GPUBuffer[] = [];
  /** Draws per retained chain read back and unpacked so far (complete chunks, in order). */
  private unpacked = 0;

  /** `made` receives every buffer created (the backend destroys them). */
  constructor(
    private readonly device: GPUDevice,
    private readonly chains: number,
    private readonly K: number,
    private readonly NV: number,
    private readonly made: (b: GPUBuffer) => void,
  ) {
    this.buffer = this.create('records (empty)', 16, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC);
  }

  private create(label: string, size: number, usage: number): GPUBuffer {
    const b = this.device.createBuffer({ label, size, usage });
    this.made(b);
    return b;
  }

  /** True while draws remain to be recorded. */
  get recording(): boolean {
    return this.drawIndex < this.draws;
  }

  /**
   * Sizes the record buffer for `draws` draws of `retainedChains` chains (one chunk: as many
   * iterations as fit RECORD_CHUNK_BYTES and the binding limit) and allocates the host's
   * copy. True when the record buffer was replaced (to be bound again).
   */
  begin(model: HierModel, draws: number, retainedChains: number): boolean {
    const device = this.device;
    const S = this.NV + 1;
    this.draws = draws;
    this.retained = Math.min(retainedChains, this.chains);
    const bytesPerSlot = (2 * S + 1) * this.retained * 16;
    const limit = Math.min(device.limits.maxStorageBufferBindingSize, RECORD_CHUNK_BYTES);
    this.slots = Math.max(1, Math.min(draws, Math.floor(limit / Math.max(1, bytesPerSlot))));
    if (this.retained > 0 && bytesPerSlot > device.limits.maxStorageBufferBindingSize) {
      throw new RangeError(`recording ${this.retained} chains needs ${bytesPerSlot} bytes per draw, over the storage binding limit`);
    }
    const n = this.retained * draws;
    const constrained = allocateConstrained(model, n);
    this.record = {
      positions: new Float32Array(n * model.dim),
      logDensity: new Float32Array(n),
      energy: new Float32Array(n),
      acceptProb: new Float32Array(n),
      divergent: new Uint8Array(n),
      divPos: [],
      divChain: [],
      divDraw: [],
      constrained,
      constrain: rowConstrainer(model, constrained),
    };
    this.drawIndex = 0;
    this.slotInChunk = 0;
    this.chunkStart = 0;
    if (this.retained === 0) return false;
    for (const b of this.staging) b.destroy();
    this.staging = [];
    this.buffer.destroy();
    this.buffer = this.create('records', this.slots * bytesPerSlot, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC);
    return true;
  }

  /** Takes the next slot for a recorded draw; true when the chunk is full (or the draws done): then `flush`. */
  advance(): boolean {
    this.drawIndex++;
    this.slotInChunk++;
    return this.slotInChunk === this.slots || this.drawIndex === this.draws;
  }

  /** Copies the filled slots of the record buffer back and unpacks them (asynchronously, in chunk order). */
  flush(model: HierModel): void {
    const device = this.device;
    const used = this.slotInChunk;
    const first = this.chunkStart;
    const S = this.NV + 1;
    const R = this.retained;
    const slots = this.slots;
    const size = this.buffer.size;
    // A pooled readback: creating one per chunk (64 MiB, zero-filled by Dawn) cost the host
    // about 60 ms a chunk, taken from the cores SwiftShader runs the device on.
    const staging = this.staging.pop() ?? this.create('records readback', size, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
    // Only the filled slots: the positions, the per-draw stats and the divergence positions
    // are three slot-major regions of the record buffer (see the unpacking below), each
    // copied to the same offsets. A check of --target-ess reads a chunk back early, when few
    // of its slots are filled.
    const enc = device.createCommandEncoder({ label: 'records copy' });
    const region = (at: number, bytes: number) => enc.copyBufferToBuffer(this.buffer, at, staging, at, bytes);
    region(0, used * S * R * 16);
    region(slots * S * R * 16, used * R * 16);
    region(slots * S * R * 16 + slots * R * 16, used * S * R * 16);
    device.queue.submit([enc.finish()]);
    this.chunkStart += used;
    this.slotInChunk = 0;
    const rec = this.record!;
    const K = this.K;
    const D = model.dim;
    const layout = model.layout;
    const iZ0 = layout.group(0);
    // The globals of the last block (mu, log tau, a family's global), in the layout's order;
    // the coefficients beta (blocks NZ.., `deviceSlots`).
    const G = layout.beta.start;
    const gIdx = layout.globals.slice(0, G).map((g) => layout.global(g));
    const P = layout.beta.count;
    const B0 = layout.beta.start;
    const NZ = this.NV - Math.ceil(P / 4);
    const draws = this.draws;
    const prev = this.pending;
    const done = gpuWait(() => staging.mapAsync(GPUMapMode.READ)).then(async () => {
      await prev;
      const a = new Float32Array(staging.getMappedRange());
      const statsBase = slots * S * R * 4;
      const divBase = statsBase + slots * R * 4;
      // Slot-major (GPU) to chain-major (host), in tiles of RECORD_TILE_CHAINS chains so that
      // the strided writes touch few pages at a time. At 4,096 chains × 1,000 draws this
      // unpacking took 0.81 s of a 4.3 s sampling phase in draw order, 0.73 s tiled; it runs
      // while SwiftShader's threads want the same two cores.
      const pos = rec.positions;
      const NV = this.NV;
      for (let c0 = 0; c0 < R; c0 += RECORD_TILE_CHAINS) {
        const c1 = Math.min(R, c0 + RECORD_TILE_CHAINS);
        for (let t = 0; t < used; t++) {
          const draw = first + t;
          for (let j = 0; j < NZ; j++) {
            const lanes = Math.min(4, K - 4 * j);
            const src0 = (t * S + j) * R * 4;
            for (let c = c0; c < c1; c++) {
              const src = src0 + 4 * c;
              const dst = (c * draws + draw) * D + iZ0 + 4 * j;
              for (let l = 0; l < lanes; l++) pos[dst + l] = a[src + l];
            }
          }
          const m0 = (t * S + NV) * R * 4;
          const st0 = statsBase + t * R * 4;
          for (let c = c0; c < c1; c++) {
            const o = c * draws + draw;
            const m = m0 + 4 * c;
            const st = st0 + 4 * c;
            for (let g = 0; g < G; g++) pos[o * D + gIdx[g]] = a[m + g];
            for (let p = 0; p < P; p++) pos[o * D + B0 + p] = a[(t * S + NZ + (p >> 2)) * R * 4 + 4 * c + (p & 3)];
            rec.logDensity[o] = a[st];
            rec.energy[o] = a[st + 1];
            rec.acceptProb[o] = a[st + 2];
            rec.divergent[o] = a[st + 3] > 0.5 ? 1 : 0;
          }
        }
        // The tile's rows are in cache: constrain them now, not all at once after sampling.
        for (let c = c0; c < c1; c++) rec.constrain(pos, c * draws + first, c * draws + first + used);
      }
      // Divergences in (draw, chain) order, with the positions where they diverged.
      for (let t = 0; t < used; t++) {
        for (let c = 0; c < R; c++) {
          if (!rec.divergent[c * draws + first + t]) continue;
          const at = rec.divPos.length;
          for (let d = 0; d < D; d++) rec.divPos.push(0);
          for (let k = 0; k < K; k++) rec.divPos[at + iZ0 + k] = a[divBase + ((t * S + (k >> 2)) * R + c) * 4 + (k & 3)];
          const dm = divBase + ((t * S + NV) * R + c) * 4;
          for (let g = 0; g < G; g++) rec.divPos[at + gIdx[g]] = a[dm + g];
          for (let p = 0; p < P; p++) rec.divPos[at + B0 + p] = a[divBase + ((t * S + NZ + (p >> 2)) * R + c) * 4 + (p & 3)];
          rec.divChain.push(c);
          rec.divDraw.push(first + t);
        }
      }
      staging.unmap();
      this.staging.push(staging);
      this.unpacked = first + used;
    });
    // Awaited by the next sync or collect; a failure (a lost device) while none waits is
    // reported there, not as an unhandled rejection.
    done.catch(() => {});
    this.pending = done;
  }

  /** The recording as the sampler returns it (the divergences' growable lists packed). */
  recorded(): RecordedDraws {
    const rec = this.record!;
    return {
      retainedChains: this.retained,
      draws: this.draws,
      positions: rec.positions,
      logDensity: rec.logDensity,
      energy: rec.energy,
      acceptProb: rec.acceptProb,
      divergent: rec.divergent,
      divergentPositions: Float32Array.from(rec.divPos),
      divergentChain: Int32Array.from(rec.divChain),
      divergentDraw: Int32Array.from(rec.divDraw),
      constrained: rec.constrained,
    };
  }

  /** After a device fault: the records so far, of which the first `n` draws of each chain are complete; null before sampling. */
  salvage(): { draws: RecordedDraws; n: number } | null {
    return this.record ? { n: this.unpacked, draws: this.recorded() } : null;
  }
}
