// What a training run is asked to do: the methods, the options, their defaults and the one
// resolver that fills and checks them (for the CLI, the sweeps, the web page and library
// callers alike), and the metrics of an epoch. Browser-safe.

import { BACKEND_CHOICES, type BackendChoice, takesThreads } from '../init.js';
import { MODEL_NAMES, type ModelName } from '../nn/models.js';
import { SCOPES, type Scope } from '../prune/masks.js';
import { TOPK_METHODS, type TopkMethod } from '../backend/backend.js';
import { DATA_NAMES, type DataName } from '../data/dataset.js';
import { INIT_PRUNE_METHODS, type InitPruneMethod, defaultPruneScope } from '../prune/at-init.js';

export const TRAIN_METHODS = ['mpt', 'edgepopup', 'dense', 'imp', 'synflow', 'snip', 'magnitude', 'random', 'erk', 'gemminer', 'earlybird'] as const;
export type TrainMethod = (typeof TRAIN_METHODS)[number];
/** Gem-Miner's L2 strength on the scores (its CIFAR-10 configurations use 3e-5). */
export const DEFAULT_GM_LAMBDA = 3e-5;
/** Early-Bird's L1 strength on the BatchNorm scales. */
export const DEFAULT_EB_L1 = 1e-4;

export type { DataName } from '../data/dataset.js';
export const FINETUNE_LAYERS = ['none', 'last', 'first', 'full'] as const;
export type FinetuneLayers = (typeof FINETUNE_LAYERS)[number];
export const OPTIMIZERS = ['sgd', 'adam'] as const;
export const SCHEDULES = ['cosine', 'step', 'constant'] as const;
export const INIT_SCALES = ['density', 'none'] as const;
export const LR_SCALINGS = ['alpha', 'none'] as const;
export const AUGMENTATIONS = ['none', 'crop-flip'] as const;
/** Wider than this, lenet300 alone holds over 10^9 weights. */
const MAX_WIDTH = 64;

/** Everything a training run needs except where its files go (see TrainOptions). */
export interface RunOptions {
  model: ModelName;
  data: DataName;
  /** Directory of the CIFAR-10 binary files. */
  dataDir?: string;
  method: TrainMethod;
  sparsity: number;
  scope: Scope;
  /** How masks are found: the exact top-k by a bitonic sort or a parallel threshold select. */
  mask: TopkMethod;
  tau?: number;
  /** Power-propagation exponent of the scores. */
  alpha: number;
  /**
   * mpt, edgepopup: 'density' draws the frozen weights for the target density (std
   * sqrt(2 / (fanIn * density)), PrunableOptions.initDensity); 'none': sqrt(2 / fanIn).
   */
  initScale: (typeof INIT_SCALES)[number];
  /**
   * mpt, edgepopup with alpha > 1: 'alpha' scales the score learning rate for power-propagation
   * (defaultLearningRate, per layer scoreLearningRateScales); 'none' keeps alpha 1's rate for
   * every alpha and one rate for all layers, as biprop and the Efficient MPT report do.
   */
  lrScaling: (typeof LR_SCALINGS)[number];
  /**
   * mpt, edgepopup: after every step of score training, |s| is clamped to this bound ('none': no
   * bound). Undefined: 1 for alpha > 1, none for alpha 1 (see scoreBoundOf).
   */
  scoreBound?: number | 'none';
  epochs: number;
  batch: number;
  /** Undefined: the default for the method and alpha (see defaultLearningRate). */
  lr?: number;
  optimizer: (typeof OPTIMIZERS)[number];
  schedule: (typeof SCHEDULES)[number];
  momentum: number;
  weightDecay: number;
  /** Epochs of biprop's global-scope sparsity ramp. */
  rampEpochs: number;
  /** Augmentation of the training batches: crop-flip is CIFAR's padded random crop and horizontal flip (cifar10 only; its default there). */
  augment: (typeof AUGMENTATIONS)[number];
  finetune: FinetuneLayers;
  finetuneEpochs: number;
  finetuneLr: number;
  width: number;
  trainSize?: number;
  /** Training examples held out for validation (the last N of the training set; none by default): valAccuracy per epoch. */
  valSize?: number;
  seed: number;
  backend: BackendChoice;
  /** Threads of the wasm backend (default: the available cores). */
  threads?: number;
  /** Print the run's log lines (default true). */
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

/** A run that writes a run directory (train() in Node). */
export interface TrainOptions extends RunOptions {
  out: string;
  /** A dense run directory whose test accuracy the report quotes. */
  denseRun?: string;
  /** Replace the run `out` holds (its files are deleted first); without it such a directory is refused. */
  overwrite?: boolean;
}

export const DEFAULT_OPTIONS: RunOptions = {
  model: 'lenet300',
  data: 'mnist',
  method: 'mpt',
  sparsity: 0.5,
  scope: 'layer',
  mask: 'threshold',
  alpha: 1,
  initScale: 'density',
  lrScaling: 'alpha',
  epochs: 10,
  batch: 128,
  optimizer: 'sgd',
  schedule: 'cosine',
  momentum: 0.9,
  weightDecay: 1e-4,
  rampEpochs: 10,
  augment: 'none',
  finetune: 'none',
  finetuneEpochs: 5,
  finetuneLr: 0.001,
  width: 1,
  seed: 1,
  backend: 'auto',
  rewind: 0,
  outputRate: 0.5,
  pruneBatches: 1,
  gmLambda: DEFAULT_GM_LAMBDA,
  ebL1: DEFAULT_EB_L1,
  batchNorm: false,
};

/**
 * Every option that takes one of a fixed set of values. The CLI parses its flags by this table
 * and checkOptions checks a library caller's options by it, so the two cannot disagree.
 */
export const OPTION_CHOICES = {
  model: MODEL_NAMES,
  data: DATA_NAMES,
  method: TRAIN_METHODS,
  scope: SCOPES,
  mask: TOPK_METHODS,
  initScale: INIT_SCALES,
  lrScaling: LR_SCALINGS,
  optimizer: OPTIMIZERS,
  schedule: SCHEDULES,
  finetune: FINETUNE_LAYERS,
  augment: AUGMENTATIONS,
  backend: BACKEND_CHOICES,
} as const satisfies { [K in keyof RunOptions]?: readonly RunOptions[K][] };

/** A numeric option's valid values, and how an error names them. */
export interface NumberRule {
  readonly ok: (v: number) => boolean;
  readonly want: string;
}

const integerFrom = (min: number, want = `an integer >= ${min}`): NumberRule => ({ ok: (v) => Number.isInteger(v) && v >= min, want });
const atLeast = (min: number): NumberRule => ({ ok: (v) => v >= min, want: `a number >= ${min}` });
const POSITIVE: NumberRule = { ok: (v) => v > 0, want: 'a number > 0' };
const FRACTION: NumberRule = { ok: (v) => v >= 0 && v < 1, want: 'a number in [0, 1)' };

/** Every numeric option's valid values, shared by the CLI's parser and checkOptions as OPTION_CHOICES is. */
export const NUMBER_RULES = {
  width: { ok: (v) => v > 0 && v <= MAX_WIDTH, want: `a number in (0, ${MAX_WIDTH}]` },
  trainSize: integerFrom(1),
  valSize: integerFrom(0),
  sparsity: FRACTION,
  tau: atLeast(0),
  alpha: atLeast(1),
  // 'none' (no bound) is the other value it takes.
  scoreBound: { ok: (v) => v > 0 && v < Number.POSITIVE_INFINITY, want: "a number > 0 or 'none'" },
  epochs: integerFrom(1),
  batch: integerFrom(1),
  lr: POSITIVE,
  momentum: FRACTION,
  weightDecay: atLeast(0),
  rampEpochs: integerFrom(0),
  finetuneEpochs: integerFrom(0),
  finetuneLr: POSITIVE,
  seed: { ok: (v) => Number.isInteger(v) && v >= 0 && v <= 0xffffffff, want: 'an integer in [0, 4294967295]' },
  threads: { ok: (v) => Number.isInteger(v) && v >= 1 && v <= 256, want: 'an integer in [1, 256]' },
  rewind: integerFrom(0, 'an integer >= 0 (steps)'),
  rounds: integerFrom(1),
  outputRate: { ok: (v) => v >= 0 && v <= 1, want: 'a number in [0, 1]' },
  pruneRounds: integerFrom(1),
  pruneBatches: integerFrom(1),
  gmLambda: atLeast(0),
  ebL1: atLeast(0),
} as const satisfies { [K in keyof RunOptions]?: NumberRule };

/** The numeric options a run cannot do without (the others have a default where they are read). */
const REQUIRED_NUMBERS: readonly (keyof RunOptions)[] = [
  'width',
  'sparsity',
  'alpha',
  'epochs',
  'batch',
  'momentum',
  'weightDecay',
  'rampEpochs',
  'finetuneEpochs',
  'finetuneLr',
  'seed',
] satisfies readonly { [K in keyof RunOptions]-?: undefined extends RunOptions[K] ? never : K }[keyof RunOptions][];

export interface EpochMetrics {
  phase: 'train' | 'finetune';
  /** IMP's round (0 = dense). */
  round?: number;
  epoch: number;
  lr: number;
  density: number;
  trainLoss: number;
  trainAccuracy: number;
  /** On the held-out validation examples (with valSize). */
  valAccuracy?: number;
  testAccuracy: number;
  seconds: number;
  maskSeconds: number;
}

/** Early-Bird retrains a BatchNorm model: lenet300's dense rate serves every model. */
const EARLYBIRD_RETRAIN_LR = 0.05;

/**
 * The default fine-tuning rate per method: Gem-Miner fine-tunes at 0.01 (its recipe),
 * Early-Bird's retraining is ordinary weight training (0.05, as dense); 0.001 otherwise (the
 * fine-tuning of binarized MPT weights). Measured (lenet300, 2,000 digits, 2 epochs, density
 * 0.1): Gem-Miner 81.9% after fine-tuning at 0.001, 87.5% at 0.01; Early-Bird 68.3% at 0.001,
 * 89.6% at 0.05.
 */
export function defaultFinetuneLr(method: TrainMethod): number {
  if (method === 'gemminer') return 0.01;
  if (method === 'earlybird') return EARLYBIRD_RETRAIN_LR;
  return DEFAULT_OPTIONS.finetuneLr;
}

/** The scope a method selects in unless told otherwise (Gem-Miner and Early-Bird always select globally). */
export function defaultScope(method: TrainMethod): Scope {
  if ((INIT_PRUNE_METHODS as readonly string[]).includes(method)) return defaultPruneScope(method as InitPruneMethod);
  return method === 'gemminer' || method === 'earlybird' ? 'global' : DEFAULT_OPTIONS.scope;
}

/** Options that only one family of methods reads. */
const METHOD_ONLY: Partial<Record<keyof RunOptions, readonly TrainMethod[]>> = {
  // Scores and their weights' scale exist only in score training; dense has no mask at all.
  alpha: ['mpt', 'edgepopup'],
  initScale: ['mpt', 'edgepopup'],
  lrScaling: ['mpt', 'edgepopup'],
  scoreBound: ['mpt', 'edgepopup'],
  mask: TRAIN_METHODS.filter((m) => m !== 'dense'),
  rampEpochs: ['mpt', 'edgepopup'],
  // erk sets its own layer densities.
  scope: TRAIN_METHODS.filter((m) => m !== 'dense' && m !== 'erk'),
  // The methods with a phase that trains the ticket's weights (mpt and edgepopup under --finetune).
  finetuneEpochs: ['mpt', 'edgepopup', 'gemminer', 'earlybird'],
  finetuneLr: ['mpt', 'edgepopup', 'gemminer', 'earlybird'],
  rewind: ['imp'],
  rounds: ['imp'],
  outputRate: ['imp'],
  pruneRounds: ['synflow', 'snip', 'magnitude'],
  pruneBatches: ['snip'],
  gmLambda: ['gemminer'],
  ebL1: ['earlybird'],
};

/** The command-line flag of an option: outputRate -> --output-rate. */
export const flagOf = (key: string): string => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/**
 * The options of a run from the ones given (undefined counts as not given): the defaults, with
 * the method's own scope and fine-tuning rate, then checked (checkOptions). Errors name the
 * command-line flag and say why; options given for another method are errors, not ignored.
 */
export function resolveOptions<T extends Partial<TrainOptions>>(given: T): RunOptions & T {
  const set = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)) as T;
  const method = set.method ?? DEFAULT_OPTIONS.method;
  for (const [key, methods] of Object.entries(METHOD_ONLY)) {
    if (key in set && !methods.includes(method)) throw new Error(`${flagOf(key)} applies to ${methods.join(', ')}, not to ${method}`);
  }
  if (set.scope === 'layer' && (method === 'gemminer' || method === 'earlybird')) throw new Error(`--method ${method} selects globally; --scope layer does not apply`);
  // With a fixed threshold there is no target sparsity: a given one would be ignored.
  if (set.tau !== undefined && set.sparsity !== undefined) throw new Error('--tau is a fixed threshold: the sparsity follows the scores, so leave out --sparsity');
  const augment = (set.data ?? DEFAULT_OPTIONS.data) === 'cifar10' ? 'crop-flip' : DEFAULT_OPTIONS.augment;
  return checkOptions({ ...DEFAULT_OPTIONS, scope: defaultScope(method), finetuneLr: defaultFinetuneLr(method), augment, ...set });
}

/**
 * Checks a complete set of options for combinations that cannot run, and returns them with
 * what the method fixes: Gem-Miner and Early-Bird select globally; Early-Bird needs BatchNorm.
 */
export function checkOptions<T extends RunOptions>(o: T): T {
  // The CLI parses these too; a library caller's typo would otherwise fall through to another choice.
  for (const [key, choices] of Object.entries(OPTION_CHOICES)) {
    const value = o[key as keyof RunOptions];
    if (!(choices as readonly unknown[]).includes(value)) throw new Error(`${flagOf(key)}: expected one of ${choices.join(', ')}, got ${JSON.stringify(value)}`);
  }
  for (const [key, rule] of Object.entries(NUMBER_RULES) as [keyof RunOptions, NumberRule][]) {
    const value = o[key];
    if ((value === undefined && !REQUIRED_NUMBERS.includes(key)) || (key === 'scoreBound' && value === 'none')) continue;
    if (typeof value !== 'number' || !rule.ok(value)) throw new Error(`${flagOf(key)}: expected ${rule.want}, got ${typeof value === 'number' ? value : JSON.stringify(value)}`);
  }
  if (o.data === 'cifar10' && !o.dataDir) throw new Error('--data cifar10 needs --data-dir DIR');
  if (o.data !== 'cifar10' && o.dataDir !== undefined) throw new Error(`--data-dir applies to --data cifar10, not to ${o.data}`);
  if (o.augment !== 'none' && o.data !== 'cifar10') throw new Error(`--augment ${o.augment} applies to --data cifar10, not to ${o.data}`);
  if (o.threads !== undefined && !takesThreads(o.backend)) throw new Error(`--threads applies to --backend wasm (or auto), not to ${o.backend}`);
  if (o.finetune !== 'none' && o.method !== 'mpt' && o.method !== 'edgepopup') {
    throw new Error(
      `--finetune applies to mpt and edgepopup, not to ${o.method}${o.method === 'gemminer' || o.method === 'earlybird' ? ` (${o.method} always retrains every layer: see --finetune-epochs)` : ''}`,
    );
  }
  if (o.tau !== undefined && o.method !== 'mpt' && o.method !== 'edgepopup') throw new Error(`--tau applies to mpt and edgepopup, not to ${o.method}`);
  if (o.method === 'gemminer' && o.alpha !== 1) throw new Error('--alpha applies to mpt and edgepopup scores, not to gemminer');
  if (o.tau !== undefined && o.scope === 'global') throw new Error('--tau is a fixed per-weight threshold; it cannot be combined with --scope global');
  // With a fixed threshold there is no top-k to compute.
  if (o.tau !== undefined && o.mask === 'bitonic') throw new Error('--tau is a fixed threshold (no top-k to sort); it cannot be combined with --mask bitonic');
  if (o.method === 'earlybird') return { ...o, scope: 'global', batchNorm: true };
  if (o.method === 'gemminer') return { ...o, scope: 'global' };
  return o;
}

/** Options as JSON values (undefined fields dropped), without the ones that do not change a result. */
export type ComparableOptions = Record<string, unknown>;

/**
 * The options that define a run's result: `out`, `verbose` and `overwrite` dropped, and every
 * field missing from a record (written by an older ticketgrad without that option) counted as
 * its default.
 */
export function comparableOptions(options: Partial<TrainOptions> | ComparableOptions): ComparableOptions {
  const { out: _out, verbose: _verbose, overwrite: _overwrite, ...rest } = { ...DEFAULT_OPTIONS, ...options } as Record<string, unknown>;
  // Runs recorded before the bitonic top-k was named so recorded it as `sort`.
  if (rest.mask === 'sort') rest.mask = 'bitonic';
  return JSON.parse(JSON.stringify(rest)) as ComparableOptions;
}

/** `epochs: 10 recorded, 3 asked for`, one entry per differing option, leaving out the `ignored` ones. */
export function optionDifferences(
  recorded: Partial<TrainOptions> | ComparableOptions,
  requested: Partial<TrainOptions> | ComparableOptions,
  ignored: readonly string[] = [],
): string[] {
  const a = comparableOptions(recorded);
  const b = comparableOptions(requested);
  const show = (v: unknown): string => (v === undefined ? '(unset)' : JSON.stringify(v));
  return [...new Set([...Object.keys(a), ...Object.keys(b)])]
    .filter((k) => !ignored.includes(k) && JSON.stringify(a[k]) !== JSON.stringify(b[k]))
    .map((k) => `${k}: ${show(a[k])} recorded, ${show(b[k])} asked for`);
}
