// In-memory image classification datasets and the helpers every loader and training loop
// shares: taking a subset, seeded shuffled mini-batches, per-channel normalisation.
// Browser-safe: no Node imports here (the loaders that read files live in their own modules).

import { permutation, randomWord } from '../random.js';

/** Images stored example-major, each example C*H*W floats in CHW order. */
/** The data sets ticketgrad trains on. */
export const DATA_NAMES = ['mnist', 'cifar10', 'synthetic'] as const;
export type DataName = (typeof DATA_NAMES)[number];

export interface Dataset {
  name: string;
  images: Float32Array;
  labels: Uint8Array;
  count: number;
  /** [channels, height, width] of one example. */
  shape: [number, number, number];
  classes: number;
}

export interface Split {
  train: Dataset;
  /** Held out of the training set (holdOut): what hyperparameters are chosen on, never the test set. */
  val?: Dataset;
  test: Dataset;
}

export interface Batch {
  /** size*C*H*W floats, example-major. */
  images: Float32Array;
  labels: number[];
  size: number;
}

export interface BatchOptions {
  /** Visit the examples in a seeded random order (default false: in storage order). */
  shuffle?: boolean;
  seed?: number;
  /** Each epoch of the same seed gets its own order. */
  epoch?: number;
}

/** Floats per example (C*H*W). */
export function exampleSize(ds: Dataset): number {
  return ds.shape[0] * ds.shape[1] * ds.shape[2];
}

/** The first n examples (all of them if n >= count). The arrays are views of the original. */
export function subset(ds: Dataset, n: number): Dataset {
  if (!Number.isInteger(n) || n < 0) throw new Error(`subset: n must be a non-negative integer, got ${n}`);
  const count = Math.min(n, ds.count);
  return {
    ...ds,
    images: ds.images.subarray(0, count * exampleSize(ds)),
    labels: ds.labels.subarray(0, count),
    count,
  };
}

/**
 * `split` with the last `valSize` training examples held out as `val`, and the training set
 * cut to its first `trainSize` of the rest (all of them by default). The validation examples
 * do not depend on `trainSize`, and never meet the training ones. `data` names the set in errors.
 */
export function holdOut(split: Split, valSize = 0, trainSize?: number, data = split.train.name): Split {
  const { train } = split;
  if (!Number.isInteger(valSize) || valSize < 0 || valSize >= train.count) {
    throw new Error(`--val-size ${valSize}: expected an integer in [0, ${train.count - 1}] (the ${data} training set has ${train.count} examples)`);
  }
  const left = train.count - valSize;
  if (trainSize !== undefined && trainSize > left) {
    throw new Error(`--train-size ${trainSize}: the ${data} training set has ${train.count} examples${valSize ? `, ${left} after --val-size ${valSize}` : ''}`);
  }
  const kept = subset(train, trainSize ?? left);
  if (valSize === 0) return { train: kept, test: split.test };
  const per = exampleSize(train);
  const val = { ...train, name: `${train.name} (validation)`, images: train.images.subarray(left * per), labels: train.labels.subarray(left), count: valSize };
  return { train: kept, val, test: split.test };
}

/** A new dataset holding the given examples, in the given order (copies). */
export function select(ds: Dataset, indices: ArrayLike<number>, name = ds.name): Dataset {
  const size = exampleSize(ds);
  const images = new Float32Array(indices.length * size);
  const labels = new Uint8Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const index = indices[i];
    if (!Number.isInteger(index) || index < 0 || index >= ds.count) {
      throw new Error(`select: index ${index} is out of range for ${ds.name} (${ds.count} examples)`);
    }
    images.set(ds.images.subarray(index * size, (index + 1) * size), i * size);
    labels[i] = ds.labels[index];
  }
  return { ...ds, name, images, labels, count: indices.length };
}

/**
 * Mini-batches covering every example exactly once; the last batch is partial when batchSize
 * does not divide count. With shuffle, the order is a permutation that depends only on
 * (seed, epoch), so a run can be replayed exactly.
 */
export function* batches(ds: Dataset, batchSize: number, options: BatchOptions = {}): Generator<Batch> {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batches: batchSize must be a positive integer, got ${batchSize}`);
  const { shuffle = false, seed = 0, epoch = 0 } = options;
  const order = shuffle ? permutation(ds.count, randomWord(seed, epoch)) : null;
  const size = exampleSize(ds);
  for (let start = 0; start < ds.count; start += batchSize) {
    const n = Math.min(batchSize, ds.count - start);
    const images = new Float32Array(n * size);
    const labels = new Array<number>(n);
    for (let i = 0; i < n; i++) {
      const index = order ? order[start + i] : start + i;
      images.set(ds.images.subarray(index * size, (index + 1) * size), i * size);
      labels[i] = ds.labels[index];
    }
    yield { images, labels, size: n };
  }
}

/** A copy with x -> (x - mean[c]) / std[c] for each channel c. */
export function normalize(ds: Dataset, mean: number[], std: number[]): Dataset {
  const [channels, height, width] = ds.shape;
  if (mean.length !== channels || std.length !== channels) {
    throw new Error(`normalize: ${ds.name} has ${channels} channels but got ${mean.length} means and ${std.length} stds`);
  }
  if (std.some((s) => !(s > 0) || !Number.isFinite(s))) throw new Error(`normalize: every std must be positive and finite, got [${std.join(', ')}]`);
  const plane = height * width;
  const images = new Float32Array(ds.images.length);
  for (let offset = 0; offset < images.length; offset += plane) {
    const c = (offset / plane) % channels;
    const m = mean[c];
    const inverse = 1 / std[c];
    for (let p = offset; p < offset + plane; p++) images[p] = (ds.images[p] - m) * inverse;
  }
  return { ...ds, images };
}
