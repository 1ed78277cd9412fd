// Autograd semantics, the same body on every backend.

import assert from 'node:assert/strict';
import * as tg from '../src/index.js';
import { forEachDevice } from './devices.js';
import { assertClose } from './helpers.js';

const read = async (t: tg.Tensor): Promise<number[]> => [...(await t.data())];

forEachDevice('x * x: a tensor used twice gets both gradients (2x)', async () => {
  const x = tg.tensor([1, -2, 3.5], [3], { requiresGrad: true });
  tg.sum(tg.mul(x, x)).backward();
  assertClose(await x.grad!.data(), [2, -4, 7], 'grad of sum(x*x)');
});

forEachDevice('a tensor reaching the loss along several paths sums its gradients', async () => {
  const x = tg.tensor([0.5, 2], [2], { requiresGrad: true });
  // y = x*3 + exp(x) + x  ->  dy/dx = 4 + exp(x)
  const y = tg.add(tg.add(tg.mul(x, 3), tg.exp(x)), x);
  tg.sum(y).backward();
  assertClose(await x.grad!.data(), [4 + Math.exp(0.5), 4 + Math.exp(2)], 'grad along three paths');
});

forEachDevice('calling backward twice accumulates into .grad; zeroGrad clears it', async () => {
  const x = tg.tensor([1, 2, 3], [3], { requiresGrad: true });
  tg.sum(tg.mul(x, x)).backward();
  tg.sum(tg.mul(x, x)).backward();
  assertClose(await x.grad!.data(), [4, 8, 12], 'accumulated grad');
  x.zeroGrad();
  assert.equal(x.grad, null);
  tg.sum(tg.mul(x, 5)).backward();
  assertClose(await x.grad!.data(), [5, 5, 5], 'grad after zeroGrad');
});

forEachDevice('the same graph back-propagated twice accumulates', async () => {
  const x = tg.tensor([1, 2], [2], { requiresGrad: true });
  const loss = tg.sum(tg.mul(x, x));
  loss.backward();
  loss.backward();
  assertClose(await x.grad!.data(), [4, 8], 'grad after two backward() of one loss');
});

forEachDevice('noGrad records no graph', async () => {
  const x = tg.tensor([1, 2], [2], { requiresGrad: true });
  const y = tg.noGrad(() => tg.mul(tg.exp(x), 2));
  assert.equal(y.requiresGrad, false);
  assert.equal(y.isLeaf, true);
  assert.throws(() => tg.sum(y).backward(), /does not require a gradient/);
  // Recording resumes after noGrad, also when its function throws.
  assert.throws(
    () =>
      tg.noGrad(() => {
        throw new Error('boom');
      }),
    /boom/,
  );
  assert.equal(tg.mul(x, 2).requiresGrad, true);
});

forEachDevice('ops on tensors without requiresGrad record nothing', () => {
  const a = tg.tensor([1, 2], [2]);
  const y = tg.mul(tg.exp(a), a);
  assert.equal(y.requiresGrad, false);
  assert.equal(y.isLeaf, true);
});

forEachDevice('detach cuts the graph but shares the values', async () => {
  const x = tg.tensor([1, 2, 3], [3], { requiresGrad: true });
  const d = x.detach();
  assert.equal(d.requiresGrad, false);
  assert.deepEqual(await read(d), [1, 2, 3]);
  // y = detach(x) * x: only the second factor carries a gradient -> dy/dx = x.
  tg.sum(tg.mul(d, x)).backward();
  assertClose(await x.grad!.data(), [1, 2, 3], 'grad through detach');
  // Detaching an intermediate: no gradient flows back through it.
  x.zeroGrad();
  const h = tg.mul(x, 2).detach();
  assert.equal(h.requiresGrad, false);
  tg.sum(tg.add(tg.mul(h, x), x)).backward();
  assertClose(await x.grad!.data(), [3, 5, 7], 'grad with a detached intermediate (2x + 1)');
});

forEachDevice('backward() of a non-scalar without a gradient is an error naming the shape', () => {
  const x = tg.tensor([1, 2, 3, 4, 5, 6], [2, 3], { requiresGrad: true });
  const y = tg.mul(x, 2);
  assert.throws(
    () => y.backward(),
    (e: Error) => {
      assert.match(e.message, /\[2, 3\]/);
      assert.match(e.message, /scalar/);
      return true;
    },
  );
});

forEachDevice('backward(grad) with an explicit upstream gradient', async () => {
  const x = tg.tensor([1, 2, 3, 4], [2, 2], { requiresGrad: true });
  const y = tg.mul(tg.mul(x, x), 3); // dy/dx = 6x
  y.backward(tg.tensor([1, 0, -1, 0.5], [2, 2]));
  assertClose(await x.grad!.data(), [6, 0, -18, 12], 'grad with upstream gradient');
  assert.throws(() => y.backward(tg.tensor([1, 2, 3], [3])), /\[3\].*\[2, 2\]/);
});

forEachDevice('backward(grad) on a leaf stores the gradient itself', async () => {
  const x = tg.tensor([1, 2], [2], { requiresGrad: true });
  x.backward(tg.tensor([5, 6], [2]));
  assert.deepEqual(await read(x.grad!), [5, 6]);
});

forEachDevice('gradients that pass through unchanged are copies: a.grad, b.grad and the upstream gradient stay apart', async () => {
  const a = tg.tensor([1, 2], [2], { requiresGrad: true });
  const b = tg.tensor([3, 4], [2], { requiresGrad: true });
  const upstream = tg.tensor([5, 6], [2]);
  tg.reshape(tg.add(a, b), [1, 2]).backward(tg.reshape(upstream, [1, 2]));
  a.grad!.assign(tg.zeros([2]));
  assert.deepEqual(await read(b.grad!), [5, 6], 'b.grad after writing a.grad');
  assert.deepEqual(await read(upstream), [5, 6], 'the upstream gradient after writing a.grad');
  b.grad!.assign(tg.ones([2]));
  assert.deepEqual(await read(upstream), [5, 6], 'the upstream gradient after writing b.grad');
});

forEachDevice('a tensor overwritten by assign() between forward and backward is an error, not a wrong gradient', async () => {
  const x = tg.tensor([1, 2], [2], { requiresGrad: true });
  const w = tg.tensor([3, 4], [2]);
  const loss = tg.sum(tg.mul(x, w));
  w.assign(tg.tensor([30, 40], [2]));
  assert.throws(() => loss.backward(), /input 1 of mul \(shape \[2\]\) was overwritten by assign\(\) after the forward pass/);
  // After backward, assign is how optimizers update: the next forward sees the new values.
  const again = tg.sum(tg.mul(x, w));
  again.backward();
  assert.deepEqual(await read(x.grad!), [30, 40]);
});

forEachDevice('only leaves keep .grad; intermediates do not', async () => {
  const x = tg.tensor([1, 2], [2], { requiresGrad: true });
  const h = tg.mul(x, 2);
  assert.equal(h.isLeaf, false);
  assert.equal(h.requiresGrad, true);
  tg.sum(h).backward();
  assert.equal(h.grad, null);
  assertClose(await x.grad!.data(), [2, 2], 'leaf grad');
});

forEachDevice('gradients of broadcast operands are summed back to their shapes', async () => {
  const a = tg.tensor([1, 2, 3, 4, 5, 6], [2, 3], { requiresGrad: true });
  const b = tg.tensor([10, 20, 30], [3], { requiresGrad: true });
  const c = tg.tensor([2], [1, 1], { requiresGrad: true });
  tg.sum(tg.mul(tg.add(a, b), c)).backward();
  assert.deepEqual([...b.grad!.shape], [3]);
  assert.deepEqual([...c.grad!.shape], [1, 1]);
  assertClose(await a.grad!.data(), [2, 2, 2, 2, 2, 2], 'grad a');
  assertClose(await b.grad!.data(), [4, 4, 4], 'grad b (summed over rows)');
  assertClose(await c.grad!.data(), [21 + 2 * 60], 'grad c (summed over everything)');
});

forEachDevice('max shares the gradient equally among ties', async () => {
  const x = tg.tensor([1, 3, 3, 0], [4], { requiresGrad: true });
  tg.max(x).backward();
  assertClose(await x.grad!.data(), [0, 0.5, 0.5, 0], 'grad of max with a tie');
});

forEachDevice('a deep chain back-propagates without overflowing the stack', async () => {
  const x = tg.tensor([1], [1], { requiresGrad: true });
  let y = x;
  for (let i = 0; i < 3000; i++) y = tg.add(y, 0);
  tg.sum(tg.mul(y, 2)).backward();
  assertClose(await x.grad!.data(), [2], 'grad through 3000 ops');
});

forEachDevice('requiresGrad propagates through every input position', () => {
  const a = tg.tensor([1], [1]);
  const b = tg.tensor([2], [1], { requiresGrad: true });
  assert.equal(tg.sub(a, b).requiresGrad, true);
  assert.equal(tg.div(tg.reshape(a, [1, 1]), tg.reshape(b, [1, 1])).requiresGrad, true);
  assert.equal(tg.div(b, a).requiresGrad, true);
});

forEachDevice('assign writes in place: reshape views see the new values, a momentum buffer is not the gradient', async () => {
  const w = tg.tensor([1, 2, 3, 4], [4], { requiresGrad: true });
  const view = w.reshape([2, 2]);
  tg.sum(w).backward();
  new tg.SGD([w], { lr: 1 }).step();
  assert.deepEqual([...(await view.data())], [0, 1, 2, 3]);
  // Two steps on one gradient: the first step's momentum buffer must be a copy of it.
  const p = tg.tensor([1, 2], [2], { requiresGrad: true });
  tg.sum(p).backward();
  const opt = new tg.SGD([p], { lr: 0.1, momentum: 0.9 });
  opt.step();
  opt.step();
  assertClose(await p.grad!.data(), [1, 1], 'gradient after two steps');
  assertClose(await p.data(), [0.71, 1.71], 'parameter after two momentum steps');
});
