// The synthetic classification set: shapes, determinism, balance, learnability.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadSynthetic } from '../src/data/synthetic.js';

test('loadSynthetic: sizes, shape, balanced labels; the defaults are 2000 / 500 of [1, 28, 28]', () => {
  const { train, test: held } = loadSynthetic();
  assert.equal(train.count, 2000);
  assert.equal(held.count, 500);
  assert.deepEqual(train.shape, [1, 28, 28]);
  assert.equal(train.images.length, 2000 * 784);
  const small = loadSynthetic({ classes: 3, train: 30, test: 7, shape: [3, 4, 5] });
  assert.equal(small.train.images.length, 30 * 60);
  assert.equal(small.train.classes, 3);
  assert.deepEqual(
    [0, 1, 2].map((c) => small.train.labels.filter((l) => l === c).length),
    [10, 10, 10],
  );
  assert.ok(small.test.labels.every((l) => l < 3));
  assert.ok(small.train.images.every(Number.isFinite));
});

test('loadSynthetic: deterministic for a seed, different for another', () => {
  const a = loadSynthetic({ train: 50, test: 10, seed: 3 });
  const b = loadSynthetic({ train: 50, test: 10, seed: 3 });
  const c = loadSynthetic({ train: 50, test: 10, seed: 4 });
  assert.deepEqual(b.train.images, a.train.images);
  assert.deepEqual(b.test.labels, a.test.labels);
  assert.notDeepEqual(c.train.images, a.train.images);
});

test('loadSynthetic: learnable: nearest class mean of the train set classifies the test set', () => {
  for (const noise of [1, 3]) {
    const { train, test: held } = loadSynthetic({ noise });
    const size = 784;
    const means = new Float64Array(10 * size);
    const counts = new Array<number>(10).fill(0);
    for (let i = 0; i < train.count; i++) {
      counts[train.labels[i]]++;
      for (let p = 0; p < size; p++) means[train.labels[i] * size + p] += train.images[i * size + p];
    }
    for (let c = 0; c < 10; c++) for (let p = 0; p < size; p++) means[c * size + p] /= counts[c];
    let correct = 0;
    for (let i = 0; i < held.count; i++) {
      let best = -1;
      let bestDistance = Infinity;
      for (let c = 0; c < 10; c++) {
        let distance = 0;
        for (let p = 0; p < size; p++) distance += (held.images[i * size + p] - means[c * size + p]) ** 2;
        if (distance < bestDistance) [best, bestDistance] = [c, distance];
      }
      if (best === held.labels[i]) correct++;
    }
    assert.ok(correct / held.count > 0.9, `noise ${noise}: accuracy ${correct / held.count}`);
  }
});
