// Optimizers against a hand computation in plain JS (PyTorch's update rules), and schedules.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tg from '../src/index.js';
import { forEachDevice } from './devices.js';
import { assertClose } from './helpers.js';

const P0 = [0.5, -1.5, 2, 0.25];
const C = [1, -2, 0.5, 3];

/** loss(p) = sum(c * p) + 0.5 * sum(p * p) * k  ->  grad = c + k * p. */
function lossOf(p: tg.Tensor, k: number): tg.Tensor {
  return tg.add(tg.sum(tg.mul(p, tg.tensor(C, [4]))), tg.mul(tg.sum(tg.mul(p, p)), 0.5 * k));
}
const p0 = (): tg.Tensor => tg.tensor([1], [1], { requiresGrad: true });
const gradOf = (p: number[], k: number): number[] => p.map((v, i) => C[i] + k * v);

async function runSteps(opt: tg.SGD | tg.Adam, p: tg.Tensor, steps: number, k: number): Promise<number[][]> {
  const history: number[][] = [];
  for (let s = 0; s < steps; s++) {
    tg.scope(() => {
      opt.zeroGrad();
      lossOf(p, k).backward();
      opt.step();
    });
    history.push([...(await p.data())]);
  }
  return history;
}

interface SgdCase {
  lr: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
}

/** torch.optim.SGD's rule, in float64. */
function sgdByHand(o: SgdCase, steps: number, k: number): number[][] {
  let p = [...P0];
  let buf: number[] | null = null;
  const history: number[][] = [];
  const mom = o.momentum ?? 0,
    damp = o.dampening ?? 0,
    wd = o.weightDecay ?? 0;
  for (let s = 0; s < steps; s++) {
    let g = gradOf(p, k).map((gi, i) => gi + wd * p[i]);
    if (mom) {
      buf = buf ? buf.map((b, i) => mom * b + (1 - damp) * g[i]) : [...g];
      g = o.nesterov ? g.map((gi, i) => gi + mom * buf![i]) : buf;
    }
    p = p.map((v, i) => v - o.lr * g[i]);
    history.push(p);
  }
  return history;
}

const sgdCases: [string, SgdCase][] = [
  ['plain', { lr: 0.1 }],
  ['momentum', { lr: 0.1, momentum: 0.9 }],
  ['momentum + dampening', { lr: 0.05, momentum: 0.8, dampening: 0.3 }],
  ['weight decay', { lr: 0.1, weightDecay: 0.01 }],
  ['momentum + weight decay + nesterov', { lr: 0.1, momentum: 0.9, weightDecay: 0.05, nesterov: true }],
];

for (const [name, o] of sgdCases) {
  forEachDevice(`SGD (${name}) equals the hand computation for 3 steps`, async () => {
    const p = tg.tensor(P0, [4], { requiresGrad: true });
    const opt = new tg.SGD([p], o);
    const got = await runSteps(opt, p, 3, 0.7);
    sgdByHand(o, 3, 0.7).forEach((expected, s) => assertClose(got[s], expected, `SGD ${name} after step ${s + 1}`, { rtol: 1e-5 }));
    opt.dispose();
  });
}

/** torch.optim.Adam's rule (L2 weight decay added to the gradient), in float64. */
function adamByHand(lr: number, [b1, b2]: [number, number], eps: number, wd: number, steps: number, k: number): number[][] {
  let p = [...P0];
  let m = p.map(() => 0),
    v = p.map(() => 0);
  const history: number[][] = [];
  for (let t = 1; t <= steps; t++) {
    const g = gradOf(p, k).map((gi, i) => gi + wd * p[i]);
    m = m.map((mi, i) => b1 * mi + (1 - b1) * g[i]);
    v = v.map((vi, i) => b2 * vi + (1 - b2) * g[i] * g[i]);
    const mHat = m.map((mi) => mi / (1 - b1 ** t));
    const vHat = v.map((vi) => vi / (1 - b2 ** t));
    p = p.map((pi, i) => pi - (lr * mHat[i]) / (Math.sqrt(vHat[i]) + eps));
    history.push(p);
  }
  return history;
}

for (const [name, lr, betas, eps, wd] of [
  ['defaults but lr 0.1', 0.1, [0.9, 0.999], 1e-8, 0],
  ['betas 0.5/0.9, eps 0.1, weight decay 0.1', 0.05, [0.5, 0.9], 0.1, 0.1],
] as [string, number, [number, number], number, number][]) {
  forEachDevice(`Adam (${name}) equals the hand computation for 3 steps`, async () => {
    const p = tg.tensor(P0, [4], { requiresGrad: true });
    const opt = new tg.Adam([p], { lr, betas, eps, weightDecay: wd });
    const got = await runSteps(opt, p, 3, 0.7);
    adamByHand(lr, betas, eps, wd, 3, 0.7).forEach((expected, s) => assertClose(got[s], expected, `Adam ${name} after step ${s + 1}`, { rtol: 1e-5 }));
    opt.dispose();
  });
}

forEachDevice('optimizers skip parameters without a gradient and update in place', async () => {
  const a = tg.tensor([1, 2], [2], { requiresGrad: true });
  const b = tg.tensor([3, 4], [2], { requiresGrad: true });
  const opt = new tg.SGD([a, b], { lr: 0.5 });
  tg.sum(tg.mul(a, 2)).backward();
  opt.step();
  assert.deepEqual([...(await a.data())], [0, 1]);
  assert.deepEqual([...(await b.data())], [3, 4]);
  assert.equal(a.requiresGrad, true);
  assert.equal(a.isLeaf, true);
});

forEachDevice('Adam counts its bias-correction steps per parameter, as PyTorch', async () => {
  // b has no gradient at the first step, so its first update is a first Adam step (t = 1) even
  // though it happens at the optimizer's second step: it moves by exactly lr.
  const a = tg.tensor([1], [1], { requiresGrad: true });
  const b = tg.tensor([5], [1], { requiresGrad: true });
  const opt = new tg.Adam([a, b], { lr: 0.1 });
  tg.sum(a).backward();
  opt.step();
  opt.zeroGrad();
  tg.sum(tg.add(a, b)).backward();
  opt.step();
  assertClose(await b.data(), [4.9], 'b after its first update', { rtol: 1e-6 });
  const state = await opt.state();
  assert.deepEqual(state.steps, [2, 1]);
  // A checkpoint of an older ticketgrad holds one count for every parameter.
  opt.loadState({ ...state, steps: 3 });
  assert.deepEqual((await opt.state()).steps, [3, 3]);
  assert.throws(() => opt.loadState({ ...state, steps: [1] }), /one count per parameter/);
  opt.dispose();
});

test('optimizer options are validated', () => {
  assert.throws(() => new tg.SGD(((t) => [t, t])(p0()), { lr: 0.1 }), /parameter 1 is the same tensor as parameter 0/);
  assert.throws(() => new tg.SGD([p0()], { lr: 0.1, weightDecay: Infinity }), /weightDecay/);
  assert.throws(() => new tg.Adam([p0()], { eps: Infinity }), /eps/);
  const p = tg.tensor([1], [1], { requiresGrad: true });
  assert.throws(() => new tg.SGD([p], { lr: -1 }), /lr/);
  assert.throws(() => new tg.SGD([p], { lr: 0.1, nesterov: true }), /nesterov/);
  assert.throws(() => new tg.SGD([tg.tensor([1], [1])], { lr: 0.1 }), /parameter 0/);
  assert.throws(() => new tg.Adam([p], { weightDecay: -1 }), /weightDecay/);
});

// ---- schedules ----

const near = (a: number, b: number, what: string): void => assert.ok(Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

test('cosineSchedule: base at 0, midpoint halfway, min at the end and after', () => {
  const s = tg.cosineSchedule(0.1, 10, 0.001);
  near(s(0), 0.1, 'epoch 0');
  near(s(5), 0.001 + 0.5 * 0.099, 'epoch 5');
  near(s(10), 0.001, 'epoch 10');
  near(s(15), 0.001, 'epoch 15 (clamped)');
  for (let e = 0; e <= 10; e++) near(s(e), 0.001 + 0.5 * 0.099 * (1 + Math.cos((Math.PI * e) / 10)), `epoch ${e}`);
  for (let e = 1; e <= 10; e++) assert.ok(s(e) < s(e - 1), 'decreasing');
  near(tg.cosineSchedule(1, 4)(2), 0.5, 'default minLr 0');
  assert.throws(() => tg.cosineSchedule(0.1, 0), /totalEpochs/);
});

test('multiStepSchedule: multiplies by gamma at each milestone reached', () => {
  const s = tg.multiStepSchedule(0.1, [3, 6], 0.5);
  const expected = [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025];
  expected.forEach((lr, e) => near(s(e), lr, `epoch ${e}`));
  near(tg.multiStepSchedule(1, [2])(2), 0.1, 'default gamma 0.1');
});

test('constantSchedule: always the base rate', () => {
  const s = tg.constantSchedule(0.03);
  for (const e of [0, 1, 7, 1000]) assert.equal(s(e), 0.03);
});

forEachDevice('a schedule drives optimizer.lr', async () => {
  const p = tg.tensor([0], [1], { requiresGrad: true });
  const opt = new tg.SGD([p], { lr: 1 });
  const sched = tg.multiStepSchedule(1, [1], 0.1);
  let expected = 0;
  for (let epoch = 0; epoch < 3; epoch++) {
    opt.lr = sched(epoch);
    tg.scope(() => {
      opt.zeroGrad();
      tg.sum(p).backward();
      opt.step();
    });
    expected -= sched(epoch);
  }
  assertClose(await p.data(), [expected], 'parameter after scheduled steps', { rtol: 1e-6 });
});

forEachDevice('lrScale multiplies the learning rate per parameter (SGD and Adam)', async () => {
  for (const make of [(ps: tg.Tensor[]) => new tg.SGD(ps, { lr: 0.5, lrScale: [0, 2] }), (ps: tg.Tensor[]) => new tg.Adam(ps, { lr: 0.5, lrScale: [0, 2] })]) {
    const a = tg.tensor([1, 2], [2], { requiresGrad: true });
    const b = tg.tensor([1, 2], [2], { requiresGrad: true });
    const opt = make([a, b]);
    tg.add(tg.sum(a), tg.sum(b)).backward();
    opt.step();
    assert.deepEqual(Array.from(await a.data()), [1, 2], 'scale 0 leaves the parameter as it was');
    // SGD: 1 - 0.5*2*1 = 0; Adam's first step moves each element by lr*scale = 1.
    assertClose(await b.data(), [0, 1], 'scale 2 doubles the step', { atol: 1e-4 });
  }
  assert.throws(() => new tg.SGD([tg.zeros([1], { requiresGrad: true })], { lr: 1, lrScale: [1, 1] }), /lrScale needs one number >= 0 per parameter/);
});
