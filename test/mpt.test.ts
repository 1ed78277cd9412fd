// Multi-prize ticket building blocks: power-propagation (Eq. 1), binarization, and biprop's
// score gradient dL/dS = dL/dW_eff * W * sign(S). Every property runs on each backend.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import * as tg from '../src/index.js';
import { forEachDevice } from './devices.js';
import { defaultLearningRate, initDensityOf, scoreBoundOf, weightLearningRate } from '../src/train/learning-rates.js';
import { loadMnist } from '../src/data/mnist.js';
import { assertClose, runs, seedArb } from './helpers.js';

const sizeArb = fc.integer({ min: 1, max: 300 });

forEachDevice('powerProp: forward s|s|^(alpha-1), gradient g * alpha|s|^(alpha-1)', async () => {
  await fc.assert(
    fc.asyncProperty(sizeArb, fc.double({ min: 1, max: 4, noNaN: true }), seedArb, async (n, alpha, seed) => {
      const s = tg.randn([n], { seed, requiresGrad: true });
      const g = tg.randn([n], { seed: seed + 1 });
      const out = tg.powerProp(s, alpha);
      out.backward(g);
      const [sv, gv, ov, grad] = [await s.data(), await g.data(), await out.data(), await s.grad!.data()];
      const expectedOut = sv.map((v) => Math.sign(v) * Math.abs(v) ** alpha);
      const expectedGrad = sv.map((v, i) => gv[i] * alpha * Math.abs(v) ** (alpha - 1));
      assertClose(ov, expectedOut, 'powerProp forward', { rtol: 1e-4, atol: 1e-6 });
      assertClose(grad, expectedGrad, 'powerProp gradient (Eq. 1)', { rtol: 1e-4, atol: 1e-6 });
      [s, g, out].forEach((t) => t.dispose());
    }),
    runs(15),
  );
});

forEachDevice('powerPropInit inverts powerProp: S starts as u', async () => {
  await fc.assert(
    fc.asyncProperty(sizeArb, fc.double({ min: 1, max: 4, noNaN: true }), seedArb, async (n, alpha, seed) => {
      const u = tg.rand([n], { seed, low: -0.05, high: 0.05 });
      const S = tg.powerProp(tg.powerPropInit(u, alpha), alpha);
      assertClose(await S.data(), await u.data(), 'powerProp(powerPropInit(u))', { rtol: 1e-4, atol: 1e-7 });
    }),
    runs(10),
  );
});

forEachDevice('binarize: values in {-alpha, 0, +alpha}, alpha = ||M*W||_1 / ||M||_1', async () => {
  await fc.assert(
    fc.asyncProperty(sizeArb, seedArb, fc.double({ min: 0.05, max: 1, noNaN: true }), async (n, seed, density) => {
      const w = tg.randn([n], { seed });
      const mask = tg.topkMask(tg.randn([n], { seed: seed + 1 }), density);
      const { weight, alpha } = tg.binarize(w, mask);
      const [wv, mv, bv, a] = [await w.data(), await mask.data(), await weight.data(), await alpha.item()];
      const kept = mv.reduce((s, v) => s + v, 0);
      const expectedAlpha = kept ? wv.reduce((s, v, i) => s + Math.abs(v) * mv[i], 0) / kept : 0;
      assertClose([a], [expectedAlpha], 'alpha', { rtol: 1e-4 });
      bv.forEach((v, i) => {
        const expected = mv[i] ? Math.sign(wv[i]) * a : 0;
        assert.ok(Math.abs(v - expected) <= 1e-6 * Math.max(1, a), `element ${i}: ${v}, expected ${expected}`);
      });
    }),
    runs(15),
  );
});

/**
 * The score gradient of both mask methods: dL/dS = dL/dW_eff * W * sign(S), straight through
 * the top-k. A version without sign(W) (the bug that trains to chance) fails this check.
 */
for (const method of ['mpt', 'edgepopup'] as const) {
  forEachDevice(`${method}: score gradient is dL/dW_eff * W * sign(S), straight through the mask`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 2, max: 200 }), seedArb, fc.double({ min: 1, max: 3, noNaN: true }), async (n, seed, alpha) => {
        const w = tg.randn([n], { seed });
        const s = tg.randn([n], { seed: seed + 1, requiresGrad: true });
        const upstream = tg.randn([n], { seed: seed + 2 });
        const S = tg.powerProp(s, alpha);
        const mask = tg.topkMask(s.detach(), 0.5);
        const m = tg.scoreMask(S, mask);
        const weff = method === 'mpt' ? tg.binarize(w, m).weight : tg.mul(w, m);
        weff.backward(upstream);
        const [wv, sv, gv, grad] = [await w.data(), await s.data(), await upstream.data(), await s.grad!.data()];
        const expected = sv.map((v, i) => gv[i] * wv[i] * Math.sign(v) * alpha * Math.abs(v) ** (alpha - 1));
        assertClose(grad, expected, `${method} score gradient`, { rtol: 1e-4, atol: 1e-6 });
        // The gradient must carry the sign of W: flipping W flips it.
        const withoutSign = sv.map((v, i) => gv[i] * Math.abs(wv[i]) * Math.sign(v) * alpha * Math.abs(v) ** (alpha - 1));
        if (wv.some((v, i) => v < 0 && Math.abs(gv[i]) > 1e-3)) {
          assert.notDeepEqual(
            Array.from(grad, (v) => v.toFixed(4)),
            Array.from(withoutSign, (v) => v.toFixed(4)),
          );
        }
      }),
      runs(15),
    );
  });
}

forEachDevice('mpt forward of a prunable layer uses alpha * sign(W) * M', async () => {
  const layer = new tg.nn.PrunableLinear(7, 5, { mode: 'mpt', seed: 3 });
  tg.computeMasks(new tg.nn.Sequential(layer), { density: 0.4, scope: 'layer', method: 'threshold' });
  const x = tg.randn([2, 7], { seed: 9 });
  const y = layer.forward(x);
  const [wv, mv, a] = [await layer.weight.data(), await layer.mask!.data(), await layer.binaryAlpha!.item()];
  assert.equal(
    mv.reduce((s, v) => s + v, 0),
    Math.round(0.4 * 35),
  );
  const weff = tg.tensor(
    wv.map((v, i) => Math.sign(v) * a * mv[i]),
    [7, 5],
  );
  assertClose(await y.data(), await tg.matmul(x, weff).data(), 'layer output', { rtol: 1e-4, atol: 1e-6 });
});

test('global scope ramps the sparsity from 0.5 to the target with a cubic schedule (biprop)', () => {
  // density 0.1 (sparsity 0.9): pruned fraction 0.9 + (0.5 - 0.9) * (1 - e/10)^3
  assert.equal(tg.rampedDensity(0.1, 'global', 0, 10), 0.5);
  assert.ok(Math.abs(tg.rampedDensity(0.1, 'global', 5, 10) - (1 - (0.9 - 0.4 * 0.125))) < 1e-12);
  assert.equal(tg.rampedDensity(0.1, 'global', 10, 10), 0.1);
  assert.equal(tg.rampedDensity(0.1, 'layer', 0, 10), 0.1);
  assert.equal(tg.rampedDensity(0.7, 'global', 0, 10), 0.7);
});

test('initDensity d draws the frozen weights 1/sqrt(d) larger; the default score rate is sqrt(d) smaller', async () => {
  const make = (initDensity?: number) => tg.nn.createModel('lenet300', { mode: 'mpt', input: [1, 28, 28], classes: 10, seed: 4, initDensity });
  const [plain, scaled] = [make(), make(0.25)];
  const [pl, sl] = [plain, scaled].map((m) => tg.nn.prunableLayers(m).map(([, l]) => l));
  for (let i = 0; i < pl.length; i++) {
    const [a, b] = [await pl[i].weight.data(), await sl[i].weight.data()];
    a.forEach((v, j) => assert.ok(Math.abs(b[j] - 2 * v) <= 1e-6 * Math.abs(v), `layer ${i} weight ${j}: ${b[j]} vs 2 * ${v}`));
    assert.deepEqual(await sl[i].scores!.data(), await pl[i].scores!.data(), 'scores do not depend on it');
  }
  for (const alpha of [1, 2, 3]) assertClose([defaultLearningRate('mpt', alpha, sl)], [0.5 * defaultLearningRate('mpt', alpha, pl)], `lr, alpha ${alpha}`);
  assert.equal(weightLearningRate(sl), 0.05);
  assert.throws(() => make(0), /initDensity must be in \(0, 1\], got 0/);
  plain.dispose();
  scaled.dispose();
});

forEachDevice('computeMasks: global scope keeps round(density * total) over all layers; tau thresholds |S|', async () => {
  const model = tg.nn.createModel('lenet300', { mode: 'mpt', input: [1, 4, 4], classes: 3, width: 0.05, seed: 2 });
  const layers = tg.nn.prunableLayers(model).map(([, l]) => l);
  const total = layers.reduce((n, l) => n + l.weight.size, 0);
  tg.computeMasks(model, { density: 0.3, scope: 'global', method: 'threshold' });
  let kept = 0;
  for (const l of layers) kept += (await l.mask!.data()).reduce((a, v) => a + v, 0);
  assert.equal(kept, Math.round(0.3 * total));
  tg.computeMasks(model, { density: 0.3, scope: 'layer', method: 'threshold', tau: 0.05 });
  for (const l of layers) {
    const [s, m] = [await l.scores!.data(), await l.mask!.data()];
    s.forEach((v, i) => assert.equal(m[i], Math.abs(v) > 0.05 ? 1 : 0));
  }
  model.dispose();
});

test('the frozen weights are drawn for the density training starts at: 0.5 where the global ramp starts there', () => {
  const o = (given: Partial<tg.RunOptions>) => tg.resolveOptions({ method: 'mpt', ...given });
  assert.equal(initDensityOf(o({ sparsity: 0.9 })), 1 - 0.9, 'layer scope: the target density');
  assert.equal(initDensityOf(o({ sparsity: 0.9, scope: 'global' })), 0.5, 'global scope: the ramp starts at 0.5');
  assert.equal(initDensityOf(o({ sparsity: 0.9, scope: 'global', rampEpochs: 0 })), 1 - 0.9, 'no ramp');
  assert.equal(initDensityOf(o({ sparsity: 0.3, scope: 'global' })), 1 - 0.3, 'a density above 0.5 has no ramp');
  assert.equal(initDensityOf(o({ sparsity: 0.9, initScale: 'none' })), 1);
  assert.equal(initDensityOf(o({ tau: 0.01 })), 1, 'a fixed threshold has no known density');
  assert.equal(initDensityOf(tg.resolveOptions({ method: 'imp', sparsity: 0.9 })), 1);
});

test('scores with power-propagation are bounded by |s| <= 1 by default; without the bound alpha 3 diverges', async () => {
  assert.equal(scoreBoundOf({ alpha: 1 }), undefined);
  assert.equal(scoreBoundOf({ alpha: 2 }), 1);
  assert.equal(scoreBoundOf({ alpha: 3, scoreBound: 0.5 }), 0.5);
  assert.equal(scoreBoundOf({ alpha: 3, scoreBound: 'none' }), undefined);
  assert.throws(() => tg.resolveOptions({ scoreBound: 0 }), /--score-bound: expected a number > 0 or 'none', got 0/);
  assert.throws(() => tg.resolveOptions({ method: 'dense', scoreBound: 1 }), /--score-bound applies to mpt, edgepopup, not to dense$/);
  assert.throws(() => tg.clamp(tg.tensor([1]), 1, -1), /clamp: expected lo <= hi, got 1 and -1/);

  // LeNet-300-100 on 7,999 digits, alpha 3 at its default (scaled) rate: without a bound the
  // output layer's scores run away (ds/dt ~ s^2 blows up in finite time) within the first epoch.
  tg.setBackend('wasm');
  try {
    const split = tg.data.holdOut(loadMnist({ seed: 1 }), 0, 7999);
    const options = (scoreBound?: 'none') => tg.resolveOptions({ model: 'lenet300', alpha: 3, epochs: 2, initScale: 'none', verbose: false, scoreBound });
    await assert.rejects(tg.trainModel(options('none'), split), /train epoch 1, step \d+: layer \d+'s scores hold NaN or infinite values/);
    const { model, report } = await tg.trainModel(options(), split);
    let largest = 0;
    for (const l of tg.nn.prunableLayers(model).map(([, l]) => l)) for (const v of await l.scores!.data()) largest = Math.max(largest, Math.abs(v));
    model.dispose();
    assert.equal(largest, 1, 'some scores reach the bound, none passes it');
    assert.ok(report.testAccuracy > 0.8, `test accuracy ${report.testAccuracy}`);
  } finally {
    tg.setBackend('cpu');
  }
});
