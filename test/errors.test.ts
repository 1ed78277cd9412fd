// Errors users can act on: they name the op and the shapes involved.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tg from '../src/index.js';
import { forEachDevice, gpuTest } from './devices.js';

/** Asserts that `fn` throws an Error whose message contains every one of `parts`. */
function throwsMentioning(fn: () => unknown, parts: (string | RegExp)[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof Error, `expected an Error, got ${String(e)}`);
    for (const p of parts) {
      if (typeof p === 'string') assert.ok(e.message.includes(p), `error message ${JSON.stringify(e.message)} should mention ${JSON.stringify(p)}`);
      else assert.match(e.message, p);
    }
    return true;
  });
}

forEachDevice('add of [2,3] and [4,5] names both shapes and the op', () => {
  const a = tg.zeros([2, 3]);
  const b = tg.zeros([4, 5]);
  throwsMentioning(() => tg.add(a, b), ['add', '[2, 3]', '[4, 5]']);
  throwsMentioning(() => a.mul(b), ['mul', '[2, 3]', '[4, 5]']);
  throwsMentioning(() => tg.sub(tg.zeros([3]), tg.zeros([2])), ['sub', '[3]', '[2]']);
});

forEachDevice('matmul of incompatible shapes names both shapes and the op', () => {
  throwsMentioning(() => tg.matmul(tg.zeros([2, 3]), tg.zeros([4, 5])), ['matmul', '[2, 3]', '[4, 5]']);
  throwsMentioning(() => tg.matmul(tg.zeros([2, 2, 3]), tg.zeros([3, 3, 4])), ['matmul', '[2, 2, 3]', '[3, 3, 4]']);
  throwsMentioning(() => tg.matmul(tg.zeros([3]), tg.zeros([3, 4])), ['matmul', '[3]', '[3, 4]']);
  throwsMentioning(() => tg.matmul(tg.zeros([2, 3]), tg.zeros([1, 3, 4])), ['matmul', '[2, 3]', '[1, 3, 4]']);
});

forEachDevice('conv2d with a channel mismatch names both shapes and the op', () => {
  const x = tg.zeros([1, 3, 5, 5]);
  const w = tg.zeros([4, 2, 3, 3]);
  throwsMentioning(() => tg.conv2d(x, w), ['conv2d', '[1, 3, 5, 5]', '[4, 2, 3, 3]']);
  throwsMentioning(() => tg.conv2d(tg.zeros([3, 5, 5]), tg.zeros([4, 3, 3, 3])), ['conv2d', '[3, 5, 5]']);
  throwsMentioning(() => tg.conv2d(tg.zeros([1, 1, 2, 2]), tg.zeros([1, 1, 3, 3])), ['conv2d', '3x3', '2x2']);
  throwsMentioning(() => tg.conv2d(x, tg.zeros([4, 3, 3, 3]), { stride: 0 }), ['conv2d', 'stride']);
});

forEachDevice('pooling and batchNorm2d reject bad shapes and options', () => {
  throwsMentioning(() => tg.maxPool2d(tg.zeros([2, 3]), { kernelSize: 2 }), ['maxPool2d', '[2, 3]']);
  throwsMentioning(() => tg.avgPool2d(tg.zeros([1, 1, 4, 4]), { kernelSize: 2, padding: 2 }), ['avgPool2d', 'padding']);
  throwsMentioning(() => tg.batchNorm2d(tg.zeros([2, 3, 4, 4]), { weight: tg.ones([4]) }), ['batchNorm2d', 'weight', '[4]']);
  throwsMentioning(() => tg.batchNorm2d(tg.zeros([2, 3, 4, 4]), { training: false }), ['batchNorm2d', 'runningMean']);
});

forEachDevice('crossEntropy rejects bad labels', () => {
  const logits = tg.zeros([2, 3]);
  throwsMentioning(() => tg.crossEntropy(logits, [0]), ['crossEntropy', '1 labels', '[2, 3]']);
  throwsMentioning(() => tg.crossEntropy(logits, [0, 3]), ['crossEntropy', 'label 3', 'index 1']);
  throwsMentioning(() => tg.crossEntropy(tg.zeros([6]), [0]), ['crossEntropy', '[6]']);
});

forEachDevice('reshape, transpose and reductions name the shape', () => {
  const x = tg.zeros([2, 3]);
  throwsMentioning(() => tg.reshape(x, [4, 2]), ['reshape', '[2, 3]', '[4, 2]']);
  throwsMentioning(() => tg.transpose(x, [0, 0]), ['transpose', '[2, 3]']);
  throwsMentioning(() => tg.sum(x, 2), ['sum', 'axis 2']);
  throwsMentioning(() => tg.max(x, [1, -1]), ['max', 'repeated axis']);
});

forEachDevice('tg.tensor with the wrong number of values', () => {
  throwsMentioning(() => tg.tensor([1, 2, 3], [2, 2]), ['tensor()', '3 values', '[2, 2]', '4 elements']);
  throwsMentioning(() => tg.tensor([[1, 2], [3]]), ['ragged']);
  throwsMentioning(() => tg.tensor([1, 2], [-2]), ['shape']);
});

forEachDevice('using a disposed tensor is an error naming its shape', async () => {
  const a = tg.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
  const b = tg.ones([2, 3]);
  a.dispose();
  throwsMentioning(() => tg.add(a, b), ['dispose', '[2, 3]']);
  throwsMentioning(() => tg.exp(a), ['dispose']);
  await assert.rejects(async () => a.data(), /dispose/);
});

forEachDevice('item() needs one element; backward() needs requiresGrad', async () => {
  await assert.rejects(async () => tg.zeros([2]).item(), /\[2\]/);
  assert.equal(await tg.full([1, 1], 7).item(), 7);
  throwsMentioning(() => tg.sum(tg.zeros([2])).backward(), ['requiresGrad']);
});

gpuTest('operands on different backends are rejected', () => {
  throwsMentioning(() => tg.add(tg.zeros([2], { backend: 'cpu' }), tg.zeros([2], { backend: 'webgpu' })), ['add', 'cpu', 'webgpu']);
  throwsMentioning(() => tg.matmul(tg.zeros([2, 2], { backend: 'cpu' }), tg.zeros([2, 2], { backend: 'webgpu' })), ['matmul', 'cpu', 'webgpu']);
}, { label: '[cpu + webgpu]' });

test('setBackend / init name what is wrong', async () => {
  throwsMentioning(() => tg.setBackend('tpu' as tg.BackendName), ['tpu', 'init']);
  await assert.rejects(() => tg.init({ backend: 'tpu' as tg.BackendName }), /'auto', 'webgpu' or 'cpu'/);
});
