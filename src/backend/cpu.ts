// The pure-TypeScript reference backend: every kernel written as the plainest correct loop.
// The wasm and WebGPU kernels are tested against these.

import {
  type Backend,
  BINARY_CONV_BLOCK,
  type BinaryConvWeights,
  type BinaryOp,
  type DType,
  type ConvParams,
  type MatmulParams,
  type MemoryInfo,
  type PoolMode,
  type PoolParams,
  type ReduceOp,
  type Storage,
  type TopkMethod,
  type UnaryOp,
} from './backend.js';
import { type Shape, sizeOf, stridesOf } from '../shape.js';

// memory(): a storage counts until it is released (its last tensor disposed) or, if it never
// is, collected as garbage.
let liveStorages = 0;
let liveBytes = 0;
const forget = (bytes: number): void => {
  liveStorages--;
  liveBytes -= bytes;
};
const registry = new FinalizationRegistry<number>(forget);

class CpuStorage implements Storage {
  refs = 0;
  constructor(readonly data: Float32Array | Uint32Array) {
    liveStorages++;
    liveBytes += data.byteLength;
    registry.register(this, data.byteLength, this);
  }
  get size(): number {
    return this.data.length;
  }
  get dtype(): DType {
    return this.data instanceof Uint32Array ? 'u32' : 'f32';
  }
  release(): void {
    if (registry.unregister(this)) forget(this.data.byteLength);
  }
}

/** The values of an f32 storage; a u32 one here is a caller's bug. */
function data(s: Storage): Float32Array {
  const d = (s as CpuStorage).data;
  if (!(d instanceof Float32Array)) throw new Error('internal: a u32 storage where a kernel reads f32');
  return d;
}

/** The words of a u32 storage. */
function words(s: Storage): Uint32Array {
  const d = (s as CpuStorage).data;
  if (!(d instanceof Uint32Array)) throw new Error('internal: an f32 storage where a kernel reads u32');
  return d;
}

/** x ^ s with the sign of x kept for odd integer exponents; NaN for a negative base otherwise. */
export function signedPow(x: number, s: number): number {
  if (x >= 0 || !Number.isInteger(s)) return x ** s;
  const r = (-x) ** s;
  return s % 2 === 0 ? r : -r;
}

export const unaryFns: Record<UnaryOp, (x: number, s: number) => number> = {
  neg: (x) => -x,
  exp: Math.exp,
  log: Math.log,
  abs: Math.abs,
  sign: (x) => (x > 0 ? 1 : x < 0 ? -1 : 0),
  sqrt: Math.sqrt,
  // biome-ignore lint/complexity/useMathMinMax: relu(NaN) is 0 here, as in the other backends; Math.max gives NaN.
  relu: (x) => (x > 0 ? x : 0),
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  step: (x) => (x > 0 ? 1 : 0),
  absGreater: (x, s) => (Math.abs(x) > s ? 1 : 0),
  powerProp: (x, s) => Math.sign(x) * Math.abs(x) ** s,
  powerPropGrad: (x, s) => (s === 1 ? 1 : s * Math.abs(x) ** (s - 1)),
  addScalar: (x, s) => x + s,
  mulScalar: (x, s) => x * s,
  rsubScalar: (x, s) => s - x,
  powScalar: signedPow,
  // biome-ignore lint/complexity/useMathMinMax: a NaN x gives s, as in the other backends; Math.max gives NaN.
  maxScalar: (x, s) => (x >= s ? x : s),
};

export const binaryFns: Record<BinaryOp, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  pow: signedPow,
  powGradBase: (a, b) => (b === 0 ? 0 : b * signedPow(a, b - 1)),
  powGradExponent: (a, b) => (a === 0 && b >= 0 ? 0 : signedPow(a, b) * Math.log(a)),
  // biome-ignore lint/complexity/useMathMinMax: a NaN a gives b, as in the other backends; Math.max gives NaN.
  maximum: (a, b) => (a >= b ? a : b),
  gt: (a, b) => (a > b ? 1 : 0),
  eq: (a, b) => (a === b ? 1 : 0),
};

/** Calls `fn(flatIndex, offsets...)` over `shape` in row-major order, tracking strided offsets. */
function forEachIndex(shape: Shape, strideSets: readonly (readonly number[])[], fn: (i: number, offsets: number[]) => void): void {
  const rank = shape.length;
  const n = sizeOf(shape);
  const idx = new Array<number>(rank).fill(0);
  const offsets = strideSets.map(() => 0);
  for (let i = 0; i < n; i++) {
    fn(i, offsets);
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]++;
      for (let s = 0; s < strideSets.length; s++) offsets[s] += strideSets[s][d];
      if (idx[d] < shape[d]) break;
      for (let s = 0; s < strideSets.length; s++) offsets[s] -= strideSets[s][d] * shape[d];
      idx[d] = 0;
    }
  }
}

export class CpuBackend implements Backend {
  readonly name = 'cpu' as const;
  readonly adapter = 'cpu (TypeScript reference)';
  /** A Float32Array's limit. */
  readonly maxElements = 2 ** 32;

  upload(values: Float32Array | Uint32Array): Storage {
    return new CpuStorage(values.slice());
  }
  zeros(size: number, dtype: DType = 'f32'): Storage {
    return new CpuStorage(dtype === 'u32' ? new Uint32Array(size) : new Float32Array(size));
  }
  async read(s: Storage): Promise<Float32Array | Uint32Array> {
    return (s as CpuStorage).data.slice();
  }
  release(s: Storage): void {
    (s as CpuStorage).release();
  }
  copy(src: Storage, dst: Storage): void {
    if (src.dtype !== dst.dtype) throw new Error(`internal: copy from ${src.dtype} to ${dst.dtype}`);
    (dst as CpuStorage).data.set((src as CpuStorage).data);
  }
  flush(): void {}
  async sync(): Promise<void> {}
  destroy(): void {}
  /** Storages not yet garbage collected (the CPU backend leaves freeing to the GC). */
  memory(): MemoryInfo {
    return { liveBuffers: liveStorages, liveBytes, pooledBytes: 0 };
  }

  unary(op: UnaryOp, x: Storage, scalar: number): Storage {
    const fn = unaryFns[op];
    const src = data(x);
    const out = new Float32Array(src.length);
    // The scalar reaches the other backends' kernels as a float32, so it is rounded here too:
    // x * 1e-46 is 0 on every backend, not a float64 product rounded afterwards.
    const s = Math.fround(scalar);
    for (let i = 0; i < src.length; i++) out[i] = fn(src[i], s);
    return new CpuStorage(out);
  }

  binary(op: BinaryOp, a: Storage, aStrides: readonly number[], b: Storage, bStrides: readonly number[], outShape: Shape): Storage {
    const fn = binaryFns[op];
    const da = data(a),
      db = data(b);
    const out = new Float32Array(sizeOf(outShape));
    forEachIndex(outShape, [aStrides, bStrides], (i, [oa, ob]) => {
      out[i] = fn(da[oa], db[ob]);
    });
    return new CpuStorage(out);
  }

  reduce(op: ReduceOp, x: Storage, shape: Shape, axes: readonly number[]): Storage {
    const src = data(x);
    const strides = stridesOf(shape);
    const kept = shape.map((_, i) => i).filter((i) => !axes.includes(i));
    const keptShape = kept.map((i) => shape[i]);
    const redShape = axes.map((i) => shape[i]);
    const redStrides = axes.map((i) => strides[i]);
    const out = new Float32Array(sizeOf(keptShape));
    forEachIndex(keptShape, [kept.map((i) => strides[i])], (o, [base]) => {
      let acc = op === 'sum' ? 0 : -Infinity;
      forEachIndex(redShape, [redStrides], (_, [r]) => {
        const v = src[base + r];
        acc = op === 'sum' ? acc + v : v > acc || Number.isNaN(v) ? v : acc;
      });
      out[o] = acc;
    });
    return new CpuStorage(out);
  }

  copyStrided(x: Storage, outShape: Shape, strides: readonly number[]): Storage {
    const src = data(x);
    const out = new Float32Array(sizeOf(outShape));
    forEachIndex(outShape, [strides], (i, [o]) => {
      out[i] = src[o];
    });
    return new CpuStorage(out);
  }

  matmul(a: Storage, b: Storage, p: MatmulParams): Storage {
    const A = data(a),
      B = data(b);
    const { batch, m, k, n } = p;
    const out = new Float32Array(batch * m * n);
    const row = new Float64Array(n);
    // A zero in A skips its row of B (ReLU outputs are mostly zeros), unless that row holds a
    // NaN or an infinity: 0 * NaN and 0 * Inf are NaN, as on every other backend.
    const finiteRow = new Uint8Array(k);
    for (let bi = 0; bi < batch; bi++) {
      const oa = bi * p.strideA,
        ob = bi * p.strideB,
        oc = bi * m * n;
      for (let kk = 0; kk < k; kk++) {
        let finite = 1;
        for (let j = 0; j < n && finite; j++) finite = Number.isFinite(B[ob + kk * n + j]) ? 1 : 0;
        finiteRow[kk] = finite;
      }
      for (let i = 0; i < m; i++) {
        row.fill(0);
        for (let kk = 0; kk < k; kk++) {
          const av = A[oa + i * k + kk];
          if (av === 0 && finiteRow[kk]) continue;
          const bRow = ob + kk * n;
          for (let j = 0; j < n; j++) row[j] += av * B[bRow + j];
        }
        for (let j = 0; j < n; j++) out[oc + i * n + j] = row[j];
      }
    }
    return new CpuStorage(out);
  }

  /** Visits every (output pixel, kernel tap) pair that lands inside the input. */
  private convTaps(p: ConvParams, fn: (n: number, o: number, outIdx: number, c: number, inIdx: number, wIdx: number) => void): void {
    for (let n = 0; n < p.batch; n++)
      for (let o = 0; o < p.outC; o++)
        for (let oy = 0; oy < p.outH; oy++)
          for (let ox = 0; ox < p.outW; ox++) {
            const outIdx = ((n * p.outC + o) * p.outH + oy) * p.outW + ox;
            for (let c = 0; c < p.inC; c++)
              for (let ky = 0; ky < p.kH; ky++) {
                const iy = oy * p.strideH - p.padH + ky;
                if (iy < 0 || iy >= p.inH) continue;
                for (let kx = 0; kx < p.kW; kx++) {
                  const ix = ox * p.strideW - p.padW + kx;
                  if (ix < 0 || ix >= p.inW) continue;
                  fn(n, o, outIdx, c, ((n * p.inC + c) * p.inH + iy) * p.inW + ix, ((o * p.inC + c) * p.kH + ky) * p.kW + kx);
                }
              }
          }
  }

  conv2d(x: Storage, w: Storage, p: ConvParams): Storage {
    const X = data(x),
      W = data(w);
    const acc = new Float64Array(p.batch * p.outC * p.outH * p.outW);
    this.convTaps(p, (_n, _o, outIdx, _c, inIdx, wIdx) => {
      acc[outIdx] += X[inIdx] * W[wIdx];
    });
    return new CpuStorage(Float32Array.from(acc));
  }

  conv2dBackwardInput(dy: Storage, w: Storage, p: ConvParams): Storage {
    const DY = data(dy),
      W = data(w);
    const acc = new Float64Array(p.batch * p.inC * p.inH * p.inW);
    this.convTaps(p, (_n, _o, outIdx, _c, inIdx, wIdx) => {
      acc[inIdx] += DY[outIdx] * W[wIdx];
    });
    return new CpuStorage(Float32Array.from(acc));
  }

  conv2dBackwardWeight(x: Storage, dy: Storage, p: ConvParams): Storage {
    const X = data(x),
      DY = data(dy);
    const acc = new Float64Array(p.outC * p.inC * p.kH * p.kW);
    this.convTaps(p, (_n, _o, outIdx, _c, inIdx, wIdx) => {
      acc[wIdx] += DY[outIdx] * X[inIdx];
    });
    return new CpuStorage(Float32Array.from(acc));
  }

  pool2d(mode: PoolMode, x: Storage, p: PoolParams): { out: Storage; argmax: Storage | null } {
    const X = data(x);
    const planes = p.batch * p.channels;
    const out = new Float32Array(planes * p.outH * p.outW);
    // Max pooling's argmax: in-plane indices as int32 bits in a float32 storage (exact for any plane size).
    const argmax = mode === 'max' ? new Float32Array(out.length) : null;
    const argmaxIndex = argmax && new Int32Array(argmax.buffer, argmax.byteOffset, argmax.length);
    for (let pl = 0; pl < planes; pl++)
      for (let oy = 0; oy < p.outH; oy++)
        for (let ox = 0; ox < p.outW; ox++) {
          let best = -Infinity,
            bestIdx = -1,
            sum = 0;
          for (let ky = 0; ky < p.kH; ky++) {
            const iy = oy * p.strideH - p.padH + ky;
            if (iy < 0 || iy >= p.inH) continue;
            for (let kx = 0; kx < p.kW; kx++) {
              const ix = ox * p.strideW - p.padW + kx;
              if (ix < 0 || ix >= p.inW) continue;
              const v = X[(pl * p.inH + iy) * p.inW + ix];
              sum += v;
              // The first maximum; a NaN counts as the largest value.
              if (v > best || bestIdx < 0 || (Number.isNaN(v) && !Number.isNaN(best))) {
                best = v;
                bestIdx = iy * p.inW + ix;
              }
            }
          }
          const o = (pl * p.outH + oy) * p.outW + ox;
          if (argmax) {
            out[o] = best;
            argmaxIndex![o] = bestIdx;
          } else out[o] = sum / (p.kH * p.kW);
        }
    return { out: new CpuStorage(out), argmax: argmax && new CpuStorage(argmax) };
  }

  /**
   * One exact reference for both GPU methods. The key of a value is its float bits without the
   * sign (monotone in |v|; NaN ranks above Infinity, -0 equals 0). A radix select over the
   * keys finds the k-th largest key A (4 histogram passes of 8, 8, 8, 7 bits), then the mask
   * keeps every key > A and the first `k - #(key > A)` keys == A in position order.
   */
  topkMask(segments: readonly Storage[], k: number, method: TopkMethod): Storage[] {
    void method;
    const keys = segments.map((s) => new Uint32Array(data(s).buffer, data(s).byteOffset, s.size));
    const total = segments.reduce((n, s) => n + s.size, 0);
    if (!Number.isInteger(k) || k < 0 || k > total) throw new Error(`topkMask: k=${k} must be an integer in [0, ${total}]`);
    const masks = segments.map((s) => new Float32Array(s.size));
    if (k > 0) {
      const { threshold, ties } = CpuBackend.kthLargestKey(keys, k);
      let tiesLeft = ties;
      keys.forEach((u, si) => {
        const m = masks[si];
        for (let i = 0; i < u.length; i++) {
          const a = u[i] & 0x7fffffff;
          if (a > threshold) m[i] = 1;
          else if (a === threshold && tiesLeft > 0) {
            m[i] = 1;
            tiesLeft--;
          }
        }
      });
    }
    return masks.map((m) => new CpuStorage(m));
  }

  /** The k-th largest (1-based) of the sign-less float bits, and how many equal to it to keep. */
  private static kthLargestKey(keys: readonly Uint32Array[], k: number): { threshold: number; ties: number } {
    let prefix = 0; // the digits fixed so far, in place
    let fixed = 0; // which bits of the key `prefix` fixes
    let rest = k; // rank within the keys that share the prefix
    for (const [shift, width] of [
      [23, 8],
      [15, 8],
      [7, 8],
      [0, 7],
    ]) {
      const digit = (1 << width) - 1;
      const hist = new Uint32Array(digit + 1);
      for (const u of keys) {
        for (let i = 0; i < u.length; i++) {
          const a = u[i] & 0x7fffffff;
          if ((a & fixed) === prefix) hist[(a >>> shift) & digit]++;
        }
      }
      let b = digit;
      while (b > 0 && hist[b] < rest) rest -= hist[b--];
      prefix |= b << shift;
      fixed |= digit << shift;
    }
    return { threshold: prefix, ties: rest };
  }

  pool2dBackward(mode: PoolMode, dy: Storage, argmax: Storage | null, p: PoolParams): Storage {
    const DY = data(dy);
    const AM = argmax && ((d) => new Int32Array(d.buffer, d.byteOffset, d.length))(data(argmax));
    const planes = p.batch * p.channels;
    const dx = new Float32Array(planes * p.inH * p.inW);
    const area = p.kH * p.kW;
    for (let pl = 0; pl < planes; pl++)
      for (let oy = 0; oy < p.outH; oy++)
        for (let ox = 0; ox < p.outW; ox++) {
          const o = (pl * p.outH + oy) * p.outW + ox;
          if (mode === 'max') {
            if (AM![o] >= 0) dx[pl * p.inH * p.inW + AM![o]] += DY[o];
            continue;
          }
          for (let ky = 0; ky < p.kH; ky++) {
            const iy = oy * p.strideH - p.padH + ky;
            if (iy < 0 || iy >= p.inH) continue;
            for (let kx = 0; kx < p.kW; kx++) {
              const ix = ox * p.strideW - p.padW + kx;
              if (ix >= 0 && ix < p.inW) dx[(pl * p.inH + iy) * p.inW + ix] += DY[o] / area;
            }
          }
        }
    return new CpuStorage(dx);
  }

  binaryConv2d(x: Storage, w: BinaryConvWeights, p: ConvParams): Storage {
    const X = data(x);
    const segments = words(w.segments),
      entries = words(w.entries);
    const acc = new Float64Array(p.batch * p.outC * p.outH * p.outW);
    for (let b = 0; b * BINARY_CONV_BLOCK < p.outC; b++)
      for (let e = segments[b]; e < segments[b + 1]; e++) {
        const head = entries[3 * e];
        const c = head & 0xffff,
          ky = (head >>> 16) & 0xff,
          kx = head >>> 24;
        for (let i = 0; i < BINARY_CONV_BLOCK; i++) {
          const byte = (entries[3 * e + 1 + (i >> 2)] >>> (8 * (i & 3))) & 0xff;
          if (byte === 0) continue;
          const sign = byte === 0x7f ? 1 : -1;
          const o = b * BINARY_CONV_BLOCK + i;
          for (let n = 0; n < p.batch; n++)
            for (let oy = 0; oy < p.outH; oy++) {
              const iy = oy * p.strideH - p.padH + ky;
              if (iy < 0 || iy >= p.inH) continue;
              for (let ox = 0; ox < p.outW; ox++) {
                const ix = ox * p.strideW - p.padW + kx;
                if (ix >= 0 && ix < p.inW) acc[((n * p.outC + o) * p.outH + oy) * p.outW + ox] += sign * X[((n * p.inC + c) * p.inH + iy) * p.inW + ix];
              }
            }
        }
      }
    const y = acc.map((v) => w.alpha * v);
    return new CpuStorage(Float32Array.from(y));
  }
}
