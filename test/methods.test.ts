// `ticketgrad train --method imp|synflow|snip|magnitude|random|erk|gemminer|earlybird` end to
// end: a short run per method on a few hundred MNIST digits (a quarter-width LeNet-300-100 on
// the CPU reference, to stay fast) that must learn well above chance, what each writes to
// report.json, the layer-collapse warning, and the CLI's handling of the new flags.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertUsageErrors, runCli } from './cli.js';
import { DEFAULT_OPTIONS, type TrainOptions, type TrainReport, train } from '../src/train/train.js';
import './devices.js';

async function run(options: Partial<TrainOptions>): Promise<{ report: TrainReport; saved: Record<string, unknown>; warnings: string[] }> {
  const out = mkdtempSync(join(tmpdir(), `ticketgrad-${options.method}-`));
  const warnings: string[] = [];
  const report = await train({
    ...DEFAULT_OPTIONS,
    backend: 'cpu',
    trainSize: 300,
    width: 0.25,
    batch: 32,
    epochs: 2,
    verbose: false,
    out,
    onWarning: (m) => warnings.push(m),
    ...options,
  });
  return { report, saved: JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as Record<string, unknown>, warnings };
}

const overChance = 0.3;

for (const method of ['magnitude', 'random', 'erk', 'snip', 'synflow'] as const) {
  // Density 0.5: at 0.1, 20 steps are too few for random and SNIP tickets to leave chance (the
  // pruned layers' activations start 10x smaller); the final report measures 0.1.
  test(`${method}: prune at init to half the weights, then train the kept ones: well above chance on 300 MNIST digits`, { timeout: 120_000 }, async () => {
    const { report, saved, warnings } = await run({ method, sparsity: 0.5 });
    assert.ok(report.testAccuracy > overChance, `test accuracy ${report.testAccuracy}`);
    // ERK rounds each layer's count separately; the others keep round(0.5 n) (per layer or in total).
    assert.ok(Math.abs(report.sparsity - 0.5) < (method === 'erk' ? 1e-3 : 1e-5), `sparsity ${report.sparsity}`);
    assert.deepEqual(warnings, []);
    assert.deepEqual(saved.warnings, []);
    assert.ok(report.maskSeconds > 0, 'the pruning counts as mask time');
    assert.equal(report.metrics.length, 2);
    assert.ok(report.metrics.every((m) => Math.abs(m.density - 0.5) < 1e-3));
  });
}

test('imp: rounds of train / prune / rewind (to step 3), each round in report.json', { timeout: 120_000 }, async () => {
  const { report, saved } = await run({ method: 'imp', sparsity: 0.36, rounds: 2, rewind: 3, epochs: 1 });
  assert.ok(report.testAccuracy > overChance, `test accuracy ${report.testAccuracy}`);
  const rounds = report.rounds!;
  assert.deepEqual(
    rounds.map((r) => r.round),
    [0, 1, 2],
  );
  assert.equal(rounds[0].density, 1);
  // 20% of the remaining per round, the output layer (1% of the weights) at half the rate.
  assert.ok(Math.abs(rounds[1].density - 0.8) < 2e-3 && Math.abs(rounds[2].density - 0.64) < 3e-3, JSON.stringify(rounds));
  assert.ok(rounds.every((r) => r.testAccuracy > overChance && r.seconds > 0));
  assert.equal(rounds[2].testAccuracy, report.testAccuracy);
  assert.deepEqual(saved.rounds, rounds);
  assert.deepEqual(
    report.metrics.map((m) => m.round),
    [0, 1, 2],
  );
  const layers = report.layers.map((l) => l.density);
  assert.ok(Math.abs(layers[0] - 0.64) < 1e-3 && Math.abs(layers[2] - 0.81) < 1e-2, `layer densities ${layers}`);
});

test('gemminer: score search over frozen weights, freeze-off to the target, then fine-tuning', { timeout: 120_000 }, async () => {
  const { report, saved } = await run({ method: 'gemminer', sparsity: 0.9, finetuneEpochs: 1 });
  assert.ok(report.ticketTestAccuracy! > overChance, `ticket ${report.ticketTestAccuracy}`);
  assert.ok(report.testAccuracy > overChance, `after fine-tuning ${report.testAccuracy}`);
  assert.ok(Math.abs(report.sparsity - 0.9) < 1e-5);
  assert.deepEqual(
    report.metrics.map((m) => m.phase),
    ['train', 'train', 'finetune'],
  );
  assert.equal(saved.ticketTestAccuracy, report.ticketTestAccuracy);
  assert.equal((saved.options as TrainOptions).scope, 'global');
});

test('earlybird: BatchNorm-gamma L1, channel masks per epoch, pruned channels retrained', { timeout: 120_000 }, async () => {
  const { report, saved } = await run({ method: 'earlybird', sparsity: 0.5, finetuneEpochs: 1 });
  // Two epochs are too few for a window of five masks: no ticket emerges, the last mask is used.
  assert.equal(report.earlyBirdEpoch, null);
  assert.equal(saved.earlyBirdEpoch, null);
  assert.deepEqual(report.earlyBirdDistances, [null, null]);
  assert.ok(report.ticketTestAccuracy! > overChance && report.testAccuracy > overChance, `${report.ticketTestAccuracy} ${report.testAccuracy}`);
  // Half of the 100 hidden channels go: every layer loses weights, the hidden ones about 3/4 of theirs.
  assert.ok(
    report.layers.every((l) => l.density < 1),
    report.layers.map((l) => l.density).join(', '),
  );
  assert.ok(report.sparsity > 0.4, `sparsity ${report.sparsity}`);
  assert.equal((saved.options as TrainOptions).batchNorm, true);
});

test('a layer pruned to density 0 gives one warning line per layer and report.warnings', { timeout: 60_000 }, async () => {
  const { report, warnings } = await run({ method: 'random', sparsity: 0.999, width: 0.05, epochs: 1, trainSize: 64 });
  assert.deepEqual(
    report.layers.map((l) => l.density === 0),
    [false, true, true],
  );
  assert.equal(warnings.length, 2, warnings.join('\n'));
  assert.deepEqual(report.warnings, warnings);
  assert.match(warnings[0], /layer 3 has density 0 \(every weight pruned\): layer collapse/);
  // The collapsed network's logits are all equal: its accuracy is that of always guessing one class.
  assert.ok(report.testAccuracy < 0.2, `a collapsed network scores ${report.testAccuracy}`);
});

test('CLI: the methods and their flags', () => {
  assertUsageErrors([
    [['train', '--method', 'prune'], /--method: expected one of mpt, edgepopup, dense, imp, synflow, snip, magnitude, random, erk, gemminer, earlybird/],
    [['train', '--method', 'imp', '--prune-rounds', '3'], /--prune-rounds applies to synflow, snip, magnitude, not to imp/],
    [['train', '--method', 'synflow', '--rewind', '10'], /--rewind applies to imp, not to synflow/],
    [['train', '--method', 'imp', '--rounds', '0'], /--rounds: expected an integer >= 1, got '0'/],
    [['train', '--method', 'gemminer', '--finetune', 'last'], /--finetune applies to mpt and edgepopup, not to gemminer/],
    [['train', '--method', 'snip', '--tau', '0.1'], /--tau applies to mpt and edgepopup, not to snip/],
    [['train', '--tau', '0.1', '--mask', 'sort'], /--tau is a fixed threshold \(no top-k to sort\); it cannot be combined with --mask bitonic/],
    [['train', '--tau', '0.1', '--sparsity', '0.9'], /--tau is a fixed threshold: the sparsity follows the scores, so leave out --sparsity/],
  ]);
  const help = runCli(['train', '--help']).stdout;
  for (const flag of ['--rewind', '--rounds', '--output-rate', '--prune-rounds', '--prune-batches', '--gm-lambda', '--eb-l1', '--batchnorm'])
    assert.ok(help.includes(flag), `help mentions ${flag}`);
});
