// A synthetic classification set for tests, demos and machines without real data: every class
// has a random template image (standard normal pixels) and an example is its class template plus
// independent Gaussian noise. Classes are balanced and shuffled; train and test share the
// templates but not the noise. With the default noise (std 1) the classes are far apart in
// pixel space (a linear model separates them almost perfectly); raise `noise` to make it harder.

import { normalArray, permutation, randomWord } from '../random.js';
import type { Dataset, Split } from './dataset.js';

export interface SyntheticOptions {
  classes?: number;
  train?: number;
  test?: number;
  shape?: [number, number, number];
  seed?: number;
  /** Std of the per-pixel noise added to the template (default 1, the templates' own std). */
  noise?: number;
}

/** Deterministic for a seed: the same options always give the same bytes. */
export function loadSynthetic({ classes = 10, train = 2000, test = 500, shape = [1, 28, 28], seed = 1, noise = 1 }: SyntheticOptions = {}): Split {
  if (!Number.isInteger(classes) || classes < 1 || classes > 256) throw new Error(`loadSynthetic: classes must be an integer in 1..256, got ${classes}`);
  if (!(noise >= 0)) throw new Error(`loadSynthetic: noise must be >= 0, got ${noise}`);
  const size = shape[0] * shape[1] * shape[2];
  // Independent streams: templates, then (labels, noise) for train and for test.
  const stream = (k: number): number => randomWord(seed, k);
  const templates = normalArray(classes * size, stream(0));
  const make = (name: string, count: number, labelSeed: number, noiseSeed: number): Dataset => {
    if (!Number.isInteger(count) || count < 0) throw new Error(`loadSynthetic: ${name} count must be a non-negative integer, got ${count}`);
    const order = permutation(count, labelSeed);
    const labels = new Uint8Array(count);
    for (let i = 0; i < count; i++) labels[order[i]] = i % classes;
    const images = normalArray(count * size, noiseSeed, 0, noise);
    for (let i = 0; i < count; i++) {
      const template = labels[i] * size;
      for (let p = 0; p < size; p++) images[i * size + p] += templates[template + p];
    }
    return { name, images, labels, count, shape: [...shape], classes };
  };
  return { train: make('synthetic-train', train, stream(1), stream(2)), test: make('synthetic-test', test, stream(3), stream(4)) };
}
