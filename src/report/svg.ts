// Dependency-free SVG charts for reports: line charts (training curves), histograms (score
// distributions, optionally overlaid as in the Efficient-MPT paper's Fig. 2) and bar charts.
// Each function returns a standalone SVG document as a string. Non-finite inputs are skipped (a
// line chart's point breaks its line there) and empty or constant data still give a valid chart,
// so no attribute is ever NaN or Infinity.
// Browser-safe: no Node imports.

export interface LineSeries {
  name: string;
  points: [number, number][];
  /** Vertical bars [x, low, high] in the series' colour, e.g. one standard deviation either side of a mean over seeds. */
  ranges?: [number, number, number][];
}

export interface LineChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: LineSeries[];
  width?: number;
  height?: number;
}

export interface HistogramSeries {
  name: string;
  values: ArrayLike<number>;
}

interface HistogramCommon {
  title: string;
  xLabel: string;
  /** Default "count". */
  yLabel?: string;
  /** Number of equal-width bins spanning all series together (default 60). */
  bins?: number;
  width?: number;
  height?: number;
}

/** One unnamed histogram (`values`) or several named ones overlaid on shared bins (`series`). */
export type HistogramOptions = HistogramCommon & ({ values: ArrayLike<number>; series?: undefined } | { series: HistogramSeries[]; values?: undefined });

export interface Bar {
  label: string;
  value: number;
}

export interface BarChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  bars: Bar[];
  width?: number;
  height?: number;
}

// Tableau 10: distinguishable colours, also when overlaid at half opacity.
const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];
const MARGIN = { left: 72, right: 20, top: 40, bottom: 56 };
/** Rough width of one character of the 12px sans-serif labels, for layout without measuring. */
const CHAR_WIDTH = 7;
/** Series with at most this many points also get a dot at each point. */
const MAX_MARKED_POINTS = 40;

export function lineChart({ title, xLabel, yLabel, series, width = 640, height = 400 }: LineChartOptions): string {
  // Each series' runs of finite points: a missing value is a gap, not a straight line across it.
  const segments = series.map((s) =>
    s.points.reduce<[number, number][][]>(
      (runs, point) => {
        if (point.every(Number.isFinite)) runs[runs.length - 1].push(point);
        else if (runs[runs.length - 1].length) runs.push([]);
        return runs;
      },
      [[]],
    ),
  );
  const finite = segments.map((runs) => runs.flat());
  const ranges = series.map((s) => (s.ranges ?? []).filter((r) => r.every(Number.isFinite)));
  const all = finite.flat();
  const plot = plotArea(width, height);
  const xAxis = niceAxis([...all.map(([x]) => x), ...ranges.flat().map(([x]) => x)]);
  const yAxis = niceAxis([...all.map(([, y]) => y), ...ranges.flat().flatMap(([, low, high]) => [low, high])]);
  const toX = scale(xAxis, plot.left, plot.right);
  const toY = scale(yAxis, plot.bottom, plot.top);
  const body = finite.map((points, i) => {
    const colour = PALETTE[i % PALETTE.length];
    const lines = segments[i].map(
      (run) => `<polyline fill="none" stroke="${colour}" stroke-width="2" points="${run.map(([x, y]) => `${num(toX(x))},${num(toY(y))}`).join(' ')}"/>`,
    );
    const dots = points.length <= MAX_MARKED_POINTS ? points.map(([x, y]) => `<circle cx="${num(toX(x))}" cy="${num(toY(y))}" r="2.5" fill="${colour}"/>`) : [];
    // An I-beam: the vertical bar with short caps at both ends.
    const bars = ranges[i].map(([x, low, high]) => {
      const [cx, y0, y1] = [toX(x), num(toY(low)), num(toY(high))];
      return `<path fill="none" stroke="${colour}" d="M${num(cx - 4)} ${y0}H${num(cx + 4)}M${num(cx)} ${y0}V${y1}M${num(cx - 4)} ${y1}H${num(cx + 4)}"/>`;
    });
    return [...lines, ...dots, ...bars].join('\n');
  });
  return svgDocument(width, height, title, [
    axes(plot, xAxis, yAxis, toX, toY, xLabel, yLabel),
    ...body,
    legend(
      plot,
      series.map((s, i) => ({ name: s.name, colour: PALETTE[i % PALETTE.length] })),
      [
        ...segments.flat().flatMap((run) => polylineInk(run.map(([x, y]) => [toX(x), toY(y)]))),
        ...ranges.flat().map(([x, low, high]): Ink => [toX(x) - 4, toX(x) + 4, toY(high), toY(low)]),
      ],
    ),
  ]);
}

export function histogram(options: HistogramOptions): string {
  const { title, xLabel, yLabel = 'count', bins = 60, width = 640, height = 400 } = options;
  if (!Number.isInteger(bins) || bins < 1) throw new Error(`histogram: bins must be a positive integer, got ${bins}`);
  const series: HistogramSeries[] = options.series ?? [{ name: '', values: options.values }];
  let low = Infinity;
  let high = -Infinity;
  for (const { values } of series) {
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (Number.isFinite(v)) {
        low = Math.min(low, v);
        high = Math.max(high, v);
      }
    }
  }
  if (!(low <= high)) [low, high] = [0, 1];
  if (low === high) [low, high] = [low - 0.5, high + 0.5];
  const binWidth = (high - low) / bins;
  const counts = series.map(({ values }) => {
    const count = new Array<number>(bins).fill(0);
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (Number.isFinite(v)) count[Math.min(bins - 1, Math.floor((v - low) / binWidth))]++;
    }
    return count;
  });
  const plot = plotArea(width, height);
  const xAxis = niceAxis([low, high]);
  const yAxis = niceAxis([0, ...counts.flat()]);
  const toX = scale(xAxis, plot.left, plot.right);
  const toY = scale(yAxis, plot.bottom, plot.top);
  const opacity = series.length > 1 ? 0.5 : 0.85;
  const body = counts.map((count, s) =>
    count
      .map((n, b) => {
        if (n === 0) return '';
        const x0 = toX(low + b * binWidth);
        const x1 = toX(low + (b + 1) * binWidth);
        return `<rect x="${num(x0)}" y="${num(toY(n))}" width="${num(x1 - x0)}" height="${num(toY(0) - toY(n))}" fill="${PALETTE[s % PALETTE.length]}" fill-opacity="${opacity}"/>`;
      })
      .filter((rect) => rect !== '')
      .join('\n'),
  );
  const named = options.series ? series.map((s, i) => ({ name: s.name, colour: PALETTE[i % PALETTE.length] })) : [];
  const bars = counts.flatMap((count) => count.flatMap((n, b): Ink[] => (n === 0 ? [] : [[toX(low + b * binWidth), toX(low + (b + 1) * binWidth), toY(n), toY(0)]])));
  return svgDocument(width, height, title, [axes(plot, xAxis, yAxis, toX, toY, xLabel, yLabel), ...body, legend(plot, named, bars)]);
}

export function barChart({ title, xLabel, yLabel, bars, width = 640, height = 400 }: BarChartOptions): string {
  const shown = bars.map((bar) => ({ label: bar.label, value: Number.isFinite(bar.value) ? bar.value : 0 }));
  const plot = plotArea(width, height);
  const yAxis = niceAxis([0, ...shown.map((bar) => bar.value)]);
  const toY = scale(yAxis, plot.bottom, plot.top);
  const slot = (plot.right - plot.left) / Math.max(1, shown.length);
  // Long labels that would collide are drawn slanted.
  const slanted = shown.some((bar) => bar.label.length * CHAR_WIDTH > slot);
  const body = shown.map(({ label, value }, i) => {
    const x = plot.left + i * slot;
    const centre = x + slot / 2;
    const top = Math.min(toY(value), toY(0));
    const labelY = plot.bottom + 16;
    const labelText = slanted
      ? `<text x="${num(centre)}" y="${num(labelY)}" text-anchor="end" transform="rotate(-35 ${num(centre)} ${num(labelY)})">${escapeXml(label)}</text>`
      : `<text x="${num(centre)}" y="${num(labelY)}" text-anchor="middle">${escapeXml(label)}</text>`;
    return [
      `<rect x="${num(x + slot * 0.15)}" y="${num(top)}" width="${num(slot * 0.7)}" height="${num(Math.abs(toY(value) - toY(0)))}" fill="${PALETTE[0]}"/>`,
      `<text x="${num(centre)}" y="${num(top - 4)}" text-anchor="middle" font-size="11">${escapeXml(formatNumber(value, 4))}</text>`,
      labelText,
    ].join('\n');
  });
  const xLabelY = height - 8;
  const frame = [
    `<line x1="${plot.left}" y1="${num(toY(0))}" x2="${plot.right}" y2="${num(toY(0))}" stroke="#333"/>`,
    `<line x1="${plot.left}" y1="${plot.top}" x2="${plot.left}" y2="${plot.bottom}" stroke="#333"/>`,
    ...yTicks(plot, yAxis, toY),
    `<text x="${num((plot.left + plot.right) / 2)}" y="${xLabelY}" text-anchor="middle">${escapeXml(xLabel)}</text>`,
    yAxisLabel(plot, yLabel),
  ].join('\n');
  return svgDocument(width, height, title, [frame, ...body]);
}

/** Escapes the five XML special characters for text content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] as string);
}

// ---- layout helpers ----

interface Plot {
  left: number;
  right: number;
  top: number;
  bottom: number;
}

interface Axis {
  min: number;
  max: number;
  ticks: number[];
}

function plotArea(width: number, height: number): Plot {
  return { left: MARGIN.left, right: width - MARGIN.right, top: MARGIN.top, bottom: height - MARGIN.bottom };
}

/** An axis over the finite values with "nice" bounds and ticks (1, 2 or 5 times a power of 10). */
function niceAxis(values: number[], targetTicks = 6): Axis {
  // A loop, not Math.min(...values): long series would overflow the argument list.
  let low = Infinity;
  let high = -Infinity;
  for (const v of values) {
    low = Math.min(low, v);
    high = Math.max(high, v);
  }
  if (!(low <= high)) [low, high] = [0, 1];
  // A range within float noise (means of equal values can differ in the last bit) is one value:
  // its ticks would round to one number and the scale divide by zero.
  if (high - low <= 1e-9 * Math.max(Math.abs(low), Math.abs(high))) {
    const mid = (low + high) / 2;
    const pad = mid === 0 ? 1 : Math.abs(mid) / 2;
    [low, high] = [mid - pad, mid + pad];
  }
  const rough = (high - low) / targetTicks;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough) ?? 10 * power;
  const first = Math.floor(low / step);
  const last = Math.ceil(high / step);
  // toPrecision removes float noise such as 0.30000000000000004.
  const ticks = Array.from({ length: last - first + 1 }, (_, k) => Number(((first + k) * step).toPrecision(12)));
  return { min: ticks[0], max: ticks[ticks.length - 1], ticks };
}

function scale(axis: Axis, from: number, to: number): (v: number) => number {
  return (v) => from + ((v - axis.min) / (axis.max - axis.min)) * (to - from);
}

/** A coordinate for an attribute: 2 decimals. */
function num(v: number): string {
  return Number(v.toFixed(2)).toString();
}

function formatNumber(v: number, digits = 6): string {
  return Number(v.toPrecision(digits)).toString();
}

/** The title's font size, and the width of one of its bold characters in ems (estimated, as CHAR_WIDTH is). */
const TITLE_SIZE = 15;
const TITLE_CHAR_EM = 0.5;

function svgDocument(width: number, height: number, title: string, parts: string[]): string {
  // A long title shrinks to the chart's width (down to 9px) instead of running off both sides.
  const titleSize = Math.max(9, Math.min(TITLE_SIZE, Math.floor((10 * (width - 16)) / (title.length * TITLE_CHAR_EM)) / 10));
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="white"/>`,
    `<text x="${num(width / 2)}" y="24" text-anchor="middle" font-size="${titleSize}" font-weight="bold">${escapeXml(title)}</text>`,
    ...parts.filter((part) => part !== ''),
    '</svg>',
    '',
  ].join('\n');
}

function yTicks(plot: Plot, yAxis: Axis, toY: (v: number) => number): string[] {
  return yAxis.ticks.map((t) => {
    const y = num(toY(t));
    return [
      `<line x1="${plot.left}" y1="${y}" x2="${plot.right}" y2="${y}" stroke="#e5e5e5"/>`,
      `<line x1="${plot.left - 5}" y1="${y}" x2="${plot.left}" y2="${y}" stroke="#333"/>`,
      `<text x="${plot.left - 8}" y="${y}" text-anchor="end" dominant-baseline="middle">${escapeXml(formatNumber(t))}</text>`,
    ].join('\n');
  });
}

function yAxisLabel(plot: Plot, yLabel: string): string {
  const x = 16;
  const y = num((plot.top + plot.bottom) / 2);
  return `<text x="${x}" y="${y}" text-anchor="middle" transform="rotate(-90 ${x} ${y})">${escapeXml(yLabel)}</text>`;
}

/** Frame, grid lines, ticks with labels and axis titles of an x-y plot. */
function axes(plot: Plot, xAxis: Axis, yAxis: Axis, toX: (v: number) => number, toY: (v: number) => number, xLabel: string, yLabel: string): string {
  const xTicks = xAxis.ticks.map((t) => {
    const x = num(toX(t));
    return [
      `<line x1="${x}" y1="${plot.bottom}" x2="${x}" y2="${plot.bottom + 5}" stroke="#333"/>`,
      `<text x="${x}" y="${plot.bottom + 18}" text-anchor="middle">${escapeXml(formatNumber(t))}</text>`,
    ].join('\n');
  });
  return [
    ...yTicks(plot, yAxis, toY),
    ...xTicks,
    `<rect x="${plot.left}" y="${plot.top}" width="${plot.right - plot.left}" height="${plot.bottom - plot.top}" fill="none" stroke="#333"/>`,
    `<text x="${num((plot.left + plot.right) / 2)}" y="${plot.bottom + 40}" text-anchor="middle">${escapeXml(xLabel)}</text>`,
    yAxisLabel(plot, yLabel),
  ].join('\n');
}

/** Where a chart has drawn, in pixels, as boxes [left, right, top, bottom]: a histogram bar, an error bar, a bit of a line. */
type Ink = [number, number, number, number];

/** The ink of a polyline and its dots: a small box at each point and every few pixels between. */
function polylineInk(points: [number, number][]): Ink[] {
  const step = 4;
  const dot = 3;
  return points.flatMap(([x, y], i): Ink[] => {
    const [nx, ny] = points[i + 1] ?? [x, y];
    const samples = Math.max(1, Math.ceil(Math.hypot(nx - x, ny - y) / step));
    return Array.from({ length: samples }, (_, k): Ink => {
      const [sx, sy] = [x + ((nx - x) * k) / samples, y + ((ny - y) * k) / samples];
      return [sx - dot, sx + dot, sy - dot, sy + dot];
    });
  });
}

/**
 * A boxed legend in the corner of the plot that covers the least of what the chart drew (`ink`);
 * top-right when nothing is covered or on a tie. Nothing for no entries.
 */
function legend(plot: Plot, entries: { name: string; colour: string }[], ink: Ink[] = []): string {
  if (entries.length === 0) return '';
  const rowHeight = 18;
  const boxWidth = 34 + CHAR_WIDTH * Math.max(...entries.map((e) => e.name.length));
  const boxHeight = entries.length * rowHeight + 8;
  const hidden = (left: number, top: number): number =>
    ink.filter(([x0, x1, y0, y1]) => x1 >= left && x0 <= left + boxWidth && Math.max(y0, y1) >= top && Math.min(y0, y1) <= top + boxHeight).length;
  const corners = [
    [plot.right - boxWidth - 8, plot.top + 8],
    [plot.right - boxWidth - 8, plot.bottom - boxHeight - 8],
    [plot.left + 8, plot.top + 8],
    [plot.left + 8, plot.bottom - boxHeight - 8],
  ];
  const covered = corners.map(([left, top]) => hidden(left, top));
  const [left, top] = corners[covered.indexOf(Math.min(...covered))];
  const rows = entries.map(({ name, colour }, i) => {
    const y = top + 6 + i * rowHeight;
    return [
      `<rect x="${num(left + 8)}" y="${num(y + 2)}" width="16" height="10" fill="${colour}"/>`,
      `<text x="${num(left + 30)}" y="${num(y + 7)}" dominant-baseline="middle">${escapeXml(name)}</text>`,
    ].join('\n');
  });
  return [`<rect x="${num(left)}" y="${num(top)}" width="${num(boxWidth)}" height="${boxHeight}" fill="white" fill-opacity="0.85" stroke="#999"/>`, ...rows].join('\n');
}
