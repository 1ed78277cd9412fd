// The `ticketgrad train` flags: parsing and checking them (shared by train, sweep and the ticket
// commands' usage errors).

import { parseArgs } from 'node:util';
import { BACKEND_CHOICES } from '../init.js';
import { MODEL_NAMES } from '../nn/models.js';
import { FINETUNE_LAYERS, OPTIMIZERS, SCHEDULES, TRAIN_METHODS, type TrainOptions, resolveOptions } from '../train/options.js';

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

const usage = (message: string): never => {
  throw new UsageError(message);
};

const int =
  (min: number) =>
  (v: number): boolean =>
    Number.isInteger(v) && v >= min;

const STRING_FLAGS = [
  'model',
  'data',
  'data-dir',
  'width',
  'train-size',
  'val-size',
  'method',
  'sparsity',
  'scope',
  'mask',
  'tau',
  'alpha',
  'init-scale',
  'lr-scaling',
  'score-bound',
  'epochs',
  'batch',
  'lr',
  'optimizer',
  'momentum',
  'weight-decay',
  'schedule',
  'ramp-epochs',
  'finetune',
  'finetune-epochs',
  'finetune-lr',
  'seed',
  'backend',
  'threads',
  'out',
  'dense-run',
  'rewind',
  'rounds',
  'output-rate',
  'prune-rounds',
  'prune-batches',
  'gm-lambda',
  'eb-l1',
];

/** Where a run runs: the flags `train` and `train --resume` share. */
const backendArg = (value: string | undefined) => choice('backend', value, BACKEND_CHOICES);
const threadsArg = (value: string | undefined) => num('threads', value, (x) => int(1)(x) && x <= 256, 'an integer in [1, 256]');

export type FlagSpec = Record<string, { type: 'string' | 'boolean'; short?: string }>;

/** `--sparsity -0.5` as `--sparsity=-0.5`: parseArgs reads a value that starts with a dash as a flag. */
function joinNegativeValues(argv: string[], options: FlagSpec): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].startsWith('--') && !argv[i].includes('=') ? argv[i].slice(2) : undefined;
    if (name !== undefined && options[name]?.type === 'string' && /^-(\d|\.\d)/.test(argv[i + 1] ?? '')) out.push(`${argv[i]}=${argv[++i]}`);
    else out.push(argv[i]);
  }
  return out;
}

/**
 * The flags of a command (and -h/--help), by node:util's parseArgs, stricter: a flag given twice
 * is an error (not "the last one wins"), and a negative number is a value, not a flag.
 */
export function parseFlags(argv: string[], options: FlagSpec, allowPositionals: boolean): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  let parsed: ReturnType<typeof parseArgs<{ options: FlagSpec; tokens: true; allowPositionals: boolean }>>;
  try {
    parsed = parseArgs({ args: joinNegativeValues(argv, options), strict: true, allowPositionals, tokens: true, options: { ...options, help: { type: 'boolean', short: 'h' } } });
  } catch (e) {
    throw UsageError.fromParseArgs(e);
  }
  const seen = new Set<string>();
  for (const token of parsed.tokens) {
    if (token.kind !== 'option') continue;
    if (seen.has(token.name)) throw new UsageError(`--${token.name} is given twice`);
    seen.add(token.name);
  }
  return { values: parsed.values as Record<string, string | boolean | undefined>, positionals: parsed.positionals };
}

const TRAIN_FLAGS: FlagSpec = {
  ...Object.fromEntries(STRING_FLAGS.map((k) => [k, { type: 'string' as const }])),
  quiet: { type: 'boolean' },
  batchnorm: { type: 'boolean' },
  overwrite: { type: 'boolean' },
};

export function parseTrainArgs(argv: string[]): TrainOptions | 'help' {
  const v = parseFlags(argv, TRAIN_FLAGS, false).values;
  if (v.help) return 'help';
  const s = (k: string): string | undefined => v[k] as string | undefined;
  // Only what was given: resolveOptions adds the defaults (some depend on the method) and
  // refuses options that the method would ignore.
  const given: Partial<TrainOptions> = {
    model: choice('model', s('model'), MODEL_NAMES),
    data: choice('data', s('data'), ['mnist', 'cifar10', 'synthetic'] as const),
    dataDir: s('data-dir'),
    width: num('width', s('width'), (x) => x > 0 && x <= MAX_WIDTH, `a number in (0, ${MAX_WIDTH}]`),
    trainSize: num('train-size', s('train-size'), int(1), 'an integer >= 1'),
    valSize: num('val-size', s('val-size'), int(0), 'an integer >= 0'),
    method: choice('method', s('method'), TRAIN_METHODS),
    sparsity: num('sparsity', s('sparsity'), (x) => x >= 0 && x < 1, 'a number in [0, 1)'),
    scope: choice('scope', s('scope'), ['layer', 'global'] as const),
    // `sort`: the bitonic sort's former name.
    mask: choice('mask', s('mask') === 'sort' ? 'bitonic' : s('mask'), ['bitonic', 'threshold'] as const),
    tau: num('tau', s('tau'), (x) => x >= 0, 'a number >= 0'),
    alpha: num('alpha', s('alpha'), (x) => x >= 1, 'a number >= 1'),
    initScale: choice('init-scale', s('init-scale'), ['density', 'none'] as const),
    lrScaling: choice('lr-scaling', s('lr-scaling'), ['alpha', 'none'] as const),
    scoreBound: s('score-bound') === 'none' ? 'none' : num('score-bound', s('score-bound'), (x) => x > 0, "a number > 0 or 'none'"),
    epochs: num('epochs', s('epochs'), int(1), 'an integer >= 1'),
    batch: num('batch', s('batch'), int(1), 'an integer >= 1'),
    lr: num('lr', s('lr'), (x) => x > 0, 'a number > 0'),
    optimizer: choice('optimizer', s('optimizer'), OPTIMIZERS),
    momentum: num('momentum', s('momentum'), (x) => x >= 0 && x < 1, 'a number in [0, 1)'),
    weightDecay: num('weight-decay', s('weight-decay'), (x) => x >= 0, 'a number >= 0'),
    schedule: choice('schedule', s('schedule'), SCHEDULES),
    rampEpochs: num('ramp-epochs', s('ramp-epochs'), int(0), 'an integer >= 0'),
    finetune: choice('finetune', s('finetune'), FINETUNE_LAYERS),
    finetuneEpochs: num('finetune-epochs', s('finetune-epochs'), int(0), 'an integer >= 0'),
    finetuneLr: num('finetune-lr', s('finetune-lr'), (x) => x > 0, 'a number > 0'),
    seed: num('seed', s('seed'), (v) => int(0)(v) && v <= 0xffffffff, 'an integer in [0, 4294967295]'),
    backend: backendArg(s('backend')),
    threads: threadsArg(s('threads')),
    out: s('out') === '' ? usage('--out: expected a directory, got an empty string') : s('out'),
    denseRun: s('dense-run'),
    verbose: !v.quiet,
    rewind: num('rewind', s('rewind'), int(0), 'an integer >= 0 (steps)'),
    rounds: num('rounds', s('rounds'), int(1), 'an integer >= 1'),
    outputRate: num('output-rate', s('output-rate'), (x) => x >= 0 && x <= 1, 'a number in [0, 1]'),
    pruneRounds: num('prune-rounds', s('prune-rounds'), int(1), 'an integer >= 1'),
    pruneBatches: num('prune-batches', s('prune-batches'), int(1), 'an integer >= 1'),
    gmLambda: num('gm-lambda', s('gm-lambda'), (x) => x >= 0, 'a number >= 0'),
    ebL1: num('eb-l1', s('eb-l1'), (x) => x >= 0, 'a number >= 0'),
    batchNorm: v.batchnorm === true ? true : undefined,
    overwrite: v.overwrite === true ? true : undefined,
  };
  let o: ReturnType<typeof resolveOptions<Partial<TrainOptions>>>;
  try {
    o = resolveOptions(given);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  return { ...o, out: o.out ?? `runs/${o.model}-${o.method}-${o.sparsity}` };
}

/** What `train --resume DIR` is given: the run, and where it runs and what it prints (the rest is the run's own). */
export interface ResumeArgs {
  dir: string;
  verbose: boolean;
  backend?: TrainOptions['backend'];
  threads?: number;
}

const RESUME_FLAGS: FlagSpec = { resume: { type: 'string' }, quiet: { type: 'boolean' }, backend: { type: 'string' }, threads: { type: 'string' } };

/** `train --resume DIR [--quiet] [--backend B] [--threads N]`; null without --resume. */
export function parseResumeArgs(argv: string[]): ResumeArgs | null {
  if (!argv.some((a) => a === '--resume' || a.startsWith('--resume='))) return null;
  const other = argv.find((a) => a.startsWith('-') && !Object.keys(RESUME_FLAGS).includes(a.replace(/^--?/, '').split('=')[0]));
  if (other !== undefined) throw new UsageError(`--resume continues a run with its own options: ${other} cannot be given with it (only --quiet, --backend, --threads)`);
  const v = parseFlags(argv, RESUME_FLAGS, false).values;
  const dir = v.resume as string;
  if (dir === '') throw new UsageError('--resume: expected a run directory, got an empty string');
  return {
    dir,
    verbose: !v.quiet,
    backend: backendArg(v.backend as string | undefined),
    threads: threadsArg(v.threads as string | undefined),
  };
}
