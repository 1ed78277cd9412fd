// The web page's training loop: a multi-prize ticket (or the dense baseline) trained from the
// library's pieces (models, computeMasks, SGD, cosine schedule, crossEntropy) with the CLI's
// defaults (ticketgrad train), reporting every step so the page can draw live charts.
// Browser-safe (train.ts is not: it writes a run directory).

import * as tg from '../src/index.js';
import { type Split, batches } from '../src/data/dataset.js';
import { defaultLearningRate, initDensityOf, scoreLearningRateScales } from '../src/train/learning-rates.js';
import { keptKernelCount } from '../src/sparse/analyze.js';
import { evaluate } from '../src/train/evaluate.js';

/** The models the page offers: the library's, at a size a browser tab trains in minutes. */
export const PAGE_MODELS = {
  lenet300: { model: 'lenet300', width: 1, label: 'LeNet-300-100 (784-300-100-10)' },
  'conv2-small': { model: 'conv2', width: 0.25, label: 'Conv-2 small (16-16 channels, FC 64-64-10)' },
} as const satisfies Record<string, { model: tg.nn.ModelName; width: number; label: string }>;
export type PageModel = keyof typeof PAGE_MODELS;

export interface RunConfig {
  model: PageModel;
  /** mpt: a binary ticket of frozen random weights; dense: the weights trained (the baseline). */
  method: 'mpt' | 'dense';
  sparsity: number;
  /** Power-propagation exponent of the scores. */
  alpha: number;
  mask: tg.MaskMethod;
  epochs: number;
  batch: number;
  seed: number;
}

/** As `ticketgrad train`: SGD with momentum 0.9, weight decay 1e-4, cosine schedule, layer scope. */
const MOMENTUM = 0.9;
const WEIGHT_DECAY = 1e-4;
const EVAL_BATCH = 500;

export interface LayerSummary {
  name: string;
  shape: number[];
  /** Fraction of weights kept (1 without a mask). */
  density: number;
  /** All-zero k x k kernels of a conv mask (one kernel per output-input channel pair); null for linear layers and without a mask. */
  kernels: { zeroKernels: number; kernels: number } | null;
  /** The 0/1 mask in the weight's layout (null in dense mode). */
  mask: Float32Array | null;
}

export interface StepReport {
  /** Steps so far, over all epochs (1-based). */
  step: number;
  epoch: number;
  stepsPerEpoch: number;
  loss: number;
}

export interface EpochReport {
  epoch: number;
  lr: number;
  trainLoss: number;
  trainAccuracy: number;
  testAccuracy: number;
  seconds: number;
  layers: LayerSummary[];
}

export interface RunListener {
  onStart?(info: { lr: number; stepsPerEpoch: number }): void;
  onStep?(report: StepReport): void;
  onEpoch?(report: EpochReport): void;
  /** Checked before every step: true ends the run (the partial epoch is still evaluated and reported). */
  shouldStop?(): boolean;
}

export interface RunResult {
  testAccuracy: number;
  /** Achieved sparsity over the prunable layers (0 for dense). */
  sparsity: number;
  lr: number;
  layers: LayerSummary[];
  stopped: boolean;
}

export async function trainRun(split: Split, config: RunConfig, listener: RunListener = {}): Promise<RunResult> {
  const spec = PAGE_MODELS[config.model];
  const { train, test } = split;
  const model = tg.nn.createModel(spec.model, { mode: config.method, input: train.shape, classes: train.classes, width: spec.width, scoreAlpha: config.alpha, seed: config.seed,
    // The CLI's default --init-scale density: weights drawn for the mask's density.
    initDensity: initDensityOf(config.method, config.sparsity) });
  const layers = tg.nn.prunableLayers(model).map(([, l]) => l);
  const params = model.parameters();
  const lr = defaultLearningRate(config.method, config.alpha, layers);
  const optimizer = new tg.SGD(params, { lr, momentum: MOMENTUM, weightDecay: WEIGHT_DECAY, lrScale: scoreLearningRateScales(params, layers, config.alpha) });
  const schedule = tg.cosineSchedule(lr, config.epochs);
  const maskConfig: tg.MaskConfig | null = config.method === 'dense' ? null : { density: 1 - config.sparsity, scope: 'layer', method: config.mask };
  const stepsPerEpoch = Math.ceil(train.count / config.batch);
  listener.onStart?.({ lr, stepsPerEpoch });
  let step = 0;
  let testAccuracy = 0;
  let stopped = false;
  try {
    for (let epoch = 1; epoch <= config.epochs && !stopped; epoch++) {
      optimizer.lr = schedule(epoch - 1);
      const started = performance.now();
      let lossSum = 0;
      let correct = 0;
      let seen = 0;
      for (const b of batches(train, config.batch, { shuffle: true, seed: config.seed, epoch: epoch - 1 })) {
        if (listener.shouldStop?.()) {
          stopped = true;
          break;
        }
        if (maskConfig) tg.computeMasks(model, maskConfig);
        const [loss, right] = tg.scope(() => {
          const logits = model.forward(tg.tensor(b.images, [b.size, ...train.shape]));
          const labels = tg.tensor(b.labels);
          const loss = tg.crossEntropy(logits, labels);
          loss.backward();
          optimizer.step();
          optimizer.zeroGrad();
          return [loss.detach(), tg.noGrad(() => tg.correctCount(logits, labels))];
        });
        // One readback per step: the live chart needs the value, and it lets the page repaint.
        const lossValue = await loss.item();
        correct += await right.item();
        loss.dispose();
        right.dispose();
        lossSum += lossValue * b.size;
        seen += b.size;
        step++;
        listener.onStep?.({ step, epoch, stepsPerEpoch, loss: lossValue });
      }
      if (seen === 0) break;
      const seconds = (performance.now() - started) / 1000;
      // Evaluate with the mask of the scores after the last update.
      if (maskConfig) tg.computeMasks(model, maskConfig);
      testAccuracy = await evaluate(model, test, EVAL_BATCH);
      listener.onEpoch?.({ epoch, lr: optimizer.lr, trainLoss: lossSum / seen, trainAccuracy: correct / seen, testAccuracy, seconds, layers: await summarize(model) });
    }
    const summary = await summarize(model);
    const total = summary.reduce((n, l) => n + l.shape.reduce((a, b) => a * b, 1), 0);
    const kept = summary.reduce((n, l) => n + l.density * l.shape.reduce((a, b) => a * b, 1), 0);
    return { testAccuracy, sparsity: 1 - kept / total, lr, layers: summary, stopped };
  } finally {
    optimizer.dispose();
    model.dispose();
  }
}

async function summarize(model: tg.nn.Module): Promise<LayerSummary[]> {
  const out: LayerSummary[] = [];
  for (const [name, layer] of tg.nn.prunableLayers(model)) {
    const shape = [...layer.weight.shape];
    const mask = layer.mask ? await layer.mask.data() : null;
    const kept = mask ? mask.reduce((a, v) => a + v, 0) : layer.weight.size;
    out.push({ name, shape, density: kept / layer.weight.size, kernels: mask && shape.length === 4 ? zeroKernels(mask, shape) : null, mask });
  }
  return out;
}

function zeroKernels(mask: Float32Array, [outputs, inputs, kh, kw]: number[]): { zeroKernels: number; kernels: number } {
  const kernels = outputs * inputs;
  return { zeroKernels: kernels - keptKernelCount(mask, kh * kw), kernels };
}
