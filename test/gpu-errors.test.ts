// WebGPU failures a user must be able to act on: a WGSL compile error names the kernel, a
// tensor over the device's buffer limit says so, and a lost device is reported (not hung on)
// and recovered from by init().

import assert from 'node:assert/strict';
import * as tg from '../src/index.js';
import type { WebGpuBackend } from '../src/backend/webgpu/backend.js';
import { gpuTest } from './devices.js';

const webgpu = (): WebGpuBackend => tg.getBackend('webgpu') as WebGpuBackend;

gpuTest(
  'a WGSL compile error names the kernel and the line',
  async () => {
    const be = webgpu();
    const x = be.upload(Float32Array.of(1, 2));
    const out = be.output(2);
    be.dispatch('unary', { OP: 'v +* s' }, [be.output(2).buffer, out.buffer], { size: 2, scalar: 0 }, [1, 1, 1]);
    await assert.rejects(be.read(out), /WGSL kernel 'unary' failed to compile[\s\S]*line \d+/);
    be.release(x);
  },
  { label: '[webgpu]' },
);

gpuTest(
  'a tensor over the device buffer limit says so',
  () => {
    const limit = webgpu().device.limits.maxStorageBufferBindingSize;
    assert.throws(() => tg.zeros([Math.floor(limit / 4) + 1], { backend: 'webgpu' }), /exceeds this device's maxStorageBufferBindingSize/);
  },
  { label: '[webgpu]' },
);
