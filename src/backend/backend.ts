// The kernel-level contract every backend implements. Tensors and autograd (src/tensor.ts,
// src/ops/) are written once against this interface; the CPU backend is the reference and
// the WebGPU backend must agree with it within float32 tolerance.
//
// Every kernel returns a new Storage holding a contiguous row-major result. Storages are
// reference counted by the front end and handed back with `release` when the count hits 0.

import type { Shape } from '../shape.js';

/**
 * What a storage holds: float32 values, or unsigned 32-bit integers (index lists). u32 data is
 * never handled as floats: a u32 word can be a NaN bit pattern that a float copy may change.
 */
export type DType = 'f32' | 'u32';

export interface Storage {
  /** Number of 4-byte elements. */
  readonly size: number;
  readonly dtype: DType;
  /** Tensors sharing this storage (reshape shares); owned by the front end. */
  refs: number;
}

export type UnaryOp =
  | 'neg'
  | 'exp'
  | 'log'
  | 'abs'
  | 'sign'
  | 'sqrt'
  | 'relu'
  | 'sigmoid'
  /** x > 0 ? 1 : 0 */
  | 'step'
  /** |x| > s ? 1 : 0 (a mask from a fixed threshold) */
  | 'absGreater'
  /** power-propagation x|x|^(s-1) = sign(x)|x|^s, and its derivative s|x|^(s-1) */
  | 'powerProp'
  | 'powerPropGrad'
  /** x + s, x * s, s - x, x ^ s (sign-aware for integer s) */
  | 'addScalar'
  | 'mulScalar'
  | 'rsubScalar'
  | 'powScalar'
  /** max(x, s) */
  | 'maxScalar';

export type BinaryOp =
  | 'add'
  | 'sub'
  | 'mul'
  | 'div'
  | 'pow'
  | 'maximum'
  /** d(a^b)/da: b * a^(b-1), and 0 where b == 0 */
  | 'powGradBase'
  /** d(a^b)/db: a^b log(a), and 0 where a == 0 and b >= 0 (as PyTorch) */
  | 'powGradExponent'
  /** a > b ? 1 : 0, a == b ? 1 : 0 */
  | 'gt'
  | 'eq';

export type ReduceOp = 'sum' | 'max';

/** How an exact top-k is found: a bitonic sort, or a parallel threshold selection. */
export const TOPK_METHODS = ['bitonic', 'threshold'] as const;
export type TopkMethod = (typeof TOPK_METHODS)[number];

export interface MatmulParams {
  batch: number;
  m: number;
  k: number;
  n: number;
  /** Element offsets between consecutive batch matrices; 0 broadcasts one matrix. */
  strideA: number;
  strideB: number;
}

export interface ConvParams {
  batch: number;
  inC: number;
  inH: number;
  inW: number;
  outC: number;
  kH: number;
  kW: number;
  outH: number;
  outW: number;
  strideH: number;
  strideW: number;
  padH: number;
  padW: number;
}

export type PoolMode = 'max' | 'avg';

export interface PoolParams {
  batch: number;
  channels: number;
  inH: number;
  inW: number;
  outH: number;
  outW: number;
  kH: number;
  kW: number;
  strideH: number;
  strideW: number;
  padH: number;
  padW: number;
}

/**
 * A binary sparse conv layer laid out for inference (built by src/sparse/ticket.ts): the
 * weights are alpha * {-1, 0, +1}. Output channels go in blocks of 8 (BINARY_CONV_BLOCK); the
 * entries of block b are `segments[b] .. segments[b + 1]`, each one (input channel, tap) with a
 * nonzero weight in the block, as 3 u32 words: c | ky << 16 | kx << 24, then the block's 8
 * weights there as signed bytes (+127 for +1, -127 for -1, 0; weight i in byte i % 4 of word
 * 1 + i / 4). (c, tap) pairs whose 8 weights are all zero have no entry. Both are u32
 * storages.
 */
export interface BinaryConvWeights {
  segments: Storage;
  entries: Storage;
  alpha: number;
}

export const BINARY_CONV_BLOCK = 8;

export interface MemoryInfo {
  liveBuffers: number;
  liveBytes: number;
  pooledBytes: number;
}

export interface Backend {
  readonly name: 'cpu' | 'webgpu' | 'wasm';
  /** Human-readable device description, e.g. "google swiftshader (SwiftShader driver 5.0.0)". */
  readonly adapter: string;
  /** The most elements one tensor can hold here: checked before a host array that size is built. */
  readonly maxElements: number;

  /** A storage holding a copy of `data`; its dtype follows the array (u32 for a Uint32Array). */
  upload(data: Float32Array | Uint32Array): Storage;
  zeros(size: number, dtype?: DType): Storage;
  /** Resolves with a copy of the storage's contents, typed by its dtype. Submits pending GPU work. */
  read(s: Storage): Promise<Float32Array | Uint32Array>;
  release(s: Storage): void;
  /** Overwrites `dst` with the values of `src` (same size and dtype), in order with the recorded work. */
  copy(src: Storage, dst: Storage): void;

  unary(op: UnaryOp, x: Storage, scalar: number): Storage;
  /** `aStrides`/`bStrides` index each operand over `outShape` (0 on broadcast dims). */
  binary(op: BinaryOp, a: Storage, aStrides: readonly number[], b: Storage, bStrides: readonly number[], outShape: Shape): Storage;
  /** Reduces `axes` (sorted, unique) of `shape`; the result holds the kept dims in order. */
  reduce(op: ReduceOp, x: Storage, shape: Shape, axes: readonly number[]): Storage;
  /** out[i] = x[offset(i)] with `strides` indexing x over `outShape`: transposes and broadcasts. */
  copyStrided(x: Storage, outShape: Shape, strides: readonly number[]): Storage;
  matmul(a: Storage, b: Storage, p: MatmulParams): Storage;
  conv2d(x: Storage, w: Storage, p: ConvParams): Storage;
  conv2dBackwardInput(dy: Storage, w: Storage, p: ConvParams): Storage;
  conv2dBackwardWeight(x: Storage, dy: Storage, p: ConvParams): Storage;
  /**
   * Max pooling also returns, per output, the flat index (within its plane) of the chosen input
   * (the first maximum, a NaN counting as the largest), as int32 bits: opaque to all but pool2dBackward.
   */
  pool2d(mode: PoolMode, x: Storage, p: PoolParams): { out: Storage; argmax: Storage | null };
  pool2dBackward(mode: PoolMode, dy: Storage, argmax: Storage | null, p: PoolParams): Storage;
  /** Inference conv with binary weight-sparse weights (no gradient); same output as conv2d with the dense weights. */
  binaryConv2d(x: Storage, w: BinaryConvWeights, p: ConvParams): Storage;

  /**
   * 0/1 masks keeping exactly `k` elements of all `segments` together (one segment: layer
   * scope; several: global scope), ranked by |value| descending, ties broken by the lower
   * position (segment order, then index). One mask per segment, each of its segment's size.
   */
  topkMask(segments: readonly Storage[], k: number, method: TopkMethod): Storage[];

  /** Submits recorded work (a step boundary). A no-op on the CPU. */
  flush(): void;
  /** Submits recorded work and waits until the device has finished it (for timing). */
  sync(): Promise<void>;
  /** Live (in use) and pooled (free, kept for reuse) device memory. */
  memory(): MemoryInfo;
  destroy(): void;
}

/** Reads an f32 storage (a u32 one is a caller's bug). */
export async function readF32(backend: Backend, s: Storage): Promise<Float32Array> {
  const values = await backend.read(s);
  if (!(values instanceof Float32Array)) throw new Error(`internal: read a ${s.dtype} storage of ${s.size} elements as f32`);
  return values;
}
