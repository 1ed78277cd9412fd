// What is particular to the wasm backend (its kernels are checked against the CPU reference
// with every other backend in ops/grad/topk/...): results that do not depend on the number of
// threads, memory that grows, refuses past 4 GiB and stays flat over a long training run, and
// the module builder's encodings.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tg from '../src/index.js';
import { ModuleBuilder } from '../src/backend/wasm/builder.js';
import type { WasmBackend } from '../src/backend/wasm/backend.js';
import { wasm } from './devices.js';
import { assertMatchesCpu, input } from './helpers.js';

/** One MPT training step: masks, forward, backward, SGD step; returns the loss. */
function mptStep(model: tg.nn.Module, optimizer: tg.SGD, images: tg.Tensor, labels: number[], density: number): tg.Tensor {
  tg.computeMasks(model, { density, scope: 'global', method: 'threshold' });
  return tg.scope(() => {
    const l = tg.crossEntropy(model.forward(images), labels);
    l.backward();
    optimizer.step();
    optimizer.zeroGrad();
    return l;
  });
}

/**
 * Large enough that every job is split across threads: elementwise, reductions, matmul, conv
 * (both strides, both gradients), top-k masks, and MPT training steps of a Conv-2.
 */
async function scenario(): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  const record = async (name: string, t: tg.Tensor | null): Promise<void> => {
    if (!t) throw new Error(`no ${name}`);
    out.set(name, await t.data());
  };
  const big = tg.randn([300, 1001], { seed: 1 });
  await record('exp', tg.exp(big));
  await record('add broadcast', tg.add(big, tg.randn([1001], { seed: 2 })));
  await record('transpose', tg.transpose(big));
  await record('sum axis 0', tg.sum(big, 0));
  await record('sum axis 1', tg.sum(big, 1));
  await record('max', tg.max(big, 1));
  const a = tg.randn([260, 300], { seed: 3, requiresGrad: true });
  const b = tg.randn([300, 270], { seed: 4, requiresGrad: true });
  const c = tg.matmul(a, b);
  c.backward(tg.randn(c.shape, { seed: 5 }));
  await record('matmul', c);
  await record('matmul grad a', a.grad);
  await record('matmul grad b', b.grad);
  for (const stride of [1, 2]) {
    const x = tg.randn([8, 16, 20, 20], { seed: 6, requiresGrad: true });
    const w = tg.randn([24, 16, 3, 3], { seed: 7, requiresGrad: true });
    const y = tg.conv2d(x, w, { padding: 1, stride });
    y.backward(tg.randn(y.shape, { seed: 8 }));
    await record(`conv stride ${stride}`, y);
    await record(`conv stride ${stride} grad x`, x.grad);
    await record(`conv stride ${stride} grad w`, w.grad);
  }
  const scores = [tg.randn([200_000], { seed: 9 }), tg.randn([70_001], { seed: 10 })];
  for (const method of ['threshold', 'bitonic'] as const) {
    for (const [i, m] of tg.topkMask(scores, 0.3, { method }).entries()) await record(`topk ${method} ${i}`, m);
  }
  const model = tg.nn.createModel('conv2', { mode: 'mpt', input: [1, 28, 28], classes: 10, width: 0.25, scoreAlpha: 2, seed: 5 });
  const optimizer = new tg.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
  const images = tg.randn([32, 1, 28, 28], { seed: 11 });
  const labels = Array.from({ length: 32 }, (_, i) => i % 10);
  for (let step = 0; step < 3; step++) {
    const loss = mptStep(model, optimizer, images, labels, 0.3);
    await record(`MPT loss ${step}`, loss);
    loss.dispose();
  }
  for (const [name, layer] of tg.nn.prunableLayers(model)) await record(`MPT ${name} scores`, layer.scores);
  optimizer.dispose();
  model.dispose();
  return out;
}

test('wasm: 1, 2 and 3 threads give bit-identical results (ops, gradients, masks, MPT steps)', { timeout: 300_000 }, async () => {
  assert.ok(wasm.available, wasm.detail);
  const runs: Map<string, Float32Array>[] = [];
  try {
    for (const threads of [1, 2, 3]) {
      const r = await tg.init({ backend: 'wasm', threads });
      assert.match(r.adapter, new RegExp(`${threads} threads?$`));
      runs.push(await scenario());
    }
  } finally {
    tg.setBackend('cpu');
  }
  const [one, ...others] = runs;
  others.forEach((other, i) => {
    for (const [name, values] of one) {
      const got = other.get(name)!;
      const differ = values.findIndex((v, j) => !Object.is(v, got[j]));
      assert.equal(differ, -1, `${name}: ${i + 2} threads differ from 1 at ${differ} (${got[differ]} vs ${values[differ]})`);
    }
  });
});

test('wasm: memory grows on demand, and a request past 4 GiB is an error naming its size', async () => {
  await tg.init({ backend: 'wasm', threads: 2 });
  try {
    const big = tg.zeros([64 * 2 ** 20]);
    assert.equal(await tg.sum(big).item(), 0);
    big.dispose();
    assert.throws(
      () => tg.zeros([2 ** 30 + 16]),
      /a tensor of 1073741840 elements needs 4\.00 GiB, but WebAssembly memory is limited to 4 GiB: .* held by live tensors \(dispose\(\) them, or run each step in tg\.scope/,
    );
    const after = tg.tensor([1, 2, 3], [3]);
    assert.deepEqual([...(await after.data())], [1, 2, 3], 'the backend still works');
  } finally {
    tg.setBackend('cpu');
  }
});

test('wasm: tg.memory() stays flat over 2,000 MPT training steps', { timeout: 300_000 }, async () => {
  await tg.init({ backend: 'wasm' });
  try {
    const model = tg.nn.createModel('lenet300', { mode: 'mpt', input: [1, 8, 8], classes: 10, width: 0.25, seed: 3 });
    const optimizer = new tg.SGD(model.parameters(), { lr: 0.1, momentum: 0.9, weightDecay: 1e-4 });
    const images = tg.randn([16, 1, 8, 8], { seed: 4 });
    const labels = Array.from({ length: 16 }, (_, i) => i % 10);
    let at100 = tg.memory();
    for (let step = 1; step <= 2000; step++) {
      const loss = mptStep(model, optimizer, images, labels, 0.5);
      if (step % 500 === 0) assert.ok(Number.isFinite(await loss.item()));
      loss.dispose();
      if (step === 100) at100 = tg.memory();
    }
    const end = tg.memory();
    assert.deepEqual(
      { liveBuffers: end.liveBuffers, liveBytes: end.liveBytes },
      { liveBuffers: at100.liveBuffers, liveBytes: at100.liveBytes },
      'live blocks and bytes at step 2000 equal step 100',
    );
    optimizer.dispose();
    model.dispose();
    images.dispose();
  } finally {
    tg.setBackend('cpu');
  }
});

test('wasm module builder: signed and unsigned LEB128 constants round-trip', () => {
  const values = [0, 1, -1, 63, 64, -64, -65, 127, 128, 8191, -8192, 2 ** 31 - 1, -(2 ** 31), 0x12345678];
  const mod = new ModuleBuilder({ initial: 1, maximum: 1, shared: false });
  values.forEach((v, i) => mod.func(`c${i}`, [], ['i32'], (f) => f.i32.const(v)));
  // Many locals and a branch out of nested blocks exercise the other encodings.
  mod.func('nested', ['i32'], ['i32'], (f, x) => {
    const locals = Array.from({ length: 200 }, () => f.local('i32'));
    f.set(locals[199], f.i32.const(7));
    f.block((outer) => {
      f.block(() => {
        f.brIf(outer, f.get(x));
        f.set(locals[199], f.i32.const(9));
      });
    });
    f.get(locals[199]);
  });
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 1 });
  const exports = new WebAssembly.Instance(new WebAssembly.Module(mod.bytes()), { env: { memory } }).exports as Record<string, (...a: number[]) => number>;
  values.forEach((v, i) => assert.equal(exports[`c${i}`](), v, `i32.const ${v}`));
  assert.equal(exports.nested(1), 7);
  assert.equal(exports.nested(0), 9);
});

test('wasm: asking for fewer threads than started keeps the backend and its tensors; more makes a new one', async () => {
  try {
    await tg.init({ backend: 'wasm', threads: 2 });
    const backend = tg.getBackend('wasm');
    const kept = tg.tensor([1, 2, 3], [3]);
    assert.match((await tg.init({ backend: 'wasm', threads: 1 })).adapter, /, 1 thread$/);
    assert.equal(tg.getBackend('wasm'), backend, 'the same backend');
    assert.deepEqual([...(await tg.mul(kept, 2).data())], [2, 4, 6]);
    assert.match((await tg.init({ backend: 'wasm', threads: 2 })).adapter, /, 2 threads$/);
    assert.equal(tg.getBackend('wasm'), backend);
    const started = (backend as WasmBackend).startedThreads;
    assert.match((await tg.init({ backend: 'wasm', threads: started + 1 })).adapter, new RegExp(`, ${started + 1} threads$`));
    assert.notEqual(tg.getBackend('wasm'), backend, 'more threads than it started with need a new backend');
  } finally {
    tg.setBackend('cpu');
  }
});

// Each case is above the backend's parallel threshold (KNOBS.parallelElements: 65,536 elements, or
// multiply-adds / 8), so its jobs run on every thread; the other tests' shapes mostly run on one.
test('wasm: shapes large enough to be split across threads equal the CPU reference (each conv layout, gradients included)', { timeout: 300_000 }, async () => {
  await tg.init({ backend: 'wasm' });
  try {
    const check = async (what: string, shapes: number[][], fn: (xs: tg.Tensor[]) => tg.Tensor, grad = true): Promise<void> => {
      const inputs = await Promise.all(shapes.map((s, i) => input(s, 101 + i)));
      await assertMatchesCpu('wasm', inputs, fn, what, { rtol: 1e-4, atol: 1e-4 }, { grad });
    };
    await check(
      'batched matmul with a shared right side',
      [
        [2, 130, 100],
        [100, 90],
      ],
      ([a, b]) => tg.matmul(a, b),
    );
    // Output width 24, a multiple of 8: each output row in place.
    await check(
      'conv2d, rows in place',
      [
        [4, 8, 24, 24],
        [16, 8, 3, 3],
      ],
      ([x, w]) => tg.conv2d(x, w, { padding: 1 }),
    );
    // Output width 19: Wp-wide rows, the extra columns dropped.
    await check(
      'conv2d, virtual columns',
      [
        [3, 6, 21, 19],
        [10, 6, 3, 3],
      ],
      ([x, w]) => tg.conv2d(x, w, { padding: 1 }),
    );
    // Stride 2: im2col columns.
    await check(
      'conv2d, stride 2',
      [
        [4, 8, 33, 33],
        [12, 8, 3, 3],
      ],
      ([x, w]) => tg.conv2d(x, w, { padding: 1, stride: 2 }),
    );
    await check('broadcast add, exp, sums over each axis', [[300, 500], [500]], ([a, b]) => tg.add(tg.sum(tg.exp(tg.mul(tg.add(a, b), 0.1)), 0), tg.sum(a, 1).sum()));
    await check('max pooling', [[8, 16, 24, 24]], ([x]) => tg.maxPool2d(x, { kernelSize: 2 }));
  } finally {
    tg.setBackend('cpu');
  }
});
