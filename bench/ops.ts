// `npm run bench`: matmul 512^3 and conv2d forward / backward (batch 32, 64->64 channels, 32x32,
// 3x3, padding 1) in GFLOP/s: ticketgrad on the wasm backend (one thread and every core) and on
// WebGPU, side by side with onnxruntime-web and jax-js on WebAssembly (one thread) and jax-js
// and tfjs on the same WebGPU adapter, in one run. Every engine computes the same seeded inputs,
// and its result is checked against ticketgrad's wasm result before it is timed.
//
// This machine is shared and noisy, so the engines are timed side by side: per case and device
// (the wasm engines together, the WebGPU ones together: a software WebGPU adapter's threads
// keep the CPU busy around its runs, which would tax whichever CPU engine ran next), every
// engine is warmed up (V8 optimises a wasm function once it is hot), then each round times
// one run of every engine in turn, the order rotating from round to round, and each engine's
// median over the rounds is reported: a slow spell of the machine hits every engine alike.
// Then the CPU's WebAssembly SIMD peak (bench/peak.ts) and each wasm row's fraction of it.
//
// Options: --quick (fewer rounds), --only=matmul|conv-fwd|conv-bwd, --no-webgpu (leave out the
// WebGPU rows: slow on a software adapter), --json=FILE.

import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import * as tg from '../src/index.js';
import type { WasmBackend } from '../src/backend/wasm/backend.js';
import { type ConvShape, type Engine, type EngineCases, type PeerCase, SEEDS, convFlops, matmulFlops, peerEngines, randomData } from './peers.js';
import { measurePeak } from './peak.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const only = args.find((a) => a.startsWith('--only='))?.slice(7);
const withWebGpu = !args.includes('--no-webgpu');
const jsonOut = args.find((a) => a.startsWith('--json='))?.slice(7);

const MATMUL = { m: 512, k: 512, n: 512 };
const CONV: ConvShape = { n: 32, c: 64, h: 32, w: 32, o: 64, k: 3, pad: 1 };
const CORES = availableParallelism();
/** A result agrees when max |x - reference| <= this * max |reference|. */
const TOLERANCE = 1e-3;

/**
 * ticketgrad on one backend: the same cases as the peers. The wasm engines share one backend
 * started with every core; each runs its jobs on `threads` of them.
 */
function ticketgrad(backend: 'wasm' | 'webgpu', threads?: number): Engine {
  const input = (shape: number[], seed: number, requiresGrad = false): tg.Tensor => tg.tensor(randomData(tg.sizeOf(shape), seed), shape, { backend, requiresGrad });
  const useThreads = (): void => {
    if (threads !== undefined) (tg.getBackend('wasm') as WasmBackend).threads = threads;
  };
  const timed = (name: string, flops: number, compute: () => tg.Tensor[], dispose: () => void): PeerCase => ({
    name,
    flops,
    // Done when the device is: tg.sync() waits for the GPU, and wasm kernels have finished
    // when they return. (Reading every output back would add an allocation of its size per
    // run, whose garbage collection slowed the first second of a wasm loop by 1.5x.)
    run: async () => {
      useThreads();
      const out = compute();
      await tg.getBackend(backend).sync();
      out.forEach((t) => t.dispose());
    },
    result: async () => {
      useThreads();
      const out = compute();
      const values = await Promise.all(out.map((t) => t.data()));
      out.forEach((t) => t.dispose());
      return values;
    },
    dispose,
  });
  return {
    name: backend === 'wasm' ? `ticketgrad wasm, ${threads} thread${threads === 1 ? '' : 's'}` : 'ticketgrad webgpu',
    device: backend,
    async open(): Promise<EngineCases> {
      if (backend === 'wasm') await tg.init({ backend, threads: CORES });
      else await tg.init({ backend });
      return {
        async matmul(m, k, n) {
          const a = input([m, k], SEEDS.a);
          const b = input([k, n], SEEDS.b);
          return timed(
            `matmul ${m}x${k}x${n}`,
            matmulFlops(m, k, n),
            () => [tg.matmul(a, b)],
            () => [a, b].forEach((t) => t.dispose()),
          );
        },
        async conv2dForward(s) {
          const x = input([s.n, s.c, s.h, s.w], SEEDS.x);
          const w = input([s.o, s.c, s.k, s.k], SEEDS.w);
          return timed(
            'conv2d forward',
            convFlops(s),
            () => [tg.conv2d(x, w, { padding: s.pad })],
            () => [x, w].forEach((t) => t.dispose()),
          );
        },
        /** Both gradients of sum(conv(x, w)) from a recorded forward (not re-run): dy is all ones. */
        async conv2dBackward(s) {
          const x = input([s.n, s.c, s.h, s.w], SEEDS.x, true);
          const w = input([s.o, s.c, s.k, s.k], SEEDS.w, true);
          const y = tg.conv2d(x, w, { padding: s.pad });
          const dy = tg.ones(y.shape, { backend });
          return timed(
            'conv2d backward',
            2 * convFlops(s),
            () => {
              y.backward(dy);
              const grads = [x.grad!, w.grad!];
              x.grad = null;
              w.grad = null;
              return grads;
            },
            () => [x, w, y, dy].forEach((t) => t.dispose()),
          );
        },
      };
    },
  };
}

interface Row {
  case: string;
  engine: string;
  gflops: number;
  medianMs: number;
  samples: number;
  /** Of the CPU's WebAssembly SIMD peak on as many threads (wasm rows). */
  peakFraction?: number;
}

/** Throws unless `got` agrees with `reference` output by output. */
function check(what: string, got: Float32Array[], reference: Float32Array[]): void {
  if (got.length !== reference.length) throw new Error(`${what}: ${got.length} outputs, expected ${reference.length}`);
  reference.forEach((ref, i) => {
    if (got[i].length !== ref.length) throw new Error(`${what}: output ${i} has ${got[i].length} values, expected ${ref.length}`);
    let scale = 0,
      worst = 0;
    for (let j = 0; j < ref.length; j++) {
      scale = Math.max(scale, Math.abs(ref[j]));
      worst = Math.max(worst, Math.abs(got[i][j] - ref[j]));
    }
    if (!(worst <= TOLERANCE * scale)) throw new Error(`${what}: output ${i} differs from ticketgrad wasm's by ${worst} (scale ${scale})`);
  });
}

/** ms per run of each case: warm-ups, then rounds of one timed run of each in turn (rotating). */
async function interleaved(cases: PeerCase[]): Promise<number[][]> {
  const warmupMs = quick ? 300 : 1500;
  for (const c of cases) {
    const start = performance.now();
    for (let i = 0; i < 3 || performance.now() - start < warmupMs; i++) await c.run();
  }
  const rounds = quick ? 2 : 5;
  const times = cases.map(() => [] as number[]);
  for (let r = 0; r < rounds; r++) {
    for (let j = 0; j < cases.length; j++) {
      const i = (j + r) % cases.length;
      const t0 = performance.now();
      await cases[i].run();
      times[i].push(performance.now() - t0);
    }
  }
  return times;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const plan: { key: string; make: (e: EngineCases) => Promise<PeerCase> | null }[] = [
  { key: 'matmul', make: (e) => e.matmul?.(MATMUL.m, MATMUL.k, MATMUL.n) ?? null },
  { key: 'conv-fwd', make: (e) => e.conv2dForward?.(CONV) ?? null },
  { key: 'conv-bwd', make: (e) => e.conv2dBackward?.(CONV) ?? null },
];

let gpu: GPU | null = null;
let adapter = 'none';
if (withWebGpu) {
  adapter = (await tg.init({ backend: 'webgpu' })).adapter;
  gpu = (await import('webgpu')).create([]);
}
const engines: Engine[] = [ticketgrad('wasm', 1), ticketgrad('wasm', CORES), ...(withWebGpu ? [ticketgrad('webgpu')] : []), ...peerEngines(gpu)];
const opened: { engine: Engine; cases: EngineCases }[] = [];
for (const engine of engines) opened.push({ engine, cases: await engine.open() });
const rows: Row[] = [];
for (const item of plan.filter((p) => !only || p.key === only)) {
  const live: { engine: Engine; c: PeerCase }[] = [];
  let reference: Float32Array[] | null = null;
  for (const { engine, cases } of opened) {
    const c = await item.make(cases);
    if (!c) continue;
    const out = await c.result();
    if (reference) check(`${c.name} on ${engine.name}`, out, reference);
    else reference = out;
    live.push({ engine, c });
  }
  for (const device of ['wasm', 'webgpu'] as const) {
    const group = live.filter((l) => l.engine.device === device);
    const times = await interleaved(group.map((l) => l.c));
    group.forEach(({ engine, c }, i) => {
      const ms = median(times[i]);
      rows.push({ case: c.name, engine: engine.name, gflops: c.flops / (ms / 1000) / 1e9, medianMs: ms, samples: times[i].length });
      console.log(`${c.name.padEnd(18)}${engine.name.padEnd(34)}${(c.flops / (ms / 1000) / 1e9).toFixed(2).padStart(8)} GFLOP/s`);
      c.dispose();
    });
  }
}
opened.forEach(({ engine }) => engine.close?.());

const relaxed = /relaxed madd/.test((await tg.init({ backend: 'wasm' })).adapter);
const peaks = new Map<number, number>();
for (const threads of [...new Set([1, CORES])]) peaks.set(threads, await measurePeak(threads, relaxed));
for (const r of rows) {
  const threads = /^ticketgrad wasm, (\d+) thread/.exec(r.engine)?.[1];
  if (threads) r.peakFraction = r.gflops / peaks.get(Number(threads))!;
}

console.log(
  `\n${new Date().toISOString().slice(0, 10)}; ${CORES} cores; WebGPU adapter: ${adapter}; ${quick ? 'quick' : 'full'} run; every result checked against ticketgrad wasm's`,
);
console.log(
  `WebAssembly SIMD peak (${relaxed ? 'relaxed madd' : 'mul + add'}, 12 chains): ${[...peaks].map(([t, g]) => `${g.toFixed(1)} GFLOP/s on ${t} thread${t > 1 ? 's' : ''}`).join(', ')}`,
);
console.log(`${'case'.padEnd(18)}${'engine'.padEnd(34)}${'GFLOP/s'.padStart(8)}${'median ms'.padStart(10)}${'rounds'.padStart(9)}  of peak`);
for (const r of rows) {
  const fraction = r.peakFraction === undefined ? '' : `${(100 * r.peakFraction).toFixed(0)}%`.padStart(7);
  console.log(`${r.case.padEnd(18)}${r.engine.padEnd(34)}${r.gflops.toFixed(2).padStart(8)}${r.medianMs.toFixed(1).padStart(10)}${String(r.samples).padStart(9)}  ${fraction}`);
}
const gflops = (c: string, engine: string): number | undefined => rows.find((r) => r.case === c && r.engine === engine)?.gflops;
const one = 'ticketgrad wasm, 1 thread';
const all = `ticketgrad wasm, ${CORES} thread${CORES === 1 ? '' : 's'}`;
console.log('\nratios');
for (const name of [...new Set(rows.map((r) => r.case))]) {
  const parts: string[] = [];
  const ratio = (label: string, a?: number, b?: number): void => {
    if (a !== undefined && b !== undefined) parts.push(`${label} ${(a / b).toFixed(2)}x`);
  };
  ratio('wasm 1 thread / onnxruntime-web wasm', gflops(name, one), gflops(name, 'onnxruntime-web wasm, 1 thread'));
  ratio('wasm 1 thread / jax-js wasm', gflops(name, one), gflops(name, 'jax-js wasm, 1 thread'));
  if (CORES > 1) ratio(`wasm ${CORES} threads / 1 thread`, gflops(name, all), gflops(name, one));
  const webgpuPeers = rows.filter((r) => r.case === name && /webgpu$/.test(r.engine) && !r.engine.startsWith('ticketgrad'));
  if (webgpuPeers.length) ratio('ticketgrad webgpu / best webgpu peer', gflops(name, 'ticketgrad webgpu'), Math.max(...webgpuPeers.map((r) => r.gflops)));
  console.log(`${name.padEnd(18)}${parts.join('; ')}`);
}
if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ date: new Date().toISOString(), cores: CORES, adapter, peaks: Object.fromEntries(peaks), rows }, null, 2));
tg.shutdown();
process.exit(0);
