/**
 * GPU runtime: one place that acquires a `GPUDevice`, in the browser (`navigator.gpu`) or
 * in Node (Dawn through the `webgpu` package), and says which adapter is in use.
 *
 * In Node, when Dawn finds no adapter, we retry once with SwiftShader's Vulkan ICD (a CPU
 * implementation of Vulkan that Debian's `chromium` package ships), from
 * `FUNNELWEB_VK_ICD` or {@link DEFAULT_SWIFTSHADER_ICD}. The Vulkan loader reads
 * `VK_ICD_FILENAMES` when Dawn's instance is created, so the retry makes a new instance.
 */

import { gpuWait } from './wait.ts';

/** Where Debian's chromium package puts SwiftShader's Vulkan ICD manifest. */
export const DEFAULT_SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

export interface AdapterDescription {
  readonly vendor: string;
  readonly architecture: string;
  readonly description: string;
  /** True for software adapters (SwiftShader): timings are CPU timings. */
  readonly isFallback: boolean;
  /** One line for logs and summaries, e.g. "google swiftshader (SwiftShader driver 5.0.0, fallback)". */
  readonly label: string;
}

export interface Gpu {
  readonly device: GPUDevice;
  readonly adapter: AdapterDescription;
}

/** Thrown when no WebGPU adapter can be found; the message says how to get one. */
export class GpuUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GpuUnavailableError';
  }
}

const NO_ADAPTER_HELP = `No WebGPU adapter found.
  - On a machine without a GPU, install SwiftShader (a CPU Vulkan driver) with Debian's chromium:
      apt-get install -y chromium
    FunnelWeb then uses ${DEFAULT_SWIFTSHADER_ICD} automatically
    (or point FUNNELWEB_VK_ICD / VK_ICD_FILENAMES at another Vulkan ICD manifest).
  - Or run with --backend cpu (float64 TypeScript, slower).`;

function isNode(): boolean {
  return typeof process !== 'undefined' && !!process.versions?.node;
}

function describe(info: GPUAdapterInfo, isFallback: boolean): AdapterDescription {
  const vendor = info.vendor || 'unknown-vendor';
  const architecture = info.architecture || '';
  const description = info.description || '';
  const soft = isFallback || /swiftshader|llvmpipe|lavapipe/i.test(`${vendor} ${architecture} ${description}`);
  const label = `${vendor}${architecture ? ' ' + architecture : ''}${description ? ` (${description}${soft ? ', fallback' : ''})` : soft ? ' (fallback)' : ''}`;
  return { vendor, architecture, description, isFallback: soft, label };
}

let nodeGpu: GPU | undefined;

async function nodeAdapter(): Promise<GPUAdapter | null> {
  const { existsSync } = await import('node:fs');
  const webgpu = await import('webgpu');
  Object.assign(globalThis, webgpu.globals);
  const options: GPURequestAdapterOptions = { powerPreference: 'high-performance' };
  if (nodeGpu) return nodeGpu.requestAdapter(options);
  nodeGpu = webgpu.create([]);
  let adapter = await nodeGpu.requestAdapter(options);
  const icd = process.env.FUNNELWEB_VK_ICD ?? DEFAULT_SWIFTSHADER_ICD;
  if (!adapter && process.env.VK_ICD_FILENAMES !== icd && existsSync(icd)) {
    process.env.VK_ICD_FILENAMES = icd;
    nodeGpu = webgpu.create([]);
    adapter = await nodeGpu.requestAdapter(options);
  }
  return adapter;
}

/**
 * Requests a device with the adapter's largest storage-buffer limits (B chains x D
 * coordinates of state must fit one binding).
 */
export async function requestGpu(): Promise<Gpu> {
  let adapter: GPUAdapter | null;
  if (isNode()) {
    adapter = await nodeAdapter();
  } else {
    if (typeof navigator === 'undefined' || !navigator.gpu) {
      throw new GpuUnavailableError('This browser has no WebGPU (navigator.gpu is missing). Use a recent Chrome, or Chromium with --enable-unsafe-webgpu.');
    }
    adapter = await navigator.gpu.requestAdapter({ powerPreference: 'high-performance' });
  }
  if (!adapter) throw new GpuUnavailableError(NO_ADAPTER_HELP);
  const l = adapter.limits;
  const device = await adapter.requestDevice({
    label: 'funnelweb',
    requiredLimits: {
      maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
      maxBufferSize: l.maxBufferSize,
      maxStorageBuffersPerShaderStage: Math.min(l.maxStorageBuffersPerShaderStage, 10),
      maxComputeWorkgroupSizeX: Math.min(l.maxComputeWorkgroupSizeX, 256),
      maxComputeInvocationsPerWorkgroup: Math.min(l.maxComputeInvocationsPerWorkgroup, 256),
    },
  });
  const fallback = (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter ?? false;
  return { device, adapter: describe(adapter.info, fallback || (adapter.info as { isFallbackAdapter?: boolean }).isFallbackAdapter === true) };
}

/**
 * Runs `fn` inside validation and out-of-memory error scopes and rethrows the first GPU
 * error (with its label) as an exception, so no GPU error passes silently.
 */
export async function withErrorScopes<T>(device: GPUDevice, fn: () => T | Promise<T>): Promise<T> {
  device.pushErrorScope('out-of-memory');
  device.pushErrorScope('validation');
  let result: T;
  try {
    result = await fn();
  } finally {
    const validation = await gpuWait(() => device.popErrorScope());
    const oom = await gpuWait(() => device.popErrorScope());
    const err = validation ?? oom;
    if (err) throw new Error(`WebGPU error: ${err.message}`);
  }
  return result;
}
