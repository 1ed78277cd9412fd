// Training a lottery ticket end to end: score training over frozen random weights (mpt,
// edgepopup) or plain weight training (dense), optional fine-tuning with the mask fixed, then
// evaluation and the run directory (report.json, metrics.jsonl, model.safetensors, SVG plots).
// The other pruning methods (IMP, SynFlow, SNIP, ..., src/train/pruning-methods.ts) run on the
// same epoch loop (runPhase) and report through the same files.

import { appendFileSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { makeDirectory } from '../io/dirs.js';
import { join } from 'node:path';
import { init } from '../init.js';
import { keep, noGrad, scope, getBackend } from '../engine.js';
import { type Tensor, tensor, zeros } from '../tensor.js';
import { add, mul } from '../ops/elementwise.js';
import { correctCount, crossEntropy } from '../ops/loss.js';
import { Adam, SGD } from '../optim/optimizers.js';
import { cosineSchedule, constantSchedule, multiStepSchedule, type Schedule } from '../optim/schedules.js';
import { type Split, batches, subset } from '../data/dataset.js';
import { loadMnist } from '../data/mnist.js';
import { loadCifar10 } from '../data/cifar10.js';
import { loadSynthetic } from '../data/synthetic.js';
import { createModel, prunableLayers } from '../nn/models.js';
import type { Module } from '../nn/module.js';
import type { PrunableLayer } from '../nn/prunable.js';
import { computeMasks, type MaskConfig, rampedDensity } from '../prune/masks.js';
import { collapseWarning } from '../prune/select.js';
import {
  type MethodOutcome, type PhaseHooks, defaultPruningLearningRate, isPruningMethod, modeOf,
  resolveMethodOptions, runPruningMethod,
} from './pruning-methods.js';
import { writeSafetensors } from '../io/safetensors.js';
import { defaultLearningRate, initDensityOf, scoreLearningRateScales } from './learning-rates.js';
import { evaluate } from './evaluate.js';
import { analyzeTicket } from '../sparse/analyze.js';
import { modelCheckpoint, modelKernelCounts } from '../sparse/checkpoint.js';
import type { ModelSpec } from '../sparse/compact-model.js';
import { histogram, lineChart } from '../report/svg.js';
import { Progress } from '../cli/progress.js';

export { DEFAULT_OPTIONS, type DataName, type EpochMetrics, type FinetuneLayers, type TrainOptions } from './options.js';
import type { EpochMetrics, FinetuneLayers, TrainOptions } from './options.js';

export interface LayerReport {
  name: string;
  shape: number[];
  density: number;
  /** k x k kernels (one per output-input channel pair; single weights in linear layers) that are entirely zero. */
  zeroKernels: number;
  kernels: number;
  /** Output feature-map size [H, W] ([1, 1] for linear layers). */
  outputSize: [number, number];
  /** This layer's acceleration rate (Eq. 4); null when all its kernels are zero. */
  accelerationRate: number | null;
  binaryAlpha?: number;
}

export interface TrainReport {
  testAccuracy: number;
  denseTestAccuracy?: number;
  sparsity: number;
  layers: LayerReport[];
  /** All-zero kernels over all kernels of the conv layers (k > 1); null without conv layers. */
  zeroKernelFraction: number | null;
  /** The acceleration rate of Eq. 4 over all prunable layers (src/sparse/analyze.ts). */
  accelerationRate: number | null;
  epochSeconds: number[];
  /** Device time of mask computation: per-step masks, and the pruning steps of the other methods. */
  maskSeconds: number;
  backend: string;
  adapter: string;
  options: TrainOptions & { lr: number };
  /** Problems found on the way, e.g. a layer pruned entirely (layer collapse). */
  warnings: string[];
  metrics: EpochMetrics[];
}

/** report.json: the fields above and what the method adds (IMP's rounds, Early-Bird's epoch, ...). */
export type TrainReportWithMethod = TrainReport & Omit<MethodOutcome, 'testAccuracy'>;

function loadData(o: TrainOptions): Split {
  let split: Split;
  if (o.data === 'mnist') split = loadMnist({ seed: 1 });
  else if (o.data === 'cifar10') {
    if (!o.dataDir) throw new Error('--data cifar10 needs --data-dir DIR holding data_batch_1.bin ... test_batch.bin');
    split = loadCifar10(o.dataDir);
  } else split = loadSynthetic({ seed: o.seed });
  return o.trainSize ? { ...split, train: subset(split.train, o.trainSize) } : split;
}

function makeSchedule(kind: TrainOptions['schedule'], lr: number, epochs: number): Schedule {
  if (kind === 'cosine') return cosineSchedule(lr, epochs);
  // x0.1 at half and at three quarters of the epochs; never at the first epoch, and never twice
  // at one epoch (a 1-epoch run keeps lr, a 2-epoch run decays once).
  if (kind === 'step') return multiStepSchedule(lr, [...new Set([Math.floor(epochs * 0.5), Math.floor(epochs * 0.75)].filter((e) => e >= 1))]);
  return constantSchedule(lr);
}

function makeOptimizer(kind: TrainOptions['optimizer'], params: Tensor[], lr: number, o: TrainOptions, lrScale?: number[]): SGD | Adam {
  if (params.length === 0) throw new Error('nothing to train: no parameter requires a gradient');
  return kind === 'adam' ? new Adam(params, { lr, lrScale, weightDecay: o.weightDecay }) : new SGD(params, { lr, lrScale, momentum: o.momentum, weightDecay: o.weightDecay });
}

async function layerReports(model: Module): Promise<{ layers: LayerReport[]; zeroKernelFraction: number | null; accelerationRate: number | null }> {
  const counts = await modelKernelCounts(model);
  const analysis = analyzeTicket(counts);
  const layers: LayerReport[] = [];
  for (const [i, [name, layer]] of prunableLayers(model).entries()) {
    const a = analysis.layers[i];
    const report: LayerReport = {
      name, shape: [...layer.weight.shape], density: counts[i].keptWeights / layer.weight.size, zeroKernels: a.zeroKernels, kernels: a.kernels,
      outputSize: a.outputSize, accelerationRate: a.accelerationRate,
    };
    if (layer.binaryAlpha) report.binaryAlpha = await layer.binaryAlpha.item();
    layers.push(report);
  }
  return { layers, zeroKernelFraction: analysis.zeroKernelFraction, accelerationRate: analysis.accelerationRate };
}

function selectFinetuneLayers(layers: PrunableLayer[], which: FinetuneLayers): PrunableLayer[] {
  if (which === 'last') return layers.slice(-1);
  if (which === 'first') return layers.slice(0, 1);
  if (which === 'full') return layers;
  return [];
}

/** A NaN or infinite loss ends the run with the reason, instead of training on NaN scores. */
function checkFinite(loss: number, phase: string, epoch: number, step: number): void {
  if (Number.isFinite(loss)) return;
  throw new Error(`${phase} epoch ${epoch + 1}, step ${step}: the training loss is ${loss}: training diverged (a lower learning rate may help)`);
}

export async function train(options: TrainOptions): Promise<TrainReportWithMethod> {
  const o = resolveMethodOptions(options);
  const log = (line: string): void => {
    if (o.verbose !== false) console.log(line);
  };
  const warnings: string[] = [];
  const warn = (message: string): void => {
    if (warnings.includes(message)) return;
    warnings.push(message);
    (o.onWarning ?? ((m: string) => console.error(`ticketgrad: warning: ${m}`)))(message);
  };
  // Read first: a wrong --dense-run fails before the training, not after it.
  const denseTestAccuracy = o.denseRun === undefined ? undefined : denseRunAccuracy(o.denseRun);
  const { backend, adapter } = await init({ backend: o.backend, threads: o.threads });
  const data = loadData(o);
  const model = createModel(o.model, { mode: modeOf(o.method), input: data.train.shape, classes: data.train.classes, width: o.width, scoreAlpha: o.alpha, seed: o.seed, batchNorm: o.batchNorm, initDensity: initDensityOf(o.method, o.sparsity, o.initScale, o.tau) });
  // Disposed also when a run fails, so a sweep's later cells get the memory back.
  try {
    const layers = prunableLayers(model).map(([, l]) => l);
    const lr = o.lr ?? (isPruningMethod(o.method) ? defaultPruningLearningRate(o.method, layers) : defaultLearningRate(o.method, o.alpha, layers));
    const density = 1 - o.sparsity;
    log(`ticketgrad train: ${o.model} on ${o.data} (${data.train.count} train / ${data.test.count} test), method ${o.method}, sparsity ${o.sparsity}, ${o.scope} scope, ${o.mask}${o.tau !== undefined ? ` tau ${o.tau}` : ''} masks, alpha ${o.alpha}, lr ${lr.toPrecision(3)}, backend ${backend} (${adapter})`);

    makeDirectory(o.out, '--out');
    const metricsFile = join(o.out, 'metrics.jsonl');
    rmSync(metricsFile, { force: true });
    const metrics: EpochMetrics[] = [];
    const interactive = o.verbose !== false && !!process.stderr.isTTY;

    async function runPhase(phase: EpochMetrics['phase'], epochs: number, optimizer: SGD | Adam, schedule: Schedule, hooks: PhaseHooks): Promise<EpochMetrics[]> {
      const { maskConfig, extraLoss, afterStep } = hooks;
      const phaseMetrics: EpochMetrics[] = [];
      for (let epoch = 0; epoch < epochs; epoch++) {
        optimizer.lr = schedule(epoch);
        const started = performance.now();
        let maskMs = 0;
        const lossSum = keep(zeros([]));
        const correct = keep(zeros([]));
        const total = Math.ceil(data.train.count / o.batch);
        const progress = new Progress({ total, label: `${phase} ${epoch + 1}/${epochs}`, stream: o.verbose === false ? { isTTY: false, write: () => true } : process.stderr });
        let seen = 0, step = 0;
        // Fine-tuning keeps the mask of the last score-training epoch.
        const epochDensity = maskConfig ? maskConfig(epoch).density : o.method === 'dense' ? 1 : density;
        for (const b of batches(data.train, o.batch, { shuffle: true, seed: o.seed, epoch: phase === 'train' ? epoch : 1000 + epoch })) {
          if (maskConfig) {
            // Synchronised so that maskSeconds is the device time of the mask kernels alone.
            await getBackend().sync();
            const t0 = performance.now();
            computeMasks(model, maskConfig(epoch));
            await getBackend().sync();
            maskMs += performance.now() - t0;
          }
          scope(() => {
            const logits = model.forward(tensor(b.images, [b.size, ...data.train.shape]));
            // Dataset labels are valid class indices: one upload serves the loss and the count.
            const labels = tensor(b.labels);
            const loss = crossEntropy(logits, labels);
            (extraLoss ? add(loss, extraLoss()) : loss).backward();
            optimizer.step();
            optimizer.zeroGrad();
            afterStep?.();
            noGrad(() => {
              lossSum.assign(add(lossSum, mul(loss, b.size)));
              correct.assign(add(correct, correctCount(logits, labels)));
            });
          });
          seen += b.size;
          step++;
          if (interactive && (step % 10 === 0 || step === total)) {
            const [l, c] = [await lossSum.item(), await correct.item()];
            checkFinite(l, phase, epoch, step);
            progress.update(step, { loss: (l / seen).toFixed(3), acc: `${((100 * c) / seen).toFixed(1)}%` });
          }
        }
        const trainLoss = (await lossSum.item()) / seen;
        checkFinite(trainLoss, phase, epoch, step);
        const trainAccuracy = (await correct.item()) / seen;
        lossSum.dispose();
        correct.dispose();
        const seconds = (performance.now() - started) / 1000;
        // Evaluate with the mask of the scores after the last update.
        if (maskConfig) computeMasks(model, maskConfig(epoch));
        const testAccuracy = await evaluate(model, data.test, 500);
        const m: EpochMetrics = {
          phase, ...(hooks.round !== undefined ? { round: hooks.round } : {}), epoch: epoch + 1, lr: optimizer.lr,
          density: hooks.density ? await hooks.density() : epochDensity, trainLoss, trainAccuracy, testAccuracy, seconds, maskSeconds: maskMs / 1000,
        };
        metrics.push(m);
        phaseMetrics.push(m);
        appendFileSync(metricsFile, JSON.stringify(m) + '\n');
        progress.finish({ loss: trainLoss.toFixed(3), acc: `${(100 * trainAccuracy).toFixed(1)}%`, test: `${(100 * testAccuracy).toFixed(1)}%`, s: seconds.toFixed(1) });
        if (await hooks.afterEpoch?.(epoch + 1)) break;
      }
      return phaseMetrics;
    }

    let pruneMs = 0;
    let outcome: MethodOutcome = {};
    if (isPruningMethod(o.method)) {
      outcome = await runPruningMethod({
        options: o, model, layers, data, lr, density, log, warn, runPhase,
        optimizer: (params, rate, weightDecay) => makeOptimizer(o.optimizer, params, rate, weightDecay === undefined ? o : { ...o, weightDecay }),
        schedule: (rate, epochs) => makeSchedule(o.schedule, rate, epochs),
        evaluate: () => evaluate(model, data.test, 500),
        timeMasks: async (fn) => {
          await getBackend().sync();
          const t0 = performance.now();
          const result = await fn();
          await getBackend().sync();
          pruneMs += performance.now() - t0;
          return result;
        },
      });
    } else {
      const maskSchedule = o.method === 'dense' ? undefined : (epoch: number): MaskConfig => ({
        density: rampedDensity(density, o.scope, epoch, o.rampEpochs), scope: o.scope, method: o.mask, tau: o.tau,
      });
      const params = model.parameters();
      const optimizer = makeOptimizer(o.optimizer, params, lr, o, scoreLearningRateScales(params, layers, o.alpha));
      await runPhase('train', o.epochs, optimizer, makeSchedule(o.schedule, lr, o.epochs), { maskConfig: maskSchedule });
      optimizer.dispose();

      if (o.finetune !== 'none' && o.finetuneEpochs > 0) {
        const chosen = new Set(selectFinetuneLayers(layers, o.finetune));
        for (const l of layers) l.freezeMask(chosen.has(l));
        const ft = makeOptimizer(o.optimizer, model.parameters(), o.finetuneLr, o);
        await runPhase('finetune', o.finetuneEpochs, ft, makeSchedule(o.schedule, o.finetuneLr, o.finetuneEpochs), {});
        ft.dispose();
      }
    }

    const { layers: layerInfo, zeroKernelFraction, accelerationRate } = await layerReports(model);
    const prunable = layerInfo.reduce((a, l) => a + l.shape.reduce((x, y) => x * y, 1), 0);
    const kept = layerInfo.reduce((a, l) => a + l.density * l.shape.reduce((x, y) => x * y, 1), 0);
    for (const l of layerInfo) if (l.density === 0) warn(collapseWarning(l.name));
    const { testAccuracy: methodTestAccuracy, ...methodFields } = outcome;
    const report: TrainReportWithMethod = {
      testAccuracy: methodTestAccuracy ?? metrics[metrics.length - 1]?.testAccuracy ?? (await evaluate(model, data.test, 500)),
      sparsity: 1 - kept / prunable,
      layers: layerInfo,
      zeroKernelFraction,
      accelerationRate,
      epochSeconds: metrics.map((m) => m.seconds),
      maskSeconds: metrics.reduce((a, m) => a + m.maskSeconds, 0) + pruneMs / 1000,
      backend,
      adapter,
      options: { ...o, lr },
      warnings,
      ...methodFields,
      metrics,
    };
    if (denseTestAccuracy !== undefined) report.denseTestAccuracy = denseTestAccuracy;
    await writeRunFiles(o.out, model, report, { model: o.model, width: o.width, input: data.train.shape, classes: data.train.classes, batchNorm: o.batchNorm });
    return report;
  } finally {
    model.dispose();
  }
}

/** The test accuracy a dense run's report.json records. */
function denseRunAccuracy(dir: string): number {
  const path = join(dir, 'report.json');
  let dense: Partial<TrainReport>;
  try {
    dense = JSON.parse(readFileSync(path, 'utf8')) as Partial<TrainReport>;
  } catch (e) {
    throw new Error(`--dense-run ${dir}: cannot read ${path} (${(e as Error).message.split('\n')[0]})`);
  }
  if (typeof dense.testAccuracy !== 'number') throw new Error(`--dense-run ${dir}: ${path} has no testAccuracy`);
  return dense.testAccuracy;
}

async function writeRunFiles(dir: string, model: Module, report: TrainReport, spec: ModelSpec): Promise<void> {
  const { metrics, ...summary } = report;
  writeFileSync(join(dir, 'report.json'), JSON.stringify(summary, null, 2) + '\n');

  const checkpoint = await modelCheckpoint(model, spec, report.options.method);
  writeFileSync(join(dir, 'model.safetensors'), writeSafetensors(checkpoint.tensors, checkpoint.metadata));

  // Epochs numbered through score training and then fine-tuning.
  const series = (key: 'trainLoss' | 'trainAccuracy' | 'testAccuracy'): [number, number][] => metrics.map((m, i) => [i + 1, m[key]]);
  writeFileSync(join(dir, 'loss.svg'), lineChart({ title: 'Training loss', xLabel: 'epoch', yLabel: 'cross-entropy', series: [{ name: 'train loss', points: series('trainLoss') }] }));
  writeFileSync(join(dir, 'accuracy.svg'), lineChart({
    title: 'Accuracy', xLabel: 'epoch', yLabel: 'accuracy',
    series: [{ name: 'train', points: series('trainAccuracy') }, { name: 'test', points: series('testAccuracy') }],
  }));
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
    writeFileSync(join(dir, 'scores.svg'), histogram({
      title: `Score histogram (alpha ${report.options.alpha}; central 99%, ${all.length - central.length} outside [${lo.toPrecision(3)}, ${hi.toPrecision(3)}])`,
      xLabel: 'S = s|s|^(alpha-1)',
      values: central,
    }));
  }
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
