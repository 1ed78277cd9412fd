// Plots of a sweep's results (finished cells): test accuracy and epoch time against the first
// numeric axis other than seed (Fig. 1: accuracy vs sparsity), one line per combination of the
// other axes (one per alpha), the mean over seeds with bars of one standard deviation either side
// when there are several.
// A grid with no numeric axis (e.g. method x mask) gets one bar per combination instead.

import { barChart, lineChart, type LineSeries } from '../report/svg.js';
import { type GridAxis, isNumericValue } from './grid.js';
import type { ResultRow } from './results.js';
import { REPEAT_AXIS, spread } from './summary.js';

interface PlottedMetric {
  column: string;
  file: string;
  title: string;
  yLabel: string;
}

export const PLOTTED: PlottedMetric[] = [
  { column: 'testAccuracy', file: 'accuracy.svg', title: 'Test accuracy', yLabel: 'test accuracy' },
  { column: 'meanEpochSeconds', file: 'epoch-time.svg', title: 'Epoch time', yLabel: 'seconds per epoch (mean)' },
];

/** File name to SVG document. */
export function sweepPlots(axes: GridAxis[], rows: ResultRow[]): Record<string, string> {
  const xAxis = axes.find((a) => a.name !== REPEAT_AXIS && a.values.every(isNumericValue));
  const groupAxes = axes.filter((a) => a !== xAxis && a.name !== REPEAT_AXIS);
  const seeds = axes.find((a) => a.name === REPEAT_AXIS)?.values.length ?? 1;
  const averaged = seeds > 1 ? ` (mean of ${seeds} seeds${xAxis ? ', bars: ± 1 std' : ''})` : '';
  const groupOf = (row: ResultRow): string => groupAxes.map((a) => `${a.name}=${row[a.name]}`).join(', ');
  const plots: Record<string, string> = {};
  for (const metric of PLOTTED) {
    // Group, then x value, to the values over seeds; Maps keep the grid's order.
    const groups = new Map<string, Map<number, number[]>>();
    for (const row of rows) {
      const value = row[metric.column];
      if (row.status !== 'finished' || typeof value !== 'number') continue;
      const group = groups.get(groupOf(row)) ?? new Map<number, number[]>();
      groups.set(groupOf(row), group);
      const x = xAxis ? Number(row[xAxis.name]) : 0;
      group.set(x, [...(group.get(x) ?? []), value]);
    }
    const title = `${metric.title}${xAxis ? ` vs ${xAxis.name}` : ''}${averaged}`;
    if (xAxis) {
      const series: LineSeries[] = [...groups].map(([name, byX]) => {
        const xs = [...byX.keys()].sort((a, b) => a - b);
        return {
          name: name || metric.yLabel,
          points: xs.map((x): [number, number] => [x, spread(byX.get(x)!).mean]),
          ranges:
            seeds > 1
              ? xs.map((x): [number, number, number] => {
                  const { mean, std } = spread(byX.get(x)!);
                  return [x, mean - (std ?? 0), mean + (std ?? 0)];
                })
              : undefined,
        };
      });
      plots[metric.file] = lineChart({ title, xLabel: xAxis.name, yLabel: metric.yLabel, series });
    } else {
      const bars = [...groups].map(([name, byX]) => ({ label: name || 'all cells', value: spread([...byX.values()].flat()).mean }));
      plots[metric.file] = barChart({ title, xLabel: groupAxes.map((a) => a.name).join(', ') || 'cell', yLabel: metric.yLabel, bars });
    }
  }
  return plots;
}
