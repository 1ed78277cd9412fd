// The CPU's WebAssembly SIMD peak, to say how far each wasm kernel is from it: 12 independent
// chains of f32x4 `acc = acc * c + d` per thread (relaxed madd where the runtime has it, as
// the kernels use; mul + add otherwise), 8 FLOPs per instruction and lane group. 12 chains keep
// the multiply-add units busy without spilling V8's 15 usable SIMD registers. With several
// threads, every thread runs the chains at once in a worker (Node only).

import { Worker } from 'node:worker_threads';
import { setFlagsFromString } from 'node:v8';
import { ModuleBuilder } from '../src/backend/wasm/builder.js';
import { madd } from '../src/backend/wasm/gemm.js';

const CHAINS = 12;
const ITERATIONS = 20_000_000;
const FLOPS = CHAINS * 8 * ITERATIONS;

/** peak(iterations) -> a lane of the sum of the chains (so that nothing is dead code). */
function peakBytes(relaxed: boolean): Uint8Array<ArrayBuffer> {
  const mod = new ModuleBuilder({ initial: 1, maximum: 1, shared: false });
  mod.func('peak', ['i32'], ['f32'], (f, n) => {
    const acc = Array.from({ length: CHAINS }, () => f.local('v128'));
    const c = f.local('v128');
    const d = f.local('v128');
    const sum = f.local('v128');
    f.set(c, f.f32x4.splat(f.f32.const(0.999)));
    f.set(d, f.f32x4.splat(f.f32.const(1e-3)));
    acc.forEach((a, i) => f.set(a, f.f32x4.splat(f.f32.const(i))));
    f.loop((again) => {
      for (const a of acc)
        f.set(
          a,
          madd(
            f,
            relaxed,
            () => f.get(a),
            () => f.get(c),
            () => f.get(d),
          ),
        );
      f.set(n, f.i32.sub(f.get(n), f.i32.const(1)));
      f.brIf(again, f.get(n));
    });
    f.set(sum, f.get(acc[0]));
    for (const a of acc.slice(1)) f.set(sum, f.f32x4.add(f.get(sum), f.get(a)));
    f.f32x4.extract_lane(f.get(sum), 0);
  });
  return mod.bytes();
}

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const memory = new WebAssembly.Memory({ initial: 1, maximum: 1 });
const { peak } = new WebAssembly.Instance(workerData.module, { env: { memory } }).exports;
for (let i = 0; i < 300; i++) peak(1000);
parentPort.on('message', (n) => {
  const start = performance.now();
  peak(n);
  parentPort.postMessage(performance.now() - start);
});
parentPort.postMessage('ready');
`;

/** GFLOP/s of `threads` threads together (the median of `repeats` runs). */
export async function measurePeak(threads: number, relaxed: boolean, repeats = 5): Promise<number> {
  // Optimised code at once, as the backend compiles its kernels.
  setFlagsFromString('--no-liftoff');
  const module = new WebAssembly.Module(peakBytes(relaxed));
  setFlagsFromString('--liftoff');
  const workers = Array.from({ length: threads }, () => new Worker(WORKER, { eval: true, workerData: { module } }));
  const next = (w: Worker): Promise<unknown> =>
    new Promise((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    });
  try {
    await Promise.all(workers.map(next));
    const rates: number[] = [];
    for (let r = 0; r < repeats; r++) {
      const times = await Promise.all(
        workers.map((w) => {
          const done = next(w) as Promise<number>;
          w.postMessage(ITERATIONS);
          return done;
        }),
      );
      rates.push((threads * FLOPS) / (Math.max(...times) / 1000) / 1e9);
    }
    return rates.sort((a, b) => a - b)[Math.floor(repeats / 2)];
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
