// The `ticketgrad train` flags: parsing and checking them (shared by train, sweep and the ticket
// commands' usage errors).

import { parseArgs } from 'node:util';
import { BACKEND_CHOICES } from '../init.js';
import { MODEL_NAMES } from '../nn/models.js';
import { DEFAULT_OPTIONS, type TrainOptions } from '../train/train.js';
import { defaultFinetuneLr, resolveMethodOptions } from '../train/pruning-methods.js';
import { TRAIN_METHODS, type TrainMethod } from '../train/options.js';
import type { Scope } from '../prune/masks.js';
import { INIT_PRUNE_METHODS, type InitPruneMethod, defaultPruneScope } from '../prune/at-init.js';

const D = DEFAULT_OPTIONS;

export class UsageError extends Error {
  /** node:util parseArgs's error as one line (its hints, such as `--width=-1` for values starting with a dash, included). */
  static fromParseArgs(e: unknown): UsageError {
    return new UsageError((e as Error).message.replace(/\s*\n\s*/g, ' '));
  }
}

/** Wider than this, lenet300 alone holds over 10^9 weights. */
export const MAX_WIDTH = 64;
const DECIMAL = /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i;

function num(name: string, value: string | undefined, check: (v: number) => boolean, want: string): number | undefined {
  if (value === undefined) return undefined;
  const v = Number(value);
  // Decimal only: Number() also reads '0x10', '0b11' and ' 3 '.
  if (!DECIMAL.test(value) || !Number.isFinite(v) || !check(v)) throw new UsageError(`--${name}: expected ${want}, got '${value}'`);
  return v;
}

function choice<T extends string>(name: string, value: string | undefined, options: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!options.includes(value as T)) throw new UsageError(`--${name}: expected one of ${options.join(', ')}, got '${value}'`);
  return value as T;
}

const int = (min: number) => (v: number): boolean => Number.isInteger(v) && v >= min;

const STRING_FLAGS = ['model', 'data', 'data-dir', 'width', 'train-size', 'method', 'sparsity', 'scope', 'mask', 'tau', 'alpha', 'init-scale', 'epochs', 'batch', 'lr',
  'optimizer', 'momentum', 'weight-decay', 'schedule', 'ramp-epochs', 'finetune', 'finetune-epochs', 'finetune-lr', 'seed', 'backend', 'threads', 'out', 'dense-run',
  'rewind', 'rounds', 'output-rate', 'prune-rounds', 'prune-batches', 'gm-lambda', 'eb-l1'];

/** Flags that only one family of methods reads. */
const METHOD_FLAGS: Record<string, readonly TrainMethod[]> = {
  rewind: ['imp'], rounds: ['imp'], 'output-rate': ['imp'], 'prune-rounds': ['synflow', 'snip', 'magnitude'], 'prune-batches': ['snip'],
  'gm-lambda': ['gemminer'], 'eb-l1': ['earlybird'],
};

/** The scope a method selects in unless --scope says otherwise (Gem-Miner and Early-Bird always select globally). */
function defaultScope(method: TrainMethod): Scope {
  if ((INIT_PRUNE_METHODS as readonly string[]).includes(method)) return defaultPruneScope(method as InitPruneMethod);
  return method === 'gemminer' || method === 'earlybird' ? 'global' : D.scope;
}

export function parseTrainArgs(argv: string[]): TrainOptions | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        ...Object.fromEntries(STRING_FLAGS.map((k) => [k, { type: 'string' as const }])),
        quiet: { type: 'boolean' },
        batchnorm: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    throw UsageError.fromParseArgs(e);
  }
  const v = parsed.values as Record<string, string | boolean | undefined>;
  if (v.help) return 'help';
  const s = (k: string): string | undefined => v[k] as string | undefined;
  const method = choice('method', s('method'), TRAIN_METHODS) ?? D.method;
  for (const [flag, methods] of Object.entries(METHOD_FLAGS)) {
    if (s(flag) !== undefined && !methods.includes(method)) throw new UsageError(`--${flag} applies to ${methods.join(', ')}, not to ${method}`);
  }
  if (s('scope') === 'layer' && (method === 'gemminer' || method === 'earlybird')) throw new UsageError(`--method ${method} selects globally; --scope layer does not apply`);
  const o: TrainOptions = {
    ...D,
    model: choice('model', s('model'), MODEL_NAMES) ?? D.model,
    data: choice('data', s('data'), ['mnist', 'cifar10', 'synthetic'] as const) ?? D.data,
    dataDir: s('data-dir'),
    width: num('width', s('width'), (x) => x > 0 && x <= MAX_WIDTH, `a number in (0, ${MAX_WIDTH}]`) ?? D.width,
    trainSize: num('train-size', s('train-size'), int(1), 'an integer >= 1'),
    method,
    sparsity: num('sparsity', s('sparsity'), (x) => x >= 0 && x < 1, 'a number in [0, 1)') ?? D.sparsity,
    scope: choice('scope', s('scope'), ['layer', 'global'] as const) ?? defaultScope(method),
    mask: choice('mask', s('mask'), ['sort', 'threshold'] as const) ?? D.mask,
    tau: num('tau', s('tau'), (x) => x >= 0, 'a number >= 0'),
    alpha: num('alpha', s('alpha'), (x) => x >= 1, 'a number >= 1') ?? D.alpha,
    initScale: choice('init-scale', s('init-scale'), ['density', 'none'] as const) ?? D.initScale,
    epochs: num('epochs', s('epochs'), int(1), 'an integer >= 1') ?? D.epochs,
    batch: num('batch', s('batch'), int(1), 'an integer >= 1') ?? D.batch,
    lr: num('lr', s('lr'), (x) => x > 0, 'a number > 0'),
    optimizer: choice('optimizer', s('optimizer'), ['sgd', 'adam'] as const) ?? D.optimizer,
    momentum: num('momentum', s('momentum'), (x) => x >= 0 && x < 1, 'a number in [0, 1)') ?? D.momentum,
    weightDecay: num('weight-decay', s('weight-decay'), (x) => x >= 0, 'a number >= 0') ?? D.weightDecay,
    schedule: choice('schedule', s('schedule'), ['cosine', 'step', 'constant'] as const) ?? D.schedule,
    rampEpochs: num('ramp-epochs', s('ramp-epochs'), int(0), 'an integer >= 0') ?? D.rampEpochs,
    finetune: choice('finetune', s('finetune'), ['none', 'last', 'first', 'full'] as const) ?? D.finetune,
    finetuneEpochs: num('finetune-epochs', s('finetune-epochs'), int(0), 'an integer >= 0') ?? D.finetuneEpochs,
    finetuneLr: num('finetune-lr', s('finetune-lr'), (x) => x > 0, 'a number > 0') ?? defaultFinetuneLr(method, D.finetuneLr),
    seed: num('seed', s('seed'), (v) => int(0)(v) && v <= 0xffffffff, 'an integer in [0, 4294967295]') ?? D.seed,
    backend: choice('backend', s('backend'), BACKEND_CHOICES) ?? D.backend,
    threads: num('threads', s('threads'), (x) => int(1)(x) && x <= 256, 'an integer in [1, 256]'),
    out: '',
    denseRun: s('dense-run'),
    verbose: !v.quiet,
    rewind: num('rewind', s('rewind'), int(0), 'an integer >= 0 (steps)') ?? D.rewind,
    rounds: num('rounds', s('rounds'), int(1), 'an integer >= 1'),
    outputRate: num('output-rate', s('output-rate'), (x) => x >= 0 && x <= 1, 'a number in [0, 1]') ?? D.outputRate,
    pruneRounds: num('prune-rounds', s('prune-rounds'), int(1), 'an integer >= 1'),
    pruneBatches: num('prune-batches', s('prune-batches'), int(1), 'an integer >= 1') ?? D.pruneBatches,
    gmLambda: num('gm-lambda', s('gm-lambda'), (x) => x >= 0, 'a number >= 0') ?? D.gmLambda,
    ebL1: num('eb-l1', s('eb-l1'), (x) => x >= 0, 'a number >= 0') ?? D.ebL1,
    batchNorm: v.batchnorm === true || D.batchNorm,
  };
  if (o.data === 'cifar10' && !o.dataDir) throw new UsageError('--data cifar10 needs --data-dir DIR');
  if (o.threads !== undefined && o.backend !== 'wasm' && o.backend !== 'auto') throw new UsageError(`--threads applies to --backend wasm (or auto), not to ${o.backend}`);
  try {
    resolveMethodOptions(o);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (o.tau !== undefined && o.scope === 'global') throw new UsageError('--tau is a fixed per-weight threshold; it cannot be combined with --scope global');
  // With a fixed threshold there is no top-k to compute and no target sparsity: flags that set them would be ignored.
  if (o.tau !== undefined && o.mask === 'sort') throw new UsageError('--tau is a fixed threshold (no top-k to sort); it cannot be combined with --mask sort');
  if (o.tau !== undefined && s('sparsity') !== undefined) throw new UsageError('--tau is a fixed threshold: the sparsity follows the scores, so leave out --sparsity');
  o.out = s('out') ?? `runs/${o.model}-${o.method}-${o.sparsity}`;
  return o;
}
