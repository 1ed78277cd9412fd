#!/usr/bin/env node
// The coarse-to-fine fine-tuning search of docs/results.md (Fig. 3 / Table 1), for one ticket,
// every choice made on validation accuracy (run `npm run build` first):
//
//   node scripts/effmpt-search.mjs OUT.jsonl SEARCH_RUN [SEED_RUN,...]
//
// Stage 1 fine-tunes SEARCH_RUN (a finished mpt or edgepopup run) with 12 settings for 5 epochs
// (cosine, batch 128): SGD at lr 0.1 / 0.01 / 0.001 and Adam at 0.01 / 0.001 / 0.0001, on the
// last layer or on every layer. Stage 2 changes one thing at a time in stage 1's best: the
// schedule (multi-step, constant), the batch (64, 256, 512), 20 epochs. Stage 3 runs stage 2's
// best on the SEED_RUNs (the same ticket's other seeds). A tie goes to the setting listed first
// (stage 1's order above; in stage 2 the unchanged setting). Every run is a line of OUT.jsonl
// (scripts/effmpt-finetune.mjs); the lines already there are not run again, so a stopped search
// resumes where it stopped, and the choices are printed.

import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const [out, searchRun, seedRuns = ''] = process.argv.slice(2);
if (!out || !searchRun) {
  console.error('usage: node scripts/effmpt-search.mjs OUT.jsonl SEARCH_RUN [SEED_RUN,...]');
  process.exit(2);
}
const finetune = join(dirname(fileURLToPath(import.meta.url)), 'effmpt-finetune.mjs');
const rows = () =>
  existsSync(out)
    ? readFileSync(out, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line))
    : [];

/** Fine-tunes each run with the settings OUT.jsonl does not hold yet for it. */
function run(runs, settings) {
  const done = new Set(rows().map((r) => `${r.run}\n${r.setting}`));
  for (const r of runs) {
    const todo = settings.filter((s) => !done.has(`${r}\n${s}`));
    if (todo.length > 0) execFileSync(process.execPath, [finetune, out, r, ...todo], { stdio: 'inherit' });
  }
}

/** The setting with the highest validation accuracy on SEARCH_RUN; a tie goes to the one listed first. */
function best(settings) {
  const results = rows().filter((r) => r.run === searchRun);
  let pick;
  for (const setting of settings) {
    const r = results.find((x) => x.setting === setting);
    if (!pick || r.val > pick.val) pick = r;
  }
  console.log(`chosen: ${pick.setting} (validation ${(100 * pick.val).toFixed(2)}%)`);
  return pick.setting;
}

const stage1 = [];
for (const [optimizer, rates] of [
  ['sgd', ['0.1', '0.01', '0.001']],
  ['adam', ['0.01', '0.001', '0.0001']],
]) {
  for (const layers of ['last', 'full']) for (const lr of rates) stage1.push(`${optimizer}:${layers}:${lr}:cosine:128:5`);
}
run([searchRun], stage1);
const [optimizer, layers, lr] = best(stage1).split(':');
const stage2 = ['cosine:128:5', 'step:128:5', 'constant:128:5', 'cosine:64:5', 'cosine:256:5', 'cosine:512:5', 'cosine:128:20'].map(
  (rest) => `${optimizer}:${layers}:${lr}:${rest}`,
);
run([searchRun], stage2);
const chosen = best(stage2);
run(seedRuns.split(',').filter(Boolean), [chosen]);
