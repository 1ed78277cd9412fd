// `npm run bench`: matmul 512^3 and conv2d forward / backward (batch 32, 64->64 channels, 32x32,
// 3x3, padding 1) in GFLOP/s, ticketgrad side by side with jax-js and tfjs-webgpu on the same
// Dawn adapter, in one run (this machine is shared and noisy: compare ratios, not absolutes).
//
// Options: --quick (fewer iterations), --only=matmul|conv-fwd|conv-bwd, --json=FILE.

import { writeFileSync } from 'node:fs';
import { Bench } from 'tinybench';
import * as tg from '../src/index.js';
import { type PeerCase, peers } from './peers.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const only = args.find((a) => a.startsWith('--only='))?.slice(7);
const jsonOut = args.find((a) => a.startsWith('--json='))?.slice(7);

const MATMUL = { m: 512, k: 512, n: 512 };
const CONV = { n: 32, c: 64, h: 32, w: 32, o: 64, k: 3, pad: 1 };
const convFlops = 2 * CONV.n * CONV.o * CONV.h * CONV.w * CONV.c * CONV.k * CONV.k;

/** ticketgrad's side of each case, shaped like the peers' cases. */
const ours = {
  matmul(): PeerCase {
    const a = tg.randn([MATMUL.m, MATMUL.k], { seed: 1 });
    const b = tg.randn([MATMUL.k, MATMUL.n], { seed: 2 });
    return {
      name: 'matmul',
      flops: 2 * MATMUL.m * MATMUL.k * MATMUL.n,
      run: async () => {
        const c = tg.matmul(a, b);
        await c.data();
        c.dispose();
      },
      dispose: () => [a, b].forEach((t) => t.dispose()),
    };
  },
  convForward(): PeerCase {
    const x = tg.randn([CONV.n, CONV.c, CONV.h, CONV.w], { seed: 3 });
    const w = tg.randn([CONV.o, CONV.c, CONV.k, CONV.k], { seed: 4 });
    return {
      name: 'conv2d forward',
      flops: convFlops,
      run: async () => {
        const y = tg.conv2d(x, w, { padding: CONV.pad });
        await y.data();
        y.dispose();
      },
      dispose: () => [x, w].forEach((t) => t.dispose()),
    };
  },
  /** Both gradients (input and weight) of a recorded forward; the forward is not re-run. */
  convBackward(): PeerCase {
    const x = tg.randn([CONV.n, CONV.c, CONV.h, CONV.w], { seed: 3, requiresGrad: true });
    const w = tg.randn([CONV.o, CONV.c, CONV.k, CONV.k], { seed: 4, requiresGrad: true });
    const y = tg.conv2d(x, w, { padding: CONV.pad });
    const dy = tg.randn(y.shape, { seed: 5 });
    return {
      name: 'conv2d backward',
      flops: 2 * convFlops,
      run: async () => {
        y.backward(dy);
        await x.grad!.data();
        x.zeroGrad();
        w.zeroGrad();
      },
      dispose: () => [x, w, y, dy].forEach((t) => t.dispose()),
    };
  },
};

interface Row {
  case: string;
  library: string;
  gflops: number;
  meanMs: number;
  samples: number;
}

async function measure(caseName: string, cases: PeerCase[], library: string[]): Promise<Row[]> {
  const bench = new Bench({ iterations: quick ? 1 : 3, time: 0, warmupIterations: 1, warmupTime: 0 });
  cases.forEach((c, i) => bench.add(`${library[i]}`, c.run));
  await bench.run();
  return bench.tasks.map((task, i) => {
    const r = task.result;
    if (!r || r.state !== 'completed') throw new Error(`benchmark ${cases[i].name} / ${library[i]} failed: ${r && 'error' in r ? String(r.error) : 'no result'}`);
    const meanMs = r.latency.mean;
    return { case: caseName, library: library[i], gflops: cases[i].flops / (meanMs / 1000) / 1e9, meanMs, samples: r.latency.samplesCount };
  });
}

const { adapter } = await tg.init({ backend: 'webgpu' });
const { create } = await import('webgpu');
const gpu = create([]);
for (const p of peers) await p.setup(gpu);

const plan: { key: string; ours: () => PeerCase; peer: (p: (typeof peers)[number]) => Promise<PeerCase> }[] = [
  { key: 'matmul', ours: ours.matmul, peer: (p) => p.matmul(MATMUL.m, MATMUL.k, MATMUL.n) },
  { key: 'conv-fwd', ours: ours.convForward, peer: (p) => p.conv2dForward(CONV.n, CONV.c, CONV.h, CONV.w, CONV.o, CONV.k, CONV.pad) },
  { key: 'conv-bwd', ours: ours.convBackward, peer: (p) => p.conv2dBackward(CONV.n, CONV.c, CONV.h, CONV.w, CONV.o, CONV.k, CONV.pad) },
];

const rows: Row[] = [];
for (const item of plan.filter((p) => !only || p.key === only)) {
  const cases = [item.ours(), ...(await Promise.all(peers.map(item.peer)))];
  const names = ['ticketgrad', ...peers.map((p) => p.name)];
  rows.push(...(await measure(cases[0].name, cases, names)));
  cases.forEach((c) => c.dispose());
}

console.log(`\nDevice: ${adapter}; ${new Date().toISOString().slice(0, 10)}; ${quick ? 'quick' : 'full'} run`);
console.log('case              library       GFLOP/s   mean ms  samples');
for (const r of rows) console.log(`${r.case.padEnd(18)}${r.library.padEnd(14)}${r.gflops.toFixed(3).padStart(7)}${r.meanMs.toFixed(1).padStart(10)}${String(r.samples).padStart(9)}`);
console.log('\nratio = ticketgrad / best peer');
for (const name of [...new Set(rows.map((r) => r.case))]) {
  const ourRow = rows.find((r) => r.case === name && r.library === 'ticketgrad')!;
  const best = rows.filter((r) => r.case === name && r.library !== 'ticketgrad').sort((a, b) => b.gflops - a.gflops)[0];
  console.log(`${name.padEnd(18)}${(ourRow.gflops / best.gflops).toFixed(2)}x  (best peer: ${best.library} ${best.gflops.toFixed(3)} GFLOP/s)`);
}
if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ adapter, date: new Date().toISOString(), rows }, null, 2));
tg.shutdown();
process.exit(0);
