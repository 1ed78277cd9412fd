// Which backends the tests run on.
//
// - 'cpu' always: the reference.
// - 'wasm' always (Node 20 has WebAssembly SIMD); if it fails to start, its tests fail.
// - 'webgpu' when `tg.init({ backend: 'webgpu' })` succeeds in this process.
// - When it fails: with CI=true or REQUIRE_GPU=1 every GPU test still runs and FAILS with the
//   init error; otherwise GPU tests are left out, and test/devices.test.ts reports ONE skipped
//   test whose name says why.
//
// Importing this module registers an `after()` hook that calls `tg.shutdown()` so that Node
// exits (Dawn keeps the process alive while a device exists).

import { after, test, type TestContext } from 'node:test';
import * as tg from '../src/index.js';

export type Device = tg.BackendName;

export interface GpuStatus {
  available: boolean;
  /** The adapter description, or the init error message. */
  detail: string;
  /** True when a missing GPU must fail the run (CI=true or REQUIRE_GPU=1). */
  required: boolean;
}

async function probe(): Promise<GpuStatus> {
  const required = process.env.CI === 'true' || process.env.REQUIRE_GPU === '1';
  try {
    const r = await tg.init({ backend: 'webgpu' });
    return { available: true, detail: r.adapter, required };
  } catch (e) {
    return { available: false, detail: (e as Error).message, required };
  } finally {
    // New tensors go to the CPU unless a test says otherwise.
    tg.setBackend('cpu');
  }
}

export const gpu: GpuStatus = await probe();

/** The wasm backend's description, or its init error (thrown by every wasm test). */
async function probeWasm(): Promise<{ available: boolean; detail: string }> {
  try {
    return { available: true, detail: (await tg.init({ backend: 'wasm' })).adapter };
  } catch (e) {
    return { available: false, detail: (e as Error).message };
  } finally {
    tg.setBackend('cpu');
  }
}

export const wasm = await probeWasm();

after(() => tg.shutdown());

/** The backends compared with the CPU reference. */
export const accelerators: Device[] = gpu.available || gpu.required ? ['wasm', 'webgpu'] : ['wasm'];

/** The backends to run device-parameterised tests on. */
export const devices: Device[] = ['cpu', ...accelerators];

/** One line for the GPU's absence (used by devices.test.ts). */
export function gpuSkipReason(): string {
  return `webgpu: skipped (no adapter: ${gpu.detail.replace(/^init\(\{ backend: 'webgpu' \}\): /, '').replace(/\s+/g, ' ')})`;
}

function gpuUnavailableError(): Error {
  return new Error(`WebGPU is required here (CI=true or REQUIRE_GPU=1) but init({ backend: 'webgpu' }) failed: ${gpu.detail}`);
}

export interface TestOptions {
  timeout?: number;
  /**
   * Suffix of a gpuTest's name (default '[webgpu vs cpu]'); for an acceleratorTest, what
   * follows the device in brackets (default 'vs cpu'; '' for none).
   */
  label?: string;
}

/** Throws why `device` cannot run (WebGPU missing where required, wasm failing to start). */
function checkAvailable(device: Device): void {
  if (device === 'webgpu' && !gpu.available) throw gpuUnavailableError();
  if (device === 'wasm' && !wasm.available) throw new Error(`init({ backend: 'wasm' }) failed: ${wasm.detail}`);
}

const DEFAULT_TIMEOUT = 180_000;

/**
 * Registers `name [device]` once per backend: the same body, with `tg.setBackend(device)`
 * done first (so creation functions without an explicit backend use it).
 */
export function forEachDevice(name: string, body: (device: Device, t: TestContext) => Promise<void> | void, options: TestOptions = {}): void {
  for (const device of devices) {
    test(`${name} [${device}]`, { timeout: options.timeout ?? DEFAULT_TIMEOUT }, async (t) => {
      checkAvailable(device);
      tg.setBackend(device);
      try {
        await body(device, t);
      } finally {
        tg.setBackend('cpu');
      }
    });
  }
}

/**
 * A test that needs WebGPU (typically comparing it with the CPU reference). Left out when
 * there is no GPU (devices.test.ts says so once); fails when a GPU is required but missing.
 */
export function gpuTest(name: string, body: (t: TestContext) => Promise<void> | void, options: TestOptions = {}): void {
  if (!gpu.available && !gpu.required) return;
  test(`${name} ${options.label ?? '[webgpu vs cpu]'}`, { timeout: options.timeout ?? DEFAULT_TIMEOUT }, async (t) => {
    if (!gpu.available) throw gpuUnavailableError();
    tg.setBackend('cpu');
    await body(t);
  });
}

/**
 * A test of each accelerated backend (wasm, and webgpu when present), typically against the
 * CPU reference: registered once per backend as `name [device vs cpu]`, with the CPU as the
 * default backend while it runs.
 */
export function acceleratorTest(name: string, body: (device: Device, t: TestContext) => Promise<void> | void, options: TestOptions = {}): void {
  const label = options.label ?? 'vs cpu';
  for (const device of accelerators) {
    test(`${name} [${device}${label ? ` ${label}` : ''}]`, { timeout: options.timeout ?? DEFAULT_TIMEOUT }, async (t) => {
      checkAvailable(device);
      tg.setBackend('cpu');
      await body(device, t);
    });
  }
}
