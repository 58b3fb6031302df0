/**
 * WGSL sources: the `.wgsl` files in `shaders/` are the single source of truth, read by
 * Node from disk and by the browser through Vite's asset URLs, and composed here:
 * modules are concatenated after a prelude of typed `const` declarations (the one small
 * code generator; WGSL `override`s cannot size private arrays, which the kernels need).
 */
const SHADER_URLS = {
  model: new URL('../../shaders/model.wgsl', import.meta.url),
  logdensity: new URL('../../shaders/logdensity.wgsl', import.meta.url),
  philox: new URL('../../shaders/philox.wgsl', import.meta.url),
  hmc: new URL('../../shaders/hmc.wgsl', import.meta.url),
  reduce: new URL('../../shaders/reduce.wgsl', import.meta.url),
} as const;

export type ShaderName = keyof typeof SHADER_URLS;

/** A compile-time constant for the prelude. */
export type ShaderConst = { readonly type: 'u32'; readonly value: number } | { readonly type: 'f32'; readonly value: number };

const cache = new Map<ShaderName, Promise<string>>();

/** Loads one `.wgsl` file (cached). */
export function loadShader(name: ShaderName): Promise<string> {
  let p = cache.get(name);
  if (!p) {
    const url = SHADER_URLS[name];
    p =
      url.protocol === 'file:'
        ? import(/* @vite-ignore */ 'node:fs/promises').then((fs) => fs.readFile(url, 'utf8'))
        : fetch(url).then((r) => {
            if (!r.ok) throw new Error(`cannot load shader ${name}: HTTP ${r.status}`);
            return r.text();
          });
    cache.set(name, p);
  }
  return p;
}

function constLine(name: string, c: ShaderConst): string {
  if (!/^[A-Z][A-Z0-9_]*$/.test(name)) throw new Error(`bad shader constant name ${name}`);
  if (c.type === 'u32') {
    if (!Number.isInteger(c.value) || c.value < 0 || c.value > 0xffffffff) throw new Error(`${name} must be a u32`);
    return `const ${name}: u32 = ${c.value}u;`;
  }
  if (!Number.isFinite(c.value)) throw new Error(`${name} must be finite`);
  return `const ${name}: f32 = ${c.value.toExponential()};`;
}

/** Concatenates shader modules after a `const` prelude. */
export async function composeShader(modules: readonly ShaderName[], consts: Readonly<Record<string, ShaderConst>>): Promise<string> {
  const prelude = Object.entries(consts).map(([n, c]) => constLine(n, c));
  const bodies = await Promise.all(modules.map(loadShader));
  return [...prelude, ...bodies].join('\n');
}

/** Creates a compute pipeline, surfacing WGSL compile errors with their line numbers. */
export async function createComputePipeline(device: GPUDevice, label: string, code: string, entryPoint = 'main'): Promise<GPUComputePipeline> {
  const module = device.createShaderModule({ label, code });
  const info = await module.getCompilationInfo();
  const errors = info.messages.filter((m) => m.type === 'error');
  if (errors.length) {
    const lines = code.split('\n');
    throw new Error(`WGSL compile error in ${label}:\n` + errors.map((m) => `  line ${m.lineNum}: ${m.message}\n    ${lines[m.lineNum - 1] ?? ''}`).join('\n'));
  }
  return device.createComputePipelineAsync({ label, layout: 'auto', compute: { module, entryPoint } });
}

/** Workgroup grid for `n` invocations of size `wg`: x capped at 65535 groups, rows in y. */
export function dispatchGrid(n: number, wg: number): { x: number; y: number; rowStride: number } {
  const groups = Math.max(1, Math.ceil(n / wg));
  const x = Math.min(groups, 65535);
  const y = Math.ceil(groups / x);
  return { x, y, rowStride: x * wg };
}
