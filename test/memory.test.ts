// Memory: tg.scope frees every intermediate, so a training loop keeps device memory flat.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import * as tg from '../src/index.js';
import { acceleratorTest, forEachDevice } from './devices.js';

interface Mlp {
  params: tg.Tensor[];
  forward(x: tg.Tensor): tg.Tensor;
}

type Linear = (x: tg.Tensor, w: tg.Tensor, b: tg.Tensor) => tg.Tensor;

/** x [B,in] @ w [in,out] + b [out] with tg.matmul. */
const matmulLinear: Linear = (x, w, b) => tg.add(tg.matmul(x, w), b);

/** The same layer without matmul: sum over `in` of x [B,in,1] * w [in,out]. */
const broadcastLinear: Linear = (x, w, b) => tg.add(tg.sum(tg.mul(tg.reshape(x, [x.shape[0], x.shape[1], 1]), w), 1), b);

function mlp(sizes: number[], linear: Linear, seed: number): Mlp {
  const params: tg.Tensor[] = [];
  for (let i = 0; i + 1 < sizes.length; i++) {
    params.push(tg.randn([sizes[i], sizes[i + 1]], { seed: seed + i, std: 1 / Math.sqrt(sizes[i]), requiresGrad: true }));
    params.push(tg.zeros([sizes[i + 1]], { requiresGrad: true }));
  }
  return {
    params,
    forward(x) {
      let h = x;
      for (let i = 0; i < params.length; i += 2) {
        h = linear(h, params[i], params[i + 1]);
        if (i + 2 < params.length) h = tg.relu(h);
      }
      return h;
    },
  };
}

interface Snapshot {
  liveBuffers: number;
  liveBytes: number;
}

/** Trains with one tg.scope per step; returns memory after step 10 and after the last step, and the losses. */
async function train(linear: Linear, steps: number): Promise<{ at10: Snapshot; atEnd: Snapshot; first: number; last: number }> {
  // Small sizes: SwiftShader runs a reduction's workgroups slowly, and this loops 300 times.
  const net = mlp([4, 6, 3], linear, 100);
  const opt = new tg.SGD(net.params, { lr: 0.05, momentum: 0.9, weightDecay: 1e-4 });
  const x = tg.randn([6, 4], { seed: 7 });
  const labels = Array.from({ length: 6 }, (_, i) => i % 3);
  let at10: Snapshot | null = null;
  let first = NaN;
  let last = NaN;
  for (let step = 1; step <= steps; step++) {
    const loss = tg.scope(() => {
      opt.zeroGrad();
      const l = tg.crossEntropy(net.forward(x), labels);
      l.backward();
      opt.step();
      return l;
    });
    tg.flush();
    if (step === 1 || step === steps || step % 100 === 0) {
      // Reading waits for the GPU, so queued work cannot pile up.
      const v = await loss.item();
      if (step === 1) first = v;
      last = v;
    }
    loss.dispose();
    const m = tg.memory();
    if (step === 10) at10 = { liveBuffers: m.liveBuffers, liveBytes: m.liveBytes };
  }
  const m = tg.memory();
  opt.dispose();
  net.params.forEach((p) => p.dispose());
  x.dispose();
  return { at10: at10!, atEnd: { liveBuffers: m.liveBuffers, liveBytes: m.liveBytes }, first, last };
}

for (const [name, linear] of [
  ['matmul', matmulLinear],
  ['broadcast-multiply', broadcastLinear],
] as const) {
  acceleratorTest(
    `scope keeps liveBuffers/liveBytes flat over 300 SGD steps of an MLP (${name} layers)`,
    async (device) => {
      tg.setBackend(device);
      try {
        const r = await train(linear, 300);
        assert.ok(Number.isFinite(r.last) && r.last < r.first, `the MLP should learn: loss ${r.first} -> ${r.last}`);
        assert.deepEqual(r.atEnd, r.at10, `device memory grew between step 10 and step 300: ${JSON.stringify(r.at10)} -> ${JSON.stringify(r.atEnd)}`);
      } finally {
        tg.setBackend('cpu');
      }
    },
    { label: '' },
  );
}

// The collector, without starting Node with --expose-gc.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** V8's used heap after full collections (and the turns that settle what they free). */
async function heapAfterGc(): Promise<number> {
  for (let i = 0; i < 2; i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
  return process.memoryUsage().heapUsed;
}

acceleratorTest(
  'waiting for the device (sync, reads) leaves nothing behind on the JS heap',
  async (device) => {
    tg.setBackend(device);
    const x = tg.ones([4]);
    try {
      const wait = async (): Promise<void> => {
        await tg.sync();
        await x.data();
      };
      for (let i = 0; i < 500; i++) await wait();
      const waits = 5000;
      const before = await heapAfterGc();
      for (let i = 0; i < waits; i++) await wait();
      const perWait = ((await heapAfterGc()) - before) / (2 * waits);
      // Measured: under 20 bytes (the noise of collections); a reaction left on a promise that
      // lives as long as the device held 350-530 bytes per wait.
      assert.ok(perWait < 100, `the heap grew by ${perWait.toFixed(0)} bytes per wait for the device`);
    } finally {
      x.dispose();
      tg.setBackend('cpu');
    }
  },
  { label: '' },
);

acceleratorTest(
  'tensors created in a scope are freed, returned and kept ones survive',
  async (device) => {
    tg.setBackend(device);
    try {
      tg.flush();
      // What one 64-float tensor occupies on this device (pools round sizes up).
      const start = tg.memory().liveBytes;
      const probe = tg.zeros([64]);
      const one = tg.memory().liveBytes - start;
      probe.dispose();
      const before = tg.memory().liveBytes;
      const kept: tg.Tensor[] = [];
      const out = tg.scope(() => {
        const a = tg.randn([64], { seed: 1 });
        const b = tg.exp(a);
        kept.push(tg.keep(tg.mul(b, 2)));
        return { sum: tg.add(a, b), list: [tg.neg(b)] };
      });
      assert.equal(out.sum.disposed, false);
      assert.equal(out.list[0].disposed, false);
      assert.equal(kept[0].disposed, false);
      assert.equal((await out.sum.data()).length, 64);
      assert.equal((await kept[0].data()).length, 64);
      // a and b are freed: three 64-float buffers stay live.
      assert.equal(tg.memory().liveBytes - before, 3 * one);
      out.sum.dispose();
      out.list[0].dispose();
      kept[0].dispose();
      assert.equal(tg.memory().liveBytes, before);
    } finally {
      tg.setBackend('cpu');
    }
  },
  { label: '' },
);

forEachDevice('scope disposes intermediates and nested scopes hand results outwards', async () => {
  let inner: tg.Tensor | null = null;
  let intermediate: tg.Tensor | null = null;
  const outer = tg.scope(() => {
    const r = tg.scope(() => {
      intermediate = tg.mul(tg.tensor([1, 2], [2]), 3);
      inner = tg.add(intermediate, 1);
      return inner;
    });
    assert.equal(intermediate!.disposed, true);
    assert.equal(r.disposed, false);
    return tg.mul(r, 2);
  });
  assert.equal(inner!.disposed, true, 'a result of the inner scope is freed by the outer one');
  assert.deepEqual([...(await outer.data())], [8, 14]);
  outer.dispose();
});

test('scope rejects an async function', () => {
  assert.throws(() => tg.scope(async () => 1), /synchronous/);
});

forEachDevice('dispose is idempotent and reshape views share storage safely', async () => {
  const a = tg.tensor([1, 2, 3, 4], [2, 2]);
  const v = tg.reshape(a, [4]);
  a.dispose();
  a.dispose();
  assert.equal(a.disposed, true);
  assert.deepEqual([...(await v.data())], [1, 2, 3, 4], 'a view keeps the storage alive');
  v.dispose();
});
