// The state of a sweep lives in its cell directories, nothing else: a cell is finished when the
// sweep's record OUT/cells/NAME/sweep-cell.json says so (written only after train() returned,
// so after report.json and every other file of the run), report.json can be read, and the
// recorded options, and those report.json holds, equal the ones asked for now. Resume, results
// and merge all read this.

import { readJsonFile, writeJsonAtomic } from '../io/files.js';
import { type Check, aNumber, aString, anObject, oneOf, optional, readFields } from '../io/json.js';
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

const RECORD_FIELDS: { [K in keyof CellRecord]-?: Check } = {
  cell: aString,
  status: oneOf(['running', 'finished', 'failed']),
  options: anObject,
  error: optional(aString),
  seconds: optional(aNumber),
};

/** A JSON object file as `read` takes it; undefined when it is missing or damaged. */
function readOrUndefined<T>(path: string, read: (value: Record<string, unknown>) => T): T | undefined {
  try {
    return read(readJsonFile(path));
  } catch {
    // Only a missing, hand-edited or truncated-by-disk-failure file gets here: treat the cell as not run.
    return undefined;
  }
}

export function writeCellRecord(dir: string, record: CellRecord): void {
  writeJsonAtomic(join(dir, CELL_RECORD_FILE), record);
}

/** The sweep's record of the cell in `dir`, if it has a readable one. */
export function readCellRecord(dir: string): CellRecord | undefined {
  const path = join(dir, CELL_RECORD_FILE);
  return readOrUndefined(path, (value) => readFields<CellRecord>(value, RECORD_FIELDS, path));
}

/** The state of the cell in `dir`; throws CellConflictError for a finished cell run with other options. */
export function readCellState(dir: string, requested: TrainOptions): CellState {
  const record = readCellRecord(dir);
  if (record?.status === 'failed') return { status: 'failed', record };
  if (record?.status !== 'finished') return { status: 'pending' };
  const report = readOrUndefined(join(dir, 'report.json'), (value) => value);
  if (!report) return { status: 'pending' };
  const differences = optionDifferences(record.options, comparableOptions(requested));
  if (differences.length) {
    throw new CellConflictError(`${dir} was finished with other options (${differences.join('; ')}): use another --out, or delete that directory to run the cell again`);
  }
  // A run written into the cell's directory since (train --out DIR --overwrite) leaves the record
  // in place: its report must not pass for the cell's. The report holds the rate it resolved.
  const reported = report.options;
  const reportDifferences =
    typeof reported === 'object' && reported !== null
      ? optionDifferences(reported as ComparableOptions, record.options, record.options.lr === undefined ? ['lr'] : [])
      : ['it records no options'];
  if (reportDifferences.length) {
    throw new CellConflictError(
      `${dir}: its report.json is of a run with other options than the cell's (${reportDifferences.join('; ')}): delete that directory to run the cell again`,
    );
  }
  return { status: 'finished', record, report };
}
