// Elementwise operations with NumPy broadcasting, reductions over axes, and their gradients.
// One module: the gradient of a broadcast is a sum, and the gradient of a sum is a broadcast.

import type { BinaryOp, ReduceOp, UnaryOp } from '../backend/backend.js';
import { type Shape, broadcastShapes, broadcastStrides, normalizeAxes, sameShape, shapeStr, sizeOf } from '../shape.js';
import { Tensor } from '../tensor.js';
import { reshape } from './shape.js';

/** A clear error for a non-tensor operand (a plain array, null, ...) instead of a TypeError inside. */
function checkOperand(x: unknown, op: string): void {
  if (!(x instanceof Tensor))
    throw new Error(`${op}: expected a Tensor (or a number as the second operand), got ${Array.isArray(x) ? 'an array' : x === null ? 'null' : typeof x}`);
}

export function unaryOp(x: Tensor, op: UnaryOp, scalar: number, backward: (g: Tensor, out: Tensor) => Tensor | null): Tensor {
  checkOperand(x, op);
  const out: Tensor = Tensor.fromOp(x.backend.unary(op, x.storage, scalar), x.shape, [x], op, (g) => [backward(g, out)]);
  return out;
}

function sameBackend(a: Tensor, b: Tensor, op: string): void {
  checkOperand(a, op);
  checkOperand(b, op);
  if (a.backend !== b.backend) throw new Error(`${op}: operands live on different backends (${a.backend.name} and ${b.backend.name})`);
}

export function binaryOp(a: Tensor, b: Tensor, op: BinaryOp, backward: (g: Tensor, out: Tensor) => [Tensor | null, Tensor | null]): Tensor {
  sameBackend(a, b, op);
  const shape = broadcastShapes(a.shape, b.shape, op);
  const storage = a.backend.binary(op, a.storage, broadcastStrides(a.shape, shape), b.storage, broadcastStrides(b.shape, shape), shape);
  const out: Tensor = Tensor.fromOp(storage, shape, [a, b], op, (g) => {
    const [ga, gb] = backward(g, out);
    return [ga && unbroadcast(ga, a.shape), gb && unbroadcast(gb, b.shape)];
  });
  return out;
}

/** Sums a broadcast gradient back down to `shape`. */
export function unbroadcast(g: Tensor, shape: Shape): Tensor {
  if (sameShape(g.shape, shape)) return g;
  const lead = g.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++) if (i < lead || shape[i - lead] === 1) axes.push(i);
  return reshape(sum(g, axes), [...shape]);
}

/** Broadcasts `x` to `shape` (materialised); every dimension of `x` must be 1 or match `shape`. */
export function expand(x: Tensor, shape: Shape): Tensor {
  checkOperand(x, 'expand');
  if (sameShape(x.shape, shape)) return x;
  if (!sameShape(broadcastShapes(x.shape, shape, 'expand'), shape)) {
    throw new Error(`expand: cannot expand ${shapeStr(x.shape)} to ${shapeStr(shape)} (the target needs at least the input's rank, and a dimension can only grow from 1)`);
  }
  const storage = x.backend.copyStrided(x.storage, shape, broadcastStrides(x.shape, shape));
  return Tensor.fromOp(storage, shape, [x], 'expand', (g) => [unbroadcast(g, x.shape)]);
}

// ---- binary arithmetic (a tensor or a number on the right) ----

export function add(a: Tensor, b: Tensor | number): Tensor {
  if (typeof b === 'number') return unaryOp(a, 'addScalar', b, (g) => g);
  return binaryOp(a, b, 'add', (g) => [g, g]);
}

export function sub(a: Tensor, b: Tensor | number): Tensor {
  if (typeof b === 'number') return unaryOp(a, 'addScalar', -b, (g) => g);
  return binaryOp(a, b, 'sub', (g) => [g, neg(g)]);
}

export function mul(a: Tensor, b: Tensor | number): Tensor {
  if (typeof b === 'number') return unaryOp(a, 'mulScalar', b, (g) => mul(g, b));
  return binaryOp(a, b, 'mul', (g) => [mul(g, b), mul(g, a)]);
}

export function div(a: Tensor, b: Tensor | number): Tensor {
  if (typeof b === 'number') return unaryOp(a, 'mulScalar', 1 / b, (g) => mul(g, 1 / b));
  return binaryOp(a, b, 'div', (g, out) => [div(g, b), neg(div(mul(g, out), b))]);
}

/** `a ^ b`; for a negative base the exponent must be an integer (else NaN), as in Math.pow. */
export function pow(a: Tensor, b: Tensor | number): Tensor {
  if (typeof b === 'number') {
    return unaryOp(a, 'powScalar', b, (g) => (b === 0 ? mul(g, 0) : mul(g, mul(pow(a, b - 1), b))));
  }
  return binaryOp(a, b, 'pow', (g) => [mul(g, binaryNoGrad(a, b, 'powGradBase')), mul(g, binaryNoGrad(a, b, 'powGradExponent'))]);
}

/** Elementwise maximum; at ties the gradient goes to `b`. */
export function maximum(a: Tensor, b: Tensor | number): Tensor {
  if (typeof b === 'number') return unaryOp(a, 'maxScalar', b, (g) => mul(g, step(add(a, -b))));
  return binaryOp(a, b, 'maximum', (g) => {
    const aWins = binaryNoGrad(a, b, 'gt');
    return [mul(g, aWins), mul(g, rsub(aWins, 1))];
  });
}

/** x limited to [lo, hi] elementwise (min(max(x, lo), hi)); the gradient passes where lo < x < hi. A NaN becomes lo. */
export function clamp(x: Tensor, lo: number, hi: number): Tensor {
  if (!(lo <= hi)) throw new Error(`clamp: expected lo <= hi, got ${lo} and ${hi}`);
  return neg(maximum(neg(maximum(x, lo)), -hi));
}

/** A broadcast binary kernel with no gradient: `a > b` / `a == b` as 0/1, or a derivative. */
export function binaryNoGrad(a: Tensor, b: Tensor, op: 'gt' | 'eq' | 'powGradBase' | 'powGradExponent'): Tensor {
  sameBackend(a, b, op);
  const shape = broadcastShapes(a.shape, b.shape, op);
  const storage = a.backend.binary(op, a.storage, broadcastStrides(a.shape, shape), b.storage, broadcastStrides(b.shape, shape), shape);
  return new Tensor(storage, shape, a.backend);
}

/** s - x */
export function rsub(x: Tensor, s: number): Tensor {
  return unaryOp(x, 'rsubScalar', s, (g) => neg(g));
}

// ---- unary functions ----

export const neg = (x: Tensor): Tensor => unaryOp(x, 'neg', 0, (g) => neg(g));
export const exp = (x: Tensor): Tensor => unaryOp(x, 'exp', 0, (g, out) => mul(g, out));
export const log = (x: Tensor): Tensor => unaryOp(x, 'log', 0, (g) => div(g, x));
export const abs = (x: Tensor): Tensor => unaryOp(x, 'abs', 0, (g) => mul(g, sign(x)));
export const sign = (x: Tensor): Tensor => unaryOp(x, 'sign', 0, (g) => mul(g, 0));
export const sqrt = (x: Tensor): Tensor => unaryOp(x, 'sqrt', 0, (g, out) => div(mul(g, 0.5), out));
export const relu = (x: Tensor): Tensor => unaryOp(x, 'relu', 0, (g) => mul(g, step(x)));
export const sigmoid = (x: Tensor): Tensor => unaryOp(x, 'sigmoid', 0, (g, out) => mul(g, mul(out, rsub(out, 1))));
/** x > 0 ? 1 : 0 (no gradient). */
export const step = (x: Tensor): Tensor => new Tensor(x.backend.unary('step', x.storage, 0), x.shape, x.backend);

// ---- reductions over axes: sum, mean, max ----

function reduce(x: Tensor, op: ReduceOp, axesArg: number | readonly number[] | undefined, keepDims: boolean, backward: (g: Tensor, out: Tensor) => Tensor): Tensor {
  const axes = normalizeAxes(axesArg, x.rank, op);
  // An empty sum is 0 (so a mean over nothing is NaN), as in NumPy and PyTorch; a maximum over nothing has no value.
  const empty = axes.some((a) => x.shape[a] === 0);
  if (empty && op === 'max') throw new Error(`max: cannot reduce over an empty axis of shape ${shapeStr(x.shape)}`);
  const kept = x.shape.filter((_, i) => !axes.includes(i));
  const keptDimsShape = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const storage = empty ? x.backend.upload(new Float32Array(sizeOf(kept))) : x.backend.reduce(op, x.storage, x.shape, axes);
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
