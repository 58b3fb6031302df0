import { familyGlobalOf, type HierModel } from '../model/model.ts';
import { makeLayout, type ModelLayout } from '../model/layout.ts';
import { DEFAULT_BETA_PRIOR } from '../model/priors.ts';
import type { ShaderConst, ShaderModule } from './shader.ts';
import { numZBlocks } from '../sampler/rng.ts';

/**
 * GPU memory layout of the model and of chain states.
 *
 * z coordinates are packed four groups to a vec4 block: NZ = ceil(K/4) blocks, then the
 * population-level coefficients four to a block (NB = ceil(P/4) blocks, none without
 * predictors), NV = NZ + NB blocks in all, then one extra block holding the hierarchy's and
 * the family's globals in its lanes (mu, log tau, a family's global or 0), lane 3 free (the
 * kernels keep log p there). Per-chain arrays are block-major: block j of chain c at vec4
 * index j * B + c, so neighbouring invocations read neighbouring memory. `deviceSlots` is the
 * one map from layout coordinates to (block, lane).
 */
export { numZBlocks } from '../sampler/rng.ts';

/** Blocks of a chain's state before its globals block: NV = ceil(K/4) + ceil(P/4). */
export function stateBlocks(layout: ModelLayout): number {
  return numZBlocks(layout.K) + numZBlocks(layout.beta.count);
}

/**
 * Where each coordinate of `layout` lives on the device: 4 * block + lane. z_k: block k >> 2,
 * lane k & 3; beta_p: block NZ + (p >> 2), lane p & 3; the other globals: block NV, lanes 0..
 * in the layout's order (mu, log tau, a family's global).
 */
export function deviceSlots(layout: ModelLayout): Int32Array {
  const slots = new Int32Array(layout.dim);
  const NZ = numZBlocks(layout.K);
  const NV = stateBlocks(layout);
  for (let k = 0; k < layout.K; k++) slots[layout.group(k)] = 4 * (k >> 2) + (k & 3);
  const { start, count } = layout.beta;
  for (let p = 0; p < count; p++) slots[start + p] = 4 * (NZ + (p >> 2)) + (p & 3);
  for (let g = 0; g < start; g++) slots[layout.global(layout.globals[g])] = 4 * NV + g;
  return slots;
}

/**
 * The predictors' data for the wide kernel (`predm`, shaders/predictors.wgsl): on the group
 * path (`model/predictors.ts`) the per-group means, block j of four groups, predictor p at
 * vec4 j * P + p (lane = group within the block); on the observation path `packObservations`;
 * empty without predictors.
 */
export function packPredictorData(model: HierModel): Float32Array<ArrayBuffer> {
  const pr = model.predictors;
  if (!pr) return new Float32Array(0);
  if (pr.path === 'observation') return packObservations(model);
  const P = pr.P;
  const out = new Float32Array(numZBlocks(model.stats.K) * P * 4);
  for (let k = 0; k < model.stats.K; k++) for (let p = 0; p < P; p++) out[((k >> 2) * P + p) * 4 + (k & 3)] = pr.m[k * P + p];
  return out;
}

/**
 * The observation path's data (shaders/predictors.wgsl `obs_lik`): per z block j two vec4,
 * its groups' first chunk and chunk count (u32 bits in the float32 words), then the chunks
 * in group order, each four observations of one group as (a, b, x_0, .., x_{P-1}) vec4s
 * (lane = observation; padding lanes all zero: the family's lik gives exact zeros there).
 */
export function packObservations(model: HierModel): Float32Array<ArrayBuffer> {
  const pr = model.predictors!;
  const { N, a, b, group, X } = pr.obs!;
  const P = pr.P;
  const K = model.stats.K;
  const NZ = numZBlocks(K);
  const count = new Int32Array(K);
  for (let i = 0; i < N; i++) count[group[i]]++;
  const chunks = Int32Array.from(count, (n) => Math.ceil(n / 4));
  const first = new Int32Array(K);
  for (let k = 1; k < K; k++) first[k] = first[k - 1] + chunks[k - 1];
  const total = K > 0 ? first[K - 1] + chunks[K - 1] : 0;
  const stride = 4 * (2 + P);
  const out = new Float32Array(8 * NZ + total * stride);
  const words = new Uint32Array(out.buffer);
  for (let k = 0; k < K; k++) {
    words[8 * (k >> 2) + (k & 3)] = first[k];
    words[8 * (k >> 2) + 4 + (k & 3)] = chunks[k];
  }
  const filled = new Int32Array(K);
  for (let i = 0; i < N; i++) {
    const k = group[i];
    const slot = filled[k]++;
    const at = 8 * NZ + (first[k] + (slot >> 2)) * stride + (slot & 3);
    out[at] = a[i];
    out[at + 4] = b[i];
    for (let p = 0; p < P; p++) out[at + 8 + 4 * p] = X[i * P + p];
  }
  return out;
}

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
  const NV = stateBlocks(layout);
  const D = layout.dim;
  const slots = deviceSlots(layout);
  const out = new Float32Array((NV + 1) * chains * 4);
  for (let c = 0; c < chains; c++) {
    const src = c * D;
    for (let d = 0; d < D; d++) out[((slots[d] >> 2) * chains + c) * 4 + (slots[d] & 3)] = positions[src + d];
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
  const D = layout.dim;
  const slots = deviceSlots(layout);
  for (let c = 0; c < chains; c++) {
    const dst = outOffset + c * outChainStride;
    for (let d = 0; d < D; d++) out[dst + d] = packed[((slots[d] >> 2) * stride + c) * 4 + (slots[d] & 3)];
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

/**
 * True when a K-group model runs the wide kernel (shaders/hmc_wide.wgsl); a model with
 * population-level predictors (`predictors` > 0) always does (its coefficients are globals
 * every thread of a chain holds).
 */
export function isWideModel(K: number, predictors = 0): boolean {
  return numZBlocks(K) > MAX_BAKED_BLOCKS || predictors > 0;
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

/**
 * Constants of the model's population-level predictors for the wide kernel
 * (shaders/predictors.wgsl): NP, the coefficients' blocks, their prior, and the Gaussian
 * within-group cross products; NP = 0 (no code) without predictors. `bpt`: the kernel's
 * blocks per thread (the size of its register copy of the predictor means).
 */
export function predictorShaderConsts(model: HierModel, bpt: number): Record<string, ShaderConst> {
  const pr = model.predictors;
  const P = pr?.P ?? 0;
  const NB = numZBlocks(P);
  const arr = Math.max(1, NB);
  const prior = model.priors.beta ?? DEFAULT_BETA_PRIOR;
  const mask = new Float32Array(4 * arr);
  for (let p = 0; p < P; p++) mask[p] = 1;
  const xx = new Float32Array(4 * Math.max(1, P * arr));
  const xy = new Float32Array(4 * arr);
  const within = pr?.within;
  if (within) {
    for (let p = 0; p < P; p++) {
      xy[p] = within.xy[p];
      for (let q = 0; q < P; q++) xx[4 * p * arr + q] = within.xx[p * P + q];
    }
  }
  return {
    NP: { type: 'u32', value: P },
    NBETA_BLOCKS: { type: 'u32', value: NB },
    NBETA_ARR: { type: 'u32', value: arr },
    PM_SIZE: { type: 'u32', value: Math.max(1, bpt * P) },
    PRED_WITHIN: { type: 'bool', value: within !== undefined },
    OBS_PATH: { type: 'bool', value: pr?.path === 'observation' },
    BETA_LOC: { type: 'f32', value: prior.loc },
    BETA_SCALE: { type: 'f32', value: prior.scale },
    BETA_MASK: { type: 'vec4f[]', value: mask },
    WITHIN_XX: { type: 'vec4f[]', value: xx },
    WITHIN_XY: { type: 'vec4f[]', value: xy },
  };
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

/** The wide register kernel's predictor modules: the coefficients' terms and the family's within-group coefficient (or none). */
export function predictorModules(model: HierModel): ShaderModule[] {
  return [model.predictors?.within ? 'within' : 'within_none', 'predictors'];
}
