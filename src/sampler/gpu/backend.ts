/**
 * The WebGPU backend: its lifecycle and buffers, and the dispatches of each step. The
 * kernels are chosen and compiled in kernels.ts, the structs the host writes are laid out in
 * params.ts, the reductions added up in reductions.ts, the draws unpacked in records.ts and
 * the device adaptation runs in device_warmup.ts.
 */
import type { HierModel } from '../../model/model.ts';
import { InputError } from '../../errors.ts';
import { requestGpu, withErrorScopes, type Gpu } from '../../gpu/device.ts';
import { gpuWait } from '../../gpu/wait.ts';
import { dispatchGrid } from '../../gpu/shader.ts';
import type { WgslStructs } from '../../gpu/structs.ts';
import { packGroups, packGroupsCompact, packPositions, packPredictorData, stateBlocks, unpackPositions } from '../../gpu/layout.ts';
import { CHAIN_WORKGROUP_SIZE } from '../../gpu/logdensity.ts';
import { keyFromSeed } from '../rng.ts';
import { numLeapfrogSteps } from '../../adaptation/chees.ts';
import {
  DEVICE_LOSS_WAIT_MS,
  MAX_DEVICE_WARMUP,
  type Backend,
  type DeviceFault,
  type DeviceWarmupArgs,
  type DeviceWarmupResult,
  type EnsembleStats,
  type RecordedDraws,
  type SamplingTotals,
  type TransitionParams,
} from '../backend.ts';
import { buildPipelines, chooseWideLayout, ensembleWithMoments, REDUCE_WORKGROUP_SIZE, transitionCode, transitionPipelines, type Pipelines, type WebGpuBackendOptions, type WideLayout } from './kernels.ts';
import { adaptStructs, blockInvMass, packReduceParams, StepParams, transitionStructs, WarmupStepView, type StepHeader } from './params.ts';
import { ensembleStats, partialBytes, reduceThreads, TotalsReader } from './reductions.ts';
import { Recorder } from './records.ts';
import { DeviceAdaptation } from './device_warmup.ts';
import { canExtend, type PendingBatch } from './batching.ts';

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
  private readonly grid: ReturnType<typeof dispatchGrid>;
  private readonly reduceThreads: number;
  private readonly buffers: GPUBuffer[] = [];
  private readonly groupBuf: GPUBuffer;
  private readonly invMassBuf: GPUBuffer;
  private readonly stepBuf: GPUBuffer;
  private readonly stateBuf: GPUBuffer;
  private readonly totalsBuf: GPUBuffer;
  private readonly p1: GPUBuffer;
  private readonly p3: GPUBuffer;
  private readonly reduceRead: GPUBuffer;
  private readonly partialBytes: { p1: number; p3: number };
  /** The transition kernels' bindings but the record buffer's (binding 8: `rebindHmc`). */
  private readonly hmcEntries: [number, GPUBuffer][];
  private hmcBind!: GPUBindGroup;
  private readonly reduceBind: GPUBindGroup;
  private readonly meansBind: GPUBindGroup;
  private readonly cheesBind: GPUBindGroup;
  private readonly stepParams: StepParams;
  private readonly warmupStep: WarmupStepView;
  private readonly adaptation: DeviceAdaptation;
  private readonly totals: TotalsReader;
  private readonly recorder: Recorder;
  /** The wide kernel's inverse mass as uploaded (z blocks, then the globals; padding lanes 1). */
  private wideInvMass?: Float32Array<ArrayBuffer>;
  private ensembleMoments?: GPUComputePipeline;
  private sampling = false;
  private batch: PendingBatch | null = null;
  private lastWasWarmup = false;
  private sampledIterations = 0;
  /** The first failure of the device seen (`deviceFault`). */
  private fault: DeviceFault | null = null;
  /** Set by `destroy`: a loss after it is this backend's own doing. */
  private destroyed = false;
  /** True when this backend acquired its own device (then `destroy` releases it too). */
  private ownsDevice = false;
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
    wide: WideLayout | null,
    private readonly pipelines: Pipelines,
    structs: { transition: WgslStructs; adapt: WgslStructs },
  ) {
    const device = gpu.device;
    this.adapter = gpu.adapter.label;
    this.lost = device.lost.then((info) => {
      if (!this.destroyed) this.fault ??= { lost: true, reason: oneLine(`${info.reason ?? 'unknown'}${info.message ? ` (${info.message})` : ''}`) };
      return this.fault;
    });
    device.addEventListener('uncapturederror', this.onUncapturedError);
    this.K = model.stats.K;
    this.NV = stateBlocks(model.layout);
    this.dim = model.dim;
    this.wide = wide;
    // Narrow kernel: one invocation per chain. Wide: one workgroup per cpw chains (the grid's
    // rowStride then counts workgroups per row).
    this.grid = wide ? dispatchGrid(Math.ceil(chains / wide.cpw), 1) : dispatchGrid(chains, CHAIN_WORKGROUP_SIZE);
    this.reduceThreads = reduceThreads(chains);
    const S = this.NV + 1;
    const stateBytes = S * chains * 16;
    const limit = device.limits.maxStorageBufferBindingSize;
    if (3 * stateBytes > limit) {
      const most = Math.floor(limit / (3 * S * 16));
      throw new InputError('chains', `${chains} chains x ${this.K} groups need ${3 * stateBytes} bytes of warmup state, over this adapter's ${limit}-byte storage binding limit: use at most ${most} chains`);
    }
    // The stream form's trajectory scratch: q' and p per block, chain by chain (shaders/hmc_stream.wgsl).
    const scratchBytes = wide?.kind === 'stream' ? 2 * this.NV * chains * 16 : 16;
    if (scratchBytes > limit) {
      throw new InputError('chains', `${chains} chains x ${this.K} groups need ${scratchBytes} bytes of trajectory scratch, over this adapter's ${limit}-byte storage binding limit: use at most ${Math.floor(limit / (2 * this.NV * 16))} chains`);
    }
    const made = (b: GPUBuffer) => void this.buffers.push(b);
    const mk = (label: string, size: number, usage: number) => {
      const b = device.createBuffer({ label, size: Math.max(16, size), usage });
      made(b);
      return b;
    };
    const STORAGE = GPUBufferUsage.STORAGE;
    const groups = wide?.kind === 'stream' ? packGroupsCompact(model) : packGroups(model);
    // Sized for any c (the compact form has a third field, c, unless every c is 0 or 1), so
    // that `reparameterize` can write a new c into it.
    this.groupBuf = mk('groups', Math.max(groups.byteLength, 3 * 16 * this.NV), STORAGE | GPUBufferUsage.COPY_DST);
    device.queue.writeBuffer(this.groupBuf, 0, groups);
    // The wide kernel reads the inverse mass from a storage buffer (any K), the narrow one
    // from the step uniform.
    this.stepParams = new StepParams(structs.transition, { chains, rowStride: wide ? this.grid.x : this.grid.rowStride, key: keyFromSeed(seed), K: this.K });
    this.warmupStep = new WarmupStepView(structs.transition, structs.adapt);
    this.invMassBuf = mk('inverse mass', wide ? 16 * S : 16, STORAGE | GPUBufferUsage.COPY_DST);
    this.stepBuf = mk('step params', this.stepParams.data.byteLength, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
    this.stateBuf = mk('state', stateBytes, STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC);
    const warmBuf = mk('warmup state', 3 * stateBytes, STORAGE);
    const infoBuf = mk('transition info', chains * 16, STORAGE);
    this.totalsBuf = mk('sampling totals', chains * 16, STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST);
    this.totals = new TotalsReader(device, this.totalsBuf, chains, made);
    this.recorder = new Recorder(device, chains, this.K, this.NV, made);
    this.partialBytes = partialBytes(this.NV, this.reduceThreads);
    this.p1 = mk('ensemble partial sums', this.partialBytes.p1, STORAGE | GPUBufferUsage.COPY_SRC);
    this.p3 = mk('chees partial sums', this.partialBytes.p3, STORAGE | GPUBufferUsage.COPY_SRC);
    this.reduceRead = mk('reduction readback', this.partialBytes.p1 + this.partialBytes.p3, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
    const reduceParams = mk('reduce params', 16, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
    device.queue.writeBuffer(reduceParams, 0, packReduceParams(structs.adapt, chains, this.reduceThreads));
    // mq' and mq0 blocks, then the ensemble totals of the scalar and divergence fields.
    const meansBuf = mk('ensemble means', (2 * S + 2) * 16, STORAGE);
    this.adaptation = new DeviceAdaptation(device, structs.adapt, pipelines.adapt, { reduceParams, p3: this.p3, means: meansBuf }, mk);

    // Binding 10: the stream form's trajectory scratch, or the predictors' data (register form).
    const predm = packPredictorData(model);
    const scratchBuf = mk(predm.length > 0 ? 'predictor data' : 'trajectory scratch', Math.max(scratchBytes, predm.byteLength), STORAGE | GPUBufferUsage.COPY_DST);
    if (predm.length > 0) device.queue.writeBuffer(scratchBuf, 0, predm);
    this.hmcEntries = [[1, this.groupBuf], [2, this.stepBuf], [3, this.stateBuf], [4, this.invMassBuf], [5, warmBuf], [6, infoBuf], [7, this.totalsBuf], [9, this.adaptation.state], [10, scratchBuf]];
    this.rebindHmc();
    const bind = (label: string, layout: GPUBindGroupLayout, bufs: [number, GPUBuffer][]) =>
      device.createBindGroup({ label, layout, entries: bufs.map(([binding, buffer]) => ({ binding, resource: { buffer } })) });
    this.reduceBind = bind('ensemble reduction bindings', pipelines.reduceBindings, [[0, reduceParams], [1, this.stateBuf], [2, warmBuf], [3, infoBuf], [4, this.p1]]);
    this.meansBind = bind('ensemble means bindings', pipelines.means.getBindGroupLayout(0), [[0, reduceParams], [4, this.p1], [6, meansBuf]]);
    this.cheesBind = bind('chees reduction bindings', pipelines.chees.getBindGroupLayout(0), [[0, reduceParams], [2, warmBuf], [3, infoBuf], [5, this.p3], [6, meansBuf]]);
  }

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

  static async create(model: HierModel, chains: number, seed: number, gpu: Gpu | undefined, options: WebGpuBackendOptions): Promise<WebGpuBackend> {
    const g = gpu ?? (await requestGpu());
    try {
      const diagMetric = options.diagMetric ?? false;
      const wide = chooseWideLayout(g, model.stats.K, chains, options, model.layout.beta.count);
      const [pipelines, transition, adapt] = await Promise.all([
        withErrorScopes(g.device, () => buildPipelines(g, model, diagMetric, wide)),
        transitionStructs(wide !== null, stateBlocks(model.layout)),
        adaptStructs(),
      ]);
      const backend = new WebGpuBackend(g, model, chains, seed, diagMetric, wide, pipelines, { transition, adapt });
      backend.ownsDevice = gpu === undefined;
      return backend;
    } catch (err) {
      if (gpu === undefined) g.device.destroy();
      throw err;
    }
  }

  private rebindHmc(): void {
    this.hmcBind = this.gpu.device.createBindGroup({
      label: 'hmc bindings',
      layout: this.pipelines.hmcLayout,
      entries: [...this.hmcEntries, [8, this.recorder.buffer] as const].map(([binding, buffer]) => ({ binding, resource: { buffer } })),
    });
  }

  /** Writes the initial positions (each transition evaluates log p and its gradient itself). */
  async init(positions: Float64Array): Promise<void> {
    const device = this.gpu.device;
    await withErrorScopes(device, () => device.queue.writeBuffer(this.stateBuf, 0, packPositions(this.model.layout, this.chains, positions)));
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
    const code = await transitionCode(g, model, this.diagMetric, this.wide);
    const [hmcWarmup, hmcSample] = await withErrorScopes(g.device, () => transitionPipelines(g, code, this.pipelines.hmcPipelineLayout));
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
    // Sampling: consecutive transitions are batched (batching.ts); a batch never straddles
    // a record chunk.
    const rec = this.recorder;
    const recording = rec.recording;
    if (this.batch && !canExtend(this.batch, params, recording, this.stepParams.maxBatch)) this.flushBatch();
    this.batch ??= { first: params.iteration, stepSize: params.stepSize, invMass: Float64Array.from(params.invMass), steps: [], recording, firstSlot: rec.slotInChunk };
    this.batch.steps.push(params.numSteps);
    this.lastWasWarmup = false;
    this.sampledIterations++;
    if (recording && rec.advance()) {
      this.flushBatch();
      rec.flush(this.model);
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

  /**
   * Writes the step uniform (StepParams) for a batch, and the inverse mass: in the uniform
   * (narrow kernel) or its own storage buffer (wide kernel; the unit metric never reads it).
   */
  private writeStepParams(b: StepHeader & { readonly invMass: Float64Array }): void {
    const p = this.stepParams;
    p.write(b, this.recorder.retained, this.recorder.slots);
    const layout = this.model.layout;
    if (!this.wide) blockInvMass(p.invMass!, b.invMass, layout);
    else if (this.diagMetric) {
      const im = (this.wideInvMass ??= new Float32Array(4 * (this.NV + 1)));
      blockInvMass(im, b.invMass, layout);
      this.gpu.device.queue.writeBuffer(this.invMassBuf, 0, im);
    }
    this.gpu.device.queue.writeBuffer(this.stepBuf, 0, p.data);
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
    pass.setPipeline(moments ? (this.ensembleMoments ??= ensembleWithMoments(this.gpu.device, this.pipelines)) : this.pipelines.ensembleLite);
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
    // The warmup kernel reads its iteration, step size and steps from the adaptation
    // state's prefix (WarmupStep).
    if (warmup) device.queue.writeBuffer(this.adaptation.state, 0, this.warmupStep.pack(b.stepSize, b.steps[0], b.first));
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
    const { first, count, state, chees, jitter, invMass } = args;
    if (this.sampling) throw new Error('warmupOnDevice() is only available before sampling');
    if (!Number.isInteger(count) || count < 1 || count > MAX_DEVICE_WARMUP) throw new RangeError(`count must be an integer in [1, ${MAX_DEVICE_WARMUP}], got ${count}`);
    if (jitter.length < count + 1) throw new RangeError(`jitter needs ${count + 1} values, got ${jitter.length}`);
    this.checkMetric(invMass);
    this.flushBatch();
    const L0 = numLeapfrogSteps(jitter[0], state.trajectoryLength, state.stepSize, chees.maxLeapfrogSteps);
    this.writeStepParams({ first, stepSize: state.stepSize, invMass, steps: [L0], recording: false, firstSlot: 0 });
    this.lastWasWarmup = false;
    return this.adaptation.run(args, L0, (pass) => this.encodeWarmup(pass, false));
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
      unpackPositions(this.model.layout, this.chains, this.chains, new Float32Array(staging.getMappedRange()), out);
      staging.unmap();
      return out;
    } finally {
      staging.destroy();
    }
  }

  async ensembleStats(): Promise<EnsembleStats> {
    if (!this.lastWasWarmup) throw new Error('ensembleStats() is only available after a warmup step');
    await gpuWait(() => this.reduceRead.mapAsync(GPUMapMode.READ));
    const all = new Float32Array(this.reduceRead.getMappedRange());
    const { chains, K, NV, dim } = this;
    const stats = ensembleStats(all, this.partialBytes.p1 / 4, { chains, K, NV, dim, threads: this.reduceThreads, layout: this.model.layout });
    this.reduceRead.unmap();
    return stats;
  }

  beginSampling(draws: number, retainedChains: number): void {
    this.sampling = true;
    if (this.recorder.begin(this.model, draws, retainedChains)) this.rebindHmc();
    this.gpu.device.queue.writeBuffer(this.totalsBuf, 0, new Float32Array(this.chains * 4));
  }

  recordDraw(): void {
    // The transition kernel writes the draw itself (FLAG_RECORD); nothing to do here.
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
    const [totals] = await Promise.all([this.totals.read(), this.recorder.pending]);
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
    unpackPositions(this.model.layout, m, m, new Float32Array(staging.getMappedRange()), out);
    staging.unmap();
    staging.destroy();
    return out;
  }

  async recordedSoFar(): Promise<{ draws: RecordedDraws; n: number }> {
    this.flushBatch();
    if (this.recorder.slotInChunk > 0) this.recorder.flush(this.model);
    await this.recorder.pending;
    const saved = this.recorder.salvage();
    if (!saved) throw new Error('recordedSoFar() is only available during sampling');
    return saved;
  }

  async collect(): Promise<{ draws: RecordedDraws; totals: SamplingTotals }> {
    this.flushBatch();
    if (this.recorder.slotInChunk > 0) this.recorder.flush(this.model);
    await this.recorder.pending;
    const { divergences, acceptSum, steps } = await this.totals.read();
    const draws = this.recorder.recorded();
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
    return this.recorder.salvage();
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

/**
 * Creates the WebGPU backend (float32 on the GPU; see `shaders/hmc.wgsl`). Uses `gpu` when
 * given, else acquires the default adapter (Node: Dawn, with SwiftShader as fallback).
 */
export function createWebGpuBackend(model: HierModel, chains: number, seed: number, gpu?: Gpu, options: WebGpuBackendOptions = {}): Promise<Backend> {
  return WebGpuBackend.create(model, chains, seed, gpu, options);
}
