// The WebGPU backend's device layer: buffers and their pools, the pipeline, uniform and
// bind-group caches, recording and submitting dispatches, reads, errors and device loss. The
// Backend methods (the kernels) are in backend.ts, on top of it.
//
// How work flows:
// - Kernels are recorded into one command encoder (one compute pass) and submitted only when
//   the host reads a result, on flush() (a step boundary), or after MAX_PENDING dispatches.
//   Nothing inside a training step waits for the GPU.
// - Pipelines are cached by kernel name + placeholder values; uniform blocks are cached by
//   content (shapes repeat every step), written once at creation and never rewritten; bind
//   groups are cached by pipeline + buffers (pooled buffers come back, so a training step
//   reuses the previous step's bind groups: createBindGroup costs tens of microseconds of JS).
// - Buffers are pooled by size. A buffer released while recorded work may still read it can be
//   reused at once as the output of later recorded work (same queue order), but not as the
//   target of queue.writeBuffer, which runs before unsubmitted commands: such buffers wait
//   in `recentlyFreed` until the next submit.
// - Errors: WGSL compile/validation errors name the kernel and surface on the next read;
//   device loss is reported on every call after it instead of hanging.

import type { DType, MemoryInfo, Storage } from '../backend.js';
import { shaderSource } from './shaders.js';
import { KERNELS, type KernelName, MAX_WORKGROUPS_PER_DIM, type ParamsOf } from './kernels.js';
import { type UniformValues, packUniforms } from './uniforms.js';

/** Tuning knobs. */
const MAX_PENDING = 512;
const MAX_CACHED_UNIFORMS = 4096;
const MAX_CACHED_BIND_GROUPS = 8192;
const retiredGpuHandles: unknown[] = [];

interface CachedPipeline {
  pipeline: GPUComputePipeline;
  /** getBindGroupLayout returns a new object per call: fetched once. */
  layout: GPUBindGroupLayout;
  /** Part of the bind-group cache key. */
  id: number;
}

export class GpuStorage implements Storage {
  refs = 0;
  constructor(
    readonly buffer: GPUBuffer,
    readonly size: number,
    readonly dtype: DType,
  ) {}
}

/** The buffer behind a storage of this backend. */
export const buf = (s: Storage): GPUBuffer => (s as GpuStorage).buffer;

export class GpuDevice {
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private pending = 0;
  private readonly pipelines = new Map<string, CachedPipeline>();
  private readonly uniformCache = new Map<string, GPUBuffer>();
  private readonly bindGroups = new Map<string, GPUBindGroup>();
  private readonly bufferIds = new WeakMap<GPUBuffer, number>();
  private nextBufferId = 0;
  private readonly pool = new Map<number, GPUBuffer[]>();
  private recentlyFreed = new Map<number, GPUBuffer[]>();
  private readonly stagingPool = new Map<number, GPUBuffer[]>();
  private liveBuffers = 0;
  private liveBytes = 0;
  private pooledBytes = 0;
  private readonly errors: string[] = [];
  private readonly compileErrors: string[] = [];
  private readonly compileChecks: Promise<void>[] = [];
  private lostReason: string | null = null;
  /** Rejects what untilLost() waits on when the device is lost. */
  private readonly lossWaiters = new Set<(e: Error) => void>();
  private readonly maxBinding: number;

  /** A tensor is one storage binding. */
  get maxElements(): number {
    return Math.floor(this.maxBinding / 4);
  }
  private scratch: GpuStorage | null = null;

  /** A software implementation (SwiftShader) running on the CPU: barriers and atomics are slow there. */
  readonly cpuLike: boolean;

  constructor(
    readonly device: GPUDevice,
    readonly adapter: string,
    /** The GPU object (navigator.gpu or Dawn's instance), kept alive as long as the device. */
    private readonly gpuHandle: unknown,
    software: boolean,
  ) {
    this.maxBinding = device.limits.maxStorageBufferBindingSize;
    this.cpuLike = software;
    device.lost.then((info) => {
      this.lostReason = info.message || info.reason || 'unknown reason';
      for (const reject of this.lossWaiters) reject(this.lostError());
      this.lossWaiters.clear();
    });
    device.addEventListener('uncapturederror', (e) => {
      this.errors.push((e as GPUUncapturedErrorEvent).error.message);
    });
  }

  get isLost(): boolean {
    return this.lostReason !== null;
  }

  private lostError(): Error {
    return new Error(`WebGPU device lost (${this.lostReason}); re-run tg.init() to get a new device`);
  }

  private check(): void {
    if (this.lostReason !== null) throw this.lostError();
  }

  /**
   * `work`'s outcome, or the device-loss error if the device is lost first (a lost device may
   * never settle it). Not Promise.race with a promise of the loss: each race would leave a
   * reaction on that promise, which stays pending as long as the device lives, holding the
   * race's result promise: 350-550 bytes of heap per wait, kept until the device goes.
   */
  private untilLost<T>(work: Promise<T>): Promise<T> {
    if (this.lostReason !== null) return Promise.reject(this.lostError());
    return new Promise<T>((resolve, reject) => {
      this.lossWaiters.add(reject);
      work.then(
        (value) => {
          this.lossWaiters.delete(reject);
          resolve(value);
        },
        (e: unknown) => {
          this.lossWaiters.delete(reject);
          reject(e);
        },
      );
    });
  }

  /** Throws what went wrong since the last check; a kernel's compile error first, without its cascade. */
  private async throwPendingErrors(): Promise<void> {
    await Promise.all(this.compileChecks.splice(0));
    const compile = this.compileErrors.splice(0);
    const other = this.errors.splice(0);
    if (compile.length) throw new Error(compile.join('\n'));
    if (other.length) throw new Error(`WebGPU error: ${other.join('\n')}`);
  }

  // ---- buffers ----

  private static bucket(bytes: number): number {
    return Math.max(16, Math.ceil(bytes / 256) * 256);
  }

  private acquire(size: number, dtype: DType, forUpload: boolean): GpuStorage {
    this.check();
    const bytes = size * 4;
    if (bytes > this.maxBinding) {
      throw new Error(
        `a tensor of ${size} elements (${(bytes / 2 ** 20).toFixed(1)} MiB) exceeds this device's maxStorageBufferBindingSize (${(this.maxBinding / 2 ** 20).toFixed(1)} MiB)`,
      );
    }
    const key = GpuDevice.bucket(bytes);
    let buffer = (forUpload ? undefined : this.recentlyFreed.get(key)?.pop()) ?? this.pool.get(key)?.pop();
    if (buffer) this.pooledBytes -= key;
    else {
      buffer = this.device.createBuffer({ size: key, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
      this.liveBuffers++;
      this.liveBytes += key;
    }
    return new GpuStorage(buffer, size, dtype);
  }

  /** A small buffer for a writable binding a kernel variant does not use (aliasing is invalid). */
  protected unusedSlot(): GpuStorage {
    this.scratch ??= this.acquire(4, 'f32', true);
    return this.scratch;
  }

  /** @internal A fresh (pooled) buffer for a kernel's output or scratch; `release` it after use. */
  output(size: number, dtype: DType = 'f32'): GpuStorage {
    return this.acquire(size, dtype, false);
  }

  release(s: Storage): void {
    const buffer = buf(s);
    const list = this.recentlyFreed.get(buffer.size) ?? [];
    list.push(buffer);
    this.recentlyFreed.set(buffer.size, list);
    this.pooledBytes += buffer.size;
  }

  memory(): MemoryInfo {
    return { liveBuffers: this.liveBuffers, liveBytes: this.liveBytes - this.pooledBytes, pooledBytes: this.pooledBytes };
  }

  upload(data: Float32Array | Uint32Array): Storage {
    const s = this.acquire(data.length, data instanceof Uint32Array ? 'u32' : 'f32', true);
    if (data.length) this.device.queue.writeBuffer(s.buffer, 0, data.buffer, data.byteOffset, data.byteLength);
    return s;
  }

  zeros(size: number, dtype: DType = 'f32'): GpuStorage {
    const s = this.output(size, dtype);
    this.endPass();
    this.commandEncoder().clearBuffer(s.buffer);
    return s;
  }

  copy(src: Storage, dst: Storage): void {
    if (src.dtype !== dst.dtype) throw new Error(`internal: copy from ${src.dtype} to ${dst.dtype}`);
    if (src.size === 0 || buf(src) === buf(dst)) return;
    this.endPass();
    this.commandEncoder().copyBufferToBuffer(buf(src), 0, buf(dst), 0, src.size * 4);
  }

  async read(s: Storage): Promise<Float32Array | Uint32Array> {
    this.check();
    const bytes = s.size * 4;
    const typed = (b: ArrayBuffer): Float32Array | Uint32Array => (s.dtype === 'u32' ? new Uint32Array(b) : new Float32Array(b));
    if (bytes === 0) {
      this.flush();
      return typed(new ArrayBuffer(0));
    }
    const key = GpuDevice.bucket(bytes);
    const staging = this.stagingPool.get(key)?.pop() ?? this.device.createBuffer({ size: key, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    this.endPass();
    this.commandEncoder().copyBufferToBuffer(buf(s), 0, staging, 0, bytes);
    this.flush();
    try {
      await this.untilLost(staging.mapAsync(GPUMapMode.READ, 0, bytes));
      await this.throwPendingErrors();
      const values = typed(staging.getMappedRange(0, bytes).slice(0));
      staging.unmap();
      // Read-back buffers are reused too: a training loop reads the same sizes every step.
      const list = this.stagingPool.get(key) ?? [];
      list.push(staging);
      this.stagingPool.set(key, list);
      return values;
    } catch (e) {
      staging.destroy();
      this.check();
      await this.throwPendingErrors();
      throw e;
    }
  }

  // ---- recording and submitting ----

  private commandEncoder(): GPUCommandEncoder {
    this.encoder ??= this.device.createCommandEncoder();
    return this.encoder;
  }

  private endPass(): void {
    this.pass?.end();
    this.pass = null;
  }

  flush(): void {
    this.check();
    this.endPass();
    if (this.encoder) {
      this.device.queue.submit([this.encoder.finish()]);
      this.encoder = null;
    }
    this.pending = 0;
    // Everything released so far is now behind submitted work: safe for writeBuffer too.
    for (const [key, list] of this.recentlyFreed) {
      const into = this.pool.get(key) ?? [];
      into.push(...list);
      this.pool.set(key, into);
    }
    this.recentlyFreed = new Map();
    // Cached bind groups may hold the uniform buffers destroyed here: they go with them.
    if (this.uniformCache.size > MAX_CACHED_UNIFORMS || this.bindGroups.size > MAX_CACHED_BIND_GROUPS) this.bindGroups.clear();
    if (this.uniformCache.size > MAX_CACHED_UNIFORMS) {
      for (const b of this.uniformCache.values()) b.destroy();
      this.uniformCache.clear();
    }
  }

  async sync(): Promise<void> {
    this.flush();
    await this.untilLost(this.device.queue.onSubmittedWorkDone());
    await this.throwPendingErrors();
  }

  private pipeline(kernel: KernelName, values: Readonly<Record<string, string>>, entryPoint: string): CachedPipeline {
    const key = `${kernel}|${entryPoint}|${JSON.stringify(values)}`;
    let cached = this.pipelines.get(key);
    if (!cached) {
      const code = shaderSource(kernel, values);
      this.device.pushErrorScope('validation');
      const module = this.device.createShaderModule({ label: kernel, code });
      const pipeline = this.device.createComputePipeline({ label: kernel, layout: 'auto', compute: { module, entryPoint } });
      cached = { pipeline, layout: pipeline.getBindGroupLayout(0), id: this.pipelines.size };
      this.compileChecks.push(
        this.device.popErrorScope().then(async (err) => {
          if (!err) return;
          const info = await module.getCompilationInfo();
          const details = info.messages.map((m) => `  line ${m.lineNum}:${m.linePos} ${m.type}: ${m.message}`).join('\n');
          this.compileErrors.push(`WGSL kernel '${kernel}' failed to compile: ${err.message.split('\n')[0]}${details ? `\n${details}` : ''}`);
        }),
      );
      this.pipelines.set(key, cached);
    }
    return cached;
  }

  private bufferId(b: GPUBuffer): number {
    let id = this.bufferIds.get(b);
    if (id === undefined) {
      id = this.nextBufferId++;
      this.bufferIds.set(b, id);
    }
    return id;
  }

  /** The bind group of `buffers` at bindings 0..n-1 for `pipeline`, from the cache when it is there. */
  private bindGroup(pipeline: CachedPipeline, buffers: GPUBuffer[]): GPUBindGroup {
    const key = `${pipeline.id}|${buffers.map((b) => this.bufferId(b)).join(',')}`;
    let group = this.bindGroups.get(key);
    if (!group) {
      const entries: GPUBindGroupEntry[] = buffers.map((buffer, binding) => ({ binding, resource: { buffer } }));
      group = this.device.createBindGroup({ layout: pipeline.layout, entries });
      this.bindGroups.set(key, group);
    }
    return group;
  }

  private uniform(kernel: string, bytes: Uint8Array): GPUBuffer {
    const key = `${kernel}|${Array.from(bytes).join(',')}`;
    let b = this.uniformCache.get(key);
    if (!b) {
      b = this.device.createBuffer({ size: bytes.byteLength, usage: GPUBufferUsage.UNIFORM, mappedAtCreation: true });
      new Uint8Array(b.getMappedRange()).set(bytes);
      b.unmap();
      this.uniformCache.set(key, b);
    }
    return b;
  }

  /**
   * @internal Records one dispatch of `kernel` with storage `buffers` (bindings 0..n-1), then its
   * uniform block with `params` (every field of the kernel's layout, by name).
   */
  dispatch<K extends KernelName>(
    kernel: K,
    values: Readonly<Record<string, string>>,
    buffers: GPUBuffer[],
    params: UniformValues<ParamsOf<K>>,
    groups: [number, number, number],
    entryPoint = 'main',
  ): void {
    this.check();
    if (groups.some((g) => g === 0)) return;
    if (groups.some((g) => g > MAX_WORKGROUPS_PER_DIM))
      throw new Error(`internal: kernel '${kernel}' dispatch ${groups.join('x')} exceeds ${MAX_WORKGROUPS_PER_DIM} per dimension`);
    const pipeline = this.pipeline(kernel, values, entryPoint);
    const bindGroup = this.bindGroup(pipeline, [...buffers, this.uniform(kernel, packUniforms<ParamsOf<K>>(KERNELS[kernel].params, params))]);
    this.pass ??= this.commandEncoder().beginComputePass();
    this.pass.setPipeline(pipeline.pipeline);
    this.pass.setBindGroup(0, bindGroup);
    this.pass.dispatchWorkgroups(...groups);
    if (++this.pending >= MAX_PENDING) this.flush();
  }

  destroy(): void {
    if (this.lostReason === null) {
      try {
        this.flush();
      } catch {
        // A device that is going away may refuse the last submit; nothing is waiting on it.
      }
    }
    this.bindGroups.clear();
    for (const b of this.uniformCache.values()) b.destroy();
    this.uniformCache.clear();
    if (this.lostReason === null) this.device.destroy();
    // Dawn aborts natively when its GPU instance is collected right after a device destroy:
    // keep the instance for the rest of the process (it does not keep Node alive).
    retiredGpuHandles.push(this.gpuHandle);
  }
}
