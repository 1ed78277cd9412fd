// The compact-ticket commands: `analyze` (zero kernels and the acceleration rate of Eq. 4),
// `export` (the .tgt file) and `infer` (accuracy and images per second from a .tgt file).

import { existsSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { BACKEND_CHOICES, type BackendChoice, init, takesThreads } from '../init.js';
import { getBackend, noGrad } from '../engine.js';
import { tensor } from '../tensor.js';
import type { Module } from '../nn/module.js';
import { evaluate } from '../train/evaluate.js';
import { readSafetensors, type SafetensorsContents } from '../io/safetensors.js';
import { readTgt, writeTgt } from '../io/tgt.js';
import { analyzeTicket, type TicketAnalysis } from '../sparse/analyze.js';
import { checkpointKernelCounts, checkpointTicket } from '../sparse/checkpoint.js';
import { inferenceModel } from '../sparse/compact-model.js';
import { batches, type Dataset } from '../data/dataset.js';
import { loadMnist } from '../data/mnist.js';
import { loadCifar10 } from '../data/cifar10.js';
import { loadSynthetic } from '../data/synthetic.js';
import { DATA_NAMES } from '../data/dataset.js';
import { barChart } from '../report/svg.js';
import { type FlagSpec, UsageError, parseFlags } from './args.js';
import { checkNotAnInput, readFileBytes, readJsonFile, writeFileAtomic, writeJsonAtomic } from '../io/files.js';
import { RUN_FILES } from '../train/train.js';
import { collapseWarning } from '../prune/select.js';

export const ANALYZE_HELP = `ticketgrad analyze: all-zero kernels and the acceleration rate (Eq. 4) of a ticket

Usage: ticketgrad analyze RUN_DIR | FILE.safetensors [--svg FILE]

Prints, per prunable layer, the kernels, the all-zero kernels and the layer's acceleration rate,
and for the network the zero-kernel fraction of the conv layers and AR = sum(N M D^2 k^2) /
sum(P D^2 k^2). For a run directory it also writes zeroKernelFraction and accelerationRate into
report.json and the bar chart of zero kernels per layer to zero-kernels.svg.
  --svg FILE    where the bar chart goes (default RUN_DIR/zero-kernels.svg, or FILE.zero-kernels.svg)
`;

export const EXPORT_HELP = `ticketgrad export: write the compact binary form of an mpt ticket

Usage: ticketgrad export RUN_DIR | FILE.safetensors --out MODEL.tgt

The .tgt file holds, per layer, one bit per kernel (kept or all zero), the tap mask of each
kept kernel, one sign bit per kept weight and alpha, plus the model's other tensors (docs/cli.md:
"The .tgt format"). Only mpt (binary) tickets can be exported.
`;

export const INFER_HELP = `ticketgrad infer: evaluate a compact ticket

Usage: ticketgrad infer MODEL.tgt [--data mnist|cifar10|synthetic] [--data-dir DIR] [--batch N] [--dense] [--backend auto|webgpu|wasm|cpu] [--threads N]

Prints the test accuracy and the images per second of the binary sparse kernel, on the test
set of the data set the ticket was trained on (recorded in the file; --data must agree with it,
and is needed only for files that do not record it, where mnist is the default).
  --dense       also run the same ticket with dense weights through the ordinary kernels, for comparison
  --batch N     images per batch (default 500)
  --backend     as for train (default auto: a hardware WebGPU adapter, else wasm)
  --threads N   threads of the wasm backend (default: the available cores)
`;

const parse = (argv: string[], options: FlagSpec) => parseFlags(argv, options, true);

function onePath(positionals: string[], command: string): string {
  if (positionals.length !== 1) throw new UsageError(`${command}: expected one run directory or file, got ${positionals.length}`);
  if (!existsSync(positionals[0])) throw new UsageError(`${command}: ${positionals[0]} does not exist`);
  return positionals[0];
}

/** A run directory's model.safetensors, or a .safetensors file itself (`file`: which one was read). */
function readCheckpoint(path: string): { contents: SafetensorsContents; runDir: string | null; file: string } {
  const runDir = statSync(path).isDirectory() ? path : null;
  const file = runDir ? join(runDir, 'model.safetensors') : path;
  if (!existsSync(file)) throw new Error(`${path}: no model.safetensors in this run directory`);
  return { contents: readSafetensors(readFileBytes(file), file), runDir, file };
}

const fixed = (v: number | null, digits: number): string => (v === null ? 'n/a' : v.toFixed(digits));
/** An acceleration rate: null when every kernel is zero. */
const rate = (v: number | null, digits: number): string => (v === null ? 'n/a' : `${v.toFixed(digits)}x`);

function printAnalysis(a: TicketAnalysis): void {
  console.log('layer                 kind    kernels   zero      zero %   out size  AR');
  for (const l of a.layers) {
    console.log(
      `${l.name.padEnd(22)}${l.kind.padEnd(8)}${`${l.kernels}`.padStart(7)}${`${l.zeroKernels}`.padStart(9)}${`${(100 * l.zeroKernelFraction).toFixed(1)}%`.padStart(9)}${`${l.outputSize[0]}x${l.outputSize[1]}`.padStart(10)}  ${rate(l.accelerationRate, 2)}`,
    );
  }
  console.log(`\nzero-kernel fraction (conv layers)  ${a.zeroKernelFraction === null ? 'n/a (no conv layers)' : `${(100 * a.zeroKernelFraction).toFixed(2)}%`}`);
  console.log(`acceleration rate (Eq. 4)           ${rate(a.accelerationRate, 3)}`);
  for (const l of a.layers) if (l.zeroKernels === l.kernels) console.log(`warning: ${collapseWarning(l.name)}`);
}

export function analyzeCommand(argv: string[]): number {
  const { values, positionals } = parse(argv, { svg: { type: 'string' } });
  if (values.help) {
    console.log(ANALYZE_HELP);
    return 0;
  }
  const path = onePath(positionals, 'analyze');
  const { contents, runDir, file } = readCheckpoint(path);
  const reportFile = runDir ? join(runDir, 'report.json') : null;
  const svg = (values.svg as string | undefined) ?? (runDir ? join(runDir, 'zero-kernels.svg') : join(dirname(path), `${basename(path, '.safetensors')}.zero-kernels.svg`));
  try {
    checkNotAnInput(svg, reportFile ? [file, reportFile] : [file], 'analyze: --svg');
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  // Read before anything is written: a damaged report.json fails the command, not half of it.
  const report = reportFile && existsSync(reportFile) ? readJsonFile(reportFile) : null;
  const analysis = analyzeTicket(checkpointKernelCounts(contents, path));
  printAnalysis(analysis);
  const conv = analysis.layers.filter((l) => l.kernelSize > 1);
  const shown = conv.length ? conv : analysis.layers;
  writeFileAtomic(
    svg,
    barChart({
      title: `All-zero ${conv.length ? 'k x k kernels' : 'weights'} per layer (AR ${fixed(analysis.accelerationRate, 2)}x)`,
      xLabel: 'layer',
      yLabel: 'zero kernels (%)',
      bars: shown.map((l) => ({ label: l.name, value: 100 * l.zeroKernelFraction })),
    }),
  );
  if (report && reportFile) {
    report.zeroKernelFraction = analysis.zeroKernelFraction;
    report.accelerationRate = analysis.accelerationRate;
    writeJsonAtomic(reportFile, report);
  }
  console.log(`chart                               ${svg}${report ? '\nreport.json                         updated' : ''}`);
  return 0;
}

export function exportCommand(argv: string[]): number {
  const { values, positionals } = parse(argv, { out: { type: 'string' } });
  if (values.help) {
    console.log(EXPORT_HELP);
    return 0;
  }
  const path = onePath(positionals, 'export');
  const out = values.out as string | undefined;
  if (!out) throw new UsageError('export: --out MODEL.tgt is required');
  const { contents, runDir, file } = readCheckpoint(path);
  if (resolve(out) === resolve(file)) throw new UsageError(`export: --out ${out} is the checkpoint being read; choose another file`);
  if (runDir && resolve(dirname(out)) === resolve(runDir) && RUN_FILES.includes(basename(out))) {
    throw new UsageError(`export: --out ${out} would overwrite the run's own ${basename(out)}; choose another file`);
  }
  if (existsSync(out) && statSync(out).isDirectory()) throw new UsageError(`export: --out ${out} is a directory; give a file name such as ${join(out, 'model.tgt')}`);
  const ticket = checkpointTicket(contents, path);
  const bytes = writeTgt(ticket);
  writeFileAtomic(out, bytes);
  const weightBytes = 4 * ticket.layers.reduce((a, l) => a + l.outChannels * l.inChannels * l.kernelSize ** 2, 0);
  const checkpointBytes = statSync(file).size;
  console.log(
    `wrote ${out}: ${bytes.length} bytes; float32 weights ${weightBytes} bytes (${(weightBytes / bytes.length).toFixed(1)}x smaller), the whole checkpoint ${checkpointBytes} bytes (${(checkpointBytes / bytes.length).toFixed(1)}x)`,
  );
  return 0;
}

function loadTestSet(data: string, dataDir: string | undefined, seed: number): Dataset {
  if (!(DATA_NAMES as readonly string[]).includes(data)) throw new UsageError(`infer: --data: expected one of ${DATA_NAMES.join(', ')}, got '${data}'`);
  if (dataDir !== undefined && data !== 'cifar10') throw new UsageError(`infer: --data-dir applies to --data cifar10, not to ${data}`);
  if (data === 'mnist') return loadMnist({ seed: 1 }).test;
  if (data === 'synthetic') return loadSynthetic({ seed }).test;
  if (!dataDir) throw new UsageError('infer: --data cifar10 needs --data-dir DIR');
  return loadCifar10(dataDir).test;
}

export async function inferCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    data: { type: 'string' },
    'data-dir': { type: 'string' },
    batch: { type: 'string' },
    dense: { type: 'boolean' },
    backend: { type: 'string' },
    threads: { type: 'string' },
  });
  if (values.help) {
    console.log(INFER_HELP);
    return 0;
  }
  const batch = Number(values.batch ?? '500');
  if (!Number.isInteger(batch) || batch < 1) throw new UsageError(`infer: --batch: expected an integer >= 1, got '${String(values.batch)}'`);
  const backendName = (values.backend as string | undefined) ?? 'auto';
  if (!(BACKEND_CHOICES as readonly string[]).includes(backendName)) throw new UsageError(`infer: --backend: expected one of ${BACKEND_CHOICES.join(', ')}, got '${backendName}'`);
  const threads = values.threads === undefined ? undefined : Number(values.threads);
  if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1 && threads <= 256 && /^\d+$/.test(String(values.threads))))
    throw new UsageError(`infer: --threads: expected an integer in [1, 256], got '${String(values.threads)}'`);
  if (threads !== undefined && !takesThreads(backendName as BackendChoice)) throw new UsageError(`infer: --threads applies to --backend wasm (or auto), not to ${backendName}`);
  const path = onePath(positionals, 'infer');
  if (statSync(path).isDirectory()) throw new UsageError(`infer: ${path} is a directory; infer reads a .tgt file (make one with ticketgrad export ${path} --out FILE.tgt)`);
  const ticket = readTgt(readFileBytes(path), path);
  const asked = values.data as string | undefined;
  const { data: trainedOn, dataSeed } = ticket.spec;
  if (asked !== undefined && trainedOn !== undefined && asked !== trainedOn) {
    throw new UsageError(`infer: ${path} was trained on ${trainedOn}; --data ${asked} would score it on another data set (leave out --data)`);
  }
  // Files written before the data set was recorded: MNIST unless --data says otherwise.
  const test = loadTestSet(asked ?? trainedOn ?? 'mnist', values['data-dir'] as string | undefined, dataSeed ?? 1);
  if (test.shape.join() !== ticket.spec.input.join()) throw new Error(`${path} takes inputs [${ticket.spec.input.join(', ')}]; the data set has [${test.shape.join(', ')}]`);
  if (test.classes !== ticket.spec.classes) throw new Error(`${path} has ${ticket.spec.classes} classes; the data set has ${test.classes}`);
  const { backend, adapter } = await init({ backend: backendName as BackendChoice, threads });
  console.log(`${path}: ${ticket.spec.model} (width ${ticket.spec.width}), ${ticket.layers.length} binary layers; ${test.count} test images; ${backend} (${adapter})`);
  for (const kind of values.dense ? (['compact', 'dense'] as const) : (['compact'] as const)) {
    const model = inferenceModel(ticket, kind);
    const { accuracy, seconds } = await timedEvaluate(model, test, batch);
    console.log(`${kind.padEnd(8)} accuracy ${(100 * accuracy).toFixed(2)}%   ${(test.count / seconds).toFixed(1)} images/s (${seconds.toFixed(2)} s)`);
    model.dispose();
  }
  return 0;
}

/** Accuracy and wall-clock seconds over the data set; one warm-up batch first (pipeline compilation). */
async function timedEvaluate(model: Module, ds: Dataset, batchSize: number): Promise<{ accuracy: number; seconds: number }> {
  const first = batches(ds, batchSize).next().value;
  if (first) {
    const x = tensor(first.images, [first.size, ...ds.shape]);
    const y = noGrad(() => model.forward(x));
    await y.data();
    [x, y].forEach((t) => t.dispose());
  }
  const started = performance.now();
  const accuracy = await evaluate(model, ds, batchSize);
  await getBackend().sync();
  return { accuracy, seconds: (performance.now() - started) / 1000 };
}
