// The training loop every front end runs (tg.trainModel): its listener's events, the stop
// signal, and the one options resolver the CLI, the sweeps and the page share.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tg from '../src/index.js';
import { forEachDevice } from './devices.js';
import fc from 'fast-check';
import { parseTrainArgs } from '../src/cli/args.js';
import { NUMBER_RULES, flagOf } from '../src/train/options.js';

const split = tg.data.loadSynthetic({ train: 300, test: 100, seed: 3 });

function quiet(given: Partial<tg.RunOptions>): tg.RunOptions {
  return tg.resolveOptions({ model: 'lenet300', data: 'synthetic', width: 0.25, epochs: 2, batch: 64, verbose: false, ...given });
}

forEachDevice('trainModel: the listener sees start, each epoch start, every step (values every readEvery steps and at the last) and each epoch', async () => {
  const events: string[] = [];
  const steps: tg.StepInfo[] = [];
  const { model, report } = await tg.trainModel(quiet({ method: 'mpt', alpha: 2 }), split, {
    listener: {
      readEvery: 2,
      onStart: ({ lr, stepsPerEpoch }) => events.push(`start ${stepsPerEpoch} ${lr > 0}`),
      onEpochStart: ({ phase, epoch, epochs, steps }) => events.push(`${phase} ${epoch}/${epochs} (${steps})`),
      onStep: (s) => steps.push(s),
      onEpoch: (m, model) => {
        assert.equal(tg.nn.prunableLayers(model).length, 3);
        events.push(`epoch ${m.epoch} test ${m.testAccuracy >= 0}`);
      },
      onLog: (line) => events.push(line.startsWith('ticketgrad train: lenet300 on synthetic') ? 'log' : line),
    },
  });
  model.dispose();
  // 300 examples in batches of 64: 5 steps per epoch.
  assert.deepEqual(events, ['log', 'start 5 true', 'train 1/2 (5)', 'epoch 1 test true', 'train 2/2 (5)', 'epoch 2 test true']);
  assert.equal(steps.length, 10);
  assert.deepEqual(
    steps.map((s) => s.loss !== undefined),
    [false, true, false, true, true, false, true, false, true, true],
  );
  for (const s of steps.filter((s) => s.loss !== undefined)) {
    assert.ok(Number.isFinite(s.loss) && Number.isFinite(s.meanLoss) && s.meanAccuracy! >= 0 && s.meanAccuracy! <= 1, JSON.stringify(s));
  }
  // The last read of an epoch is that epoch's mean, which the metrics record.
  assert.ok(Math.abs(steps[4].meanLoss! - report.metrics[0].trainLoss) < 1e-6 * Math.max(1, report.metrics[0].trainLoss));
  assert.equal(steps[4].meanAccuracy, report.metrics[0].trainAccuracy);
  assert.equal(report.metrics.length, 2);
  assert.equal(report.stopped, undefined);
  assert.equal(report.testAccuracy, report.metrics[1].testAccuracy);
  assert.ok(Math.abs(report.sparsity - 0.5) < 1e-2, `sparsity ${report.sparsity}`);
});

test('trainModel: an aborted signal ends the run after the current step; the partial epoch is evaluated and the report says stopped', async () => {
  for (const [method, extra] of [
    ['mpt', { finetune: 'last', finetuneEpochs: 2 }],
    ['imp', { sparsity: 0.8 }],
  ] as const) {
    const stop = new AbortController();
    let taken = 0;
    const { model, report } = await tg.trainModel(quiet({ method, ...extra }), split, {
      signal: stop.signal,
      listener: {
        onStep: () => {
          if (++taken === 7) stop.abort();
        },
      },
    });
    model.dispose();
    assert.equal(taken, 7, `${method}: no step after the abort`);
    assert.equal(report.stopped, true);
    // Epoch 1 (5 steps) and the 2 steps of epoch 2, evaluated; no fine-tuning, no further IMP round.
    assert.deepEqual(
      report.metrics.map((m) => [m.phase, m.epoch]),
      [
        ['train', 1],
        ['train', 2],
      ],
      method,
    );
    if (method === 'imp') assert.equal(report.rounds?.length, 1);
    assert.equal(report.testAccuracy, report.metrics[1].testAccuracy);
  }
  const stop = new AbortController();
  stop.abort();
  const { model, report } = await tg.trainModel(quiet({ method: 'dense' }), split, { signal: stop.signal });
  model.dispose();
  assert.deepEqual(report.metrics, [], 'aborted before the first step: nothing trained');
  assert.equal(report.stopped, true);
});

test("resolveOptions: the defaults of ticketgrad train, with the method's own scope and fine-tuning rate", () => {
  const mpt = tg.resolveOptions({});
  assert.deepEqual({ ...mpt }, { ...tg.DEFAULT_OPTIONS });
  assert.equal(tg.resolveOptions({ method: 'synflow' }).scope, 'global');
  assert.equal(tg.resolveOptions({ method: 'erk' }).scope, 'layer');
  assert.equal(tg.resolveOptions({ method: 'gemminer' }).finetuneLr, 0.01);
  assert.equal(tg.resolveOptions({ method: 'earlybird' }).finetuneLr, 0.05);
  assert.equal(tg.resolveOptions({ method: 'earlybird' }).batchNorm, true);
  assert.equal(tg.resolveOptions({ method: 'mpt', finetuneLr: 0.2, scope: 'global', lr: undefined }).finetuneLr, 0.2, 'given values win; undefined is not given');
  assert.equal(tg.resolveOptions({ method: 'mpt', lr: undefined }).lr, undefined);
});

test('resolveOptions: options another method would ignore, and combinations that cannot run, are errors naming the flag', () => {
  const cases: [Partial<tg.RunOptions>, RegExp][] = [
    [{ method: 'mpt', rewind: 0 }, /--rewind applies to imp, not to mpt$/],
    [{ method: 'dense', pruneRounds: 3 }, /--prune-rounds applies to synflow, snip, magnitude, not to dense$/],
    [{ method: 'imp', ebL1: 1e-3 }, /--eb-l1 applies to earlybird, not to imp$/],
    [{ method: 'dense', alpha: 3 }, /--alpha applies to mpt, edgepopup, not to dense$/],
    [{ method: 'dense', mask: 'bitonic' }, /--mask applies to mpt, edgepopup, imp, .*, not to dense$/],
    [{ method: 'dense', scope: 'global' }, /--scope applies to mpt, edgepopup, imp, .*, not to dense$/],
    [{ method: 'imp', initScale: 'none' }, /--init-scale applies to mpt, edgepopup, not to imp$/],
    [{ method: 'erk', scope: 'global' }, /--scope applies to mpt, edgepopup, imp, synflow, snip, magnitude, random, gemminer, earlybird, not to erk$/],
    [{ method: 'imp', rampEpochs: 3 }, /--ramp-epochs applies to mpt, edgepopup, not to imp$/],
    [{ method: 'dense', finetuneEpochs: 2 }, /--finetune-epochs applies to mpt, edgepopup, gemminer, earlybird, not to dense$/],
    [{ method: 'synflow', finetuneLr: 0.01 }, /--finetune-lr applies to mpt, edgepopup, gemminer, earlybird, not to synflow$/],
    [{ method: 'gemminer', scope: 'layer' }, /--method gemminer selects globally; --scope layer does not apply$/],
    [{ tau: 0.1, sparsity: 0.5 }, /leave out --sparsity/],
    [{ tau: 0.1, scope: 'global' }, /cannot be combined with --scope global/],
    [{ tau: 0.1, mask: 'bitonic' }, /cannot be combined with --mask bitonic/],
    [{ method: 'imp', tau: 0.1 }, /--tau applies to mpt and edgepopup, not to imp$/],
    [{ method: 'snip', finetune: 'last' }, /--finetune applies to mpt and edgepopup, not to snip$/],
    [{ method: 'gemminer', alpha: 2 }, /--alpha applies to mpt, edgepopup, not to gemminer$/],
    [{ data: 'cifar10' }, /--data cifar10 needs --data-dir DIR$/],
    [{ backend: 'cpu', threads: 2 }, /--threads applies to --backend wasm \(or auto\), not to cpu$/],
    // A library caller's misspelt choice (the CLI's parser catches it too) must not fall through to another.
    [{ schedule: 'cosin' as 'cosine' }, /--schedule: expected one of cosine, step, constant, got "cosin"$/],
    [{ optimizer: 'Adam' as 'adam' }, /--optimizer: expected one of sgd, adam, got "Adam"$/],
    [{ finetune: 'lst' as 'last' }, /--finetune: expected one of none, last, first, full, got "lst"$/],
    [{ method: 'mtp' as 'mpt' }, /--method: expected one of mpt, edgepopup, .*, got "mtp"$/],
    [{ lrScaling: 'None' as 'none' }, /--lr-scaling: expected one of alpha, none, got "None"$/],
    [{ scope: 'Global' as 'global' }, /--scope: expected one of layer, global, got "Global"$/],
    [{ mask: 'sort' as 'bitonic' }, /--mask: expected one of bitonic, threshold, got "sort"$/],
    [{ initScale: 'kaiming' as 'none' }, /--init-scale: expected one of density, none, got "kaiming"$/],
    [{ model: 'conv5' as 'conv4' }, /--model: expected one of lenet300, conv2, .*, got "conv5"$/],
    [{ data: 'fashion' as 'mnist' }, /--data: expected one of mnist, cifar10, synthetic, got "fashion"$/],
    [{ backend: 'gpu' as 'webgpu' }, /--backend: expected one of auto, webgpu, wasm, cpu, got "gpu"$/],
    // Numbers are held to the CLI's ranges: out of range, not an integer, NaN or not a number at all.
    [{ sparsity: 1.5 }, /--sparsity: expected a number in \[0, 1\), got 1.5$/],
    [{ epochs: 0 }, /--epochs: expected an integer >= 1, got 0$/],
    [{ batch: 12.5 }, /--batch: expected an integer >= 1, got 12.5$/],
    [{ lr: Number.NaN }, /--lr: expected a number > 0, got NaN$/],
    [{ width: '0.5' as unknown as number }, /--width: expected a number in \(0, 64\], got "0.5"$/],
    [{ threads: 0, backend: 'wasm' }, /--threads: expected an integer in \[1, 256\], got 0$/],
    [{ scoreBound: 0 }, /--score-bound: expected a number > 0 or 'none', got 0$/],
    [{ method: 'imp', rewind: -1 }, /--rewind: expected an integer >= 0 \(steps\), got -1$/],
  ];
  for (const [given, message] of cases) assert.throws(() => tg.resolveOptions(given), message, JSON.stringify(given));
  // A complete set of options (checkOptions, as trainModel runs it) must hold every option a run cannot do without.
  const complete = tg.resolveOptions({});
  assert.throws(() => tg.checkOptions({ ...complete, optimizer: undefined as unknown as 'sgd' }), /--optimizer: expected one of sgd, adam, got undefined$/);
  assert.throws(() => tg.checkOptions({ ...complete, epochs: undefined as unknown as number }), /--epochs: expected an integer >= 1, got undefined$/);
  assert.equal(tg.checkOptions({ ...complete, lr: undefined, tau: undefined }).lr, undefined);
  assert.equal(tg.resolveOptions({ method: 'imp', rewind: 3 }).rewind, 3);
});

test('the CLI and checkOptions hold a number to the same rule: a value the flag refuses, resolveOptions refuses, naming the flag', () => {
  // The options another method would refuse are given with the method that reads them.
  const methodOf: Partial<Record<keyof typeof NUMBER_RULES, tg.TrainMethod>> = {
    rewind: 'imp',
    rounds: 'imp',
    outputRate: 'imp',
    pruneRounds: 'synflow',
    pruneBatches: 'snip',
    gmLambda: 'gemminer',
    ebL1: 'earlybird',
  };
  const value = fc.oneof(fc.integer({ min: -3, max: 300 }), fc.double({ min: -2, max: 70, noNaN: true }), fc.constantFrom(0, 1, 0.5, 64, 256, 2 ** 32));
  fc.assert(
    fc.property(fc.constantFrom(...(Object.keys(NUMBER_RULES) as (keyof typeof NUMBER_RULES)[])), value, (key, v) => {
      const flag = flagOf(key);
      const method = methodOf[key] ?? 'mpt';
      const outcome = (f: () => unknown): string => {
        try {
          f();
          return 'ok';
        } catch (e) {
          return (e as Error).message.startsWith(`${flag}: expected`) ? 'refused' : `other: ${(e as Error).message}`;
        }
      };
      const cli = outcome(() => parseTrainArgs(['--method', method, `${flag}=${v}`]));
      const library = outcome(() => tg.resolveOptions({ method, [key]: v }));
      assert.equal(cli, library, `${flag} ${v}`);
    }),
    { numRuns: 300 },
  );
});

test('the train flags resolve through the same options: --mask takes bitonic or threshold, and sort for bitonic', () => {
  for (const [flag, mask] of [
    ['bitonic', 'bitonic'],
    ['sort', 'bitonic'],
    ['threshold', 'threshold'],
  ] as const) {
    const o = parseTrainArgs(['--mask', flag]);
    assert.ok(o !== 'help');
    assert.equal(o.mask, mask);
    assert.deepEqual({ ...o, out: undefined, verbose: undefined }, { ...tg.resolveOptions({ mask }), out: undefined, verbose: undefined });
  }
  assert.throws(() => parseTrainArgs(['--mask', 'quick']), /--mask: expected one of bitonic, threshold, got 'quick'/);
  assert.throws(() => parseTrainArgs(['--method', 'mpt', '--rewind', '3']), /--rewind applies to imp, not to mpt/);
});
