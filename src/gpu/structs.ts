/**
 * Host views of the structs the host writes into (or reads from) GPU buffers, derived from
 * the WGSL that declares them: webgpu-utils' `makeShaderDataDefinitions` parses the shader
 * (wgsl_reflect) and lays every struct out by WGSL's alignment rules, and
 * `makeStructuredView` gives one typed array per field (Float32Array for f32, Uint32Array
 * for u32, of the field's length) at its offset. No byte offset is counted by hand, and a
 * field added to a struct moves the host's writes with it.
 *
 * What the definitions do not describe: module-scope constants, which size the rows of a
 * runtime-sized array (`history: array<f32>` in shaders/adapt.wgsl, HISTORY_FIELDS floats
 * per row): `constU32` reads them from the same source.
 */
import { makeShaderDataDefinitions, makeStructuredView, type ShaderDataDefinitions, type StructDefinition } from 'webgpu-utils';
import { composeShader, type ShaderConst, type ShaderModule } from './shader.ts';

/** A struct's fields as typed arrays over one ArrayBuffer (webgpu-utils' StructuredView). */
export interface StructView {
  readonly arrayBuffer: ArrayBuffer;
  /** One view per field, typed by the field's WGSL type (a scalar: length 1). */
  readonly views: Readonly<Record<string, Float32Array | Uint32Array | Int32Array>>;
}

/** The structs and constants of a composed shader source. */
export interface WgslStructs {
  readonly defs: ShaderDataDefinitions;
  /** The struct `name` (throws when the source declares none). */
  struct(name: string): StructDefinition;
  /** A view of struct `name`: over `buffer` from `offset`, or over a new zeroed buffer of its size. */
  view(name: string, buffer?: ArrayBuffer, offset?: number): StructView;
  /** The value of `const name: u32 = <n>u;` at module scope (throws when there is none). */
  constU32(name: string): number;
}

/**
 * Parsed sources, by code: parsing costs tens of milliseconds, and every run on a model of
 * the same shape asks for the same source (its struct layouts do not depend on the data).
 */
const parsed = new Map<string, Promise<WgslStructs>>();

/**
 * The struct definitions of `modules` composed after the `consts` prelude (as `composeShader`
 * composes kernels: constants such as NV size struct arrays). Compose only the modules that
 * declare the structs and what their sizes need: parsing time grows with the code.
 * Needs the WebGPU globals (webgpu-utils reads GPUShaderStage).
 */
export function wgslStructs(modules: readonly ShaderModule[], consts: Readonly<Record<string, ShaderConst>> = {}): Promise<WgslStructs> {
  return composeShader(modules, consts).then((code) => {
    let p = parsed.get(code);
    if (!p) {
      p = Promise.resolve().then(() => describe(code));
      parsed.set(code, p);
      p.catch(() => parsed.delete(code));
    }
    return p;
  });
}

/**
 * The module-scope declarations a struct's layout can depend on (structs, consts, aliases),
 * without the functions: wgsl_reflect parses whole function bodies too, which cost about
 * 0.2 s of each process's start-up (the transition and adaptation sources, SwiftShader
 * machine) and change no layout.
 */
function layoutDeclarations(code: string): string {
  const out: string[] = [];
  const lines = code.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (/^struct\s/.test(line)) {
      // A struct ends at its closing brace in the first column (as every shader writes it).
      let j = i;
      while (j < lines.length && !/^\}/.test(lines[j])) j++;
      out.push(...lines.slice(i, j + 1));
      i = j;
    } else if (/^(const|alias)\s/.test(line)) {
      let j = i;
      while (j < lines.length && !/;\s*(\/\/.*)?$/.test(lines[j])) j++;
      out.push(...lines.slice(i, j + 1));
      i = j;
    }
  }
  return out.join('\n');
}

function describe(code: string): WgslStructs {
  const defs = makeShaderDataDefinitions(layoutDeclarations(code));
  const struct = (name: string): StructDefinition => {
    const s = defs.structs[name];
    if (!s) throw new Error(`the WGSL declares no struct ${name}`);
    return s;
  };
  return {
    defs,
    struct,
    view: (name, buffer, offset) => makeStructuredView(struct(name), buffer, offset) as StructView,
    constU32: (name) => {
      const m = new RegExp(`^\\s*const ${name}\\s*:\\s*u32\\s*=\\s*(\\d+)u\\s*;`, 'm').exec(code);
      if (!m) throw new Error(`the WGSL declares no const ${name}: u32`);
      return parseInt(m[1], 10);
    },
  };
}

/** Byte offset of `field` in `struct` (throws when it has no such field). */
export function fieldOffset(struct: StructDefinition, field: string): number {
  const f = struct.fields[field];
  if (!f) throw new Error(`the struct has no field ${field}`);
  return f.offset;
}

/**
 * Throws unless every field of `prefix` is a field of `struct` at the same offset and size:
 * for a struct that another shader reads as its first fields (AdaptState's WarmupStep).
 */
export function checkPrefix(struct: StructDefinition, prefix: StructDefinition, what: string): void {
  for (const [name, f] of Object.entries(prefix.fields)) {
    const g = struct.fields[name];
    if (!g || g.offset !== f.offset || g.type.size !== f.type.size) throw new Error(`${what}: field ${name} differs`);
  }
}
