// The state of a sweep lives in its cell directories, nothing else: a cell is finished when the
// sweep's record OUT/cells/NAME/sweep-cell.json says so (written only after train() returned,
// so after report.json and every other file of the run), report.json can be read, and the
// recorded options equal the ones asked for now. Resume, results and merge all read this.

import { existsSync, readFileSync } from 'node:fs';
import { writeJsonAtomic } from '../io/files.js';
import { join } from 'node:path';
import { DEFAULT_OPTIONS, type TrainOptions } from '../train/train.js';

export const CELL_RECORD_FILE = 'sweep-cell.json';

/** Options as JSON values (undefined fields dropped), without the ones that do not change a result. */
export type ComparableOptions = Record<string, unknown>;

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

/**
 * The options that define a cell's result: `out` and `verbose` dropped, and every field missing
 * from a record (written by an older ticketgrad without that option) counted as its default.
 */
export function comparableOptions(options: Partial<TrainOptions> | ComparableOptions): ComparableOptions {
  const { out: _out, verbose: _verbose, overwrite: _overwrite, ...rest } = { ...DEFAULT_OPTIONS, ...options } as Record<string, unknown>;
  // Cells recorded before the bitonic top-k was named so recorded it as `sort`.
  if (rest.mask === 'sort') rest.mask = 'bitonic';
  return JSON.parse(JSON.stringify(rest)) as ComparableOptions;
}

/** `epochs: 10 recorded, 3 asked for`, one entry per differing option. */
export function optionDifferences(recorded: ComparableOptions, requested: ComparableOptions): string[] {
  const a = comparableOptions(recorded);
  const b = comparableOptions(requested);
  const show = (v: unknown): string => (v === undefined ? '(unset)' : JSON.stringify(v));
  return [...new Set([...Object.keys(a), ...Object.keys(b)])]
    .filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]))
    .map((k) => `${k}: ${show(a[k])} recorded, ${show(b[k])} asked for`);
}

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

/** The state of the cell in `dir`; throws CellConflictError for a finished cell run with other options. */
export function readCellState(dir: string, requested: TrainOptions): CellState {
  const record = readJson(join(dir, CELL_RECORD_FILE)) as CellRecord | undefined;
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
