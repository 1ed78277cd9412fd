// One row per cell: its axis values, status, and the numbers of its report.json. Besides the
// fields every report has, any other numeric top-level field (e.g. zeroKernelFraction,
// accelerationRate) becomes a column of its own, so new report fields need no change here.

import { type GridAxis, type GridCell, isNumericValue } from './grid.js';
import type { CellState } from './state.js';

export type ResultValue = string | number | null;
export type ResultRow = Record<string, ResultValue>;

/** Columns from report.json, in this order; report fields renamed where an axis has the same name (sparsity, backend). */
const REPORT_COLUMNS = ['testAccuracy', 'denseTestAccuracy', 'achievedSparsity', 'totalEpochSeconds', 'meanEpochSeconds', 'maskSeconds'] as const;
/** Report fields covered by the columns above or not numeric results. */
const MAPPED_REPORT_FIELDS = new Set(['testAccuracy', 'denseTestAccuracy', 'sparsity', 'epochSeconds', 'maskSeconds']);
const LEADING_COLUMNS = ['cell'];
const STATUS_COLUMNS = ['status'];
const TRAILING_COLUMNS = ['usedBackend', 'cellSeconds', 'error', 'dir'];

const finiteNumber = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** The row of one cell; `dir` is where its run directory is, as the results should show it. */
export function resultRow(cell: GridCell, axes: GridAxis[], state: CellState, dir: string): ResultRow {
  const row: ResultRow = { cell: cell.name };
  for (const axis of axes) {
    const value = cell.values[axis.name];
    row[axis.name] = isNumericValue(value) ? Number(value) : value;
  }
  row.status = state.status;
  if (state.status === 'finished') {
    const report = state.report;
    const epochs = Array.isArray(report.epochSeconds) ? report.epochSeconds.filter((s): s is number => typeof s === 'number') : [];
    const total = epochs.reduce((a, s) => a + s, 0);
    Object.assign(row, {
      testAccuracy: finiteNumber(report.testAccuracy),
      denseTestAccuracy: finiteNumber(report.denseTestAccuracy),
      achievedSparsity: finiteNumber(report.sparsity),
      totalEpochSeconds: total,
      meanEpochSeconds: epochs.length ? total / epochs.length : null,
      maskSeconds: finiteNumber(report.maskSeconds),
      usedBackend: typeof report.backend === 'string' ? report.backend : null,
    });
    for (const [key, value] of Object.entries(report)) {
      // An extra field never overwrites an axis or a column of the sweep's own.
      if (!MAPPED_REPORT_FIELDS.has(key) && !(key in row) && finiteNumber(value) !== null) row[key] = value as number;
    }
  }
  if (state.status !== 'pending') row.cellSeconds = finiteNumber(state.record.seconds);
  if (state.status === 'failed') row.error = state.record.error ?? 'unknown error';
  row.dir = dir;
  return row;
}

/** cell, the axes, status, the report columns, extra report fields (sorted by name), then backend, time, error, dir. */
export function resultColumns(axes: GridAxis[], rows: ResultRow[]): string[] {
  const known = new Set<string>([...LEADING_COLUMNS, ...axes.map((a) => a.name), ...STATUS_COLUMNS, ...REPORT_COLUMNS, ...TRAILING_COLUMNS]);
  const extra = [...new Set(rows.flatMap((r) => Object.keys(r)))].filter((k) => !known.has(k)).sort();
  return [...LEADING_COLUMNS, ...axes.map((a) => a.name), ...STATUS_COLUMNS, ...REPORT_COLUMNS, ...extra, ...TRAILING_COLUMNS];
}

/** Every column in every row, null where a row has no value, keys in column order. */
export function completeRows(columns: string[], rows: ResultRow[]): ResultRow[] {
  return rows.map((row) => Object.fromEntries(columns.map((c) => [c, row[c] ?? null])));
}

/** RFC 4180 quoting: quoted when it holds a comma, quote, CR or LF (or edge spaces), quotes doubled; null is empty. */
export function csvField(value: ResultValue): string {
  if (value === null) return '';
  const text = String(value);
  return /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** A header line and one line per row, LF line ends (RFC 4180's CRLF trips up line-based Unix tools). */
export function toCsv(columns: string[], rows: ResultRow[]): string {
  const lines = [columns, ...rows.map((row) => columns.map((c) => row[c] ?? null))].map((fields) => fields.map(csvField).join(','));
  return `${lines.join('\n')}\n`;
}
