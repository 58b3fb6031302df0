import type { HierModel } from '../model/model.ts';
import { composeShader, createComputePipeline, dispatchGrid } from './shader.ts';
import { likModules, modelShaderConsts, numZBlocks, packGroups, packPositions, unpackPositions } from './layout.ts';
import { withErrorScopes } from './device.ts';
import { gpuWait } from './wait.ts';

/** Invocations per workgroup for per-chain kernels. */
export const CHAIN_WORKGROUP_SIZE = 64;

/** Upper bound on a per-chain state buffer: one binding must hold (NV+1) x B vec4s. */
export function stateBytes(K: number, chains: number): number {
  return (numZBlocks(K) + 1) * chains * 16;
}

/** Result of a batched evaluation: log p per chain and chain-major gradients (B x D). */
export interface BatchLogDensity {
  readonly logDensity: Float32Array;
  readonly grad: Float32Array;
}

/**
 * Evaluates the model's log-density and gradient (`shaders/logdensity.wgsl`, float32) for
 * B chains in one dispatch. Positions are chain-major (B x D). Every GPU object made here
 * is destroyed before returning.
 */
export async function gpuLogDensityGrad(device: GPUDevice, model: HierModel, positions: ArrayLike<number>, chains: number): Promise<BatchLogDensity> {
  const K = model.stats.K;
  const D = model.dim;
  const NV = numZBlocks(K);
  const code = await composeShader(['prior', ...likModules(model), 'model', 'logdensity'], {
    ...modelShaderConsts(model),
    WG: { type: 'u32', value: CHAIN_WORKGROUP_SIZE },
  });
  return withErrorScopes(device, async () => {
    const pipeline = await createComputePipeline(device, 'logdensity', code);
    const grid = dispatchGrid(chains, CHAIN_WORKGROUP_SIZE);
    const mk = (label: string, size: number, usage: number) => device.createBuffer({ label, size, usage });
    const groups = packGroups(model);
    const groupBuf = mk('groups', groups.byteLength, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST);
    const batchBuf = mk('batch params', 16, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
    const bytes = stateBytes(K, chains);
    const posBuf = mk('positions', bytes, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST);
    const gradBuf = mk('gradients', bytes, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC);
    const readBuf = mk('gradients readback', bytes, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
    const buffers = [groupBuf, batchBuf, posBuf, gradBuf, readBuf];
    try {
      device.queue.writeBuffer(groupBuf, 0, groups);
      device.queue.writeBuffer(batchBuf, 0, new Uint32Array([chains, grid.rowStride, 0, 0]));
      device.queue.writeBuffer(posBuf, 0, packPositions(model.layout, chains, positions));
      const bind = device.createBindGroup({
        label: 'logdensity bindings',
        layout: pipeline.getBindGroupLayout(0),
        entries: [groupBuf, batchBuf, posBuf, gradBuf].map((buffer, i) => ({ binding: i + 1, resource: { buffer } })),
      });
      const enc = device.createCommandEncoder({ label: 'logdensity' });
      const pass = enc.beginComputePass({ label: 'logdensity' });
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bind);
      pass.dispatchWorkgroups(grid.x, grid.y);
      pass.end();
      enc.copyBufferToBuffer(gradBuf, 0, readBuf, 0, bytes);
      device.queue.submit([enc.finish()]);
      await gpuWait(() => readBuf.mapAsync(GPUMapMode.READ));
      const packed = new Float32Array(readBuf.getMappedRange().slice(0));
      readBuf.unmap();
      const grad = new Float32Array(chains * D);
      unpackPositions(model.layout, chains, chains, packed, grad);
      const logDensity = new Float32Array(chains);
      for (let c = 0; c < chains; c++) logDensity[c] = packed[(NV * chains + c) * 4 + 3];
      return { logDensity, grad };
    } finally {
      for (const b of buffers) b.destroy();
    }
  });
}
