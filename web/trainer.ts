// The page's runs: what the form asks for, as options of the library's training loop
// (tg.trainModel, the loop `ticketgrad train` runs), with the CLI's defaults for the rest, and
// the layer summaries (masks included) the page draws after each epoch.

import * as tg from '../src/index.js';

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
  mask: tg.TopkMethod;
  epochs: number;
  batch: number;
  seed: number;
}

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

export type EpochReport = tg.EpochMetrics & { layers: LayerSummary[] };

export interface RunListener {
  onStart?(info: { lr: number; stepsPerEpoch: number }): void;
  onStep?(report: StepReport): void;
  onEpoch?(report: EpochReport): void;
}

export interface RunResult {
  testAccuracy: number;
  /** Achieved sparsity over the prunable layers (0 for dense). */
  sparsity: number;
  lr: number;
  layers: LayerSummary[];
  stopped: boolean;
}

/** The loop's options for a page run: the CLI's defaults (SGD with momentum, cosine schedule, layer scope) for all the form leaves out. */
export function pageOptions(config: RunConfig): tg.RunOptions {
  const { model, width } = PAGE_MODELS[config.model];
  return tg.resolveOptions({
    model,
    width,
    method: config.method,
    // The dense baseline has no scores and no mask: the ticket's settings do not apply to it.
    ...(config.method === 'mpt' ? { sparsity: config.sparsity, alpha: config.alpha, mask: config.mask } : {}),
    epochs: config.epochs,
    batch: config.batch,
    seed: config.seed,
    verbose: false,
  });
}

/** Trains on the default backend; `signal` stops the run after the current step (the partial epoch is still evaluated and reported). */
export async function trainRun(split: tg.data.Split, config: RunConfig, listener: RunListener = {}, signal?: AbortSignal): Promise<RunResult> {
  let layers: LayerSummary[] = [];
  const { model, report } = await tg.trainModel(pageOptions(config), split, {
    signal,
    listener: {
      // Every step's loss for the live chart; the readback also lets the page repaint.
      readEvery: 1,
      onStart: ({ lr, stepsPerEpoch }) => listener.onStart?.({ lr, stepsPerEpoch }),
      onStep: ({ epoch, step, steps, loss }) => {
        if (loss !== undefined) listener.onStep?.({ step: (epoch - 1) * steps + step, epoch, stepsPerEpoch: steps, loss });
      },
      onEpoch: async (metrics, model) => {
        layers = await summarize(model);
        listener.onEpoch?.({ ...metrics, layers });
      },
    },
  });
  model.dispose();
  return { testAccuracy: report.testAccuracy, sparsity: report.sparsity, lr: report.options.lr, layers, stopped: report.stopped === true };
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
  return { zeroKernels: kernels - tg.sparse.keptKernelCount(mask, kh * kw), kernels };
}
