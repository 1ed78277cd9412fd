// The chaining methods of Tensor (`x.add(y).relu()`), each the function of src/ops of the same
// name. They live above the ops, which build on the Tensor class: tensor.ts imports no op.
// The library's entry (index.ts) installs them.

import { Tensor } from './tensor.js';
import * as ops from './ops/index.js';

declare module './tensor.js' {
  interface Tensor {
    add(b: Tensor | number): Tensor;
    sub(b: Tensor | number): Tensor;
    mul(b: Tensor | number): Tensor;
    div(b: Tensor | number): Tensor;
    pow(b: Tensor | number): Tensor;
    maximum(b: Tensor | number): Tensor;
    neg(): Tensor;
    exp(): Tensor;
    log(): Tensor;
    abs(): Tensor;
    sign(): Tensor;
    sqrt(): Tensor;
    relu(): Tensor;
    sigmoid(): Tensor;
    sum(axes?: number | number[], keepDims?: boolean): Tensor;
    mean(axes?: number | number[], keepDims?: boolean): Tensor;
    max(axes?: number | number[], keepDims?: boolean): Tensor;
    reshape(shape: number[]): Tensor;
    transpose(perm?: number[]): Tensor;
    flatten(startDim?: number): Tensor;
    matmul(b: Tensor): Tensor;
    conv2d(w: Tensor, options?: ops.Conv2dOptions): Tensor;
    maxPool2d(options: ops.Pool2dOptions): Tensor;
    avgPool2d(options: ops.Pool2dOptions): Tensor;
    logSoftmax(axis?: number): Tensor;
  }
}

const methods = {
  add(this: Tensor, b: Tensor | number): Tensor {
    return ops.add(this, b);
  },
  sub(this: Tensor, b: Tensor | number): Tensor {
    return ops.sub(this, b);
  },
  mul(this: Tensor, b: Tensor | number): Tensor {
    return ops.mul(this, b);
  },
  div(this: Tensor, b: Tensor | number): Tensor {
    return ops.div(this, b);
  },
  pow(this: Tensor, b: Tensor | number): Tensor {
    return ops.pow(this, b);
  },
  maximum(this: Tensor, b: Tensor | number): Tensor {
    return ops.maximum(this, b);
  },
  neg(this: Tensor): Tensor {
    return ops.neg(this);
  },
  exp(this: Tensor): Tensor {
    return ops.exp(this);
  },
  log(this: Tensor): Tensor {
    return ops.log(this);
  },
  abs(this: Tensor): Tensor {
    return ops.abs(this);
  },
  sign(this: Tensor): Tensor {
    return ops.sign(this);
  },
  sqrt(this: Tensor): Tensor {
    return ops.sqrt(this);
  },
  relu(this: Tensor): Tensor {
    return ops.relu(this);
  },
  sigmoid(this: Tensor): Tensor {
    return ops.sigmoid(this);
  },
  sum(this: Tensor, axes?: number | number[], keepDims = false): Tensor {
    return ops.sum(this, axes, keepDims);
  },
  mean(this: Tensor, axes?: number | number[], keepDims = false): Tensor {
    return ops.mean(this, axes, keepDims);
  },
  max(this: Tensor, axes?: number | number[], keepDims = false): Tensor {
    return ops.max(this, axes, keepDims);
  },
  reshape(this: Tensor, shape: number[]): Tensor {
    return ops.reshape(this, shape);
  },
  transpose(this: Tensor, perm?: number[]): Tensor {
    return ops.transpose(this, perm);
  },
  flatten(this: Tensor, startDim = 1): Tensor {
    return ops.flatten(this, startDim);
  },
  matmul(this: Tensor, b: Tensor): Tensor {
    return ops.matmul(this, b);
  },
  conv2d(this: Tensor, w: Tensor, options?: ops.Conv2dOptions): Tensor {
    return ops.conv2d(this, w, options);
  },
  maxPool2d(this: Tensor, options: ops.Pool2dOptions): Tensor {
    return ops.maxPool2d(this, options);
  },
  avgPool2d(this: Tensor, options: ops.Pool2dOptions): Tensor {
    return ops.avgPool2d(this, options);
  },
  logSoftmax(this: Tensor, axis = -1): Tensor {
    return ops.logSoftmax(this, axis);
  },
};

Object.assign(Tensor.prototype, methods);
