// Choosing a backend: a WebGPU adapter when there is one (the browser's navigator.gpu, or Dawn
// in Node with a software Vulkan fallback), otherwise the CPU reference backend.

import { WebGpuBackend } from './backend/webgpu/backend.js';
import { type BackendName, getBackend, registerBackend, setBackend } from './engine.js';

export interface InitOptions {
  backend?: 'auto' | BackendName;
  /** Suppress the one-line notice when `auto` falls back to the CPU. */
  quiet?: boolean;
}

export interface InitResult {
  backend: BackendName;
  adapter: string;
}

/** Dawn toggles for Node. Robustness checks cost time and the kernels bound-check themselves. */
const DAWN_FLAGS = ['enable-dawn-features=disable_robustness'];

const HOW_TO_GET_A_GPU =
  'Install a GPU driver with Vulkan support, or a software one: on Debian/Ubuntu `apt-get install -y libvulkan1 chromium` ' +
  'provides SwiftShader at /usr/lib/chromium/vk_swiftshader_icd.json (TICKETGRAD_VK_ICD may name another ICD json). ' +
  "In a browser, use one with WebGPU enabled. Or use { backend: 'cpu' }.";

function describe(info: GPUAdapterInfo): string {
  const parts = [info.vendor, info.architecture].filter(Boolean).join(' ');
  return `${parts || 'unknown adapter'}${info.description ? ` (${info.description})` : ''}`;
}

async function findAdapter(): Promise<{ adapter: GPUAdapter | null; handle: unknown; tried: string[] }> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) {
    return { adapter: await nav.gpu.requestAdapter(), handle: nav.gpu, tried: ['navigator.gpu'] };
  }
  const isNode = typeof process !== 'undefined' && !!process.versions?.node;
  if (!isNode) return { adapter: null, handle: null, tried: ['navigator.gpu (this browser has no WebGPU)'] };
  const { requestNodeAdapter } = await import('./backend/webgpu/node-gpu.js');
  const found = await requestNodeAdapter(DAWN_FLAGS);
  return { adapter: found.adapter, handle: found.gpu, tried: found.tried };
}

async function createWebGpu(): Promise<WebGpuBackend | string> {
  let found;
  try {
    found = await findAdapter();
  } catch (e) {
    return `could not load WebGPU: ${(e as Error).message}`;
  }
  if (!found.adapter) return `no WebGPU adapter found (tried: ${found.tried.join('; ')})`;
  const { adapter } = found;
  const device = await adapter.requestDevice({
    requiredLimits: {
      maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
      maxBufferSize: adapter.limits.maxBufferSize,
    },
  });
  return new WebGpuBackend(device, describe(adapter.info), found.handle);
}

/**
 * Initialises a backend and makes it the default for new tensors. `auto` (the default) takes
 * a WebGPU adapter when there is one and otherwise the CPU backend, with a one-line notice.
 */
export async function init(options: InitOptions = {}): Promise<InitResult> {
  if (typeof options !== 'object' || options === null) throw new Error(`init: expected options such as { backend: 'cpu' }, got ${JSON.stringify(options)}`);
  const wanted = options.backend ?? 'auto';
  if (!['auto', 'webgpu', 'cpu'].includes(wanted)) throw new Error(`init: backend must be 'auto', 'webgpu' or 'cpu', got '${wanted}'`);
  if (wanted !== 'cpu') {
    let gpu: WebGpuBackend | string | null = null;
    try {
      gpu = getBackend('webgpu') as WebGpuBackend;
    } catch {
      // Not initialised yet.
    }
    if (gpu === null || gpu.isLost) {
      gpu = await createWebGpu();
      if (typeof gpu !== 'string') registerBackend(gpu);
    }
    if (typeof gpu !== 'string') {
      setBackend('webgpu');
      return { backend: 'webgpu', adapter: gpu.adapter };
    }
    if (wanted === 'webgpu') throw new Error(`init({ backend: 'webgpu' }): ${gpu}. ${HOW_TO_GET_A_GPU}`);
    if (!options.quiet) console.warn(`ticketgrad: ${gpu}; using the CPU backend`);
  }
  setBackend('cpu');
  return { backend: 'cpu', adapter: getBackend('cpu').adapter };
}
