// The state of a sweep lives in its cell directories, nothing else: a cell is finished when the
// sweep's record OUT/cells/NAME/sweep-cell.json says so (written only after train() returned,
// so after report.json and every other file of the run), report.json can be read, and the
// recorded options equal the ones asked for now. Resume, results and merge all read this.

import { existsSync, readFileSync } from 'node:fs';
import { writeJsonAtomic } from '../io/files.js';
import { join } from 'node:path';
import { type ComparableOptions, type TrainOptions, comparableOptions, optionDifferences } from '../train/options.js';

export const CELL_RECORD_FILE = 'sweep-cell.json';

export interface CellRecord {
  cell: string;
  status: 'running' | 'finished' | 'failed';
  options: ComparableOptions;
  /** The exception's message, for failed cells. */
  error?: string;
  /** Wall-clock seconds of the train() call. */
  seconds?: number;
}

export type CellState = { status: 'finished'; record: CellRecord; report: Record<string, unknown> } | { status: 'failed'; record: CellRecord } | { status: 'pending' };

/** A finished cell whose recorded options differ from the ones asked for now. */
export class CellConflictError extends Error {}

function readJson(path: string): Record<string, unknown> | undefined {
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch {
    // Only a hand-edited or truncated-by-disk-failure file gets here: treat the cell as not run.
    return undefined;
  }
}

export function writeCellRecord(dir: string, record: CellRecord): void {
  writeJsonAtomic(join(dir, CELL_RECORD_FILE), record);
}

/** The sweep's record of the cell in `dir`, if it has one. */
export function readCellRecord(dir: string): CellRecord | undefined {
  return readJson(join(dir, CELL_RECORD_FILE)) as CellRecord | undefined;
}

/** The state of the cell in `dir`; throws CellConflictError for a finished cell run with other options. */
export function readCellState(dir: string, requested: TrainOptions): CellState {
  const record = readCellRecord(dir);
  if (record?.status === 'failed') return { status: 'failed', record };
  if (record?.status !== 'finished') return { status: 'pending' };
  const report = readJson(join(dir, 'report.json'));
  if (!report) return { status: 'pending' };
  const differences = optionDifferences(record.options, comparableOptions(requested));
  if (differences.length) {
    throw new CellConflictError(`${dir} was finished with other options (${differences.join('; ')}): use another --out, or delete that directory to run the cell again`);
  }
  return { status: 'finished', record, report };
}
