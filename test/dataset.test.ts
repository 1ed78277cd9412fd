// Dataset helpers: subset, seeded shuffled batches, per-channel normalisation.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { batches, exampleSize, normalize, select, subset, type Dataset } from '../src/data/dataset.js';

/** count examples of shape [2, 1, 2]; every value of example i is i + channel/10 + pixel/100. */
function tiny(count: number): Dataset {
  const images = new Float32Array(count * 4);
  for (let i = 0; i < count; i++) for (let c = 0; c < 2; c++) for (let p = 0; p < 2; p++) images[i * 4 + c * 2 + p] = i + c / 10 + p / 100;
  const labels = Uint8Array.from({ length: count }, (_, i) => i % 3);
  return { name: 'tiny', images, labels, count, shape: [2, 1, 2], classes: 3 };
}

const exampleOf = (images: Float32Array, k: number): number => Math.round(images[k * 4]);

test('subset takes the first n examples and clamps n to the count', () => {
  const ds = tiny(10);
  const first = subset(ds, 4);
  assert.equal(first.count, 4);
  assert.equal(first.images.length, 4 * exampleSize(ds));
  assert.deepEqual([...first.labels], [0, 1, 2, 0]);
  assert.equal(first.images[3 * 4 + 3], Math.fround(3.11));
  assert.equal(subset(ds, 50).count, 10);
  assert.equal(subset(ds, 0).count, 0);
  assert.throws(() => subset(ds, -1), /non-negative integer/);
});

test('select copies the given examples in order and rejects bad indices', () => {
  const ds = tiny(5);
  const picked = select(ds, [4, 0, 4]);
  assert.equal(picked.count, 3);
  assert.deepEqual(
    [0, 1, 2].map((k) => exampleOf(picked.images, k)),
    [4, 0, 4],
  );
  assert.deepEqual([...picked.labels], [1, 0, 1]);
  assert.throws(() => select(ds, [5]), /index 5 is out of range/);
});

test('batches without shuffle: storage order, last partial batch included', () => {
  const ds = tiny(10);
  const all = [...batches(ds, 4)];
  assert.deepEqual(
    all.map((b) => b.size),
    [4, 4, 2],
  );
  assert.equal(all[2].images.length, 2 * 4);
  assert.deepEqual(
    all.flatMap((b) => b.labels),
    [...ds.labels],
  );
  assert.deepEqual(
    all.flatMap((b) => [...Array(b.size).keys()].map((k) => exampleOf(b.images, k))),
    [...Array(10).keys()],
  );
  assert.throws(() => [...batches(ds, 0)], /positive integer/);
});

test('batches with shuffle: a permutation fixed by (seed, epoch), different across epochs and seeds', () => {
  const ds = tiny(103);
  const order = (seed: number, epoch: number): number[] =>
    [...batches(ds, 16, { shuffle: true, seed, epoch })].flatMap((b) => [...Array(b.size).keys()].map((k) => exampleOf(b.images, k)));
  const a = order(7, 0);
  assert.deepEqual(
    [...a].sort((x, y) => x - y),
    [...Array(103).keys()],
    'every example exactly once',
  );
  assert.deepEqual(order(7, 0), a, 'same seed and epoch, same order');
  assert.notDeepEqual(order(7, 1), a, 'another epoch');
  assert.notDeepEqual(order(8, 0), a, 'another seed');
  assert.notDeepEqual(a, [...Array(103).keys()], 'actually shuffled');
  // Labels travel with their images.
  for (const b of batches(ds, 16, { shuffle: true, seed: 7 })) {
    b.labels.forEach((label, k) => assert.equal(label, exampleOf(b.images, k) % 3));
  }
});

test('normalize applies each channel its own mean and std, and checks its arguments', () => {
  const ds = tiny(3);
  const out = normalize(ds, [1, 2], [2, 4]);
  for (let i = 0; i < 3; i++) {
    for (let p = 0; p < 2; p++) {
      assert.ok(Math.abs(out.images[i * 4 + p] - (ds.images[i * 4 + p] - 1) / 2) < 1e-6);
      assert.ok(Math.abs(out.images[i * 4 + 2 + p] - (ds.images[i * 4 + 2 + p] - 2) / 4) < 1e-6);
    }
  }
  assert.notEqual(out.images, ds.images, 'a copy');
  assert.throws(() => normalize(ds, [0], [1]), /2 channels/);
  assert.throws(() => normalize(ds, [0, 0], [1, 0]), /positive/);
});
