// The numbers of a sweep over seeds: one row per combination of the other axes with the mean and
// the sample standard deviation of each measured column (summary.csv, and the plots' error bars).

import type { GridAxis } from './grid.js';
import type { ResultRow } from './results.js';

/** Averaged over, never plotted along or grouped by. */
export const REPEAT_AXIS = 'seed';

/** The columns summarised, where any row has them. */
const SUMMARIZED = ['testAccuracy', 'valAccuracy', 'achievedSparsity', 'meanEpochSeconds', 'zeroKernelFraction', 'accelerationRate'];

export interface Spread {
  mean: number;
  /** Sample standard deviation (n - 1); null for a single value. */
  std: number | null;
  n: number;
}

/** Mean and sample standard deviation of at least one value. */
export function spread(values: number[]): Spread {
  const n = values.length;
  const mean = values.reduce((a, v) => a + v, 0) / n;
  const std = n > 1 ? Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1)) : null;
  return { mean, std, n };
}

/**
 * One row per combination of the axes other than seed, in grid order: those axes, `seeds` (the
 * finished cells it averages), then `<column>Mean` and `<column>Std` for each summarised column
 * that some row has. Unfinished cells are left out.
 */
export function summaryRows(axes: GridAxis[], rows: ResultRow[]): { columns: string[]; rows: ResultRow[] } {
  const groupAxes = axes.filter((a) => a.name !== REPEAT_AXIS).map((a) => a.name);
  const finished = rows.filter((r) => r.status === 'finished');
  const measured = SUMMARIZED.filter((c) => finished.some((r) => typeof r[c] === 'number'));
  const groups = new Map<string, ResultRow[]>();
  for (const row of finished) {
    const key = JSON.stringify(groupAxes.map((a) => row[a]));
    const group = groups.get(key) ?? [];
    groups.set(key, group);
    group.push(row);
  }
  const summary = [...groups.values()].map((group) => {
    const out: ResultRow = Object.fromEntries(groupAxes.map((a) => [a, group[0][a]]));
    out.seeds = group.length;
    for (const column of measured) {
      const values = group.map((r) => r[column]).filter((v): v is number => typeof v === 'number');
      const s = values.length ? spread(values) : null;
      out[`${column}Mean`] = s?.mean ?? null;
      out[`${column}Std`] = s?.std ?? null;
    }
    return out;
  });
  return { columns: [...groupAxes, 'seeds', ...measured.flatMap((c) => [`${c}Mean`, `${c}Std`])], rows: summary };
}
