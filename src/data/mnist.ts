// MNIST in Node: the `mnist` package's class files read from disk, then checked and split by
// the code browsers share (mnist-digits.ts, where the data and the split are described).

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Split } from './dataset.js';
import { MNIST_CLASSES, digitFileError, digitFileName, parseDigitFile, splitMnist } from './mnist-digits.js';

export { MNIST_MEAN, MNIST_STD } from './mnist-digits.js';

export interface MnistOptions {
  /** Seed of the pooled shuffle that decides the train/test split (default 1). */
  seed?: number;
  /** Directory with 0.json .. 9.json (default: the installed `mnist` package's src/digits). */
  dir?: string;
}

/** The `mnist` package's digits, shuffled and split 8,000 / 2,000, normalised, shape [1, 28, 28]. */
export function loadMnist({ seed = 1, dir = packageDigitsDir() }: MnistOptions = {}): Split {
  const perClass = Array.from({ length: MNIST_CLASSES }, (_, digit) => readDigitFile(join(dir, digitFileName(digit))));
  return splitMnist(perClass, seed);
}

/** The installed `mnist` package's directory of class files. */
export function packageDigitsDir(): string {
  const packageJson = createRequire(import.meta.url).resolve('mnist/package.json');
  return join(dirname(packageJson), 'src', 'digits');
}

function readDigitFile(path: string): Float32Array {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw digitFileError(path, `cannot read the file (${(error as Error).message})`);
  }
  return parseDigitFile(text, path);
}
