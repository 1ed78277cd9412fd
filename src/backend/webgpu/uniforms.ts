// Uniform blocks, declared once: a kernel's layout (kernels.ts) generates both the WGSL
// `struct Params` its shader reads and the bytes the host writes, field by field by name, so
// the two cannot drift apart.
//
// Layout rules of WGSL's uniform address space: u32 and f32 take 4 bytes at 4-byte alignment;
// `Dims` (array<vec4<u32>, 2>: up to 8 dims, innermost first, see shaders/common.wgsl) takes 32
// at 16. Padding fields (_p0, _p1, ...) fill the gaps and round the block up to 16 bytes.

export type UniformField = 'u32' | 'f32' | 'dims';
/** Field name (as the WGSL reads it: p.<name>) -> type, in memory order. */
export type UniformLayout = Readonly<Record<string, UniformField>>;
/** A value for every field: dims take the shape or strides outermost first. */
export type UniformValues<L extends UniformLayout> = { readonly [K in keyof L]: L[K] extends 'dims' ? readonly number[] : number };

const WORDS: Record<UniformField, number> = { u32: 1, f32: 1, dims: 8 };
const ALIGN_WORDS: Record<UniformField, number> = { u32: 1, f32: 1, dims: 4 };
const WGSL_TYPE: Record<UniformField, string> = { u32: 'u32', f32: 'f32', dims: 'Dims' };
/** Dims the kernels read (two vec4s). */
export const MAX_UNIFORM_DIMS = 8;

interface Placed {
  name: string;
  type: UniformField;
  /** Word offset. */
  at: number;
}

/** Layouts are the constants of kernels.ts: each is placed once, not at every dispatch. */
const placements = new WeakMap<UniformLayout, { fields: Placed[]; words: number }>();

/** The fields at their word offsets, and the block's size in words (a multiple of 4). */
function place(layout: UniformLayout): { fields: Placed[]; words: number } {
  const known = placements.get(layout);
  if (known) return known;
  const fields: Placed[] = [];
  let at = 0;
  for (const [name, type] of Object.entries(layout)) {
    at = Math.ceil(at / ALIGN_WORDS[type]) * ALIGN_WORDS[type];
    fields.push({ name, type, at });
    at += WORDS[type];
  }
  const placed = { fields, words: Math.max(4, Math.ceil(at / 4) * 4) };
  placements.set(layout, placed);
  return placed;
}

/** `struct Params { ... }` for `layout`, with the padding fields made explicit. */
export function wgslParams(layout: UniformLayout): string {
  const { fields, words } = place(layout);
  const lines: string[] = [];
  let at = 0;
  let pad = 0;
  const padTo = (word: number): void => {
    for (; at < word; at++) lines.push(`  _p${pad++}: u32,`);
  };
  for (const f of fields) {
    padTo(f.at);
    lines.push(`  ${f.name}: ${WGSL_TYPE[f.type]},`);
    at = f.at + WORDS[f.type];
  }
  padTo(words);
  return `struct Params {\n${lines.join('\n')}\n}\n`;
}

/** The bytes of a uniform block; every field of the layout must be given, and nothing else. */
export function packUniforms<L extends UniformLayout>(layout: L, values: UniformValues<L>): Uint8Array {
  const { fields, words } = place(layout);
  const unknown = Object.keys(values).filter((k) => !(k in layout));
  if (unknown.length) throw new Error(`internal: uniform fields ${unknown.join(', ')} are not in the layout (${Object.keys(layout).join(', ')})`);
  const bytes = new ArrayBuffer(words * 4);
  const u = new Uint32Array(bytes);
  const f = new Float32Array(bytes);
  for (const { name, type, at } of fields) {
    const value = (values as Record<string, number | readonly number[] | undefined>)[name];
    if (value === undefined) throw new Error(`internal: uniform field '${name}' has no value`);
    if (type === 'dims') {
      const dims = value as readonly number[];
      if (dims.length > MAX_UNIFORM_DIMS) throw new Error(`internal: rank ${dims.length} exceeds the kernels' ${MAX_UNIFORM_DIMS}`);
      // Innermost first, as the kernels read them.
      for (let i = 0; i < dims.length; i++) u[at + i] = dims[dims.length - 1 - i];
    } else if (type === 'f32') f[at] = value as number;
    else u[at] = value as number;
  }
  return new Uint8Array(bytes);
}
