// CIFAR-10 from the standard "binary version" files (cifar-10-binary.tar.gz, extracted):
// data_batch_1.bin .. data_batch_5.bin (train) and test_batch.bin (test). Each record is 3073
// bytes: 1 label byte (0..9), then 3072 pixel bytes, the 32x32 red plane row-major, then green,
// then blue, which is already CHW order. The real files hold 10,000 records each; any positive
// number is accepted so that tests can write small files.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomWord } from '../random.js';
import type { Dataset, Split } from './dataset.js';

/** Per-channel mean and std of the training set (pixels in [0, 1]), as in the reference code. */
export const CIFAR10_MEAN = [0.491, 0.482, 0.447];
export const CIFAR10_STD = [0.247, 0.243, 0.262];
export const CIFAR10_TRAIN_FILES = ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin'];
export const CIFAR10_TEST_FILE = 'test_batch.bin';

const SIDE = 32;
const PLANE = SIDE * SIDE;
const PIXELS = 3 * PLANE;
const RECORD = 1 + PIXELS;
const CLASSES = 10;
const CROP_PADDING = 4;

/** The six binary-version files in `dir`, pixels scaled to [0, 1] and normalised; shape [3, 32, 32]. */
export function loadCifar10(dir: string): Split {
  const expected = [...CIFAR10_TRAIN_FILES, CIFAR10_TEST_FILE];
  const read = (file: string): Uint8Array => {
    const path = join(dir, file);
    try {
      return readFileSync(path);
    } catch (error) {
      throw new Error(`cifar10: cannot read ${path} (${(error as Error).message}); expected the CIFAR-10 binary version files ${expected.join(', ')} in ${dir}`);
    }
  };
  const trainFiles = CIFAR10_TRAIN_FILES.map((file) => ({ path: join(dir, file), bytes: read(file) }));
  const testFile = { path: join(dir, CIFAR10_TEST_FILE), bytes: read(CIFAR10_TEST_FILE) };
  return { train: decodeRecords('cifar10-train', trainFiles), test: decodeRecords('cifar10-test', [testFile]) };
}

function decodeRecords(name: string, files: { path: string; bytes: Uint8Array }[]): Dataset {
  for (const { path, bytes } of files) {
    if (bytes.length === 0 || bytes.length % RECORD !== 0) {
      throw new Error(`cifar10: ${path}: size ${bytes.length} bytes is not a positive multiple of ${RECORD} (1 label byte + ${PIXELS} pixel bytes per record)`);
    }
  }
  // byte -> normalised value, one table per channel.
  const tables = CIFAR10_MEAN.map((mean, c) => Float32Array.from({ length: 256 }, (_, byte) => (byte / 255 - mean) / CIFAR10_STD[c]));
  const count = files.reduce((sum, { bytes }) => sum + bytes.length / RECORD, 0);
  const images = new Float32Array(count * PIXELS);
  const labels = new Uint8Array(count);
  let example = 0;
  for (const { path, bytes } of files) {
    for (let record = 0; record < bytes.length / RECORD; record++, example++) {
      const start = record * RECORD;
      const label = bytes[start];
      if (label >= CLASSES) throw new Error(`cifar10: ${path}: record ${record} has label ${label}, expected 0..${CLASSES - 1}`);
      labels[example] = label;
      for (let c = 0; c < 3; c++) {
        const table = tables[c];
        const from = start + 1 + c * PLANE;
        const to = example * PIXELS + c * PLANE;
        for (let p = 0; p < PLANE; p++) images[to + p] = table[bytes[from + p]];
      }
    }
  }
  return { name, images, labels, count, shape: [3, SIDE, SIDE], classes: CLASSES };
}

/**
 * The standard CIFAR training augmentation on a batch of normalised [3, 32, 32] images: a random
 * 32x32 crop of the image zero-padded by 4 on each side, then a horizontal flip with probability
 * 1/2. The padding is black as in torchvision (which pads before normalising), i.e. -mean/std in
 * normalised units. Returns a new array; the same (images, seed) always gives the same result,
 * so pass a seed that changes every step (e.g. derived from run seed, epoch and batch index).
 */
export function augmentCifar(images: Float32Array, batch: number, seed: number): Float32Array {
  if (images.length !== batch * PIXELS) throw new Error(`augmentCifar: expected ${batch} x 3 x 32 x 32 = ${batch * PIXELS} values, got ${images.length}`);
  const black = CIFAR10_MEAN.map((mean, c) => -mean / CIFAR10_STD[c]);
  const positions = 2 * CROP_PADDING + 1;
  const out = new Float32Array(images.length);
  for (let b = 0; b < batch; b++) {
    // Shift of the crop window relative to the unpadded image, in -4..4.
    const dx = (randomWord(seed, 3 * b) % positions) - CROP_PADDING;
    const dy = (randomWord(seed, 3 * b + 1) % positions) - CROP_PADDING;
    const flip = (randomWord(seed, 3 * b + 2) & 1) === 1;
    for (let c = 0; c < 3; c++) {
      const plane = b * PIXELS + c * PLANE;
      for (let y = 0; y < SIDE; y++) {
        const sy = y + dy;
        for (let x = 0; x < SIDE; x++) {
          const sx = (flip ? SIDE - 1 - x : x) + dx;
          const inside = sy >= 0 && sy < SIDE && sx >= 0 && sx < SIDE;
          out[plane + y * SIDE + x] = inside ? images[plane + sy * SIDE + sx] : black[c];
        }
      }
    }
  }
  return out;
}
