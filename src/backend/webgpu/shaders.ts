// The one WGSL loader: shader text comes from shaders/*.wgsl, embedded at build time into
// shaders.generated.ts, so Node and browsers compile exactly the same source.
//
// Two tiny preprocessing steps: `#include "name"` pastes shaders/name.wgsl, and `{{KEY}}`
// placeholders are replaced by the values the backend passes (a kernel family's variants).

import { shaderSources } from './shaders.generated.js';

export function shaderSource(name: string, values: Readonly<Record<string, string>> = {}): string {
  const raw = shaderSources[name];
  if (raw === undefined) throw new Error(`unknown WGSL kernel '${name}' (not in shaders/)`);
  const withIncludes = raw.replace(/^#include "([\w-]+)"$/gm, (_, inc: string) => {
    const text = shaderSources[inc];
    if (text === undefined) throw new Error(`WGSL kernel '${name}' includes unknown '${inc}'`);
    return text;
  });
  return withIncludes.replace(/\{\{(\w+)\}\}/g, (_, key: string) => {
    const v = values[key];
    if (v === undefined) throw new Error(`WGSL kernel '${name}' needs a value for {{${key}}}`);
    return v;
  });
}
