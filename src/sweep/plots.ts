// Plots of a sweep's results (finished cells): test accuracy and epoch time against the first
// numeric axis other than seed (Fig. 1: accuracy vs sparsity), one line per combination of the
// other axes (one per alpha), the mean over seeds with bars of one standard deviation either side
// where there are several; the title says how many seeds the points average and how many cells
// are missing, and a missing point breaks its line.
// A grid with no numeric axis (e.g. method x mask) gets one bar per combination instead.

import { barChart, lineChart, type LineSeries } from '../report/svg.js';
import { type GridAxis, isNumericValue } from './grid.js';
import type { ResultRow } from './results.js';
import { REPEAT_AXIS, summaryRows } from './summary.js';

interface PlottedMetric {
  column: string;
  file: string;
  title: string;
  yLabel: string;
}

/** Each column is one that summary.ts summarises (its mean and std over seeds are plotted). */
export const PLOTTED: PlottedMetric[] = [
  { column: 'testAccuracy', file: 'accuracy.svg', title: 'Test accuracy', yLabel: 'test accuracy' },
  { column: 'meanEpochSeconds', file: 'epoch-time.svg', title: 'Epoch time', yLabel: 'seconds per epoch (mean)' },
];

/** File name to SVG document. */
export function sweepPlots(axes: GridAxis[], rows: ResultRow[]): Record<string, string> {
  const xAxis = axes.find((a) => a.name !== REPEAT_AXIS && a.values.every(isNumericValue));
  const groupAxes = axes.filter((a) => a !== xAxis && a.name !== REPEAT_AXIS);
  const groupOf = (row: ResultRow): string => groupAxes.map((a) => `${a.name}=${row[a.name]}`).join(', ');
  const summary = summaryRows(axes, rows).rows;
  // What the points stand for: the seeds each one averages (a failed or pending cell is not
  // among them) and the grid's cells that no point shows.
  const seedCounts = summary.map((row) => Number(row.seeds));
  const [fewest, most] = [Math.min(...seedCounts), Math.max(...seedCounts)];
  const cells = axes.reduce((n, a) => n * a.values.length, 1);
  const missing = cells - rows.filter((r) => r.status === 'finished').length;
  const notes = [
    ...(most > 1 ? [`mean of ${fewest === most ? most : `${fewest}-${most}`} seeds${xAxis ? ', bars: ± 1 std' : ''}`] : []),
    ...(missing > 0 ? [`${missing} of ${cells} cells not finished`] : []),
  ];
  const noted = notes.length ? ` (${notes.join('; ')})` : '';
  const plots: Record<string, string> = {};
  for (const metric of PLOTTED) {
    // Group to its [x, mean, std] over seeds; Maps keep the grid's order.
    const groups = new Map<string, [number, number, number | null][]>();
    for (const row of summary) {
      const mean = row[`${metric.column}Mean`];
      if (typeof mean !== 'number') continue;
      const std = row[`${metric.column}Std`];
      const points = groups.get(groupOf(row)) ?? [];
      groups.set(groupOf(row), points);
      points.push([xAxis ? Number(row[xAxis.name]) : 0, mean, typeof std === 'number' ? std : null]);
    }
    const title = `${metric.title}${xAxis ? ` vs ${xAxis.name}` : ''}${noted}`;
    if (xAxis) {
      const xs = xAxis.values.map(Number).sort((a, b) => a - b);
      const series: LineSeries[] = [...groups].map(([name, points]) => ({
        name: name || metric.yLabel,
        // A grid value without a finished cell breaks the line (NaN) instead of being bridged.
        points: xs.map((x): [number, number] => [x, points.find(([px]) => px === x)?.[1] ?? Number.NaN]),
        // A bar where there is a spread: a single seed's point has none.
        ranges: points.flatMap(([x, mean, std]): [number, number, number][] => (std === null ? [] : [[x, mean - std, mean + std]])).sort(([a], [b]) => a - b),
      }));
      plots[metric.file] = lineChart({ title, xLabel: xAxis.name, yLabel: metric.yLabel, series });
    } else {
      // Without a numeric axis every group is one summary row.
      const bars = [...groups].map(([name, [[, mean]]]) => ({ label: name || 'all cells', value: mean }));
      plots[metric.file] = barChart({ title, xLabel: groupAxes.map((a) => a.name).join(', ') || 'cell', yLabel: metric.yLabel, bars });
    }
  }
  return plots;
}
