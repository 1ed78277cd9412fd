// Errors users can act on: they name the op and the shapes involved.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tg from '../src/index.js';
import { acceleratorTest, forEachDevice } from './devices.js';

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

forEachDevice('expand to a smaller shape names both shapes instead of returning wrong values', () => {
  throwsMentioning(() => tg.expand(tg.tensor([10, 20], [2, 1]), [3]), ['expand', '[2, 1]', '[3]']);
  throwsMentioning(() => tg.expand(tg.zeros([1, 3]), [3]), ['expand', '[1, 3]', '[3]']);
  throwsMentioning(() => tg.expand(tg.zeros([2]), [3]), ['expand', '[2]', '[3]']);
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
  throwsMentioning(() => tg.batchNorm2d(tg.zeros([2, 3, 4, 4]), { runningMean: tg.zeros([3]) }), ['batchNorm2d', 'runningVar']);
  throwsMentioning(() => tg.batchNorm2d(tg.zeros([2, 3, 4, 4]), { momentum: 2 }), ['batchNorm2d', 'momentum']);
  throwsMentioning(() => tg.batchNorm2d(tg.zeros([2, 3, 4, 4]), { eps: -1 }), ['batchNorm2d', 'eps']);
});

forEachDevice('crossEntropy rejects bad labels', () => {
  const logits = tg.zeros([2, 3]);
  throwsMentioning(() => tg.crossEntropy(logits, [0]), ['crossEntropy', '1 labels', '[2, 3]']);
  throwsMentioning(() => tg.crossEntropy(logits, [0, 3]), ['crossEntropy', 'label 3', 'index 1']);
  throwsMentioning(() => tg.crossEntropy(tg.zeros([6]), [0]), ['crossEntropy', '[6]']);
  throwsMentioning(() => tg.correctCount(logits, [0]), ['correctCount', '1 labels', '[2, 3]']);
  throwsMentioning(() => tg.correctCount(logits, [5, 0]), ['correctCount', 'label 5', 'index 0']);
  throwsMentioning(() => tg.logSoftmax(logits, 3), ['logSoftmax', 'axis 3']);
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

forEachDevice('backward() through a disposed tensor is an error, not a lost gradient', () => {
  const w = tg.tensor([1, 2], [2], { requiresGrad: true });
  // The scope frees the intermediates the returned loss depends on.
  const loss = tg.scope(() => w.mul(w).exp().sum());
  throwsMentioning(() => loss.backward(), ['backward()', 'disposed', 'scope']);
  assert.equal(w.grad, null);
  const a = tg.tensor([1, 2], [2], { requiresGrad: true });
  const b = a.mul(3);
  const c = b.sum();
  b.dispose();
  throwsMentioning(() => c.backward(), ['backward()', '[2]', 'disposed']);
  const l = a.mul(2).sum();
  l.dispose();
  throwsMentioning(() => l.backward(), ['backward()', 'dispose']);
  throwsMentioning(() => tg.sum(a).backward(tg.ones([1]) as tg.Tensor), ['backward(grad)', '[1]']);
});

forEachDevice('an optimizer step on a disposed parameter, or with lr NaN, is an error', () => {
  const p = tg.tensor([1, 2], [2], { requiresGrad: true });
  const opt = new tg.SGD([p], { lr: 0.1, momentum: 0.9 });
  throwsMentioning(() => (opt.lr = NaN), ['lr', 'NaN']);
  throwsMentioning(() => new tg.Adam([p], { betas: [1.5, 0.9] }), ['Adam', 'betas']);
  p.dispose();
  throwsMentioning(() => opt.step(), ['parameter 0', 'disposed']);
});

forEachDevice('a scope frees what it made when its function throws', () => {
  let made: tg.Tensor | null = null;
  assert.throws(
    () =>
      tg.scope(() => {
        made = tg.ones([2]);
        throw new Error('boom');
      }),
    /boom/,
  );
  assert.equal(made!.disposed, true);
});

forEachDevice('binarize, scoreMask and straightThrough want one shape, not only one size', () => {
  throwsMentioning(() => tg.binarize(tg.ones([4, 1]), tg.ones([1, 4])), ['binarize', 'weight [4, 1]', 'mask [1, 4]']);
  throwsMentioning(() => tg.scoreMask(tg.ones([4, 1]), tg.ones([1, 4])), ['scoreMask', '[4, 1]', '[1, 4]']);
  throwsMentioning(() => tg.straightThrough(tg.ones([4]), tg.ones([2, 2])), ['straightThrough', '[4]', '[2, 2]']);
});

forEachDevice('createModel and computeMasks reject bad options by name', () => {
  const input: [number, number, number] = [1, 28, 28];
  throwsMentioning(() => tg.nn.createModel('lenet300', { mode: 'foo' as tg.nn.MaskMode, input, classes: 10 }), ['createModel', 'mode', 'foo']);
  throwsMentioning(() => tg.nn.createModel('lenet300', { mode: 'mpt', input: [28, 28] as unknown as [number, number, number], classes: 10 }), ['createModel', 'input', '[28,28]']);
  throwsMentioning(() => tg.nn.createModel('lenet300', { mode: 'mpt', input, classes: 0 }), ['createModel', 'classes', '0']);
  const model = tg.nn.createModel('lenet300', { mode: 'mpt', input, classes: 10, width: 0.05 });
  throwsMentioning(() => tg.computeMasks(model, { density: 0.5, scope: 'layer', method: 'sort' as tg.TopkMethod }), ['computeMasks', "'bitonic'", 'sort']);
  throwsMentioning(() => tg.computeMasks(model, { density: 0.5, scope: 'foo' as tg.Scope, method: 'bitonic' }), ['computeMasks', 'scope', 'foo']);
});

forEachDevice('values that are not tensors or numbers get a message, not a TypeError', () => {
  const a = tg.ones([3]);
  throwsMentioning(() => tg.add(a, [1, 2, 3] as unknown as tg.Tensor), ['add', 'expected a Tensor', 'an array']);
  throwsMentioning(() => tg.exp(null as unknown as tg.Tensor), ['exp', 'expected a Tensor', 'null']);
  throwsMentioning(() => tg.tensor(['a', 1] as unknown as number[]), ['tensor()', '"a"']);
  throwsMentioning(() => tg.reshape(tg.zeros([2, 3]), [-1, -1]), ['reshape', 'one dimension may be -1', '[-1, -1]']);
  throwsMentioning(() => tg.maxPool2d(tg.zeros([1, 1, 2, 2]), undefined as unknown as { kernelSize: number }), ['maxPool2d', 'kernelSize']);
  throwsMentioning(() => tg.randn([2], { std: NaN }), ['randn', 'std', 'NaN']);
  throwsMentioning(() => tg.rand([2], { seed: 1.5 }), ['seed must be an integer', '1.5']);
  throwsMentioning(() => tg.topkMask([1, 2, 3] as unknown as tg.Tensor, 0.5), ['topkMask', 'must be a Tensor']);
  throwsMentioning(() => tg.topkMask(a, '0.5' as unknown as number), ['topkMask', "got '0.5'"]);
  throwsMentioning(() => tg.powerProp(a, Infinity), ['powerProp', 'finite', 'Infinity']);
});

forEachDevice('item() needs one element; backward() needs requiresGrad', async () => {
  await assert.rejects(async () => tg.zeros([2]).item(), /\[2\]/);
  assert.equal(await tg.full([1, 1], 7).item(), 7);
  throwsMentioning(() => tg.sum(tg.zeros([2])).backward(), ['requiresGrad']);
});

acceleratorTest('operands on different backends are rejected', (device) => {
  throwsMentioning(() => tg.add(tg.zeros([2], { backend: 'cpu' }), tg.zeros([2], { backend: device })), ['add', 'cpu', device]);
  throwsMentioning(() => tg.matmul(tg.zeros([2, 2], { backend: 'cpu' }), tg.zeros([2, 2], { backend: device })), ['matmul', 'cpu', device]);
});

test('setBackend / init name what is wrong', async () => {
  throwsMentioning(() => tg.setBackend('tpu' as tg.BackendName), ["unknown backend 'tpu'", "'cpu', 'wasm' or 'webgpu'"]);
  await assert.rejects(() => tg.init({ backend: 'tpu' as tg.BackendName }), /one of 'auto', 'webgpu', 'wasm', 'cpu', got 'tpu'/);
  await assert.rejects(() => tg.init('cpu' as unknown as tg.InitOptions), /init: expected options such as \{ backend: 'wasm' \}/);
  await assert.rejects(() => tg.init({ backend: 'wasm', threads: 0 }), /threads must be an integer in \[1, 256\], got 0/);
  await assert.rejects(() => tg.init({ backend: 'cpu', threads: 2 }), /threads applies to the wasm backend, not 'cpu'/);
});

forEachDevice('a tensor larger than the backend can hold is refused before any host array is built', (device) => {
  const backend = tg.getBackend(device);
  const shape = [backend.maxElements + 1];
  const heapBefore = process.memoryUsage().arrayBuffers;
  for (const make of [tg.randn, tg.rand, tg.ones] as ((s: number[], o: tg.TensorOptions) => tg.Tensor)[]) {
    throwsMentioning(() => make(shape, { backend: device }), [`${backend.maxElements + 1} elements`, `${device} backend holds at most ${backend.maxElements}`]);
  }
  throwsMentioning(() => tg.full([2, backend.maxElements], 0, { backend: device }), ['full', `[2, ${backend.maxElements}]`]);
  assert.ok(process.memoryUsage().arrayBuffers - heapBefore < 2 ** 20, 'no large host array was allocated');
});
