// Resumable training: a run stopped mid-epoch (by a signal, or Ctrl-C in the CLI) and resumed
// from its last finished epoch ends exactly as the uninterrupted run (bit for bit on the CPU
// reference and wasm backends), in score training and in fine-tuning.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEFAULT_OPTIONS, type TrainOptions, train } from '../src/train/train.js';
import { assertUsageErrors, runCli } from './cli.js';

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
