// The pruning methods of docs/algorithms.md 3 below the training loop: masked training (masks
// survive momentum and weight decay), pruning at init (magnitude, random, ERK, SNIP, SynFlow's
// float32 safety and the layer collapse it avoids), IMP's schedule and rewinding, Gem-Miner's
// scores, Early-Bird's detector and channel pruning, and iterative hard thresholding.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import * as tg from '../src/index.js';
import { acceleratorTest, forEachDevice } from './devices.js';
import { assertClose, runs } from './helpers.js';

const { prune, nn } = tg;

const masked = (inF: number, outF: number, seed: number): tg.nn.PrunableLinear => new nn.PrunableLinear(inF, outF, { mode: 'masked', seed });

/** A Sequential of masked linear layers with ReLUs between them. */
function mlp(widths: number[], seed = 1): { model: tg.nn.Sequential; layers: tg.nn.PrunableLayer[] } {
  const layers = widths.slice(1).map((w, i) => masked(widths[i], w, seed * 100 + i));
  const modules: tg.nn.Module[] = layers.flatMap((l, i) => (i < layers.length - 1 ? [l, new nn.ReLU()] : [l]));
  return { model: new nn.Sequential(...modules), layers };
}

const count = (values: ArrayLike<number>): number => Array.from(values).reduce((a, v) => a + v, 0);

forEachDevice('masked training: a pruned weight stays exactly 0 through SGD (momentum, weight decay) and Adam steps', async () => {
  for (const kind of ['sgd', 'adam'] as const) {
    const { model, layers } = mlp([6, 5, 3], 7);
    const x = tg.randn([8, 6], { seed: 3 });
    const labels = [0, 1, 2, 0, 1, 2, 0, 1];
    const params = model.parameters();
    const optimizer = kind === 'sgd' ? new tg.SGD(params, { lr: 0.1, momentum: 0.9, weightDecay: 0.01 }) : new tg.Adam(params, { lr: 0.05, weightDecay: 0.01 });
    const step = (reapply: boolean): void =>
      tg.scope(() => {
        tg.crossEntropy(model.forward(x), labels).backward();
        optimizer.step();
        optimizer.zeroGrad();
        if (reapply) prune.reapplyMasks(model);
      });
    // Momentum and Adam's moments fill up while every weight is kept ...
    for (let i = 0; i < 3; i++) step(true);
    // ... then half the weights are pruned mid-training.
    prune.pruneAtInit(model, { method: 'magnitude', density: 0.5, scope: 'layer' });
    const before = await Promise.all(layers.map((l) => l.weight.data()));
    for (let i = 0; i < 4; i++) step(true);
    for (const [li, l] of layers.entries()) {
      const [w, m] = [await l.weight.data(), await l.mask!.data()];
      assert.equal(count(m), Math.round(0.5 * l.weight.size));
      m.forEach((keep, j) => {
        if (!keep) assert.ok(w[j] === 0, `${kind}: pruned weight ${li}.${j} is ${w[j]}`);
      });
      assert.ok(
        m.some((keep, j) => keep && w[j] !== before[li][j]),
        `${kind}: kept weights of layer ${li} train`,
      );
    }
    // Without re-applying the masks the optimizer state would revive them: the test has teeth.
    step(false);
    const revived = (await layers[0].weight.data()).some((v, j) => v !== 0 && layers[0].mask !== null && before[0][j] === 0);
    assert.ok(revived, `${kind}: momentum / weight decay move pruned weights when the mask is not re-applied`);
    optimizer.dispose();
    model.dispose();
  }
});

forEachDevice('correctCount predicts the first maximum: tied logits (a collapsed network) are not all correct', async () => {
  const logits = tg.tensor([
    [1, 1, 0],
    [0, 2, 2],
    [3, 3, 3],
    [0, 0, 5],
  ]);
  assert.equal(await tg.correctCount(logits, [1, 1, 0, 2]).item(), 3);
  assert.equal(await tg.correctCount(logits, [0, 2, 2, 2]).item(), 2);
});

forEachDevice('magnitude at init: the exact top-k of |W| per layer, and globally', async () => {
  const { model, layers } = mlp([20, 15, 10, 4], 3);
  const initial = await Promise.all(layers.map((l) => l.weight.data()));
  prune.pruneAtInit(model, { method: 'magnitude', density: 0.3, scope: 'layer' });
  for (const [i, l] of layers.entries()) {
    const [w, m] = [await l.weight.data(), await l.mask!.data()];
    assert.equal(count(m), Math.round(0.3 * w.length));
    const kept = Array.from(initial[i])
      .filter((_, j) => m[j])
      .map(Math.abs);
    const pruned = Array.from(initial[i])
      .filter((_, j) => !m[j])
      .map(Math.abs);
    assert.ok(Math.min(...kept) >= Math.max(...pruned), `layer ${i}: kept |w| >= pruned |w|`);
    // W <- W * M: the stored weights are the pruned ones.
    // (+ 0: a pruned negative weight is -0.)
    w.forEach((v, j) => assert.equal(v + 0, m[j] ? initial[i][j] : 0));
  }
  const { model: g, layers: gl } = mlp([20, 15, 10, 4], 3);
  const weights = await Promise.all(gl.map((l) => l.weight.data()));
  prune.pruneAtInit(g, { method: 'magnitude', density: 0.3, scope: 'global' });
  const all = weights.flatMap((w) => Array.from(w, Math.abs));
  const masks = await Promise.all(gl.map((l) => l.mask!.data()));
  const flat = masks.flatMap((m) => Array.from(m));
  assert.equal(count(flat), Math.round(0.3 * all.length));
  const minKept = Math.min(...all.filter((_, j) => flat[j]));
  const maxPruned = Math.max(...all.filter((_, j) => !flat[j]));
  assert.ok(minKept >= maxPruned, `kept |w| >= pruned |w| (${minKept} vs ${maxPruned})`);
  model.dispose();
  g.dispose();
});

test('random prunes uniformly per layer; ERK densities follow (sum of dims)/(product of dims)', async () => {
  const { model, layers } = mlp([30, 20, 10], 5);
  prune.pruneAtInit(model, { method: 'random', density: 0.25, seed: 4 });
  for (const l of layers) assert.equal(count(await l.mask!.data()), Math.round(0.25 * l.weight.size));
  const { model: other, layers: otherLayers } = mlp([30, 20, 10], 5);
  prune.pruneAtInit(other, { method: 'random', density: 0.25, seed: 5 });
  assert.notDeepEqual(await layers[0].mask!.data(), await otherLayers[0].mask!.data(), 'another seed, another mask');

  fc.assert(
    fc.property(
      fc.array(fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 2, maxLength: 4 }), { minLength: 1, maxLength: 6 }),
      fc.double({ min: 0.001, max: 1, noNaN: true }),
      (shapes, density) => {
        const d = prune.erkDensities(shapes, density);
        const sizes = shapes.map((s) => s.reduce((a, b) => a * b, 1));
        const total = sizes.reduce((a, b) => a + b, 0);
        const kept = d.reduce((a, di, i) => a + di * sizes[i], 0);
        assert.ok(Math.abs(kept - density * total) <= 1e-9 * total, `keeps ${kept} of ${total}, want ${density * total}`);
        assert.ok(d.every((di) => di >= 0 && di <= 1 + 1e-12));
        // Layers below 1 share one factor epsilon: d_i / raw_i is the same for all of them.
        const ratios = d.map((di, i) => di / (shapes[i].reduce((a, b) => a + b, 0) / sizes[i])).filter((_, i) => d[i] < 1);
        ratios.forEach((r) => assert.ok(Math.abs(r - ratios[0]) <= 1e-9 * Math.max(1, ratios[0])));
      },
    ),
    runs(200),
  );
  // RigL's example: a dense-ish small layer is capped at 1 and the rest rescaled.
  const capped = prune.erkDensities(
    [
      [3, 4],
      [100, 100],
    ],
    0.5,
  );
  assert.equal(capped[0], 1);
  assert.ok(Math.abs(capped[1] - (0.5 * 10012 - 12) / 10000) < 1e-12);
  model.dispose();
  other.dispose();
});

test('SNIP scores are |dL/dW * W| summed over the batches', async () => {
  const { model, layers } = mlp([5, 3], 9);
  const batches = [0, 1].map((b) => ({ inputs: tg.randn([4, 5], { seed: 20 + b }), labels: [0, 1, 2, b] }));
  const [score] = prune.snipScores(model, layers, batches);
  // The same gradient by hand: dL/dW = x^T (softmax(xW) - onehot) / B per batch.
  const w = await layers[0].weight.data();
  const grad = new Float64Array(15);
  for (const b of batches) {
    const x = await b.inputs.data();
    for (let n = 0; n < 4; n++) {
      const logits = [0, 1, 2].map((j) => [0, 1, 2, 3, 4].reduce((a, i) => a + x[n * 5 + i] * w[i * 3 + j], 0));
      const top = Math.max(...logits);
      const e = logits.map((v) => Math.exp(v - top));
      const z = e.reduce((a, v) => a + v, 0);
      for (let i = 0; i < 5; i++) for (let j = 0; j < 3; j++) grad[i * 3 + j] += (x[n * 5 + i] * (e[j] / z - (b.labels[n] === j ? 1 : 0))) / 4;
    }
  }
  assertClose(
    await score.data(),
    Array.from(grad, (g, i) => Math.abs(g * w[i])),
    'SNIP score',
    { rtol: 1e-4, atol: 1e-7 },
  );
  assert.equal(layers[0].weight.grad, null, 'gradients are cleared afterwards');
  model.dispose();
});

/**
 * A 40-layer net of 8x8 layers whose per-layer gain is `gain`: the plain product of |W| is far
 * outside float32 (gain 30: ~1e59; gain 0.03: ~1e-61). SynFlow must give finite scores whose
 * ranking is exactly the one float64 gives.
 */
for (const [label, scale] of [
  ['overflows', 10],
  ['underflows', 0.01],
] as const) {
  forEachDevice(`SynFlow on a 40-layer net whose plain product of |W| ${label} float32: finite scores, the float64 ranking`, async () => {
    const depth = 40;
    const { model, layers } = mlp(Array(depth + 1).fill(8), 11);
    tg.noGrad(() => layers.forEach((l) => l.weight.assign(tg.mul(l.weight, scale))));
    const weights = await Promise.all(layers.map(async (l) => Float64Array.from(await l.weight.data(), Math.abs)));

    // The plain computation in float32 breaks down ...
    const plain = tg.noGrad(() => tg.sum(layers.reduce((h, l) => tg.matmul(h, tg.abs(l.weight)), tg.ones([1, 8]))));
    const r = await plain.item();
    assert.ok(scale > 1 ? r === Infinity : r === 0, `plain float32 R = ${r}`);

    // ... SynFlow's rescaled one does not.
    const scores = prune.synflowScores(model, layers, [8]);
    const ours = await Promise.all(scores.map((s) => s.data()));
    assert.ok(
      ours.every((s) => s.every((v) => Number.isFinite(v) && v > 0)),
      'every score finite and positive',
    );

    // float64 reference: a_l = a_{l-1} |W_l|, g_{l-1} = |W_l| g_l, score = a_{l-1,i} |W_ij| g_l,j.
    const acts: Float64Array[] = [new Float64Array(8).fill(1)];
    for (const w of weights) acts.push(Float64Array.from({ length: 8 }, (_, j) => acts[acts.length - 1].reduce((a, v, i) => a + v * w[i * 8 + j], 0)));
    const grads: Float64Array[] = [new Float64Array(8).fill(1)];
    for (let l = depth - 1; l >= 0; l--) grads.unshift(Float64Array.from({ length: 8 }, (_, i) => grads[0].reduce((a, g, j) => a + weights[l][i * 8 + j] * g, 0)));
    const reference = weights.map((w, l) => Float64Array.from(w, (v, idx) => acts[l][Math.floor(idx / 8)] * v * grads[l + 1][idx % 8]));
    assert.ok(reference.every((s) => s.every((v) => Number.isFinite(v) && v > 0)));
    // Each layer's share of its score sum (the conservation law makes every layer sum to R).
    reference.forEach((ref, l) => {
      const [sumOurs, sumRef] = [ours[l].reduce((a, v) => a + v, 0), ref.reduce((a, v) => a + v, 0)];
      assertClose(
        Array.from(ours[l], (v) => v / sumOurs),
        Array.from(ref, (v) => v / sumRef),
        `layer ${l} score shares`,
        { rtol: 1e-3, atol: 1e-9 },
      );
    });
    const sums = ours.map((s) => s.reduce((a, v) => a + v, 0));
    sums.forEach((s) => assert.ok(Math.abs(s / sums[0] - 1) < 1e-3, `conservation: layer sums ${sums[0]} vs ${s}`));

    // The global mask of one round equals the float64 top-k.
    prune.pruneAtInit(model, { method: 'synflow', density: 0.25, rounds: 1, input: [8] });
    const flatRef = reference.flatMap((s) => Array.from(s));
    const k = Math.round(0.25 * flatRef.length);
    const order = flatRef.map((v, i) => [v, i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
    const want = new Float32Array(flatRef.length);
    order.slice(0, k).forEach(([, i]) => (want[i] = 1));
    const got = (await Promise.all(layers.map((l) => l.mask!.data()))).flatMap((m) => Array.from(m));
    assert.deepEqual(got, Array.from(want));
    model.dispose();
  });
}

acceleratorTest('SynFlow, SNIP and magnitude masks of a small conv net equal the cpu reference', async (device) => {
  const masksOn = async (device: tg.BackendName, method: tg.prune.InitPruneMethod): Promise<number[]> => {
    tg.setBackend(device);
    try {
      const model = nn.createModel('conv2', { mode: 'masked', input: [1, 12, 12], classes: 4, width: 0.125, seed: 3 });
      const batches = [{ inputs: tg.randn([6, 1, 12, 12], { seed: 8 }), labels: [0, 1, 2, 3, 0, 1] }];
      prune.pruneAtInit(model, { method, density: 0.2, rounds: method === 'synflow' ? 5 : 1, input: [1, 12, 12], batches });
      const masks = await Promise.all(nn.prunableLayers(model).map(([, l]) => l.mask!.data()));
      model.dispose();
      return masks.flatMap((m) => Array.from(m));
    } finally {
      tg.setBackend('cpu');
    }
  };
  for (const method of ['synflow', 'snip', 'magnitude'] as const) {
    const [got, cpu] = [await masksOn(device, method), await masksOn('cpu', method)];
    assert.equal(count(cpu), Math.round(0.2 * cpu.length));
    assert.deepEqual(got, cpu, `${method}: the same mask on ${device} and cpu`);
  }
});

test('layer collapse: SynFlow keeps every layer alive where global magnitude and per-layer random kill one, and both warn', async () => {
  const widths = [16, 64, 128, 128, 4, 10];
  const density = 0.005;
  const alive = async (method: tg.prune.InitPruneMethod): Promise<{ densities: tg.prune.LayerDensity[]; warnings: string[] }> => {
    const { model } = mlp(widths, 13);
    prune.pruneAtInit(model, { method, density, input: [16], seed: 2 });
    const result = { densities: await prune.layerDensities(model), warnings: await prune.collapseWarnings(model) };
    model.dispose();
    return result;
  };
  const synflow = await alive('synflow');
  assert.ok(
    synflow.densities.every((l) => l.kept > 0),
    `synflow keeps ${synflow.densities.map((l) => l.kept).join(', ')}`,
  );
  assert.deepEqual(synflow.warnings, []);
  const total = synflow.densities.reduce((a, l) => a + l.kept, 0);
  assert.equal(total, Math.round(density * synflow.densities.reduce((a, l) => a + l.size, 0)));
  for (const method of ['magnitude', 'random'] as const) {
    const { densities, warnings } = await alive(method);
    const dead = densities.filter((l) => l.kept === 0).map((l) => l.name);
    assert.ok(dead.length > 0, `${method} keeps ${densities.map((l) => l.kept).join(', ')}`);
    assert.deepEqual(
      warnings,
      dead.map((name) => `layer ${name} has density 0 (every weight pruned): layer collapse, the network's output no longer depends on its input`),
    );
  }
});

test('IMP: rounds from the density, 20% of the remaining per round, the output layer at half rate, rewinding', async () => {
  assert.deepEqual([1, 0.8, 0.5, 0.1, 0.036].map(prune.impRoundCount), [0, 1, 4, 11, 15]);
  const schedule = prune.impSchedule(0.1, 11);
  assert.equal(schedule.density[11], 0.1);
  assert.ok(Math.abs(schedule.density[1] - (1 - (1 - 0.1 ** (1 / 11)))) < 1e-12 && schedule.density[1] >= 0.8);
  assert.ok(Math.abs(1 - schedule.outputDensity[1] - (1 - schedule.density[1]) / 2) < 1e-12, 'the output layer loses half the fraction');

  const { model, layers } = mlp([12, 10, 6], 17);
  const init = await Promise.all(layers.map((l) => l.weight.data()));
  const snapshot = new prune.Snapshot(model);
  // "Training": the weights move.
  tg.noGrad(() => layers.forEach((l, i) => l.weight.assign(tg.add(l.weight, tg.randn([...l.weight.shape], { seed: 40 + i, std: 0.1 })))));
  const trained = await Promise.all(layers.map((l) => l.weight.data()));
  let previous: ArrayLike<number>[] = layers.map((l) => new Float32Array(l.weight.size).fill(1));
  for (const round of [1, 2]) {
    prune.impPrune(layers, { density: 0.8 ** round, outputDensity: 0.9 ** round, scope: 'layer' });
    const masks = await Promise.all(layers.map((l) => l.mask!.data()));
    assert.equal(count(masks[0]), Math.round(0.8 ** round * 120));
    assert.equal(count(masks[1]), Math.round(0.9 ** round * 60));
    masks.forEach((m, i) => m.forEach((v, j) => assert.ok(!v || previous[i][j], `round ${round}: a pruned weight came back`)));
    // Round 1 keeps the largest trained |W| of layer 0.
    if (round === 1) {
      const kept = Array.from(trained[0])
        .filter((_, j) => masks[0][j])
        .map(Math.abs);
      const pruned = Array.from(trained[0])
        .filter((_, j) => !masks[0][j])
        .map(Math.abs);
      assert.ok(Math.min(...kept) >= Math.max(...pruned));
    }
    previous = masks;
  }
  snapshot.restore();
  for (const [i, l] of layers.entries()) {
    const [w, m] = [await l.weight.data(), previous[i]];
    w.forEach((v, j) => assert.equal(v + 0, m[j] ? init[i][j] : 0, `layer ${i} weight ${j} rewound`));
  }
  snapshot.dispose();
  model.dispose();
});

test('Gem-Miner: scores clamped to [0, 1], frozen off on schedule to the exact density, straight-through gradient', async () => {
  assert.deepEqual(
    [...prune.gemMinerSchedule(0.1, 12)].map(([e, d]) => [e, +d.toFixed(6)]),
    [
      [5, +(0.1 ** (1 / 3)).toFixed(6)],
      [10, +(0.1 ** (2 / 3)).toFixed(6)],
      [12, 0.1],
    ],
  );
  assert.deepEqual([...prune.gemMinerSchedule(0.1, 2)], [[2, 0.1]]);

  const layers = [new nn.PrunableLinear(6, 5, { mode: 'gemminer', seed: 1 }), new nn.PrunableLinear(5, 3, { mode: 'gemminer', seed: 2 })];
  const model = new nn.Sequential(layers[0], new nn.ReLU(), layers[1]);
  const p0 = await layers[0].scores!.data();
  assert.ok(
    p0.every((v) => v > 0 && v < 1),
    'scores start in U[0, 1]',
  );
  // The forward's mask is p > 0.5, and the gradient to p is straight through: dL/dW_eff * W.
  const x = tg.randn([4, 6], { seed: 5 });
  const y = model.forward(x);
  const m0 = await layers[0].mask!.data();
  m0.forEach((v, j) => assert.equal(v, p0[j] > 0.5 ? 1 : 0));
  tg.sum(y).backward();
  // With the layer's own effective-weight gradient G, dL/dp = G * W, even where p < 0.5.
  const w = await layers[0].weight.data();
  const g = await layers[0].scores!.grad!.data();
  const effective = tg.mul(layers[0].weight, layers[0].mask!);
  effective.requiresGrad = true;
  const probe = tg.sum(new nn.Sequential(new nn.ReLU(), layers[1]).forward(tg.matmul(x, effective)));
  probe.backward();
  const gEff = await effective.grad!.data();
  assertClose(
    g,
    Array.from(gEff, (v, j) => v * w[j]),
    'dL/dp',
    { rtol: 1e-4, atol: 1e-7 },
  );
  layers.forEach((l) => l.scores!.zeroGrad());

  const search = new prune.GemMinerSearch(layers, { density: 0.3, epochs: 2 });
  tg.noGrad(() => layers.forEach((l, i) => l.scores!.assign(tg.mul(tg.randn([...l.scores!.shape], { seed: 60 + i }), 2))));
  search.afterStep();
  const clamped = await Promise.all(layers.map((l) => l.scores!.data()));
  assert.ok(
    clamped.every((s) => s.every((v) => v >= 0 && v <= 1)),
    'clamped to [0, 1]',
  );
  assert.equal(search.afterEpoch(1), null);
  assert.equal(search.afterEpoch(2), 0.3);
  const frozen = await Promise.all(layers.map((l) => l.scores!.data()));
  // Push every score up: the frozen-off ones must stay 0.
  tg.noGrad(() => layers.forEach((l) => l.scores!.assign(tg.add(l.scores!, 0.4))));
  search.afterStep();
  const after = await Promise.all(layers.map((l) => l.scores!.data()));
  after.forEach((s, i) => s.forEach((v, j) => assert.ok(frozen[i][j] !== 0 || v === 0, 'a frozen-off score stays 0')));
  search.finish();
  const total = layers.reduce((a, l) => a + l.weight.size, 0);
  const kept = (await Promise.all(layers.map((l) => l.mask!.data()))).reduce((a, m) => a + count(m), 0);
  assert.equal(kept, Math.round(0.3 * total));
  assert.ok(
    layers.every((l) => l.weight.requiresGrad && !l.scores!.requiresGrad),
    'then the weights train',
  );
  model.dispose();
});

test('Early-Bird: the Hamming detector, channel groups of each model, and channel pruning', async () => {
  assert.equal(prune.hammingDistance([1, 0, 1, 1], [1, 1, 1, 0]), 0.5);
  const detector = new prune.EarlyBirdDetector();
  const base = new Float32Array(20).fill(1).map((_, i) => (i < 10 ? 1 : 0));
  const flip = (n: number): Float32Array => base.map((v, i) => (i < n ? 1 - v : v));
  // Epoch 7's mask is within 2 of 20 bits (0.1, the threshold itself) of each of epochs 3-6.
  const results = [flip(8), flip(5), flip(2), flip(1), flip(0), flip(3), flip(2)].map((m) => detector.push(m));
  assert.deepEqual(
    results.map((r) => r.emerged),
    [false, false, false, false, false, false, true],
  );
  assert.deepEqual(
    results.map((r) => r.distance),
    [null, null, null, null, 0.4, 0.15, 0.1],
  );

  const input: [number, number, number] = [1, 8, 8];
  const groupsOf = (name: tg.nn.ModelName, mode: tg.nn.MaskMode = 'masked'): tg.prune.ChannelGroup[] =>
    prune.channelGroups(nn.createModel(name, { mode, input, classes: 3, width: 0.1, batchNorm: true, seed: 1 }));
  assert.deepEqual(
    groupsOf('lenet300').map((g) => [g.norm.channels, g.consumer !== null]),
    [
      [30, true],
      [10, true],
    ],
  );
  assert.deepEqual(
    groupsOf('conv2').map((g) => [g.norm.channels, g.consumer !== null]),
    [
      [6, true],
      [6, true],
    ],
  );
  assert.ok(groupsOf('resnet18').every((g) => g.consumer === null && (g.producer as tg.nn.PrunableConv2d).outChannels === g.norm.channels));
  assert.deepEqual(groupsOf('conv2', 'mpt'), [], 'score modes have non-affine BatchNorm: no gammas');

  const model = nn.createModel('conv2', { mode: 'masked', input, classes: 3, width: 0.1, batchNorm: true, seed: 1 });
  const groups = prune.channelGroups(model);
  tg.noGrad(() => groups.forEach((g, i) => g.norm.weight!.assign(tg.randn([g.norm.channels], { seed: 70 + i }))));
  const masks = prune.channelMasks(groups, 0.5);
  const bits = await Promise.all(masks.map((m) => m.data()));
  assert.equal(
    bits.reduce((a, b) => a + count(b), 0),
    6,
  );
  await prune.pruneChannels(groups, masks);
  const [conv1, conv2] = [groups[0].producer as tg.nn.PrunableConv2d, groups[1].producer as tg.nn.PrunableConv2d];
  const [m1, m2] = [await conv1.mask!.data(), await conv2.mask!.data()];
  for (let o = 0; o < 6; o++) for (let j = 0; j < 9; j++) assert.equal(m1[o * 9 + j], bits[0][o], 'conv1 output channels');
  for (let o = 0; o < 6; o++) for (let c = 0; c < 6; c++) for (let j = 0; j < 9; j++) assert.equal(m2[(o * 6 + c) * 9 + j], bits[1][o] * bits[0][c], 'conv2 rows and columns');
  // The flattened features of a pruned channel are not read by the first linear layer.
  const fc = groups[1].consumer as tg.nn.PrunableLinear;
  const m3 = await fc.mask!.data();
  const spatial = fc.inFeatures / 6;
  for (let i = 0; i < fc.inFeatures; i++) for (let j = 0; j < fc.outFeatures; j++) assert.equal(m3[i * fc.outFeatures + j], bits[1][Math.floor(i / spatial)]);
  // And the BatchNorm output of a pruned channel is exactly 0 (scale and shift zeroed).
  const gamma = await groups[0].norm.weight!.data();
  bits[0].forEach((b, c) => assert.ok(b || gamma[c] === 0));
  model.dispose();
});

forEachDevice('IHT recovers a planted sparse vector exactly (support equal, values within 1e-4)', async () => {
  const [m, n, k] = [80, 200, 8];
  const a = tg.mul(tg.randn([m, n], { seed: 31 }), 1 / Math.sqrt(m));
  const truth = new Float32Array(n);
  for (let i = 0; i < k; i++) truth[(i * 37 + 11) % n] = (i % 2 ? -1 : 1) * (0.5 + i / k);
  const y = tg.matmul(a, tg.tensor(truth, [n, 1])).reshape([m]);
  const result = await prune.iht(a, y, k);
  const x = await result.x.data();
  const support = (v: ArrayLike<number>): number[] => Array.from(v).flatMap((e, i) => (e !== 0 ? [i] : []));
  assert.deepEqual(support(x), support(truth), `support after ${result.iterations} iterations`);
  x.forEach((v, i) => assert.ok(Math.abs(v - truth[i]) <= 1e-4, `x[${i}] = ${v}, planted ${truth[i]}`));
  assert.ok(result.residual < 1e-4, `residual ${result.residual}`);
  // The spectral norm for a fixed step: ||diag(1, -3, 2)||^2 = 9.
  assertClose(
    [
      await prune.spectralNormSquared(
        tg.tensor([
          [1, 0, 0],
          [0, -3, 0],
          [0, 0, 2],
        ]),
      ),
    ],
    [9],
    'spectral norm squared',
    { rtol: 1e-4 },
  );
});

test('IHT demo: a planted 20-sparse signal in 1,000 dimensions from 300 random measurements', async (t) => {
  const [m, n, k] = [300, 1000, 20];
  const a = tg.mul(tg.randn([m, n], { seed: 5 }), 1 / Math.sqrt(m));
  const truth = new Float32Array(n);
  for (let i = 0; i < k; i++) truth[(i * 53 + 7) % n] = i % 3 ? 1 + i / 10 : -(1 + i / 10);
  const y = tg.matmul(a, tg.tensor(truth, [n, 1])).reshape([m]);
  const started = performance.now();
  const { x, iterations, residual } = await prune.iht(a, y, k);
  const v = await x.data();
  const error = Math.max(...Array.from(v, (e, i) => Math.abs(e - truth[i])));
  t.diagnostic(`IHT: ${iterations} iterations, max error ${error.toExponential(2)}, residual ${residual.toExponential(2)}, ${(performance.now() - started).toFixed(0)} ms`);
  assert.ok(error < 1e-4);
});
