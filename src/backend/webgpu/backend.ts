// The WebGPU backend: every kernel is a WGSL compute shader from shaders/, recorded through the
// device layer (device.ts: buffers, caches, dispatch, reads).

import type { Backend, BinaryConvWeights, BinaryOp, ConvParams, MatmulParams, PoolMode, PoolParams, ReduceOp, Storage, TopkMethod, UnaryOp } from '../backend.js';
import { type Shape, MAX_RANK, coalesce, reductionDims, sizeOf, stridesOf } from '../../shape.js';
import { GEOMETRY, fold, perElement, poolWindow } from './kernels.js';
import { topkMaskGpu } from './topk.js';
import { GpuDevice, buf } from './device.js';

/** Tuning knobs. Reductions use one invocation per output when there are this many outputs... */
const SERIAL_REDUCE_MIN_OUTPUTS = 4096;
/** ...or each is at most this long, and always on CPU-emulated devices (SwiftShader). */
const SERIAL_REDUCE_MAX_LENGTH = 256;

const UNARY_WGSL: Record<UnaryOp, string> = {
  neg: '-v',
  exp: 'exp_ieee(v)',
  log: 'log_ieee(v)',
  abs: 'abs(v)',
  sign: 'sign(v)',
  sqrt: 'sqrt(v)',
  relu: 'max(v, 0.0)',
  sigmoid: '1.0 / (1.0 + exp_ieee(-v))',
  step: 'select(0.0, 1.0, v > 0.0)',
  absGreater: 'select(0.0, 1.0, abs(v) > s)',
  powerProp: 'sign(v) * pow(abs(v), s)',
  powerPropGrad: 'select(s * pow(abs(v), s - 1.0), 1.0, s == 1.0)',
  addScalar: 'v + s',
  mulScalar: 'v * s',
  rsubScalar: 's - v',
  powScalar: 'signed_pow(v, s)',
  maxScalar: 'select(s, v, v >= s)',
};

const BINARY_WGSL: Record<BinaryOp, string> = {
  add: 'u + v',
  sub: 'u - v',
  mul: 'u * v',
  div: 'u / v',
  pow: 'signed_pow(u, v)',
  powGradBase: 'pow_grad_base(u, v)',
  powGradExponent: 'pow_grad_exponent(u, v)',
  maximum: 'select(v, u, u >= v)',
  gt: 'select(0.0, 1.0, u > v)',
  eq: 'select(0.0, 1.0, u == v)',
};

const REDUCE_WGSL: Record<ReduceOp, { COMBINE: string; INIT: string }> = {
  sum: { COMBINE: 'acc + v', INIT: '0.0' },
  max: { COMBINE: 'select(acc, v, v > acc || is_nan(v))', INIT: 'f32_neg_inf()' },
};

const convUniforms = (p: ConvParams) => ({
  batch: p.batch,
  inC: p.inC,
  inH: p.inH,
  inW: p.inW,
  outC: p.outC,
  kH: p.kH,
  kW: p.kW,
  outH: p.outH,
  outW: p.outW,
  strideH: p.strideH,
  strideW: p.strideW,
  padH: p.padH,
  padW: p.padW,
});

const poolUniforms = (p: PoolParams) => ({
  planes: p.batch * p.channels,
  in_h: p.inH,
  in_w: p.inW,
  out_h: p.outH,
  out_w: p.outW,
  k_h: p.kH,
  k_w: p.kW,
  stride_h: p.strideH,
  stride_w: p.strideW,
  pad_h: p.padH,
  pad_w: p.padW,
});

export class WebGpuBackend extends GpuDevice implements Backend {
  readonly name = 'webgpu' as const;

  // ---- kernels ----

  unary(op: UnaryOp, x: Storage, scalar: number): Storage {
    const out = this.output(x.size);
    this.dispatch('unary', { OP: UNARY_WGSL[op] }, [buf(x), out.buffer], { size: x.size, scalar }, perElement('unary', x.size));
    return out;
  }

  binary(op: BinaryOp, a: Storage, aStrides: readonly number[], b: Storage, bStrides: readonly number[], outShape: Shape): Storage {
    const size = sizeOf(outShape);
    const out = this.output(size);
    const plain = stridesOf(outShape);
    const contiguous = (t: Storage, strides: readonly number[]): boolean => t.size === size && plain.every((st, i) => outShape[i] === 1 || st === strides[i]);
    // Each operand is read at i (contiguous), at 0 (a single value) or through strides.
    const simple = (t: Storage, strides: readonly number[]): string | null => (contiguous(t, strides) ? 'i' : t.size === 1 ? '0u' : null);
    const aAt = simple(a, aStrides);
    const bAt = simple(b, bStrides);
    const c = coalesce(outShape, [aStrides, bStrides]);
    const strided = aAt === null || bAt === null;
    const values = { OP: BINARY_WGSL[op], RANK: String(strided ? c.shape.length : 0), A_AT: aAt ?? 'at.x', B_AT: bAt ?? 'at.y' };
    const params = { size, shape: c.shape, a_strides: c.strides[0], b_strides: c.strides[1] };
    this.dispatch('binary', values, [buf(a), buf(b), out.buffer], params, perElement('binary', size));
    return out;
  }

  copyStrided(x: Storage, outShape: Shape, strides: readonly number[]): Storage {
    const size = sizeOf(outShape);
    const out = this.output(size);
    const c = coalesce(outShape, [strides]);
    this.dispatch('copy_strided', { RANK: String(c.shape.length) }, [buf(x), out.buffer], { size, shape: c.shape, strides: c.strides[0] }, perElement('copy_strided', size));
    return out;
  }

  reduce(op: ReduceOp, x: Storage, shape: Shape, axes: readonly number[]): Storage {
    const { kept, red } = reductionDims(shape, axes);
    const outSize = sizeOf(kept.shape);
    const out = this.output(outSize);
    if (red.shape.length > MAX_RANK || kept.shape.length > MAX_RANK) throw new Error('internal: reduce rank too high');
    const redSize = sizeOf(red.shape);
    const params = { out_size: outSize, red_size: redSize, kept_shape: kept.shape, kept_strides: kept.strides, red_shape: red.shape, red_strides: red.strides };
    // Barriers make a workgroup per output costly; they pay off only for few, long reductions.
    const serial = this.cpuLike || outSize >= SERIAL_REDUCE_MIN_OUTPUTS || redSize <= SERIAL_REDUCE_MAX_LENGTH;
    const values = { ...REDUCE_WGSL[op], KEPT_RANK: String(kept.shape.length), RED_RANK: String(red.shape.length) };
    if (serial) this.dispatch('reduce', values, [buf(x), out.buffer], params, perElement('reduce', outSize), 'main_serial');
    else this.dispatch('reduce', values, [buf(x), out.buffer], params, fold(outSize));
    return out;
  }

  matmul(a: Storage, b: Storage, p: MatmulParams): Storage {
    const out = this.output(p.batch * p.m * p.n);
    const params = { M: p.m, N: p.n, K: p.k, batch: p.batch, strideA: p.strideA, strideB: p.strideB, strideC: p.m * p.n };
    this.dispatch('matmul', {}, [buf(a), buf(b), out.buffer], params, GEOMETRY.matmul(p));
    return out;
  }

  conv2d(x: Storage, w: Storage, p: ConvParams): Storage {
    const out = this.output(p.batch * p.outC * p.outH * p.outW);
    this.dispatch('conv2d_forward', {}, [buf(x), buf(w), out.buffer], convUniforms(p), GEOMETRY.conv2d_forward(p));
    return out;
  }

  conv2dBackwardInput(dy: Storage, w: Storage, p: ConvParams): Storage {
    const out = this.output(p.batch * p.inC * p.inH * p.inW);
    this.dispatch('conv2d_backward_input', {}, [buf(dy), buf(w), out.buffer], convUniforms(p), GEOMETRY.conv2d_backward_input(p));
    return out;
  }

  conv2dBackwardWeight(x: Storage, dy: Storage, p: ConvParams): Storage {
    const out = this.output(p.outC * p.inC * p.kH * p.kW);
    this.dispatch('conv2d_backward_weight', {}, [buf(x), buf(dy), out.buffer], convUniforms(p), GEOMETRY.conv2d_backward_weight(p));
    return out;
  }

  pool2d(mode: PoolMode, x: Storage, p: PoolParams): { out: Storage; argmax: Storage | null } {
    const size = p.batch * p.channels * p.outH * p.outW;
    const out = this.output(size);
    const argmax = mode === 'max' ? this.output(size) : null;
    this.dispatch(
      'pool2d_forward',
      { MAX: String(mode === 'max'), WINDOW: poolWindow(p.kH, p.kW) },
      [buf(x), out.buffer, (argmax ?? this.unusedSlot()).buffer],
      poolUniforms(p),
      perElement('pool2d_forward', size),
    );
    return { out, argmax };
  }

  topkMask(segments: readonly Storage[], k: number, method: TopkMethod): Storage[] {
    return topkMaskGpu(this, segments, k, method);
  }

  binaryConv2d(x: Storage, w: BinaryConvWeights, p: ConvParams): Storage {
    const out = this.output(p.batch * p.outC * p.outH * p.outW);
    this.dispatch('binary_conv2d', {}, [buf(x), buf(w.segments), buf(w.entries), out.buffer], { ...convUniforms(p), alpha: w.alpha }, GEOMETRY.binary_conv2d(p));
    return out;
  }

  pool2dBackward(mode: PoolMode, dy: Storage, argmax: Storage | null, p: PoolParams): Storage {
    const size = p.batch * p.channels * p.inH * p.inW;
    const out = this.output(size);
    this.dispatch('pool2d_backward', { MAX: String(mode === 'max') }, [buf(dy), buf(argmax ?? dy), out.buffer], poolUniforms(p), perElement('pool2d_backward', size));
    return out;
  }
}
