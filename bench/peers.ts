// Peer engines for side-by-side benchmarks: jax-js (webgpu device) and
// TensorFlow.js (webgpu backend), both driven from Node on the Dawn `GPU`
// object that the caller creates with the npm package `webgpu`.
//
// Each case builds its random inputs once (the same seeded data for both
// peers); `run()` performs one full computation and waits until the GPU has
// finished it. `flops` counts multiply-adds as 2 FLOPs:
//   matmul          2*m*n*k
//   conv forward    2*n*o*h*w*c*k*k   (stride 1, "same" padding)
//   conv backward   2 * conv forward  (gradients w.r.t. input and weights)
//
// Both peers are loaded with dynamic imports from `setup()`, after the
// navigator shim is installed: tfjs-backend-webgpu registers its backend only
// if `navigator.gpu` exists when the module is evaluated, and jax-js reads
// `navigator` when its WebGPU chunk is loaded.

import type * as TF from '@tensorflow/tfjs';
import type * as JAX from '@jax-js/jax';

type Jax = typeof JAX;
type Tf = typeof TF;
type JaxArray = JAX.Array;

export interface PeerCase {
  name: string;
  flops: number;
  run: () => Promise<void>;
  dispose: () => void;
}

export interface Peer {
  name: string;
  setup(gpu: GPU): Promise<void>;
  matmul(m: number, k: number, n: number): Promise<PeerCase>;
  conv2dForward(n: number, c: number, h: number, w: number, o: number, k: number, pad: number): Promise<PeerCase>;
  conv2dBackward(n: number, c: number, h: number, w: number, o: number, k: number, pad: number): Promise<PeerCase>;
}

/** Define `globalThis.navigator` (Node 20 has none) with the given `gpu`. */
export function installNavigatorShim(gpu: GPU): void {
  const existing = (globalThis as { navigator?: object }).navigator;
  const nav = {
    userAgent: 'Node.js',
    hardwareConcurrency: 2,
    language: 'en-US',
    ...(existing ?? {}),
    gpu,
  };
  Object.defineProperty(globalThis, 'navigator', { value: nav, configurable: true, writable: true });
}

/** Deterministic uniform [-1, 1) data (mulberry32), so both peers see the same inputs. */
function randomData(size: number, seed: number): Float32Array {
  const out = new Float32Array(size);
  let s = seed >>> 0;
  for (let i = 0; i < size; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  }
  return out;
}

function matmulFlops(m: number, k: number, n: number): number {
  return 2 * m * n * k;
}

function convFlops(n: number, c: number, h: number, w: number, o: number, k: number): number {
  return 2 * n * o * h * w * c * k * k;
}

function checkSamePadding(k: number, pad: number): void {
  if (2 * pad !== k - 1) throw new Error(`conv cases assume "same" padding: pad ${pad} with k ${k}`);
}

// ---------------------------------------------------------------------------
// jax-js
// ---------------------------------------------------------------------------

class JaxPeer implements Peer {
  readonly name = 'jax-js';
  #jax: Jax | undefined;

  get #j(): Jax {
    if (!this.#jax) throw new Error('jax-js peer: call setup() first');
    return this.#jax;
  }

  async setup(gpu: GPU): Promise<void> {
    installNavigatorShim(gpu);
    const jax = await import('@jax-js/jax');
    const devices = await jax.init('webgpu');
    if (!devices.includes('webgpu')) throw new Error('jax-js: the webgpu device is not available');
    jax.defaultDevice('webgpu');
    this.#jax = jax;
  }

  /** An on-device array holding `randomData`; the caller owns one reference. */
  #input(shape: number[], seed: number): JaxArray {
    const size = shape.reduce((a, b) => a * b, 1);
    return this.#j.numpy.array(randomData(size, seed), { shape, device: 'webgpu' });
  }

  async #ready(arrays: JaxArray[]): Promise<void> {
    await this.#j.blockUntilReady(arrays);
  }

  async matmul(m: number, k: number, n: number): Promise<PeerCase> {
    const jax = this.#j;
    const a = this.#input([m, k], 1);
    const b = this.#input([k, n], 2);
    await this.#ready([a, b]);
    const f = jax.jit((x: JaxArray, y: JaxArray) => jax.numpy.matmul(x, y));
    return {
      name: `matmul ${m}x${k}x${n}`,
      flops: matmulFlops(m, k, n),
      // jit consumes its arguments: pass `.ref` so the inputs survive the call.
      // blockUntilReady submits the pending kernels and maps a staging buffer,
      // which resolves only once the queue has drained.
      run: async () => {
        const out = f(a.ref, b.ref);
        await out.blockUntilReady();
        out.dispose();
      },
      dispose: () => {
        a.dispose();
        b.dispose();
        f.dispose();
      },
    };
  }

  #conv(x: JaxArray, wt: JaxArray, pad: number): JaxArray {
    return this.#j.lax.convGeneralDilated(x, wt, [1, 1], [[pad, pad], [pad, pad]]);
  }

  async conv2dForward(n: number, c: number, h: number, w: number, o: number, k: number, pad: number): Promise<PeerCase> {
    checkSamePadding(k, pad);
    const jax = this.#j;
    // jax-js convolutions are NCHW input, OIHW kernel.
    const x = this.#input([n, c, h, w], 3);
    const wt = this.#input([o, c, k, k], 4);
    await this.#ready([x, wt]);
    const f = jax.jit((xi: JaxArray, wi: JaxArray) => this.#conv(xi, wi, pad));
    return {
      name: `conv2d fwd n${n} c${c}->${o} ${h}x${w} k${k}`,
      flops: convFlops(n, c, h, w, o, k),
      run: async () => {
        const out = f(x.ref, wt.ref);
        await out.blockUntilReady();
        out.dispose();
      },
      dispose: () => {
        x.dispose();
        wt.dispose();
        f.dispose();
      },
    };
  }

  async conv2dBackward(n: number, c: number, h: number, w: number, o: number, k: number, pad: number): Promise<PeerCase> {
    checkSamePadding(k, pad);
    const jax = this.#j;
    const x = this.#input([n, c, h, w], 3);
    const wt = this.#input([o, c, k, k], 4);
    await this.#ready([x, wt]);
    // d/dx and d/dw of sum(conv(x, w)), jitted. What is computed: the
    // input gradient (a transposed conv of the all-ones cotangent with w) and
    // the weight gradient (a conv of x with the ones cotangent). `grad` drops
    // the primal output, and the derivative of a sum of a linear op does not
    // depend on that output, so the forward conv is dead code for jit: it is
    // not part of the timed work (see the smoke script, which prints the
    // jaxpr). The figure reported is 2 * forward FLOPs regardless.
    const loss = (xi: JaxArray, wi: JaxArray): JaxArray => this.#conv(xi, wi, pad).sum();
    const f = jax.jit(jax.grad(loss, { argnums: [0, 1] }));
    return {
      name: `conv2d bwd n${n} c${c}->${o} ${h}x${w} k${k}`,
      flops: 2 * convFlops(n, c, h, w, o, k),
      run: async () => {
        const [gx, gw] = f(x.ref, wt.ref);
        await this.#ready([gx, gw]);
        gx.dispose();
        gw.dispose();
      },
      dispose: () => {
        x.dispose();
        wt.dispose();
        f.dispose();
      },
    };
  }

  /** The jaxpr of the backward case, for checking what the timed work includes. */
  backwardJaxpr(n: number, c: number, h: number, w: number, o: number, k: number, pad: number): string {
    const jax = this.#j;
    const x = this.#input([n, c, h, w], 3);
    const wt = this.#input([o, c, k, k], 4);
    const loss = (xi: JaxArray, wi: JaxArray): JaxArray => this.#conv(xi, wi, pad).sum();
    const { jaxpr } = jax.makeJaxpr(jax.grad(loss, { argnums: [0, 1] }))(x, wt);
    return String(jaxpr);
  }
}

// ---------------------------------------------------------------------------
// TensorFlow.js
// ---------------------------------------------------------------------------

class TfjsPeer implements Peer {
  readonly name = 'tfjs';
  #tf: Tf | undefined;

  get #t(): Tf {
    if (!this.#tf) throw new Error('tfjs peer: call setup() first');
    return this.#tf;
  }

  async setup(gpu: GPU): Promise<void> {
    installNavigatorShim(gpu);
    // The full package (not tfjs-core alone) registers the gradient kernels.
    const tf = await import('@tensorflow/tfjs');
    // Registers the 'webgpu' backend, now that navigator.gpu exists.
    await import('@tensorflow/tfjs-backend-webgpu');
    // Otherwise small ops whose inputs are still on the CPU run there.
    tf.env().set('WEBGPU_CPU_FORWARD', false);
    if (!(await tf.setBackend('webgpu'))) throw new Error('tfjs: the webgpu backend failed to initialise');
    await tf.ready();
    if (tf.getBackend() !== 'webgpu') throw new Error(`tfjs: backend is ${tf.getBackend()}, not webgpu`);
    this.#tf = tf;
  }

  /** Upload inputs and wait until they are on the GPU. */
  async #input(shape: number[], seed: number): Promise<TF.Tensor> {
    const tf = this.#t;
    const size = shape.reduce((a, b) => a * b, 1);
    const t = tf.tensor(randomData(size, seed), shape, 'float32');
    // A trivial op forces the upload to the GPU buffer before timing.
    const probe = tf.sum(t);
    await probe.data();
    probe.dispose();
    return t;
  }

  /** Run `compute` (synchronous tfjs ops, inside tidy) and wait for its scalar result. */
  async #finish(compute: () => TF.Scalar): Promise<void> {
    const s = this.#t.tidy(compute);
    await s.data();
    s.dispose();
  }

  async matmul(m: number, k: number, n: number): Promise<PeerCase> {
    const tf = this.#t;
    const a = (await this.#input([m, k], 1)) as TF.Tensor2D;
    const b = (await this.#input([k, n], 2)) as TF.Tensor2D;
    return {
      name: `matmul ${m}x${k}x${n}`,
      flops: matmulFlops(m, k, n),
      // The sum adds one small reduction kernel (m*n reads) so that only a
      // scalar is read back.
      run: () => this.#finish(() => tf.sum(tf.matMul(a, b))),
      dispose: () => {
        a.dispose();
        b.dispose();
      },
    };
  }

  async conv2dForward(n: number, c: number, h: number, w: number, o: number, k: number, pad: number): Promise<PeerCase> {
    checkSamePadding(k, pad);
    const tf = this.#t;
    // tfjs convolutions are NHWC input, HWIO filter (its native layout).
    const x = (await this.#input([n, h, w, c], 3)) as TF.Tensor4D;
    const f = (await this.#input([k, k, c, o], 4)) as TF.Tensor4D;
    return {
      name: `conv2d fwd n${n} c${c}->${o} ${h}x${w} k${k}`,
      flops: convFlops(n, c, h, w, o, k),
      run: () => this.#finish(() => tf.sum(tf.conv2d(x, f, 1, 'same'))),
      dispose: () => {
        x.dispose();
        f.dispose();
      },
    };
  }

  async conv2dBackward(n: number, c: number, h: number, w: number, o: number, k: number, pad: number): Promise<PeerCase> {
    checkSamePadding(k, pad);
    const tf = this.#t;
    const x = (await this.#input([n, h, w, c], 3)) as TF.Tensor4D;
    const f = (await this.#input([k, k, c, o], 4)) as TF.Tensor4D;
    // tf.grads runs the forward pass eagerly (conv + sum) to record the tape,
    // then Conv2DBackpropInput and Conv2DBackpropFilter. So the timed work is
    // forward + both gradients (about 3x forward FLOPs of real work), but it
    // is reported as 2 * forward like the other peers.
    const g = tf.grads((xi: TF.Tensor, fi: TF.Tensor) => tf.sum(tf.conv2d(xi as TF.Tensor4D, fi as TF.Tensor4D, 1, 'same')));
    return {
      name: `conv2d bwd n${n} c${c}->${o} ${h}x${w} k${k}`,
      flops: 2 * convFlops(n, c, h, w, o, k),
      run: () =>
        this.#finish(() => {
          const [gx, gf] = g([x, f]);
          return tf.add(tf.sum(gx), tf.sum(gf));
        }),
      dispose: () => {
        x.dispose();
        f.dispose();
      },
    };
  }
}

export const jaxPeer = new JaxPeer();
export const tfjsPeer = new TfjsPeer();
export const peers: Peer[] = [jaxPeer, tfjsPeer];

// ---------------------------------------------------------------------------
// onnxruntime-web: top-k only (it has no autograd, so no matmul/conv training cases)
// ---------------------------------------------------------------------------

/** Protobuf wire format, just enough to write a small ONNX model. */
const pb = {
  varint(v: number): number[] {
    const out: number[] = [];
    let x = BigInt.asUintN(64, BigInt(v));
    do {
      let b = Number(x & 0x7fn);
      x >>= 7n;
      if (x) b |= 0x80;
      out.push(b);
    } while (x);
    return out;
  },
  int(field: number, v: number): number[] {
    return [...pb.varint(field << 3), ...pb.varint(v)];
  },
  bytes(field: number, b: ArrayLike<number>): number[] {
    return [...pb.varint((field << 3) | 2), ...pb.varint(b.length), ...Array.from(b)];
  },
  str(field: number, s: string): number[] {
    return pb.bytes(field, new TextEncoder().encode(s));
  },
};

const ONNX_FLOAT = 1;
const ONNX_INT64 = 7;
const ONNX_ATTRIBUTE_INT = 2;

/** ValueInfoProto: name and tensor type (elem type, dims). */
function valueInfo(name: string, elemType: number, dims: number[]): number[] {
  const shape = pb.bytes(2, dims.flatMap((d) => pb.bytes(1, pb.int(1, d))));
  return [...pb.str(1, name), ...pb.bytes(2, pb.bytes(1, [...pb.int(1, elemType), ...shape]))];
}

/** An ONNX model (opset 13): values, indices = TopK(Abs(x), k), unsorted, x of n floats. */
export function onnxTopkModel(n: number, k: number): Uint8Array {
  const abs = [...pb.str(1, 'x'), ...pb.str(2, 'a'), ...pb.str(4, 'Abs')];
  const sorted = [...pb.str(1, 'sorted'), ...pb.int(3, 0), ...pb.int(20, ONNX_ATTRIBUTE_INT)];
  const topk = [...pb.str(1, 'a'), ...pb.str(1, 'k'), ...pb.str(2, 'values'), ...pb.str(2, 'indices'), ...pb.str(4, 'TopK'), ...pb.bytes(5, sorted)];
  const kTensor = [...pb.int(1, 1), ...pb.int(2, ONNX_INT64), ...pb.str(8, 'k'), ...pb.bytes(9, new Uint8Array(BigInt64Array.of(BigInt(k)).buffer))];
  const graph = [
    ...pb.bytes(1, abs), ...pb.bytes(1, topk), ...pb.str(2, 'topk'), ...pb.bytes(5, kTensor),
    ...pb.bytes(11, valueInfo('x', ONNX_FLOAT, [n])),
    ...pb.bytes(12, valueInfo('values', ONNX_FLOAT, [k])),
    ...pb.bytes(12, valueInfo('indices', ONNX_INT64, [k])),
  ];
  return new Uint8Array([...pb.int(1, 8), ...pb.bytes(8, [...pb.str(1, ''), ...pb.int(2, 13)]), ...pb.bytes(7, graph)]);
}

let sharedMemoryWritesAccepted = false;

/**
 * Dawn's queue.writeBuffer rejects views of a SharedArrayBuffer ("Invalid argument"), and
 * onnxruntime-web's WebAssembly memory is one: copy such data first (patches GPUQueue once).
 */
async function acceptSharedMemoryWrites(): Promise<void> {
  if (sharedMemoryWritesAccepted) return;
  Object.assign(globalThis, (await import('webgpu')).globals); // as init() does: GPUQueue and friends
  const proto = GPUQueue.prototype;
  const write = proto.writeBuffer;
  proto.writeBuffer = function (this: GPUQueue, buffer: GPUBuffer, offset: number, data: GPUAllowSharedBufferSource, dataOffset = 0, size?: number): undefined {
    if (ArrayBuffer.isView(data) && data.buffer instanceof SharedArrayBuffer) {
      const unit = 'BYTES_PER_ELEMENT' in data ? (data.BYTES_PER_ELEMENT as number) : 1;
      const start = data.byteOffset + dataOffset * unit;
      const length = size !== undefined ? size * unit : data.byteLength - dataOffset * unit;
      return write.call(this, buffer, offset, new Uint8Array(data.buffer, start, length).slice());
    }
    return write.call(this, buffer, offset, data, dataOffset, size);
  };
  sharedMemoryWritesAccepted = true;
}

/**
 * onnxruntime-web's TopK of |x| on its WebGPU execution provider, on `gpu` (via the navigator
 * shim): `run()` returns the k indices. The first run compiles its kernels (75 s at n = 266,200
 * on SwiftShader): warm up before timing.
 */
export async function onnxTopk(gpu: GPU, x: Float32Array, k: number): Promise<{ run: () => Promise<Int32Array>; dispose: () => Promise<void> }> {
  installNavigatorShim(gpu);
  await acceptSharedMemoryWrites();
  const ort = await import('onnxruntime-web/webgpu');
  ort.env.wasm.numThreads = 1;
  const session = await ort.InferenceSession.create(onnxTopkModel(x.length, k), { executionProviders: ['webgpu'] });
  const input = new ort.Tensor('float32', x, [x.length]);
  return {
    async run() {
      const out = await session.run({ x: input });
      const indices = Int32Array.from(out.indices.data as BigInt64Array, Number);
      for (const t of Object.values(out)) t.dispose();
      return indices;
    },
    dispose: () => session.release(),
  };
}
