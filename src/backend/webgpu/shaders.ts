// The one WGSL loader: a kernel's text is shaders/<name>.wgsl (embedded at build time into
// shaders.generated.ts, so Node and browsers compile exactly the same source) or generated
// (blocked.ts), behind the declarations kernels.ts makes for it: the struct Params of its
// uniform layout and the constant WORKGROUP_SIZE.
//
// Two tiny preprocessing steps: `#include "name"` pastes shaders/name.wgsl, and `{{KEY}}`
// placeholders are replaced by the values the backend passes (a kernel family's variants).

import { shaderSources } from './shaders.generated.js';
import { KERNELS, type KernelDeclaration, type KernelName } from './kernels.js';
import { wgslParams } from './uniforms.js';

export function shaderSource(name: KernelName, values: Readonly<Record<string, string>> = {}): string {
  const kernel: KernelDeclaration | undefined = KERNELS[name];
  if (kernel === undefined) throw new Error(`unknown WGSL kernel '${name}' (not in kernels.ts)`);
  const raw = kernel.generate ? kernel.generate() : shaderSources[name];
  if (raw === undefined) throw new Error(`WGSL kernel '${name}' has no shaders/${name}.wgsl`);
  const withIncludes = raw.replace(/^#include "([\w-]+)"$/gm, (_, inc: string) => {
    const text = shaderSources[inc];
    if (text === undefined) throw new Error(`WGSL kernel '${name}' includes unknown '${inc}'`);
    return text;
  });
  const body = withIncludes.replace(/\{\{(\w+)\}\}/g, (_, key: string) => {
    const v = values[key];
    if (v === undefined) throw new Error(`WGSL kernel '${name}' needs a value for {{${key}}}`);
    return v;
  });
  return `${wgslParams(kernel.params)}\nconst WORKGROUP_SIZE: u32 = ${kernel.workgroupSize}u;\n\n${body}`;
}
