// ticketgrad analyze / export / infer end to end on a small trained mpt ticket (CPU backend,
// a few hundred MNIST digits): the report gains zeroKernelFraction and accelerationRate, the
// .tgt file is >= 16x smaller than the float32 weights, and infer reproduces the run's test
// accuracy from it; damaged files and non-binary tickets are one clear error line.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCli } from './cli.js';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSafetensors, writeSafetensors } from '../src/io/safetensors.js';

const cli = (...args: string[]) => runCli(args);
const dir = mkdtempSync(join(tmpdir(), 'tickets-'));
const quick = ['--width', '0.25', '--train-size', '300', '--epochs', '1', '--batch', '100', '--backend', 'cpu', '--quiet'];

test('train -> analyze -> export -> infer reproduces the test accuracy from a .tgt file', { timeout: 300_000 }, () => {
  const run = join(dir, 'mpt');
  const train = cli('train', '--model', 'lenet300', '--method', 'mpt', '--sparsity', '0.7', ...quick, '--out', run);
  assert.equal(train.status, 0, train.stderr);
  const before = JSON.parse(readFileSync(join(run, 'report.json'), 'utf8'));
  assert.equal(before.zeroKernelFraction, null, 'lenet300 has no k x k kernels');
  assert.ok(Math.abs(before.accelerationRate - 1 / 0.3) < 0.01, `AR of a linear-only ticket is 1/density: ${before.accelerationRate}`);

  const analyze = cli('analyze', run);
  assert.equal(analyze.status, 0, analyze.stderr);
  assert.match(analyze.stdout, /acceleration rate \(Eq\. 4\)\s+3\.33\dx/);
  assert.ok(existsSync(join(run, 'zero-kernels.svg')));

  const tgt = join(dir, 'model.tgt');
  const exported = cli('export', run, '--out', tgt);
  assert.equal(exported.status, 0, exported.stderr);
  const ratio = Number(/\(([\d.]+)x smaller\)/.exec(exported.stdout)?.[1]);
  assert.ok(ratio >= 16, exported.stdout);

  const infer = cli('infer', tgt, '--data', 'mnist', '--backend', 'cpu');
  assert.equal(infer.status, 0, infer.stderr);
  const accuracy = Number(/compact\s+accuracy ([\d.]+)%/.exec(infer.stdout)?.[1]);
  assert.ok(Math.abs(accuracy - 100 * before.testAccuracy) <= 0.1, `infer ${accuracy}% vs the run's ${100 * before.testAccuracy}%`);
  assert.match(infer.stdout, /images\/s/);

  const damaged = readFileSync(tgt);
  damaged[damaged.length >> 1] ^= 0x10;
  writeFileSync(join(dir, 'damaged.tgt'), damaged);
  const bad = cli('infer', join(dir, 'damaged.tgt'), '--data', 'mnist', '--backend', 'cpu');
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /damaged\.tgt: corrupt: the CRC-32 checksum does not match/);
  writeFileSync(join(dir, 'short.tgt'), damaged.subarray(0, 100));
  assert.match(cli('infer', join(dir, 'short.tgt'), '--data', 'mnist').stderr, /short\.tgt: truncated/);
});

test('a ticket with BatchNorm exports and infers (the .tgt records it); export never overwrites the run', { timeout: 300_000 }, () => {
  const run = join(dir, 'mpt-bn');
  const train = cli('train', '--model', 'lenet300', '--method', 'mpt', '--batchnorm', ...quick, '--out', run);
  assert.equal(train.status, 0, train.stderr);
  const report = JSON.parse(readFileSync(join(run, 'report.json'), 'utf8'));
  const tgt = join(dir, 'bn.tgt');
  assert.equal(cli('export', run, '--out', tgt).status, 0);
  // readFileSync's Buffer shares one ArrayBuffer with the whole file: the running statistics
  // must come out as their own values.
  const infer = cli('infer', tgt, '--backend', 'cpu');
  assert.equal(infer.status, 0, infer.stderr);
  const accuracy = Number(/compact\s+accuracy ([\d.]+)%/.exec(infer.stdout)?.[1]);
  assert.ok(Math.abs(accuracy - 100 * report.testAccuracy) <= 0.1, `infer ${accuracy}% vs the run's ${100 * report.testAccuracy}%`);

  const checkpoint = readFileSync(join(run, 'model.safetensors'));
  for (const out of [join(run, 'model.safetensors'), join(run, 'report.json')]) {
    const r = cli('export', run, '--out', out);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /export: --out .* (is the checkpoint being read|would overwrite the run's own report\.json)/);
  }
  assert.deepEqual(readFileSync(join(run, 'model.safetensors')), checkpoint, 'the checkpoint is intact');
  const onDir = cli('infer', run);
  assert.equal(onDir.status, 2);
  assert.match(onDir.stderr, /infer: .* is a directory; infer reads a \.tgt file/);
  // An impossible --out fails at once (Node's recursive mkdir never returns under /proc).
  const proc = cli('train', ...quick, '--out', '/proc/ticketgrad-no/run');
  assert.equal(proc.status, 2);
  assert.match(proc.stderr, /--out \/proc\/ticketgrad-no\/run: cannot create the directory \/proc\/ticketgrad-no/);
});

test('export refuses a non-binary ticket; analyze works on any method', { timeout: 300_000 }, () => {
  const run = join(dir, 'edgepopup');
  const train = cli('train', '--model', 'conv2', '--method', 'edgepopup', '--sparsity', '0.9', '--width', '0.125', '--train-size', '100', '--epochs', '1', '--quiet', '--out', run);
  assert.equal(train.status, 0, train.stderr);
  const report = JSON.parse(readFileSync(join(run, 'report.json'), 'utf8'));
  assert.ok(report.zeroKernelFraction > 0.2, `conv layers at 90% sparsity have zero kernels: ${report.zeroKernelFraction}`);
  assert.equal(cli('analyze', join(run, 'model.safetensors')).status, 0);
  const exported = cli('export', run, '--out', join(dir, 'x.tgt'));
  assert.equal(exported.status, 1);
  assert.match(exported.stderr, /needs binary weights \(--method mpt\); this checkpoint is 'edgepopup'/);
  assert.equal(cli('export', run).status, 2);
});

test('export refuses a checkpoint whose spec does not build its layers (another class count, model or width), naming both', { timeout: 300_000 }, () => {
  const run = join(dir, 'mpt');
  const { tensors, metadata } = readSafetensors(readFileSync(join(run, 'model.safetensors')));
  const spec = JSON.parse(metadata.spec);
  for (const [name, changed] of [
    ['classes', { ...spec, classes: 5 }],
    ['model', { ...spec, model: 'conv2' }],
    ['width', { ...spec, width: 0.5 }],
  ] as const) {
    const file = join(dir, `wrong-${name}.safetensors`);
    writeFileSync(file, writeSafetensors(tensors, { ...metadata, spec: JSON.stringify(changed) }));
    const result = cli('export', file, '--out', join(dir, `wrong-${name}.tgt`));
    assert.equal(result.status, 1, `export with another ${name}`);
    assert.match(result.stderr, new RegExp(`wrong-${name}\\.safetensors: the metadata's spec \\(.*\\) does not fit its layers: .*layer`));
    assert.ok(!existsSync(join(dir, `wrong-${name}.tgt`)));
  }
});
