// SVG charts: well-formed markup, escaped text, finite numbers even for empty or constant data.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { barChart, escapeXml, histogram, lineChart } from '../src/report/svg.js';

/** Checks the basic shape of an SVG document and returns the element names it opens. */
function checkSvg(svg: string): string[] {
  assert.ok(svg.startsWith('<svg '), 'starts with <svg');
  assert.ok(svg.trimEnd().endsWith('</svg>'), 'ends with </svg>');
  assert.doesNotMatch(svg, /NaN|Infinity|undefined/);
  const stack: string[] = [];
  const opened: string[] = [];
  for (const [, closing, name, selfClosing] of svg.matchAll(/<(\/?)([a-zA-Z]+)\b[^<>]*?(\/?)>/g)) {
    if (closing) assert.equal(stack.pop(), name, `</${name}> closes the open element`);
    else {
      opened.push(name);
      if (!selfClosing) stack.push(name);
    }
  }
  assert.deepEqual(stack, [], 'every element is closed');
  // Text between tags holds no raw markup characters.
  for (const text of svg.split(/<[^<>]*>/)) assert.doesNotMatch(text, /[<>]|&(?!(amp|lt|gt|quot|apos);)/);
  for (const [, value] of svg.matchAll(/="([^"]*)"/g)) {
    for (const number of value.match(/-?\d*\.?\d+(e[-+]?\d+)?/g) ?? []) assert.ok(Number.isFinite(Number(number)), value);
  }
  return opened;
}

const count = (names: string[], name: string): number => names.filter((n) => n === name).length;

test('escapeXml escapes the five special characters', () => {
  assert.equal(escapeXml(`a<b & "c" 'd'>`), 'a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;');
});

test('lineChart: one polyline per series, a legend with the names, escaped text', () => {
  const svg = lineChart({
    title: 'Accuracy <MPT> & dense',
    xLabel: 'epoch',
    yLabel: 'test accuracy (%)',
    series: [
      {
        name: 'dense',
        points: [
          [1, 94.3],
          [2, 95],
          [3, 95.7],
        ],
      },
      { name: 'MPT "0.5"', points: Array.from({ length: 200 }, (_, i): [number, number] => [i, 80 + Math.sin(i)]) },
      { name: 'one point', points: [[2, 90]] },
    ],
  });
  const names = checkSvg(svg);
  assert.equal(count(names, 'polyline'), 3);
  assert.match(svg, /Accuracy &lt;MPT&gt; &amp; dense/);
  assert.match(svg, /MPT &quot;0\.5&quot;/);
  assert.match(svg, />dense</);
  assert.ok(count(names, 'circle') >= 4, 'markers on short series, including a single point');
});

test('lineChart: the legend takes a corner where it covers none of the line: below a curve that rises to a plateau, above one that falls to it', () => {
  const curve = (n: number, f: (t: number) => number) => Array.from({ length: n }, (_, i): [number, number] => [i + 1, f(i / (n - 1))]);
  for (const [n, name] of [
    [12, 'a long enough series name'],
    [10, 'a'],
    [3, 'accuracy'],
  ] as const) {
    for (const [points, corner] of [
      [curve(n, (t) => Math.min(95, 40 + 110 * t)), 'bottom'],
      [curve(n, (t) => Math.max(45, 100 - 110 * t)), 'top'],
    ] as const) {
      const svg = lineChart({ title: corner, xLabel: 'epoch', yLabel: 'accuracy', series: [{ name, points: [...points] }] });
      const box = /<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)" fill="white" fill-opacity="0.85" stroke="#999"\/>/.exec(svg);
      assert.ok(box, 'a legend box');
      const [left, top, width, height] = box.slice(1).map(Number);
      const line = (/<polyline [^>]*points="([^"]+)"/.exec(svg)?.[1] ?? '').split(' ').map((p) => p.split(',').map(Number));
      assert.equal(line.length, n);
      // The line, sampled every pixel along each segment.
      const ink = line.flatMap(([x, y], i) => {
        const [nx, ny] = line[i + 1] ?? [x, y];
        const steps = Math.max(1, Math.ceil(Math.hypot(nx - x, ny - y)));
        return Array.from({ length: steps }, (_, k) => [x + ((nx - x) * k) / steps, y + ((ny - y) * k) / steps]);
      });
      const covered = ink.filter(([x, y]) => x >= left && x <= left + width && y >= top && y <= top + height);
      assert.deepEqual(covered, [], `${n} points, '${name}': nothing of the line under the legend`);
      const middle = (Math.min(...line.map(([, y]) => y)) + Math.max(...line.map(([, y]) => y))) / 2;
      assert.equal(top > middle ? 'bottom' : 'top', corner, `${n} points, '${name}'`);
    }
  }
});

test('lineChart: empty, constant and non-finite data still give finite coordinates', () => {
  checkSvg(lineChart({ title: 'empty', xLabel: 'x', yLabel: 'y', series: [] }));
  checkSvg(lineChart({ title: 'no points', xLabel: 'x', yLabel: 'y', series: [{ name: 'a', points: [] }] }));
  checkSvg(
    lineChart({
      title: 'constant',
      xLabel: 'x',
      yLabel: 'y',
      series: [
        {
          name: 'a',
          points: [
            [1, 5],
            [1, 5],
          ],
        },
      ],
    }),
  );
  checkSvg(lineChart({ title: 'zero', xLabel: 'x', yLabel: 'y', series: [{ name: 'a', points: [[0, 0]] }] }));
  checkSvg(
    lineChart({
      title: 'bad',
      xLabel: 'x',
      yLabel: 'y',
      series: [
        {
          name: 'a',
          points: [
            [NaN, 1],
            [1, Infinity],
            [2, 3],
          ],
        },
      ],
    }),
  );
  checkSvg(
    lineChart({
      title: 'tiny',
      xLabel: 'x',
      yLabel: 'y',
      series: [
        {
          name: 'a',
          points: [
            [0, 1e-9],
            [1, 2e-9],
          ],
        },
      ],
    }),
  );
});

/** A chart of one series named a. */
const oneLine = (title: string, points: [number, number][]): string => lineChart({ title, xLabel: 'x', yLabel: 'y', series: [{ name: 'a', points }] });

test('lineChart: values that differ only in float noise get an axis; a non-finite point breaks its line', () => {
  // Means of equal values differ in the last bit: 0.1 + 0.2 and 0.3, the mean of three 0.1005 and 0.1005.
  const noise: [number, number][][] = [
    [
      [0.1, 0.3],
      [0.5, 0.1 + 0.2],
    ],
    [
      [1, (0.1005 + 0.1005 + 0.1005) / 3],
      [2, 0.1005],
    ],
  ];
  for (const points of noise) checkSvg(oneLine('noise', points));
  const opened = checkSvg(
    oneLine('gap', [
      [1, 1],
      [2, 2],
      [3, NaN],
      [4, 3],
      [5, 4],
    ]),
  );
  assert.equal(count(opened, 'polyline'), 2, 'the line stops at the missing value and starts again after it');
  assert.equal(count(opened, 'circle'), 4);
});

test('a title too long for the chart is set smaller, never below 9px; a short one keeps 15px', () => {
  const titleSizeOf = (svg: string): number => Number(svg.match(/font-size="([\d.]+)" font-weight="bold"/)?.[1]);
  assert.equal(titleSizeOf(oneLine('short', [[0, 1]])), 15);
  const long = 'conv6-same-lr: test accuracy vs fraction pruned (sparsity) (mean of up to 3 seeds, bars: ± 1 std)';
  const size = titleSizeOf(oneLine(long, [[0, 1]]));
  assert.ok(size < 15 && long.length * size * 0.5 <= 640 - 16, `${size}px for ${long.length} characters`);
  assert.equal(titleSizeOf(oneLine(long.repeat(3), [[0, 1]])), 9);
});

test('histogram: one or two overlaid distributions on shared bins; legend only for named series', () => {
  const normal = Float32Array.from({ length: 5000 }, (_, i) => Math.sin(i) * Math.cos(i * 0.7));
  const single = histogram({ title: 'scores', xLabel: '|S|', values: normal, bins: 30 });
  const names = checkSvg(single);
  assert.ok(count(names, 'rect') > 10 && count(names, 'rect') <= 30 + 2);
  const overlaid = histogram({
    title: 'Fig. 2',
    xLabel: 'score',
    series: [
      { name: 'alpha = 1', values: normal },
      { name: 'alpha = 3', values: normal.map((v) => v * Math.abs(v) * Math.abs(v)) },
    ],
  });
  checkSvg(overlaid);
  assert.match(overlaid, /alpha = 1/);
  assert.match(overlaid, /fill-opacity="0\.5"/);
  assert.throws(() => histogram({ title: 't', xLabel: 'x', values: normal, bins: 0 }), /bins/);
});

test('histogram: empty, constant and non-finite values', () => {
  checkSvg(histogram({ title: 'empty', xLabel: 'x', values: new Float32Array(0) }));
  checkSvg(histogram({ title: 'constant', xLabel: 'x', values: new Float32Array(100).fill(3) }));
  checkSvg(histogram({ title: 'zeros', xLabel: 'x', values: new Float32Array(10) }));
  checkSvg(histogram({ title: 'non-finite', xLabel: 'x', values: Float32Array.of(NaN, Infinity, -Infinity, 1, 2) }));
  checkSvg(histogram({ title: 'no series', xLabel: 'x', series: [] }));
});

test('barChart: one bar and one value label per entry; negative, empty and crowded inputs', () => {
  const svg = barChart({
    title: 'Acceleration',
    xLabel: 'sparsity',
    yLabel: 'AR',
    bars: [
      { label: '70%', value: 1.4 },
      { label: '90% <x>', value: 2.3 },
      { label: '95%', value: 3 },
    ],
  });
  const names = checkSvg(svg);
  assert.equal(count(names, 'rect'), 1 + 3, 'background + bars');
  assert.match(svg, />2\.3</);
  assert.match(svg, /90% &lt;x&gt;/);
  checkSvg(barChart({ title: 'empty', xLabel: 'x', yLabel: 'y', bars: [] }));
  checkSvg(barChart({ title: 'zero', xLabel: 'x', yLabel: 'y', bars: [{ label: 'a', value: 0 }] }));
  checkSvg(
    barChart({
      title: 'negative',
      xLabel: 'x',
      yLabel: 'y',
      bars: [
        { label: 'a', value: -2 },
        { label: 'b', value: NaN },
        { label: 'c', value: 5 },
      ],
    }),
  );
  const crowded = barChart({ title: 'many', xLabel: 'x', yLabel: 'y', bars: Array.from({ length: 40 }, (_, i) => ({ label: `configuration ${i}`, value: i })) });
  checkSvg(crowded);
  assert.match(crowded, /rotate\(-35/);
});
