// Log-softmax and cross-entropy.

import type { Backend } from '../backend/backend.js';
import { keep } from '../engine.js';
import { normalizeAxes, shapeStr } from '../shape.js';
import { Tensor } from '../tensor.js';
import { add, binaryNoGrad, div, exp, log, max, maximum, mul, neg, sub, sum } from './elementwise.js';
import { reshape } from './shape.js';

const FLOAT32_MAX = 3.4028234663852886e38;

const constantCache = new WeakMap<Backend, Map<string, Tensor>>();

/** A tensor made once per backend and kept (the class indices of a loss, its bounds). */
function constant(backend: Backend, key: string, shape: number[], values: () => Float32Array): Tensor {
  let perBackend = constantCache.get(backend);
  if (!perBackend) {
    perBackend = new Map();
    constantCache.set(backend, perBackend);
  }
  let t = perBackend.get(key);
  if (!t || t.disposed) {
    t = new Tensor(backend.upload(values()), shape, backend);
    keep(t);
    perBackend.set(key, t);
  }
  return t;
}

/** -FLOAT32_MAX as a tensor: max(lowest, x) keeps a NaN x (a >= b ? a : b gives b), a number operand would not. */
const lowest = (backend: Backend): Tensor => constant(backend, 'lowest', [], () => Float32Array.of(-FLOAT32_MAX));

/** x clamped to the finite float32 range, NaN kept (no gradient flows through a clamped value). */
function clampFinite(x: Tensor): Tensor {
  const lo = lowest(x.backend);
  return neg(maximum(lo, neg(maximum(lo, x))));
}

/**
 * log(softmax(x)) along `axis`, computed stably (max subtracted first). Infinite inputs act as
 * the largest finite float32 values and results are at least -3.4028235e38: no inf - inf
 * (NaN) arises, and every backend gives the same answer (WGSL leaves the arithmetic of
 * infinities to the implementation). So logSoftmax([Inf, 0]) is [0, -3.4028235e38]. A NaN
 * input stays NaN (a diverged run's loss must say so).
 */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  normalizeAxes(axis, x.rank, 'logSoftmax');
  const finite = clampFinite(x);
  const shift = max(finite, axis, true).detach();
  // A row spanning more than FLOAT32_MAX overflows here to -Inf, which exp() takes to 0.
  const shifted = sub(finite, shift);
  return maximum(lowest(x.backend), sub(shifted, log(sum(exp(shifted), axis, true))));
}

/** The row [0, 1, ..., classes-1] on a backend, made once. */
const classIndices = (backend: Backend, classes: number): Tensor =>
  constant(backend, `classes ${classes}`, [1, classes], () => Float32Array.from({ length: classes }, (_, i) => i));

/**
 * Mean cross-entropy of `logits` [B, C] against class indices `labels` (a tensor [B] or a
 * plain array of integers). A plain array is checked here; a tensor is not read back, so a
 * label in it outside 0..C-1 (or NaN) makes the loss NaN instead. Logits of ±Inf act as
 * the largest finite values (see logSoftmax).
 */
export function crossEntropy(logits: Tensor, labels: Tensor | readonly number[]): Tensor {
  const oneHot = oneHotOf(logits, labelsFor('crossEntropy', logits, labels));
  // An invalid label has an all-zero one-hot row: dividing by the row's sum makes it 0/0.
  const perRow = div(sum(mul(logSoftmax(logits, 1), oneHot), 1), sum(oneHot, 1));
  return mul(sum(perRow), -1 / logits.shape[0]);
}

/** `labels` as a tensor [B] for `logits` [B, C]: counts checked, and a plain array's values. */
function labelsFor(op: string, logits: Tensor, labels: Tensor | readonly number[]): Tensor {
  if (logits.rank !== 2) throw new Error(`${op}: logits must be [batch, classes], got ${shapeStr(logits.shape)}`);
  const [batch, classes] = logits.shape;
  if (labels instanceof Tensor) {
    if (labels.size !== batch) throw new Error(`${op}: ${labels.size} labels for logits ${shapeStr(logits.shape)}`);
    if (labels.backend !== logits.backend) throw new Error(`${op}: labels live on ${labels.backend.name}, logits on ${logits.backend.name}`);
    return labels;
  }
  if (labels.length !== batch) throw new Error(`${op}: ${labels.length} labels for logits ${shapeStr(logits.shape)}`);
  const bad = labels.findIndex((l) => !Number.isInteger(l) || l < 0 || l >= classes);
  if (bad >= 0) throw new Error(`${op}: label ${labels[bad]} at index ${bad} is not a class index in 0..${classes - 1}`);
  return new Tensor(logits.backend.upload(Float32Array.from(labels)), [batch], logits.backend);
}

function oneHotOf(logits: Tensor, labels: Tensor): Tensor {
  return binaryNoGrad(reshape(labels, [logits.shape[0], 1]), classIndices(logits.backend, logits.shape[1]), 'eq');
}

/**
 * How many rows of `logits` [B, C] predict their label (a scalar tensor, no readback). The
 * prediction is the first maximum, as argmax: with ties counted for every tied class, a
 * collapsed network (all logits equal) would score 100%.
 */
export function correctCount(logits: Tensor, labels: Tensor | readonly number[]): Tensor {
  const labelTensor = labelsFor('correctCount', logits, labels);
  const classes = logits.shape[1];
  const isMax = binaryNoGrad(logits, max(logits, 1, true), 'eq');
  // Index where a maximum, `classes` elsewhere; the row minimum is the first maximum.
  const candidates = add(mul(isMax, sub(classIndices(logits.backend, classes), classes)), classes);
  const predicted = neg(max(neg(candidates), 1));
  return sum(binaryNoGrad(predicted, reshape(labelTensor, [logits.shape[0]]), 'eq'));
}
