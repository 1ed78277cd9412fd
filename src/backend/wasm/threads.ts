// Threads for the wasm backend: workers (worker_threads in Node, Web Workers in browsers) that
// share the backend's WebAssembly.Memory and run the same kernels on it.
//
// A job is a task (tasks.ts) and a count of items. The calling thread writes the job into a
// control block at the bottom of the memory, bumps the generation word and wakes the workers;
// then every thread, the caller included, takes items from a shared counter until none are
// left. The caller returns when every worker has reported the job done. An item computes the
// same outputs the same way whichever thread takes it, so results do not depend on the
// number of threads or on who was fastest.
//
// Workers wait with Atomics.wait after a short spin (kernels come back to back during a
// training step). A browser's main thread may not block, so there the caller spins.

import { TASKS, type Kernels, type TaskName, TASK_NAMES } from './tasks.js';

/** Int32 words of the control block at address 0. */
const GEN = 0;
const TASK = 1;
const COUNT = 2;
const NEXT = 3;
const DONE = 4;
const STOP = 5;
const FAILED = 6;
/** Threads that take items (thread indices below it); the others only report done. */
const ACTIVE = 7;
const CONTROL_WORDS = 16;
/** Float64 job arguments start here (bytes), then the first failure's message. */
const ARGS_OFFSET = 64;
export const MAX_ARGS = 48;
const MESSAGE_OFFSET = ARGS_OFFSET + MAX_ARGS * 8;
const MESSAGE_BYTES = 1024;
/** Bytes of the memory the control block uses (within memory.ts's reserved area). */
export const CONTROL_BYTES = MESSAGE_OFFSET + MESSAGE_BYTES;

/** Spins (Atomics.load polls) before a worker sleeps: about 20-50 us on current CPUs. */
const SPIN = 20_000;

interface Shared {
  ctl: Int32Array;
  args: Float64Array;
  message: Uint8Array;
}

function sharedViews(memory: WebAssembly.Memory): Shared {
  return {
    ctl: new Int32Array(memory.buffer, 0, CONTROL_WORDS),
    args: new Float64Array(memory.buffer, ARGS_OFFSET, MAX_ARGS),
    message: new Uint8Array(memory.buffer, MESSAGE_OFFSET, MESSAGE_BYTES),
  };
}

/** Takes items of the current job until none are left; records the first failure. */
function takeItems(s: Shared, k: Kernels, thread: number): void {
  const task = TASKS[TASK_NAMES[s.ctl[TASK]]];
  const count = s.ctl[COUNT];
  for (;;) {
    const item = Atomics.add(s.ctl, NEXT, 1);
    if (item >= count) return;
    try {
      task(k, s.args, item, thread);
    } catch (e) {
      if (Atomics.compareExchange(s.ctl, FAILED, 0, 1) === 0) {
        const text = new TextEncoder().encode(`thread ${thread}: ${(e as Error).message ?? String(e)}`).slice(0, MESSAGE_BYTES - 1);
        s.message.fill(0);
        s.message.set(text);
      }
      // Skip the rest: the job has failed.
      Atomics.store(s.ctl, NEXT, count);
      return;
    }
  }
}

/** A worker's life: serve jobs until the pool stops. Called by worker.ts. */
export function serveJobs(memory: WebAssembly.Memory, k: Kernels, thread: number): void {
  const s = sharedViews(memory);
  let seen = Atomics.load(s.ctl, GEN);
  for (;;) {
    for (let i = 0; i < SPIN && Atomics.load(s.ctl, GEN) === seen; i++);
    Atomics.wait(s.ctl, GEN, seen);
    seen = Atomics.load(s.ctl, GEN);
    if (Atomics.load(s.ctl, STOP)) return;
    if (thread < Atomics.load(s.ctl, ACTIVE)) takeItems(s, k, thread);
    Atomics.add(s.ctl, DONE, 1);
    Atomics.notify(s.ctl, DONE);
  }
}

/** Whether this thread may block in Atomics.wait (not a browser's main thread). */
function canBlock(ctl: Int32Array): boolean {
  try {
    Atomics.wait(ctl, CONTROL_WORDS - 1, 1, 0);
    return true;
  } catch {
    return false;
  }
}

export interface WorkerHandle {
  terminate(): void;
}

/** Starts one worker running serveJobs on `memory` with the same compiled kernels. */
export type SpawnWorker = (module: WebAssembly.Module, memory: WebAssembly.Memory, thread: number) => Promise<WorkerHandle>;

export class ThreadPool {
  private readonly s: Shared;
  private readonly blocking: boolean;
  private running = false;
  /** Threads that run jobs, this one included (at most `started`). */
  private active: number;

  private constructor(
    memory: WebAssembly.Memory,
    private readonly k: Kernels,
    private readonly workers: WorkerHandle[],
  ) {
    this.s = sharedViews(memory);
    this.blocking = canBlock(this.s.ctl);
    this.active = workers.length + 1;
  }

  /** A pool of `threads` threads in all: this one and `threads - 1` workers. */
  static async create(threads: number, module: WebAssembly.Module, memory: WebAssembly.Memory, k: Kernels, spawn: SpawnWorker | null): Promise<ThreadPool> {
    sharedViews(memory).ctl.fill(0);
    if (threads <= 1 || !spawn) return new ThreadPool(memory, k, []);
    const started = await Promise.allSettled(Array.from({ length: threads - 1 }, (_, i) => spawn(module, memory, i + 1)));
    const workers = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      // The ones that did start wait on a job that will never come: stop them.
      for (const w of workers) w.terminate();
      throw new Error(`wasm backend: a worker thread failed to start: ${(failed.reason as Error)?.message ?? String(failed.reason)}`);
    }
    return new ThreadPool(memory, k, workers);
  }

  /** Threads that run jobs, this one included. */
  get threads(): number {
    return this.active;
  }

  /** Threads started: `threads` may be set to any count up to this. */
  get started(): number {
    return this.workers.length + 1;
  }

  set threads(n: number) {
    if (!Number.isInteger(n) || n < 1 || n > this.started) throw new Error(`internal: ${n} threads of a pool of ${this.started}`);
    this.active = n;
  }

  /**
   * Runs items 0..count-1 of `task` with `args`; with `parallel` false (or one item) on this
   * thread alone, without waking anyone.
   */
  run(task: TaskName, count: number, args: readonly number[], parallel = true): void {
    if (count <= 0) return;
    if (args.length > MAX_ARGS) throw new Error(`internal: task ${task} has ${args.length} arguments (at most ${MAX_ARGS})`);
    if (!parallel || count === 1 || this.active === 1) {
      const fn = TASKS[task];
      for (let item = 0; item < count; item++) fn(this.k, args, item, 0);
      return;
    }
    if (this.running) throw new Error('internal: a wasm job started inside another');
    this.running = true;
    const { ctl } = this.s;
    try {
      this.s.args.set(args);
      ctl[TASK] = TASK_NAMES.indexOf(task);
      ctl[COUNT] = count;
      Atomics.store(ctl, NEXT, 0);
      Atomics.store(ctl, DONE, 0);
      Atomics.store(ctl, FAILED, 0);
      Atomics.store(ctl, ACTIVE, this.active);
      Atomics.add(ctl, GEN, 1);
      Atomics.notify(ctl, GEN);
      takeItems(this.s, this.k, 0);
      const workers = this.workers.length;
      for (let done = Atomics.load(ctl, DONE), spins = 0; done < workers; done = Atomics.load(ctl, DONE)) {
        if (this.blocking && ++spins > SPIN) Atomics.wait(ctl, DONE, done);
      }
      if (Atomics.load(ctl, FAILED)) {
        const bytes = this.s.message.slice();
        throw new Error(`internal: wasm kernel failed in ${task}: ${new TextDecoder().decode(bytes.subarray(0, bytes.indexOf(0)))}`);
      }
    } finally {
      this.running = false;
    }
  }

  terminate(): void {
    if (this.workers.length === 0) return;
    Atomics.store(this.s.ctl, STOP, 1);
    Atomics.add(this.s.ctl, GEN, 1);
    Atomics.notify(this.s.ctl, GEN);
    for (const w of this.workers) w.terminate();
    this.workers.length = 0;
  }
}
