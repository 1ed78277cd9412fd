// `ticketgrad sweep`: grid expansion and cell names, shards (flags and job-array environment
// variables), resume, failures, merge, results files; and a tiny real sweep through the CLI.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { existsSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './cli.js';
import { assertClose } from './helpers.js';
import { parseTrainArgs } from '../src/cli/args.js';
import { type StepInfo, type TrainOptions, train } from '../src/train/train.js';
import { cellArgs, cellName, checkDefinition, expandGrid, parseGridAxis, type SweepDefinition } from '../src/sweep/grid.js';
import { resolveShard, shardItems, UNSHARDED } from '../src/sweep/shard.js';
import { csvField, resultColumns, type ResultRow, toCsv } from '../src/sweep/results.js';
import { mergeSweeps, type ParseTrainArgs, planCells, type RunCell, runSweep } from '../src/sweep/run.js';
import { sweepPlots } from '../src/sweep/plots.js';
import { summaryRows } from '../src/sweep/summary.js';
import { CellConflictError } from '../src/sweep/state.js';

const parse: ParseTrainArgs = (args) => {
  const o = parseTrainArgs(args);
  assert.notEqual(o, 'help');
  return o as TrainOptions;
};

const tempDir = (): string => mkdtempSync(join(tmpdir(), 'ticketgrad-sweep-'));

test('grid axes: canonical numbers, clear errors', () => {
  assert.deepEqual(parseGridAxis('sparsity=0.10, .5,1e-1x'), { name: 'sparsity', values: ['0.1', '0.5', '1e-1x'] });
  assert.deepEqual(parseGridAxis('method=dense,mpt'), { name: 'method', values: ['dense', 'mpt'] });
  assert.throws(() => parseGridAxis('sparsity'), /expected NAME=V1,V2/);
  assert.throws(() => parseGridAxis('=1,2'), /expected NAME=V1,V2/);
  assert.throws(() => parseGridAxis('alpha=1,,2'), /--grid alpha: empty value/);
  assert.throws(() => parseGridAxis('alpha=1,1.0'), /--grid alpha: value 1 is given twice/);
  assert.throws(() => parseGridAxis('out=a,b'), /--grid out: the sweep chooses/);
  assert.throws(() => checkDefinition({ axes: [], fixed: [] }), /at least one --grid/);
  assert.throws(() => checkDefinition({ axes: [parseGridAxis('alpha=1'), parseGridAxis('alpha=2')], fixed: [] }), /--grid alpha is given twice/);
  assert.throws(() => checkDefinition({ axes: [parseGridAxis('alpha=1,2')], fixed: ['--alpha=3'] }), /--alpha is both a fixed flag and a --grid axis/);
});

test('grid expansion: every combination, first axis outermost, names independent of axis order', () => {
  const axes = [parseGridAxis('sparsity=0.1,0.5,0.9'), parseGridAxis('alpha=1,2'), parseGridAxis('seed=1,2')];
  const cells = expandGrid(axes);
  assert.equal(cells.length, 12);
  assert.deepEqual(
    cells.slice(0, 3).map((c) => c.name),
    ['alpha=1_seed=1_sparsity=0.1', 'alpha=1_seed=2_sparsity=0.1', 'alpha=2_seed=1_sparsity=0.1'],
  );
  assert.equal(new Set(cells.map((c) => c.name)).size, 12, 'names are distinct');
  const reordered = expandGrid([axes[2], axes[0], axes[1]])
    .map((c) => c.name)
    .sort();
  assert.deepEqual(reordered, cells.map((c) => c.name).sort());
  assert.equal(cellName({ 'data-dir': '/data/cifar 10', method: 'mpt' }), 'data-dir=%2Fdata%2Fcifar%2010_method=mpt');
  assert.deepEqual(cellArgs({ axes, fixed: ['--epochs', '3'] }, cells[0]), ['--epochs', '3', '--sparsity=0.1', '--alpha=1', '--seed=1']);
});

test('cells are validated by the train parser before anything runs; errors name the cell', () => {
  const definition: SweepDefinition = { axes: [parseGridAxis('method=dense,mpt'), parseGridAxis('finetune=none,last')], fixed: ['--epochs', '2'] };
  assert.throws(() => planCells(definition, 'out', parse), /cell finetune=last_method=dense: --finetune applies to mpt and edgepopup/);
  assert.throws(() => planCells({ axes: [parseGridAxis('sparsity=0.5,1.5')], fixed: [] }, 'out', parse), /cell sparsity=1.5: --sparsity: expected a number in \[0, 1\)/);
  assert.throws(() => planCells({ axes: [parseGridAxis('bogus=1')], fixed: [] }, 'out', parse), /cell bogus=1: Unknown option '--bogus'/);
  const cells = planCells({ axes: [parseGridAxis('alpha=1,2')], fixed: ['--epochs', '2'] }, 'runs/x', parse);
  assert.deepEqual(
    cells.map((c) => [c.options.alpha, c.options.epochs, c.options.out]),
    [
      [1, 2, join('runs/x', 'cells', 'alpha=1')],
      [2, 2, join('runs/x', 'cells', 'alpha=2')],
    ],
  );
});

test('shards partition the grid: every cell in exactly one shard', () => {
  const items = Array.from({ length: 23 }, (_, i) => i);
  for (let count = 1; count <= 9; count++) {
    const seen = Array.from({ length: count }, (_, index) => shardItems(items, { index, count, source: 'test' })).flat();
    assert.deepEqual(
      seen.sort((a, b) => a - b),
      items,
      `${count} shards`,
    );
  }
  assert.deepEqual(shardItems(items, { index: 1, count: 10, source: 'test' }), [1, 11, 21]);
});

test('the shard comes from --shard, SLURM or JOB_COMPLETION_INDEX', () => {
  const shard = (flags: { shard?: string; shards?: string }, env: Record<string, string> = {}): [number, number, string] => {
    const s = resolveShard(flags, env);
    return [s.index, s.count, s.source];
  };
  assert.deepEqual(shard({}), [0, 1, 'unsharded']);
  assert.deepEqual(shard({ shard: '2/5' }), [2, 5, '--shard']);
  assert.deepEqual(shard({ shard: '1/2' }, { SLURM_ARRAY_TASK_ID: '0', SLURM_ARRAY_TASK_COUNT: '4' }), [1, 2, '--shard'], '--shard wins over the environment');
  assert.deepEqual(shard({}, { SLURM_ARRAY_TASK_ID: '3', SLURM_ARRAY_TASK_COUNT: '4' }), [3, 4, 'SLURM_ARRAY_TASK_ID']);
  // sbatch --array=1-4: ids 1..4, SLURM_ARRAY_TASK_MIN 1.
  assert.deepEqual(shard({}, { SLURM_ARRAY_TASK_ID: '1', SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_COUNT: '4' }), [0, 4, 'SLURM_ARRAY_TASK_ID']);
  assert.deepEqual(shard({}, { SLURM_ARRAY_TASK_ID: '4', SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_COUNT: '4' }), [3, 4, 'SLURM_ARRAY_TASK_ID']);
  // sbatch --array=0-6:2: ids 0, 2, 4, 6.
  assert.deepEqual(shard({}, { SLURM_ARRAY_TASK_ID: '6', SLURM_ARRAY_TASK_STEP: '2', SLURM_ARRAY_TASK_COUNT: '4' }), [3, 4, 'SLURM_ARRAY_TASK_ID']);
  assert.deepEqual(shard({ shards: '3' }, { JOB_COMPLETION_INDEX: '2' }), [2, 3, 'JOB_COMPLETION_INDEX']);
  assert.throws(() => shard({}, { JOB_COMPLETION_INDEX: '0' }), /JOB_COMPLETION_INDEX is set: give the number of shards .* --shards N/);
  assert.throws(() => shard({ shards: '2' }, { JOB_COMPLETION_INDEX: '2' }), /JOB_COMPLETION_INDEX: shard index 2 is not below the shard count 2/);
  assert.throws(() => shard({}, { SLURM_ARRAY_TASK_ID: '7', SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_COUNT: '3' }), /shard index 6 is not below the shard count 3/);
  assert.throws(() => shard({ shards: '3' }, { SLURM_ARRAY_TASK_ID: '0', SLURM_ARRAY_TASK_COUNT: '4' }), /--shards 3 disagrees with SLURM_ARRAY_TASK_ID, which gives 4 shards/);
  assert.throws(() => shard({ shard: '4/4' }), /--shard: shard index 4 is not below the shard count 4/);
  assert.throws(() => shard({ shard: '1' }), /--shard: expected i\/n/);
  assert.throws(() => shard({ shard: '-1/2' }), /--shard: expected an integer >= 0, got '-1'/);
  assert.throws(() => shard({ shards: '2' }), /--shards N needs --shard i\/N/);
});

test('CSV: quotes, commas, line breaks and empty values', () => {
  assert.equal(csvField('plain'), 'plain');
  assert.equal(csvField(0.25), '0.25');
  assert.equal(csvField(null), '');
  assert.equal(csvField('a,b'), '"a,b"');
  assert.equal(csvField('say "hi"'), '"say ""hi"""');
  assert.equal(csvField('line\nbreak'), '"line\nbreak"');
  assert.equal(csvField(' padded'), '" padded"');
  assert.equal(toCsv(['a', 'b'], [{ a: 1, b: 'x,"y"' }, { a: null }]), 'a,b\n1,"x,""y"""\n,\n');
});

/** A stand-in for train(): writes a report.json with numbers derived from the options, counts its calls. */
function fakeTrainer(fails: (o: TrainOptions) => boolean = () => false): RunCell & { calls: string[] } {
  const calls: string[] = [];
  const run = async (o: TrainOptions): Promise<{ testAccuracy: number }> => {
    calls.push(o.out);
    if (fails(o)) throw new Error(`diverged, "loss" is NaN at alpha ${o.alpha}`);
    const report = {
      testAccuracy: 0.9 - o.sparsity / 10 + o.alpha / 100 + o.seed / 1000,
      sparsity: o.sparsity,
      epochSeconds: [1, 2 + o.alpha],
      maskSeconds: 0.5,
      backend: 'cpu',
      zeroKernelFraction: o.sparsity / 2,
      options: o,
    };
    writeFileSync(join(o.out, 'report.json'), JSON.stringify(report));
    return report;
  };
  return Object.assign(run, { calls });
}

const readResults = (dir: string, file = 'results.json'): { columns: string[]; rows: ResultRow[] } => JSON.parse(readFileSync(join(dir, file), 'utf8'));

async function sweep(
  out: string,
  definition: SweepDefinition,
  runCell: RunCell,
  shard = UNSHARDED,
): Promise<{ finished: number; failed: number; skipped: number; stopped: boolean; lines: string[] }> {
  const lines: string[] = [];
  const summary = await runSweep({ out, definition, cells: planCells(definition, out, parse), shard, runCell, log: (line) => lines.push(line) });
  return { ...summary, lines };
}

const fig1: SweepDefinition = {
  axes: [parseGridAxis('sparsity=0.1,0.5,0.9'), parseGridAxis('alpha=1,2'), parseGridAxis('seed=1,2')],
  fixed: ['--data', 'synthetic', '--epochs', '1'],
};

test('resume: finished cells are not run again; results, plots and progress lines', async () => {
  const out = tempDir();
  const trainer = fakeTrainer();
  const first = await sweep(out, fig1, trainer);
  assert.equal(trainer.calls.length, 12);
  assert.deepEqual([first.finished, first.failed, first.skipped], [12, 0, 0]);
  assert.match(first.lines[0], /12 cells, unsharded; 0 finished before, 12 to run/);
  assert.match(first.lines[2], /^\[1\/12\] alpha=1_seed=1_sparsity=0.1: finished in 0:00, test accuracy 90\.10%; 11 to go, ETA 0:00$/);
  const second = await sweep(out, fig1, trainer);
  assert.equal(trainer.calls.length, 12, 'nothing ran the second time');
  assert.deepEqual([second.finished, second.skipped], [0, 12]);

  const { columns, rows } = readResults(out);
  assert.deepEqual(columns, [
    'cell',
    'sparsity',
    'alpha',
    'seed',
    'status',
    'testAccuracy',
    'denseTestAccuracy',
    'achievedSparsity',
    'totalEpochSeconds',
    'meanEpochSeconds',
    'maskSeconds',
    'zeroKernelFraction',
    'usedBackend',
    'cellSeconds',
    'error',
    'dir',
  ]);
  assert.equal(rows.length, 12);
  assert.deepEqual(rows[11], {
    ...rows[11],
    cell: 'alpha=2_seed=2_sparsity=0.9',
    sparsity: 0.9,
    alpha: 2,
    seed: 2,
    status: 'finished',
    achievedSparsity: 0.9,
    totalEpochSeconds: 5,
    meanEpochSeconds: 2.5,
    zeroKernelFraction: 0.45,
    denseTestAccuracy: null,
    error: null,
    dir: join('cells', 'alpha=2_seed=2_sparsity=0.9'),
  });
  const csv = readFileSync(join(out, 'results.csv'), 'utf8').trim().split('\n');
  assert.equal(csv.length, 13);
  assert.equal(csv[0], columns.join(','));
  const accuracy = readFileSync(join(out, 'accuracy.svg'), 'utf8');
  assert.match(accuracy, /Test accuracy vs sparsity \(mean of 2 seeds, bars: ± 1 std\)/);
  assert.equal(accuracy.match(/<polyline/g)?.length, 2, 'one line per alpha');
  assert.equal(accuracy.match(/<path/g)?.length, 6, 'a std bar per point');
  const summary = readFileSync(join(out, 'summary.csv'), 'utf8').trim().split('\n');
  assert.equal(summary.length, 7, 'a header and one row per alpha and sparsity');
  assert.match(summary[0], /^sparsity,alpha,seeds,testAccuracyMean,testAccuracyStd,achievedSparsityMean,/);
  assert.match(accuracy, />alpha=1</);
  assert.ok(existsSync(join(out, 'epoch-time.svg')));
  assert.deepEqual(JSON.parse(readFileSync(join(out, 'sweep.json'), 'utf8')), { version: 1, ...fig1 });
});

test('a cell finished meanwhile by another process on the same directory is not run again', async () => {
  const out = tempDir();
  const definition: SweepDefinition = { axes: [parseGridAxis('alpha=1,2,3')], fixed: ['--epochs', '1'] };
  const other = fakeTrainer();
  // While this sweep runs its first cell, another process finishes the third.
  const trainer = fakeTrainer();
  const runCell: RunCell = async (o) => {
    if (o.alpha === 1) await sweep(out, definition, other, { index: 2, count: 3, source: 'test' });
    return trainer(o, false);
  };
  const result = await sweep(out, definition, runCell);
  assert.deepEqual(other.calls, [join(out, 'cells', 'alpha=3')]);
  assert.deepEqual(trainer.calls, [join(out, 'cells', 'alpha=1'), join(out, 'cells', 'alpha=2')]);
  assert.deepEqual([result.finished, result.skipped, result.failed], [2, 1, 0]);
  assert.match(result.lines.join('\n'), /\[3\/3\] alpha=3: finished meanwhile by another process, not run/);
  assert.equal(readResults(out).rows.filter((r) => r.status === 'finished').length, 3);
});

test('a failed cell is recorded, the sweep goes on, and a rerun retries only the failed cells', async () => {
  const out = tempDir();
  const definition: SweepDefinition = { axes: [parseGridAxis('alpha=1,2,3')], fixed: ['--epochs', '1'] };
  let broken = true;
  const trainer = fakeTrainer((o) => broken && o.alpha === 2);
  const first = await sweep(out, definition, trainer);
  assert.deepEqual([first.finished, first.failed], [2, 1]);
  assert.match(first.lines.join('\n'), /\[2\/3\] alpha=2: FAILED after 0:00: diverged, "loss" is NaN at alpha 2/);
  const rows = readResults(out).rows;
  assert.deepEqual(
    rows.map((r) => [r.cell, r.status]),
    [
      ['alpha=1', 'finished'],
      ['alpha=2', 'failed'],
      ['alpha=3', 'finished'],
    ],
  );
  assert.equal(rows[1].error, 'diverged, "loss" is NaN at alpha 2');
  assert.equal(rows[1].testAccuracy, null);
  assert.match(readFileSync(join(out, 'results.csv'), 'utf8'), /,"diverged, ""loss"" is NaN at alpha 2",/);
  broken = false;
  const second = await sweep(out, definition, trainer);
  assert.deepEqual([second.finished, second.failed, second.skipped], [1, 0, 2]);
  assert.deepEqual(trainer.calls.slice(3), [join(out, 'cells', 'alpha=2')]);
  assert.deepEqual(
    readResults(out).rows.map((r) => r.status),
    ['finished', 'finished', 'finished'],
  );
});

test('a changed fixed flag stops the sweep before anything runs; an interrupted cell is run again', async () => {
  const out = tempDir();
  const trainer = fakeTrainer();
  const definition: SweepDefinition = { axes: [parseGridAxis('alpha=1,2')], fixed: ['--epochs', '1'] };
  await sweep(out, definition, trainer);
  await assert.rejects(
    sweep(out, { ...definition, fixed: ['--epochs', '2'] }, trainer),
    (e: Error) => e instanceof CellConflictError && /alpha=1 was finished with other options \(epochs: 1 recorded, 2 asked for\)/.test(e.message),
  );
  // An explicit --lr is an option of its own even where the default would be the same number.
  await assert.rejects(sweep(out, { ...definition, fixed: ['--epochs', '1', '--lr', '0.1'] }, trainer), /lr: \(unset\) recorded, 0\.1 asked for/);
  assert.equal(trainer.calls.length, 2);
  // A cell whose record says running (the process was killed during it) counts as not run.
  const record = join(out, 'cells', 'alpha=2', 'sweep-cell.json');
  writeFileSync(record, readFileSync(record, 'utf8').replace('"finished"', '"running"'));
  const again = await sweep(out, definition, trainer);
  assert.deepEqual([again.finished, again.skipped], [1, 1]);
  assert.deepEqual(trainer.calls.slice(2), [join(out, 'cells', 'alpha=2')]);
});

test("a run written over a finished cell (train --out CELL --overwrite) stops the sweep: its report is not the cell's", async () => {
  const out = tempDir();
  const trainer = fakeTrainer();
  const definition: SweepDefinition = { axes: [parseGridAxis('alpha=1,2')], fixed: ['--epochs', '1'] };
  await sweep(out, definition, trainer);
  const report = join(out, 'cells', 'alpha=1', 'report.json');
  const other = JSON.parse(readFileSync(report, 'utf8'));
  writeFileSync(report, JSON.stringify({ ...other, options: { ...other.options, sparsity: 0.1 }, testAccuracy: 0.2 }));
  await assert.rejects(
    sweep(out, definition, trainer),
    (e: Error) =>
      e instanceof CellConflictError && /alpha=1: its report\.json is of a run with other options than the cell's \(sparsity: 0\.1 recorded, 0\.5 asked for\)/.test(e.message),
  );
  writeFileSync(report, JSON.stringify({ ...other, options: undefined }));
  await assert.rejects(sweep(out, definition, trainer), /it records no options/);
  // The rate the run resolved for itself is not a difference: the cell asked for the default.
  writeFileSync(report, JSON.stringify({ ...other, options: { ...other.options, lr: 0.0707 } }));
  assert.deepEqual((await sweep(out, definition, trainer)).skipped, 2);
  assert.equal(trainer.calls.length, 2);
});

test('a stopped cell ends the sweep unfinished; running the sweep again continues the cell from its checkpoint, ending as an uninterrupted sweep', async () => {
  const definition: SweepDefinition = { axes: [parseGridAxis('alpha=1,2')], fixed: ['--data', 'synthetic', '--train-size', '300', '--epochs', '3', '--backend', 'cpu', '--quiet'] };
  const metricsOf = (out: string): string[] =>
    ['alpha=1', 'alpha=2'].flatMap((cell) =>
      readFileSync(join(out, 'cells', cell, 'metrics.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((line) => JSON.stringify({ ...JSON.parse(line), seconds: 0, maskSeconds: 0 })),
    );
  const whole = tempDir();
  await sweep(whole, definition, (o, resume) => train(o, {}, { resume }));

  const out = tempDir();
  const calls: string[] = [];
  const stopInAlpha2 = new AbortController();
  const runCell: RunCell = (o, resume) => {
    calls.push(`${o.out.slice(out.length)} resume=${resume} overwrite=${o.overwrite}`);
    const stopAt = (s: StepInfo): void => {
      if (o.alpha === 2 && s.epoch === 2 && s.step === 2) stopInAlpha2.abort();
    };
    return train(o, { onStep: stopAt }, { resume, signal: resume ? undefined : stopInAlpha2.signal });
  };
  const first = await sweep(out, definition, runCell);
  assert.equal(first.stopped, true);
  assert.match(first.lines.join('\n'), /\[2\/2\] alpha=2: stopped; run the same command again to continue it/);
  const second = await sweep(out, definition, runCell);
  assert.deepEqual([second.finished, second.skipped, second.stopped], [1, 1, false]);
  assert.match(second.lines.join('\n'), /\[1\/1\] alpha=2: resumed from its checkpoint/);
  assert.deepEqual(calls, ['/cells/alpha=1 resume=false overwrite=true', '/cells/alpha=2 resume=false overwrite=true', '/cells/alpha=2 resume=true overwrite=false']);
  assert.deepEqual(metricsOf(out), metricsOf(whole));
});

test('merge: shards run into separate directories (or one shared one) give the unsharded result set', async () => {
  const comparable = (rows: ResultRow[]): ResultRow[] => rows.map(({ dir: _dir, cellSeconds: _seconds, ...rest }) => rest);
  const whole = tempDir();
  await sweep(whole, fig1, fakeTrainer());
  const expected = readResults(whole);

  const [a, b, c, shared] = [tempDir(), tempDir(), tempDir(), tempDir()];
  const trainer = fakeTrainer();
  for (const [index, dir] of [a, b, c].entries()) {
    await sweep(dir, fig1, trainer, { index, count: 3, source: 'test' });
    await sweep(shared, fig1, trainer, { index, count: 3, source: 'test' });
  }
  assert.equal(trainer.calls.length, 24, 'each cell once per layout');
  assert.equal(readResults(a, 'results.shard-0-of-3.json').rows.length, 4);
  assert.ok(!existsSync(join(a, 'results.json')), 'a shard writes only its own results file');

  const merged = tempDir();
  const summary = mergeSweeps([a, b, c], merged, parse);
  assert.deepEqual(summary, { cells: 12, finished: 12, failed: 0, pending: 0 });
  const result = readResults(merged);
  assert.deepEqual(result.columns, expected.columns);
  assert.deepEqual(comparable(result.rows), comparable(expected.rows));
  assert.equal(result.rows[1].dir, join('..', b.split('/').pop()!, 'cells', 'alpha=1_seed=2_sparsity=0.1'), 'dir points to the shard that ran the cell');
  assert.deepEqual(readdirSync(merged).sort(), ['accuracy.svg', 'epoch-time.svg', 'results.csv', 'results.json', 'summary.csv']);

  mergeSweeps([shared], shared, parse);
  assert.deepEqual(comparable(readResults(shared).rows), comparable(expected.rows));
  assert.equal(readFileSync(join(shared, 'results.csv'), 'utf8').split('\n')[0], readFileSync(join(whole, 'results.csv'), 'utf8').split('\n')[0]);

  // Missing shards show as pending; another grid is refused.
  assert.deepEqual(mergeSweeps([a], tempDir(), parse), { cells: 12, finished: 4, failed: 0, pending: 8 });
  const other = tempDir();
  await sweep(other, { ...fig1, fixed: ['--epochs', '2'] }, fakeTrainer(), { index: 0, count: 3, source: 'test' });
  assert.throws(() => mergeSweeps([a, other], tempDir(), parse), /has another grid than/);
});

test('summary: mean and sample standard deviation over seeds per combination of the other axes; unfinished cells left out', () => {
  const axes = [parseGridAxis('alpha=1,2'), parseGridAxis('seed=1,2,3')];
  const rows: ResultRow[] = [
    { alpha: 1, seed: 1, status: 'finished', testAccuracy: 0.9, valAccuracy: 0.8 },
    { alpha: 1, seed: 2, status: 'finished', testAccuracy: 0.7, valAccuracy: 0.8 },
    { alpha: 1, seed: 3, status: 'failed', testAccuracy: null },
    { alpha: 2, seed: 1, status: 'finished', testAccuracy: 0.5, valAccuracy: 0.4 },
  ];
  const { columns, rows: summary } = summaryRows(axes, rows);
  assert.deepEqual(columns, ['alpha', 'seeds', 'testAccuracyMean', 'testAccuracyStd', 'valAccuracyMean', 'valAccuracyStd']);
  assert.equal(summary.length, 2);
  const { testAccuracyMean, testAccuracyStd, ...rest } = summary[0];
  assert.deepEqual(rest, { alpha: 1, seeds: 2, valAccuracyMean: 0.8, valAccuracyStd: 0 });
  assertClose([testAccuracyMean as number, testAccuracyStd as number], [0.8, Math.SQRT2 * 0.1], 'mean and sample std of 0.9 and 0.7');
  assert.deepEqual(summary[1], { alpha: 2, seeds: 1, testAccuracyMean: 0.5, testAccuracyStd: null, valAccuracyMean: 0.4, valAccuracyStd: null });
});

test('plots: a categorical grid gets bars; the seed axis is averaged over, not plotted along', () => {
  const axes = [parseGridAxis('method=dense,mpt'), parseGridAxis('seed=1,2')];
  const rows: ResultRow[] = [
    { method: 'dense', seed: 1, status: 'finished', testAccuracy: 0.9, meanEpochSeconds: 1 },
    { method: 'dense', seed: 2, status: 'finished', testAccuracy: 0.8, meanEpochSeconds: 1 },
    { method: 'mpt', seed: 1, status: 'failed', testAccuracy: null, meanEpochSeconds: null },
    { method: 'mpt', seed: 2, status: 'finished', testAccuracy: 0.7, meanEpochSeconds: 2 },
  ];
  const plots = sweepPlots(axes, rows);
  assert.deepEqual(Object.keys(plots), ['accuracy.svg', 'epoch-time.svg']);
  assert.match(plots['accuracy.svg'], />method=dense</);
  assert.match(plots['accuracy.svg'], />0\.85</, 'the mean over seeds');
  assert.doesNotMatch(plots['accuracy.svg'], /<polyline/);
  assert.deepEqual(resultColumns(axes, rows).slice(0, 4), ['cell', 'method', 'seed', 'status']);
});

test('plots: the title says how many seeds the points average and how many cells are missing; a missing point breaks its line, a single seed has no bar', () => {
  const axes = [parseGridAxis('sparsity=0.1,0.5,0.9'), parseGridAxis('seed=1,2,3')];
  const finished = (sparsity: number, seed: number, testAccuracy: number): ResultRow => ({ sparsity, seed, status: 'finished', testAccuracy, meanEpochSeconds: 1 });
  const rows: ResultRow[] = [
    finished(0.1, 1, 0.9),
    finished(0.1, 2, 0.8),
    finished(0.1, 3, 0.85),
    ...[1, 2, 3].map((seed): ResultRow => ({ sparsity: 0.5, seed, status: 'failed', testAccuracy: null, meanEpochSeconds: null })),
    finished(0.9, 1, 0.7),
    { sparsity: 0.9, seed: 2, status: 'pending', testAccuracy: null, meanEpochSeconds: null },
    { sparsity: 0.9, seed: 3, status: 'pending', testAccuracy: null, meanEpochSeconds: null },
  ];
  const svg = sweepPlots(axes, rows)['accuracy.svg'];
  assert.match(svg, /Test accuracy vs sparsity \(mean of 1-3 seeds, bars: ± 1 std; 5 of 9 cells not finished\)/);
  assert.equal(svg.match(/<polyline/g)?.length, 2, 'no line across sparsity 0.5, which has no finished cell');
  assert.equal(svg.match(/<path fill="none" stroke="#4e79a7"/g)?.length, 1, 'a std bar at 0.1 only: 0.9 has one seed');
  const full = sweepPlots([parseGridAxis('sparsity=0.1,0.9')], [finished(0.1, 1, 0.9), finished(0.9, 1, 0.8)])['accuracy.svg'];
  assert.match(full, />Test accuracy vs sparsity</, 'one seed and every cell finished: nothing to note');
  assert.equal(full.match(/<polyline/g)?.length, 1);
});

const cli = (args: string[], env: Record<string, string> = {}) => runCli(['sweep', ...args], env);

test('CLI: a real sweep in two shards (--shard and SLURM), resume, merge, and usage errors [cpu]', { timeout: 120_000 }, () => {
  const [a, b, merged] = [tempDir(), tempDir(), tempDir()];
  const flags = ['--grid', 'sparsity=0.3,0.7', '--data', 'synthetic', '--epochs', '1', '--train-size', '64', '--backend', 'cpu', '--quiet'];
  const first = cli(['--out', a, ...flags, '--shard', '0/2']);
  assert.equal(first.status, 0, first.stderr);
  assert.match(first.stdout, /shard 0\/2 \(--shard\) has 1; 0 finished before, 1 to run/);
  // sbatch --array=1-2: the second task has id 2 and SLURM_ARRAY_TASK_MIN 1.
  const second = cli(['--out', b, ...flags], { SLURM_ARRAY_TASK_ID: '2', SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_COUNT: '2' });
  assert.equal(second.status, 0, second.stderr);
  assert.match(second.stdout, /\[1\/1\] sparsity=0.7: finished in/);
  const report = join(a, 'cells', 'sparsity=0.3', 'report.json');
  const written = statSync(report).mtimeMs;
  const resumed = cli(['--out', a, '--shard', '0/2']);
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.match(resumed.stdout, /1 finished before, 0 to run/);
  assert.equal(statSync(report).mtimeMs, written, 'the finished cell was not run again');

  const merge = cli(['merge', a, b, '--out', merged]);
  assert.equal(merge.status, 0, merge.stderr);
  const rows = readResults(merged).rows;
  assert.deepEqual(
    rows.map((r) => [r.sparsity, r.status, typeof r.testAccuracy]),
    [
      [0.3, 'finished', 'number'],
      [0.7, 'finished', 'number'],
    ],
  );
  assert.ok(Math.abs((rows[1].achievedSparsity as number) - 0.7) < 1e-6);

  for (const [args, expected] of [
    [['--out', tempDir(), '--grid', 'sparsity=0.5,1.5', '--data', 'synthetic'], /cell sparsity=1.5: --sparsity: expected a number in \[0, 1\), got '1.5'/],
    [['--out', tempDir(), '--grid', 'alpha=1,2', '--alpha', '3'], /--alpha is both a fixed flag and a --grid axis/],
    [['--out', tempDir()], /--grid NAME=V1,V2,... is required/],
    [['--out', a, '--epochs', '2'], /without --grid the sweep is resumed as/],
    [['--out', a, ...flags.map((f) => (f === '--quiet' ? '--seed=2' : f))], /sparsity=0.3 was finished with other options \(seed: 1 recorded, 2 asked for\)/],
    [['--out', a, '--shard', '2/2'], /--shard: shard index 2 is not below the shard count 2/],
    [['merge', a, b], /give --out DIR for the merged results of several directories/],
    [['merge', a, '--shard', '0/2'], /sweep merge: no --shard here/],
  ] as const) {
    const r = cli([...args]);
    assert.equal(r.status, 2, `${args.join(' ')}: exit ${r.status}, stderr ${r.stderr}`);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], expected);
  }
  assert.match(cli(['--help']).stdout, /--grid NAME=V1,V2/);
});
