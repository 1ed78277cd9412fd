// Engines for side-by-side benchmarks: the peers (onnxruntime-web and jax-js on WebAssembly,
// jax-js and TensorFlow.js on WebGPU through the Dawn `GPU` object of the npm package
// `webgpu`); bench/ops.ts adds ticketgrad on each backend.
//
// Every engine computes the same cases from the same seeded data (randomData, NCHW / OIHW
// layouts; tfjs transposes to its NHWC / HWIO before timing), so their results can be
// compared: `result()` gives a case's outputs (matmul: C; conv forward: Y; conv backward:
// dX and dW of sum(conv(x, w)), i.e. with an all-ones output gradient). `run()` performs one
// full computation and waits until it has finished. `flops` counts multiply-adds as 2 FLOPs:
//   matmul          2*m*n*k
//   conv forward    2*n*o*h*w*c*k*k   (stride 1, "same" padding)
//   conv backward   2 * conv forward  (gradients w.r.t. input and weights)
//
// Peers are loaded with dynamic imports from `open()`: tfjs-backend-webgpu registers its
// backend only if `navigator.gpu` exists when the module is evaluated, and jax-js reads
// `navigator` when its WebGPU chunk is loaded. jax-js's wasm device starts Web Workers from
// blob URLs, which Node cannot load: with no global `Worker` it runs one thread (withoutWorker).

import type * as TF from '@tensorflow/tfjs';
import { sizeOf } from '../src/shape.js';
import type * as JAX from '@jax-js/jax';

type Jax = typeof JAX;
type JaxArray = JAX.Array;

export interface PeerCase {
  name: string;
  flops: number;
  run: () => Promise<void>;
  /** The outputs, for checking against another engine. */
  result: () => Promise<Float32Array[]>;
  dispose: () => void;
}

/** The benchmark shapes: matmul m x k x n; convolutions n c h w -> o, k x k, "same" padding. */
export interface ConvShape {
  n: number;
  c: number;
  h: number;
  w: number;
  o: number;
  k: number;
  pad: number;
}

export interface EngineCases {
  matmul?(m: number, k: number, n: number): Promise<PeerCase>;
  conv2dForward?(s: ConvShape): Promise<PeerCase>;
  conv2dBackward?(s: ConvShape): Promise<PeerCase>;
}

export interface Engine {
  /** e.g. 'onnxruntime-web wasm, 1 thread' */
  name: string;
  /** What it runs on: engines are timed side by side with the others of their device. */
  device: 'wasm' | 'webgpu';
  /** Loads and initialises the engine; returns the cases it can run. */
  open(): Promise<EngineCases>;
  close?(): void;
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

/** Deterministic uniform [-1, 1) data (mulberry32), so every engine sees the same inputs. */
export function randomData(size: number, seed: number): Float32Array {
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

/** The seeds of the inputs, shared by every engine. */
export const SEEDS = { a: 1, b: 2, x: 3, w: 4 } as const;

export function matmulFlops(m: number, k: number, n: number): number {
  return 2 * m * n * k;
}

export function convFlops(s: ConvShape): number {
  return 2 * s.n * s.o * s.h * s.w * s.c * s.k * s.k;
}

function checkSamePadding(s: ConvShape): void {
  if (2 * s.pad !== s.k - 1) throw new Error(`conv cases assume "same" padding: pad ${s.pad} with k ${s.k}`);
}

// ---------------------------------------------------------------------------
// jax-js (wasm or webgpu device)
// ---------------------------------------------------------------------------

/**
 * Runs `fn` with no global Worker: jax-js looks for one whenever it creates memory or compiles
 * a wasm kernel (Node has none, but onnxruntime-web defines one), and with one it wants Web
 * Workers from blob URLs, which Node cannot load.
 */
async function withoutWorker<T>(fn: () => Promise<T>): Promise<T> {
  const scope = globalThis as { Worker?: unknown };
  const hidden = scope.Worker;
  delete scope.Worker;
  try {
    return await fn();
  } finally {
    if (hidden) scope.Worker = hidden;
  }
}

class JaxEngine implements Engine {
  readonly name: string;
  readonly device: 'wasm' | 'webgpu';
  #jax: Jax | undefined;

  constructor(
    device: 'wasm' | 'webgpu',
    private readonly gpu: GPU | null,
  ) {
    this.device = device;
    this.name = device === 'wasm' ? 'jax-js wasm, 1 thread' : 'jax-js webgpu';
  }

  get #j(): Jax {
    if (!this.#jax) throw new Error('jax-js engine: call open() first');
    return this.#jax;
  }

  async open(): Promise<EngineCases> {
    if (this.gpu) installNavigatorShim(this.gpu);
    const jax = await import('@jax-js/jax');
    const devices = await withoutWorker(() => jax.init(this.device));
    if (!devices.includes(this.device)) throw new Error(`jax-js: the ${this.device} device is not available`);
    jax.defaultDevice(this.device);
    this.#jax = jax;
    return { matmul: (m, k, n) => this.#matmul(m, k, n), conv2dForward: (s) => this.#conv2dForward(s), conv2dBackward: (s) => this.#conv2dBackward(s) };
  }

  /** An on-device array holding `randomData`; the caller owns one reference. */
  #input(shape: number[], seed: number): JaxArray {
    return this.#j.numpy.array(randomData(sizeOf(shape), seed), { shape, device: this.device });
  }

  async #data(...arrays: JaxArray[]): Promise<Float32Array[]> {
    const out = await Promise.all(arrays.map(async (a) => Float32Array.from((await a.data()) as Float32Array)));
    return out;
  }

  /** A case of a jitted function of two inputs; jit consumes its arguments: `.ref` keeps them. */
  #case(name: string, flops: number, a: JaxArray, b: JaxArray, f: (x: JaxArray, y: JaxArray) => JaxArray | JaxArray[]): PeerCase {
    const jax = this.#j;
    const call = (): JaxArray[] => {
      // The wasm and the webgpu engine share the module: each runs on its own device.
      jax.defaultDevice(this.device);
      const out = f(a.ref, b.ref);
      return Array.isArray(out) ? out : [out];
    };
    return {
      name,
      flops,
      run: () =>
        withoutWorker(async () => {
          const out = call();
          await jax.blockUntilReady(out);
          out.forEach((o) => o.dispose());
        }),
      result: () => withoutWorker(() => this.#data(...call())),
      dispose: () => {
        a.dispose();
        b.dispose();
      },
    };
  }

  async #matmul(m: number, k: number, n: number): Promise<PeerCase> {
    const jax = this.#j;
    const f = jax.jit((x: JaxArray, y: JaxArray) => jax.numpy.matmul(x, y));
    return this.#case(`matmul ${m}x${k}x${n}`, matmulFlops(m, k, n), this.#input([m, k], SEEDS.a), this.#input([k, n], SEEDS.b), f);
  }

  #conv(x: JaxArray, wt: JaxArray, pad: number): JaxArray {
    return this.#j.lax.convGeneralDilated(
      x,
      wt,
      [1, 1],
      [
        [pad, pad],
        [pad, pad],
      ],
    );
  }

  async #conv2dForward(s: ConvShape): Promise<PeerCase> {
    checkSamePadding(s);
    const jax = this.#j;
    // jax-js convolutions are NCHW input, OIHW kernel.
    const f = jax.jit((xi: JaxArray, wi: JaxArray) => this.#conv(xi, wi, s.pad));
    return this.#case('conv2d forward', convFlops(s), this.#input([s.n, s.c, s.h, s.w], SEEDS.x), this.#input([s.o, s.c, s.k, s.k], SEEDS.w), f);
  }

  async #conv2dBackward(s: ConvShape): Promise<PeerCase> {
    checkSamePadding(s);
    const jax = this.#j;
    // d/dx and d/dw of sum(conv(x, w)), jitted: the input gradient (a transposed conv of the
    // all-ones cotangent with w) and the weight gradient. `grad` drops the primal output and
    // the derivative of a sum of a linear op does not depend on it, so the forward conv is
    // dead code for jit: not part of the timed work.
    const loss = (xi: JaxArray, wi: JaxArray): JaxArray => this.#conv(xi, wi, s.pad).sum();
    const f = jax.jit(jax.grad(loss, { argnums: [0, 1] })) as unknown as (x: JaxArray, y: JaxArray) => JaxArray[];
    return this.#case('conv2d backward', 2 * convFlops(s), this.#input([s.n, s.c, s.h, s.w], SEEDS.x), this.#input([s.o, s.c, s.k, s.k], SEEDS.w), f);
  }
}

// ---------------------------------------------------------------------------
// TensorFlow.js (webgpu backend)
// ---------------------------------------------------------------------------

class TfjsEngine implements Engine {
  readonly name = 'tfjs webgpu';
  readonly device = 'webgpu';
  #tf: typeof TF | undefined;

  constructor(private readonly gpu: GPU) {}

  get #t(): typeof TF {
    if (!this.#tf) throw new Error('tfjs engine: call open() first');
    return this.#tf;
  }

  async open(): Promise<EngineCases> {
    await this.setup();
    return { matmul: (m, k, n) => this.#matmul(m, k, n), conv2dForward: (s) => this.#conv2dForward(s), conv2dBackward: (s) => this.#conv2dBackward(s) };
  }

  /** Loads tfjs on the WebGPU backend (also used by bench:mask). */
  async setup(): Promise<typeof TF> {
    if (this.#tf) return this.#tf;
    installNavigatorShim(this.gpu);
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
    return tf;
  }

  /** Uploads the NCHW / OIHW data in tfjs's layout (`perm`) and waits until it is on the GPU. */
  async #input(shape: number[], seed: number, perm?: number[]): Promise<TF.Tensor> {
    const tf = this.#t;
    const base = tf.tensor(randomData(sizeOf(shape), seed), shape, 'float32');
    const t = perm ? tf.transpose(base, perm) : base;
    if (perm) base.dispose();
    // A trivial op forces the upload to the GPU buffer before timing.
    const probe = tf.sum(t);
    await probe.data();
    probe.dispose();
    return t;
  }

  /** Runs `compute` (synchronous tfjs ops, inside tidy) and waits for its scalar result. */
  async #finish(compute: () => TF.Scalar): Promise<void> {
    const s = this.#t.tidy(compute);
    await s.data();
    s.dispose();
  }

  /** Outputs back in NCHW / OIHW layout (`perm`s undo tfjs's). */
  async #read(outputs: TF.Tensor[], perms: (number[] | null)[]): Promise<Float32Array[]> {
    const tf = this.#t;
    const values = await Promise.all(outputs.map((o, i) => tf.tidy(() => (perms[i] ? tf.transpose(o, perms[i]!) : o.clone())).data() as Promise<Float32Array>));
    tf.dispose(outputs);
    return values;
  }

  async #matmul(m: number, k: number, n: number): Promise<PeerCase> {
    const tf = this.#t;
    const a = (await this.#input([m, k], SEEDS.a)) as TF.Tensor2D;
    const b = (await this.#input([k, n], SEEDS.b)) as TF.Tensor2D;
    return {
      name: `matmul ${m}x${k}x${n}`,
      flops: matmulFlops(m, k, n),
      // The sum adds one small reduction kernel (m*n reads) so that only a scalar is read back.
      run: () => this.#finish(() => tf.sum(tf.matMul(a, b))),
      result: () => this.#read([tf.matMul(a, b)], [null]),
      dispose: () => tf.dispose([a, b]),
    };
  }

  async #conv2dForward(s: ConvShape): Promise<PeerCase> {
    checkSamePadding(s);
    const tf = this.#t;
    // tfjs convolutions are NHWC input, HWIO filter (its native layout).
    const x = (await this.#input([s.n, s.c, s.h, s.w], SEEDS.x, [0, 2, 3, 1])) as TF.Tensor4D;
    const f = (await this.#input([s.o, s.c, s.k, s.k], SEEDS.w, [2, 3, 1, 0])) as TF.Tensor4D;
    return {
      name: 'conv2d forward',
      flops: convFlops(s),
      run: () => this.#finish(() => tf.sum(tf.conv2d(x, f, 1, 'same'))),
      result: () => this.#read([tf.conv2d(x, f, 1, 'same')], [[0, 3, 1, 2]]),
      dispose: () => tf.dispose([x, f]),
    };
  }

  async #conv2dBackward(s: ConvShape): Promise<PeerCase> {
    checkSamePadding(s);
    const tf = this.#t;
    const x = (await this.#input([s.n, s.c, s.h, s.w], SEEDS.x, [0, 2, 3, 1])) as TF.Tensor4D;
    const f = (await this.#input([s.o, s.c, s.k, s.k], SEEDS.w, [2, 3, 1, 0])) as TF.Tensor4D;
    // tf.grads runs the forward pass eagerly (conv + sum) to record the tape, then
    // Conv2DBackpropInput and Conv2DBackpropFilter. So the timed work is forward + both
    // gradients (about 3x forward FLOPs of real work), but it is reported as 2 * forward.
    const g = tf.grads((xi: TF.Tensor, fi: TF.Tensor) => tf.sum(tf.conv2d(xi as TF.Tensor4D, fi as TF.Tensor4D, 1, 'same')));
    return {
      name: 'conv2d backward',
      flops: 2 * convFlops(s),
      run: () =>
        this.#finish(() => {
          const [gx, gf] = g([x, f]);
          return tf.add(tf.sum(gx), tf.sum(gf));
        }),
      result: () =>
        this.#read(g([x, f]), [
          [0, 3, 1, 2],
          [3, 2, 0, 1],
        ]),
      dispose: () => tf.dispose([x, f]),
    };
  }
}

// ---------------------------------------------------------------------------
// onnxruntime-web on WebAssembly: inference only (no autograd), so no backward case
// ---------------------------------------------------------------------------

class OrtWasmEngine implements Engine {
  readonly name = 'onnxruntime-web wasm, 1 thread';
  readonly device = 'wasm';
  #ort: typeof import('onnxruntime-web') | undefined;

  async open(): Promise<EngineCases> {
    const ort = await import('onnxruntime-web');
    ort.env.wasm.numThreads = 1;
    this.#ort = ort;
    return { matmul: (m, k, n) => this.#matmul(m, k, n), conv2dForward: (s) => this.#conv2dForward(s) };
  }

  async #case(name: string, flops: number, model: Uint8Array, inputs: Record<string, [number[], number]>, output: string): Promise<PeerCase> {
    const ort = this.#ort!;
    const session = await ort.InferenceSession.create(model, { executionProviders: ['wasm'] });
    const feeds = Object.fromEntries(Object.entries(inputs).map(([k, [shape, seed]]) => [k, new ort.Tensor('float32', randomData(sizeOf(shape), seed), shape)]));
    const call = async (): Promise<Float32Array> => {
      const out = await session.run(feeds);
      const values = Float32Array.from(out[output].data as Float32Array);
      for (const t of Object.values(out)) t.dispose();
      return values;
    };
    return {
      name,
      flops,
      run: async () => void (await call()),
      result: async () => [await call()],
      dispose: () => void session.release(),
    };
  }

  #matmul(m: number, k: number, n: number): Promise<PeerCase> {
    const node = [...pb.str(1, 'a'), ...pb.str(1, 'b'), ...pb.str(2, 'c'), ...pb.str(4, 'MatMul')];
    const model = onnxModel(
      node,
      [
        ['a', [m, k]],
        ['b', [k, n]],
      ],
      [['c', [m, n]]],
    );
    return this.#case(`matmul ${m}x${k}x${n}`, matmulFlops(m, k, n), model, { a: [[m, k], SEEDS.a], b: [[k, n], SEEDS.b] }, 'c');
  }

  #conv2dForward(s: ConvShape): Promise<PeerCase> {
    checkSamePadding(s);
    const attrs = [ints('pads', [s.pad, s.pad, s.pad, s.pad]), ints('kernel_shape', [s.k, s.k])].flatMap((a) => pb.bytes(5, a));
    const node = [...pb.str(1, 'x'), ...pb.str(1, 'w'), ...pb.str(2, 'y'), ...pb.str(4, 'Conv'), ...attrs];
    const xShape = [s.n, s.c, s.h, s.w],
      wShape = [s.o, s.c, s.k, s.k];
    const model = onnxModel(
      node,
      [
        ['x', xShape],
        ['w', wShape],
      ],
      [['y', [s.n, s.o, s.h, s.w]]],
    );
    return this.#case('conv2d forward', convFlops(s), model, { x: [xShape, SEEDS.x], w: [wShape, SEEDS.w] }, 'y');
  }
}

/** The peers, in the order bench/ops.ts shows them; `gpu` null leaves out the WebGPU ones. */
export function peerEngines(gpu: GPU | null): Engine[] {
  const engines: Engine[] = [new OrtWasmEngine(), new JaxEngine('wasm', null)];
  if (gpu) engines.push(new JaxEngine('webgpu', gpu), new TfjsEngine(gpu));
  return engines;
}

/** tfjs on WebGPU, for bench:mask's top-k peer. */
export const tfjsOn = (gpu: GPU): TfjsEngine => new TfjsEngine(gpu);

// ---------------------------------------------------------------------------
// ONNX models for onnxruntime-web, and its TopK on WebGPU (bench:mask)
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
const ONNX_ATTRIBUTE_INTS = 7;

/** AttributeProto of a list of integers. */
function ints(name: string, values: readonly number[]): number[] {
  return [...pb.str(1, name), ...values.flatMap((v) => pb.int(8, v)), ...pb.int(20, ONNX_ATTRIBUTE_INTS)];
}

/** ModelProto (IR version 8, opset 13) of a GraphProto's fields. */
function modelProto(graph: number[]): Uint8Array {
  return new Uint8Array([...pb.int(1, 8), ...pb.bytes(8, [...pb.str(1, ''), ...pb.int(2, 13)]), ...pb.bytes(7, graph)]);
}

/** An ONNX model of one node over float tensors: inputs and outputs as [name, dims]. */
function onnxModel(node: number[], inputs: [string, number[]][], outputs: [string, number[]][]): Uint8Array {
  return modelProto([
    ...pb.bytes(1, node),
    ...pb.str(2, 'g'),
    ...inputs.flatMap(([name, dims]) => pb.bytes(11, valueInfo(name, ONNX_FLOAT, dims))),
    ...outputs.flatMap(([name, dims]) => pb.bytes(12, valueInfo(name, ONNX_FLOAT, dims))),
  ]);
}

/** ValueInfoProto: name and tensor type (elem type, dims). */
function valueInfo(name: string, elemType: number, dims: number[]): number[] {
  const shape = pb.bytes(
    2,
    dims.flatMap((d) => pb.bytes(1, pb.int(1, d))),
  );
  return [...pb.str(1, name), ...pb.bytes(2, pb.bytes(1, [...pb.int(1, elemType), ...shape]))];
}

/** An ONNX model (opset 13): values, indices = TopK(Abs(x), k), unsorted, x of n floats. */
function onnxTopkModel(n: number, k: number): Uint8Array {
  const abs = [...pb.str(1, 'x'), ...pb.str(2, 'a'), ...pb.str(4, 'Abs')];
  const sorted = [...pb.str(1, 'sorted'), ...pb.int(3, 0), ...pb.int(20, ONNX_ATTRIBUTE_INT)];
  const topk = [...pb.str(1, 'a'), ...pb.str(1, 'k'), ...pb.str(2, 'values'), ...pb.str(2, 'indices'), ...pb.str(4, 'TopK'), ...pb.bytes(5, sorted)];
  const kTensor = [...pb.int(1, 1), ...pb.int(2, ONNX_INT64), ...pb.str(8, 'k'), ...pb.bytes(9, new Uint8Array(BigInt64Array.of(BigInt(k)).buffer))];
  return modelProto([
    ...pb.bytes(1, abs),
    ...pb.bytes(1, topk),
    ...pb.str(2, 'topk'),
    ...pb.bytes(5, kTensor),
    ...pb.bytes(11, valueInfo('x', ONNX_FLOAT, [n])),
    ...pb.bytes(12, valueInfo('values', ONNX_FLOAT, [k])),
    ...pb.bytes(12, valueInfo('indices', ONNX_INT64, [k])),
  ]);
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
