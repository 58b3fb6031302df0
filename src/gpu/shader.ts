/**
 * WGSL sources: the `.wgsl` files in `shaders/` are the single source of truth, read by
 * Node from disk and by the browser through Vite's asset URLs, and composed here:
 * modules are concatenated after a prelude of typed `const` declarations (the one small
 * code generator; WGSL `override`s cannot size private arrays, which the kernels need).
 */
import { gpuWait } from './wait.ts';

const SHADER_URLS = {
  prior: new URL('../../shaders/prior.wgsl', import.meta.url),
  model: new URL('../../shaders/model.wgsl', import.meta.url),
  logdensity: new URL('../../shaders/logdensity.wgsl', import.meta.url),
  philox: new URL('../../shaders/philox.wgsl', import.meta.url),
  hmc_common: new URL('../../shaders/hmc_common.wgsl', import.meta.url),
  hmc: new URL('../../shaders/hmc.wgsl', import.meta.url),
  block: new URL('../../shaders/block.wgsl', import.meta.url),
  chain_sum: new URL('../../shaders/chain_sum.wgsl', import.meta.url),
  chain_sum_one: new URL('../../shaders/chain_sum_one.wgsl', import.meta.url),
  hmc_wide: new URL('../../shaders/hmc_wide.wgsl', import.meta.url),
  hmc_stream: new URL('../../shaders/hmc_stream.wgsl', import.meta.url),
  batch_hmc: new URL('../../shaders/batch_hmc.wgsl', import.meta.url),
  batch_stats: new URL('../../shaders/batch_stats.wgsl', import.meta.url),
  batch_stats_none: new URL('../../shaders/batch_stats_none.wgsl', import.meta.url),
  hmc_wide_common: new URL('../../shaders/hmc_wide_common.wgsl', import.meta.url),
  lik_plain: new URL('../../shaders/lik_plain.wgsl', import.meta.url),
  lik_global: new URL('../../shaders/lik_global.wgsl', import.meta.url),
  reduce: new URL('../../shaders/reduce.wgsl', import.meta.url),
  reduce_blocks: new URL('../../shaders/reduce_blocks.wgsl', import.meta.url),
  reduce_wide: new URL('../../shaders/reduce_wide.wgsl', import.meta.url),
  adapt: new URL('../../shaders/adapt.wgsl', import.meta.url),
  predictors: new URL('../../shaders/predictors.wgsl', import.meta.url),
  within: new URL('../../shaders/within.wgsl', import.meta.url),
  within_none: new URL('../../shaders/within_none.wgsl', import.meta.url),
} as const;

export type ShaderName = keyof typeof SHADER_URLS;

/** A compile-time constant for the prelude. */
export type ShaderConst =
  | { readonly type: 'u32'; readonly value: number }
  | { readonly type: 'f32'; readonly value: number }
  | { readonly type: 'bool'; readonly value: boolean }
  /** A `const` vec4f (4 values, rounded to float32). */
  | { readonly type: 'vec4f'; readonly value: ArrayLike<number> }
  /** A `const` array of vec4f (length a positive multiple of 4), values rounded to float32. */
  | { readonly type: 'vec4f[]'; readonly value: ArrayLike<number> };

const cache = new Map<string, Promise<string>>();

/**
 * A shader module: one of the named files above, or the URL of another `.wgsl` file (a
 * likelihood family's, `src/model/families/`, written `new URL('…/x.wgsl', import.meta.url)`
 * in the family's module so that Vite bundles it as an asset).
 */
export type ShaderModule = ShaderName | URL;

/** Loads one `.wgsl` file (cached). */
export function loadShader(module: ShaderModule): Promise<string> {
  const url = typeof module === 'string' ? SHADER_URLS[module] : module;
  const name = typeof module === 'string' ? module : url.pathname.split('/').pop()!;
  let p = cache.get(url.href);
  if (!p) {
    p =
      url.protocol === 'file:'
        ? import(/* @vite-ignore */ 'node:fs/promises').then((fs) => fs.readFile(url, 'utf8'))
        : fetch(url).then((r) => {
            if (!r.ok) throw new Error(`cannot load shader ${name}: HTTP ${r.status}`);
            return r.text();
          });
    cache.set(url.href, p);
  }
  return p;
}

function constLine(name: string, c: ShaderConst): string {
  if (!/^[A-Z][0-9A-Z_]*$/.test(name)) throw new Error(`bad shader constant name ${name}`);
  if (c.type === 'bool') return `const ${name}: bool = ${c.value};`;
  if (c.type === 'u32') {
    if (!Number.isInteger(c.value) || c.value < 0 || c.value > 0xffffffff) throw new Error(`${name} must be a u32`);
    return `const ${name}: u32 = ${c.value}u;`;
  }
  if (c.type === 'vec4f') {
    if (c.value.length !== 4) throw new Error(`${name} must hold 4 values`);
    return `const ${name} = vec4f(${[0, 1, 2, 3].map((k) => f32Literal(name, c.value[k])).join(', ')});`;
  }
  if (c.type === 'vec4f[]') {
    const v = c.value;
    if (v.length === 0 || v.length % 4 !== 0) throw new Error(`${name} must hold a positive multiple of 4 values`);
    const vecs: string[] = [];
    for (let i = 0; i < v.length; i += 4) vecs.push(`vec4f(${[0, 1, 2, 3].map((k) => f32Literal(name, v[i + k])).join(', ')})`);
    return `const ${name} = array<vec4f, ${v.length / 4}>(${vecs.join(', ')});`;
  }
  return `const ${name}: f32 = ${f32Literal(name, c.value)};`;
}

/**
 * A WGSL float literal that parses back to exactly Math.fround(x): nine significant digits
 * round-trip every float32 (IEEE 754-2008, 5.12.2).
 */
export function f32Literal(name: string, x: number): string {
  if (!Number.isFinite(x)) throw new Error(`${name} must be finite`);
  const f = Math.fround(x);
  if (!Number.isFinite(f)) throw new Error(`${name} overflows float32`);
  return f === 0 ? '0.0' : f.toPrecision(9);
}

/**
 * Loops longer than this are left rolled (code size); shorter ones marked `// @unroll` are
 * unrolled. Bounded so that no kernel's code grows past a few unrolled blocks: the wide
 * models (src/gpu/layout.ts MAX_BAKED_BLOCKS) run kernels without per-block code.
 */
export const MAX_UNROLL = 8;

const UNROLL_HEAD = /for \(var (\w+) = 0u; \1 < (\w+); \1\+\+\) \{ \/\/ @unroll\s*$/;

/**
 * Unrolls every loop written `for (var i = 0u; i < N; i++) { // @unroll` whose trip count N
 * (a literal or a prelude constant) is at most MAX_UNROLL: the body is repeated N times,
 * each copy opened by `const i = <k>u;`. Indices into private arrays then become constants,
 * which compilers keep in registers (SwiftShader ran such loops ~10x slower rolled).
 * The source stays valid WGSL either way.
 */
export function unrollLoops(code: string, consts: Readonly<Record<string, ShaderConst>>): string {
  const lines = code.split('\n');
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = UNROLL_HEAD.exec(lines[i]);
    const named = m ? consts[m[2]] : undefined;
    const n = m ? (/^\d+u?$/.test(m[2]) ? parseInt(m[2], 10) : named?.type === 'u32' ? named.value : undefined) : undefined;
    if (!m || n === undefined || n > MAX_UNROLL) {
      out.push(lines[i]);
      continue;
    }
    // Find the matching closing brace of the loop body.
    let depth = 1;
    let j = i + 1;
    for (; j < lines.length; j++) {
      for (const ch of lines[j]) depth += ch === '{' ? 1 : ch === '}' ? -1 : 0;
      if (depth === 0) break;
    }
    if (depth !== 0) throw new Error(`unbalanced braces after line ${i + 1}`);
    const body = unrollLoops(lines.slice(i + 1, j).join('\n'), consts);
    const indent = /^\s*/.exec(lines[i])![0];
    for (let k = 0; k < n; k++) out.push(`${indent}{`, `${indent}  const ${m[1]} = ${k}u;`, body, `${indent}}`);
    i = j;
  }
  return out.join('\n');
}

/** Concatenates shader modules after a `const` prelude and unrolls `// @unroll` loops. */
export async function composeShader(modules: readonly ShaderModule[], consts: Readonly<Record<string, ShaderConst>>): Promise<string> {
  const prelude = Object.entries(consts).map(([n, c]) => constLine(n, c));
  const bodies = await Promise.all(modules.map(loadShader));
  return unrollLoops([...prelude, ...bodies].join('\n'), consts);
}

/**
 * Pipelines already made, by device (layout 'auto') or by pipeline layout, keyed by entry
 * point and WGSL: a second run on the same device (`compare`'s runs, the page's runs, `auto`
 * moving c back) reuses them instead of compiling again. Weak maps: a device or layout that
 * is gone takes its pipelines with it.
 */
const autoPipelines = new WeakMap<GPUDevice, Map<string, Promise<GPUComputePipeline>>>();
const layoutPipelines = new WeakMap<GPUPipelineLayout, Map<string, Promise<GPUComputePipeline>>>();

/**
 * Creates a compute pipeline, surfacing WGSL compile errors with their line numbers, or
 * returns the one made before for the same device (or layout), entry point and code. The
 * layout defaults to 'auto'; pass one (made once per device: `cachedLayout`) to share bind
 * groups between pipelines. A failed compile is not kept.
 */
export function createComputePipeline(
  device: GPUDevice,
  label: string,
  code: string,
  entryPoint = 'main',
  layout: GPUPipelineLayout | 'auto' = 'auto',
): Promise<GPUComputePipeline> {
  let cache = layout === 'auto' ? autoPipelines.get(device) : layoutPipelines.get(layout);
  if (!cache) {
    cache = new Map();
    if (layout === 'auto') autoPipelines.set(device, cache);
    else layoutPipelines.set(layout, cache);
  }
  const key = `${entryPoint}\n${code}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const made = compilePipeline(device, label, code, entryPoint, layout);
  cache.set(key, made);
  made.catch(() => cache.delete(key));
  return made;
}

/**
 * A bind group layout and its pipeline layout, made once per device under `name` (their
 * descriptors must not change with the run), so that pipelines on it are cached across runs.
 */
export function cachedLayout(device: GPUDevice, name: string, entries: GPUBindGroupLayoutEntry[]): { bindings: GPUBindGroupLayout; layout: GPUPipelineLayout } {
  let byName = deviceLayouts.get(device);
  if (!byName) deviceLayouts.set(device, (byName = new Map()));
  let made = byName.get(name);
  if (!made) {
    const bindings = device.createBindGroupLayout({ label: `${name} bindings`, entries });
    made = { bindings, layout: device.createPipelineLayout({ label: name, bindGroupLayouts: [bindings] }) };
    byName.set(name, made);
  }
  return made;
}

const deviceLayouts = new WeakMap<GPUDevice, Map<string, { bindings: GPUBindGroupLayout; layout: GPUPipelineLayout }>>();

async function compilePipeline(device: GPUDevice, label: string, code: string, entryPoint: string, layout: GPUPipelineLayout | 'auto'): Promise<GPUComputePipeline> {
  const module = device.createShaderModule({ label, code });
  const info = await gpuWait(() => module.getCompilationInfo());
  const errors = info.messages.filter((m) => m.type === 'error');
  if (errors.length) {
    const lines = code.split('\n');
    throw new Error(`WGSL compile error in ${label}:\n` + errors.map((m) => `  line ${m.lineNum}: ${m.message}\n    ${lines[m.lineNum - 1] ?? ''}`).join('\n'));
  }
  return gpuWait(() => device.createComputePipelineAsync({ label, layout, compute: { module, entryPoint } }));
}

/** Workgroup grid for `n` invocations of size `wg`: x capped at 65535 groups, rows in y. */
export function dispatchGrid(n: number, wg: number): { x: number; y: number; rowStride: number } {
  const groups = Math.max(1, Math.ceil(n / wg));
  const x = Math.min(groups, 65535);
  const y = Math.ceil(groups / x);
  return { x, y, rowStride: x * wg };
}
