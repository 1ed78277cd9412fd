#!/usr/bin/env node
// The figures of docs/results.md's "Reproducing Efficient MPT", from the finished cells of its
// Fig. 1 sweeps (run `npm run build` first):
//
//   node scripts/effmpt-figures.mjs OUT_DIR NAME=SWEEP_DIR[,BASELINE_DIR]... [curves:NAME=LABEL@SWEEP_DIR[+SWEEP_DIR...],...]
//
// For each sweep NAME (a grid of alpha x sparsity x seed): test accuracy, mean over seeds with one
// standard deviation either side, against the fraction pruned (fig1-NAME-pruned.svg) and against
// the fraction kept (fig1-NAME-kept.svg): the report's "pruning ratio" read both ways. Also the
// validation curves of every alpha at each sparsity (val-curves-NAME-SPARSITY.svg) and the score
// histograms of alpha 1 and 3 at sparsity 0.5, seed 1 (fig2-scores-alphaA.svg, the cells' own).
// A BASELINE_DIR adds the cells of the alphas the sweep lacks (alpha 1 for a sweep of 2-4).
// A `curves:` argument compares whole runs instead (Fig. 4): for each alpha, the validation curves
// of every LABEL's cells of that alpha (curves-NAME-alphaA.svg), each labelled with the sparsity
// its runs ended at (a fixed threshold's follows the scores).

import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { lineChart } from '../dist/src/report/svg.js';
import { spread } from '../dist/src/sweep/summary.js';

const USAGE = 'usage: node scripts/effmpt-figures.mjs OUT_DIR NAME=SWEEP_DIR[,BASELINE_DIR]... [curves:NAME=LABEL@SWEEP_DIR[+SWEEP_DIR...],...]';
const fail = (message) => {
  console.error(`${USAGE}\n${message}`);
  process.exit(2);
};
const [outDir, ...sweeps] = process.argv.slice(2);
if (!outDir || sweeps.length === 0) fail('nothing to draw');
const bad = sweeps.find(
  (s) =>
    !/^(curves:)?[^=]+=[^=]+$/.test(s) ||
    (s.startsWith('curves:') &&
      s
        .split('=')[1]
        .split(',')
        .some((l) => !/^[^@]+@[^@+]+(\+[^@+]+)*$/.test(l))),
);
if (bad !== undefined) fail(`'${bad}' is neither NAME=SWEEP_DIR[,BASELINE_DIR] nor curves:NAME=LABEL@SWEEP_DIR[+SWEEP_DIR...],...`);
mkdirSync(outDir, { recursive: true });

/** The finished cells of a sweep: axis values, report and per-epoch metrics. */
function finishedCells(dir) {
  const cells = [];
  for (const name of readdirSync(join(dir, 'cells'))) {
    const cellDir = join(dir, 'cells', name);
    const record = JSON.parse(readFileSync(join(cellDir, 'sweep-cell.json'), 'utf8'));
    if (record.status !== 'finished') continue;
    const { alpha, sparsity, seed } = record.options;
    const report = JSON.parse(readFileSync(join(cellDir, 'report.json'), 'utf8'));
    // Score training's epochs (a run with --finetune goes on with fine-tuning's).
    const metrics = readFileSync(join(cellDir, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line))
      .filter((m) => m.phase === 'train');
    cells.push({ dir: cellDir, alpha, sparsity, seed, options: record.options, report, metrics });
  }
  return cells;
}

const groupBy = (items, key) => {
  const groups = new Map();
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  return new Map([...groups].sort(([a], [b]) => a - b));
};

/** Mean and mean +- std of values (in %), as a point and a bar at x. */
function pointAndBar(x, values) {
  const { mean, std } = spread(values.map((v) => 100 * v));
  return { point: [x, mean], bar: [x, mean - (std ?? 0), mean + (std ?? 0)] };
}

/** Validation accuracy per epoch of some runs: mean over them, ± 1 std, up to the shortest run. */
function valCurve(name, runs) {
  const epochs = Math.min(...runs.map((c) => c.metrics.length));
  const at = Array.from({ length: epochs }, (_, e) =>
    pointAndBar(
      e + 1,
      runs.map((c) => c.metrics[e].valAccuracy),
    ),
  );
  return { name, points: at.map((a) => a.point), ranges: at.map((a) => a.bar) };
}

const splitAt = (text, mark) => [text.slice(0, text.indexOf(mark)), text.slice(text.indexOf(mark) + 1)];

for (const [name, labelled] of sweeps.filter((s) => s.startsWith('curves:')).map((s) => splitAt(s.slice('curves:'.length), '='))) {
  const runs = labelled
    .split(',')
    .map((l) => splitAt(l, '@'))
    .map(([label, dirs]) => ({ label, cells: dirs.split('+').flatMap(finishedCells) }));
  for (const alpha of new Set(runs.flatMap((r) => r.cells.map((c) => c.alpha)))) {
    const series = runs.flatMap(({ label, cells }) => {
      const own = cells.filter((c) => c.alpha === alpha);
      if (own.length === 0) return [];
      // One curve averages seeds of one configuration, nothing else.
      const configurations = new Set(own.map((c) => JSON.stringify({ ...c.options, seed: undefined })));
      const seeds = new Set(own.map((c) => c.seed));
      if (configurations.size > 1 || seeds.size < own.length) fail(`${label}, alpha ${alpha}: its cells differ in more than the seed`);
      const { mean } = spread(own.map((c) => c.report.sparsity));
      return [valCurve(`${label} (sparsity ${mean.toFixed(3)}, ${seeds.size} seeds)`, own)];
    });
    const title = `${name}, alpha ${alpha}: validation accuracy per epoch (mean, ± 1 std)`;
    writeFileSync(join(outDir, `curves-${name}-alpha${alpha}.svg`), lineChart({ title, xLabel: 'epoch', yLabel: 'validation accuracy (%)', series }));
  }
}

for (const [name, dirs] of sweeps.filter((s) => !s.startsWith('curves:')).map((s) => splitAt(s, '='))) {
  const [dir, baseline] = dirs.split(',');
  const cells = finishedCells(dir);
  const own = new Set(cells.map((c) => c.alpha));
  if (baseline) cells.push(...finishedCells(baseline).filter((c) => !own.has(c.alpha)));
  const seeds = new Set(cells.map((c) => c.seed)).size;
  for (const [reading, toX, xLabel] of [
    ['pruned', (s) => s, 'fraction pruned (sparsity)'],
    ['kept', (s) => 1 - s, 'fraction kept (1 - sparsity)'],
  ]) {
    const series = [...groupBy(cells, (c) => c.alpha)].map(([alpha, group]) => {
      const at = [...groupBy(group, (c) => toX(c.sparsity))].map(([x, g]) =>
        pointAndBar(
          x,
          g.map((c) => c.report.testAccuracy),
        ),
      );
      return { name: `alpha ${alpha}`, points: at.map((a) => a.point), ranges: at.map((a) => a.bar) };
    });
    const title = `${name}: test accuracy vs ${xLabel} (mean of up to ${seeds} seeds, bars: ± 1 std)`;
    writeFileSync(join(outDir, `fig1-${name}-${reading}.svg`), lineChart({ title, xLabel, yLabel: 'test accuracy (%)', series }));
  }
  for (const [sparsity, group] of groupBy(cells, (c) => c.sparsity)) {
    const series = [...groupBy(group, (c) => c.alpha)].map(([alpha, g]) => valCurve(`alpha ${alpha}`, g));
    const title = `${name}, sparsity ${sparsity}: validation accuracy per epoch (mean of up to ${seeds} seeds, ± 1 std)`;
    writeFileSync(join(outDir, `val-curves-${name}-${sparsity}.svg`), lineChart({ title, xLabel: 'epoch', yLabel: 'validation accuracy (%)', series }));
  }
  for (const alpha of [1, 3]) {
    const cell = cells.find((c) => c.alpha === alpha && c.sparsity === 0.5 && c.seed === 1);
    if (cell && existsSync(join(cell.dir, 'scores.svg'))) copyFileSync(join(cell.dir, 'scores.svg'), join(outDir, `fig2-${name}-scores-alpha${alpha}.svg`));
  }
}
