// Choosing a backend. `auto`: a hardware WebGPU adapter when there is one (the browser's
// navigator.gpu, or Dawn in Node); otherwise the WebAssembly backend, which is faster on a CPU
// than a software WebGPU adapter (SwiftShader, llvmpipe) emulating a GPU there. A software
// adapter is used only when asked for by name. The CPU reference backend is the last resort.

import { WebGpuBackend } from './backend/webgpu/backend.js';
import { type WasmBackend, createWasmBackend } from './backend/wasm/backend.js';
import { type BackendName, getBackend, registerBackend, setBackend } from './engine.js';

export interface InitOptions {
  backend?: BackendChoice;
  /** Threads of the wasm backend, this one included (default: the available cores). */
  threads?: number;
  /** Suppress the one-line notice saying what `auto` chose and why. */
  quiet?: boolean;
}

export interface InitResult {
  backend: BackendName;
  adapter: string;
  /** The backend is WebGPU on a software renderer (SwiftShader, llvmpipe): a CPU emulating a GPU. */
  softwareGpu: boolean;
}

export const BACKEND_CHOICES = ['auto', 'webgpu', 'wasm', 'cpu'] as const;

/** Whether a thread count applies to a backend choice: the wasm backend's, which auto may pick. */
export const takesThreads = (backend: BackendChoice): boolean => backend === 'wasm' || backend === 'auto';
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

/** Dawn toggles for Node. Robustness checks cost time and the kernels bound-check themselves. */
const DAWN_FLAGS = ['enable-dawn-features=disable_robustness'];

const HOW_TO_GET_A_GPU =
  'Install a GPU driver with Vulkan support, or a software one: on Debian/Ubuntu `apt-get install -y libvulkan1 chromium` ' +
  'provides SwiftShader at /usr/lib/chromium/vk_swiftshader_icd.json (TICKETGRAD_VK_ICD may name another ICD json). ' +
  "In a browser, use one with WebGPU enabled. Or use { backend: 'wasm' } or { backend: 'cpu' }.";

function describe(info: GPUAdapterInfo): string {
  const parts = [info.vendor, info.architecture].filter(Boolean).join(' ');
  return `${parts || 'unknown adapter'}${info.description ? ` (${info.description})` : ''}`;
}

/** A CPU implementation of WebGPU: the adapter says so, or its name does. */
function isSoftware(adapter: GPUAdapter): boolean {
  const a = adapter as GPUAdapter & { isFallbackAdapter?: boolean; info: GPUAdapterInfo & { isFallbackAdapter?: boolean } };
  if (a.info.isFallbackAdapter || a.isFallbackAdapter) return true;
  return /swiftshader|llvmpipe|lavapipe|softpipe|warp|software/i.test(`${a.info.vendor} ${a.info.architecture} ${a.info.description} ${a.info.device}`);
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

/** A WebGPU backend, or why there is none; with `hardwareOnly`, a software adapter is a reason. */
async function createWebGpu(hardwareOnly: boolean): Promise<WebGpuBackend | string> {
  let found: Awaited<ReturnType<typeof findAdapter>>;
  try {
    found = await findAdapter();
  } catch (e) {
    return `could not load WebGPU: ${(e as Error).message}`;
  }
  if (!found.adapter) return `no WebGPU adapter found (tried: ${found.tried.join('; ')})`;
  const { adapter } = found;
  const software = isSoftware(adapter);
  if (hardwareOnly && software) return `the WebGPU adapter is a software renderer (${describe(adapter.info)}), slower on this CPU than WebAssembly`;
  const device = await adapter.requestDevice({
    requiredLimits: {
      maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
      maxBufferSize: adapter.limits.maxBufferSize,
    },
  });
  return new WebGpuBackend(device, describe(adapter.info), found.handle, software);
}

function existing<T>(name: BackendName): T | null {
  try {
    return getBackend(name) as T;
  } catch {
    return null;
  }
}

/** The WebGPU backend, kept while its device lives. */
async function webgpu(hardwareOnly: boolean): Promise<WebGpuBackend | string> {
  const have = existing<WebGpuBackend>('webgpu');
  if (have && !have.isLost) return have;
  const created = await createWebGpu(hardwareOnly);
  if (typeof created !== 'string') registerBackend(created);
  return created;
}

/**
 * The wasm backend: the one there is, running `threads` of its threads when it has started as
 * many (its tensors stay); made again when it needs more.
 */
async function wasm(threads: number | undefined): Promise<WasmBackend> {
  const have = existing<WasmBackend>('wasm');
  if (have && (threads === undefined || have.info.singleThreadReason)) return have;
  if (have && threads !== undefined && threads <= have.startedThreads) {
    have.threads = threads;
    return have;
  }
  const created = await createWasmBackend({ threads });
  registerBackend(created);
  if (created.info.singleThreadReason) console.warn(`ticketgrad: the wasm backend runs one thread: ${created.info.singleThreadReason}`);
  return created;
}

function chosen(name: BackendName): InitResult {
  setBackend(name);
  const backend = getBackend(name);
  return { backend: name, adapter: backend.adapter, softwareGpu: backend instanceof WebGpuBackend && backend.cpuLike };
}

/**
 * Initialises a backend and makes it the default for new tensors. `auto` (the default) takes
 * a hardware WebGPU adapter when there is one, otherwise the wasm backend (then the CPU
 * reference if this runtime lacks WebAssembly SIMD), and says so in one line unless `quiet`.
 */
export async function init(options: InitOptions = {}): Promise<InitResult> {
  if (typeof options !== 'object' || options === null) throw new Error(`init: expected options such as { backend: 'wasm' }, got ${JSON.stringify(options)}`);
  const wanted = options.backend ?? 'auto';
  if (!(BACKEND_CHOICES as readonly string[]).includes(wanted)) throw new Error(`init: backend must be one of ${BACKEND_CHOICES.map((b) => `'${b}'`).join(', ')}, got '${wanted}'`);
  const { threads } = options;
  if (threads !== undefined && (!Number.isInteger(threads) || threads < 1 || threads > 256))
    throw new Error(`init: threads must be an integer in [1, 256], got ${JSON.stringify(threads)}`);
  if (threads !== undefined && !takesThreads(wanted)) throw new Error(`init: threads applies to the wasm backend, not '${wanted}'`);
  switch (wanted) {
    case 'cpu':
      return chosen('cpu');
    case 'webgpu': {
      const gpu = await webgpu(false);
      if (typeof gpu === 'string') throw new Error(`init({ backend: 'webgpu' }): ${gpu}. ${HOW_TO_GET_A_GPU}`);
      return chosen('webgpu');
    }
    case 'wasm':
      await wasm(threads);
      return chosen('wasm');
    case 'auto': {
      const gpu = await webgpu(true);
      if (typeof gpu !== 'string') return chosen('webgpu');
      const say = (line: string): void => {
        if (!options.quiet) console.warn(`ticketgrad: ${line}`);
      };
      try {
        const w = await wasm(threads);
        say(`using the wasm backend (${w.adapter}): ${gpu}`);
        return chosen('wasm');
      } catch (e) {
        say(`using the CPU reference backend: ${gpu}, and the wasm backend failed (${(e as Error).message})`);
        return chosen('cpu');
      }
    }
  }
}
