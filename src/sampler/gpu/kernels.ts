/**
 * Which transition kernel a model runs (baked, or the wide kernel's register or stream
 * form, with its threads per chain), the WGSL of every kernel, and their pipelines (cached
 * per device by src/gpu/shader.ts).
 */
import { InputError } from '../../errors.ts';
import type { HierModel } from '../../model/model.ts';
import type { Gpu } from '../../gpu/device.ts';
import { cachedLayout, composeShader, createComputePipeline, type ShaderConst, type ShaderModule } from '../../gpu/shader.ts';
import { familyShaderConsts, isWideModel, likModules, modelShaderConsts, numZBlocks, predictorModules, predictorShaderConsts, stateBlocks } from '../../gpu/layout.ts';
import { CHAIN_WORKGROUP_SIZE } from '../../gpu/logdensity.ts';

/** Threads per workgroup of the chain reductions (shaders/reduce.wgsl). */
export const REDUCE_WORKGROUP_SIZE = 64;
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

/** How the wide kernel runs: its form, threads per chain, chains per workgroup, blocks per thread. */
export interface WideLayout {
  readonly kind: WideKernel;
  readonly tpc: number;
  readonly cpw: number;
  readonly bpt: number;
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
 * The wide kernel's layout for a K-group model with `predictors` population-level predictors,
 * or null when the baked (narrow) kernel runs it. Predictors run on the register form only
 * (shaders/predictors.wgsl), whatever the adapter.
 */
export function chooseWideLayout(g: Gpu, K: number, chains: number, options: WebGpuBackendOptions, predictors = 0): WideLayout | null {
  if (!isWideModel(K, predictors)) return null;
  if (predictors > 0 && options.wideKernel === 'stream') throw new InputError('wideKernel', 'the stream form does not run population-level predictors: use registers');
  const kind = options.wideKernel ?? (g.adapter.isFallback && predictors === 0 ? 'stream' : 'registers');
  const tpc = options.threadsPerChain ?? (kind === 'stream' ? 1 : wideThreadsPerChain(K, chains, g.adapter.isFallback));
  if (!Number.isInteger(Math.log2(tpc)) || tpc > MAX_THREADS_PER_CHAIN) throw new RangeError(`threadsPerChain must be a power of two up to ${MAX_THREADS_PER_CHAIN}, got ${tpc}`);
  return { kind, tpc, cpw: Math.max(1, WIDE_WORKGROUP_SIZE / tpc), bpt: Math.ceil(numZBlocks(K) / tpc) };
}

/**
 * WGSL of the warmup and sampling transition kernels of `model`: its priors (and in the
 * narrow kernel its group data and c) are compiled in.
 */
export function transitionCode(g: Gpu, model: HierModel, diagMetric: boolean, wide: WideLayout | null): Promise<[string, string]> {
  const mc = modelShaderConsts(model);
  const common = {
    DIAG_METRIC: { type: 'bool', value: diagMetric },
    // Software adapters emulate vector shifts; Philox then takes its bit fields by float32
    // arithmetic (shaders/philox.wgsl).
    SOFT_SHIFTS: { type: 'bool', value: g.adapter.isFallback },
  } as const;
  const lik = likModules(model);
  const hmcModules: ShaderModule[] = wide
    ? ['prior', ...lik, 'block', wide.tpc > 1 ? 'chain_sum' : 'chain_sum_one', 'philox', 'hmc_common', 'hmc_wide_common', ...(wide.kind === 'stream' ? ['hmc_stream' as const] : [...predictorModules(model), 'hmc_wide' as const])]
    : ['prior', ...lik, 'model', 'philox', 'hmc_common', 'hmc'];
  const hmcConsts: Record<string, ShaderConst> = wide
    ? {
        ...common,
        ...familyShaderConsts(model),
        BINARY_C: mc.BINARY_C,
        MU_LOC: mc.MU_LOC,
        MU_SCALE: mc.MU_SCALE,
        TAU_SCALE: mc.TAU_SCALE,
        TAU_HALF_CAUCHY: mc.TAU_HALF_CAUCHY,
        TPC: { type: 'u32', value: wide.tpc },
        BPT: { type: 'u32', value: wide.bpt },
        CPW: { type: 'u32', value: wide.cpw },
        WG: { type: 'u32', value: wide.tpc * wide.cpw },
        ...(wide.kind === 'registers' ? predictorShaderConsts(model, wide.bpt) : {}),
      }
    : { ...common, ...mc, WG: { type: 'u32', value: CHAIN_WORKGROUP_SIZE } };
  return Promise.all([
    composeShader(hmcModules, { ...hmcConsts, WARMUP: { type: 'bool', value: true } }),
    composeShader(hmcModules, { ...hmcConsts, WARMUP: { type: 'bool', value: false } }),
  ]);
}

/** The warmup and sampling transition pipelines for WGSL from `transitionCode`, on the shared hmc layout. */
export function transitionPipelines(g: Gpu, [warmupCode, sampleCode]: [string, string], layout: GPUPipelineLayout): Promise<[GPUComputePipeline, GPUComputePipeline]> {
  return Promise.all([
    createComputePipeline(g.device, 'hmc transition (warmup)', warmupCode, 'main', layout),
    createComputePipeline(g.device, 'hmc transitions (sampling)', sampleCode, 'main', layout),
  ]);
}

/** Every pipeline of a backend, with the layouts its bind groups are made on. */
export interface Pipelines {
  readonly hmcLayout: GPUBindGroupLayout;
  readonly hmcPipelineLayout: GPUPipelineLayout;
  /** ensemble_partial's layout, shared by its two variants (one bind group for both). */
  readonly reduceBindings: GPUBindGroupLayout;
  readonly reduceLayout: GPUPipelineLayout;
  /** The variant with position moments (host adaptation only), compiled on first use. */
  readonly ensembleCode: string;
  /** The transition pipelines: replaced when c changes (`reparameterize`). */
  hmcWarmup: GPUComputePipeline;
  hmcSample: GPUComputePipeline;
  readonly ensembleLite: GPUComputePipeline;
  readonly means: GPUComputePipeline;
  readonly chees: GPUComputePipeline;
  readonly adapt: GPUComputePipeline;
}

/**
 * Composes and compiles every kernel of a backend (call inside an error scope): the two
 * transition kernels on one explicit layout, the reductions, and the device adaptation.
 */
export async function buildPipelines(g: Gpu, model: HierModel, diagMetric: boolean, wide: WideLayout | null): Promise<Pipelines> {
  const NV = stateBlocks(model.layout);
  const redConsts = { NV: { type: 'u32', value: NV }, NB: { type: 'u32', value: NV + 1 }, WGR: { type: 'u32', value: REDUCE_WORKGROUP_SIZE }, MOMENTS: { type: 'bool', value: true } } as const;
  const partials = wide ? 'reduce_wide' : 'reduce_blocks';
  const [hmcCode, redCode, redLiteCode, adaptCode] = await Promise.all([
    transitionCode(g, model, diagMetric, wide),
    composeShader(['reduce', partials], redConsts),
    composeShader(['reduce', partials], { ...redConsts, MOMENTS: { type: 'bool', value: false } }),
    composeShader(['reduce', 'adapt'], redConsts),
  ]);
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
    transitionPipelines(g, hmcCode, layout),
    createComputePipeline(g.device, 'ensemble reduction (no position moments)', redLiteCode, 'ensemble_partial', reduceLayout),
    createComputePipeline(g.device, 'ensemble means', redCode, 'ensemble_means'),
    createComputePipeline(g.device, 'chees reduction', redLiteCode, 'chees_partial'),
    createComputePipeline(g.device, 'device adaptation', adaptCode, 'adapt'),
  ]);
  return { hmcLayout, hmcPipelineLayout: layout, reduceBindings, reduceLayout, ensembleCode: redCode, hmcWarmup, hmcSample, ensembleLite, means, chees, adapt };
}

/**
 * The ensemble reduction with position moments, which only the host adaptation (metric
 * windows) reads: compiled on first use (synchronously; a few hundred ms on SwiftShader)
 * rather than in every run's start-up.
 */
export function ensembleWithMoments(device: GPUDevice, p: Pipelines): GPUComputePipeline {
  const label = 'ensemble reduction (with position moments)';
  return device.createComputePipeline({
    label,
    layout: p.reduceLayout,
    compute: { module: device.createShaderModule({ label, code: p.ensembleCode }), entryPoint: 'ensemble_partial' },
  });
}
