// Edge cases: special values and degenerate shapes, the same on every backend.

import assert from 'node:assert/strict';
import * as tg from '../src/index.js';
import { acceleratorTest, forEachDevice } from './devices.js';
import fc from 'fast-check';
import { assertClose, assertMatchesCpu, input, runs } from './helpers.js';

const FLOAT32_MAX = 3.4028234663852886e38;

// x^0 is the constant 1, so its gradient is 0 even at x = 0, where 0 * x^-1 would be NaN
// (PyTorch masks exponent == 0 to 0).
forEachDevice('pow: the gradient of x^0 is 0, also at x = 0', async () => {
  const x = tg.tensor([0, 1, -2], [3], { requiresGrad: true });
  tg.sum(tg.pow(x, 0)).backward();
  assertClose(await x.grad!.data(), [0, 0, 0], 'd/dx x^0 (number exponent)');
  const y = tg.tensor([0, 2], [2], { requiresGrad: true });
  tg.sum(tg.pow(y, tg.tensor([0, 0], [2]))).backward();
  assertClose(await y.grad!.data(), [0, 0], 'd/dx x^0 (tensor exponent)');
});

// WGSL lets compilers assume no NaNs (`v != v` folds to false), so the WebGPU max tests NaN on
// the bits.
forEachDevice('max propagates NaN', async () => {
  assert.ok(Number.isNaN((await tg.max(tg.tensor([1, NaN, 3], [3])).data())[0]), 'max over everything');
  const rows = await tg.max(tg.tensor([1, 2, NaN, 4, 5, 6], [2, 3]), 1).data();
  assert.ok(Number.isNaN(rows[0]), `row with a NaN: ${rows[0]}`);
  assert.equal(rows[1], 6);
});

forEachDevice('NaN and infinities pass through elementwise ops', async () => {
  const x = tg.tensor([NaN, Infinity, -Infinity, 1], [4]);
  const y = await tg.add(x, 1).data();
  assert.ok(Number.isNaN(y[0]));
  assert.equal(y[1], Infinity);
  assert.equal(y[2], -Infinity);
  assert.equal(y[3], 2);
  assert.deepEqual([...(await tg.exp(tg.tensor([100, -Infinity], [2])).data())], [Infinity, 0]);
  // logSoftmax treats infinities as the largest finite float32 values (see the property below).
  assert.deepEqual([...(await tg.logSoftmax(tg.tensor([-Infinity, 0], [2])).data())], [-FLOAT32_MAX, 0]);
  assert.ok(Number.isNaN((await tg.sqrt(tg.tensor([-1], [1])).data())[0]));
  assert.ok(Number.isNaN((await tg.pow(tg.tensor([-2], [1]), 0.5).data())[0]), 'negative base, fractional exponent');
});

forEachDevice('matmul: a zero times NaN or an infinity is NaN', async () => {
  const got = await tg.matmul(tg.tensor([1, 0], [1, 2]), tg.tensor([2, 3, NaN, 1], [2, 2])).data();
  assert.ok(Number.isNaN(got[0]), `0 * NaN in column 0: ${got[0]}`);
  assert.equal(got[1], 3);
  const inf = await tg.matmul(tg.tensor([0, 0], [1, 2]), tg.tensor([Infinity, 1, 1, 1], [2, 2])).data();
  assert.ok(Number.isNaN(inf[0]), `0 * Inf: ${inf[0]}`);
  assert.equal(inf[1], 0);
});

forEachDevice('exp, log and sigmoid outside their domain follow Math.exp and Math.log', async () => {
  const logs = [...(await tg.log(tg.tensor([-2.5, NaN, 0, Infinity, -Infinity, 1], [6])).data())];
  assert.ok([logs[0], logs[1], logs[4]].every(Number.isNaN), `log of a negative or NaN: ${logs}`);
  assert.deepEqual([logs[2], logs[3], logs[5]], [-Infinity, Infinity, 0]);
  assert.ok(Number.isNaN((await tg.exp(tg.tensor([NaN], [1])).data())[0]), 'exp(NaN)');
  assert.ok(Number.isNaN((await tg.sigmoid(tg.tensor([NaN], [1])).data())[0]), 'sigmoid(NaN)');
});

forEachDevice('pow: the gradient with respect to the exponent, as PyTorch at a zero or negative base', async () => {
  const a = tg.tensor([0, 0, 2, -2], [4], { requiresGrad: true });
  const b = tg.tensor([2, 0, 3, 2], [4], { requiresGrad: true });
  tg.sum(tg.pow(a, b)).backward();
  const gb = await b.grad!.data();
  assertClose([...gb].slice(0, 3), [0, 0, 8 * Math.LN2], 'd/db a^b at a = 0 and a = 2');
  assert.ok(Number.isNaN(gb[3]), `d/db (-2)^2 is NaN (log of a negative base): ${gb[3]}`);
  assertClose(await a.grad!.data(), [0, 0, 12, -4], 'd/da a^b');
});

forEachDevice('long sums stay accurate in float32 (no running-sum drift)', async () => {
  // A running f32 sum of 2^20 tenths drifts by 1%; the exact sum of the f32 values is below.
  const n = 2 ** 20;
  const exact = n * Math.fround(0.1);
  const total = await tg.sum(tg.tensor(new Float32Array(n).fill(0.1), [n])).item();
  assert.ok(Math.abs(total / exact - 1) < 1e-5, `sum of 2^20 x 0.1: ${total}, exact ${exact}`);
  const columns = await tg.sum(tg.tensor(new Float32Array(4 * n).fill(0.1), [n, 4]), 0).data();
  for (const c of columns) assert.ok(Math.abs(c / exact - 1) < 1e-5, `column sum: ${c}, exact ${exact}`);
  const average = await tg.mean(tg.tensor(new Float32Array(1e5).fill(1.1), [1e5])).item();
  assert.ok(Math.abs(average - 1.1) < 1e-5, `mean of 1e5 x 1.1: ${average}`);
});

forEachDevice('maxPool2d propagates a NaN anywhere in its window, and its gradient follows it', async () => {
  const x = tg.tensor([1, NaN, 3, 4, 5, 6, 7, NaN], [1, 1, 2, 4], { requiresGrad: true });
  const y = tg.maxPool2d(x, { kernelSize: 2 });
  const values = await y.data();
  assert.ok(Number.isNaN(values[0]) && Number.isNaN(values[1]), `pooled: ${values}`);
  tg.sum(tg.mul(y, tg.tensor([2, 3], [1, 1, 1, 2]))).backward();
  assert.deepEqual([...(await x.grad!.data())], [0, 2, 0, 0, 0, 0, 0, 3]);
});

forEachDevice('maxPool2d gradient lands on the right pixel of a plane larger than 2^24 pixels', async () => {
  // Index 4097^2 - 2 is odd and above 2^24: a float32 index would round it to its neighbour.
  const side = 4097;
  const values = new Float32Array(side * side);
  const at = side * side - 2;
  values[at] = 1;
  const x = tg.tensor(values, [1, 1, side, side], { requiresGrad: true });
  tg.sum(tg.maxPool2d(x, { kernelSize: [1, side] })).backward();
  const grad = await x.grad!.data();
  assert.equal(grad[at], 1, 'the maximum gets the gradient');
  assert.equal(grad[at + 1], 0, 'its neighbour does not');
});

forEachDevice('a number operand is a float32, as the tensor it meets', async () => {
  // 1e-46 rounds to 0 in float32 and 1 + 2^-30 to 1; float64 arithmetic rounded afterwards gives 1e-36 and 1.
  assert.deepEqual([...(await tg.mul(tg.tensor([1e10], [1]), 1e-46).data())], [0]);
  assert.deepEqual([...(await tg.sub(tg.tensor([1], [1]), 1 + 2 ** -30).data())], [0]);
});

forEachDevice('size-1 and rank-0 tensors', async () => {
  const s = tg.tensor(3, undefined, { requiresGrad: true });
  assert.deepEqual([...s.shape], []);
  const y = tg.mul(tg.add(s, tg.ones([1, 1])), s);
  assert.deepEqual([...y.shape], [1, 1]);
  tg.sum(y).backward();
  assertClose(await s.grad!.data(), [2 * 3 + 1], 'd/ds (s + 1) * s');
  assert.deepEqual([...tg.sum(s).shape], []);
  assert.deepEqual([...tg.transpose(s).shape], []);
  assert.deepEqual([...tg.flatten(s, 0).shape], [1]);
  assert.equal(await tg.max(tg.ones([1, 1, 1])).item(), 1);
});

forEachDevice('tensors with a zero-size dimension', async () => {
  const z = tg.zeros([0, 3]);
  assert.equal(z.size, 0);
  assert.equal((await tg.add(z, 1).data()).length, 0);
  assert.equal((await tg.transpose(z).data()).length, 0);
  const s = tg.sum(z, 1);
  assert.deepEqual([...s.shape], [0]);
  assert.equal((await s.data()).length, 0);
  // An empty sum is 0 and an empty mean NaN, as in NumPy and PyTorch; an empty max has no value.
  assert.deepEqual([...(await tg.sum(z, 0).data())], [0, 0, 0]);
  assert.deepEqual([...(await tg.sum(tg.zeros([0, 0]), 0).data())], []);
  assert.ok(Number.isNaN(await tg.mean(z).item()));
  assert.throws(() => tg.max(z, 0), /max: cannot reduce over an empty axis of shape \[0, 3\]/);
  // Gradients flow through empty tensors: a broadcast operand gets zeros.
  const e = tg.zeros([0, 3], { requiresGrad: true });
  const b = tg.ones([3], { requiresGrad: true });
  tg.sum(tg.mul(tg.add(e, b), 2)).backward();
  assert.deepEqual([...e.grad!.shape], [0, 3]);
  assert.deepEqual([...(await b.grad!.data())], [0, 0, 0]);
});

// Elementwise kernels fold more than 65535 workgroups (of 256) into a 2-D grid. (Binary
// broadcasting and reductions with more than 65535 outputs take the same path but run for
// tens of seconds on SwiftShader.)
forEachDevice('large tensors: more than 65535 workgroups', async () => {
  const n = 65537 * 256;
  const y = await tg.add(tg.mul(tg.zeros([n]), 3), 2).data();
  assert.equal(y.length, n);
  for (const i of [0, 65535 * 256 - 1, 65535 * 256, n - 1]) assert.equal(y[i], 2, `index ${i}`);
});

forEachDevice('a convolution over zero input channels (or with an empty kernel) is zeros, and so are its gradients', async () => {
  // Pooling backends hand back freed memory (and scratch): leave non-zero values in every small block.
  for (let size = 1; size <= 512; size++) tg.full([size], 7).dispose();
  const x = tg.randn([1, 0, 4, 4], { requiresGrad: true });
  const w = tg.randn([2, 0, 3, 3], { requiresGrad: true });
  const y = tg.conv2d(x, w, { padding: 1 });
  assert.deepEqual([...y.shape], [1, 2, 4, 4]);
  assert.deepEqual([...(await y.data())], new Array(32).fill(0));
  // No output channels: the input gradient (of the input's size) is zeros.
  const x2 = tg.randn([1, 3, 4, 4], { requiresGrad: true });
  const y2 = tg.conv2d(x2, tg.randn([0, 3, 3, 3]), { padding: 1 });
  y2.backward(tg.zeros(y2.shape));
  assert.deepEqual([...(await x2.grad!.data())], new Array(48).fill(0));
});

forEachDevice('pow with a base of -Infinity follows Math.pow', async () => {
  const x = tg.tensor([-Infinity, -Infinity, -Infinity, -Infinity], [4]);
  const got = await tg.pow(x, tg.tensor([0.5, -0.5, 3, 2], [4])).data();
  assert.deepEqual([...got], [Infinity, 0, -Infinity, Infinity]);
});

forEachDevice('thresholdMask compares with tau itself, not tau rounded to float32', async () => {
  // fround(0.1) = 0.10000000149 > 0.1: kept; the float just below it is not.
  const below = new Float32Array(Uint32Array.of(new Uint32Array(Float32Array.of(0.1).buffer)[0] - 1).buffer)[0];
  const m = await tg.thresholdMask(tg.tensor([Math.fround(0.1), below, -Math.fround(0.1)], [3]), 0.1).data();
  assert.deepEqual([...m], [1, 0, 1]);
});

acceleratorTest('convolution gradients ignore an infinite pixel that no output window reads', async (device) => {
  // Kernel 1x2, no padding: the input's last column is read only by kx = 1, its first only by kx = 0.
  const values = Float32Array.from({ length: 2 * 1 * 2 * 3 }, (_, i) => (i % 5) - 2);
  values[3] = Infinity; // image 0, row 1, column 0: read by kx = 0 only
  const weight = Float32Array.of(0.5, -1.5);
  const run = async (backend: tg.BackendName): Promise<Float32Array> => {
    const x = tg.tensor(values, [2, 1, 2, 3], { backend });
    const w = tg.tensor(weight, [1, 1, 1, 2], { backend, requiresGrad: true });
    tg.sum(tg.conv2d(x, w)).backward();
    return w.grad!.data();
  };
  const [got, cpu] = [await run(device), await run('cpu')];
  assert.ok(Number.isFinite(cpu[1]), `the reference's dW for kx = 1 is finite (${cpu[1]})`);
  assert.deepEqual([...got], [...cpu], `${device} weight gradient vs cpu`);
});

acceleratorTest('a wide kernel (1x70 over 100 columns): forward and both gradients equal the reference', async (device) => {
  const x = await input([2, 3, 2, 100], 5);
  const w = await input([4, 3, 1, 70], 6);
  await assertMatchesCpu(device, [x, w], ([a, b]) => tg.conv2d(a, b, { padding: [0, 3] }), 'conv2d 1x70', { rtol: 1e-4, atol: 1e-4 }, { grad: true });
});

/** Logits rows [rows, classes] mixing ordinary values, huge ones and infinities. */
const extremeLogitsArb = fc.record({ rows: fc.integer({ min: 1, max: 4 }), classes: fc.integer({ min: 2, max: 6 }) }).chain(({ rows, classes }) =>
  fc.record({
    rows: fc.constant(rows),
    classes: fc.constant(classes),
    values: fc.array(
      fc.oneof(
        fc.double({ min: -10, max: 10, noNaN: true }),
        fc.constantFrom(Infinity, -Infinity, FLOAT32_MAX, -FLOAT32_MAX, 1e30, -1e30, 3e38, -3e38),
        fc.double({ min: -3e38, max: 3e38, noNaN: true }),
      ),
      { minLength: rows * classes, maxLength: rows * classes },
    ),
    labels: fc.array(fc.integer({ min: 0, max: classes - 1 }), { minLength: rows, maxLength: rows }),
  }),
);

/** Equal within 1e-5 relative or 1e-5 absolute (not scaled by the row's largest value). */
function assertNear(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  assert.equal(actual.length, expected.length, what);
  for (let i = 0; i < expected.length; i++) {
    const [a, e] = [actual[i], expected[i]];
    assert.ok(a === e || Math.abs(a - e) <= 1e-5 + 1e-5 * Math.abs(e), `${what}: at ${i} got ${a}, expected ${e}`);
  }
}

forEachDevice('logSoftmax and crossEntropy with infinite and huge logits: finite, normalised, equal to the reference', async (device) => {
  await fc.assert(
    fc.asyncProperty(extremeLogitsArb, async ({ rows, classes, values, labels }) => {
      const run = async (backend: tg.BackendName): Promise<[Float32Array, Float32Array, Float32Array]> => {
        const x = tg.tensor(values, [rows, classes], { backend, requiresGrad: true });
        const loss = tg.crossEntropy(x, labels);
        loss.backward();
        return [await tg.logSoftmax(x, 1).data(), await loss.data(), await x.grad!.data()];
      };
      const [out, loss, grad] = await run(device);
      for (let r = 0; r < rows; r++) {
        const row = [...out.subarray(r * classes, (r + 1) * classes)];
        assert.ok(
          row.every((v) => Number.isFinite(v) && v <= 0),
          `row ${r}: ${row}`,
        );
        // Probabilities sum to 1 (in float64, from the float32 outputs).
        assert.ok(Math.abs(row.reduce((s, v) => s + Math.exp(v), 0) - 1) < 1e-5, `row ${r} normalised: ${row}`);
      }
      // +Inf is right when a label's logit is -Inf (or the rows' losses overflow float32).
      assert.ok(loss[0] >= 0, `loss ${loss[0]}`);
      assert.ok(grad.every(Number.isFinite), `gradient ${grad}`);
      if (device !== 'cpu') {
        const [cpuOut, cpuLoss, cpuGrad] = await run('cpu');
        assertNear(out, cpuOut, `${device} logSoftmax vs cpu`);
        assertNear(loss, cpuLoss, `${device} crossEntropy vs cpu`);
        assertNear(grad, cpuGrad, `${device} crossEntropy gradient vs cpu`);
      }
    }),
    runs(device === 'webgpu' ? 15 : 60),
  );
  // A -Inf logit that is not the label's leaves the loss finite: [0, -Inf, 0] -> log 2.
  assertClose(await tg.crossEntropy(tg.tensor([0, -Infinity, 0, 0, 0, 0], [2, 3], { backend: device }), [0, 1]).data(), [(Math.log(2) + Math.log(3)) / 2], 'loss');
});

forEachDevice('crossEntropy: a label tensor holding NaN or a class outside 0..C-1 makes the loss NaN, not 0', async (device) => {
  const logits = tg.tensor([1, 2, 3, 4, 5, 6], [2, 3], { backend: device });
  for (const bad of [NaN, 3, -1, 1.5]) {
    const loss = await tg.crossEntropy(logits, tg.tensor([0, bad], [2], { backend: device })).data();
    assert.ok(Number.isNaN(loss[0]), `label ${bad}: loss ${loss[0]}`);
  }
  assert.ok(Number.isFinite((await tg.crossEntropy(logits, tg.tensor([0, 2], [2], { backend: device })).data())[0]));
});

forEachDevice('a NaN logit makes the loss NaN (a diverged run must say so), for any label', async (device) => {
  for (const label of [0, 1]) {
    const loss = await tg.crossEntropy(tg.tensor([NaN, 0, 1, 2], [2, 2], { backend: device }), [label, 0]).data();
    assert.ok(Number.isNaN(loss[0]), `label ${label}: loss ${loss[0]}`);
  }
  assert.ok(Number.isNaN((await tg.logSoftmax(tg.tensor([NaN, 0], [2], { backend: device })).data())[0]));
});
