// A training run in Node: the options checked, the backend started, the data loaded, the loop
// run (loop.ts), and the run directory written: report.json, metrics.jsonl (one line per
// epoch, appended as it ends), model.safetensors and the SVG plots.

import { appendFileSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { makeDirectory, readFileBytes, readJsonFile, writeFileAtomic, writeJsonAtomic } from '../io/files.js';
import { type Check, aBoolean, aCount, aNumber, aString, checked, isObject, listOf, numberIn, oneOf, optional, parseJson, readFields, readList, readObject } from '../io/json.js';
import { init } from '../init.js';
import { type Split, holdOut } from '../data/dataset.js';
import { loadMnist } from '../data/mnist.js';
import { loadCifar10 } from '../data/cifar10.js';
import { loadSynthetic } from '../data/synthetic.js';
import { prunableLayers } from '../nn/models.js';
import type { Module } from '../nn/module.js';
import { readSafetensors, writeSafetensors } from '../io/safetensors.js';
import { modelCheckpoint } from '../sparse/checkpoint.js';
import type { ModelSpec } from '../sparse/compact-model.js';
import { histogram, lineChart } from '../report/svg.js';
import { DivergedError, type RunCheckpoint, type RunReport, type TrainListener, trainModel } from './loop.js';
import type { MethodState } from './pruning-methods.js';
import type { SavedTensors } from '../tensor.js';
import { DEFAULT_OPTIONS, type EpochMetrics, type RunOptions, type TrainOptions, checkOptions, optionDifferences } from './options.js';

export { DEFAULT_OPTIONS, type DataName, type EpochMetrics, type FinetuneLayers, type RunOptions, type TrainOptions } from './options.js';
export type { LayerReport, RunReport, StepInfo, TrainListener } from './loop.js';

/** report.json (without its metrics, which metrics.jsonl holds) and the metrics of every epoch. */
export type TrainReport = RunReport & { options: TrainOptions & { lr: number }; denseTestAccuracy?: number };

/** The split a run trains on: the data set the options name (the npm package, --data-dir or synthetic), with its validation and training sizes. */
export function loadRunData(o: Pick<TrainOptions, 'data' | 'dataDir' | 'seed' | 'trainSize' | 'valSize'>): Split {
  let split: Split;
  if (o.data === 'mnist') split = loadMnist({ seed: 1 });
  // checkOptions has made sure that cifar10 comes with its --data-dir.
  else if (o.data === 'cifar10') split = loadCifar10(o.dataDir as string);
  else split = loadSynthetic({ seed: o.seed });
  return holdOut(split, o.valSize, o.trainSize, o.data);
}

/** Where a run stands after its last finished epoch: `train --resume` continues from it. */
export const CHECKPOINT_FILE = 'checkpoint.safetensors';

/** The files a run writes into its directory (and analyze's chart): a directory holding one of them holds a run. */
export const RUN_FILES = ['report.json', 'metrics.jsonl', 'model.safetensors', 'loss.svg', 'accuracy.svg', 'scores.svg', 'zero-kernels.svg', CHECKPOINT_FILE];

/** Options that may differ between a run and its resumption besides those comparableOptions drops: where it runs. */
const RUN_PLACE_OPTIONS = ['backend', 'threads'];

function writeCheckpoint(dir: string, c: RunCheckpoint, options: TrainOptions): void {
  const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const [name, t] of Object.entries(c.tensors)) tensors[`model/${name}`] = t;
  for (const [name, t] of Object.entries(c.method?.tensors ?? {})) tensors[`method/${name}`] = t;
  for (const [slot, values] of Object.entries(c.optimizer.slots)) {
    values.forEach((v, i) => {
      if (v) tensors[`optimizer/${slot}/${i}`] = { shape: [v.length], data: v };
    });
  }
  const slots = Object.fromEntries(Object.entries(c.optimizer.slots).map(([slot, values]) => [slot, values.length]));
  const metadata = {
    format: CHECKPOINT_FORMAT,
    phase: c.phase,
    ...(c.round !== undefined ? { round: String(c.round) } : {}),
    epoch: String(c.epoch),
    ...(c.phaseEnded ? { phaseEnded: 'true' } : {}),
    ...(c.method ? { method: JSON.stringify(c.method.values) } : {}),
    steps: JSON.stringify(c.optimizer.steps),
    slots: JSON.stringify(slots),
    options: JSON.stringify(options),
    metrics: JSON.stringify(c.metrics),
  };
  writeFileAtomic(join(dir, CHECKPOINT_FILE), writeSafetensors(tensors, metadata));
}

const CHECKPOINT_FORMAT = 'ticketgrad-checkpoint';
/** A method's saved values: numbers, nulls, lists of them (MethodState['values']). */
const METHOD_VALUE: Check = {
  expected: 'a number, null, or a list of them',
  ok: (v) => v === null || aNumber.ok(v) || (Array.isArray(v) && v.every((x) => x === null || aNumber.ok(x))),
};
const PHASES: readonly EpochMetrics['phase'][] = ['train', 'finetune'];
/** Metadata values are strings: a count is written out in decimal. */
const aCountText: Check = { expected: 'a whole number', ok: (v) => typeof v === 'string' && /^\d{1,15}$/.test(v) };
const EPOCH_METRICS: { [K in keyof EpochMetrics]-?: Check } = {
  phase: oneOf(PHASES),
  round: optional(aCount),
  epoch: aCount,
  lr: aNumber,
  density: aNumber,
  trainLoss: aNumber,
  trainAccuracy: aNumber,
  valAccuracy: optional(aNumber),
  testAccuracy: aNumber,
  seconds: aNumber,
  maskSeconds: aNumber,
};
/** Options as a checkpoint keeps them: flat values (numbers finite), the known ones of their defaults' types. */
const SAVED_OPTIONS: Check = {
  expected: 'train options',
  ok: (v) =>
    isObject(v) &&
    Object.entries(v).every(
      ([key, x]) => (aString.ok(x) || aNumber.ok(x) || aBoolean.ok(x)) && (!Object.hasOwn(DEFAULT_OPTIONS, key) || typeof x === typeof DEFAULT_OPTIONS[key as keyof RunOptions]),
    ),
};

/** The options a run directory's checkpoint was trained with, and where it stands. */
export function readRunCheckpoint(dir: string): { options: TrainOptions; checkpoint: RunCheckpoint } {
  const path = join(dir, CHECKPOINT_FILE);
  if (!existsSync(path)) throw new RunDirectoryError(`--resume ${dir}: no ${CHECKPOINT_FILE} there (a run writes one after each finished epoch)`);
  const contents = readSafetensors(readFileBytes(path), path);
  if (contents.metadata.format !== CHECKPOINT_FORMAT) throw new Error(`${path}: not a ticketgrad training checkpoint`);
  const m = readFields<
    Record<'epoch' | 'steps' | 'slots' | 'options' | 'metrics', string> & { phase: EpochMetrics['phase']; round?: string; phaseEnded?: 'true'; method?: string }
  >(
    contents.metadata,
    {
      phase: oneOf(PHASES),
      round: optional(aCountText),
      epoch: aCountText,
      phaseEnded: optional(oneOf(['true'])),
      steps: aString,
      slots: aString,
      options: aString,
      metrics: aString,
      method: optional(aString),
    },
    `${path}: metadata`,
  );
  const json = (key: 'steps' | 'slots' | 'options' | 'metrics' | 'method'): unknown => parseJson(m[key] as string, `${path}: metadata ${key}`);
  // Entries, not assignments: a tensor named "model/__proto__" stays an ordinary key.
  const tensorsUnder = (prefix: string): SavedTensors =>
    Object.fromEntries(Object.entries(contents.tensors).flatMap(([name, t]) => (name.startsWith(prefix) ? [[name.slice(prefix.length), t]] : [])));
  const tensors = tensorsUnder('model/');
  // A slot holds one value per parameter: never more than the model has tensors.
  const parameters = Object.keys(tensors).length;
  const slotCount: Check = { expected: `an integer in [0, ${parameters}]`, ok: (v) => aCount.ok(v) && (v as number) <= parameters };
  // One update count per parameter; a single count from an older ticketgrad stands for all of them.
  const stepCounts: Check = { expected: 'an integer >= 0 or a list of them', ok: (v) => aCount.ok(v) || listOf(aCount).ok(v) };
  const slots = Object.entries(readObject(json('slots'), `${path}: metadata slots`)).map(([slot, count]) => [
    slot,
    Array.from({ length: checked<number>(count, slotCount, `${path}: metadata slots "${slot}"`) }, (_, i) => contents.tensors[`optimizer/${slot}/${i}`]?.data ?? null),
  ]);
  const method = (): MethodState => {
    const values = readObject(json('method'), `${path}: metadata method`);
    for (const [key, v] of Object.entries(values)) checked(v, METHOD_VALUE, `${path}: metadata method "${key}"`);
    return { values: values as MethodState['values'], tensors: tensorsUnder('method/') };
  };
  const checkpoint: RunCheckpoint = {
    phase: m.phase,
    ...(m.round !== undefined ? { round: Number(m.round) } : {}),
    epoch: Number(m.epoch),
    ...(m.phaseEnded === 'true' ? { phaseEnded: true } : {}),
    tensors,
    optimizer: { steps: checked<number | number[]>(json('steps'), stepCounts, `${path}: metadata steps`), slots: Object.fromEntries(slots) },
    metrics: readList(json('metrics'), `${path}: metadata metrics`).map((e, i) => readFields<EpochMetrics>(e, EPOCH_METRICS, `${path}: metadata metrics[${i}]`)),
    ...(m.method !== undefined ? { method: method() } : {}),
  };
  // An option a checkpoint of an older ticketgrad lacks ran at its default, as comparableOptions counts it.
  return { options: { ...DEFAULT_OPTIONS, ...checked<TrainOptions>(json('options'), SAVED_OPTIONS, `${path}: metadata options`), out: dir }, checkpoint };
}

/** The checkpoint in options.out, if `options` (where it runs aside) are the ones it was trained with. */
function readResumable(options: TrainOptions): ReturnType<typeof readRunCheckpoint> {
  const saved = readRunCheckpoint(options.out);
  const differ = optionDifferences(saved.options, options, RUN_PLACE_OPTIONS);
  if (differ.length) throw new RunDirectoryError(`--resume ${options.out}: the run was trained with other options (${differ.join('; ')})`);
  return saved;
}

/** Whether train(options, ..., { resume: true }) can continue the run in options.out: its checkpoint reads and has these options. */
export function canResume(options: TrainOptions): boolean {
  try {
    readResumable(options);
    return true;
  } catch {
    return false;
  }
}

/** How `train()` runs beyond its options. */
export interface TrainControl {
  /** Checked before every step: once aborted, the run ends after the current step; its report says `stopped`. */
  signal?: AbortSignal;
  /** Continue the run in `options.out` from its checkpoint (the options must be the checkpoint's, except where it runs and what it prints). */
  resume?: boolean;
}

/** The run directory cannot be used as asked (it holds another run, or cannot be created): a usage error in the CLI. */
export class RunDirectoryError extends Error {}

/**
 * Makes `dir` the directory of a new run: created if missing; a directory that holds another
 * run's files is refused unless `overwrite`, which deletes them first (so no file of the old run
 * survives next to the new one).
 */
function claimRunDirectory(dir: string, overwrite: boolean): void {
  if (dir === '') throw new RunDirectoryError('--out: expected a directory, got an empty string');
  try {
    makeDirectory(dir, '--out');
  } catch (e) {
    throw new RunDirectoryError((e as Error).message);
  }
  const previous = RUN_FILES.filter((f) => existsSync(join(dir, f)));
  if (previous.length === 0) return;
  if (!overwrite) throw new RunDirectoryError(`--out ${dir} holds another run (${previous.join(', ')}): give another --out, or --overwrite to replace that run`);
  for (const f of previous) rmSync(join(dir, f), { force: true });
}

/**
 * Trains as `options` say and writes the run directory `options.out`. With `verbose` (the
 * default) the run's log lines go to stdout; `listener` sees its steps and epochs (the CLI
 * passes its progress bar).
 */
export async function train(options: TrainOptions, listener: TrainListener = {}, control: TrainControl = {}): Promise<TrainReport> {
  const o = checkOptions(options);
  // Read first: a wrong --dense-run fails before the training, not after it.
  const denseTestAccuracy = o.denseRun === undefined ? undefined : denseRunAccuracy(o.denseRun);
  const metricsFile = join(o.out, 'metrics.jsonl');
  let resume: RunCheckpoint | undefined;
  if (control.resume) {
    const saved = readResumable(o);
    resume = saved.checkpoint;
    // The metrics of the epochs the checkpoint covers; a cut-short epoch after them goes.
    writeFileAtomic(metricsFile, resume.metrics.map((m) => `${JSON.stringify(m)}\n`).join(''));
  } else claimRunDirectory(o.out, o.overwrite === true);
  await init({ backend: o.backend, threads: o.threads });
  const data = loadRunData(o);
  let checkpointed = false;
  const { model, report } = await trainModel(o, data, {
    signal: control.signal,
    resume,
    onCheckpoint: (c) => {
      writeCheckpoint(o.out, c, o);
      checkpointed = true;
    },
    listener: {
      ...listener,
      onLog: (line) => {
        if (o.verbose !== false) console.log(line);
        listener.onLog?.(line);
      },
      onEpoch: async (m, model) => {
        appendFileSync(metricsFile, `${JSON.stringify(m)}\n`);
        await listener.onEpoch?.(m, model);
      },
    },
  }).catch((e: Error) => {
    // A run that fails after writing an epoch's checkpoint (a lost GPU) can go on from it; a diverged one would only diverge again.
    if (!checkpointed || e instanceof DivergedError) throw e;
    throw new Error(`${e.message}\n(the run's last finished epoch is saved: \`ticketgrad train --resume ${o.out}\` continues from it, with --backend to change the device)`, {
      cause: e,
    });
  });
  try {
    // The loop's report carries the options it was given, `out` included.
    const full = report as TrainReport;
    if (denseTestAccuracy !== undefined) full.denseTestAccuracy = denseTestAccuracy;
    await writeRunFiles(o.out, model, full, {
      model: o.model,
      width: o.width,
      input: data.train.shape,
      classes: data.train.classes,
      batchNorm: o.batchNorm,
      data: o.data,
      ...(o.data === 'synthetic' ? { dataSeed: o.seed } : {}),
    });
    return full;
  } finally {
    model.dispose();
  }
}

/** The test accuracy a dense run's report.json records. */
export function denseRunAccuracy(dir: string): number {
  const path = join(dir, 'report.json');
  try {
    return readFields<{ testAccuracy: number }>(readJsonFile(path), { testAccuracy: numberIn(0, 1) }, path).testAccuracy;
  } catch (e) {
    throw new Error(`--dense-run ${dir}: ${(e as Error).message}`);
  }
}

/** The run's files, each replaced atomically, report.json last. */
async function writeRunFiles(dir: string, model: Module, report: TrainReport, spec: ModelSpec): Promise<void> {
  const { metrics, ...summary } = report;
  const checkpoint = await modelCheckpoint(model, spec, report.options.method);
  writeFileAtomic(join(dir, 'model.safetensors'), writeSafetensors(checkpoint.tensors, checkpoint.metadata));

  // Epochs numbered through score training and then fine-tuning.
  const series = (key: 'trainLoss' | 'trainAccuracy' | 'testAccuracy'): [number, number][] => metrics.map((m, i) => [i + 1, m[key]]);
  writeFileAtomic(
    join(dir, 'loss.svg'),
    lineChart({ title: 'Training loss', xLabel: 'epoch', yLabel: 'cross-entropy', series: [{ name: 'train loss', points: series('trainLoss') }] }),
  );
  writeFileAtomic(
    join(dir, 'accuracy.svg'),
    lineChart({
      title: 'Accuracy',
      xLabel: 'epoch',
      yLabel: 'accuracy',
      series: [
        { name: 'train', points: series('trainAccuracy') },
        { name: 'test', points: series('testAccuracy') },
      ],
    }),
  );
  const scores = Object.entries(await scoreValues(model));
  if (scores.length) {
    const all = new Float32Array(scores.reduce((a, [, v]) => a + v.length, 0));
    let at = 0;
    for (const [, v] of scores) {
      all.set(v, at);
      at += v.length;
    }
    // Power-propagation lets a few scores grow by orders of magnitude: plot the central 99%.
    const sorted = Float32Array.from(all).sort();
    const [lo, hi] = [sorted[Math.floor(0.005 * (sorted.length - 1))], sorted[Math.ceil(0.995 * (sorted.length - 1))]];
    const central = all.filter((v) => v >= lo && v <= hi);
    writeFileAtomic(
      join(dir, 'scores.svg'),
      histogram({
        title: `Score histogram (alpha ${report.options.alpha}; central 99%, ${all.length - central.length} outside [${lo.toPrecision(3)}, ${hi.toPrecision(3)}])`,
        xLabel: 'S = s|s|^(alpha-1)',
        values: central,
      }),
    );
  }
  // Last: a report.json marks a finished run, whose other files are all in place.
  writeJsonAtomic(join(dir, 'report.json'), summary);
}

/** The effective scores S of every prunable layer, on the host. */
async function scoreValues(model: Module): Promise<Record<string, Float32Array>> {
  const out: Record<string, Float32Array> = {};
  for (const [name, l] of prunableLayers(model)) {
    if (!l.scores) continue;
    const s = await l.scores.data();
    out[name] = s.map((v) => Math.sign(v) * Math.abs(v) ** l.scoreAlpha);
  }
  return out;
}
