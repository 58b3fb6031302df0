import { familyGlobalOf, type HierModel } from '../model/model.ts';
import { makeLayout, type ModelLayout } from '../model/layout.ts';
import type { ShaderConst, ShaderModule } from './shader.ts';
import { numZBlocks } from '../sampler/rng.ts';

/**
 * GPU memory layout of the model and of chain states.
 *
 * z coordinates are packed four groups to a vec4 block: NV = ceil(K/4) blocks, then one
 * extra block holding the layout's globals in its lanes (mu, log tau, a family's global or
 * 0), lane 3 free (the kernels keep log p there). Per-chain arrays are block-major: block j
 * of chain c at vec4 index j * B + c, so neighbouring invocations read neighbouring memory.
 */
export { numZBlocks } from '../sampler/rng.ts';

/** Floats per GroupBlock (the family's fields a and b, c, mask: four vec4s). */
const GROUP_BLOCK_FLOATS = 16;

/** The `groups` storage buffer contents: per block of 4 groups, the family's a and b, c, mask. */
export function packGroups(model: HierModel): Float32Array<ArrayBuffer> {
  const { stats, c } = model;
  const NV = numZBlocks(stats.K);
  const out = new Float32Array(NV * GROUP_BLOCK_FLOATS);
  for (let k = 0; k < stats.K; k++) {
    const j = k >> 2;
    const lane = k & 3;
    const base = j * GROUP_BLOCK_FLOATS;
    out[base + lane] = stats.a[k];
    out[base + 4 + lane] = stats.b[k];
    out[base + 8 + lane] = c[k];
    out[base + 12 + lane] = 1;
  }
  return out;
}

/**
 * The group data of the wide kernel's stream form (shaders/hmc_stream.wgsl), per block of
 * 4 groups: when every c_k is 0 or 1, the family's field a, then its field b (never
 * negative) with the sign bit set for centered groups (-0.0 for a centered group without
 * data); else a, b, c.
 */
export function packGroupsCompact(model: HierModel): Float32Array<ArrayBuffer> {
  const { stats, c } = model;
  const binary = c.every((x) => x === 0 || x === 1);
  const fields = binary ? 2 : 3;
  const out = new Float32Array(numZBlocks(stats.K) * fields * 4);
  for (let k = 0; k < stats.K; k++) {
    const base = (k >> 2) * fields * 4 + (k & 3);
    out[base] = stats.a[k];
    out[base + 4] = binary && c[k] === 1 ? -stats.b[k] || -0 : stats.b[k];
    if (!binary) out[base + 8] = c[k];
  }
  return out;
}

/** The layout of `model`, or of a K-group model without a family global. */
function layoutOf(of: ModelLayout | number): ModelLayout {
  return typeof of === 'number' ? makeLayout(of) : of;
}

/**
 * Chain-major float64 positions (chains x D) of a model laid out as `of` (its layout, or K for
 * a model without a family global) -> block-major vec4 float32 ((NV+1) x B x 4).
 */
export function packPositions(of: ModelLayout | number, chains: number, positions: ArrayLike<number>): Float32Array<ArrayBuffer> {
  const layout = layoutOf(of);
  const K = layout.K;
  const NV = numZBlocks(K);
  const D = layout.dim;
  const z0 = layout.group(0);
  const G = layout.groupStart;
  const out = new Float32Array((NV + 1) * chains * 4);
  for (let c = 0; c < chains; c++) {
    const src = c * D;
    for (let k = 0; k < K; k++) out[((k >> 2) * chains + c) * 4 + (k & 3)] = positions[src + z0 + k];
    // The globals, in the layout's order, in the lanes of the last block.
    const m = (NV * chains + c) * 4;
    for (let g = 0; g < G; g++) out[m + g] = positions[src + layout.global(layout.globals[g])];
  }
  return out;
}

/**
 * Block-major vec4 array ((NV+1) x B x 4, for `chains` chains starting at chain 0 of a
 * buffer holding `stride` chains) of a model laid out as `of` -> chain-major D-vectors,
 * written into `out` at element offset (c * D) for chain c.
 */
export function unpackPositions(
  of: ModelLayout | number,
  stride: number,
  chains: number,
  packed: Float32Array,
  out: Float32Array | Float64Array,
  outOffset = 0,
  outChainStride = layoutOf(of).dim,
): void {
  const layout = layoutOf(of);
  const K = layout.K;
  const NV = numZBlocks(K);
  const z0 = layout.group(0);
  const G = layout.groupStart;
  for (let c = 0; c < chains; c++) {
    const dst = outOffset + c * outChainStride;
    for (let k = 0; k < K; k++) out[dst + z0 + k] = packed[((k >> 2) * stride + c) * 4 + (k & 3)];
    const m = (NV * stride + c) * 4;
    for (let g = 0; g < G; g++) out[dst + layout.global(layout.globals[g])] = packed[m + g];
  }
}

/**
 * Most z blocks (four groups each) of a model whose data and block loops are compiled into
 * the transition kernel (shaders/hmc.wgsl, shaders/model.wgsl). Its code, and SwiftShader's
 * compile time and memory, grow faster than linearly with the blocks (K = 20: 1.0 s, 40:
 * 3.1 s, 64: over 24 GB); wider models use shaders/hmc_wide.wgsl, whose code does not
 * depend on K. Chosen by measurement (test/bench/compile_probe.ts): the baked kernel's
 * compile stays well under 2 s here, and the K = 9 seed models (3 blocks) keep it.
 */
export const MAX_BAKED_BLOCKS = 4;

/** True when a K-group model runs the wide kernel (shaders/hmc_wide.wgsl). */
export function isWideModel(K: number): boolean {
  return numZBlocks(K) > MAX_BAKED_BLOCKS;
}

/**
 * Compile-time constants that shaders/model.wgsl needs for this model. The priors are
 * always baked in; the group data too for narrow models (NV <= MAX_BAKED_BLOCKS):
 * constants cost no memory traffic and fold (SwiftShader ran the leapfrog ~2x faster with
 * them than with the same data read from a storage buffer). Other models read the
 * `groups` storage buffer (packGroups); the baked arrays then hold one dummy block.
 */
export function modelShaderConsts(model: HierModel) {
  const NV = numZBlocks(model.stats.K);
  const baked = NV <= MAX_BAKED_BLOCKS;
  const g = packGroups(model);
  const field = (f: number) => {
    const out = new Float32Array(4 * (baked ? NV : 1));
    if (baked) for (let j = 0; j < NV; j++) out.set(g.subarray(j * GROUP_BLOCK_FLOATS + 4 * f, j * GROUP_BLOCK_FLOATS + 4 * f + 4), 4 * j);
    return out;
  };
  const { mu, tau } = model.priors;
  return {
    ...familyShaderConsts(model),
    NV: { type: 'u32', value: NV },
    BINARY_C: { type: 'bool', value: model.c.every((c) => c === 0 || c === 1) },
    MU_LOC: { type: 'f32', value: mu.loc },
    MU_SCALE: { type: 'f32', value: mu.scale },
    TAU_SCALE: { type: 'f32', value: tau.scale },
    TAU_HALF_CAUCHY: { type: 'bool', value: tau.kind === 'halfcauchy' },
    GROUPS_CONST: { type: 'bool', value: baked },
    GROUP_A: { type: 'vec4f[]', value: field(0) },
    GROUP_B: { type: 'vec4f[]', value: field(1) },
    GROUP_C: { type: 'vec4f[]', value: field(2) },
    GROUP_MASK: { type: 'vec4f[]', value: field(3) },
  } as const;
}

/** FG_PRIOR_KIND of shaders/lik_global.wgsl, by ScalePrior kind. */
const SCALE_PRIOR_KINDS = { halfnormal: 0, halfcauchy: 1, exponential: 2 } as const;

/**
 * Constants of the model's likelihood family for the kernels: FAMILY_GLOBAL (whether it has a
 * global parameter, lane 2 of the globals block), and for such a family its statistics
 * FAMILY_STATS and the prior of the global (shaders/lik_global.wgsl).
 */
export function familyShaderConsts(model: HierModel): Record<string, ShaderConst> {
  const fg = familyGlobalOf(model);
  if (!fg) return { FAMILY_GLOBAL: { type: 'bool', value: false } };
  const st = model.stats.familyStats ?? new Float64Array(0);
  const v = Float64Array.from({ length: 4 }, (_, i) => st[i] ?? 0);
  return {
    FAMILY_GLOBAL: { type: 'bool', value: true },
    FAMILY_STATS: { type: 'vec4f', value: v },
    FG_PRIOR_KIND: { type: 'u32', value: SCALE_PRIOR_KINDS[fg.prior.kind] },
    FG_PRIOR_SCALE: { type: 'f32', value: fg.prior.scale },
  };
}

/**
 * The shader modules of the model's likelihood: the family's WGSL and the adapter the kernels
 * call (`family_lik`, `family_shared`, `family_global`): shaders/lik_plain.wgsl for a family
 * without a global parameter, shaders/lik_global.wgsl with one.
 */
export function likModules(model: HierModel): ShaderModule[] {
  return [model.stats.family.shader, familyGlobalOf(model) ? 'lik_global' : 'lik_plain'];
}
