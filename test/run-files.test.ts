// Nothing lost, nothing silently wrong: a run directory belongs to one run, files are replaced
// atomically, no command writes over what it reads, and bad input is a clear error.

import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as tg from '../src/index.js';
import { writeFileAtomic } from '../src/io/files.js';
import { holdOut } from '../src/data/dataset.js';
import { loadSynthetic } from '../src/data/synthetic.js';
import { assertUsageErrors, runCli } from './cli.js';

const QUICK = ['--data', 'synthetic', '--train-size', '200', '--epochs', '1', '--quiet', '--backend', 'cpu', '--width', '0.25'];
const temporaryDir = (): string => mkdtempSync(join(tmpdir(), 'ticketgrad-files-'));

test('a run directory belongs to one run: another run there is refused, --overwrite replaces it with none of its files left', () => {
  const out = join(temporaryDir(), 'run');
  const first = runCli(['train', ...QUICK, '--method', 'mpt', '--out', out]);
  assert.equal(first.status, 0, first.stderr);
  assert.ok(existsSync(join(out, 'scores.svg')));
  const report = readFileSync(join(out, 'report.json'), 'utf8');

  const again = runCli(['train', ...QUICK, '--method', 'dense', '--out', out]);
  assert.equal(again.status, 2, again.stderr);
  assert.match(again.stderr, /--out .* holds another run \(report\.json, metrics\.jsonl, model\.safetensors, .*\): give another --out, or --overwrite/);
  assert.equal(readFileSync(join(out, 'report.json'), 'utf8'), report, 'the refused run changed nothing');

  const replaced = runCli(['train', ...QUICK, '--method', 'dense', '--out', out, '--overwrite']);
  assert.equal(replaced.status, 0, replaced.stderr);
  assert.equal(JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')).options.method, 'dense');
  assert.ok(!existsSync(join(out, 'scores.svg')), "the old run's score histogram is gone");
  assert.deepEqual(
    readdirSync(out).filter((f) => f.endsWith('.tmp')),
    [],
    'no temporary file left',
  );
});

test('bad flags are usage errors naming the flag: an empty --out, a flag given twice, a negative number, --data-dir without cifar10', () => {
  assertUsageErrors([
    [['train', '--out', ''], /--out: expected a directory, got an empty string/],
    [['train', '--epochs', '2', '--epochs', '3'], /--epochs is given twice/],
    [['train', '--sparsity', '-0.5'], /--sparsity: expected a number in \[0, 1\), got '-0.5'/],
    [['train', '--data-dir', '/tmp'], /--data-dir applies to --data cifar10, not to mnist/],
    [['sweep', '--out', '', '--grid', 'alpha=1,2'], /sweep: --out: expected a directory, got an empty string/],
    [['analyze', 'x', 'y'], /analyze: expected one run directory or file, got 2/],
    [['export', 'dist', '--out', 'a.tgt', '--out', 'b.tgt'], /--out is given twice/],
  ]);
  const tooMany = runCli(['train', ...QUICK.slice(0, 2), '--train-size', '99999', '--epochs', '1', '--quiet', '--backend', 'cpu', '--out', join(temporaryDir(), 'r')]);
  assert.equal(tooMany.status, 1);
  assert.match(tooMany.stderr, /--train-size 99999: the synthetic training set has 2000 examples/);
});

test('analyze never writes over its inputs, names a damaged report.json, and says when a layer collapsed', () => {
  const out = join(temporaryDir(), 'run');
  assert.equal(runCli(['train', ...QUICK, '--out', out]).status, 0);
  const checkpoint = readFileSync(join(out, 'model.safetensors'));
  for (const input of ['model.safetensors', 'report.json']) {
    const r = runCli(['analyze', out, '--svg', join(out, input)]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /--svg .* is an input of this command/);
  }
  assert.deepEqual(readFileSync(join(out, 'model.safetensors')), checkpoint);

  const file = join(temporaryDir(), 'model.safetensors');
  writeFileSync(file, checkpoint);
  const alone = runCli(['analyze', file]);
  assert.equal(alone.status, 0, alone.stderr);
  assert.doesNotMatch(alone.stdout, /report\.json/, 'no report to update, and none said to be updated');

  const { tensors, metadata } = tg.sparse.readSafetensors(checkpoint);
  const mask = Object.keys(tensors).find((k) => k.endsWith('.mask'));
  assert.ok(mask);
  tensors[mask].data.fill(0);
  writeFileSync(file, tg.sparse.writeSafetensors(tensors, metadata));
  const collapsed = runCli(['analyze', file]);
  assert.equal(collapsed.status, 0, collapsed.stderr);
  assert.match(collapsed.stdout, /warning: layer \d+ has density 0 \(every weight pruned\): layer collapse/);
  assert.doesNotMatch(collapsed.stdout, /n\/ax/);

  // Values read back are range-checked: a mask holds only 0 and 1, alpha is finite and > 0.
  tensors[mask].data[3] = 0.5;
  writeFileSync(file, tg.sparse.writeSafetensors(tensors, metadata));
  const half = runCli(['analyze', file]);
  assert.equal(half.status, 1);
  assert.match(half.stderr, /holds 0\.5 at index 3; a mask holds only 0 and 1/);
  tensors[mask].data.fill(1);
  const alpha = Object.keys(tensors).find((k) => k.endsWith('.alpha'));
  assert.ok(alpha);
  tensors[alpha].data[0] = -1;
  writeFileSync(file, tg.sparse.writeSafetensors(tensors, { ...metadata, method: 'mpt' }));
  const negative = runCli(['export', file, '--out', join(temporaryDir(), 't.tgt')]);
  assert.equal(negative.status, 1);
  assert.match(negative.stderr, /alpha is -1; the scale of binary weights must be a finite number > 0/);

  writeFileSync(join(out, 'report.json'), '{ "truncated": ');
  const damaged = runCli(['analyze', out]);
  assert.equal(damaged.status, 1);
  assert.match(damaged.stderr, /report\.json: not valid JSON/);
  const asDir = join(temporaryDir(), 'run2');
  mkdirSync(join(asDir, 'report.json'), { recursive: true });
  writeFileSync(join(asDir, 'model.safetensors'), checkpoint);
  assert.match(runCli(['analyze', asDir]).stderr, /report\.json: cannot read it \(EISDIR\)/);
});

test('scores that turn NaN or infinite stop training with the layer that holds them, although the loss stays finite', () => {
  const unbounded = ['--alpha', '4', '--score-bound', 'none', '--lr', '1e30'];
  const r = runCli(['train', ...unbounded, '--train-size', '500', '--epochs', '2', '--quiet', '--backend', 'cpu', '--out', join(temporaryDir(), 'r')]);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /train epoch 1, step 4: layer \d+'s scores hold NaN or infinite values: training diverged/);
});

test('a sweep directory keeps its grid: a grid that drops cells is refused, naming both; extending an axis is allowed; --overwrite starts over', () => {
  const out = join(temporaryDir(), 'sweep');
  const sweep = (...args: string[]) => runCli(['sweep', '--out', out, ...args, ...QUICK]);
  assert.equal(sweep('--grid', 'alpha=1,2').status, 0);
  const extended = sweep('--grid', 'alpha=1,2,4');
  assert.equal(extended.status, 0, 'values added to an axis lose nothing');
  assert.match(extended.stdout, /2 finished before, 1 to run/);
  const other = sweep('--grid', 'alpha=1,3');
  assert.equal(other.status, 2, other.stderr);
  assert.match(other.stderr, /holds a sweep of another grid \(grid alpha=1,2,4 recorded, alpha=1,3 asked for\)/);
  assert.ok(existsSync(join(out, 'cells', 'alpha=2')), 'nothing deleted');
  const replaced = sweep('--grid', 'alpha=1,3', '--overwrite');
  assert.equal(replaced.status, 0, replaced.stderr);
  assert.deepEqual(readdirSync(join(out, 'cells')).sort(), ['alpha=1', 'alpha=3']);
});

test('writeFileAtomic replaces a file whole and leaves no temporary file', () => {
  const dir = temporaryDir();
  const path = join(dir, 'report.json');
  writeFileSync(path, 'old');
  writeFileAtomic(path, new Uint8Array([110, 101, 119]));
  assert.equal(readFileSync(path, 'utf8'), 'new');
  assert.deepEqual(readdirSync(dir), ['report.json']);
});

test('tg.scope(async fn): the error reaches the caller, and the abandoned promise does not end the process', async () => {
  assert.throws(
    () =>
      tg.scope(async () => {
        throw new Error('inside');
      }),
    /fn must be synchronous/,
  );
  // An unhandled rejection would fail this test file.
  await new Promise((resolve) => setTimeout(resolve, 20));
});

test('a ticket records its data set: infer scores it on that test set and refuses another; a version 1 file still loads', () => {
  const dir = temporaryDir();
  const run = join(dir, 'run');
  assert.equal(runCli(['train', ...QUICK, '--out', run]).status, 0);
  const ticket = join(dir, 'ticket.tgt');
  assert.equal(runCli(['export', run, '--out', ticket]).status, 0);
  const saved = tg.sparse.readTgt(readFileSync(ticket));
  assert.equal(saved.spec.data, 'synthetic');
  assert.equal(saved.spec.dataSeed, 1);
  const r = runCli(['infer', ticket, '--backend', 'cpu']);
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(readFileSync(join(run, 'report.json'), 'utf8'));
  const accuracy = Number(/compact +accuracy ([\d.]+)%/.exec(r.stdout)?.[1]) / 100;
  assert.ok(Math.abs(accuracy - report.testAccuracy) < 0.011, `infer ${accuracy} vs the run's ${report.testAccuracy}: the same test set`);
  assertUsageErrors([[['infer', ticket, '--data', 'mnist'], /was trained on synthetic; --data mnist would score it on another data set/]]);

  // Version 1: the same bytes with the version word set to 1 (the checksum covers header and payload only).
  const bytes = readFileSync(ticket);
  bytes.writeUInt32LE(1, 4);
  assert.equal(tg.sparse.readTgt(bytes).spec.model, saved.spec.model);
  const negative = { ...saved, layers: saved.layers.map((l, i) => (i === 0 ? { ...l, alpha: -2 } : l)) };
  assert.throws(() => tg.sparse.readTgt(tg.sparse.writeTgt(negative)), /"alpha" is -2, expected a finite number > 0 \(float32\)/);
  bytes.writeUInt32LE(3, 4);
  assert.throws(() => tg.sparse.readTgt(bytes), /format version 3; this ticketgrad reads versions 1 and 2/);
});

test('--val-size holds out the last training examples: valAccuracy per epoch and in the report; never the training examples, whatever --train-size', () => {
  const split = loadSynthetic({ seed: 1 });
  const a = holdOut(split, 300, 500);
  const b = holdOut(split, 300);
  assert.deepEqual([a.train.count, a.val?.count, b.train.count], [500, 300, split.train.count - 300]);
  assert.deepEqual(a.val?.labels, b.val?.labels, 'the same validation examples with and without --train-size');
  assert.deepEqual(a.val?.images, split.train.images.subarray((split.train.count - 300) * 784), 'the last 300 training examples');
  assert.equal(holdOut(split, 0).val, undefined);
  assert.throws(() => holdOut(split, 300, 1800, 'synthetic'), /--train-size 1800: the synthetic training set has 2000 examples, 1700 after --val-size 300/);
  assert.throws(() => holdOut(split, 2000, undefined, 'synthetic'), /--val-size 2000: expected an integer in \[0, 1999\]/);

  const out = join(temporaryDir(), 'run');
  const run = runCli(['train', ...QUICK, '--val-size', '200', '--out', out]);
  assert.equal(run.status, 0, run.stderr);
  const metrics = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
  assert.ok(
    metrics.every((m) => m.valAccuracy >= 0 && m.valAccuracy <= 1),
    JSON.stringify(metrics),
  );
  const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
  assert.equal(report.valAccuracy, metrics[metrics.length - 1].valAccuracy);
  assert.equal(report.options.valSize, 200);
  assert.match(run.stdout, /val accuracy\s+\d+\.\d\d%/);
  assertUsageErrors([[['train', '--val-size', '-1'], /--val-size: expected an integer >= 0, got '-1'/]]);
});

test("--lr-scaling none trains every alpha at alpha 1's learning rate; it applies to score training only", () => {
  const lrOf = (...flags: string[]): number => {
    const out = join(temporaryDir(), 'run');
    const run = runCli(['train', ...QUICK, ...flags, '--out', out]);
    assert.equal(run.status, 0, run.stderr);
    return JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')).options.lr;
  };
  const alpha1 = lrOf('--alpha', '1');
  assert.equal(lrOf('--alpha', '3', '--lr-scaling', 'none'), alpha1);
  assert.notEqual(lrOf('--alpha', '3'), alpha1, 'scaled for alpha 3 by default');
  assertUsageErrors([
    [['train', '--method', 'dense', '--lr-scaling', 'none'], /--lr-scaling applies to mpt, edgepopup, not to dense/],
    [['train', '--lr-scaling', 'layer'], /--lr-scaling: expected one of alpha, none, got 'layer'/],
  ]);
});
