// What a training run is asked to do: the methods, the options and their defaults, and the
// metrics of an epoch (shared by the loop in train.ts, the methods' procedures in
// pruning-methods.ts and the CLI).

import type { BackendChoice } from '../init.js';
import type { ModelName } from '../nn/models.js';
import type { MaskMethod, Scope } from '../prune/masks.js';

export const TRAIN_METHODS = ['mpt', 'edgepopup', 'dense', 'imp', 'synflow', 'snip', 'magnitude', 'random', 'erk', 'gemminer', 'earlybird'] as const;
export type TrainMethod = (typeof TRAIN_METHODS)[number];
/** Gem-Miner's L2 strength on the scores (its CIFAR-10 configurations use 3e-5). */
export const DEFAULT_GM_LAMBDA = 3e-5;
/** Early-Bird's L1 strength on the BatchNorm scales. */
export const DEFAULT_EB_L1 = 1e-4;

export type DataName = 'mnist' | 'cifar10' | 'synthetic';
export type FinetuneLayers = 'none' | 'last' | 'first' | 'full';

export interface TrainOptions {
  model: ModelName;
  data: DataName;
  /** Directory of the CIFAR-10 binary files. */
  dataDir?: string;
  method: TrainMethod;
  sparsity: number;
  scope: Scope;
  mask: MaskMethod;
  tau?: number;
  /** Power-propagation exponent of the scores. */
  alpha: number;
  /**
   * mpt, edgepopup: 'density' draws the frozen weights for the target density (std
   * sqrt(2 / (fanIn * density)), PrunableOptions.initDensity); 'none': sqrt(2 / fanIn).
   */
  initScale: 'density' | 'none';
  epochs: number;
  batch: number;
  /** Undefined: the default for the method and alpha (see defaultLearningRate). */
  lr?: number;
  optimizer: 'sgd' | 'adam';
  schedule: 'cosine' | 'step' | 'constant';
  momentum: number;
  weightDecay: number;
  /** Epochs of biprop's global-scope sparsity ramp. */
  rampEpochs: number;
  finetune: FinetuneLayers;
  finetuneEpochs: number;
  finetuneLr: number;
  width: number;
  trainSize?: number;
  seed: number;
  backend: BackendChoice;
  /** Threads of the wasm backend (default: the available cores). */
  threads?: number;
  out: string;
  /** A dense run directory whose test accuracy the report quotes. */
  denseRun?: string;
  /** Print progress (default true). */
  verbose?: boolean;
  /** IMP: rewind the survivors to their values after this many steps of the first round (0: init). */
  rewind?: number;
  /** IMP: rounds of pruning (default ceil(log(density) / log(0.8)), 20% per round). */
  rounds?: number;
  /** IMP: the output layer's pruning rate per round as a fraction of the others' (0.5). */
  outputRate?: number;
  /** SynFlow, SNIP, magnitude: pruning rounds with the exponential schedule (synflow 100, others 1). */
  pruneRounds?: number;
  /** SNIP: batches of --batch examples its gradients are summed over (1). */
  pruneBatches?: number;
  /** Gem-Miner: lambda of the L2 penalty lambda * ||p||^2 on the scores (3e-5). */
  gmLambda?: number;
  /** Early-Bird: strength of the L1 penalty on BatchNorm scales (1e-4). */
  ebL1?: number;
  /** BatchNorm after every hidden layer (lenet300) or conv (conv2..conv8); always on for earlybird. */
  batchNorm?: boolean;
  /** Receives each warning (e.g. layer collapse) once; default: one `ticketgrad: warning:` line on stderr. */
  onWarning?: (message: string) => void;
}

export const DEFAULT_OPTIONS: Omit<TrainOptions, 'out'> = {
  model: 'lenet300', data: 'mnist', method: 'mpt', sparsity: 0.5, scope: 'layer', mask: 'threshold', alpha: 1, initScale: 'density',
  epochs: 10, batch: 128, optimizer: 'sgd', schedule: 'cosine', momentum: 0.9, weightDecay: 1e-4, rampEpochs: 10,
  finetune: 'none', finetuneEpochs: 5, finetuneLr: 0.001, width: 1, seed: 1, backend: 'auto',
  rewind: 0, outputRate: 0.5, pruneBatches: 1, gmLambda: DEFAULT_GM_LAMBDA, ebL1: DEFAULT_EB_L1, batchNorm: false,
};

export interface EpochMetrics {
  phase: 'train' | 'finetune';
  /** IMP's round (0 = dense). */
  round?: number;
  epoch: number;
  lr: number;
  density: number;
  trainLoss: number;
  trainAccuracy: number;
  testAccuracy: number;
  seconds: number;
  maskSeconds: number;
}
