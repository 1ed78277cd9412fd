// `npm run bench:sparse`: inference time of one ticket, dense (alpha * sign(W) * M through the
// ordinary conv2d/matmul kernels) vs compact (the binary weight-sparse kernel), side by side in
// one run on the same adapter, at 70%, 90% and 95% sparsity, next to the acceleration rate AR
// of Eq. 4 that the ticket's zero kernels predict. Report: ms per batch (medians), speedup =
// dense / compact, and speedup / AR (the issue's target: at least 0.8). The "layers" columns
// time the prunable layers alone (each on an input of its shape): what AR describes, without
// the ReLU, pooling and readback that dense and compact models share.
//
// Tickets: by default conv4 (width 0.5, 28x28 inputs) with masks from the layer-wise top-k of
// its initial random scores, which is where score training starts; --runs=DIR,DIR,... measures
// trained mpt run directories instead (their sparsity is read from their report.json).
//
// Each timed iteration queues --repeat batches and reads back the last (ms per batch = its
// time / repeat), so the fixed cost of one readback and wake-up weighs less on the ratio. Every
// forward pass runs in a tg.scope, so its intermediate tensors are freed at once.
//
// Options: --model=conv4 --width=0.5 --batch=16 --iterations=15 --repeat=4 --backend=webgpu|wasm|cpu --json=FILE.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Bench } from 'tinybench';
import * as tg from '../src/index.js';
import { type ModelName, createModel } from '../src/nn/models.js';
import { analyzeTicket } from '../src/sparse/analyze.js';
import { checkpointKernelCounts, checkpointTicket, modelCheckpoint } from '../src/sparse/checkpoint.js';
import { BinaryConvModule, type CompactTicket, DenseTicketModule, type ModelSpec, inferenceModel } from '../src/sparse/compact-model.js';
import { readSafetensors } from '../src/io/safetensors.js';

const arg = (name: string, fallback: string): string => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const model = arg('model', 'conv4') as ModelName;
const width = Number(arg('width', '0.5'));
const batch = Number(arg('batch', '16'));
const iterations = Number(arg('iterations', '15'));
const repeat = Number(arg('repeat', '4'));
const backend = arg('backend', 'webgpu') as 'webgpu' | 'wasm' | 'cpu';
const runs = arg('runs', '').split(',').filter(Boolean);
const jsonOut = arg('json', '');

const { adapter } = await tg.init({ backend });

interface Case {
  label: string;
  sparsity: number;
  contents: ReturnType<typeof readSafetensors>;
}

async function initialScoreTicket(sparsity: number): Promise<Case> {
  const spec: ModelSpec = { model, width, input: [1, 28, 28], classes: 10 };
  const net = createModel(model, { mode: 'mpt', input: spec.input, classes: 10, width, seed: 1 });
  tg.computeMasks(net, { density: 1 - sparsity, scope: 'layer', method: 'threshold' });
  const x = tg.zeros([1, ...spec.input]);
  tg.noGrad(() => net.eval().forward(x)).dispose();
  const contents = await modelCheckpoint(net, spec, 'mpt');
  net.dispose();
  x.dispose();
  return { label: `${model} w${width} initial scores`, sparsity, contents };
}

function trainedTicket(dir: string): Case {
  const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as { sparsity: number };
  return { label: dir, sparsity: report.sparsity, contents: readSafetensors(readFileSync(join(dir, 'model.safetensors'))) };
}

const cases = runs.length ? runs.map(trainedTicket) : await Promise.all([0.7, 0.9, 0.95].map(initialScoreTicket));

interface Row {
  ticket: string;
  sparsity: number;
  zeroKernelFraction: number | null;
  accelerationRate: number | null;
  denseMs: number;
  compactMs: number;
  speedup: number;
  speedupOverAR: number | null;
  layersDenseMs: number;
  layersCompactMs: number;
  layersSpeedup: number;
}

/** The input shape of each prunable layer of `model`, from one forward pass of x (recorded, then unhooked). */
function layerInputShapes(model: tg.nn.Module, x: tg.Tensor): Map<string, number[]> {
  const shapes = new Map<string, number[]>();
  const hooked = model
    .namedModules()
    .map(([, m]) => m)
    .filter((m): m is DenseTicketModule => m instanceof DenseTicketModule);
  for (const m of hooked) {
    const forward = m.forward.bind(m);
    m.forward = (input: tg.Tensor): tg.Tensor => {
      shapes.set(m.layer.name, [...input.shape]);
      return forward(input);
    };
  }
  tg.noGrad(() => model.forward(x)).dispose();
  // Back to the class's forward, so that the timed runs carry no recording.
  for (const m of hooked) Reflect.deleteProperty(m, 'forward');
  return shapes;
}

const rows: Row[] = [];
for (const c of cases) {
  const ticket: CompactTicket = checkpointTicket(c.contents, c.label);
  const analysis = analyzeTicket(checkpointKernelCounts(c.contents, c.label));
  const x = tg.rand([batch, ...ticket.spec.input], { seed: 2 });
  const models = { dense: inferenceModel(ticket, 'dense'), compact: inferenceModel(ticket, 'compact') };
  const bench = new Bench({ iterations, time: 0, warmupIterations: 1, warmupTime: 0 });
  for (const [name, m] of Object.entries(models)) {
    bench.add(name, async () => {
      for (let r = 1; r < repeat; r++) tg.scope(() => void tg.noGrad(() => m.forward(x)));
      const y = tg.scope(() => tg.noGrad(() => m.forward(x)));
      await y.data();
      y.dispose();
    });
  }
  const shapes = layerInputShapes(models.dense, x);
  const layers = ticket.layers.map((l, i) => ({
    input: tg.rand(shapes.get(l.name) ?? [], { seed: 3 + i }),
    dense: new DenseTicketModule(l),
    compact: new BinaryConvModule(l),
  }));
  for (const kind of ['dense', 'compact'] as const) {
    bench.add(`${kind} layers`, async () => {
      for (let r = 1; r < repeat; r++) tg.scope(() => void tg.noGrad(() => layers.map((l) => l[kind].forward(l.input))));
      const ys = tg.scope(() => tg.noGrad(() => layers.map((l) => l[kind].forward(l.input))));
      await ys[ys.length - 1].data();
      ys.forEach((y) => y.dispose());
    });
  }
  await bench.run();
  const ms = (name: string): number => {
    const r = bench.tasks.find((t) => t.name === name)?.result;
    if (r?.state !== 'completed') throw new Error(`benchmark ${name} failed: ${r && 'error' in r ? String(r.error) : 'no result'}`);
    return r.latency.p50 / repeat;
  };
  const [denseMs, compactMs, layersDenseMs, layersCompactMs] = [ms('dense'), ms('compact'), ms('dense layers'), ms('compact layers')];
  const speedup = denseMs / compactMs;
  const ar = analysis.accelerationRate;
  rows.push({
    ticket: c.label,
    sparsity: c.sparsity,
    zeroKernelFraction: analysis.zeroKernelFraction,
    accelerationRate: ar,
    denseMs,
    compactMs,
    speedup,
    speedupOverAR: ar ? speedup / ar : null,
    layersDenseMs,
    layersCompactMs,
    layersSpeedup: layersDenseMs / layersCompactMs,
  });
  Object.values(models).forEach((m) => m.dispose());
  layers.forEach((l) => [l.input, l.dense, l.compact].forEach((t) => t.dispose()));
  x.dispose();
}

const f = (v: number | null, digits: number): string => (v === null ? 'n/a' : v.toFixed(digits));
console.log(`\nDevice: ${adapter}; ${new Date().toISOString().slice(0, 10)}; batch ${batch}, ${iterations} iterations of ${repeat} batches`);
console.log('sparsity  zero kernels  AR      dense ms  compact ms  speedup  speedup/AR  layers: dense ms  compact ms  speedup  ticket');
for (const r of rows) {
  console.log(
    `${f(r.sparsity, 3).padEnd(10)}${f(r.zeroKernelFraction, 3).padEnd(14)}${(`${f(r.accelerationRate, 2)}x`).padEnd(8)}${f(r.denseMs, 1).padStart(8)}${f(r.compactMs, 1).padStart(12)}${(`${f(r.speedup, 2)}x`).padStart(9)}${f(r.speedupOverAR, 2).padStart(12)}${f(r.layersDenseMs, 1).padStart(18)}${f(r.layersCompactMs, 1).padStart(12)}${(`${f(r.layersSpeedup, 2)}x`).padStart(9)}  ${r.ticket}`,
  );
}
if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ adapter, date: new Date().toISOString(), batch, iterations, repeat, rows }, null, 2));
tg.shutdown();
process.exit(0);
