// Which backends the tests run on.
//
// - 'cpu' always.
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

after(() => tg.shutdown());

/** The backends to run device-parameterised tests on. */
export const devices: Device[] = gpu.available || gpu.required ? ['cpu', 'webgpu'] : ['cpu'];

/** One line for the GPU's absence (used by devices.test.ts). */
export function gpuSkipReason(): string {
  return `webgpu: skipped (no adapter: ${gpu.detail.replace(/^init\(\{ backend: 'webgpu' \}\): /, '').replace(/\s+/g, ' ')})`;
}

function gpuUnavailableError(): Error {
  return new Error(`WebGPU is required here (CI=true or REQUIRE_GPU=1) but init({ backend: 'webgpu' }) failed: ${gpu.detail}`);
}

export interface TestOptions {
  timeout?: number;
  /** Suffix of a gpuTest's name (default '[webgpu vs cpu]'). */
  label?: string;
}

const DEFAULT_TIMEOUT = 180_000;

/**
 * Registers `name [device]` once per backend: the same body, with `tg.setBackend(device)`
 * done first (so creation functions without an explicit backend use it).
 */
export function forEachDevice(name: string, body: (device: Device, t: TestContext) => Promise<void> | void, options: TestOptions = {}): void {
  for (const device of devices) {
    test(`${name} [${device}]`, { timeout: options.timeout ?? DEFAULT_TIMEOUT }, async (t) => {
      if (device === 'webgpu' && !gpu.available) throw gpuUnavailableError();
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
