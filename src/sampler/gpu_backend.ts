/**
 * The WebGPU backend's public entry: `createWebGpuBackend` and its options. The backend
 * itself lives in `gpu/`, one job per file: backend.ts (lifecycle, buffers, dispatches),
 * kernels.ts (kernel form and pipelines), params.ts (the structs the host packs, laid out
 * from the WGSL), batching.ts, reductions.ts, records.ts and device_warmup.ts.
 */
export { createWebGpuBackend } from './gpu/backend.ts';
export { wideThreadsPerChain, type WebGpuBackendOptions, type WideKernel, type WideLayout } from './gpu/kernels.ts';
