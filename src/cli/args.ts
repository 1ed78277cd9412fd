// The `ticketgrad train` flags: parsing and checking them (shared by train, sweep and the ticket
// commands' usage errors).

import { parseArgs } from 'node:util';
import { takesThreads } from '../init.js';
import { NUMBER_RULES, OPTION_CHOICES, type TrainOptions, flagOf, resolveOptions } from '../train/options.js';

export class UsageError extends Error {
  /** node:util parseArgs's error as one line (its hints, such as `--width=-1` for values starting with a dash, included). */
  static fromParseArgs(e: unknown): UsageError {
    return new UsageError((e as Error).message.replace(/\s*\n\s*/g, ' '));
  }
}

const DECIMAL = /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i;

/** A numeric flag's value, checked by the option's rule (NUMBER_RULES, which checkOptions applies too). */
function num(key: keyof typeof NUMBER_RULES, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const v = Number(value);
  const { ok, want } = NUMBER_RULES[key];
  // Decimal only: Number() also reads '0x10', '0b11' and ' 3 '.
  if (!DECIMAL.test(value) || !Number.isFinite(v) || !ok(v)) throw new UsageError(`${flagOf(key)}: expected ${want}, got '${value}'`);
  return v;
}

/** A flag with a fixed set of values (OPTION_CHOICES). */
function choice<K extends keyof typeof OPTION_CHOICES>(key: K, value: string | undefined): (typeof OPTION_CHOICES)[K][number] | undefined {
  if (value === undefined) return undefined;
  const options: readonly string[] = OPTION_CHOICES[key];
  if (!options.includes(value)) throw new UsageError(`${flagOf(key)}: expected one of ${options.join(', ')}, got '${value}'`);
  return value as (typeof OPTION_CHOICES)[K][number];
}

const usage = (message: string): never => {
  throw new UsageError(message);
};

/** The option's flag without its dashes: trainSize -> train-size. */
const flagName = (key: string): string => flagOf(key).slice(2);

/** The flags that take a value: every option with a fixed set of values or a range, and the paths. */
const STRING_FLAGS = [...Object.keys(OPTION_CHOICES), ...Object.keys(NUMBER_RULES), 'dataDir', 'out', 'denseRun'].map(flagName);

/** Where a run runs: the flags `train` and `train --resume` share. */
const backendArg = (value: string | undefined) => choice('backend', value);
const threadsArg = (value: string | undefined) => num('threads', value);

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
  const n = (key: keyof typeof NUMBER_RULES) => num(key, s(flagName(key)));
  const c = <K extends keyof typeof OPTION_CHOICES>(key: K) => choice(key, s(flagName(key)));
  // Only what was given: resolveOptions adds the defaults (some depend on the method) and
  // refuses options that the method would ignore.
  const given: Partial<TrainOptions> = {
    model: c('model'),
    data: c('data'),
    dataDir: s('data-dir'),
    augment: c('augment'),
    width: n('width'),
    trainSize: n('trainSize'),
    valSize: n('valSize'),
    method: c('method'),
    sparsity: n('sparsity'),
    scope: c('scope'),
    // `sort`: the bitonic sort's former name.
    mask: choice('mask', s('mask') === 'sort' ? 'bitonic' : s('mask')),
    tau: n('tau'),
    alpha: n('alpha'),
    initScale: c('initScale'),
    lrScaling: c('lrScaling'),
    scoreBound: s('score-bound') === 'none' ? 'none' : n('scoreBound'),
    epochs: n('epochs'),
    batch: n('batch'),
    lr: n('lr'),
    optimizer: c('optimizer'),
    momentum: n('momentum'),
    weightDecay: n('weightDecay'),
    schedule: c('schedule'),
    rampEpochs: n('rampEpochs'),
    finetune: c('finetune'),
    finetuneEpochs: n('finetuneEpochs'),
    finetuneLr: n('finetuneLr'),
    seed: n('seed'),
    backend: backendArg(s('backend')),
    threads: threadsArg(s('threads')),
    out: s('out') === '' ? usage('--out: expected a directory, got an empty string') : s('out'),
    denseRun: s('dense-run'),
    verbose: !v.quiet,
    rewind: n('rewind'),
    rounds: n('rounds'),
    outputRate: n('outputRate'),
    pruneRounds: n('pruneRounds'),
    pruneBatches: n('pruneBatches'),
    gmLambda: n('gmLambda'),
    ebL1: n('ebL1'),
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

/**
 * The options a resumed run trains with: its recorded ones, on the backend and threads given. A
 * recorded thread count is dropped when the run moves to a backend without threads.
 */
export function resumedOptions(recorded: TrainOptions, args: ResumeArgs): TrainOptions {
  const backend = args.backend ?? recorded.backend;
  return { ...recorded, verbose: args.verbose, backend, threads: args.threads ?? (takesThreads(backend) ? recorded.threads : undefined) };
}
