// Reductions over axes: sum, mean, max.

import type { ReduceOp } from '../backend/backend.js';
import { normalizeAxes, sizeOf } from '../shape.js';
import { Tensor } from '../tensor.js';
import { binaryNoGrad, div, expand, mul } from './elementwise.js';
import { reshape } from './shape.js';

function reduce(x: Tensor, op: ReduceOp, axesArg: number | readonly number[] | undefined, keepDims: boolean, backward: (g: Tensor, out: Tensor) => Tensor): Tensor {
  const axes = normalizeAxes(axesArg, x.rank, op);
  if (axes.some((a) => x.shape[a] === 0)) throw new Error(`${op}: cannot reduce over an empty axis of shape [${x.shape.join(', ')}]`);
  const kept = x.shape.filter((_, i) => !axes.includes(i));
  const keptDimsShape = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const storage = x.backend.reduce(op, x.storage, x.shape, axes);
  const out: Tensor = Tensor.fromOp(storage, keepDims ? keptDimsShape : kept, [x], op, (g) => [backward(reshape(g, keptDimsShape), out)]);
  return out;
}

/** Sum over `axes` (all by default). */
export function sum(x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor {
  return reduce(x, 'sum', axes, keepDims, (g) => expand(g, x.shape));
}

/** Mean over `axes` (all by default). */
export function mean(x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor {
  const count = sizeOf(normalizeAxes(axes, x.rank, 'mean').map((a) => x.shape[a]));
  return mul(sum(x, axes, keepDims), 1 / count);
}

/** Maximum over `axes` (all by default); the gradient is shared equally among ties. */
export function max(x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor {
  return reduce(x, 'max', axes, keepDims, (g, out) => {
    const axesList = normalizeAxes(axes, x.rank, 'max');
    const winners = binaryNoGrad(x, reshape(out, g.shape), 'eq');
    const ties = sum(winners, axesList, true);
    return mul(expand(div(g, ties), x.shape), winners);
  });
}
