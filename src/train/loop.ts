// The training loop, the one every front end runs (train() for the CLI and sweeps, the web page,
// library callers): a model built from the options, then score training over frozen random
// weights (mpt, edgepopup) or weight training (dense) with optional fine-tuning under the fixed
// mask, or one of the pruning methods' procedures (pruning-methods.ts), all on runPhase's
// epochs; then the report. Browser-safe: it reads no file and writes none. A listener sees the
// steps and epochs; an AbortSignal stops the run after the current step.

import { keep, noGrad, scope, getBackend } from '../engine.js';
import { sizeOf } from '../shape.js';
import { type SavedTensors, type Tensor, readTensors, tensor, zeros } from '../tensor.js';
import { add, clamp, mul, sum } from '../ops/elementwise.js';
import { correctCount, crossEntropy } from '../ops/loss.js';
import { Adam, type OptimizerState, SGD } from '../optim/optimizers.js';
import { cosineSchedule, constantSchedule, multiStepSchedule, type Schedule } from '../optim/schedules.js';
import { type Split, batches } from '../data/dataset.js';
import { augmentCifar } from '../data/cifar10-images.js';
import { randomWord } from '../random.js';
import { createModel, prunableLayers } from '../nn/models.js';
import type { Module } from '../nn/module.js';
import type { PrunableLayer } from '../nn/prunable.js';
import { computeMasks, type MaskConfig, rampedDensity } from '../prune/masks.js';
import { collapseWarning } from '../prune/select.js';
import { analyzeTicket } from '../sparse/analyze.js';
import { modelKernelCounts } from '../sparse/checkpoint.js';
import { type MethodOutcome, type MethodState, type PhaseHooks, defaultPruningLearningRate, isPruningMethod, modeOf, runPruningMethod } from './pruning-methods.js';
import { defaultLearningRate, initDensityOf, scoreBoundOf, scoreLearningRateScales } from './learning-rates.js';
import { evaluate } from './evaluate.js';
import { type EpochMetrics, type FinetuneLayers, type RunOptions, checkOptions } from './options.js';

/** Resolves after pending events have run (setImmediate in Node, a zero timeout in browsers). */
const yieldToEvents = (): Promise<void> => new Promise((resolve) => (typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0)));

/** Test batches of evaluation (only memory depends on it). */
const EVAL_BATCH = 500;

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

/** What a run found: report.json's fields, and what the method adds (IMP's rounds, Early-Bird's epoch, ...). */
export type RunReport = {
  testAccuracy: number;
  /** The final model's accuracy on the validation examples (with valSize). */
  valAccuracy?: number;
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
  options: RunOptions & { lr: number };
  /** Problems found on the way, e.g. a layer pruned entirely (layer collapse). */
  warnings: string[];
  /** Present (true) when the run was stopped by its signal before it finished. */
  stopped?: true;
  metrics: EpochMetrics[];
} & Omit<MethodOutcome, 'testAccuracy'>;

/** A training step, as the listener sees it. */
export interface StepInfo {
  phase: EpochMetrics['phase'];
  /** IMP's round (absent for other methods). */
  round?: number;
  /** 1-based, within the phase (and IMP's round). */
  epoch: number;
  epochs: number;
  /** 1-based, within the epoch. */
  step: number;
  steps: number;
  /**
   * Read from the device every `readEvery` steps and at an epoch's last step; undefined between:
   * this step's loss, and the epoch's mean loss and accuracy so far.
   */
  loss?: number;
  meanLoss?: number;
  meanAccuracy?: number;
}

export interface TrainListener {
  /**
   * Read the loss every this many steps (0, the default: only at the end of each epoch). Each
   * read waits for the device, so a live chart pays for its points.
   */
  readEvery?: number;
  /** The model is built, the rate chosen; nothing is trained yet. */
  onStart?(info: { model: Module; lr: number; stepsPerEpoch: number }): void;
  onEpochStart?(info: { phase: EpochMetrics['phase']; epoch: number; epochs: number; steps: number }): void;
  onStep?(info: StepInfo): void;
  /** After each epoch's evaluation; the model holds that epoch's masks (read them here). */
  onEpoch?(metrics: EpochMetrics, model: Module): void | Promise<void>;
  /** A line of the run's log (what it chose, a method's progress). */
  onLog?(line: string): void;
}

/** Where a run stands after a finished epoch: what resuming it needs. */
export interface RunCheckpoint {
  phase: EpochMetrics['phase'];
  /** IMP's round (absent for other methods). */
  round?: number;
  /** Epochs of `phase` finished (1-based count). */
  epoch: number;
  /** The phase ended after this epoch, before its last (Early-Bird's ticket emerged). */
  phaseEnded?: boolean;
  /** Every tensor of the model (weights, scores, masks, BatchNorm statistics) by name. */
  tensors: SavedTensors;
  optimizer: OptimizerState;
  /** The metrics of every finished epoch so far. */
  metrics: EpochMetrics[];
  /** A pruning method's own state (IMP's rewind point, Gem-Miner's frozen scores, Early-Bird's masks). */
  method?: MethodState;
}

export interface TrainModelOptions {
  listener?: TrainListener;
  /** Checked before every step: once aborted, the partial epoch is evaluated and the run ends. */
  signal?: AbortSignal;
  /** Called after every finished epoch, before the next one starts. */
  onCheckpoint?: (checkpoint: RunCheckpoint) => Promise<void> | void;
  /** Continue a run from this checkpoint (same options): the result equals an uninterrupted run's. */
  resume?: RunCheckpoint;
}

function makeSchedule(kind: RunOptions['schedule'], lr: number, epochs: number): Schedule {
  if (kind === 'cosine') return cosineSchedule(lr, epochs);
  // x0.1 at half and at three quarters of the epochs; never at the first epoch, and never twice
  // at one epoch (a 1-epoch run keeps lr, a 2-epoch run decays once).
  if (kind === 'step') return multiStepSchedule(lr, [...new Set([Math.floor(epochs * 0.5), Math.floor(epochs * 0.75)].filter((e) => e >= 1))]);
  return constantSchedule(lr);
}

function makeOptimizer(kind: RunOptions['optimizer'], params: Tensor[], lr: number, o: RunOptions, lrScale?: number[]): SGD | Adam {
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
      name,
      shape: [...layer.weight.shape],
      density: counts[i].keptWeights / layer.weight.size,
      zeroKernels: a.zeroKernels,
      kernels: a.kernels,
      outputSize: a.outputSize,
      accelerationRate: a.accelerationRate,
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

/** Training produced a NaN or infinite loss, score or weight: resuming would only do it again. */
export class DivergedError extends Error {}

/** A NaN or infinite loss ends the run with the reason, instead of training on NaN scores. */
function checkFinite(loss: number, phase: string, epoch: number, step: number): void {
  if (Number.isFinite(loss)) return;
  throw new DivergedError(`${phase} epoch ${epoch + 1}, step ${step}: the training loss is ${loss}: training diverged (a lower learning rate may help)`);
}

/** Puts a checkpoint's tensors into a freshly built model of the same options (masks included). */
function restoreTensors(model: Module, saved: SavedTensors): void {
  const own = new Map(model.namedTensors());
  const masks = new Map(prunableLayers(model).map(([name, l]) => [`${name}.mask`, l]));
  for (const [name, { shape, data }] of Object.entries(saved)) {
    const target = own.get(name);
    const value = tensor(data, shape);
    if (target) {
      if (target.size !== value.size) throw new Error(`resume: the checkpoint's ${name} has ${value.size} values, the model's ${target.size}`);
      target.assign(value);
      value.dispose();
    } else if (masks.has(name)) masks.get(name)!.setMask(value);
    else if (name.endsWith('.alpha'))
      value.dispose(); // recomputed by every forward pass
    else throw new Error(`resume: the checkpoint's ${name} is not a tensor of this model`);
  }
}

/**
 * A NaN or infinite score or weight ends the run, naming the layer: the loss can stay finite
 * meanwhile (a NaN score still ranks in a top-k). x * 0 is 0 for a finite x and NaN otherwise,
 * so one sum over every tensor, read back once, tells whether to look closer.
 */
async function checkParametersFinite(model: Module, phase: string, epoch: number, step: number): Promise<void> {
  const tensors = prunableLayers(model).flatMap(([name, l]): [string, Tensor][] => [
    [`layer ${name}'s weights`, l.weight],
    ...(l.scores ? [[`layer ${name}'s scores`, l.scores] as [string, Tensor]] : []),
  ]);
  const badness = (ts: Tensor[]): Promise<number> => {
    const total = noGrad(() => scope(() => ts.map((t) => sum(mul(t, 0))).reduce((a, b) => add(a, b))));
    return total.item().finally(() => total.dispose());
  };
  if (tensors.length === 0 || Number.isFinite(await badness(tensors.map(([, t]) => t)))) return;
  for (const [what, t] of tensors) {
    if (!Number.isFinite(await badness([t]))) {
      throw new DivergedError(`${phase} epoch ${epoch + 1}, step ${step}: ${what} hold NaN or infinite values: training diverged (a lower learning rate may help)`);
    }
  }
}

/**
 * Trains a model on `data` with the default backend as `options` say (resolveOptions fills
 * them) and returns it with its report. The caller owns the model: dispose it when done. The
 * model is disposed here when the run fails.
 */
export async function trainModel(
  options: RunOptions,
  data: Split,
  { listener = {}, signal, onCheckpoint, resume }: TrainModelOptions = {},
): Promise<{ model: Module; report: RunReport }> {
  const o = checkOptions(options);
  const log = (line: string): void => listener.onLog?.(line);
  const warnings: string[] = [];
  const warn = (message: string): void => {
    if (warnings.includes(message)) return;
    warnings.push(message);
    (o.onWarning ?? ((m: string) => console.error(`ticketgrad: warning: ${m}`)))(message);
  };
  const backend = getBackend();
  const model = createModel(o.model, {
    mode: modeOf(o.method),
    input: data.train.shape,
    classes: data.train.classes,
    width: o.width,
    scoreAlpha: o.alpha,
    seed: o.seed,
    batchNorm: o.batchNorm,
    initDensity: initDensityOf(o),
  });
  try {
    const layers = prunableLayers(model).map(([, l]) => l);
    // With lrScaling 'none' every alpha trains at alpha 1's rate, one rate for all layers.
    const lrAlpha = o.lrScaling === 'none' ? 1 : o.alpha;
    const lr = o.lr ?? (isPruningMethod(o.method) ? defaultPruningLearningRate(o.method, layers) : defaultLearningRate(o.method, lrAlpha, layers));
    const density = 1 - o.sparsity;
    const bound = scoreBoundOf(o);
    const steps = Math.ceil(data.train.count / o.batch);
    log(
      `ticketgrad train: ${o.model} on ${o.data} (${data.train.count} train${data.val ? ` / ${data.val.count} validation` : ''} / ${data.test.count} test), method ${o.method}, sparsity ${o.sparsity}, ${o.scope} scope, ${o.mask}${o.tau !== undefined ? ` tau ${o.tau}` : ''} masks, alpha ${o.alpha}${bound !== undefined ? ` (|s| <= ${bound})` : ''}, lr ${lr.toPrecision(3)}, backend ${backend.name} (${backend.adapter})`,
    );
    listener.onStart?.({ model, lr, stepsPerEpoch: steps });
    const metrics: EpochMetrics[] = resume ? [...resume.metrics] : [];
    if (resume) restoreTensors(model, resume.tensors);
    const readEvery = listener.readEvery ?? 0;
    const stopped = (): boolean => signal?.aborted === true;

    /**
     * Where a phase (of IMP's `round`) starts: after the checkpoint's epoch when the run resumes
     * in it, after its end when it resumes in a later one (its epochs are only reported).
     */
    function resumePoint(phase: EpochMetrics['phase'], round: number | undefined, epochs: number): { start: number; finished: EpochMetrics[] } {
      if (!resume) return { start: 0, finished: [] };
      const order = (p: EpochMetrics['phase'], r: number | undefined): number => 2 * (r ?? 0) + (p === 'train' ? 0 : 1);
      const [here, saved] = [order(phase, round), order(resume.phase, resume.round)];
      if (here > saved) return { start: 0, finished: [] };
      const finished = resume.metrics.filter((m) => m.phase === phase && m.round === round);
      return { start: here < saved || resume.phaseEnded ? epochs : resume.epoch, finished };
    }

    async function runPhase(phase: EpochMetrics['phase'], epochs: number, optimizer: SGD | Adam, schedule: Schedule, hooks: PhaseHooks): Promise<EpochMetrics[]> {
      const { maskConfig, extraLoss, afterStep } = hooks;
      const { start, finished } = resumePoint(phase, hooks.round, epochs);
      // The checkpoint's optimizer state belongs to the epoch it continues.
      if (resume && start === resume.epoch && start < epochs) optimizer.loadState(resume.optimizer);
      const phaseMetrics: EpochMetrics[] = [...finished];
      const round = hooks.round !== undefined ? { round: hooks.round } : {};
      for (let epoch = start; epoch < epochs && !stopped(); epoch++) {
        optimizer.lr = schedule(epoch);
        const started = performance.now();
        let maskMs = 0;
        const lossSum = keep(zeros([]));
        const correct = keep(zeros([]));
        listener.onEpochStart?.({ phase, epoch: epoch + 1, epochs, steps });
        let seen = 0,
          step = 0;
        // Fine-tuning keeps the mask of the last score-training epoch.
        const epochDensity = maskConfig ? maskConfig(epoch).density : o.method === 'dense' ? 1 : density;
        const epochKey = phase === 'train' ? epoch : 1000 + epoch;
        for (const b of batches(data.train, o.batch, { shuffle: true, seed: o.seed, epoch: epochKey })) {
          // On the CPU backends a step awaits only microtasks: let events (Ctrl-C, a Stop button) in.
          if (signal) await yieldToEvents();
          if (stopped()) break;
          if (maskConfig) {
            // Synchronised so that maskSeconds is the device time of the mask kernels alone.
            await backend.sync();
            const t0 = performance.now();
            computeMasks(model, maskConfig(epoch));
            await backend.sync();
            maskMs += performance.now() - t0;
          }
          const read = readEvery > 0 && ((step + 1) % readEvery === 0 || step + 1 === steps);
          const stepLoss = scope(() => {
            // A function of the seed, the epoch and the step, as the batches are: a resumed run sees the same images.
            const images = o.augment === 'crop-flip' ? augmentCifar(b.images, b.size, randomWord(randomWord(o.seed, epochKey), step)) : b.images;
            const logits = model.forward(tensor(images, [b.size, ...data.train.shape]));
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
            return read ? loss.detach() : undefined;
          });
          seen += b.size;
          step++;
          if (stepLoss) {
            // Read together: on WebGPU the three waits for the device overlap.
            const [loss, l, c] = await Promise.all([stepLoss.item(), lossSum.item(), correct.item()]);
            stepLoss.dispose();
            checkFinite(l, phase, epoch, step);
            listener.onStep?.({ phase, ...round, epoch: epoch + 1, epochs, step, steps, loss, meanLoss: l / seen, meanAccuracy: c / seen });
          } else listener.onStep?.({ phase, ...round, epoch: epoch + 1, epochs, step, steps });
        }
        if (seen === 0 && stopped()) {
          lossSum.dispose();
          correct.dispose();
          break;
        }
        const [lossTotal, correctTotal] = await Promise.all([lossSum.item(), correct.item()]);
        const trainLoss = lossTotal / seen;
        checkFinite(trainLoss, phase, epoch, step);
        const trainAccuracy = correctTotal / seen;
        lossSum.dispose();
        correct.dispose();
        const seconds = (performance.now() - started) / 1000;
        await checkParametersFinite(model, phase, epoch, step);
        // Evaluate with the mask of the scores after the last update.
        if (maskConfig) computeMasks(model, maskConfig(epoch));
        const testAccuracy = await evaluate(model, data.test, EVAL_BATCH);
        const valAccuracy = data.val ? await evaluate(model, data.val, EVAL_BATCH) : undefined;
        const m: EpochMetrics = {
          phase,
          ...round,
          epoch: epoch + 1,
          lr: optimizer.lr,
          density: hooks.density ? await hooks.density() : epochDensity,
          trainLoss,
          trainAccuracy,
          ...(valAccuracy !== undefined ? { valAccuracy } : {}),
          testAccuracy,
          seconds,
          maskSeconds: maskMs / 1000,
        };
        metrics.push(m);
        phaseMetrics.push(m);
        await listener.onEpoch?.(m, model);
        const ended = (await hooks.afterEpoch?.(epoch + 1)) === true;
        // A whole epoch (not one cut short by the signal) is a point to resume from.
        if (onCheckpoint && seen === data.train.count) {
          const [tensors, state, method] = await Promise.all([readTensors(model.namedTensors()), optimizer.state(), hooks.checkpoint?.()]);
          await onCheckpoint({
            phase,
            ...round,
            epoch: epoch + 1,
            ...(ended ? { phaseEnded: true } : {}),
            tensors,
            optimizer: state,
            metrics: [...metrics],
            ...(method ? { method } : {}),
          });
        }
        if (ended) break;
      }
      return phaseMetrics;
    }

    let pruneMs = 0;
    let outcome: MethodOutcome = {};
    if (isPruningMethod(o.method)) {
      outcome = await runPruningMethod({
        options: o,
        model,
        layers,
        data,
        lr,
        density,
        log,
        warn,
        runPhase,
        stopped,
        resume,
        optimizer: (params, rate, weightDecay) => makeOptimizer(o.optimizer, params, rate, weightDecay === undefined ? o : { ...o, weightDecay }),
        schedule: (rate, epochs) => makeSchedule(o.schedule, rate, epochs),
        evaluate: () => evaluate(model, data.test, EVAL_BATCH),
        timeMasks: async (fn) => {
          await backend.sync();
          const t0 = performance.now();
          const result = await fn();
          await backend.sync();
          pruneMs += performance.now() - t0;
          return result;
        },
      });
    } else {
      const maskSchedule =
        o.method === 'dense'
          ? undefined
          : (epoch: number): MaskConfig => ({
              density: rampedDensity(density, o.scope, epoch, o.rampEpochs),
              scope: o.scope,
              method: o.mask,
              tau: o.tau,
            });
      const params = model.parameters();
      const optimizer = makeOptimizer(o.optimizer, params, lr, o, scoreLearningRateScales(params, layers, lrAlpha));
      const boundScores =
        bound === undefined
          ? undefined
          : () =>
              noGrad(() => {
                for (const l of layers) if (l.scores) l.scores.assign(clamp(l.scores, -bound, bound));
              });
      await runPhase('train', o.epochs, optimizer, makeSchedule(o.schedule, lr, o.epochs), { maskConfig: maskSchedule, afterStep: boundScores });
      optimizer.dispose();

      if (o.finetune !== 'none' && o.finetuneEpochs > 0 && !stopped()) {
        const chosen = new Set(selectFinetuneLayers(layers, o.finetune));
        for (const l of layers) l.freezeMask(chosen.has(l));
        const ft = makeOptimizer(o.optimizer, model.parameters(), o.finetuneLr, o);
        await runPhase('finetune', o.finetuneEpochs, ft, makeSchedule(o.schedule, o.finetuneLr, o.finetuneEpochs), {});
        ft.dispose();
      }
    }

    const { layers: layerInfo, zeroKernelFraction, accelerationRate } = await layerReports(model);
    const prunable = layerInfo.reduce((a, l) => a + sizeOf(l.shape), 0);
    const kept = layerInfo.reduce((a, l) => a + l.density * sizeOf(l.shape), 0);
    for (const l of layerInfo) if (l.density === 0) warn(collapseWarning(l.name));
    const { testAccuracy: methodTestAccuracy, ...methodFields } = outcome;
    // The last epoch measured the final model, unless the method changed it afterwards (a ticket it did not retrain).
    const last = methodTestAccuracy === undefined ? metrics[metrics.length - 1] : undefined;
    const report: RunReport = {
      testAccuracy: methodTestAccuracy ?? last?.testAccuracy ?? (await evaluate(model, data.test, EVAL_BATCH)),
      ...(data.val ? { valAccuracy: last?.valAccuracy ?? (await evaluate(model, data.val, EVAL_BATCH)) } : {}),
      sparsity: 1 - kept / prunable,
      layers: layerInfo,
      zeroKernelFraction,
      accelerationRate,
      epochSeconds: metrics.map((m) => m.seconds),
      maskSeconds: metrics.reduce((a, m) => a + m.maskSeconds, 0) + pruneMs / 1000,
      backend: backend.name,
      adapter: backend.adapter,
      options: { ...o, lr },
      warnings,
      ...(stopped() ? { stopped: true as const } : {}),
      ...methodFields,
      metrics,
    };
    return { model, report };
  } catch (e) {
    model.dispose();
    throw e;
  }
}
