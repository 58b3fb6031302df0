/**
 * Warmup adapted on the device: after each warmup transition and its reductions,
 * shaders/adapt.wgsl updates the step size and trajectory length (ChEES and dual averaging,
 * the float32 twin of src/adaptation/chees.ts) and writes the next transition's WarmupStep,
 * so that up to MAX_DEVICE_WARMUP iterations run in one submit with no readback between them.
 */
import type { WgslStructs } from '../../gpu/structs.ts';
import { gpuWait } from '../../gpu/wait.ts';
import { MAX_DEVICE_WARMUP, type DeviceWarmupArgs, type DeviceWarmupResult } from '../backend.ts';
import { HISTORY_COLUMNS, packAdaptParams, packAdaptState, unpackAdaptState } from './params.ts';

/** The reduction buffers the adaptation reads. */
export interface AdaptInputs {
  readonly reduceParams: GPUBuffer;
  /** chees_partial's partial sums. */
  readonly p3: GPUBuffer;
  /** ensemble_means' output (the means, then the ensemble totals). */
  readonly means: GPUBuffer;
}

/** The device adaptation's buffers (state, params, history and their readback) and its bind group. */
export class DeviceAdaptation {
  /** AdaptState: its first fields are the warmup kernels' WarmupStep (binding 9). */
  readonly state: GPUBuffer;
  private readonly params: GPUBuffer;
  private readonly history: GPUBuffer;
  private readonly readback: GPUBuffer;
  private readonly bind: GPUBindGroup;
  private readonly stateBytes: number;
  /** Floats per history row (HISTORY_FIELDS in shaders/adapt.wgsl). */
  private readonly rowFloats: number;

  /** `mk` makes a buffer the backend owns. */
  constructor(
    private readonly device: GPUDevice,
    private readonly structs: WgslStructs,
    private readonly pipeline: GPUComputePipeline,
    inputs: AdaptInputs,
    mk: (label: string, size: number, usage: number) => GPUBuffer,
  ) {
    const STORAGE = GPUBufferUsage.STORAGE;
    // The history is a runtime-sized array<f32> of rows, which no struct describes: its rows
    // are sized by the shader's constant.
    this.rowFloats = structs.constU32('HISTORY_FIELDS');
    this.stateBytes = structs.struct('AdaptState').size;
    this.state = mk('adaptation state', this.stateBytes, STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC);
    this.params = mk('adaptation params', structs.struct('AdaptParams').size, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
    this.history = mk('adaptation history', 4 * this.rowFloats * MAX_DEVICE_WARMUP, STORAGE | GPUBufferUsage.COPY_SRC);
    this.readback = mk('adaptation readback', this.stateBytes + 4 * this.rowFloats * MAX_DEVICE_WARMUP, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
    const bufs: [number, GPUBuffer][] = [[0, inputs.reduceParams], [5, inputs.p3], [6, inputs.means], [7, this.state], [8, this.params], [9, this.history]];
    this.bind = device.createBindGroup({
      label: 'adaptation bindings',
      layout: pipeline.getBindGroupLayout(0),
      entries: bufs.map(([binding, buffer]) => ({ binding, resource: { buffer } })),
    });
  }

  /**
   * Runs `args.count` warmup iterations, each encoded by `encodeWarmup` (the transition and
   * its reductions) and followed by the adaptation, starting from `args.state` with `numSteps`
   * leapfrog steps in the first; reads back the state and the history.
   */
  async run(args: DeviceWarmupArgs, numSteps: number, encodeWarmup: (pass: GPUComputePassEncoder) => void): Promise<DeviceWarmupResult> {
    const { first, count, state, chees, dualAveraging, jitter } = args;
    const device = this.device;
    device.queue.writeBuffer(this.state, 0, packAdaptState(this.structs, state, first, numSteps));
    device.queue.writeBuffer(this.params, 0, packAdaptParams(this.structs, first, count, chees, dualAveraging, jitter));
    const enc = device.createCommandEncoder({ label: `warmup ${first}..${first + count - 1} (device adaptation)` });
    const pass = enc.beginComputePass({ label: 'warmup' });
    for (let i = 0; i < count; i++) {
      encodeWarmup(pass);
      pass.setPipeline(this.pipeline);
      pass.setBindGroup(0, this.bind);
      pass.dispatchWorkgroups(1);
    }
    pass.end();
    const histBytes = 4 * this.rowFloats * count;
    enc.copyBufferToBuffer(this.state, 0, this.readback, 0, this.stateBytes);
    enc.copyBufferToBuffer(this.history, 0, this.readback, this.stateBytes, histBytes);
    device.queue.submit([enc.finish()]);
    await gpuWait(() => this.readback.mapAsync(GPUMapMode.READ, 0, this.stateBytes + histBytes));
    const raw = this.readback.getMappedRange(0, this.stateBytes + histBytes);
    const h = new Float32Array(raw, this.stateBytes, this.rowFloats * count);
    const col = (j: number) => Float64Array.from({ length: count }, (_, i) => h[i * this.rowFloats + j]);
    const c = HISTORY_COLUMNS;
    const result: DeviceWarmupResult = {
      state: unpackAdaptState(this.structs, raw),
      stepSize: col(c.stepSize),
      trajectoryLength: col(c.trajectoryLength),
      numSteps: Int32Array.from(col(c.numSteps)),
      meanAccept: col(c.meanAccept),
      harmonicMeanAccept: col(c.harmonicMeanAccept),
      divergences: Int32Array.from(col(c.divergences)),
    };
    this.readback.unmap();
    return result;
  }
}
