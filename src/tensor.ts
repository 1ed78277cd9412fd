// Tensors and reverse-mode autograd, in the spirit of micrograd: every operation that needs a
// gradient records its inputs and a closure mapping the output's gradient to the inputs'
// gradients; `backward()` walks that graph in reverse topological order.
//
// Data lives in a backend Storage (a Float32Array, a block of wasm memory or a GPUBuffer).
// Storages are reference counted because reshape shares them; a tensor's `dispose()` drops its
// reference. The ops (src/ops/) build on this class; the chaining methods (`x.add(y)`) are added
// above them, by tensor-methods.ts.

import { type Backend, type Storage, readF32 } from './backend/backend.js';
import { type BackendName, getBackend, isGradEnabled, keep, noGrad, track } from './engine.js';
import { type Shape, checkShape, shapeStr, sizeOf, stridesOf } from './shape.js';
import { normalArray, uniformArray } from './random.js';

/** Maps the output gradient to one gradient per input (null where an input needs none). */
export type BackwardFn = (grad: Tensor) => (Tensor | null)[];

interface GradNode {
  inputs: Tensor[];
  /** The inputs' storage versions when the operation ran (see `assign`). */
  versions: number[];
  backward: BackwardFn;
  op: string;
}

/**
 * How many times `assign` has overwritten a storage. A backward closure reads its inputs'
 * values when it runs, so an input overwritten in between would give a wrong gradient without a
 * word; backward() compares these counts with those the operation saw, as PyTorch does.
 */
const storageVersions = new WeakMap<Storage, number>();
const versionOf = (s: Storage): number => storageVersions.get(s) ?? 0;

export interface TensorOptions {
  requiresGrad?: boolean;
  backend?: BackendName;
}

export class Tensor {
  readonly shape: readonly number[];
  readonly size: number;
  readonly backend: Backend;
  requiresGrad: boolean;
  /** Accumulated gradient of a leaf tensor after `backward()`. */
  grad: Tensor | null = null;
  private _storage: Storage | null;
  private node: GradNode | null = null;

  constructor(storage: Storage, shape: Shape, backend: Backend, requiresGrad = false) {
    this.shape = Object.freeze([...shape]);
    this.size = sizeOf(shape);
    if (storage.size !== this.size) throw new Error(`internal: storage of ${storage.size} elements for shape ${shapeStr(shape)}`);
    this._storage = storage;
    storage.refs++;
    this.backend = backend;
    this.requiresGrad = requiresGrad;
    track(this);
  }

  /** The output of an operation: records the graph when any input needs a gradient. */
  static fromOp(storage: Storage, shape: Shape, inputs: Tensor[], op: string, backward: BackwardFn): Tensor {
    const needs = isGradEnabled() && inputs.some((t) => t.requiresGrad);
    const t = new Tensor(storage, shape, inputs[0].backend, needs);
    if (needs) t.node = { inputs, versions: inputs.map((x) => versionOf(x.storage)), backward, op };
    return t;
  }

  get storage(): Storage {
    if (!this._storage) throw new Error(`tensor of shape ${shapeStr(this.shape)} was used after dispose()`);
    return this._storage;
  }

  get rank(): number {
    return this.shape.length;
  }

  get disposed(): boolean {
    return this._storage === null;
  }

  /** True for tensors created by the user (not by an operation). */
  get isLeaf(): boolean {
    return this.node === null;
  }

  /** Copies the values to the host; submits any pending GPU work. */
  async data(): Promise<Float32Array> {
    return readF32(this.backend, this.storage);
  }

  /** The value of a one-element tensor. */
  async item(): Promise<number> {
    if (this.size !== 1) throw new Error(`item() needs a one-element tensor, got shape ${shapeStr(this.shape)}`);
    return (await this.data())[0];
  }

  dispose(): void {
    if (!this._storage) return;
    if (--this._storage.refs === 0) this.backend.release(this._storage);
    this._storage = null;
    this.node = null;
    this.zeroGrad();
  }

  /** Drops the accumulated gradient. */
  zeroGrad(): void {
    this.grad?.dispose();
    this.grad = null;
  }

  /** A tensor sharing this one's storage, cut from the graph. */
  detach(): Tensor {
    return new Tensor(this.storage, this.shape, this.backend, false);
  }

  /** Same storage under another shape (of the same size), still in the graph of this tensor. */
  view(shape: Shape, backward: BackwardFn, op: string): Tensor {
    return Tensor.fromOp(this.storage, shape, [this], op, backward);
  }

  /**
   * Overwrites this tensor's values with those of `source` (same shape), in place: how
   * optimizers update parameters. Tensors sharing the storage (reshape views, detach) see the
   * new values; `source` may be disposed afterwards.
   */
  assign(source: Tensor): this {
    if (source.shape.length !== this.shape.length || source.shape.some((d, i) => d !== this.shape[i])) {
      throw new Error(`assign: shape ${shapeStr(source.shape)} does not match ${shapeStr(this.shape)}`);
    }
    if (source.backend !== this.backend) throw new Error('assign: tensors live on different backends');
    if (source.storage !== this.storage) {
      this.backend.copy(source.storage, this.storage);
      storageVersions.set(this.storage, versionOf(this.storage) + 1);
    }
    return this;
  }

  /**
   * Back-propagates from this tensor. Without an argument the tensor must have one element
   * (a loss); otherwise `grad` is the upstream gradient, of this tensor's shape. Gradients of
   * leaf tensors with `requiresGrad` accumulate into `.grad`.
   */
  backward(grad?: Tensor): void {
    if (this.disposed) throw new Error(`backward(): tensor of shape ${shapeStr(this.shape)} was used after dispose()`);
    if (!this.requiresGrad) throw new Error('backward(): this tensor does not require a gradient (no input had requiresGrad: true)');
    if (grad === undefined) {
      if (this.size !== 1) {
        throw new Error(`backward(): tensor of shape ${shapeStr(this.shape)} is not a scalar; pass the upstream gradient, backward(grad)`);
      }
      grad = noGrad(() => ones(this.shape, { backend: this.backend.name }));
    } else if (!(grad instanceof Tensor)) {
      throw new Error('backward(grad): grad must be a Tensor');
    } else if (grad.size !== this.size || grad.shape.some((d, i) => d !== this.shape[i])) {
      throw new Error(`backward(grad): gradient of shape ${shapeStr(grad.shape)} does not match the tensor's ${shapeStr(this.shape)}`);
    } else if (grad.backend !== this.backend) {
      throw new Error(`backward(grad): the gradient lives on ${grad.backend.name}, the tensor on ${this.backend.name}`);
    }

    // Reverse topological order by an explicit-stack DFS (deep nets would overflow recursion).
    const order: Tensor[] = [];
    const seen = new Set<Tensor>();
    const stack: [Tensor, number][] = [[this, 0]];
    seen.add(this);
    while (stack.length) {
      const top = stack[stack.length - 1];
      const [t, i] = top;
      const inputs = t.node?.inputs ?? [];
      if (i < inputs.length) {
        top[1]++;
        const next = inputs[i];
        if (next.requiresGrad && !seen.has(next)) {
          // A disposed tensor has lost its node and would pass for a leaf: the gradient would
          // silently stop there.
          if (next.disposed) {
            throw new Error(
              `backward(): the graph reaches a tensor of shape ${shapeStr(next.shape)} (an input of ${t.node!.op}) that was disposed, ` +
                'by dispose() or by the tg.scope it was created in; call backward() inside that scope',
            );
          }
          seen.add(next);
          stack.push([next, 0]);
        }
      } else {
        order.push(t);
        stack.pop();
      }
    }

    const grads = new Map<Tensor, Tensor>([[this, grad]]);
    // Storages already handed out: the caller's upstream gradient and leaves' gradients. An op
    // may pass its gradient through unchanged (add, reshape), so a leaf whose gradient would
    // share one of these gets a copy: writing to a.grad must not change b.grad or the caller's.
    const handedOut = new Set<Storage>([grad.storage]);
    noGrad(() => {
      for (let i = order.length - 1; i >= 0; i--) {
        const t = order[i];
        const g = grads.get(t);
        if (!g) continue;
        if (!t.node) {
          // A leaf keeps its own reference to the gradient's storage, outside any scope.
          const own = keep(handedOut.has(g.storage) ? copyOf(g) : g.detach());
          handedOut.add(own.storage);
          if (t.grad) {
            const sum = keep(addSameShape(t.grad, own));
            t.grad.dispose();
            own.dispose();
            t.grad = sum;
          } else t.grad = own;
          continue;
        }
        const changed = t.node.inputs.findIndex((input, k) => !input.disposed && versionOf(input.storage) !== t.node!.versions[k]);
        if (changed >= 0) {
          throw new Error(
            `backward(): input ${changed} of ${t.node.op} (shape ${shapeStr(t.node.inputs[changed].shape)}) was overwritten by assign() after the forward pass; ` +
              'its gradient would use the new values (assign after backward(), or recompute the forward)',
          );
        }
        const inputGrads = t.node.backward(g);
        t.node.inputs.forEach((input, k) => {
          const ig = inputGrads[k];
          if (!ig || !input.requiresGrad) return;
          if (ig.size !== input.size) {
            throw new Error(`internal: ${t.node!.op} produced a gradient of shape ${shapeStr(ig.shape)} for an input of shape ${shapeStr(input.shape)}`);
          }
          const prev = grads.get(input);
          grads.set(input, prev ? addSameShape(prev, ig) : ig);
        });
      }
    });
  }

  toString(): string {
    return `Tensor(${shapeStr(this.shape)}, ${this.backend.name}${this.requiresGrad ? ', requiresGrad' : ''})`;
  }
}

/** A tensor with its own storage holding `t`'s values, outside the graph. */
function copyOf(t: Tensor): Tensor {
  return new Tensor(t.backend.copyStrided(t.storage, t.shape, stridesOf(t.shape)), t.shape, t.backend);
}

/** a + b for two tensors of one shape, outside the graph: how backward() accumulates gradients. */
function addSameShape(a: Tensor, b: Tensor): Tensor {
  const strides = stridesOf(a.shape);
  return new Tensor(a.backend.binary('add', a.storage, strides, b.storage, strides, a.shape), a.shape, a.backend);
}

// ---- creation ----

type NestedArray = number | readonly NestedArray[];

function flattenNested(values: NestedArray, shape: number[], out: number[], depth = 0): void {
  if (typeof values === 'number') {
    out.push(values);
    return;
  }
  if (!Array.isArray(values)) throw new Error(`tensor(): expected numbers or arrays of them, got ${JSON.stringify(values)} at depth ${depth}`);
  if (shape.length === depth) shape.push(values.length);
  else if (shape[depth] !== values.length) throw new Error(`tensor(): ragged nested array (length ${values.length} vs ${shape[depth]} at depth ${depth})`);
  for (const v of values) flattenNested(v, shape, out, depth + 1);
}

/**
 * A tensor from values: a flat array / Float32Array with an explicit shape, or nested arrays
 * (shape inferred), or a number (a scalar).
 */
export function tensor(values: NestedArray | Float32Array | ArrayLike<number>, shape?: Shape, options: TensorOptions = {}): Tensor {
  let flat: Float32Array;
  let inferred: number[];
  if (typeof values === 'number') {
    flat = Float32Array.of(values);
    inferred = [];
  } else if (values instanceof Float32Array || !Array.isArray(values) || values.every((v) => typeof v === 'number')) {
    flat = Float32Array.from(values as ArrayLike<number>);
    inferred = [flat.length];
  } else {
    const list: number[] = [];
    inferred = [];
    flattenNested(values as NestedArray, inferred, list);
    flat = Float32Array.from(list);
  }
  const finalShape = shape ? [...shape] : inferred;
  checkShape(finalShape);
  if (sizeOf(finalShape) !== flat.length) {
    throw new Error(`tensor(): ${flat.length} values do not fill shape ${shapeStr(finalShape)} (${sizeOf(finalShape)} elements)`);
  }
  const backend = getBackend(options.backend);
  return new Tensor(backend.upload(flat), finalShape, backend, options.requiresGrad ?? false);
}

/**
 * The backend a new tensor of `shape` goes to, once it is known to fit there: checked before
 * a host array of that size is built (seconds and gigabytes for a tensor that cannot exist).
 */
function backendFitting(what: string, shape: Shape, options: TensorOptions): Backend {
  checkShape(shape);
  const backend = getBackend(options.backend);
  const size = sizeOf(shape);
  if (size > backend.maxElements)
    throw new Error(`${what}: shape ${shapeStr(shape)} has ${size} elements; the ${backend.name} backend holds at most ${backend.maxElements} in one tensor`);
  return backend;
}

export function full(shape: Shape, value: number, options: TensorOptions = {}): Tensor {
  backendFitting('full', shape, options);
  return tensor(new Float32Array(sizeOf(shape)).fill(value), shape, options);
}

/** Zeros made by the backend (no host array: its own allocator says when it does not fit). */
export function zeros(shape: Shape, options: TensorOptions = {}): Tensor {
  checkShape(shape);
  const backend = getBackend(options.backend);
  return new Tensor(backend.zeros(sizeOf(shape)), shape, backend, options.requiresGrad ?? false);
}

export function ones(shape: Shape, options: TensorOptions = {}): Tensor {
  return full(shape, 1, options);
}

export interface RandomOptions extends TensorOptions {
  seed?: number;
}

let autoSeed = 0x5eed;

function seedOf(options: RandomOptions): number {
  if (options.seed !== undefined && !Number.isInteger(options.seed)) throw new Error(`random tensors: seed must be an integer, got ${options.seed}`);
  return options.seed ?? autoSeed++;
}

/** Distribution parameters must be finite: NaN would fill the tensor silently. */
function finiteParams(what: string, params: Record<string, number | undefined>): void {
  for (const [name, v] of Object.entries(params)) if (v !== undefined && !Number.isFinite(v)) throw new Error(`${what}: ${name} must be a finite number, got ${v}`);
}

/** Normal samples N(mean, std^2) from the counter-based RNG: the same on every backend. */
export function randn(shape: Shape, options: RandomOptions & { mean?: number; std?: number } = {}): Tensor {
  backendFitting('randn', shape, options);
  finiteParams('randn', { mean: options.mean, std: options.std });
  return tensor(normalArray(sizeOf(shape), seedOf(options), options.mean ?? 0, options.std ?? 1), shape, options);
}

/** Uniform samples in [low, high) (default [0, 1)) from the counter-based RNG. */
export function rand(shape: Shape, options: RandomOptions & { low?: number; high?: number } = {}): Tensor {
  backendFitting('rand', shape, options);
  finiteParams('rand', { low: options.low, high: options.high });
  return tensor(uniformArray(sizeOf(shape), seedOf(options), options.low ?? 0, options.high ?? 1), shape, options);
}

/** Named tensor values, as checkpoints hold them. */
export type SavedTensors = Record<string, { shape: number[]; data: Float32Array }>;

/** The values of named tensors, read back together (on WebGPU the waits overlap). */
export async function readTensors(named: readonly (readonly [string, Tensor])[]): Promise<SavedTensors> {
  const values = await Promise.all(named.map(([, t]) => t.data()));
  return Object.fromEntries(named.map(([name, t], i) => [name, { shape: [...t.shape], data: values[i] }]));
}
