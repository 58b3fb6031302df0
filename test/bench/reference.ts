import { readFileSync } from 'node:fs';
import type { Gpu } from '../../src/gpu/device.ts';
import { createComputePipeline } from '../../src/gpu/shader.ts';
import { gpuWait } from '../../src/gpu/wait.ts';

/**
 * Chain-steps per second of the reference kernel `normal10.wgsl` (a plain vec4 HMC
 * transition for a 10-dimensional standard normal) at `chains` chains, `numSteps` leapfrog
 * steps per transition, timed over `iterations` transitions after one warm-up dispatch.
 */
export async function referenceKernelThroughput(gpu: Gpu, chains: number, numSteps: number, iterations: number): Promise<number> {
  const device = gpu.device;
  const code = readFileSync(new URL('./normal10.wgsl', import.meta.url), 'utf8');
  const pipeline = await createComputePipeline(device, 'normal10 reference', code);
  const state = device.createBuffer({ size: 3 * chains * 16, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
  const init = new Float32Array(3 * chains * 4);
  for (let i = 0; i < init.length; i++) init[i] = i % 12 >= 10 ? 0 : 0.1 * (((i * 37) % 17) - 8);
  device.queue.writeBuffer(state, 0, init);
  const params = device.createBuffer({ size: 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  const bind = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [
      { binding: 0, resource: { buffer: state } },
      { binding: 1, resource: { buffer: params } },
    ],
  });
  const data = new ArrayBuffer(16);
  const u = new Uint32Array(data);
  const f = new Float32Array(data);
  const transition = (it: number) => {
    u[0] = numSteps;
    f[1] = 0.1;
    u[2] = it;
    u[3] = chains;
    device.queue.writeBuffer(params, 0, data);
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bind);
    pass.dispatchWorkgroups(Math.ceil(chains / 64));
    pass.end();
    device.queue.submit([enc.finish()]);
  };
  try {
    transition(0);
    await gpuWait(() => device.queue.onSubmittedWorkDone());
    const t0 = performance.now();
    for (let it = 1; it <= iterations; it++) transition(it);
    await gpuWait(() => device.queue.onSubmittedWorkDone());
    return (chains * numSteps * iterations) / ((performance.now() - t0) / 1000);
  } finally {
    state.destroy();
    params.destroy();
  }
}
