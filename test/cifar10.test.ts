// CIFAR-10 binary files (written small here) and the crop + flip augmentation of its training batches.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CIFAR10_MEAN, CIFAR10_STD, CIFAR10_TEST_FILE, CIFAR10_TRAIN_FILES, loadCifar10 } from '../src/data/cifar10.js';
import { augmentCifar } from '../src/data/cifar10-images.js';
import { resolveOptions } from '../src/train/options.js';
import { type TrainOptions, train } from '../src/train/train.js';

const RECORD = 3073;

/** A record whose label is `label` and whose pixel i of channel c is (seed + 7c + i) mod 256. */
function record(label: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(RECORD);
  bytes[0] = label;
  for (let c = 0; c < 3; c++) for (let i = 0; i < 1024; i++) bytes[1 + c * 1024 + i] = (seed + 7 * c + i) % 256;
  return bytes;
}

function fileOf(records: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(records.length * RECORD);
  records.forEach((r, k) => out.set(r, k * RECORD));
  return out;
}

function writeDataset(dir: string, perFile = 3): void {
  [...CIFAR10_TRAIN_FILES, CIFAR10_TEST_FILE].forEach((file, f) => {
    writeFileSync(join(dir, file), fileOf(Array.from({ length: perFile }, (_, k) => record((f * perFile + k) % 10, f * 31 + k))));
  });
}

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'ticketgrad-cifar-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('loadCifar10: decodes labels and R, G, B planes in file order, scaled and normalised', (t) => {
  const dir = tempDir(t);
  writeDataset(dir);
  const { train, test: held } = loadCifar10(dir);
  assert.equal(train.count, 15);
  assert.equal(held.count, 3);
  assert.deepEqual(train.shape, [3, 32, 32]);
  assert.equal(train.classes, 10);
  assert.deepEqual([...train.labels], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4]);
  assert.deepEqual([...held.labels], [5, 6, 7]);
  // Train example 4 = file 2 (data_batch_2), record 1: seed 31 + 1.
  const expected = (seed: number, c: number, i: number): number => (((seed + 7 * c + i) % 256) / 255 - CIFAR10_MEAN[c]) / CIFAR10_STD[c];
  for (const [c, i] of [
    [0, 0],
    [1, 5],
    [2, 1023],
    [0, 600],
  ]) {
    assert.ok(Math.abs(train.images[4 * 3072 + c * 1024 + i] - expected(32, c, i)) < 1e-5);
    assert.ok(Math.abs(held.images[2 * 3072 + c * 1024 + i] - expected(5 * 31 + 2, c, i)) < 1e-5);
  }
});

test('loadCifar10: a missing file, a bad size or a bad label is an error naming the file', (t) => {
  const dir = tempDir(t);
  writeDataset(dir);
  rmSync(join(dir, 'data_batch_3.bin'));
  assert.throws(
    () => loadCifar10(dir),
    (error: Error) => {
      assert.match(error.message, /data_batch_3\.bin/);
      assert.match(error.message, /data_batch_1\.bin, data_batch_2\.bin, .*test_batch\.bin/);
      return true;
    },
  );
  writeDataset(dir);
  writeFileSync(join(dir, 'test_batch.bin'), new Uint8Array(RECORD * 2 + 5));
  assert.throws(() => loadCifar10(dir), /test_batch\.bin: size 6151 bytes is not a positive multiple of 3073/);
  writeFileSync(join(dir, 'test_batch.bin'), new Uint8Array(0));
  assert.throws(() => loadCifar10(dir), /test_batch\.bin: size 0 bytes/);
  writeDataset(dir);
  writeFileSync(join(dir, 'data_batch_5.bin'), fileOf([record(1, 0), record(10, 0)]));
  assert.throws(() => loadCifar10(dir), /data_batch_5\.bin: record 1 has label 10, expected 0\.\.9/);
});

/** The (dx, dy, flip) whose crop of `source` gives `result`, or null. */
function findTransform(source: Float32Array, result: Float32Array): [number, number, boolean] | null {
  const black = CIFAR10_MEAN.map((m, c) => -m / CIFAR10_STD[c]);
  for (let dy = -4; dy <= 4; dy++) {
    for (let dx = -4; dx <= 4; dx++) {
      for (const flip of [false, true]) {
        let same = true;
        for (let c = 0; c < 3 && same; c++) {
          for (let y = 0; y < 32 && same; y++) {
            for (let x = 0; x < 32 && same; x++) {
              const sy = y + dy;
              const sx = (flip ? 31 - x : x) + dx;
              const want = sy >= 0 && sy < 32 && sx >= 0 && sx < 32 ? source[c * 1024 + sy * 32 + sx] : black[c];
              same = Math.abs(result[c * 1024 + y * 32 + x] - want) < 1e-6;
            }
          }
        }
        if (same) return [dx, dy, flip];
      }
    }
  }
  return null;
}

test('augmentCifar: each image is a padded 32x32 crop, maybe flipped; deterministic for a seed', () => {
  const batch = 40;
  // Distinct pixel values so that the transform is identifiable.
  const images = Float32Array.from({ length: batch * 3072 }, (_, i) => Math.sin(i * 0.37) * 2);
  const out = augmentCifar(images, batch, 123);
  assert.deepEqual(augmentCifar(images, batch, 123), out, 'same seed, same result');
  assert.notDeepEqual(augmentCifar(images, batch, 124), out, 'another seed');
  const seen = { flips: 0, shifts: new Set<string>() };
  for (let b = 0; b < batch; b++) {
    const found = findTransform(images.subarray(b * 3072, (b + 1) * 3072), out.subarray(b * 3072, (b + 1) * 3072));
    assert.ok(found, `image ${b} is not a crop/flip of its input`);
    if (found[2]) seen.flips++;
    seen.shifts.add(`${found[0]},${found[1]}`);
  }
  assert.ok(seen.flips > 5 && seen.flips < 35, `${seen.flips} of ${batch} flipped`);
  assert.ok(seen.shifts.size > 15, `${seen.shifts.size} distinct shifts`);
  assert.throws(() => augmentCifar(images, batch + 1, 1), /expected 41 x 3 x 32 x 32/);
});

test('training on cifar10 augments its batches by default (crop-flip), deterministically, and resumes on the same images; other data sets refuse it', {
  timeout: 300_000,
}, async (t) => {
  const dir = tempDir(t);
  writeDataset(dir, 16);
  assert.equal(resolveOptions({ data: 'cifar10', dataDir: dir }).augment, 'crop-flip');
  assert.equal(resolveOptions({}).augment, 'none');
  assert.throws(() => resolveOptions({ augment: 'crop-flip' }), /--augment crop-flip applies to --data cifar10, not to mnist$/);
  const options = (augment: 'crop-flip' | 'none', out: string): TrainOptions => ({
    ...resolveOptions({ data: 'cifar10', dataDir: dir, augment, width: 0.25, epochs: 2, batch: 16, backend: 'cpu' }),
    verbose: false,
    out: join(dir, out),
  });
  const losses = async (o: TrainOptions, control = {}): Promise<number[]> => (await train(o, {}, control)).metrics.map((m) => m.trainLoss);
  const augmented = await losses(options('crop-flip', 'a'));
  assert.deepEqual(await losses(options('crop-flip', 'b')), augmented, 'the same seed draws the same crops and flips');
  assert.notDeepEqual(await losses(options('none', 'c')), augmented, 'the model saw other images without augmentation');
  const stop = new AbortController();
  await train(options('crop-flip', 'd'), { onStep: (s) => s.epoch === 2 && s.step === 2 && stop.abort() }, { signal: stop.signal });
  assert.deepEqual(await losses(options('crop-flip', 'd'), { resume: true }), augmented, 'resumed from epoch 1, it ends as the uninterrupted run');
});
