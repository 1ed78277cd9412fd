// Operations that change only how elements are arranged.

import { type Shape, checkShape, shapeStr, sizeOf, stridesOf } from '../shape.js';
import { Tensor } from '../tensor.js';

/** Same elements under a new shape; one dimension may be -1 (inferred). Shares storage. */
export function reshape(x: Tensor, shape: Shape): Tensor {
  const inferredAt = shape.indexOf(-1);
  if (shape.lastIndexOf(-1) !== inferredAt) throw new Error(`reshape: at most one dimension may be -1, got ${shapeStr(shape)}`);
  const target = [...shape];
  if (inferredAt >= 0) {
    const known = sizeOf(shape.filter((_, i) => i !== inferredAt));
    if (known === 0 || x.size % known !== 0) throw new Error(`reshape: cannot reshape ${shapeStr(x.shape)} into ${shapeStr(shape)}`);
    target[inferredAt] = x.size / known;
  }
  checkShape(target, 'reshape target');
  if (sizeOf(target) !== x.size) {
    throw new Error(`reshape: cannot reshape ${shapeStr(x.shape)} (${x.size} elements) into ${shapeStr(target)} (${sizeOf(target)} elements)`);
  }
  const from = x.shape;
  return x.view(target, (g) => [reshape(g, from)], 'reshape');
}

/** Permutes the axes (default: reverses them), materialising the result. */
export function transpose(x: Tensor, perm?: readonly number[]): Tensor {
  const p = perm ? [...perm] : [...x.shape.keys()].reverse();
  const valid = p.length === x.rank && [...p].sort((a, b) => a - b).every((v, i) => v === i);
  if (!valid) throw new Error(`transpose: ${JSON.stringify(perm)} is not a permutation of the axes of ${shapeStr(x.shape)}`);
  if (p.every((v, i) => v === i)) return reshape(x, x.shape);
  const inverse = new Array<number>(p.length);
  p.forEach((v, i) => (inverse[v] = i));
  const strides = stridesOf(x.shape);
  const storage = x.backend.copyStrided(
    x.storage,
    p.map((i) => x.shape[i]),
    p.map((i) => strides[i]),
  );
  return Tensor.fromOp(
    storage,
    p.map((i) => x.shape[i]),
    [x],
    'transpose',
    (g) => [transpose(g, inverse)],
  );
}

/** Merges the dimensions from `startDim` on into one (NCHW -> [N, C*H*W] by default). */
export function flatten(x: Tensor, startDim = 1): Tensor {
  if (startDim < 0 || startDim >= Math.max(x.rank, 1)) throw new Error(`flatten: startDim ${startDim} is out of range for shape ${shapeStr(x.shape)}`);
  return reshape(x, [...x.shape.slice(0, startDim), sizeOf(x.shape.slice(startDim))]);
}
