/**
 * The WebGPU batch backend: the chains of every data set in one buffer, one dispatch of
 * shaders/batch_hmc.wgsl per warmup transition (each set's ChEES statistics reduced on the
 * host from one readback) and per run of up to MAX_BATCH sampling transitions (records read
 * back run by run). See `backend.ts` for the contract.
 */
import type { HierModel } from '../model/model.ts';
import { InputError } from '../errors.ts';
import { requestGpu, withErrorScopes, type Gpu } from '../gpu/device.ts';
import { gpuWait } from '../gpu/wait.ts';
import { composeShader, createComputePipeline, dispatchGrid, type ShaderModule } from '../gpu/shader.ts';
import { familyShaderConsts, likModules, numZBlocks, packGroups } from '../gpu/layout.ts';
import { keyFromSeed } from '../sampler/rng.ts';
import { cheesEnsembleStats, type CheesStats } from '../adaptation/chees.ts';
import { checkBatchModels, type BatchBackend, type BatchStep, type SetDraws } from './backend.ts';

/** Invocations per workgroup (one chain each). */
const BATCH_WORKGROUP_SIZE = 64;
/** Most transitions per sampling dispatch (MAX_BATCH of shaders/hmc_common.wgsl). */
export const BATCH_MAX_RUN = 32;
/** Bytes of one set's SetParams (shaders/batch_hmc.wgsl): key, step size, pad, the family's statistics, 8 vec4u. */
const SET_PARAMS_BYTES = 32 + BATCH_MAX_RUN * 4;
/** Byte offset of SetParams.num_steps. */
const NUM_STEPS_OFFSET = 32;

/**
 * Where a chain-major position vector keeps each device lane: mu, log tau and the family
 * global x (lanes 0, 1, 2 of block NV; x absent: -1) and z_0 (`ModelLayout`).
 */
interface Lanes {
  readonly mu: number;
  readonly s: number;
  readonly x: number;
  readonly z0: number;
  readonly D: number;
}

function lanesOf(m: HierModel): Lanes {
  return { mu: m.layout.global('mu'), s: m.layout.global('log_tau'), x: m.familyGlobal?.index ?? -1, z0: m.layout.groupStart, D: m.dim };
}

/**
 * Block-major vec4 region (blocks 0..NV-1 z, block NV (mu, s, x, .)) of B chains ->
 * chain-major q in the model's layout, of chains first .. first + n - 1.
 */
function unpackRegion(src: Float32Array, regionStart: number, B: number, NV: number, K: number, L: Lanes, first: number, n: number, out: Float32Array | Float64Array, outOffset = 0, outStride = L.D): void {
  for (let c = 0; c < n; c++) {
    const ch = first + c;
    const dst = outOffset + c * outStride;
    const g = regionStart + (NV * B + ch) * 4;
    out[dst + L.mu] = src[g];
    out[dst + L.s] = src[g + 1];
    if (L.x >= 0) out[dst + L.x] = src[g + 2];
    for (let k = 0; k < K; k++) out[dst + L.z0 + k] = src[regionStart + ((k >> 2) * B + ch) * 4 + (k & 3)];
  }
}

class WebGpuBatch implements BatchBackend {
  readonly name = 'webgpu' as const;
  readonly adapter: string;
  readonly sets: number;
  readonly dim: number;
  private readonly K: number;
  private readonly NV: number;
  private readonly B: number;
  private readonly buffers: GPUBuffer[] = [];
  private readonly params: GPUBuffer;
  private readonly setBuf: GPUBuffer;
  private readonly state: GPUBuffer;
  private readonly warm: GPUBuffer;
  private readonly info: GPUBuffer;
  private readonly rec: GPUBuffer;
  private readonly warmRead: GPUBuffer;
  private readonly groups: GPUBuffer;
  private readonly recRead: GPUBuffer;
  private readonly slots: number;
  private readonly grid: ReturnType<typeof dispatchGrid>;
  private readonly warmBind: GPUBindGroup;
  private readonly sampleBind: GPUBindGroup;
  private readonly setData: ArrayBuffer;
  private readonly lanes: Lanes;
  /** Each set's family global statistics (FAMILY_STATS), 4 per set. */
  private readonly stats: Float32Array;
  /** The warmup readback's chain-major scratch of one set, made on the first warmup step. */
  private warmScratch?: { initial: Float64Array; proposed: Float64Array; momentum: Float64Array; accept: Float64Array; divergent: Uint8Array };
  private records: { draws: number; filled: number; positions: Float32Array[]; stats: Float32Array[] } | null = null;

  constructor(
    private readonly gpu: Gpu,
    models: readonly HierModel[],
    readonly chainsPerSet: number,
    private readonly keys: readonly (readonly [number, number])[],
    private readonly pipelines: { warmup: GPUComputePipeline; sample: GPUComputePipeline },
    private readonly ownsDevice: boolean,
    /** The kernel was compiled for centeredness 0 or 1 only (BINARY_C). */
    private readonly binaryC: boolean,
  ) {
    const device = gpu.device;
    this.adapter = gpu.adapter.label;
    this.sets = models.length;
    this.K = models[0].stats.K;
    this.NV = numZBlocks(this.K);
    this.dim = models[0].dim;
    this.lanes = lanesOf(models[0]);
    this.stats = new Float32Array(4 * this.sets);
    for (const [d, m] of models.entries()) this.stats.set((m.stats.familyStats ?? new Float64Array(0)).subarray(0, 4), 4 * d);
    this.B = this.sets * chainsPerSet;
    const S = this.NV + 1;
    const B = this.B;
    const limit = device.limits.maxStorageBufferBindingSize;
    const stateBytes = S * B * 16;
    if (3 * stateBytes > limit) {
      throw new InputError('chains', `${this.sets} data sets x ${chainsPerSet} chains x ${this.K} groups need ${3 * stateBytes} bytes of warmup state, over this adapter's ${limit}-byte storage binding limit: use fewer sets per batch or fewer chains`);
    }
    this.slots = Math.max(1, Math.min(BATCH_MAX_RUN, Math.floor(limit / ((S + 1) * B * 16))));
    const mk = (label: string, size: number, usage: number) => {
      const b = device.createBuffer({ label, size: Math.max(16, size), usage });
      this.buffers.push(b);
      return b;
    };
    const ST = GPUBufferUsage.STORAGE;
    this.params = mk('batch params', 32, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
    const groups = (this.groups = mk('batch groups', this.sets * this.NV * 64, ST | GPUBufferUsage.COPY_DST));
    this.writeGroups(models);
    this.setBuf = mk('batch sets', this.sets * SET_PARAMS_BYTES, ST | GPUBufferUsage.COPY_DST);
    this.setData = new ArrayBuffer(this.sets * SET_PARAMS_BYTES);
    this.state = mk('batch state', stateBytes, ST | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC);
    this.warm = mk('batch warmup inputs', 3 * stateBytes, ST | GPUBufferUsage.COPY_SRC);
    this.info = mk('batch info', B * 16, ST | GPUBufferUsage.COPY_SRC);
    this.rec = mk('batch records', this.slots * (S + 1) * B * 16, ST | GPUBufferUsage.COPY_SRC);
    this.warmRead = mk('batch warmup readback', 3 * stateBytes + B * 16, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
    this.recRead = mk('batch records readback', this.slots * (S + 1) * B * 16, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
    this.grid = dispatchGrid(B, BATCH_WORKGROUP_SIZE);
    const bind = (p: GPUComputePipeline) =>
      device.createBindGroup({
        layout: p.getBindGroupLayout(0),
        entries: [this.params, groups, this.setBuf, this.state, this.warm, this.info, this.rec]
          .map((buffer, binding) => ({ binding, resource: { buffer } })),
      });
    this.warmBind = bind(pipelines.warmup);
    this.sampleBind = bind(pipelines.sample);
  }

  private writeGroups(models: readonly HierModel[]): void {
    if (this.binaryC && models.some((m) => !m.c.every((c) => c === 0 || c === 1))) throw new Error('gpuBatch: a centeredness other than 0 or 1 needs the kernel compiled with binary: false');
    const packed = new Float32Array(this.sets * this.NV * 16);
    for (const [d, m] of models.entries()) packed.set(packGroups(m), d * this.NV * 16);
    this.gpu.device.queue.writeBuffer(this.groups, 0, packed);
  }

  async positions(): Promise<Float64Array[]> {
    const { device } = this.gpu;
    const { B, NV, K, dim: D, chainsPerSet: C } = this;
    const bytes = (NV + 1) * B * 16;
    const enc = device.createCommandEncoder();
    enc.copyBufferToBuffer(this.state, 0, this.warmRead, 0, bytes);
    device.queue.submit([enc.finish()]);
    await gpuWait(() => this.warmRead.mapAsync(GPUMapMode.READ, 0, bytes));
    const all = new Float32Array(this.warmRead.getMappedRange(0, bytes).slice(0));
    this.warmRead.unmap();
    return Array.from({ length: this.sets }, (_, d) => {
      const out = new Float64Array(C * D);
      unpackRegion(all, 0, B, NV, K, this.lanes, d * C, C, out);
      return out;
    });
  }

  async reparameterize(models: readonly HierModel[], positions: readonly Float64Array[]): Promise<void> {
    if (this.records) throw new Error('reparameterize() is only available before sampling');
    this.writeGroups(models);
    await this.init(positions);
  }

  async init(positions: readonly Float64Array[]): Promise<void> {
    const { B, NV, K, dim: D, lanes: L } = this;
    const packed = new Float32Array((NV + 1) * B * 4);
    for (let d = 0; d < this.sets; d++) {
      const q = positions[d];
      if (q.length !== this.chainsPerSet * D) throw new RangeError(`init: set ${d} has ${q.length} position values, expected ${this.chainsPerSet * D}`);
      for (let c = 0; c < this.chainsPerSet; c++) {
        const ch = d * this.chainsPerSet + c;
        packed[(NV * B + ch) * 4] = q[c * D + L.mu];
        packed[(NV * B + ch) * 4 + 1] = q[c * D + L.s];
        if (L.x >= 0) packed[(NV * B + ch) * 4 + 2] = q[c * D + L.x];
        for (let k = 0; k < K; k++) packed[((k >> 2) * B + ch) * 4 + (k & 3)] = q[c * D + L.z0 + k];
      }
    }
    this.gpu.device.queue.writeBuffer(this.state, 0, packed);
  }

  private writeParams(first: number, count: number, recordSlot: number, stepSize: Float64Array, numSteps: Int32Array, stride: number): void {
    const u = new Uint32Array([first, count, this.B, this.grid.rowStride, this.chainsPerSet, recordSlot, this.slots, 0]);
    this.gpu.device.queue.writeBuffer(this.params, 0, u);
    const dv = new DataView(this.setData);
    for (let d = 0; d < this.sets; d++) {
      const o = d * SET_PARAMS_BYTES;
      dv.setUint32(o, this.keys[d][0], true);
      dv.setUint32(o + 4, this.keys[d][1], true);
      dv.setFloat32(o + 8, stepSize[d], true);
      for (let i = 0; i < 4; i++) dv.setFloat32(o + 16 + 4 * i, this.stats[4 * d + i], true);
      for (let m = 0; m < count; m++) dv.setUint32(o + NUM_STEPS_OFFSET + 4 * m, numSteps[d * stride + m], true);
    }
    this.gpu.device.queue.writeBuffer(this.setBuf, 0, this.setData);
  }

  private dispatch(enc: GPUCommandEncoder, pipeline: GPUComputePipeline, bind: GPUBindGroup): void {
    const pass = enc.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bind);
    pass.dispatchWorkgroups(this.grid.x, this.grid.y);
    pass.end();
  }

  async warmupStep(s: BatchStep): Promise<CheesStats[]> {
    const { device } = this.gpu;
    const { B, NV, K, dim: D, chainsPerSet: C } = this;
    const stateBytes = (NV + 1) * B * 16;
    this.writeParams(s.iteration, 1, 0, s.stepSize, s.numSteps, 1);
    const enc = device.createCommandEncoder();
    this.dispatch(enc, this.pipelines.warmup, this.warmBind);
    enc.copyBufferToBuffer(this.warm, 0, this.warmRead, 0, 3 * stateBytes);
    enc.copyBufferToBuffer(this.info, 0, this.warmRead, 3 * stateBytes, B * 16);
    device.queue.submit([enc.finish()]);
    await gpuWait(() => this.warmRead.mapAsync(GPUMapMode.READ));
    // Read in place (no copy of the mapped range), into scratch made once per backend.
    const all = new Float32Array(this.warmRead.getMappedRange());
    const region = (r: number) => r * (NV + 1) * B * 4;
    const { initial, proposed, momentum, accept, divergent } = (this.warmScratch ??= {
      initial: new Float64Array(C * D),
      proposed: new Float64Array(C * D),
      momentum: new Float64Array(C * D),
      accept: new Float64Array(C),
      divergent: new Uint8Array(C),
    });
    const info = (3 * stateBytes) / 4;
    const out: CheesStats[] = [];
    try {
      for (let d = 0; d < this.sets; d++) {
        unpackRegion(all, region(0), B, NV, K, this.lanes, d * C, C, initial);
        unpackRegion(all, region(1), B, NV, K, this.lanes, d * C, C, proposed);
        unpackRegion(all, region(2), B, NV, K, this.lanes, d * C, C, momentum);
        for (let c = 0; c < C; c++) {
          accept[c] = all[info + (d * C + c) * 4];
          divergent[c] = all[info + (d * C + c) * 4 + 1] !== 0 ? 1 : 0;
        }
        out.push(cheesEnsembleStats(proposed, momentum, initial, accept, divergent, C, D));
      }
    } finally {
      this.warmRead.unmap();
    }
    return out;
  }

  beginSampling(draws: number): void {
    const n = this.chainsPerSet * draws;
    this.records = {
      draws,
      filled: 0,
      positions: Array.from({ length: this.sets }, () => new Float32Array(n * this.dim)),
      stats: Array.from({ length: this.sets }, () => new Float32Array(n * 4)),
    };
  }

  async sample(first: number, count: number, stepSize: Float64Array, numSteps: Int32Array): Promise<void> {
    const r = this.records;
    if (!r) throw new Error('sample() before beginSampling()');
    if (r.filled + count > r.draws) throw new RangeError(`sample: ${count} more draws than the ${r.draws - r.filled} left`);
    const { device } = this.gpu;
    const { B, NV, K, dim: D, chainsPerSet: C } = this;
    const S = NV + 1;
    for (let done = 0; done < count; ) {
      const n = Math.min(this.slots, count - done);
      const sub = new Int32Array(this.sets * n);
      for (let d = 0; d < this.sets; d++) for (let m = 0; m < n; m++) sub[d * n + m] = numSteps[d * count + done + m];
      this.writeParams(first + done, n, 0, stepSize, sub, n);
      const enc = device.createCommandEncoder();
      this.dispatch(enc, this.pipelines.sample, this.sampleBind);
      const posBytes = n * S * B * 16;
      enc.copyBufferToBuffer(this.rec, 0, this.recRead, 0, posBytes);
      enc.copyBufferToBuffer(this.rec, this.slots * S * B * 16, this.recRead, posBytes, n * B * 16);
      device.queue.submit([enc.finish()]);
      await gpuWait(() => this.recRead.mapAsync(GPUMapMode.READ, 0, posBytes + n * B * 16));
      // Unpacked straight from the mapped range (no copy of the run's records first).
      const got = new Float32Array(this.recRead.getMappedRange(0, posBytes + n * B * 16));
      try {
        for (let m = 0; m < n; m++) {
          const draw = r.filled + m;
          for (let d = 0; d < this.sets; d++) {
            // Chain c's draw at (c * draws + draw) * D.
            unpackRegion(got, m * S * B * 4, B, NV, K, this.lanes, d * C, C, r.positions[d], draw * D, r.draws * D);
            const st = r.stats[d];
            for (let c = 0; c < C; c++) {
              const src = posBytes / 4 + (m * B + d * C + c) * 4;
              st.set(got.subarray(src, src + 4), (c * r.draws + draw) * 4);
            }
          }
        }
      } finally {
        this.recRead.unmap();
      }
      r.filled += n;
      done += n;
    }
  }

  async collect(): Promise<SetDraws[]> {
    const r = this.records;
    if (!r) throw new Error('collect() before beginSampling()');
    return r.positions.map((positions, d) => {
      const st = r.stats[d];
      const n = this.chainsPerSet * r.draws;
      const divergent = new Uint8Array(n);
      const acceptProb = new Float32Array(n);
      const energy = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        energy[i] = st[4 * i + 1];
        acceptProb[i] = st[4 * i + 2];
        divergent[i] = st[4 * i + 3] !== 0 ? 1 : 0;
      }
      return { draws: r.filled, positions, divergent, acceptProb, energy };
    });
  }

  destroy(): void {
    for (const b of this.buffers) b.destroy();
    if (this.ownsDevice) this.gpu.device.destroy();
  }
}

/**
 * A WebGPU batch of `models` (one per data set; `checkBatchModels`), `chainsPerSet` chains
 * each, set d keyed by `seeds[d]`. Uses `gpu` when given (the caller keeps it), else
 * requests its own device (released by `destroy`).
 */
export async function gpuBatch(models: readonly HierModel[], chainsPerSet: number, seeds: readonly number[], gpu?: Gpu, opts: { binary?: boolean } = {}): Promise<BatchBackend> {
  checkBatchModels(models);
  if (seeds.length !== models.length) throw new RangeError(`gpuBatch: ${seeds.length} seeds for ${models.length} sets`);
  if (!(Number.isInteger(chainsPerSet) && chainsPerSet >= 1)) throw new RangeError(`chainsPerSet must be a positive integer, got ${chainsPerSet}`);
  const g = gpu ?? (await requestGpu());
  const m0 = models[0];
  const { mu, tau } = m0.priors;
  // Centeredness 0 or 1 everywhere (the default when every model has it) lets the kernel choose
  // between the two forms lane by lane with no exp.
  const binary = opts.binary ?? models.every((m) => m.c.every((c) => c === 0 || c === 1));
  // The family's constants but its statistics, which are per set here (batch_stats.wgsl).
  const { FAMILY_STATS: _perSet, ...family } = familyShaderConsts(m0);
  const consts = {
    ...family,
    NV: { type: 'u32', value: numZBlocks(m0.stats.K) },
    WG: { type: 'u32', value: BATCH_WORKGROUP_SIZE },
    BINARY_C: { type: 'bool', value: binary },
    DIAG_METRIC: { type: 'bool', value: false },
    SOFT_SHIFTS: { type: 'bool', value: g.adapter.isFallback },
    MU_LOC: { type: 'f32', value: mu.loc },
    MU_SCALE: { type: 'f32', value: mu.scale },
    TAU_SCALE: { type: 'f32', value: tau.scale },
    TAU_HALF_CAUCHY: { type: 'bool', value: tau.kind === 'halfcauchy' },
  } as const;
  const modules: ShaderModule[] = ['prior', ...likModules(m0), m0.familyGlobal ? 'batch_stats' : 'batch_stats_none', 'block', 'philox', 'hmc_common', 'batch_hmc'];
  const pipelines = await withErrorScopes(g.device, async () => {
    const [w, s] = await Promise.all([
      composeShader(modules, { ...consts, WARMUP: { type: 'bool', value: true } }),
      composeShader(modules, { ...consts, WARMUP: { type: 'bool', value: false } }),
    ]);
    const [warmup, sample] = await Promise.all([createComputePipeline(g.device, 'batch transitions (warmup)', w), createComputePipeline(g.device, 'batch transitions (sampling)', s)]);
    return { warmup, sample };
  });
  return withErrorScopes(g.device, () => new WebGpuBatch(g, models, chainsPerSet, seeds.map(keyFromSeed), pipelines, !gpu, binary));
}
