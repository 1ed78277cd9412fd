// CIFAR-10 from the standard "binary version" files (cifar-10-binary.tar.gz, extracted):
// data_batch_1.bin .. data_batch_5.bin (train) and test_batch.bin (test). Each record is 3073
// bytes: 1 label byte (0..9), then 3072 pixel bytes, the 32x32 red plane row-major, then green,
// then blue, which is already CHW order. The real files hold 10,000 records each; any positive
// number is accepted so that tests can write small files.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CIFAR10_MEAN, CIFAR10_STD, PIXELS, PLANE, SIDE } from './cifar10-images.js';
import type { Dataset, Split } from './dataset.js';

export { CIFAR10_MEAN, CIFAR10_STD } from './cifar10-images.js';
export const CIFAR10_TRAIN_FILES = ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin'];
export const CIFAR10_TEST_FILE = 'test_batch.bin';

const RECORD = 1 + PIXELS;
const CLASSES = 10;

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
