// A GPU device lost in the middle of a run (a driver reset, an unplugged eGPU) ends the run with
// an error that says so; the checkpoint of its last finished epoch survives, and the run resumes
// from it on any backend. (Its own file: the test destroys this process's WebGPU device.)

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tg from '../src/index.js';
import { resolveOptions } from '../src/train/options.js';
import { type TrainOptions, train } from '../src/train/train.js';
import { gpuTest } from './devices.js';

gpuTest(
  'a lost device ends the run with an error; it resumes from its last finished epoch on another backend',
  async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'ticketgrad-lost-')), 'run');
    const options: TrainOptions = { ...resolveOptions({ data: 'synthetic', trainSize: 300, batch: 64, epochs: 3, width: 0.25, backend: 'webgpu' }), verbose: false, out };
    const loseDevice = (s: tg.StepInfo): void => {
      if (s.epoch === 2 && s.step === 2) (tg.getBackend('webgpu') as unknown as { device: { destroy(): void } }).device.destroy();
    };
    await assert.rejects(train(options, { onStep: loseDevice }), new RegExp(`WebGPU device lost.*\n.*ticketgrad train --resume ${out}\` continues from it`));
    assert.ok(existsSync(join(out, 'checkpoint.safetensors')), 'the checkpoint of epoch 1 is there');
    const saved = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n');
    assert.equal(saved.length, 1);
    const resumed = await train({ ...options, backend: 'cpu' }, {}, { resume: true });
    assert.equal(resumed.backend, 'cpu');
    assert.equal(resumed.metrics.length, 3);
    assert.deepEqual(resumed.metrics[0], JSON.parse(saved[0]), 'epoch 1 as the lost run recorded it');
    assert.ok(resumed.testAccuracy > 0.5, `test accuracy ${resumed.testAccuracy}`);
  },
  { label: '[webgpu, then cpu]' },
);
