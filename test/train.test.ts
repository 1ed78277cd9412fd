// End to end: a short multi-prize ticket run on real MNIST digits, the run directory it
// writes, and the CLI's handling of bad input.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertUsageErrors, runCli } from './cli.js';
import { readSafetensors } from '../src/io/safetensors.js';
import * as tg from '../src/index.js';
import { DEFAULT_OPTIONS, train } from '../src/train/train.js';
import { gpu } from './devices.js';

const backend: 'webgpu' | 'cpu' = gpu.available || gpu.required ? 'webgpu' : 'cpu';

test(`a short MPT run on 600 MNIST digits learns well above chance [${backend}]`, { timeout: 300_000 }, async () => {
  const out = mkdtempSync(join(tmpdir(), 'ticketgrad-run-'));
  const report = await train({
    ...DEFAULT_OPTIONS,
    backend,
    out,
    method: 'mpt',
    alpha: 2,
    mask: 'threshold',
    sparsity: 0.5,
    epochs: 3,
    batch: 64,
    trainSize: 600,
    verbose: false,
  });
  assert.ok(report.testAccuracy > 0.45, `test accuracy ${report.testAccuracy} after 3 epochs (chance is 0.1)`);
  assert.ok(Math.abs(report.sparsity - 0.5) < 1e-3, `sparsity ${report.sparsity}`);
  assert.equal(report.epochSeconds.length, 3);
  for (const f of ['report.json', 'metrics.jsonl', 'model.safetensors', 'loss.svg', 'accuracy.svg', 'scores.svg']) assert.ok(existsSync(join(out, f)), `${f} written`);
  const saved = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
  for (const key of ['testAccuracy', 'sparsity', 'layers', 'epochSeconds', 'maskSeconds', 'backend', 'adapter', 'options']) assert.ok(key in saved, `report.json has ${key}`);
  assert.equal(readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').length, 3);
  const { tensors } = readSafetensors(readFileSync(join(out, 'model.safetensors')));
  const masks = Object.keys(tensors).filter((k) => k.endsWith('.mask'));
  assert.equal(masks.length, 3, `one mask per prunable layer: ${Object.keys(tensors).join(', ')}`);
  for (const k of masks) assert.ok(tensors[k].data.every((v) => v === 0 || v === 1));
});

test('the CLI trains on the wasm backend with the threads asked for, and the report says so', { timeout: 120_000 }, () => {
  const out = mkdtempSync(join(tmpdir(), 'ticketgrad-wasm-'));
  const r = runCli(['train', '--backend', 'wasm', '--threads', '2', '--data', 'synthetic', '--train-size', '200', '--epochs', '1', '--quiet', '--out', out]);
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
  assert.equal(report.backend, 'wasm');
  assert.match(report.adapter, /^WebAssembly SIMD128.*, 2 threads$/);
});

test('fine-tuning the last layer trains its weights only, with every mask fixed [cpu]', { timeout: 120_000 }, async () => {
  const out = mkdtempSync(join(tmpdir(), 'ticketgrad-ft-'));
  await train({ ...DEFAULT_OPTIONS, backend: 'cpu', out, epochs: 1, batch: 64, trainSize: 256, finetune: 'last', finetuneEpochs: 1, finetuneLr: 0.05, verbose: false });
  const { tensors } = readSafetensors(readFileSync(join(out, 'model.safetensors')));
  const initial = tg.nn.createModel('lenet300', { mode: 'mpt', input: [1, 28, 28], classes: 10, seed: 1, initDensity: 0.5 });
  const layers = tg.nn.prunableLayers(initial);
  for (const [i, [name, layer]] of layers.entries()) {
    const before = await layer.weight.data();
    const after = tensors[`${name}.weight`].data;
    const changed = after.some((v, j) => v !== before[j]);
    assert.equal(changed, i === layers.length - 1, `${name}.weight ${changed ? 'changed' : 'unchanged'}`);
  }
  const metrics = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.deepEqual(
    metrics.map((m) => [m.phase, m.density]),
    [
      ['train', 0.5],
      ['finetune', 0.5],
    ],
  );
  initial.dispose();
});

test(`a run that fails frees its model; a wrong --dense-run fails before any training [${backend}]`, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ticketgrad-fail-'));
  const base = { ...DEFAULT_OPTIONS, backend, epochs: 1, batch: 64, trainSize: 128, verbose: false };
  await tg.init({ backend });
  // (The CPU backend's counts follow the garbage collector: only the device's are exact.)
  const liveBytes = (): number | null => (backend === 'webgpu' ? tg.memory().liveBytes : null);
  const before = liveBytes();
  // --out is a file: the run fails after the model is built.
  const file = join(dir, 'not-a-directory');
  writeFileSync(file, '');
  await assert.rejects(train({ ...base, out: join(file, 'run') }), /--out .*not-a-directory is a file, not a directory/);
  assert.equal(liveBytes(), before);
  const started = performance.now();
  await assert.rejects(train({ ...base, out: join(dir, 'run'), denseRun: join(dir, 'missing') }), /--dense-run .*missing: .*report\.json: cannot read it \(ENOENT\)/);
  assert.equal(existsSync(join(dir, 'run')), false, 'nothing written');
  assert.ok(performance.now() - started < 5000);
  tg.setBackend('cpu');
});

test('a diverging run stops with the reason instead of training on NaN [cpu]', async () => {
  const out = mkdtempSync(join(tmpdir(), 'ticketgrad-nan-'));
  await assert.rejects(
    train({ ...DEFAULT_OPTIONS, backend: 'cpu', out, method: 'dense', data: 'synthetic', lr: 1e30, momentum: 0, epochs: 1, batch: 64, trainSize: 128, verbose: false }),
    // The loss treats infinite logits as the largest float32, so the weights may be what shows it.
    /train epoch 1, step 2: (the training loss is (NaN|Infinity)|layer \d+'s weights hold NaN or infinite values): training diverged/,
  );
});

test('--schedule step never decays at the first epoch nor twice at one [cpu]', async () => {
  for (const [epochs, expected] of [
    [1, [1]],
    [2, [1, 0.1]],
    [4, [1, 1, 0.1, 0.01]],
  ] as const) {
    const out = mkdtempSync(join(tmpdir(), 'ticketgrad-step-'));
    await train({ ...DEFAULT_OPTIONS, backend: 'cpu', out, method: 'dense', data: 'synthetic', lr: 0.01, schedule: 'step', epochs, batch: 64, trainSize: 64, verbose: false });
    const lrs = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).lr / 0.01);
    assert.deepEqual(
      lrs.map((x) => Number(x.toPrecision(6))),
      expected,
      `${epochs} epochs`,
    );
  }
});

test('CLI: a bad flag or value is one clear line and exit code 2', () => {
  assertUsageErrors([
    [['train', '--sparsity', '1.5'], /--sparsity: expected a number in \[0, 1\), got '1.5'/],
    [['train', '--model', 'vgg'], /--model: expected one of lenet300/],
    [['train', '--bogus', '1'], /Unknown option '--bogus'/],
    [['train', '--epochs', '0'], /--epochs: expected an integer >= 1, got '0'/],
    // parseArgs's own error, with its hint, on one line; the hinted form then reaches the check.
    [['train', '--width', '-1'], /--width: expected a number in \(0, 64\], got '-1'/],
    [['train', '--width=-1'], /--width: expected a number in \(0, 64\], got '-1'/],
    [['train', '--width', '1e9'], /--width: expected a number in \(0, 64\], got '1e9'/],
    [['train', '--epochs', '0x10'], /--epochs: expected an integer >= 1, got '0x10'/],
    [['train', '--seed', '4294967297'], /--seed: expected an integer in \[0, 4294967295\]/],
    [['train', '--init-scale', 'fan'], /--init-scale: expected one of density, none/],
    [['train', '--method', 'dense', '--finetune', 'last'], /--finetune applies to mpt and edgepopup/],
    [['train', '--backend', 'tpu'], /--backend: expected one of auto, webgpu, wasm, cpu, got 'tpu'/],
    [['train', '--threads', '0'], /--threads: expected an integer in \[1, 256\], got '0'/],
    [['train', '--threads', '2.5'], /--threads: expected an integer in \[1, 256\], got '2.5'/],
    [['train', '--backend', 'cpu', '--threads', '2'], /--threads applies to --backend wasm \(or auto\), not to cpu/],
    [['infer', 'x.tgt', '--backend', 'wasm', '--threads', 'many'], /infer: --threads: expected an integer in \[1, 256\], got 'many'/],
    [['fly'], /unknown command 'fly'/],
  ]);
});

test('CLI: --help documents every flag', () => {
  const r = runCli(['train', '--help']);
  assert.equal(r.status, 0);
  for (const flag of [
    '--model',
    '--data',
    '--method',
    '--sparsity',
    '--scope',
    '--mask',
    '--tau',
    '--alpha',
    '--epochs',
    '--batch',
    '--lr',
    '--optimizer',
    '--schedule',
    '--finetune',
    '--finetune-epochs',
    '--finetune-lr',
    '--width',
    '--train-size',
    '--seed',
    '--backend',
    '--threads',
    '--out',
  ]) {
    assert.ok(r.stdout.includes(flag), `help mentions ${flag}`);
  }
});
