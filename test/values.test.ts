// Hand-computed results on every backend: the CPU reference itself is checked here (the
// property tests only check that WebGPU agrees with it), plus output shapes.

import * as tg from '../src/index.js';
import { forEachDevice } from './devices.js';
import { assertClose, assertShape } from './helpers.js';

const t = (values: number[], shape: number[], requiresGrad = false): tg.Tensor => tg.tensor(values, shape, { requiresGrad });

forEachDevice('elementwise ops with broadcasting and numbers', async () => {
  const a = t([1, 2, 3, 4, 5, 6], [2, 3]);
  const b = t([10, 20, 30], [3]);
  const col = t([100, 200], [2, 1]);
  assertClose(await tg.add(a, b).data(), [11, 22, 33, 14, 25, 36], 'a + b');
  assertClose(await tg.sub(a, col).data(), [-99, -98, -97, -196, -195, -194], 'a - col');
  assertClose(await tg.mul(b, a).data(), [10, 40, 90, 40, 100, 180], 'b * a');
  assertClose(await tg.div(a, 2).data(), [0.5, 1, 1.5, 2, 2.5, 3], 'a / 2');
  assertClose(await tg.pow(a, 2).data(), [1, 4, 9, 16, 25, 36], 'a ^ 2');
  assertClose(await tg.pow(t([-2, -3], [2]), 3).data(), [-8, -27], '(-x) ^ 3 keeps the sign');
  assertClose(await tg.pow(t([4, 9], [2]), t([0.5, 0.5], [2])).data(), [2, 3], 'x ^ tensor');
  assertClose(await tg.maximum(t([-1, 2, 0.5], [3]), 0.5).data(), [0.5, 2, 0.5], 'maximum with a number');
  const c = t([-3, -0.5, 0.25, 2, 1], [5], true);
  const clamped = tg.clamp(c, -1, 1);
  assertClose(await clamped.data(), [-1, -0.5, 0.25, 1, 1], 'clamp');
  tg.sum(tg.mul(clamped, t([1, 2, 3, 4, 5], [5]))).backward();
  assertClose(await c.grad!.data(), [0, 2, 3, 0, 0], 'clamp passes the gradient only strictly inside the bounds');
  assertShape(tg.add(t([1], [1, 1, 1]), t([1, 2], [2])), [1, 1, 2], 'rank-extending broadcast');
  assertShape(tg.add(tg.tensor(1), t([1, 2], [2])), [2], 'scalar tensor broadcast');
});

forEachDevice('unary ops', async () => {
  const x = t([-2, -0.5, 0, 0.5, 2], [5]);
  assertClose(await tg.neg(x).data(), [2, 0.5, -0, -0.5, -2], 'neg');
  assertClose(await tg.abs(x).data(), [2, 0.5, 0, 0.5, 2], 'abs');
  assertClose(await tg.sign(x).data(), [-1, -1, 0, 1, 1], 'sign');
  assertClose(await tg.relu(x).data(), [0, 0, 0, 0.5, 2], 'relu');
  assertClose(await tg.exp(x).data(), [-2, -0.5, 0, 0.5, 2].map(Math.exp), 'exp');
  assertClose(
    await tg.sigmoid(x).data(),
    [-2, -0.5, 0, 0.5, 2].map((v) => 1 / (1 + Math.exp(-v))),
    'sigmoid',
  );
  const p = t([0.25, 1, 4], [3]);
  assertClose(await tg.sqrt(p).data(), [0.5, 1, 2], 'sqrt');
  assertClose(await tg.log(p).data(), [Math.log(0.25), 0, Math.log(4)], 'log');
});

forEachDevice('sum / mean / max over axes, keepDims both ways', async () => {
  const x = t([1, 5, 3, 4, 2, 6], [2, 3]);
  assertClose(await tg.sum(x).data(), [21], 'sum all');
  assertShape(tg.sum(x), [], 'sum all shape');
  assertClose(await tg.sum(x, 0).data(), [5, 7, 9], 'sum axis 0');
  assertClose(await tg.sum(x, -1, true).data(), [9, 12], 'sum axis -1 keepDims');
  assertShape(tg.sum(x, -1, true), [2, 1], 'keepDims shape');
  assertShape(tg.sum(x, [0, 1], true), [1, 1], 'keepDims all');
  assertClose(await tg.mean(x, 1).data(), [3, 4], 'mean axis 1');
  assertClose(await tg.max(x, 1).data(), [5, 6], 'max axis 1');
  assertClose(await tg.max(x, 0, true).data(), [4, 5, 6], 'max axis 0 keepDims');
  const y = tg.reshape(
    tg.tensor(
      Array.from({ length: 24 }, (_, i) => i),
      [24],
    ),
    [2, 3, 4],
  );
  assertClose(await tg.sum(y, [0, 2]).data(), [60, 92, 124], 'sum over non-adjacent axes');
  assertClose(await tg.max(y, [2, 0]).data(), [15, 19, 23], 'max with unsorted axes');
  assertClose(await tg.mean(y, [1], true).data(), [4, 5, 6, 7, 16, 17, 18, 19], 'mean middle axis');
});

forEachDevice('reshape / transpose / flatten', async () => {
  const x = t([1, 2, 3, 4, 5, 6], [2, 3]);
  assertClose(await tg.transpose(x).data(), [1, 4, 2, 5, 3, 6], 'transpose');
  assertShape(tg.transpose(x), [3, 2], 'transpose shape');
  assertShape(tg.reshape(x, [3, -1]), [3, 2], 'reshape with -1');
  const y = tg.reshape(
    tg.tensor(
      Array.from({ length: 24 }, (_, i) => i),
      [24],
    ),
    [2, 3, 4],
  );
  const z = tg.transpose(y, [2, 0, 1]);
  assertShape(z, [4, 2, 3], 'permuted shape');
  assertClose((await z.data()).slice(0, 6), [0, 4, 8, 12, 16, 20], 'permuted values');
  assertShape(tg.flatten(tg.zeros([2, 3, 4, 5])), [2, 60], 'flatten');
  assertShape(tg.flatten(tg.zeros([2, 3, 4, 5]), 2), [2, 3, 20], 'flatten from dim 2');
  assertShape(tg.flatten(tg.zeros([2, 3, 4, 5]), 0), [120], 'flatten everything');
});

forEachDevice('matmul: 2-D, batched 3-D, 3-D x 2-D', async () => {
  const a = t([1, 2, 3, 4, 5, 6], [2, 3]);
  const b = t([7, 8, 9, 10, 11, 12], [3, 2]);
  assertClose(await tg.matmul(a, b).data(), [58, 64, 139, 154], '2-D');
  const a3 = t([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 2]);
  const b3 = t([1, 0, 0, 1, 0, 1, 1, 0], [2, 2, 2]);
  assertClose(await tg.matmul(a3, b3).data(), [1, 2, 3, 4, 6, 5, 8, 7], 'batched');
  assertClose(await tg.matmul(a3, t([1, 1, 1, -1], [2, 2])).data(), [3, -1, 7, -1, 11, -1, 15, -1], '3-D x 2-D');
  assertShape(tg.matmul(tg.zeros([3, 1, 5]), tg.zeros([5, 4])), [3, 1, 4], '3-D x 2-D shape');
});

forEachDevice('conv2d: hand-computed, with stride and padding', async () => {
  // x: 1x1x3x3 = 1..9; w: 1x1x2x2 = [[1, 0], [0, -1]] -> x[i,j] - x[i+1,j+1] = -4 everywhere.
  const x = t([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 1, 3, 3]);
  const w = t([1, 0, 0, -1], [1, 1, 2, 2]);
  const y = tg.conv2d(x, w);
  assertShape(y, [1, 1, 2, 2], 'valid conv shape');
  assertClose(await y.data(), [-4, -4, -4, -4], 'valid conv');
  const yp = tg.conv2d(x, w, { padding: 1, stride: 2 });
  assertShape(yp, [1, 1, 2, 2], 'padded strided shape');
  // Output (0,0) covers x[-1..0, -1..0]: 0*1 + ... - x[0,0] = -1; (0,1): x[-1,1]... - x[0,2] = -3;
  // (1,0): x[1,-1] - x[2,0] = -7; (1,1): x[1,1] - x[2,2] = 5 - 9 = -4.
  assertClose(await yp.data(), [-1, -3, -7, -4], 'padded strided conv');
  // Two input channels, two output channels, a 1x1 kernel: a per-pixel matrix product.
  const x2 = t([1, 2, 3, 4], [1, 2, 1, 2]);
  const w2 = t([1, 1, 1, -1], [2, 2, 1, 1]);
  assertClose(await tg.conv2d(x2, w2).data(), [4, 6, -2, -2], '1x1 conv mixes channels');
});

forEachDevice('maxPool2d / avgPool2d: hand-computed, with padding counting as zeros', async () => {
  const x = t([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16], [1, 1, 4, 4]);
  assertClose(await tg.maxPool2d(x, { kernelSize: 2 }).data(), [6, 8, 14, 16], 'max 2x2');
  assertClose(await tg.avgPool2d(x, { kernelSize: 2 }).data(), [3.5, 5.5, 11.5, 13.5], 'avg 2x2');
  assertClose(await tg.maxPool2d(x, { kernelSize: 3, stride: 1 }).data(), [11, 12, 15, 16], 'max 3x3 stride 1');
  // Padding 1, kernel 2, stride 2: windows at rows/cols {-1,0}, {1,2}, {3,4}.
  const avg = tg.avgPool2d(x, { kernelSize: 2, stride: 2, padding: 1 });
  assertShape(avg, [1, 1, 3, 3], 'padded pool shape');
  assertClose(await avg.data(), [1 / 4, 5 / 4, 4 / 4, 14 / 4, 34 / 4, 20 / 4, 13 / 4, 29 / 4, 16 / 4], 'avg with zero padding');
  assertClose(await tg.maxPool2d(t([-5, -6, -7, -8], [1, 1, 2, 2]), { kernelSize: 2, padding: 1 }).data(), [-5, -6, -7, -8], 'max ignores padding');
});

forEachDevice('pooling with a non-square kernel: the stride defaults to the kernel size in each direction', async () => {
  const x = t(
    Array.from({ length: 16 }, (_, i) => i + 1),
    [1, 1, 2, 8],
  );
  const max = tg.maxPool2d(x, { kernelSize: [1, 2] });
  assertShape(max, [1, 1, 2, 4], 'max 1x2');
  assertClose(await max.data(), [2, 4, 6, 8, 10, 12, 14, 16], 'max 1x2');
  const avg = tg.avgPool2d(x, { kernelSize: [2, 4] });
  assertShape(avg, [1, 1, 1, 2], 'avg 2x4');
  assertClose(await avg.data(), [6.5, 10.5], 'avg 2x4');
});

forEachDevice('maxPool2d gradient goes to the (first) maximum; avgPool2d spreads it', async () => {
  const x = t([1, 9, 3, 4, 5, 6, 7, 8, 2], [1, 1, 3, 3], true);
  tg.sum(tg.maxPool2d(x, { kernelSize: 2, stride: 1 })).backward();
  assertClose(await x.grad!.data(), [0, 2, 0, 0, 0, 0, 0, 2, 0], 'max pool grad');
  const z = t([1, 2, 3, 4], [1, 1, 2, 2], true);
  tg.sum(tg.avgPool2d(z, { kernelSize: 2, stride: 1, padding: 1 })).backward();
  assertClose(await z.grad!.data(), [1, 1, 1, 1], 'avg pool grad (each input in 4 windows of area 4)');
});

forEachDevice('logSoftmax and crossEntropy: hand-computed', async () => {
  const logits = t([1, 2, 3, 1, 1, 1], [2, 3]);
  const lse0 = Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3));
  const lse1 = 1 + Math.log(3);
  assertClose(await tg.logSoftmax(logits).data(), [1 - lse0, 2 - lse0, 3 - lse0, 1 - lse1, 1 - lse1, 1 - lse1], 'logSoftmax');
  assertClose(await tg.logSoftmax(t([1000, 1001], [2])).data(), [-Math.log(1 + Math.E), -Math.log(1 + Math.exp(-1))], 'stable for large logits');
  const ce = -(3 - lse0 + (1 - lse1)) / 2;
  assertClose(await tg.crossEntropy(logits, [2, 0]).data(), [ce], 'crossEntropy, labels array');
  assertClose(await tg.crossEntropy(logits, t([2, 0], [2])).data(), [ce], 'crossEntropy, labels tensor');
  const l = t([1, 2, 3, 1, 1, 1], [2, 3], true);
  tg.crossEntropy(l, [2, 0]).backward();
  const sm0 = [1, 2, 3].map((v) => Math.exp(v - lse0));
  assertClose(await l.grad!.data(), [sm0[0] / 2, sm0[1] / 2, (sm0[2] - 1) / 2, (1 / 3 - 1) / 2, 1 / 6, 1 / 6], 'crossEntropy gradient: (softmax - onehot) / B');
});

forEachDevice('batchNorm2d: normalises per channel; affine; eval uses running stats', async () => {
  // Channel 0: 1,2,3,4 (mean 2.5, var 1.25); channel 1: 10,10,20,20 (mean 15, var 25).
  const x = t([1, 2, 10, 10, 3, 4, 20, 20], [2, 2, 1, 2]);
  const y = await tg.batchNorm2d(x, { eps: 0 }).data();
  const s0 = Math.sqrt(1.25);
  assertClose(y, [-1.5 / s0, -0.5 / s0, -1, -1, 0.5 / s0, 1.5 / s0, 1, 1], 'normalised');
  const ya = await tg.batchNorm2d(x, { eps: 0, weight: t([2, 1], [2]), bias: t([0, 5], [2]) }).data();
  assertClose(ya, [-3 / s0, -1 / s0, 4, 4, 1 / s0, 3 / s0, 6, 6], 'affine');
  const ye = await tg.batchNorm2d(x, { training: false, eps: 0, runningMean: t([1, 10], [2]), runningVar: t([4, 100], [2]) }).data();
  assertClose(ye, [0, 0.5, 0, 0, 1, 1.5, 1, 1], 'eval with running stats');
});
