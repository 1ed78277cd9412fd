#!/usr/bin/env node
// Fine-tunes the weights of trained tickets with their masks fixed, the Efficient MPT report's
// Fig. 3 / Table 1 as docs/results.md measured it (run `npm run build` first):
//
//   node scripts/effmpt-finetune.mjs OUT.jsonl RUN_DIR[,RUN_DIR...] SETTING...
//
// RUN_DIR: a finished mpt or edgepopup run (its checkpoint.safetensors). SETTING:
// OPTIMIZER:LAYERS:LR:SCHEDULE:BATCH:EPOCHS, e.g. adam:full:0.01:cosine:128:20 (optimizer sgd or
// adam, layers first, last or full, schedule cosine, step or constant). Each setting continues
// the run from its checkpoint on the run's own data, split and backend: its score-training epochs
// are done, so only the fine-tuning phase runs, what `ticketgrad train --finetune` does after the
// score training. One JSON line per run and setting is appended to OUT.jsonl: validation and test
// accuracy before and after, the validation accuracy of every fine-tuning epoch, seconds.

import { appendFileSync } from 'node:fs';
import { checkOptions, init, loadRunData, readRunCheckpoint, shutdown, trainModel } from '../dist/src/node.js';

const [out, runs, ...settings] = process.argv.slice(2);
const usage = 'usage: node scripts/effmpt-finetune.mjs OUT.jsonl RUN_DIR[,RUN_DIR...] OPTIMIZER:LAYERS:LR:SCHEDULE:BATCH:EPOCHS...';
if (!out || !runs || settings.length === 0) {
  console.error(usage);
  process.exit(2);
}
const parsed = settings.map((s) => {
  const parts = s.split(':');
  if (parts.length !== 6) {
    console.error(`${usage}\n'${s}' is not OPTIMIZER:LAYERS:LR:SCHEDULE:BATCH:EPOCHS`);
    process.exit(2);
  }
  const [optimizer, finetune, lr, schedule, batch, epochs] = parts;
  return { setting: s, optimizer, finetune, schedule, finetuneLr: Number(lr), batch: Number(batch), finetuneEpochs: Number(epochs) };
});

const percent = (x) => (100 * x).toFixed(2);
for (const run of runs.split(',')) {
  // One read of the run, its data and its backend serves every setting (a setting changes only the fine-tuning).
  const { options, checkpoint } = readRunCheckpoint(run);
  const data = loadRunData(options);
  await init({ backend: options.backend, threads: options.threads });
  for (const { setting, ...change } of parsed) {
    // checkOptions rejects a bad value with the CLI's message (a method without fine-tuning, a misspelt schedule, ...).
    const o = checkOptions({ ...options, ...change, verbose: false, onWarning: () => {} });
    const started = performance.now();
    const { model, report } = await trainModel(o, data, { resume: checkpoint });
    model.dispose();
    const before = report.metrics.filter((m) => m.phase === 'train').at(-1);
    const row = {
      run,
      setting,
      before: { val: before.valAccuracy, test: before.testAccuracy },
      val: report.valAccuracy,
      test: report.testAccuracy,
      valCurve: report.metrics.filter((m) => m.phase === 'finetune').map((m) => m.valAccuracy),
      seconds: (performance.now() - started) / 1000,
    };
    appendFileSync(out, `${JSON.stringify(row)}\n`);
    console.log(
      `${run} ${setting}: validation ${percent(before.valAccuracy)} -> ${percent(row.val)}, test ${percent(before.testAccuracy)} -> ${percent(row.test)} (${row.seconds.toFixed(0)} s)`,
    );
  }
}
shutdown();
