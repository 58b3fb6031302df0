import type { HierModel } from '../model/model.ts';
import { InputError } from '../errors.ts';
import { requestGpu, withErrorScopes, type Gpu } from '../gpu/device.ts';
import { gpuWait } from '../gpu/wait.ts';
import { cachedLayout, composeShader, createComputePipeline, dispatchGrid, type ShaderConst, type ShaderModule } from '../gpu/shader.ts';
import { isWideModel, modelShaderConsts, numZBlocks, packGroups, packGroupsCompact, packPositions, unpackPositions } from '../gpu/layout.ts';
import { CHAIN_WORKGROUP_SIZE } from '../gpu/logdensity.ts';
import { keyFromSeed } from './rng.ts';
import { allocateConstrained, rowConstrainer } from './constrain.ts';
import { numLeapfrogSteps, type CheesState } from '../adaptation/chees.ts';
import { DEVICE_LOSS_WAIT_MS, MAX_DEVICE_WARMUP, type Backend, type DeviceFault, type DeviceWarmupArgs, type DeviceWarmupResult, type EnsembleStats, type RecordedDraws, type SamplingTotals, type TransitionParams } from './backend.ts';

/** Threads per workgroup of the chain reductions (shaders/reduce.wgsl). */
const REDUCE_WORKGROUP_SIZE = 64;
/** Most threads writing partial sums (the host adds them in float64). */
const MAX_REDUCE_THREADS = 1024;
/** Chains per reduction thread aimed at (fewer partials to add for small ensembles). */
const CHAINS_PER_REDUCE_THREAD = 32;
/** vec4 fields per block in ensemble_partial's output (shaders/reduce.wgsl), and their indices. */
const ENSEMBLE_FIELDS = 7;
const F_SUM_Q = 2;
const F_SUM_Q2 = 3;
const F_SCALARS = 4;
const F_DIVERGENT = 5;
/** The shift (chain 0's position) is the same in every partial: taken once, not summed. */
const F_SHIFT = 6;
/** Largest record chunk, bytes: draws are copied back to the host chunk by chunk. */
const RECORD_CHUNK_BYTES = 64 * 2 ** 20;
/** Chains per tile when unpacking records (see flushChunk). */
const RECORD_TILE_CHAINS = 64;
/** Most sampling transitions per dispatch (MAX_BATCH in shaders/hmc.wgsl). */
const MAX_BATCH = 32;
/** StepParams (shaders/hmc.wgsl): 12 header words, MAX_BATCH step counts, then inv_mass. */
const STEP_HEADER_WORDS = 12;
const INV_MASS_WORD = STEP_HEADER_WORDS + MAX_BATCH;
/** AdaptState of shaders/adapt.wgsl: 16 words (its first four are hmc.wgsl's WarmupStep). */
const ADAPT_STATE_WORDS = 16;
/** AdaptParams of shaders/adapt.wgsl: 12 words, then the jitter (9 vec4f: MAX_DEVICE_WARMUP + 1 values fit). */
const ADAPT_PARAMS_WORDS = 12 + 36;
/** Floats per iteration in the device adaptation's history (HISTORY_FIELDS in adapt.wgsl). */
const HISTORY_FIELDS = 8;

/**
 * The adaptation state in AdaptState's layout (shaders/adapt.wgsl): the host's float64
 * state, with the first iteration and its leapfrog steps, in float32/u32 words.
 */
function packAdaptState(state: CheesState, iteration: number, numSteps: number): ArrayBuffer {
  const buf = new ArrayBuffer(4 * ADAPT_STATE_WORDS);
  const f = new Float32Array(buf);
  const u = new Uint32Array(buf);
  f[0] = state.stepSize;
  f[1] = state.trajectoryLength;
  u[2] = numSteps;
  u[3] = iteration >>> 0;
  f[4] = state.logStepSizeAvg;
  f[5] = state.logTrajectoryLengthAvg;
  f[6] = state.adamV;
  u[7] = state.adamStep;
  u[8] = state.step;
  u[9] = state.numSkipped;
  f[10] = state.da.logX;
  f[11] = state.da.logXAvg;
  u[12] = state.da.step;
  f[13] = state.da.avgError;
  f[14] = state.da.mu;
  u[15] = state.da.numSkipped;
  return buf;
}

/** The inverse of packAdaptState (the next iteration and its steps are not part of CheesState). */
function unpackAdaptState(raw: ArrayBuffer): CheesState {
  const f = new Float32Array(raw, 0, ADAPT_STATE_WORDS);
  const u = new Uint32Array(raw, 0, ADAPT_STATE_WORDS);
  return {
    stepSize: f[0],
    trajectoryLength: f[1],
    logStepSizeAvg: f[4],
    logTrajectoryLengthAvg: f[5],
    adamV: f[6],
    adamStep: u[7],
    step: u[8],
    numSkipped: u[9],
    da: { logX: f[10], logXAvg: f[11], step: u[12], avgError: f[13], mu: f[14], numSkipped: u[15] },
  };
}
/** Sampling transitions waiting to be dispatched together. */
interface PendingBatch {
  readonly first: number;
  readonly stepSize: number;
  readonly invMass: Float64Array;
  readonly steps: number[];
  readonly recording: boolean;
  readonly firstSlot: number;
}
/** Step flags (shaders/hmc.wgsl). */
const FLAG_RECORD = 2;
/** Least invocations per workgroup of the wide transition kernel (shaders/hmc_wide.wgsl). */
const WIDE_WORKGROUP_SIZE = 64;
/** Most threads per chain of the wide kernel (a workgroup's invocations; WebGPU's default limit). */
const MAX_THREADS_PER_CHAIN = 256;
/**
 * Blocks per thread the wide kernel aims at: on software adapters 4 (SwiftShader runs a
 * workgroup's threads as SIMD lanes on a few cores; more blocks per thread mean fewer
 * tree sums per block), on GPUs 2 (more threads in flight).
 */
const WIDE_BLOCKS_PER_THREAD = { software: 4, hardware: 2 } as const;
/**
 * Threads the wide kernel aims to run on a hardware adapter: chains alone do not fill a
 * large GPU (an H100 holds 132 x 2,048 resident threads), so threads per chain grow until
 * chains x threads reaches this (or every thread holds one block).
 */
const WIDE_TARGET_THREADS = 2 ** 18;

const nextPow2 = (n: number) => 2 ** Math.ceil(Math.log2(Math.max(1, n)));

/**
 * The two forms of the wide kernel: 'registers' (shaders/hmc_wide.wgsl: a chain's blocks
 * spread over threads and held in registers, tree sums over the threads) and 'stream'
 * (shaders/hmc_stream.wgsl: the proposal and momentum streamed through device memory each
 * step). Default: 'stream' with one thread per chain on software adapters (where barriers
 * cost more than memory traffic: 3x at K = 1,000, 4,096 chains), 'registers' on GPUs.
 */
export type WideKernel = 'registers' | 'stream';

/**
 * Threads per chain of the wide kernel's register form (a power of two, at most
 * MAX_THREADS_PER_CHAIN): enough for WIDE_BLOCKS_PER_THREAD blocks each, and on hardware
 * adapters more while chains x threads is under WIDE_TARGET_THREADS.
 */
export function wideThreadsPerChain(K: number, chains: number, software: boolean): number {
  const NV = numZBlocks(K);
  const cap = Math.min(MAX_THREADS_PER_CHAIN, nextPow2(NV));
  let tpc = Math.min(cap, nextPow2(Math.ceil(NV / WIDE_BLOCKS_PER_THREAD[software ? 'software' : 'hardware'])));
  if (!software) while (tpc < cap && chains * tpc < WIDE_TARGET_THREADS) tpc *= 2;
  return tpc;
}

/**
 * The WebGPU backend: chains live in GPU buffers; each `step` is one dispatch of
 * `shaders/hmc.wgsl` (whole trajectories on the GPU) and, during warmup, two reduction
 * dispatches (`shaders/reduce.wgsl`) whose partial sums come back in one small readback;
 * `warmupOnDevice` instead follows each with the adaptation itself (`shaders/adapt.wgsl`)
 * and runs up to MAX_DEVICE_WARMUP iterations per submit with no readback between them.
 * During sampling, draws of the retained chains accumulate in a record buffer that is
 * copied back chunk by chunk.
 */
class WebGpuBackend implements Backend {
  readonly name = 'webgpu' as const;
  readonly adapter: string;
  readonly dim: number;
  private readonly K: number;
  private readonly NV: number;
  /** The wide transition kernel (shaders/hmc_wide.wgsl) with its threads per chain, or null. */
  private readonly wide: WideLayout | null;
  private readonly invMassBuf: GPUBuffer;
  private readonly key: readonly [number, number];
  private readonly grid: ReturnType<typeof dispatchGrid>;
  private readonly reduceThreads: number;
  private readonly buffers: GPUBuffer[] = [];
  private readonly stepBuf: GPUBuffer;
  private readonly stateBuf: GPUBuffer;
  private readonly totalsBuf: GPUBuffer;
  private readonly reduceRead: GPUBuffer;
  private readonly partialBytes: { p1: number; p3: number };
  private recBuf: GPUBuffer;
  private hmcBind!: GPUBindGroup;
  private readonly reduceBind: GPUBindGroup;
  private readonly stepData: ArrayBuffer;
  /** u32 and f32 views of the step uniform (shaders/hmc.wgsl StepParams). */
  private readonly stepU32: Uint32Array;
  private readonly stepF32: Float32Array;
  private sampling = false;
  private batch: PendingBatch | null = null;
  private lastWasWarmup = false;
  // Recording state.
  private draws = 0;
  private retained = 0;
  private slots = 0;
  private slotInChunk = 0;
  private drawIndex = 0;
  private chunkStart = 0;
  private record?: {
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
  };
  private pendingCopies: Promise<void> = Promise.resolve();
  /** Idle staging buffers of `readTotals`. */
  private readonly totalsStaging: GPUBuffer[] = [];
  /** Readback buffers of the record buffer's size, reused from chunk to chunk (see flushChunk). */
  private recordStaging: GPUBuffer[] = [];
  /** The wide kernel's inverse mass as uploaded (z blocks, then mu, s; padding lanes 1). */
  private wideInvMass?: Float32Array<ArrayBuffer>;
  private sampledIterations = 0;
  /** Draws per retained chain read back and unpacked so far (complete chunks, in order). */
  private unpacked = 0;
  /** The first failure of the device seen (`deviceFault`). */
  private fault: DeviceFault | null = null;
  /** Set by `destroy`: a loss after it is this backend's own doing. */
  private destroyed = false;
  /** Resolves when the device is lost (with the fault), or never. */
  private readonly lost: Promise<DeviceFault | null>;
  /** Notes an uncaptured GPU error (one no error scope caught) as the device's fault. */
  private readonly onUncapturedError = (e: Event): void => {
    const err = (e as GPUUncapturedErrorEvent).error;
    const kind = err?.constructor?.name && err.constructor.name !== 'Object' ? err.constructor.name : 'GPUError';
    this.fault ??= { lost: false, reason: oneLine(`${kind}: ${err?.message ?? 'unknown error'}`) };
  };

  private constructor(
    private readonly gpu: Gpu,
    private model: HierModel,
    readonly chains: number,
    seed: number,
    private readonly diagMetric: boolean,
    private readonly pipelines: {
      wide: WideLayout | null;
      hmcLayout: GPUBindGroupLayout;
      hmcPipelineLayout: GPUPipelineLayout;
      /** ensemble_partial's layout, shared by its two variants (one bind group for both). */
      reduceBindings: GPUBindGroupLayout;
      reduceLayout: GPUPipelineLayout;
      /** The variant with position moments (host adaptation only), compiled on first use. */
      ensembleCode: string;
      hmcWarmup: GPUComputePipeline;
      hmcSample: GPUComputePipeline;
      ensembleLite: GPUComputePipeline;
      means: GPUComputePipeline;
      chees: GPUComputePipeline;
      adapt: GPUComputePipeline;
    },
  ) {
    const device = gpu.device;
    this.adapter = gpu.adapter.label;
    this.lost = device.lost.then((info) => {
      if (!this.destroyed) this.fault ??= { lost: true, reason: oneLine(`${info.reason ?? 'unknown'}${info.message ? ` (${info.message})` : ''}`) };
      return this.fault;
    });
    device.addEventListener('uncapturederror', this.onUncapturedError);
    this.K = model.stats.K;
    this.NV = numZBlocks(this.K);
    this.dim = model.dim;
    this.key = keyFromSeed(seed);
    this.wide = pipelines.wide;
    // Narrow kernel: one invocation per chain. Wide: one workgroup per cpw chains (the grid's
    // rowStride then counts workgroups per row).
    this.grid = this.wide ? dispatchGrid(Math.ceil(chains / this.wide.cpw), 1) : dispatchGrid(chains, CHAIN_WORKGROUP_SIZE);
    this.reduceThreads = Math.min(chains, MAX_REDUCE_THREADS, Math.max(64, Math.ceil(chains / CHAINS_PER_REDUCE_THREAD)));
    const S = this.NV + 1;
    const stateBytes = S * chains * 16;
    const limit = device.limits.maxStorageBufferBindingSize;
    if (3 * stateBytes > limit) {
      const most = Math.floor(limit / (3 * S * 16));
      throw new InputError('chains', `${chains} chains x ${this.K} groups need ${3 * stateBytes} bytes of warmup state, over this adapter's ${limit}-byte storage binding limit: use at most ${most} chains`);
    }
    // The stream form's trajectory scratch: q' and p per block, chain by chain (shaders/hmc_stream.wgsl).
    const scratchBytes = this.wide?.kind === 'stream' ? 2 * this.NV * chains * 16 : 16;
    if (scratchBytes > limit) {
      throw new InputError('chains', `${chains} chains x ${this.K} groups need ${scratchBytes} bytes of trajectory scratch, over this adapter's ${limit}-byte storage binding limit: use at most ${Math.floor(limit / (2 * this.NV * 16))} chains`);
    }
    const mk = (label: string, size: number, usage: number) => {
      const b = device.createBuffer({ label, size: Math.max(16, size), usage });
      this.buffers.push(b);
      return b;
    };
    const STORAGE = GPUBufferUsage.STORAGE;
    const groups = this.wide?.kind === 'stream' ? packGroupsCompact(model) : packGroups(model);
    // Sized for any c (the compact form has a third field, c, unless every c is 0 or 1), so
    // that `reparameterize` can write a new c into it.
    const groupBuf = mk('groups', Math.max(groups.byteLength, 3 * 16 * this.NV), STORAGE | GPUBufferUsage.COPY_DST);
    device.queue.writeBuffer(groupBuf, 0, groups);
    this.groupBuf = groupBuf;
    // The wide kernel reads the inverse mass from a storage buffer (any K), the narrow one
    // from the step uniform.
    this.stepData = new ArrayBuffer(4 * INV_MASS_WORD + (this.wide ? 0 : 16 * S));
    this.invMassBuf = mk('inverse mass', this.wide ? 16 * S : 16, STORAGE | GPUBufferUsage.COPY_DST);
    this.stepU32 = new Uint32Array(this.stepData);
    this.stepF32 = new Float32Array(this.stepData);
    this.stepBuf = mk('step params', this.stepData.byteLength, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
    this.stateBuf = mk('state', stateBytes, STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC);
    const warmBuf = mk('warmup state', 3 * stateBytes, STORAGE);
    const infoBuf = mk('transition info', chains * 16, STORAGE);
    this.totalsBuf = mk('sampling totals', chains * 16, STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST);
    this.recBuf = mk('records (empty)', 16, STORAGE | GPUBufferUsage.COPY_SRC);
    this.partialBytes = { p1: S * this.reduceThreads * ENSEMBLE_FIELDS * 16, p3: this.reduceThreads * 16 };
    const p1 = mk('ensemble partial sums', this.partialBytes.p1, STORAGE | GPUBufferUsage.COPY_SRC);
    const p3 = mk('chees partial sums', this.partialBytes.p3, STORAGE | GPUBufferUsage.COPY_SRC);
    this.reduceRead = mk('reduction readback', this.partialBytes.p1 + this.partialBytes.p3, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
    const reduceParams = mk('reduce params', 16, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
    device.queue.writeBuffer(reduceParams, 0, new Uint32Array([chains, this.reduceThreads, 0, 0]));
    // mq' and mq0 blocks, then the ensemble totals of the scalar and divergence fields.
    const meansBuf = mk('ensemble means', (2 * S + 2) * 16, STORAGE);
    this.adaptBuf = mk('adaptation state', 4 * ADAPT_STATE_WORDS, STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC);
    this.adaptParams = mk('adaptation params', 4 * ADAPT_PARAMS_WORDS, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
    this.historyBuf = mk('adaptation history', 4 * HISTORY_FIELDS * MAX_DEVICE_WARMUP, STORAGE | GPUBufferUsage.COPY_SRC);
    this.adaptRead = mk('adaptation readback', 4 * (ADAPT_STATE_WORDS + HISTORY_FIELDS * MAX_DEVICE_WARMUP), GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);

    const entries = (bufs: GPUBuffer[]) => bufs.map((buffer, binding) => ({ binding, resource: { buffer } }));
    const scratchBuf = mk('trajectory scratch', scratchBytes, STORAGE);
    this.hmcEntries = [[1, groupBuf], [2, this.stepBuf], [3, this.stateBuf], [4, this.invMassBuf], [5, warmBuf], [6, infoBuf], [7, this.totalsBuf], [9, this.adaptBuf], [10, scratchBuf]];
    this.rebindHmc();
    this.reduceBind = device.createBindGroup({
      label: 'ensemble reduction bindings',
      layout: pipelines.reduceBindings,
      entries: entries([reduceParams, this.stateBuf, warmBuf, infoBuf, p1]),
    });
    const bindSome = (label: string, pipeline: GPUComputePipeline, bufs: [number, GPUBuffer][]) =>
      device.createBindGroup({ label, layout: pipeline.getBindGroupLayout(0), entries: bufs.map(([binding, buffer]) => ({ binding, resource: { buffer } })) });
    this.meansBind = bindSome('ensemble means bindings', pipelines.means, [[0, reduceParams], [4, p1], [6, meansBuf]]);
    this.cheesBind = bindSome('chees reduction bindings', pipelines.chees, [[0, reduceParams], [2, warmBuf], [3, infoBuf], [5, p3], [6, meansBuf]]);
    this.adaptBind = bindSome('adaptation bindings', pipelines.adapt, [[0, reduceParams], [5, p3], [6, meansBuf], [7, this.adaptBuf], [8, this.adaptParams], [9, this.historyBuf]]);
    this.p1 = p1;
    this.p3 = p3;
  }

  private readonly hmcEntries: [number, GPUBuffer][];
  private readonly groupBuf: GPUBuffer;
  private readonly cheesBind: GPUBindGroup;
  private readonly meansBind: GPUBindGroup;
  private readonly adaptBind: GPUBindGroup;
  private readonly adaptBuf: GPUBuffer;
  private readonly adaptParams: GPUBuffer;
  private readonly historyBuf: GPUBuffer;
  private readonly adaptRead: GPUBuffer;
  /** hmc.wgsl's WarmupStep (step size, T, steps, iteration), written before a host-adapted warmup step. */
  private readonly warmupStep = (() => {
    const buf = new ArrayBuffer(16);
    return { f32: new Float32Array(buf), u32: new Uint32Array(buf) };
  })();
  private readonly p1: GPUBuffer;
  private readonly p3: GPUBuffer;

  /** Bytes of every GPU buffer this backend holds now (the scaling bench's GPU memory). */
  get bufferBytes(): number {
    let n = 0;
    for (const b of this.buffers) n += b.size;
    return n;
  }

  /** The wide kernel's form and threads per chain, or null for the baked (narrow) kernel. */
  get wideLayout(): WideLayout | null {
    return this.wide;
  }

  /** True when this backend acquired its own device (then `destroy` releases it too). */
  private ownsDevice = false;

  static async create(model: HierModel, chains: number, seed: number, gpu: Gpu | undefined, options: WebGpuBackendOptions): Promise<WebGpuBackend> {
    const g = gpu ?? (await requestGpu());
    try {
      const backend = await WebGpuBackend.build(g, model, chains, seed, options.diagMetric ?? false, options);
      backend.ownsDevice = gpu === undefined;
      return backend;
    } catch (err) {
      if (gpu === undefined) g.device.destroy();
      throw err;
    }
  }

  /**
   * WGSL of the warmup and sampling transition kernels of `model`: its priors (and in the
   * narrow kernel its group data and c) are compiled in.
   */
  private static transitionCode(g: Gpu, model: HierModel, diagMetric: boolean, wide: WideLayout | null): Promise<[string, string]> {
    const mc = modelShaderConsts(model);
    const common = {
      DIAG_METRIC: { type: 'bool', value: diagMetric },
      // Software adapters emulate vector shifts; Philox then takes its bit fields by float32
      // arithmetic (shaders/philox.wgsl).
      SOFT_SHIFTS: { type: 'bool', value: g.adapter.isFallback },
    } as const;
    const lik = model.stats.family.shader;
    const hmcModules: ShaderModule[] = wide
      ? ['prior', lik, 'block', wide.tpc > 1 ? 'chain_sum' : 'chain_sum_one', 'philox', 'hmc_common', 'hmc_wide_common', wide.kind === 'stream' ? 'hmc_stream' : 'hmc_wide']
      : ['prior', lik, 'model', 'philox', 'hmc_common', 'hmc'];
    const hmcConsts: Record<string, ShaderConst> = wide
      ? {
          ...common,
          BINARY_C: mc.BINARY_C,
          MU_LOC: mc.MU_LOC,
          MU_SCALE: mc.MU_SCALE,
          TAU_SCALE: mc.TAU_SCALE,
          TAU_HALF_CAUCHY: mc.TAU_HALF_CAUCHY,
          TPC: { type: 'u32', value: wide.tpc },
          BPT: { type: 'u32', value: wide.bpt },
          CPW: { type: 'u32', value: wide.cpw },
          WG: { type: 'u32', value: wide.tpc * wide.cpw },
        }
      : { ...common, ...mc, WG: { type: 'u32', value: CHAIN_WORKGROUP_SIZE } };
    return Promise.all([
      composeShader(hmcModules, { ...hmcConsts, WARMUP: { type: 'bool', value: true } }),
      composeShader(hmcModules, { ...hmcConsts, WARMUP: { type: 'bool', value: false } }),
    ]);
  }

  /** The warmup and sampling transition pipelines for WGSL from `transitionCode`, on the shared hmc layout. */
  private static transitionPipelines(g: Gpu, [warmupCode, sampleCode]: [string, string], layout: GPUPipelineLayout): Promise<[GPUComputePipeline, GPUComputePipeline]> {
    return Promise.all([
      createComputePipeline(g.device, 'hmc transition (warmup)', warmupCode, 'main', layout),
      createComputePipeline(g.device, 'hmc transitions (sampling)', sampleCode, 'main', layout),
    ]);
  }

  private static async build(g: Gpu, model: HierModel, chains: number, seed: number, diagMetric: boolean, options: WebGpuBackendOptions): Promise<WebGpuBackend> {
    const K = model.stats.K;
    const NV = numZBlocks(K);
    let wide: WideLayout | null = null;
    if (isWideModel(K)) {
      const kind = options.wideKernel ?? (g.adapter.isFallback ? 'stream' : 'registers');
      const tpc = options.threadsPerChain ?? (kind === 'stream' ? 1 : wideThreadsPerChain(K, chains, g.adapter.isFallback));
      if (!Number.isInteger(Math.log2(tpc)) || tpc > MAX_THREADS_PER_CHAIN) throw new RangeError(`threadsPerChain must be a power of two up to ${MAX_THREADS_PER_CHAIN}, got ${tpc}`);
      wide = { kind, tpc, cpw: Math.max(1, WIDE_WORKGROUP_SIZE / tpc), bpt: Math.ceil(NV / tpc) };
    }
    const redConsts = { NV: { type: 'u32', value: NV }, NB: { type: 'u32', value: NV + 1 }, WGR: { type: 'u32', value: REDUCE_WORKGROUP_SIZE }, MOMENTS: { type: 'bool', value: true } } as const;
    const partials = wide ? 'reduce_wide' : 'reduce_blocks';
    const [hmcCode, redCode, redLiteCode, adaptCode] = await Promise.all([
      WebGpuBackend.transitionCode(g, model, diagMetric, wide),
      composeShader(['reduce', partials], redConsts),
      composeShader(['reduce', partials], { ...redConsts, MOMENTS: { type: 'bool', value: false } }),
      composeShader(['reduce', 'adapt'], redConsts),
    ]);
    return withErrorScopes(g.device, async () => {
      // The two transition pipelines share one explicit layout (and so one bind group):
      // 1 groups, 2 step params, 3 state, 4 inverse mass (wide kernel), 5 warm, 6 info,
      // 7 totals, 8 records, 9 warmup step (the device adaptation's state), 10 trajectory
      // scratch (wide kernel, stream form).
      // (Made once per device, so that pipelines on them are reused across runs.)
      const { bindings: hmcLayout, layout } = cachedLayout(
        g.device,
        'hmc',
        [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((binding) => ({
          binding,
          visibility: GPUShaderStage.COMPUTE,
          buffer: { type: binding === 1 || binding === 4 || binding === 9 ? 'read-only-storage' : binding === 2 ? 'uniform' : 'storage' },
        })),
      );
      // 0 params, 1 state, 2 warm, 3 info, 4 partial sums.
      const { bindings: reduceBindings, layout: reduceLayout } = cachedLayout(
        g.device,
        'ensemble reduction',
        [0, 1, 2, 3, 4].map((binding) => ({
          binding,
          visibility: GPUShaderStage.COMPUTE,
          buffer: { type: binding === 0 ? 'uniform' : binding === 4 ? 'storage' : 'read-only-storage' },
        })),
      );
      const [[hmcWarmup, hmcSample], ensembleLite, means, chees, adapt] = await Promise.all([
        WebGpuBackend.transitionPipelines(g, hmcCode, layout),
        createComputePipeline(g.device, 'ensemble reduction (no position moments)', redLiteCode, 'ensemble_partial', reduceLayout),
        createComputePipeline(g.device, 'ensemble means', redCode, 'ensemble_means'),
        createComputePipeline(g.device, 'chees reduction', redLiteCode, 'chees_partial'),
        createComputePipeline(g.device, 'device adaptation', adaptCode, 'adapt'),
      ]);
      return new WebGpuBackend(g, model, chains, seed, diagMetric, { wide, hmcLayout, hmcPipelineLayout: layout, reduceBindings, reduceLayout, ensembleCode: redCode, hmcWarmup, hmcSample, ensembleLite, means, chees, adapt });
    });
  }

  private rebindHmc(): void {
    this.hmcBind = this.gpu.device.createBindGroup({
      label: 'hmc bindings',
      layout: this.pipelines.hmcLayout,
      entries: [...this.hmcEntries, [8, this.recBuf] as const].map(([binding, buffer]) => ({ binding, resource: { buffer } })),
    });
  }

  /** Writes the initial positions (each transition evaluates log p and its gradient itself). */
  async init(positions: Float64Array): Promise<void> {
    const device = this.gpu.device;
    await withErrorScopes(device, () => device.queue.writeBuffer(this.stateBuf, 0, packPositions(this.K, this.chains, positions)));
    await gpuWait(() => device.queue.onSubmittedWorkDone());
  }

  /**
   * Rebuilds the two transition pipelines for the new c (compiled in; the reductions and
   * the adaptation do not depend on it), rewrites the group data and the positions. The
   * bind groups stay: the pipelines share the explicit hmc layout.
   */
  async reparameterize(model: HierModel, positions: Float64Array): Promise<void> {
    if (this.sampling) throw new Error('reparameterize() is only available before sampling');
    if (model.dim !== this.dim) throw new RangeError(`reparameterize: the model has dimension ${model.dim}, the backend ${this.dim}`);
    const g = this.gpu;
    this.flushBatch();
    const code = await WebGpuBackend.transitionCode(g, model, this.diagMetric, this.wide);
    const [hmcWarmup, hmcSample] = await withErrorScopes(g.device, () => WebGpuBackend.transitionPipelines(g, code, this.pipelines.hmcPipelineLayout));
    this.pipelines.hmcWarmup = hmcWarmup;
    this.pipelines.hmcSample = hmcSample;
    this.model = model;
    const groups = this.wide?.kind === 'stream' ? packGroupsCompact(model) : packGroups(model);
    await withErrorScopes(g.device, () => g.device.queue.writeBuffer(this.groupBuf, 0, groups));
    this.lastWasWarmup = false;
    await this.init(positions);
  }

  step(params: TransitionParams): void {
    this.checkMetric(params.invMass);
    if (!this.sampling) {
      // Warmup: one transition per dispatch, followed by the reductions adaptation reads.
      this.flushBatch();
      this.dispatch({ first: params.iteration, stepSize: params.stepSize, invMass: params.invMass, steps: [params.numSteps], recording: false, firstSlot: 0 }, true);
      this.lastWasWarmup = true;
      return;
    }
    // Sampling: consecutive transitions with the same step size and metric are batched, up
    // to MAX_BATCH per dispatch (state stays in registers between them); a batch never
    // straddles a record chunk.
    const recording = this.drawIndex < this.draws;
    const b = this.batch;
    if (
      b &&
      (b.steps.length === MAX_BATCH ||
        b.first + b.steps.length !== params.iteration ||
        b.stepSize !== params.stepSize ||
        b.recording !== recording ||
        b.invMass.some((m, i) => m !== params.invMass[i]))
    ) {
      this.flushBatch();
    }
    this.batch ??= { first: params.iteration, stepSize: params.stepSize, invMass: Float64Array.from(params.invMass), steps: [], recording, firstSlot: this.slotInChunk };
    this.batch.steps.push(params.numSteps);
    this.lastWasWarmup = false;
    this.sampledIterations++;
    if (recording) {
      this.drawIndex++;
      this.slotInChunk++;
      if (this.slotInChunk === this.slots || this.drawIndex === this.draws) {
        this.flushBatch();
        this.flushChunk();
      }
    }
  }

  /** inv_mass is unused (the unit metric is compiled in) unless the backend was created with diagMetric. */
  private checkMetric(invMass: Float64Array): void {
    if (!this.diagMetric && invMass.some((m) => m !== 1)) {
      throw new Error('this WebGPU backend was compiled for the unit metric: create it with { diagMetric: true } to pass another invMass');
    }
  }

  /** Dispatches the pending batch of sampling transitions, if any. */
  private flushBatch(): void {
    if (this.batch) this.dispatch(this.batch, false);
    this.batch = null;
  }

  /** Writes the step uniform (shaders/hmc.wgsl StepParams) for a batch. */
  private writeStepParams(b: PendingBatch): void {
    const u = this.stepU32;
    const f = this.stepF32;
    u[0] = b.first >>> 0;
    u[1] = b.steps.length;
    u[2] = this.chains;
    u[3] = this.wide ? this.grid.x : this.grid.rowStride;
    f[4] = b.stepSize;
    u[5] = b.recording ? FLAG_RECORD : 0;
    u[6] = b.firstSlot;
    u[7] = this.retained;
    u[8] = this.key[0];
    u[9] = this.key[1];
    u[10] = this.slots;
    u[11] = this.K;
    u.fill(0, STEP_HEADER_WORDS, INV_MASS_WORD);
    u.set(b.steps, STEP_HEADER_WORDS);
    // inv_mass: z blocks then (mu, s, 1, 1); padding lanes 1. In the step uniform (narrow
    // kernel) or its own storage buffer (wide kernel; the unit metric never reads it).
    if (this.wide) {
      if (this.diagMetric) {
        const im = (this.wideInvMass ??= new Float32Array(4 * (this.NV + 1))).fill(1);
        for (let k = 0; k < this.K; k++) im[4 * (k >> 2) + (k & 3)] = b.invMass[this.model.layout.group(k)];
        im[4 * this.NV] = b.invMass[this.model.layout.global('mu')];
        im[4 * this.NV + 1] = b.invMass[this.model.layout.global('log_tau')];
        this.gpu.device.queue.writeBuffer(this.invMassBuf, 0, im);
      }
    } else {
      f.fill(1, INV_MASS_WORD);
      for (let k = 0; k < this.K; k++) f[INV_MASS_WORD + 4 * (k >> 2) + (k & 3)] = b.invMass[this.model.layout.group(k)];
      f[INV_MASS_WORD + 4 * this.NV] = b.invMass[this.model.layout.global('mu')];
      f[INV_MASS_WORD + 4 * this.NV + 1] = b.invMass[this.model.layout.global('log_tau')];
    }
    this.gpu.device.queue.writeBuffer(this.stepBuf, 0, this.stepData);
  }

  private ensembleMoments?: GPUComputePipeline;

  /**
   * The ensemble reduction with position moments, which only the host adaptation (metric
   * windows) reads: compiled on first use (synchronously; a few hundred ms on SwiftShader)
   * rather than in every run's start-up.
   */
  private ensembleWithMoments(): GPUComputePipeline {
    if (!this.ensembleMoments) {
      const device = this.gpu.device;
      const label = 'ensemble reduction (with position moments)';
      this.ensembleMoments = device.createComputePipeline({
        label,
        layout: this.pipelines.reduceLayout,
        compute: { module: device.createShaderModule({ label, code: this.pipelines.ensembleCode }), entryPoint: 'ensemble_partial' },
      });
    }
    return this.ensembleMoments;
  }

  /**
   * Encodes one warmup transition and the reductions adaptation reads (with the position
   * moments for the host's `ensembleStats`, or without them for the device adaptation).
   */
  private encodeWarmup(pass: GPUComputePassEncoder, moments: boolean): void {
    const groups = Math.ceil(this.reduceThreads / REDUCE_WORKGROUP_SIZE);
    pass.setPipeline(this.pipelines.hmcWarmup);
    pass.setBindGroup(0, this.hmcBind);
    pass.dispatchWorkgroups(this.grid.x, this.grid.y);
    pass.setPipeline(moments ? this.ensembleWithMoments() : this.pipelines.ensembleLite);
    pass.setBindGroup(0, this.reduceBind);
    // The wide form runs a row of workgroups per block (shaders/reduce_wide.wgsl).
    pass.dispatchWorkgroups(groups, this.wide ? this.NV + 1 : 1);
    pass.setPipeline(this.pipelines.means);
    pass.setBindGroup(0, this.meansBind);
    pass.dispatchWorkgroups(this.NV + 1);
    pass.setPipeline(this.pipelines.chees);
    pass.setBindGroup(0, this.cheesBind);
    pass.dispatchWorkgroups(groups);
  }

  /** Encodes and submits one hmc dispatch (and, in warmup, the reductions and their copy). */
  private dispatch(b: PendingBatch, warmup: boolean): void {
    const device = this.gpu.device;
    this.writeStepParams(b);
    if (warmup) {
      // The warmup kernel reads its iteration, step size and steps from the adaptation
      // state's prefix (shaders/hmc.wgsl WarmupStep).
      const w = this.warmupStep;
      w.f32[0] = b.stepSize;
      w.u32[2] = b.steps[0];
      w.u32[3] = b.first >>> 0;
      device.queue.writeBuffer(this.adaptBuf, 0, w.u32);
    }
    const enc = device.createCommandEncoder({ label: `iterations ${b.first}..${b.first + b.steps.length - 1}` });
    const pass = enc.beginComputePass({ label: 'hmc' });
    if (warmup) {
      this.encodeWarmup(pass, true);
    } else {
      pass.setPipeline(this.pipelines.hmcSample);
      pass.setBindGroup(0, this.hmcBind);
      pass.dispatchWorkgroups(this.grid.x, this.grid.y);
    }
    pass.end();
    if (warmup) {
      enc.copyBufferToBuffer(this.p1, 0, this.reduceRead, 0, this.partialBytes.p1);
      enc.copyBufferToBuffer(this.p3, 0, this.reduceRead, this.partialBytes.p1, this.partialBytes.p3);
    }
    device.queue.submit([enc.finish()]);
  }

  async warmupOnDevice(args: DeviceWarmupArgs): Promise<DeviceWarmupResult> {
    const { first, count, state, chees, dualAveraging: da, jitter, invMass } = args;
    if (this.sampling) throw new Error('warmupOnDevice() is only available before sampling');
    if (!Number.isInteger(count) || count < 1 || count > MAX_DEVICE_WARMUP) throw new RangeError(`count must be an integer in [1, ${MAX_DEVICE_WARMUP}], got ${count}`);
    if (jitter.length < count + 1) throw new RangeError(`jitter needs ${count + 1} values, got ${jitter.length}`);
    this.checkMetric(invMass);
    const device = this.gpu.device;
    this.flushBatch();
    const L0 = numLeapfrogSteps(jitter[0], state.trajectoryLength, state.stepSize, chees.maxLeapfrogSteps);
    this.writeStepParams({ first, stepSize: state.stepSize, invMass, steps: [L0], recording: false, firstSlot: 0 });
    device.queue.writeBuffer(this.adaptBuf, 0, packAdaptState(state, first, L0));
    const pr = new ArrayBuffer(4 * ADAPT_PARAMS_WORDS);
    const pf = new Float32Array(pr);
    const pu = new Uint32Array(pr);
    pu[0] = first >>> 0;
    pu[1] = count;
    pu[2] = chees.maxLeapfrogSteps;
    pf.set([chees.targetAccept, chees.learningRate, chees.b2, chees.adamEps, chees.decayRate, da.t0, da.gamma, da.kappa], 4);
    pf.set(jitter.subarray(0, count + 1), 12);
    device.queue.writeBuffer(this.adaptParams, 0, pr);

    const enc = device.createCommandEncoder({ label: `warmup ${first}..${first + count - 1} (device adaptation)` });
    const pass = enc.beginComputePass({ label: 'warmup' });
    for (let i = 0; i < count; i++) {
      this.encodeWarmup(pass, false);
      pass.setPipeline(this.pipelines.adapt);
      pass.setBindGroup(0, this.adaptBind);
      pass.dispatchWorkgroups(1);
    }
    pass.end();
    const histBytes = 4 * HISTORY_FIELDS * count;
    enc.copyBufferToBuffer(this.adaptBuf, 0, this.adaptRead, 0, 4 * ADAPT_STATE_WORDS);
    enc.copyBufferToBuffer(this.historyBuf, 0, this.adaptRead, 4 * ADAPT_STATE_WORDS, histBytes);
    device.queue.submit([enc.finish()]);
    this.lastWasWarmup = false;
    await gpuWait(() => this.adaptRead.mapAsync(GPUMapMode.READ, 0, 4 * ADAPT_STATE_WORDS + histBytes));
    const raw = this.adaptRead.getMappedRange(0, 4 * ADAPT_STATE_WORDS + histBytes);
    const h = new Float32Array(raw, 4 * ADAPT_STATE_WORDS, HISTORY_FIELDS * count);
    const col = (j: number) => Float64Array.from({ length: count }, (_, i) => h[i * HISTORY_FIELDS + j]);
    const result: DeviceWarmupResult = {
      state: unpackAdaptState(raw),
      stepSize: col(0),
      trajectoryLength: col(1),
      numSteps: Int32Array.from(col(2)),
      meanAccept: col(3),
      harmonicMeanAccept: col(4),
      divergences: Int32Array.from(col(5)),
    };
    this.adaptRead.unmap();
    return result;
  }

  async positions(): Promise<Float32Array> {
    if (this.sampling) throw new Error('positions() is only available before sampling');
    this.flushBatch();
    const device = this.gpu.device;
    const bytes = (this.NV + 1) * this.chains * 16;
    const staging = device.createBuffer({ label: 'positions readback', size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    try {
      const enc = device.createCommandEncoder({ label: 'positions copy' });
      enc.copyBufferToBuffer(this.stateBuf, 0, staging, 0, bytes);
      device.queue.submit([enc.finish()]);
      await gpuWait(() => staging.mapAsync(GPUMapMode.READ));
      const out = new Float32Array(this.chains * this.dim);
      unpackPositions(this.K, this.chains, this.chains, new Float32Array(staging.getMappedRange()), out);
      staging.unmap();
      return out;
    } finally {
      staging.destroy();
    }
  }

  async ensembleStats(): Promise<EnsembleStats> {
    if (!this.lastWasWarmup) throw new Error('ensembleStats() is only available after a warmup step');
    const G = this.reduceThreads;
    const S = this.NV + 1;
    await gpuWait(() => this.reduceRead.mapAsync(GPUMapMode.READ));
    const all = new Float32Array(this.reduceRead.getMappedRange());
    // Sum partials in float64 (per block j, field f: a vec4), then release the mapping.
    const sums = new Float64Array(S * ENSEMBLE_FIELDS * 4);
    for (let j = 0; j < S; j++) {
      for (let w = 0; w < G; w++) {
        const src = ((j * G + w) * ENSEMBLE_FIELDS) * 4;
        const dst = j * ENSEMBLE_FIELDS * 4;
        for (let i = 0; i < ENSEMBLE_FIELDS * 4; i++) if (i < F_SHIFT * 4 || w === 0) sums[dst + i] += all[src + i];
      }
    }
    let gradSum = 0;
    const p3off = this.partialBytes.p1 / 4;
    for (let w = 0; w < G; w++) gradSum += all[p3off + 4 * w];
    this.reduceRead.unmap();
    const scal = F_SCALARS * 4; // block 0
    const numValid = sums[scal];
    const weightSum = sums[scal + 1];
    const invSum = sums[scal + 2];
    const acceptSum = sums[scal + 3];
    const numDivergent = sums[F_DIVERGENT * 4];
    const C = this.chains;
    const D = this.dim;
    const positionMean = new Float64Array(D);
    const positionVar = new Float64Array(D);
    const put = (d: number, j: number, lane: number) => {
      const base = j * ENSEMBLE_FIELDS * 4;
      const m = sums[base + F_SUM_Q * 4 + lane] / C;
      const v = Math.max(0, sums[base + F_SUM_Q2 * 4 + lane] / C - m * m) * (C / Math.max(1, C - 1));
      positionMean[d] = m + sums[base + F_SHIFT * 4 + lane];
      positionVar[d] = v;
    };
    const layout = this.model.layout;
    for (let k = 0; k < this.K; k++) put(layout.group(k), k >> 2, k & 3);
    // The globals sit in the last block's lanes, in the layout's order.
    for (let g = 0; g < layout.groupStart; g++) put(layout.global(layout.globals[g]), this.NV, g);
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

  beginSampling(draws: number, retainedChains: number): void {
    const device = this.gpu.device;
    const S = this.NV + 1;
    this.sampling = true;
    this.draws = draws;
    this.retained = Math.min(retainedChains, this.chains);
    const bytesPerSlot = (2 * S + 1) * this.retained * 16;
    const limit = Math.min(device.limits.maxStorageBufferBindingSize, RECORD_CHUNK_BYTES);
    this.slots = Math.max(1, Math.min(draws, Math.floor(limit / Math.max(1, bytesPerSlot))));
    if (this.retained > 0 && bytesPerSlot > device.limits.maxStorageBufferBindingSize) {
      throw new RangeError(`recording ${this.retained} chains needs ${bytesPerSlot} bytes per draw, over the storage binding limit`);
    }
    const D = this.dim;
    const n = this.retained * draws;
    const constrained = allocateConstrained(this.model, n);
    this.record = {
      positions: new Float32Array(n * D),
      logDensity: new Float32Array(n),
      energy: new Float32Array(n),
      acceptProb: new Float32Array(n),
      divergent: new Uint8Array(n),
      divPos: [],
      divChain: [],
      divDraw: [],
      constrained,
      constrain: rowConstrainer(this.model, constrained),
    };
    if (this.retained > 0) {
      for (const b of this.recordStaging) b.destroy();
      this.recordStaging = [];
      this.recBuf.destroy();
      this.recBuf = device.createBuffer({ label: 'records', size: this.slots * bytesPerSlot, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
      this.buffers.push(this.recBuf);
      this.rebindHmc();
    }
    device.queue.writeBuffer(this.totalsBuf, 0, new Float32Array(this.chains * 4));
    this.drawIndex = 0;
    this.slotInChunk = 0;
    this.chunkStart = 0;
  }

  recordDraw(): void {
    // The transition kernel writes the draw itself (FLAG_RECORD); nothing to do here.
  }

  /** Copies the filled slots of the record buffer back and unpacks them (asynchronously). */
  private flushChunk(): void {
    const device = this.gpu.device;
    const used = this.slotInChunk;
    const first = this.chunkStart;
    const S = this.NV + 1;
    const R = this.retained;
    const slots = this.slots;
    const size = this.recBuf.size;
    // A pooled readback: creating one per chunk (64 MiB, zero-filled by Dawn) cost the host
    // about 60 ms a chunk, taken from the cores SwiftShader runs the device on.
    let staging = this.recordStaging.pop();
    if (!staging) {
      staging = device.createBuffer({ label: 'records readback', size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      this.buffers.push(staging);
    }
    const enc = device.createCommandEncoder({ label: 'records copy' });
    enc.copyBufferToBuffer(this.recBuf, 0, staging, 0, size);
    device.queue.submit([enc.finish()]);
    this.chunkStart += used;
    this.slotInChunk = 0;
    const rec = this.record!;
    const K = this.K;
    const D = this.dim;
    const layout = this.model.layout;
    const iZ0 = layout.group(0);
    const G = layout.groupStart;
    const gIdx = layout.globals.map((g) => layout.global(g));
    const draws = this.draws;
    const prev = this.pendingCopies;
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
          for (let j = 0; j < NV; j++) {
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
          rec.divChain.push(c);
          rec.divDraw.push(first + t);
        }
      }
      staging.unmap();
      this.recordStaging.push(staging);
      this.unpacked = first + used;
    });
    // Awaited by the next sync or collect; a failure (a lost device) while none waits is
    // reported there, not as an unhandled rejection.
    done.catch(() => {});
    this.pendingCopies = done;
  }

  /**
   * Sampling totals over all chains, summed (in float64) while the readback is mapped. The
   * copy is encoded at the call, so the totals are those of the work submitted before it,
   * whatever is submitted while the mapping is pending; each call takes its own staging
   * buffer (chains × 16 bytes) from a pool, so calls may overlap (the sampler keeps two in
   * flight) and none is created per sync.
   */
  private readTotals(): Promise<{ divergences: number; acceptSum: number; steps: number }> {
    const device = this.gpu.device;
    const bytes = this.chains * 16;
    let staging = this.totalsStaging.pop();
    if (!staging) {
      staging = device.createBuffer({ label: 'totals readback', size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      this.buffers.push(staging);
    }
    const enc = device.createCommandEncoder({ label: 'totals copy' });
    enc.copyBufferToBuffer(this.totalsBuf, 0, staging, 0, bytes);
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
      this.totalsStaging.push(staging);
      return { divergences, acceptSum, steps };
    });
  }

  /**
   * Submits the pending batch and resolves with the divergences of the work submitted so
   * far, once the device has done it (and the readbacks of finished record chunks are
   * unpacked). Work submitted after the call keeps the device busy meanwhile: the sampler
   * awaits each sync one interval later (`sample`), so the device never waits for the host.
   */
  async sync(): Promise<number> {
    this.flushBatch();
    if (!this.sampling) {
      await gpuWait(() => this.gpu.device.queue.onSubmittedWorkDone());
      return 0;
    }
    const [totals] = await Promise.all([this.readTotals(), this.pendingCopies]);
    return totals.divergences;
  }

  /** Copies the first n chains of each block of the state buffer back (one small readback). */
  async snapshotPositions(n: number): Promise<Float32Array> {
    this.flushBatch();
    const device = this.gpu.device;
    const S = this.NV + 1;
    const m = Math.min(n, this.chains);
    const bytes = m * 16;
    const staging = device.createBuffer({ label: 'positions snapshot', size: S * bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const enc = device.createCommandEncoder({ label: 'positions snapshot copy' });
    for (let j = 0; j < S; j++) enc.copyBufferToBuffer(this.stateBuf, j * this.chains * 16, staging, j * bytes, bytes);
    device.queue.submit([enc.finish()]);
    await gpuWait(() => staging.mapAsync(GPUMapMode.READ));
    const out = new Float32Array(m * this.dim);
    unpackPositions(this.K, m, m, new Float32Array(staging.getMappedRange()), out);
    staging.unmap();
    staging.destroy();
    return out;
  }

  async collect(): Promise<{ draws: RecordedDraws; totals: SamplingTotals }> {
    this.flushBatch();
    if (this.slotInChunk > 0) this.flushChunk();
    await this.pendingCopies;
    const { divergences, acceptSum, steps } = await this.readTotals();
    const draws = this.recordedDraws(this.record!);
    const n = this.chains * Math.max(1, this.sampledIterations);
    return { draws, totals: { divergences, meanAccept: acceptSum / n, gradientEvals: steps } };
  }

  async deviceFault(wait = false): Promise<DeviceFault | null> {
    if (this.fault || !wait) return this.fault;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), DEVICE_LOSS_WAIT_MS)));
    await Promise.race([this.lost, late]);
    clearTimeout(timer);
    return this.fault;
  }

  salvage(): { draws: RecordedDraws; n: number } | null {
    const rec = this.record;
    if (!rec) return null;
    return { n: this.unpacked, draws: this.recordedDraws(rec) };
  }

  /** The recording as the sampler returns it (the divergences' growable lists packed). */
  private recordedDraws(rec: NonNullable<typeof this.record>): RecordedDraws {
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

  destroy(): void {
    this.destroyed = true;
    this.gpu.device.removeEventListener('uncapturederror', this.onUncapturedError);
    this.batch = null;
    for (const b of this.buffers) b.destroy();
    this.buffers.length = 0;
    if (this.ownsDevice) this.gpu.device.destroy();
  }
}

/** A device's message on one line (Dawn's span several: " - While calling ..."). */
function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

/** Options of the WebGPU backend. */
export interface WebGpuBackendOptions {
  /**
   * Compile the kernel for a diagonal metric (`invMass` per step). Off: the unit metric is
   * compiled in, which saves SwiftShader ~15% of each leapfrog step.
   */
  readonly diagMetric?: boolean;
  /**
   * Threads per chain of the wide kernel (models of more than 4 x MAX_BAKED_BLOCKS groups):
   * a power of two up to 256; by default enough for a few blocks each (wideThreadsPerChain).
   */
  readonly threadsPerChain?: number;
  /** The wide kernel's form (models of more than 4 x MAX_BAKED_BLOCKS groups); see WideKernel. */
  readonly wideKernel?: WideKernel;
}

/** How the wide kernel runs: its form, threads per chain, chains per workgroup, blocks per thread. */
export interface WideLayout {
  readonly kind: WideKernel;
  readonly tpc: number;
  readonly cpw: number;
  readonly bpt: number;
}

/**
 * Creates the WebGPU backend (float32 on the GPU; see `shaders/hmc.wgsl`). Uses `gpu` when
 * given, else acquires the default adapter (Node: Dawn, with SwiftShader as fallback).
 */
export function createWebGpuBackend(model: HierModel, chains: number, seed: number, gpu?: Gpu, options: WebGpuBackendOptions = {}): Promise<Backend> {
  return WebGpuBackend.create(model, chains, seed, gpu, options);
}
