// `npm run bench:mask`: time to compute one exact top-k mask (layer scope, one segment,
// density 0.1) for n = 266,200 (LeNet-300-100's weights), 1,000,000 and 11,000,000 (ResNet-18):
// - wasm threshold: the wasm backend's radix select (three histogram passes and a mask pass),
//   on one thread and on every core; wasm bitonic: its sort, for parity (not at 11M);
// - webgpu threshold: sample-bracketed selection on the GPU, no readback inside (the
//   training-step path);
// - webgpu bitonic: the sort-based baseline;
// - cpu quickselect: a plain-JS Floyd-Rivest select of the k-th largest |v| on a Float32Array,
//   then a mask pass (ties to the lower index): the CPU baseline to beat;
// - cpu quickselect, scores on the GPU: the same, as a training step would have to use it:
//   read the scores back, select, upload the mask;
// - cpu reference: ticketgrad's CPU backend (radix select in TypeScript);
// - tfjs topk (webgpu), onnxruntime-web TopK (webgpu): the peers' top-k of |v| on the same
//   adapter (not at 11M: too slow), checked against the exact mask before timing.
// Every timed webgpu run ends by reading the mask back (so the GPU work has really finished);
// the time of that readback alone is measured too, and "x10" rows record ten masks back to
// back before one readback (ms per mask), which is how a training step uses them.
// Times are medians (single runs on SwiftShader have a long tail: a mask's passes measured
// 4.0 ms at best and 6.9 ms at the median). The verdicts against quickselect come from paired
// blocks: blocks of 5 threshold and 5 quickselect runs alternate, and the median of the ratios
// of the blocks' medians is reported, so that the drift of a shared machine (the rows above
// moved by 1.5x between runs) hits both sides of each ratio alike.
//
// Options: --quick (fewer iterations), --sizes=266200,1000000 (a subset), --density=0.5,
// --no-peers (leave out tfjs and onnxruntime-web), --no-webgpu (leave out every WebGPU row,
// peers included), --json=FILE.

import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Bench } from 'tinybench';
import * as tg from '../src/index.js';
import { type Backend, type Storage, readF32 } from '../src/backend/backend.js';
import { onnxTopk, tfjsOn } from './peers.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const sizesArg = args.find((a) => a.startsWith('--sizes='))?.slice(8);
const jsonOut = args.find((a) => a.startsWith('--json='))?.slice(7);
const SIZES = sizesArg ? sizesArg.split(',').map(Number) : [266_200, 1_000_000, 11_000_000];
const DENSITY = Number(args.find((a) => a.startsWith('--density='))?.slice(10) ?? 0.1);
const withWebGpu = !args.includes('--no-webgpu');
const peers = withWebGpu && !args.includes('--no-peers');
const CORES = availableParallelism();
const BATCH = 10;
const PAIR_BLOCK = 5;

// ---- the CPU baseline: Floyd-Rivest select on |v| ----

function swap(a: Float32Array, i: number, j: number): void {
  const t = a[i];
  a[i] = a[j];
  a[j] = t;
}

/** Rearranges a[left..right] so that a[k] is the k-th smallest (Floyd & Rivest, 1975). */
function floydRivest(a: Float32Array, k: number, left: number, right: number): void {
  while (right > left) {
    if (right - left > 600) {
      const n = right - left + 1;
      const m = k - left + 1;
      const z = Math.log(n);
      const s = 0.5 * Math.exp((2 * z) / 3);
      const sd = 0.5 * Math.sqrt((z * s * (n - s)) / n) * (m - n / 2 < 0 ? -1 : 1);
      floydRivest(a, k, Math.max(left, Math.floor(k - (m * s) / n + sd)), Math.min(right, Math.floor(k + ((n - m) * s) / n + sd)));
    }
    const t = a[k];
    let i = left;
    let j = right;
    swap(a, left, k);
    if (a[right] > t) swap(a, left, right);
    while (i < j) {
      swap(a, i, j);
      i++;
      j--;
      while (a[i] < t) i++;
      while (a[j] > t) j--;
    }
    if (a[left] === t) swap(a, left, j);
    else {
      j++;
      swap(a, j, right);
    }
    if (j <= k) left = j + 1;
    if (k <= j) right = j - 1;
  }
}

/** Exact top-k mask of |v| with ties to the lower index, by quickselect. */
export function quickselectMask(v: Float32Array, k: number): Float32Array {
  const n = v.length;
  const mask = new Float32Array(n);
  if (k === 0) return mask;
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.abs(v[i]);
  floydRivest(a, n - k, 0, n - 1);
  const t = a[n - k];
  let above = 0;
  for (let i = n - k + 1; i < n; i++) if (a[i] > t) above++;
  let ties = k - above;
  for (let i = 0; i < n; i++) {
    const x = Math.abs(v[i]);
    if (x > t) mask[i] = 1;
    else if (x === t && ties > 0) {
      mask[i] = 1;
      ties--;
    }
  }
  return mask;
}

// ---- cases ----

interface Row {
  n: number;
  case: string;
  msPerMask: number;
  samples: number;
}

/** Uniform(-1, 1) scores from a small xorshift generator (fast at 11M). */
function scores(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = ((s >>> 0) / 2 ** 32) * 2 - 1;
  }
  return out;
}

async function time(name: string, n: number, iterations: number, fn: () => Promise<void> | void, perRun = 1, warmup = 1): Promise<Row> {
  const bench = new Bench({ iterations, time: 0, warmup: warmup > 0, warmupIterations: warmup, warmupTime: 0 });
  bench.add(name, fn);
  await bench.run();
  const r = bench.tasks[0].result;
  if (r?.state !== 'completed') throw new Error(`benchmark ${name} (n=${n}) failed: ${r && 'error' in r ? String(r.error) : 'no result'}`);
  const row = { n, case: name, msPerMask: r.latency.p50 / perRun, samples: r.latency.samplesCount };
  console.log(`  ${name.padEnd(34)}${row.msPerMask.toFixed(2).padStart(10)} ms  (${row.samples} samples)`);
  return row;
}

/** Median of `runs` back-to-back runs of fn, in ms. */
async function medianOf(fn: () => Promise<void> | void, runs: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((x, y) => x - y);
  return times[times.length >> 1];
}

/**
 * Median over `pairs` of the ratio median(other) / median(base), each from a block of
 * PAIR_BLOCK back-to-back runs; the blocks alternate, and which one goes first too. Blocks, not
 * single runs: a GPU run right after CPU work may include waking the emulator's threads, which
 * a training step's masks (right after its GPU work) do not pay; a block's median leaves it out.
 */
async function pairedRatio(base: () => Promise<void> | void, other: () => Promise<void> | void, pairs: number): Promise<number> {
  const ratios: number[] = [];
  for (let i = 0; i < pairs; i++) {
    const baseFirst = i % 2 === 0;
    const first = await medianOf(baseFirst ? base : other, PAIR_BLOCK);
    const second = await medianOf(baseFirst ? other : base, PAIR_BLOCK);
    ratios.push(baseFirst ? second / first : first / second);
  }
  ratios.sort((x, y) => x - y);
  return ratios[ratios.length >> 1];
}

interface Paired {
  n: number;
  /** quickselect / the wasm threshold mask, by thread count. */
  quickselectOverWasm: Record<number, number>;
  quickselectOverThreshold?: number;
  gpuScoresQuickselectOverThreshold?: number;
  pairs: number;
}

async function gpuMask(gpu: Backend, s: Storage, k: number, method: 'threshold' | 'bitonic', count: number): Promise<void> {
  let last: Storage | null = null;
  for (let i = 0; i < count; i++) {
    if (last) gpu.release(last);
    [last] = gpu.topkMask([s], k, method);
  }
  await gpu.read(last!);
  gpu.release(last!);
}

const adapter = withWebGpu ? (await tg.init({ backend: 'webgpu' })).adapter : 'none';
const gpu = withWebGpu ? tg.getBackend('webgpu') : null;
const cpu = tg.getBackend('cpu');
// The peers on the same Dawn adapter (jax-js took 128 s for 1M here: left out).
const peerGpu = peers ? (await import('webgpu')).create([]) : null;
const tf = peerGpu ? await tfjsOn(peerGpu).setup() : null;

/** Throws unless `indices` are k distinct positions whose |v| are all >= the k-th largest |v|, kth. */
function checkTopk(name: string, v: Float32Array, indices: ArrayLike<number>, k: number, kth: number): void {
  const seen = new Set<number>();
  for (let i = 0; i < indices.length; i++) {
    const at = indices[i];
    if (seen.has(at) || !(Math.abs(v[at]) >= kth)) throw new Error(`${name}: index ${at} (|v| ${Math.abs(v[at])}) is not in the top ${k} (k-th |v| ${kth})`);
    seen.add(at);
  }
  if (seen.size !== k) throw new Error(`${name}: ${seen.size} indices, expected ${k}`);
}

const rows: Row[] = [];
const paired: Paired[] = [];
for (const n of SIZES) {
  const k = Math.round(DENSITY * n);
  const v = scores(n, 12345 + n);
  console.log(`n = ${n.toLocaleString('en-US')}, k = ${k.toLocaleString('en-US')}`);
  const reference = quickselectMask(v, k);
  const heavy = n > 2_000_000;
  const it = (light: number): number => (quick ? Math.max(1, Math.ceil(light / 4)) : light);
  const quickselect = (): void => void quickselectMask(v, k);
  const pairs = it(heavy ? 3 : 9);
  const quickselectOverWasm: Record<number, number> = {};

  // The wasm backend, one thread and every core: checked bit for bit, then timed.
  for (const threads of [...new Set([1, CORES])]) {
    await tg.init({ backend: 'wasm', threads });
    const wasm = tg.getBackend('wasm');
    const ws = wasm.upload(v);
    const mask = (method: 'threshold' | 'bitonic'): void => wasm.release(wasm.topkMask([ws], k, method)[0]);
    for (const method of heavy ? (['threshold'] as const) : (['threshold', 'bitonic'] as const)) {
      const [m] = wasm.topkMask([ws], k, method);
      const got = await readF32(wasm, m);
      wasm.release(m);
      if (!got.every((x, i) => x === reference[i])) throw new Error(`n=${n}: wasm ${method} mask (${threads} threads) differs from the quickselect mask`);
    }
    const label = `${threads} thread${threads > 1 ? 's' : ''}`;
    rows.push(await time(`wasm threshold, ${label}`, n, it(heavy ? 8 : 20), () => mask('threshold'), 1, 3));
    if (!heavy) rows.push(await time(`wasm bitonic, ${label}`, n, it(3), () => mask('bitonic')));
    quickselectOverWasm[threads] = await pairedRatio(() => mask('threshold'), quickselect, pairs);
    wasm.release(ws);
  }
  const pair: Paired = { n, quickselectOverWasm, pairs };
  paired.push(pair);
  tg.setBackend('cpu');
  rows.push(await time('cpu quickselect (JS)', n, it(heavy ? 5 : 20), quickselect));
  const cs = cpu.upload(v);
  rows.push(await time('cpu reference (ticketgrad)', n, it(heavy ? 5 : 20), () => void cpu.topkMask([cs], k, 'threshold')));
  cpu.release(cs);
  if (!gpu) continue;

  const s = gpu.upload(v);
  const ready = gpu.topkMask([s], 1, 'threshold')[0]; // compile the pipelines
  await gpu.read(ready);
  gpu.release(ready);

  // Correctness first: the threshold mask must equal the quickselect mask bit for bit.
  const [tMask] = gpu.topkMask([s], k, 'threshold');
  const gotT = await readF32(gpu, tMask);
  gpu.release(tMask);
  if (!gotT.every((x, i) => x === reference[i])) throw new Error(`n=${n}: webgpu threshold mask differs from the quickselect mask`);

  const threshold = (): Promise<void> => gpuMask(gpu, s, k, 'threshold', 1);
  const viaGpu = async (): Promise<void> => gpu.release(gpu.upload(quickselectMask(await readF32(gpu, s), k)));
  const readTarget = gpu.zeros(n);
  rows.push(await time('webgpu readback alone', n, it(20), async () => void (await gpu.read(readTarget))));
  gpu.release(readTarget);
  rows.push(await time('webgpu threshold', n, it(heavy ? 8 : 20), threshold));
  rows.push(await time(`webgpu threshold x${BATCH}, 1 readback`, n, it(heavy ? 2 : 5), () => gpuMask(gpu, s, k, 'threshold', BATCH), BATCH));
  rows.push(await time('webgpu bitonic', n, heavy ? 1 : it(4), () => gpuMask(gpu, s, k, 'bitonic', 1)));
  if (peerGpu && tf && !heavy) {
    const kth = v.reduce((m, x, i) => (reference[i] === 1 ? Math.min(m, Math.abs(x)) : m), Infinity);
    const x = tf.abs(tf.tensor1d(v));
    const tfTopk = async (): Promise<ArrayLike<number>> => {
      const { values, indices } = tf.topk(x, k);
      const got = await indices.data();
      tf.dispose([values, indices]);
      return got;
    };
    checkTopk('tfjs topk', v, await tfTopk(), k, kth);
    rows.push(await time('tfjs topk (webgpu)', n, 1, async () => void (await tfTopk()), 1, 0)); // the check warmed it up
    x.dispose();
    const ort = await onnxTopk(peerGpu, v, k);
    checkTopk('onnxruntime-web TopK', v, await ort.run(), k, kth); // also the warm-up: it compiles
    rows.push(await time('onnxruntime-web TopK (webgpu)', n, 1, async () => void (await ort.run()), 1, 0));
    await ort.dispose();
  }
  rows.push(await time('cpu quickselect, scores on the GPU', n, it(heavy ? 5 : 20), viaGpu));
  pair.quickselectOverThreshold = await pairedRatio(threshold, quickselect, pairs);
  pair.gpuScoresQuickselectOverThreshold = await pairedRatio(threshold, viaGpu, pairs);
  gpu.release(s);
  gpu.flush();
}

console.log(`\nDevice: ${adapter}; ${new Date().toISOString().slice(0, 10)}; ${quick ? 'quick' : 'full'} run; density ${DENSITY}, layer scope`);
const names = [...new Set(rows.map((r) => r.case))];
console.log(`${'case'.padEnd(34)}${SIZES.map((n) => `n=${n}`.padStart(14)).join('')}   (ms per mask)`);
for (const name of names) {
  console.log(`${name.padEnd(34)}${SIZES.map((n) => (rows.find((r) => r.n === n && r.case === name)?.msPerMask.toFixed(2) ?? '-').padStart(14)).join('')}`);
}
const ms = (n: number, c: string): number => rows.find((r) => r.n === n && r.case === c)!.msPerMask;
console.log('');
for (const n of SIZES) {
  const p = paired.find((x) => x.n === n)!;
  const wasm = Object.entries(p.quickselectOverWasm)
    .map(([t, r]) => `quickselect / wasm threshold (${t} thread${t === '1' ? '' : 's'}) ${r.toFixed(2)}x`)
    .join(', ');
  console.log(`n=${n}: paired (median of ${p.pairs}): ${wasm}`);
  if (p.quickselectOverThreshold === undefined) continue;
  const t = ms(n, 'webgpu threshold');
  console.log(
    `  webgpu: bitonic / threshold ${(ms(n, 'webgpu bitonic') / t).toFixed(1)}x; ` +
      `x${BATCH} batched: quickselect / threshold ${(ms(n, 'cpu quickselect (JS)') / ms(n, `webgpu threshold x${BATCH}, 1 readback`)).toFixed(2)}x; ` +
      `paired: quickselect / threshold ${p.quickselectOverThreshold.toFixed(2)}x, ` +
      `quickselect with the scores on the GPU / threshold ${p.gpuScoresQuickselectOverThreshold!.toFixed(2)}x`,
  );
}
if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ adapter, date: new Date().toISOString(), density: DENSITY, rows, paired }, null, 2));
tg.shutdown();
process.exit(0);
