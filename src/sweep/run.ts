// Running a sweep, or one shard of it, and merging sweep directories into one result set.
//
// OUT/sweep.json        the definition (axes and fixed train flags): resume and merge read it
// OUT/cells/NAME/       each cell's run directory (report.json, ...) and its sweep-cell.json
// OUT/results.{json,csv}, summary.csv, accuracy.svg, epoch-time.svg
//                       the whole grid's results (unsharded)
// OUT/results.shard-I-of-N.json    one shard's rows (sharded)

import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { formatDuration } from '../report/format.js';
import { cellArgs, checkDefinition, expandGrid, type GridAxis, type GridCell, type SweepDefinition } from './grid.js';
import { PLOTTED, sweepPlots } from './plots.js';
import { completeRows, resultColumns, type ResultRow, resultRow, toCsv } from './results.js';
import { summaryRows } from './summary.js';
import { type Shard, shardItems } from './shard.js';
import { type CellState, readCellRecord, readCellState, writeCellRecord } from './state.js';
import { comparableOptions } from '../train/options.js';
import { type TrainOptions, canResume } from '../train/train.js';
import { makeDirectory, readJsonFile, writeFileAtomic, writeJsonAtomic } from '../io/files.js';
import { aString, anObject, listOf, readFields } from '../io/json.js';

export const DEFINITION_FILE = 'sweep.json';
/** Mean and standard deviation over seeds, one row per combination of the other axes. */
const SUMMARY_FILE = 'summary.csv';

export interface PlannedCell extends GridCell {
  /** Parsed train options; `out` is the cell's directory. */
  options: TrainOptions;
}

/** The train CLI's parser (parseTrainArgs), passed in so that this module does not depend on the CLI. */
export type ParseTrainArgs = (args: string[]) => TrainOptions;

/**
 * Runs one cell (continuing it from its checkpoint with `resume`); a thrown exception marks
 * the cell failed, a result marked `stopped` (Ctrl-C) ends the sweep with the cell unfinished.
 */
export type RunCell = (options: TrainOptions, resume: boolean) => Promise<{ testAccuracy: number; stopped?: boolean }>;

export const cellDir = (out: string, name: string): string => join(out, 'cells', name);

/** Every cell of the grid, its options parsed and so validated before anything runs; errors name the cell. */
export function planCells(definition: SweepDefinition, out: string, parse: ParseTrainArgs): PlannedCell[] {
  checkDefinition(definition);
  return expandGrid(definition.axes).map((cell) => {
    try {
      return { ...cell, options: parse([...cellArgs(definition, cell), `--out=${cellDir(out, cell.name)}`]) };
    } catch (e) {
      throw new Error(`cell ${cell.name}: ${(e as Error).message}`);
    }
  });
}

export function readDefinition(dir: string): SweepDefinition {
  const path = join(dir, DEFINITION_FILE);
  if (!existsSync(path)) throw new Error(`${path} not found: ${dir} is not a sweep directory`);
  const { axes, fixed } = readFields<{ axes: unknown[]; fixed: string[] }>(readJsonFile(path), { axes: listOf(anObject), fixed: listOf(aString) }, path);
  const definition = { axes: axes.map((a, i) => readFields<GridAxis>(a, { name: aString, values: listOf(aString) }, `${path}: axes[${i}]`)), fixed };
  try {
    checkDefinition(definition);
  } catch (e) {
    throw new Error(`${path}: ${(e as Error).message}`);
  }
  return definition;
}

const definitionText = ({ axes, fixed }: SweepDefinition): string => JSON.stringify({ axes, fixed });

/**
 * How a sweep's grid differs from the recorded one, in words; null when every recorded cell is
 * still in it (the same grid, or values added to an axis), which loses nothing. (Changed train
 * flags are caught per cell: a finished cell run with other options is a CellConflictError.)
 */
export function gridDifference(recorded: SweepDefinition, asked: SweepDefinition): string | null {
  const askedCells = new Set(expandGrid(asked.axes).map((c) => c.name));
  if (expandGrid(recorded.axes).every((c) => askedCells.has(c.name))) return null;
  const axes = (d: SweepDefinition): string => d.axes.map((a) => `${a.name}=${a.values.join(',')}`).join(' ');
  return `grid ${axes(recorded)} recorded, ${axes(asked)} asked for`;
}

/** Deletes what a sweep wrote into `out`: its definition, cells, results and plots. */
export function clearSweep(out: string): void {
  rmSync(join(out, 'cells'), { recursive: true, force: true });
  const written = new Set([DEFINITION_FILE, SUMMARY_FILE, ...PLOTTED.map((p) => p.file)]);
  for (const f of readdirSync(out)) if (written.has(f) || /^results\.(json|csv|shard-\d+-of-\d+\.json)$/.test(f)) rmSync(join(out, f), { force: true });
}

function writeDefinition(dir: string, definition: SweepDefinition): void {
  writeJsonAtomic(join(dir, DEFINITION_FILE), { version: 1, axes: definition.axes, fixed: definition.fixed });
}

/** The whole grid's results.json, results.csv, summary.csv and plots (shard: just results.shard-I-of-N.json). */
function writeResults(out: string, definition: SweepDefinition, rows: ResultRow[], shard?: Shard): void {
  const columns = resultColumns(definition.axes, rows);
  const complete = completeRows(columns, rows);
  const grid = { axes: definition.axes, fixed: definition.fixed };
  if (shard && shard.count > 1) {
    writeJsonAtomic(join(out, `results.shard-${shard.index}-of-${shard.count}.json`), { grid, shard: { index: shard.index, count: shard.count }, columns, rows: complete });
    return;
  }
  writeJsonAtomic(join(out, 'results.json'), { grid, columns, rows: complete });
  writeFileAtomic(join(out, 'results.csv'), toCsv(columns, complete));
  const summary = summaryRows(definition.axes, complete);
  writeFileAtomic(join(out, SUMMARY_FILE), toCsv(summary.columns, summary.rows));
  for (const [file, svg] of Object.entries(sweepPlots(definition.axes, complete))) writeFileAtomic(join(out, file), svg);
}

export interface SweepSummary {
  /** Cells in the grid and in this shard. */
  cells: number;
  inShard: number;
  /** Cells of this shard already finished before this run. */
  skipped: number;
  finished: number;
  failed: number;
  /** Ctrl-C stopped the cell in progress: running the sweep again continues it. */
  stopped: boolean;
}

export interface RunSweepOptions {
  out: string;
  definition: SweepDefinition;
  cells: PlannedCell[];
  shard: Shard;
  runCell: RunCell;
  log: (line: string) => void;
  /** Milliseconds clock (default performance.now). */
  now?: () => number;
}

const percent = (x: number): string => `${(100 * x).toFixed(2)}%`;

/**
 * Runs the shard's cells that are not finished, one after another, recording each cell's
 * outcome and rewriting the shard's results after each one, so an interrupted sweep loses at
 * most the cell in progress. Refuses (CellConflictError, before running anything) when any
 * finished cell of the grid was run with other options.
 */
export async function runSweep({ out, definition, cells, shard, runCell, log, now = () => performance.now() }: RunSweepOptions): Promise<SweepSummary> {
  const states = cells.map((cell) => readCellState(cell.options.out, cell.options));
  makeDirectory(out, '--out');
  writeDefinition(out, definition);
  const mine = shardItems(
    cells.map((cell, i) => ({ cell, state: states[i] })),
    shard,
  );
  const toRun = mine.filter(({ state }) => state.status !== 'finished').map(({ cell }) => cell);
  const shardRows = (): ResultRow[] => mine.map(({ cell }) => resultRow(cell, definition.axes, readCellState(cell.options.out, cell.options), relative(out, cell.options.out)));
  const where = shard.count > 1 ? `shard ${shard.index}/${shard.count} (${shard.source}) has ${mine.length}` : 'unsharded';
  log(`sweep ${out}: ${cells.length} cells, ${where}; ${mine.length - toRun.length} finished before, ${toRun.length} to run`);

  const seconds: number[] = [];
  let [finished, failed, finishedElsewhere] = [0, 0, 0];
  for (const [i, cell] of toRun.entries()) {
    const tag = `[${i + 1}/${toRun.length}] ${cell.name}`;
    // Another process on the same directory (a shard, a second machine) may have finished it meanwhile.
    if (readCellState(cell.options.out, cell.options).status === 'finished') {
      finishedElsewhere++;
      log(`${tag}: finished meanwhile by another process, not run`);
      continue;
    }
    const record = { cell: cell.name, options: comparableOptions(cell.options) };
    // An attempt of the same cell that was stopped, killed or failed continues from its last
    // finished epoch, if its checkpoint reads and was trained with these options.
    const resume = readCellRecord(cell.options.out) !== undefined && canResume(cell.options);
    log(`${tag}: ${resume ? 'resumed from its checkpoint' : 'started'}`);
    makeDirectory(cell.options.out, 'sweep cell');
    writeCellRecord(cell.options.out, { ...record, status: 'running' });
    const started = now();
    let result: { testAccuracy: number; stopped?: boolean } | { error: string };
    try {
      // The cell's directory is the sweep's: a new attempt replaces an earlier one's files.
      result = await runCell({ ...cell.options, overwrite: !resume }, resume);
    } catch (e) {
      result = { error: e instanceof Error ? e.message : String(e) };
    }
    const elapsed = (now() - started) / 1000;
    seconds.push(elapsed);
    if ('stopped' in result && result.stopped) {
      log(`${tag}: stopped; run the same command again to continue it`);
      writeResults(out, definition, shardRows(), shard);
      return { cells: cells.length, inShard: mine.length, skipped: mine.length - toRun.length + finishedElsewhere, finished, failed, stopped: true };
    }
    if ('error' in result) {
      failed++;
      writeCellRecord(cell.options.out, { ...record, status: 'failed', seconds: elapsed, error: result.error });
    } else {
      finished++;
      writeCellRecord(cell.options.out, { ...record, status: 'finished', seconds: elapsed });
    }
    const outcome =
      'error' in result
        ? `FAILED after ${formatDuration(1000 * elapsed)}: ${result.error}`
        : `finished in ${formatDuration(1000 * elapsed)}, test accuracy ${percent(result.testAccuracy)}`;
    const left = toRun.length - i - 1;
    const eta = left ? `; ${left} to go, ETA ${formatDuration((1000 * left * seconds.reduce((a, s) => a + s, 0)) / seconds.length)}` : '';
    log(`${tag}: ${outcome}${eta}`);
    writeResults(out, definition, shardRows(), shard);
  }
  writeResults(out, definition, shardRows(), shard);
  return { cells: cells.length, inShard: mine.length, skipped: mine.length - toRun.length + finishedElsewhere, finished, failed, stopped: false };
}

export interface MergeSummary {
  cells: number;
  finished: number;
  failed: number;
  pending: number;
}

/**
 * Joins sweep directories of the same grid (shards run on different machines, or one shared
 * directory) into one result set in `out`: for every cell, the first directory (in the order
 * given) where it finished, else where it failed. The results' `dir` column points to it.
 */
export function mergeSweeps(inputs: string[], out: string, parse: ParseTrainArgs): MergeSummary {
  const definition = readDefinition(inputs[0]);
  for (const input of inputs.slice(1)) {
    if (definitionText(readDefinition(input)) !== definitionText(definition)) throw new Error(`${input} has another grid than ${inputs[0]} (compare their ${DEFINITION_FILE})`);
  }
  const cells = planCells(definition, inputs[0], parse);
  const rank: Record<CellState['status'], number> = { finished: 0, failed: 1, pending: 2 };
  const rows = cells.map((cell) => {
    const found = inputs.map((input) => ({ dir: cellDir(input, cell.name), state: readCellState(cellDir(input, cell.name), cell.options) }));
    const best = found.reduce((a, b) => (rank[b.state.status] < rank[a.state.status] ? b : a));
    return resultRow(cell, definition.axes, best.state, relative(out, best.dir));
  });
  makeDirectory(out, '--out');
  writeResults(out, definition, rows);
  const count = (status: CellState['status']): number => rows.filter((r) => r.status === status).length;
  return { cells: cells.length, finished: count('finished'), failed: count('failed'), pending: count('pending') };
}
