// `npm run soak`: does memory stay flat over a long training run? 10,000 steps of MPT (score
// training over frozen random weights, binarized, threshold masks at every step, 50% sparsity)
// on a small LeNet-300-100 (width 0.125 on 14x14 inputs: 196-38-12-10) with synthetic data,
// through the public loop (tg.trainModel with a listener), on each backend in a process of
// its own (so that one backend's memory does not show in another's RSS).
//
// The run is epochs of --steps-per-epoch steps (a train set of that many batches), so the
// soak covers the per-epoch work too (the epoch's readback, the evaluation, the masks). Every
// --every steps, at the end of an epoch (where the listener may wait), the child process
// collects garbage (it runs with --expose-gc: dropped tensors' finalizers have run, and what
// is measured is what stays, not the collector's timing) and records the backend's
// tg.memory() (live buffers, live bytes, pooled bytes), the process's RSS and V8's heap.
//
// Verdict per backend: from the first sample after the warm-up (--warmup steps) to the last,
// the largest relative change of live bytes, pooled bytes and RSS from that first sample;
// flat = every one within 1%. With it, the trend (least-squares slope) of RSS and of V8's used
// heap: a leak grows steadily, while RSS also moves with the collector and the allocator. The
// exit status is 0 whatever the verdict (1 if a run failed).
//
// Options: --backends=cpu,wasm,webgpu (all three), --steps=10000, --every=1000,
// --warmup=1000, --steps-per-epoch=100, --batch=8, --width=0.125, --side=14 (the images'
// height and width), --alpha=1 (power-propagation; at 2 this small model's scores diverged
// after some 75 epochs in runs of 20,000 steps or more), --json=FILE.

import { fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import * as tg from '../src/index.js';

const arg = (name: string, fallback: string): string => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const count = (name: string, fallback: number): number => {
  const n = Number(arg(name, String(fallback)));
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got ${arg(name, '')}`);
  return n;
};

const BACKENDS = ['cpu', 'wasm', 'webgpu'] as const;
type BackendName = (typeof BACKENDS)[number];

const steps = count('steps', 10_000);
const every = count('every', 1000);
const warmup = Number(arg('warmup', '1000'));
if (!Number.isInteger(warmup) || warmup < 0) throw new Error(`--warmup must be a non-negative integer, got ${arg('warmup', '')}`);
const stepsPerEpoch = count('steps-per-epoch', 100);
const batch = count('batch', 8);
const width = Number(arg('width', '0.125'));
const side = count('side', 14);
const alpha = Number(arg('alpha', '1'));
const jsonOut = arg('json', '');
/** Flat: every tracked figure within this fraction of its first value after the warm-up. */
const FLAT = 0.01;

if (steps % stepsPerEpoch !== 0 || every % stepsPerEpoch !== 0) {
  throw new Error(`--steps (${steps}) and --every (${every}) must be multiples of --steps-per-epoch (${stepsPerEpoch}): memory is sampled at the end of an epoch`);
}

interface Sample {
  step: number;
  liveBuffers: number;
  liveBytes: number;
  pooledBytes: number;
  rss: number;
  heapUsed: number;
  /** V8's heap as committed, used or not. */
  heapTotal: number;
  /** Memory outside V8's heap that JS objects hold (ArrayBuffers' contents, wasm memories). */
  external: number;
  /** Since the start of training. */
  seconds: number;
}

/** What the verdict reads, over the samples from the first after the warm-up (x0) on. */
interface Drift {
  /** The step of x0. */
  from: number;
  /** Largest |x - x0| / x0 (0 when x0 and every x are 0), for the tracked figures and V8's heap. */
  change: { liveBytes: number; pooledBytes: number; rss: number; heapUsed: number };
  /** Least-squares slope in bytes per 10,000 steps: a leak grows steadily, noise does not. */
  trend: { rss: number; heapUsed: number };
}

interface BackendResult {
  backend: BackendName;
  adapter: string;
  seconds: number;
  testAccuracy: number;
  samples: Sample[];
}

// ---- a child: one backend's run ----

/** Collects garbage and lets the finalizers of dropped storages run (the CPU backend counts those until then). */
async function collect(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('soak: run with node --expose-gc (the parent process does)');
  for (let i = 0; i < 2; i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

async function soak(backend: BackendName): Promise<BackendResult> {
  const { adapter } = await tg.init({ backend, quiet: true });
  const epochs = steps / stepsPerEpoch;
  const data = tg.data.loadSynthetic({ train: stepsPerEpoch * batch, test: 200, shape: [1, side, side], seed: 1 });
  const options = tg.resolveOptions({ model: 'lenet300', data: 'synthetic', method: 'mpt', alpha, sparsity: 0.5, width, epochs, batch, backend, seed: 1 });
  const samples: Sample[] = [];
  let started = 0;
  const sample = (step: number): void => {
    const { liveBuffers, liveBytes, pooledBytes } = tg.memory();
    const { rss, heapUsed, heapTotal, external } = process.memoryUsage();
    samples.push({ step, liveBuffers, liveBytes, pooledBytes, rss, heapUsed, heapTotal, external, seconds: (performance.now() - started) / 1000 });
  };
  await collect();
  started = performance.now();
  const { model, report } = await tg.trainModel(options, data, {
    listener: {
      onStart: () => sample(0),
      onEpoch: async (m) => {
        const step = m.epoch * stepsPerEpoch;
        if (step % every !== 0) return;
        await tg.sync();
        await collect();
        sample(step);
      },
    },
  });
  const seconds = (performance.now() - started) / 1000;
  model.dispose();
  tg.shutdown();
  return { backend, adapter, seconds, testAccuracy: report.testAccuracy, samples };
}

// ---- the parent: a child per backend, then the tables ----

function drift(samples: Sample[]): Drift | null {
  const after = samples.filter((s) => s.step >= warmup);
  if (after.length < 2) return null;
  const change = (key: keyof Drift['change']): number => {
    const x0 = after[0][key];
    const worst = Math.max(...after.map((s) => Math.abs(s[key] - x0)));
    return worst === 0 ? 0 : worst / x0;
  };
  const trend = (key: keyof Drift['trend']): number => {
    const mean = (f: (s: Sample) => number): number => after.reduce((a, s) => a + f(s), 0) / after.length;
    const [x, y] = [mean((s) => s.step), mean((s) => s[key])];
    return (10_000 * mean((s) => (s.step - x) * (s[key] - y))) / mean((s) => (s.step - x) ** 2);
  };
  return {
    from: after[0].step,
    change: { liveBytes: change('liveBytes'), pooledBytes: change('pooledBytes'), rss: change('rss'), heapUsed: change('heapUsed') },
    trend: { rss: trend('rss'), heapUsed: trend('heapUsed') },
  };
}

const mib = (bytes: number): string => (bytes / 2 ** 20).toFixed(bytes !== 0 && Math.abs(bytes) < 2 ** 20 ? 2 : 1);
const pct = (x: number): string => (Number.isFinite(x) ? `${(100 * x).toFixed(2)}%` : 'inf');

function table(r: BackendResult): string {
  const rows = [
    ['step', 'live buffers', 'live bytes', 'pooled bytes', 'RSS MiB', 'heap used MiB', 'heap total MiB', 'external MiB', 's'],
    ...r.samples.map((s) => [
      String(s.step),
      String(s.liveBuffers),
      String(s.liveBytes),
      String(s.pooledBytes),
      mib(s.rss),
      mib(s.heapUsed),
      mib(s.heapTotal),
      mib(s.external),
      s.seconds.toFixed(1),
    ]),
  ];
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  return rows.map((row) => row.map((cell, c) => cell.padStart(widths[c])).join('  ')).join('\n');
}

function verdict(d: Drift | null): string {
  if (!d) return `verdict: not enough samples after the ${warmup}-step warm-up`;
  const { change: c, trend: t } = d;
  const flat = c.liveBytes <= FLAT && c.pooledBytes <= FLAT && c.rss <= FLAT;
  const slope = (bytes: number): string => `${bytes >= 0 ? '+' : ''}${mib(bytes)} MiB per 10,000 steps`;
  return (
    `verdict: ${flat ? 'FLAT' : 'NOT FLAT'}: max change from step ${d.from} (flat = each within ${pct(FLAT)}): live bytes ${pct(c.liveBytes)}, pooled bytes ${pct(c.pooledBytes)}, ` +
    `RSS ${pct(c.rss)} (trend ${slope(t.rss)}); V8 heap used ${pct(c.heapUsed)} (trend ${slope(t.heapUsed)})`
  );
}

function runChild(backend: BackendName): Promise<BackendResult> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), [...process.argv.slice(2), `--child=${backend}`], { execArgv: ['--expose-gc'] });
    let result: BackendResult | undefined;
    child.on('message', (m) => (result = m as BackendResult));
    child.on('error', reject);
    child.on('exit', (code, signal) => (result ? resolve(result) : reject(new Error(`the ${backend} run exited with ${signal ?? `code ${code}`} before reporting`))));
  });
}

async function main(): Promise<void> {
  const child = arg('child', '');
  if (child) {
    if (!BACKENDS.includes(child as BackendName)) throw new Error(`--child=${child}: not a backend`);
    process.send!(await soak(child as BackendName));
    return;
  }
  const chosen = arg('backends', BACKENDS.join(',')).split(',');
  for (const b of chosen) if (!BACKENDS.includes(b as BackendName)) throw new Error(`--backends: ${b} is not one of ${BACKENDS.join(', ')}`);
  console.log(
    `soak: ${steps} steps of MPT (alpha ${alpha}, threshold masks, 50% sparse) on lenet300 width ${width}, batch ${batch}, ${stepsPerEpoch} steps per epoch (synthetic ${side}x${side} data), sampled every ${every} steps after a garbage collection`,
  );
  console.log(`machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, Node ${process.version}\n`);
  const results: (BackendResult & { drift: Drift | null })[] = [];
  let failed = false;
  for (const backend of chosen as BackendName[]) {
    try {
      const r = await runChild(backend);
      const d = drift(r.samples);
      results.push({ ...r, drift: d });
      console.log(
        `${backend} (${r.adapter}): ${steps} steps in ${r.seconds.toFixed(1)} s (${((1000 * r.seconds) / steps).toFixed(2)} ms per step), test accuracy ${(100 * r.testAccuracy).toFixed(2)}%`,
      );
      console.log(table(r));
      console.log(`${verdict(d)}\n`);
    } catch (e) {
      failed = true;
      console.log(`${backend}: FAILED: ${(e as Error).message}\n`);
    }
  }
  if (jsonOut) {
    const machine = { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version };
    const config = { steps, every, warmup, stepsPerEpoch, batch, width, side, model: 'lenet300', method: 'mpt', alpha, sparsity: 0.5, flat: FLAT };
    writeFileSync(jsonOut, `${JSON.stringify({ date: new Date().toISOString(), machine, config, results }, null, 2)}\n`);
    console.log(`wrote ${jsonOut}`);
  }
  if (failed) process.exitCode = 1;
}

await main();
