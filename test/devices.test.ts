// The backends under test, reported once: the wasm backend's threads and features, the GPU's
// adapter, or the one line saying why GPU tests are skipped (or a failure when CI=true /
// REQUIRE_GPU=1 demands a GPU).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tg from '../src/index.js';
import { devices, gpu, gpuSkipReason, wasm } from './devices.js';

test(`wasm: available (${wasm.detail})`, async () => {
  assert.ok(wasm.available, `init({ backend: 'wasm' }) failed: ${wasm.detail}`);
  assert.ok(devices.includes('wasm'));
  const x = tg.tensor([1, 2, 3], [3], { backend: 'wasm' });
  assert.deepEqual([...(await x.data())], [1, 2, 3]);
  x.dispose();
});

if (gpu.available) {
  test(`webgpu: available (${gpu.detail})`, async () => {
    assert.deepEqual(devices, ['cpu', 'wasm', 'webgpu']);
    const x = tg.tensor([1, 2, 3], [3], { backend: 'webgpu' });
    assert.deepEqual([...(await x.data())], [1, 2, 3]);
    x.dispose();
  });
} else if (gpu.required) {
  test('webgpu: required (CI=true or REQUIRE_GPU=1) but unavailable', () => {
    assert.fail(`init({ backend: 'webgpu' }) failed: ${gpu.detail}`);
  });
} else {
  test(gpuSkipReason(), { skip: true }, () => {});
}

test('cpu backend is always available', async () => {
  assert.ok(devices.includes('cpu'));
  assert.equal(tg.getBackend('cpu').name, 'cpu');
  assert.deepEqual([...(await tg.tensor([4, 5], [2], { backend: 'cpu' }).data())], [4, 5]);
});

test("init({ backend: 'cpu' }) selects the CPU", async () => {
  const r = await tg.init({ backend: 'cpu' });
  assert.equal(r.backend, 'cpu');
  assert.equal(tg.getBackend().name, 'cpu');
});
