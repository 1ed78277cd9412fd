// Node only: the `navigator.gpu` equivalent from the npm package `webgpu` (Dawn). Imported
// dynamically by init(), so browsers never reach it.

import { existsSync } from 'node:fs';

/** Debian's chromium package ships SwiftShader's Vulkan driver here. */
const DEFAULT_SOFTWARE_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

export interface NodeGpu {
  gpu: GPU;
  adapter: GPUAdapter | null;
  /** What was tried, for the error message when no adapter is found. */
  tried: string[];
}

export async function requestNodeAdapter(dawnFlags: string[]): Promise<NodeGpu> {
  const { create, globals } = await import('webgpu');
  // GPUBufferUsage, GPUMapMode, ... as in a browser.
  Object.assign(globalThis, globals);
  process.env.XDG_RUNTIME_DIR ??= '/tmp';
  const tried: string[] = [];
  let gpu = create(dawnFlags);
  let adapter = await gpu.requestAdapter();
  tried.push(`Dawn with the system's Vulkan drivers${process.env.VK_ICD_FILENAMES ? ` (VK_ICD_FILENAMES=${process.env.VK_ICD_FILENAMES})` : ''}`);
  if (!adapter) {
    const icd = process.env.TICKETGRAD_VK_ICD ?? DEFAULT_SOFTWARE_ICD;
    if (process.env.VK_ICD_FILENAMES === icd) {
      // Already tried above.
    } else if (existsSync(icd)) {
      // The Vulkan loader reads this when Dawn creates its next instance.
      process.env.VK_ICD_FILENAMES = icd;
      gpu = create(dawnFlags);
      adapter = await gpu.requestAdapter();
      tried.push(`the software Vulkan driver ${icd}`);
    } else {
      tried.push(`no software Vulkan driver at ${icd} (set TICKETGRAD_VK_ICD to another ICD json)`);
    }
  }
  return { gpu, adapter, tried };
}
