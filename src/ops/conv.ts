// Convolution and pooling over NCHW tensors, each direction a dedicated kernel.

import type { ConvParams, PoolMode, PoolParams } from '../backend/backend.js';
import { shapeStr } from '../shape.js';
import { Tensor } from '../tensor.js';

export interface Conv2dOptions {
  stride?: number | [number, number];
  padding?: number | [number, number];
}

export interface Pool2dOptions {
  kernelSize: number | [number, number];
  /** Defaults to the kernel size. */
  stride?: number | [number, number];
  padding?: number | [number, number];
}

function pair(v: number | [number, number] | undefined, fallback: number | [number, number], what: string, op: string, min: number): [number, number] {
  const p: [number, number] = v === undefined ? (typeof fallback === 'number' ? [fallback, fallback] : fallback) : typeof v === 'number' ? [v, v] : v;
  if (p.length !== 2 || p.some((x) => !Number.isInteger(x) || x < min)) throw new Error(`${op}: ${what} must be an integer >= ${min} or a pair of them, got ${JSON.stringify(v)}`);
  return p;
}

function outSize(inSize: number, k: number, stride: number, pad: number): number {
  return Math.floor((inSize + 2 * pad - k) / stride) + 1;
}

/** A sliding window over an inH x inW plane: its size, strides, padding and the output size. */
function slidingWindow(op: string, inH: number, inW: number, [kH, kW]: number[], [strideH, strideW]: number[], [padH, padW]: number[]) {
  const window = { kH, kW, strideH, strideW, padH, padW, outH: outSize(inH, kH, strideH, padH), outW: outSize(inW, kW, strideW, padW) };
  if (window.outH < 1 || window.outW < 1) throw new Error(`${op}: kernel ${kH}x${kW} does not fit input ${inH}x${inW} with padding ${padH},${padW}`);
  return window;
}

/** The kernel parameters of a convolution of x [N,C,H,W] with an [outC, C, kH, kW] weight; throws when they do not fit. */
export function convParams(op: string, x: Tensor, outC: number, kH: number, kW: number, options: Conv2dOptions): ConvParams {
  const [strideH, strideW] = pair(options.stride, 1, 'stride', op, 1);
  const [padH, padW] = pair(options.padding, 0, 'padding', op, 0);
  const [batch, inC, inH, inW] = x.shape;
  return { batch, inC, inH, inW, outC, ...slidingWindow(op, inH, inW, [kH, kW], [strideH, strideW], [padH, padW]) };
}

/** 2-D convolution, x [N,C,H,W] with w [O,C,KH,KW] -> [N,O,OH,OW]; no bias. */
export function conv2d(x: Tensor, w: Tensor, options: Conv2dOptions = {}): Tensor {
  if (x.rank !== 4 || w.rank !== 4 || x.shape[1] !== w.shape[1]) {
    throw new Error(`conv2d: input ${shapeStr(x.shape)} and weight ${shapeStr(w.shape)} do not fit (want x [N,C,H,W] and w [O,C,KH,KW] with the same C)`);
  }
  if (x.backend !== w.backend) throw new Error('conv2d: input and weight live on different backends');
  const [batch, outC] = [x.shape[0], w.shape[0]];
  const p = convParams('conv2d', x, outC, w.shape[2], w.shape[3], options);
  const out = x.backend.conv2d(x.storage, w.storage, p);
  return Tensor.fromOp(out, [batch, outC, p.outH, p.outW], [x, w], 'conv2d', (g) => [
    x.requiresGrad ? new Tensor(x.backend.conv2dBackwardInput(g.storage, w.storage, p), x.shape, x.backend) : null,
    w.requiresGrad ? new Tensor(x.backend.conv2dBackwardWeight(x.storage, g.storage, p), w.shape, x.backend) : null,
  ]);
}

function pool2d(mode: PoolMode, x: Tensor, options: Pool2dOptions): Tensor {
  const op = `${mode}Pool2d`;
  if (x.rank !== 4) throw new Error(`${op}: input must be [N,C,H,W], got ${shapeStr(x.shape)}`);
  if (typeof options !== 'object' || options === null) throw new Error(`${op}: options { kernelSize, stride?, padding? } are required`);
  const [kH, kW] = pair(options.kernelSize, 1, 'kernelSize', op, 1);
  const [strideH, strideW] = pair(options.stride, [kH, kW], 'stride', op, 1);
  const [padH, padW] = pair(options.padding, 0, 'padding', op, 0);
  if (padH * 2 > kH || padW * 2 > kW) throw new Error(`${op}: padding must be at most half the kernel size`);
  const [batch, channels, inH, inW] = x.shape;
  const p: PoolParams = { batch, channels, inH, inW, ...slidingWindow(op, inH, inW, [kH, kW], [strideH, strideW], [padH, padW]) };
  const { out, argmax } = x.backend.pool2d(mode, x.storage, p);
  // The argmax indices live in a tensor so that scopes free them with the output.
  const indices = argmax && new Tensor(argmax, [batch, channels, p.outH, p.outW], x.backend);
  return Tensor.fromOp(out, [batch, channels, p.outH, p.outW], [x], op, (g) => [
    new Tensor(x.backend.pool2dBackward(mode, g.storage, indices ? indices.storage : null, p), x.shape, x.backend),
  ]);
}

/** Max pooling; the gradient goes to the first maximum of each window (a NaN counts as the largest value, as in PyTorch). */
export const maxPool2d = (x: Tensor, options: Pool2dOptions): Tensor => pool2d('max', x, options);
/** Average pooling; padded positions count as zeros (divisor = kernel area). */
export const avgPool2d = (x: Tensor, options: Pool2dOptions): Tensor => pool2d('avg', x, options);
