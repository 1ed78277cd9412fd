// Resumable training: a run stopped mid-epoch (by a signal, or Ctrl-C in the CLI) and resumed
// from its last finished epoch ends exactly as the uninterrupted run (bit for bit on the CPU
// reference and wasm backends, within float tolerance on WebGPU), in score training and in
// fine-tuning, and for every pruning method at every kind of point: within a phase, and right
// after pruning, a round or a ticket.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEFAULT_OPTIONS, type TrainOptions, canResume, train } from '../src/train/train.js';
import { checkOptions, resolveOptions } from '../src/train/options.js';
import { type ResumeArgs, resumedOptions } from '../src/cli/args.js';
import { assertUsageErrors, runCli } from './cli.js';
import { gpuTest } from './devices.js';
import { assertClose } from './helpers.js';
import { readSafetensors } from '../src/io/safetensors.js';

const temporaryDir = (): string => mkdtempSync(join(tmpdir(), 'ticketgrad-resume-'));

/** What must agree: every epoch's metrics but their timings, and the saved model byte for byte. */
function outcome(dir: string): { metrics: unknown[]; model: Buffer; accuracy: number } {
  const metrics = readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => {
      const { seconds: _s, maskSeconds: _m, ...rest } = JSON.parse(line);
      return rest;
    });
  return { metrics, model: readFileSync(join(dir, 'model.safetensors')), accuracy: JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')).testAccuracy };
}

for (const backend of ['cpu', 'wasm'] as const) {
  test(`a run stopped mid-epoch and resumed ends bit for bit as the uninterrupted one, in training and in fine-tuning [${backend}]`, { timeout: 300_000 }, async () => {
    const options = (out: string): TrainOptions => ({
      ...DEFAULT_OPTIONS,
      backend,
      threads: backend === 'wasm' ? 2 : undefined,
      data: 'synthetic',
      trainSize: 300,
      width: 0.25,
      epochs: 3,
      batch: 64,
      alpha: 2,
      optimizer: 'adam',
      finetune: 'last',
      finetuneEpochs: 2,
      verbose: false,
      out,
    });
    const whole = join(temporaryDir(), 'whole');
    await train(options(whole));
    const expected = outcome(whole);
    assert.equal(expected.metrics.length, 5);

    // Stopped at step 2 of the given phase's epoch 2: the checkpoint holds that phase's epoch 1.
    for (const phase of ['train', 'finetune']) {
      const out = join(temporaryDir(), phase);
      const stop = new AbortController();
      const stopped = await train(
        options(out),
        {
          onStep: (s) => {
            if (s.phase === phase && s.epoch === 2 && s.step === 2) stop.abort();
          },
        },
        { signal: stop.signal },
      );
      assert.equal(stopped.stopped, true);
      assert.ok(existsSync(join(out, 'checkpoint.safetensors')));
      const resumed = await train(options(out), {}, { resume: true });
      assert.equal(resumed.stopped, undefined);
      const got = outcome(out);
      assert.deepEqual(got.metrics, expected.metrics, `${phase}: the same metrics, the cut-short epoch gone`);
      assert.equal(got.accuracy, expected.accuracy);
      assert.ok(got.model.equals(expected.model), `${phase}: the same model, byte for byte`);
    }
  });
}

/** report.json without timings (what a method adds included). */
function reportOf(dir: string): Record<string, unknown> {
  const { epochSeconds: _e, maskSeconds: _m, rounds, ...rest } = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
  return { ...rest, rounds: rounds?.map(({ seconds: _s, ...r }: { seconds: number }) => r) };
}

const PRUNING_RUNS: [string, Partial<TrainOptions>][] = [
  ['imp', { method: 'imp', sparsity: 0.75, rounds: 2, epochs: 2, rewind: 7 }],
  ['snip', { method: 'snip', sparsity: 0.8, epochs: 3 }],
  ['synflow', { method: 'synflow', sparsity: 0.8, pruneRounds: 3, epochs: 2 }],
  ['random', { method: 'random', sparsity: 0.8, epochs: 2 }],
  ['gemminer', { method: 'gemminer', sparsity: 0.8, epochs: 3, finetuneEpochs: 2 }],
  // Convolutions: on wasm, as the CPU reference's would take minutes.
  ['earlybird', { method: 'earlybird', model: 'conv2', width: 0.25, sparsity: 0.3, epochs: 6, finetuneEpochs: 2, backend: 'wasm', threads: 2 }],
];

for (const [name, given] of PRUNING_RUNS) {
  test(`${name}: stopped in any phase or round and resumed, the run ends as the uninterrupted one`, { timeout: 300_000 }, async () => {
    const options = (out: string): TrainOptions => ({
      ...resolveOptions({ data: 'synthetic', trainSize: 300, batch: 64, backend: 'cpu', width: 0.5, ...given }),
      verbose: false,
      out,
    });
    const whole = join(temporaryDir(), 'whole');
    await train(options(whole));
    const expected = { ...outcome(whole), report: reportOf(whole) };
    const epochs = expected.metrics as { phase: string; round?: number; epoch: number }[];
    const partOf = (m: { phase: string; round?: number }): string => `${m.phase} ${m.round ?? ''}`;
    // Resume from just before every phase or round (after a method's step between them) and from within the first phase.
    const stops = epochs.map((m, i) => (i > 0 && (partOf(m) !== partOf(epochs[i - 1]) || i === 1) ? m : null)).filter((m) => m !== null);
    assert.ok(stops.length >= 1, `stop points ${JSON.stringify(stops)}`);
    for (const at of stops) {
      const out = join(temporaryDir(), 'stopped');
      const stop = new AbortController();
      const stopped = await train(
        options(out),
        {
          onStep: (s) => {
            if (s.phase === at.phase && s.round === at.round && s.epoch === at.epoch && s.step === 2) stop.abort();
          },
        },
        { signal: stop.signal },
      );
      assert.equal(stopped.stopped, true, `stopped at ${JSON.stringify(at)}`);
      await train(options(out), {}, { resume: true });
      const got = { ...outcome(out), report: reportOf(out) };
      const where = `resumed before ${partOf(at)} epoch ${at.epoch}`;
      assert.deepEqual(got.metrics, expected.metrics, `${where}: the same metrics`);
      assert.deepEqual({ ...got.report, options: null }, { ...expected.report, options: null }, `${where}: the same report`);
      assert.ok(got.model.equals(expected.model), `${where}: the same model, byte for byte`);
    }
  });
}

test('CLI: Ctrl-C stops a run with exit code 130 and says how to continue; --resume finishes it; it takes only --quiet, --backend, --threads', { timeout: 300_000 }, async () => {
  const out = join(temporaryDir(), 'run');
  const args = ['train', '--data', 'synthetic', '--train-size', '600', '--width', '0.25', '--epochs', '12', '--backend', 'cpu', '--quiet', '--out', out];
  const child = spawn(process.execPath, [join('dist', 'src', 'cli', 'bin.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const code = await new Promise<number | null>((resolve) => {
    const poll = setInterval(() => {
      const lines = existsSync(join(out, 'metrics.jsonl')) ? readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').length : 0;
      if (lines >= 1) {
        clearInterval(poll);
        child.kill('SIGINT');
      }
    }, 20);
    child.on('exit', (c) => {
      clearInterval(poll);
      resolve(c);
    });
  });
  assert.equal(code, 130, stderr);
  assert.match(stderr, new RegExp(`continue with: ticketgrad train --resume ${out}`));
  assert.equal(JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')).stopped, true);

  assertUsageErrors([
    [['train', '--resume', out, '--epochs', '3'], /--resume continues a run with its own options: --epochs cannot be given with it/],
    [['train', '--resume', join(out, 'none')], /--resume .*none: no checkpoint\.safetensors there/],
  ]);
  const resumed = runCli(['train', '--resume', out, '--quiet']);
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.equal(readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').length, 12);
  assert.equal(JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')).stopped, undefined);
});

gpuTest(
  'a run stopped mid-epoch and resumed ends as the uninterrupted one within float tolerance, in training and in fine-tuning',
  async () => {
    const options = (out: string): TrainOptions => ({
      ...resolveOptions({ data: 'synthetic', trainSize: 300, batch: 64, epochs: 2, width: 0.25, alpha: 2, finetune: 'last', finetuneEpochs: 2, backend: 'webgpu' }),
      verbose: false,
      out,
    });
    const whole = join(temporaryDir(), 'whole');
    await train(options(whole));
    const expected = outcome(whole).metrics as Record<string, number>[];
    const expectedModel = readSafetensors(readFileSync(join(whole, 'model.safetensors'))).tensors;
    for (const phase of ['train', 'finetune']) {
      const out = join(temporaryDir(), phase);
      const stop = new AbortController();
      await train(options(out), { onStep: (s) => s.phase === phase && s.epoch === 2 && s.step === 2 && stop.abort() }, { signal: stop.signal });
      await train(options(out), {}, { resume: true });
      const got = outcome(out).metrics as Record<string, number>[];
      assert.equal(got.length, expected.length);
      got.forEach((m, i) => {
        for (const key of ['trainLoss', 'trainAccuracy', 'testAccuracy', 'lr', 'density']) {
          assert.ok(Math.abs(m[key] - expected[i][key]) <= 1e-4 * Math.max(1, Math.abs(expected[i][key])), `${phase}: epoch ${i + 1} ${key} ${m[key]} vs ${expected[i][key]}`);
        }
      });
      for (const [name, t] of Object.entries(readSafetensors(readFileSync(join(out, 'model.safetensors'))).tensors)) {
        assertClose(t.data, expectedModel[name].data, `${phase}: ${name}`, { rtol: 1e-4, atol: 1e-4 });
      }
    }
  },
  { label: '[webgpu]', timeout: 300_000 },
);

test('canResume: only a readable checkpoint trained with the same options (where it runs aside) can be continued', async () => {
  const out = join(temporaryDir(), 'run');
  const options: TrainOptions = { ...resolveOptions({ data: 'synthetic', trainSize: 200, batch: 64, epochs: 2, width: 0.25, backend: 'cpu' }), verbose: false, out };
  assert.equal(canResume(options), false, 'no run yet');
  const stop = new AbortController();
  await train(options, { onStep: (s) => s.epoch === 2 && stop.abort() }, { signal: stop.signal });
  assert.equal(canResume(options), true);
  assert.equal(canResume({ ...options, backend: 'wasm' }), true, 'another backend');
  assert.equal(canResume({ ...options, sparsity: 0.7 }), false, 'another sparsity');
  const file = join(out, 'checkpoint.safetensors');
  writeFileSync(file, readFileSync(file).subarray(0, 100));
  assert.equal(canResume(options), false, 'a damaged checkpoint');
});

test('a resumed run trains with its recorded options on the backend and threads given; its thread count goes only where threads apply', () => {
  const recorded: TrainOptions = { ...resolveOptions({ data: 'synthetic', backend: 'wasm', threads: 2 }), verbose: true, out: 'runs/x' };
  const resumed = (args: Omit<ResumeArgs, 'dir' | 'verbose'>): TrainOptions => checkOptions(resumedOptions(recorded, { dir: 'runs/x', verbose: false, ...args }));
  assert.deepEqual(resumed({}), { ...recorded, verbose: false });
  assert.deepEqual([resumed({ backend: 'cpu' }).backend, resumed({ backend: 'cpu' }).threads], ['cpu', undefined]);
  assert.equal(resumed({ backend: 'webgpu' }).threads, undefined);
  assert.equal(resumed({ backend: 'auto' }).threads, 2);
  assert.equal(resumed({ threads: 1 }).threads, 1);
  assert.throws(() => resumed({ backend: 'cpu', threads: 2 }), /--threads applies to --backend wasm \(or auto\), not to cpu/);
});
