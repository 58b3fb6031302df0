/**
 * GPU runtime: one place that acquires a `GPUDevice`, in the browser (`navigator.gpu`) or
 * in Node (Dawn through the `webgpu` package), and says which adapter is in use.
 *
 * In Node, when Dawn finds no adapter, we retry with SwiftShader's Vulkan ICD (a CPU
 * implementation of Vulkan that Debian's `chromium` package ships), from
 * `FUNNELWEB_VK_ICD` or {@link DEFAULT_SWIFTSHADER_ICD}. The Vulkan loader reads
 * `VK_ICD_FILENAMES` when Dawn's instance is created, so the retry makes a new instance.
 * Before Dawn starts, native_env.ts gives the process a runtime directory and keeps
 * native warnings off stderr (see there).
 */

import { gpuWait } from './wait.ts';
import { clip } from '../errors.ts';

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
  /** Why, in one line without the advice (e.g. "the Vulkan loader libvulkan.so.1 is not installed"). */
  readonly reason: string;
  constructor(reason: string, message = noAdapterHelp(reason)) {
    super(message);
    this.name = 'GpuUnavailableError';
    this.reason = reason;
  }
}

/** How to get WebGPU, in one line (for the CPU fallback notice). */
export const GET_WEBGPU_HINT = 'To get WebGPU without a GPU: apt-get install -y chromium libvulkan1 (SwiftShader and the Vulkan loader).';

function noAdapterHelp(reason: string): string {
  return `No WebGPU adapter found: ${reason}.
  - On a machine without a GPU, WebGPU runs on SwiftShader (a CPU Vulkan driver that Debian's
    chromium package ships) through the Vulkan loader (libvulkan1); install both:
      apt-get install -y chromium libvulkan1
    FunnelWeb then uses ${DEFAULT_SWIFTSHADER_ICD} automatically
    (or point FUNNELWEB_VK_ICD / VK_ICD_FILENAMES at another Vulkan ICD manifest).
  - On a machine with a GPU, install its Vulkan driver and libvulkan1.
  - Or run with --backend cpu (float64 TypeScript, slower).`;
}

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

/**
 * Dawn's adapter in Node. Probes, each with a new Dawn instance (the Vulkan loader reads
 * its environment when the instance is created), in this order until one gives an adapter:
 * the Vulkan drivers the user chose (`VK_ICD_FILENAMES` and kin), else the system's drivers
 * with lavapipe hidden when the machine has a GPU device node; SwiftShader's ICD; the
 * system's drivers as they are, where not probed so already. The order keeps the probes of
 * drivers without a device, and their native warnings, off machines without a GPU (see
 * native_env.ts). Throws GpuUnavailableError with the reason when no probe gives an adapter.
 */
async function nodeAdapter(): Promise<GPUAdapter> {
  const options: GPURequestAdapterOptions = { powerPreference: 'high-performance' };
  if (nodeGpu) {
    const again = await nodeGpu.requestAdapter(options);
    if (again) return again;
  }
  const { existsSync } = await import('node:fs');
  const env = await import('./native_env.ts');
  env.ensureRuntimeDir();
  if (env.vulkanLoaderMissing()) throw new GpuUnavailableError(`the Vulkan loader ${env.VULKAN_LOADER} is not installed (Debian: libvulkan1)`);
  const webgpu = await import('webgpu');
  Object.assign(globalThis, webgpu.globals);
  const probe = async () => {
    const gpu = webgpu.create([]);
    const adapter = await gpu.requestAdapter(options);
    if (adapter) nodeGpu = gpu;
    return adapter;
  };
  const user = process.env.VK_ICD_FILENAMES;
  const chosen = env.userChoseDrivers();
  // Drivers named by VK_ICD_FILENAMES / VK_DRIVER_FILES replace the system's: that choice is
  // kept (never silently replaced by SwiftShader) and its failure said in one line.
  const named = env.userDriverList();
  if (named) {
    const missing = named.files.filter((f) => !existsSync(f));
    if (missing.length) throw new GpuUnavailableError(`${named.variable} names ${missing.map((f) => `'${clip(f)}'`).join(', ')}, which does not exist`);
    const broken = named.files.map(env.icdManifestProblem).find((p) => p !== undefined);
    if (broken) throw new GpuUnavailableError(`${named.variable}: ${broken}`);
  }
  let systemProbed = false;
  if (chosen || env.hasGpuDevice()) {
    const first = await env.withLavapipeHidden(probe);
    if (first.value) return first.value;
    if (named) throw new GpuUnavailableError(`the Vulkan driver that ${named.variable} names (${clip(named.files.join(':'))}) gave no WebGPU adapter`);
    systemProbed = !first.hidden;
  }
  const icd = process.env.FUNNELWEB_VK_ICD ?? DEFAULT_SWIFTSHADER_ICD;
  const swiftshader = existsSync(icd);
  if (swiftshader && user !== icd) {
    process.env.VK_ICD_FILENAMES = icd;
    const adapter = await probe();
    if (adapter) return adapter;
    if (user === undefined) delete process.env.VK_ICD_FILENAMES;
    else process.env.VK_ICD_FILENAMES = user;
  }
  if (!systemProbed) {
    const adapter = await probe();
    if (adapter) return adapter;
  }
  const tried = [user ?? 'the system drivers', ...(swiftshader && user !== icd ? [icd] : [])].join(' and ');
  throw new GpuUnavailableError(
    swiftshader
      ? `no Vulkan driver gave an adapter (tried ${tried})`
      : `no Vulkan driver gave an adapter (tried ${tried}); SwiftShader's ${icd} is missing (Debian: chromium)`,
  );
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
    const browserHelp = 'Use a recent Chrome, or Chromium with --enable-unsafe-webgpu.';
    if (typeof navigator === 'undefined' || !navigator.gpu) {
      throw new GpuUnavailableError('this browser has no WebGPU (navigator.gpu is missing)', `This browser has no WebGPU (navigator.gpu is missing). ${browserHelp}`);
    }
    adapter = await navigator.gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) throw new GpuUnavailableError('the browser offers no WebGPU adapter', `No WebGPU adapter in this browser. ${browserHelp}`);
  }
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
