// Every op under test as a fast-check generator of cases: parameters (shapes, axes, kernel
// geometry, seeds) and how to build the inputs and the computation. ops.test.ts checks
// WebGPU against the CPU reference with them; grad.test.ts checks gradients (finite
// differences on the CPU, then WebGPU against the CPU).

import fc from 'fast-check';
import * as tg from '../src/index.js';
import { type Dist, type FdOptions, type Input, type Tolerance, axesArb, broadcastPairArb, dimArb, input, permutationArb, seedArb, shapeArb, sizeOf } from './helpers.js';

export interface Built {
  inputs: Input[];
  fn: (xs: tg.Tensor[]) => tg.Tensor;
}

// biome-ignore lint/suspicious/noExplicitAny: one list holds the cases of every parameter type.
export interface OpCase<P = any> {
  name: string;
  arb: fc.Arbitrary<P>;
  build(p: P): Promise<Built>;
  /** WebGPU vs CPU tolerance. */
  tol?: Tolerance;
  /** Finite-difference options; false: no gradient (not differentiable / no inputs needing one). */
  fd?: FdOptions | false;
  runs?: number;
  /** Extra cases always run first (fast-check `examples`). */
  examples?: P[];
}

const opCase = <P>(c: OpCase<P>): OpCase<P> => c;

const backendOf = (xs: tg.Tensor[]): tg.BackendName => xs[0].backend.name;

// ---- elementwise ----

type BinaryFn = (a: tg.Tensor, b: tg.Tensor | number) => tg.Tensor;

interface BinarySpec {
  name: string;
  fn: BinaryFn;
  a: Dist;
  b: Dist;
  /** Shift added to b's values (keeps maximum's operands apart). */
  bShift?: number;
}

const binaries: BinarySpec[] = [
  { name: 'add', fn: tg.add, a: 'normal', b: 'normal' },
  { name: 'sub', fn: tg.sub, a: 'normal', b: 'normal' },
  { name: 'mul', fn: tg.mul, a: 'normal', b: 'normal' },
  { name: 'div', fn: tg.div, a: 'normal', b: 'nonzero' },
  // A tensor exponent needs a positive base.
  { name: 'pow', fn: tg.pow, a: 'positive', b: 'uniform' },
  { name: 'maximum', fn: tg.maximum, a: 'distinct', b: 'distinct', bShift: 0.025 },
];

const binaryCases: OpCase[] = binaries.map((spec) =>
  opCase({
    name: `${spec.name} (tensor, tensor) with broadcasting`,
    arb: fc.record({ shapes: broadcastPairArb(), seedA: seedArb, seedB: seedArb }),
    examples: [
      { shapes: [[2, 3], [3]], seedA: 1, seedB: 2 },
      {
        shapes: [
          [4, 1],
          [1, 5],
        ],
        seedA: 3,
        seedB: 4,
      },
      { shapes: [[], [2, 1, 3]], seedA: 5, seedB: 6 },
    ],
    async build({ shapes, seedA, seedB }) {
      const a = await input(shapes[0], seedA, spec.a);
      const b = await input(shapes[1], seedB, spec.b);
      if (spec.bShift) b.values = b.values.map((v) => v + spec.bShift!);
      return { inputs: [a, b], fn: ([x, y]) => spec.fn(x, y) };
    },
  }),
);

interface ScalarSpec {
  name: string;
  fn: BinaryFn;
  a: Dist;
  scalar: fc.Arbitrary<number>;
}

const finiteScalar = fc.double({ min: -3, max: 3, noNaN: true, noDefaultInfinity: true }).map((v) => Math.fround(v));
const nonzeroScalar = finiteScalar.filter((v) => Math.abs(v) > 0.1);

const scalars: ScalarSpec[] = [
  { name: 'add', fn: tg.add, a: 'normal', scalar: finiteScalar },
  { name: 'sub', fn: tg.sub, a: 'normal', scalar: finiteScalar },
  { name: 'mul', fn: tg.mul, a: 'normal', scalar: finiteScalar },
  { name: 'div', fn: tg.div, a: 'normal', scalar: nonzeroScalar },
  { name: 'pow', fn: tg.pow, a: 'positive', scalar: finiteScalar },
  // An integer exponent is defined for a negative base too (sign kept for odd exponents).
  { name: 'pow (integer exponent, any base)', fn: tg.pow, a: 'normal', scalar: fc.constantFrom(0, 1, 2, 3, -1, -2) },
  { name: 'maximum', fn: tg.maximum, a: 'nonzero', scalar: fc.constant(0) },
];

const scalarCases: OpCase[] = scalars.map((spec) =>
  opCase({
    name: `${spec.name} (tensor, number)`,
    arb: fc.record({ shape: shapeArb(0, 4), seed: seedArb, s: spec.scalar }),
    async build({ shape, seed, s }) {
      let dist = spec.a;
      // x^-1, x^-2 near 0 blow up: keep the base away from 0 for negative exponents.
      if (dist === 'normal' && s < 0) dist = 'nonzero';
      return { inputs: [await input(shape, seed, dist)], fn: ([x]) => spec.fn(x, s) };
    },
  }),
);

interface UnarySpec {
  name: string;
  fn: (x: tg.Tensor) => tg.Tensor;
  dist: Dist;
}

const unaries: UnarySpec[] = [
  { name: 'neg', fn: tg.neg, dist: 'normal' },
  { name: 'exp', fn: tg.exp, dist: 'normal' },
  { name: 'log', fn: tg.log, dist: 'positive' },
  { name: 'abs', fn: tg.abs, dist: 'nonzero' },
  { name: 'sign', fn: tg.sign, dist: 'nonzero' },
  { name: 'sqrt', fn: tg.sqrt, dist: 'positive' },
  { name: 'relu', fn: tg.relu, dist: 'nonzero' },
  { name: 'sigmoid', fn: tg.sigmoid, dist: 'normal' },
];

const unaryCases: OpCase[] = unaries.map((spec) =>
  opCase({
    name: spec.name,
    arb: fc.record({ shape: shapeArb(0, 4), seed: seedArb }),
    async build({ shape, seed }) {
      return { inputs: [await input(shape, seed, spec.dist)], fn: ([x]) => spec.fn(x) };
    },
  }),
);

// ---- reductions ----

const reduceArb = shapeArb(0, 4).chain((shape) => fc.record({ shape: fc.constant(shape), axes: axesArb(shape.length), keepDims: fc.boolean(), seed: seedArb }));

const reductions: { name: string; fn: (x: tg.Tensor, axes: number | number[] | undefined, keep: boolean) => tg.Tensor; dist: Dist }[] = [
  { name: 'sum', fn: tg.sum, dist: 'normal' },
  { name: 'mean', fn: tg.mean, dist: 'normal' },
  // Distinct values: a unique maximum, so the gradient is defined.
  { name: 'max', fn: tg.max, dist: 'distinct' },
];

const reduceCases: OpCase[] = reductions.map((spec) =>
  opCase({
    name: `${spec.name} over random axes`,
    arb: reduceArb,
    examples: [
      { shape: [3, 4, 5], axes: [0, 2], keepDims: true, seed: 1 },
      { shape: [3, 4, 5], axes: -1, keepDims: false, seed: 2 },
      { shape: [2, 3], axes: undefined, keepDims: false, seed: 3 },
      { shape: [2, 3], axes: [], keepDims: false, seed: 4 },
    ],
    async build({ shape, axes, keepDims, seed }) {
      return { inputs: [await input(shape, seed, spec.dist)], fn: ([x]) => spec.fn(x, axes, keepDims) };
    },
  }),
);

// ---- shape ops ----

/** A new shape of the same size: the dims shuffled, some merged, maybe one -1. */
const reshapeArb = shapeArb(0, 4).chain((shape) =>
  fc.record({
    shape: fc.constant(shape),
    target: fc
      .tuple(
        fc.shuffledSubarray(shape, { minLength: shape.length, maxLength: shape.length }),
        fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
        fc.integer({ min: -1, max: 4 }),
      )
      .map(([dims, merge, inferAt]) => {
        const out: number[] = [];
        for (const [i, d] of dims.entries()) {
          if (i > 0 && merge[i - 1]) out[out.length - 1] *= d;
          else out.push(d);
        }
        if (inferAt >= 0 && inferAt < out.length) out[inferAt] = -1;
        return out;
      }),
    seed: seedArb,
  }),
);

const transposeArb = shapeArb(0, 5, 4).chain((shape) => fc.record({ shape: fc.constant(shape), perm: fc.option(permutationArb(shape.length), { nil: undefined }), seed: seedArb }));

const flattenArb = shapeArb(1, 4).chain((shape) => fc.record({ shape: fc.constant(shape), startDim: fc.integer({ min: 0, max: shape.length - 1 }), seed: seedArb }));

const shapeCases: OpCase[] = [
  opCase({
    name: 'reshape',
    arb: reshapeArb,
    async build({ shape, target, seed }) {
      return { inputs: [await input(shape, seed)], fn: ([x]) => tg.reshape(x, target) };
    },
  }),
  opCase({
    name: 'transpose (random permutations)',
    arb: transposeArb,
    examples: [
      { shape: [2, 3], perm: [1, 0], seed: 1 },
      { shape: [2, 3, 4, 5], perm: [3, 1, 0, 2], seed: 2 },
      { shape: [3, 1, 4], perm: undefined, seed: 3 },
    ],
    async build({ shape, perm, seed }) {
      return { inputs: [await input(shape, seed)], fn: ([x]) => tg.transpose(x, perm) };
    },
  }),
  opCase({
    name: 'flatten',
    arb: flattenArb,
    async build({ shape, startDim, seed }) {
      return { inputs: [await input(shape, seed)], fn: ([x]) => tg.flatten(x, startDim) };
    },
  }),
  opCase({
    name: 'transpose then broadcasting add (non-contiguous operands)',
    arb: fc.record({ a: dimArb(5), b: dimArb(5), c: dimArb(5), seed: seedArb }),
    async build({ a, b, c, seed }) {
      return {
        inputs: [await input([a, b, c], seed), await input([c, 1, a], seed + 1)],
        fn: ([x, y]) => tg.add(tg.transpose(x, [2, 1, 0]), y),
      };
    },
  }),
];

// ---- matmul ----

const mm = dimArb(9);

const matmulCases: OpCase[] = [
  opCase({
    name: 'matmul 2-D [m,k] x [k,n]',
    arb: fc.record({ m: mm, k: mm, n: mm, seed: seedArb }),
    examples: [
      { m: 1, k: 1, n: 1, seed: 1 },
      { m: 33, k: 7, n: 35, seed: 2 },
    ],
    tol: { atol: 1e-4 },
    async build({ m, k, n, seed }) {
      return { inputs: [await input([m, k], seed), await input([k, n], seed + 1)], fn: ([a, b]) => tg.matmul(a, b) };
    },
  }),
  opCase({
    name: 'matmul batched 3-D [B,m,k] x [B,k,n]',
    arb: fc.record({ batch: fc.integer({ min: 1, max: 3 }), m: mm, k: mm, n: mm, seed: seedArb }),
    tol: { atol: 1e-4 },
    async build({ batch, m, k, n, seed }) {
      return { inputs: [await input([batch, m, k], seed), await input([batch, k, n], seed + 1)], fn: ([a, b]) => tg.matmul(a, b) };
    },
  }),
  opCase({
    name: 'matmul 3-D x 2-D [B,m,k] x [k,n]',
    arb: fc.record({ batch: fc.integer({ min: 1, max: 3 }), m: mm, k: mm, n: mm, seed: seedArb }),
    tol: { atol: 1e-4 },
    async build({ batch, m, k, n, seed }) {
      return { inputs: [await input([batch, m, k], seed), await input([k, n], seed + 1)], fn: ([a, b]) => tg.matmul(a, b) };
    },
  }),
];

// ---- convolution and pooling ----

export interface ConvParamsArb {
  n: number;
  c: number;
  o: number;
  h: number;
  w: number;
  kh: number;
  kw: number;
  stride: [number, number];
  padding: [number, number];
  seed: number;
}

/** Input sizes that leave at least one output position: H + 2*pad >= k. */
const convArb: fc.Arbitrary<ConvParamsArb> = fc
  .record({
    n: fc.integer({ min: 1, max: 3 }),
    c: fc.integer({ min: 1, max: 6 }),
    o: fc.integer({ min: 1, max: 6 }),
    kh: fc.integer({ min: 1, max: 5 }),
    kw: fc.integer({ min: 1, max: 5 }),
    stride: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
    padding: fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 })),
    seed: seedArb,
  })
  .chain((p) =>
    fc
      .record({
        h: fc.integer({ min: Math.max(1, p.kh - 2 * p.padding[0]), max: 9 }),
        w: fc.integer({ min: Math.max(1, p.kw - 2 * p.padding[1]), max: 9 }),
      })
      .map((hw) => ({ ...p, ...hw })),
  );

/** Square stride/padding given as a number when both halves agree (exercises both forms). */
const pairOrNumber = (p: [number, number]): number | [number, number] => (p[0] === p[1] ? p[0] : p);

const convExamples: ConvParamsArb[] = [
  { n: 2, c: 3, o: 4, h: 7, w: 6, kh: 3, kw: 3, stride: [2, 2], padding: [1, 1], seed: 11 },
  { n: 1, c: 2, o: 3, h: 8, w: 9, kh: 2, kw: 5, stride: [2, 3], padding: [2, 1], seed: 12 },
  { n: 1, c: 1, o: 1, h: 1, w: 1, kh: 1, kw: 1, stride: [1, 1], padding: [0, 0], seed: 13 },
];

export interface PoolParamsArb {
  n: number;
  c: number;
  h: number;
  w: number;
  kh: number;
  kw: number;
  stride: [number, number] | undefined;
  padding: [number, number];
  seed: number;
}

const poolArb: fc.Arbitrary<PoolParamsArb> = fc
  .record({
    n: fc.integer({ min: 1, max: 3 }),
    c: fc.integer({ min: 1, max: 4 }),
    kh: fc.integer({ min: 1, max: 4 }),
    kw: fc.integer({ min: 1, max: 4 }),
    stride: fc.option(fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })), { nil: undefined }),
    seed: seedArb,
  })
  .chain((p) =>
    fc
      .record({
        padding: fc.tuple(fc.integer({ min: 0, max: Math.floor(p.kh / 2) }), fc.integer({ min: 0, max: Math.floor(p.kw / 2) })),
      })
      .chain((q) =>
        fc
          .record({
            h: fc.integer({ min: Math.max(1, p.kh - 2 * q.padding[0]), max: 9 }),
            w: fc.integer({ min: Math.max(1, p.kw - 2 * q.padding[1]), max: 9 }),
          })
          .map((hw) => ({ ...p, ...q, ...hw })),
      ),
  );

const poolExamples: PoolParamsArb[] = [
  { n: 2, c: 3, h: 6, w: 6, kh: 2, kw: 2, stride: undefined, padding: [0, 0], seed: 21 },
  { n: 1, c: 2, h: 7, w: 5, kh: 3, kw: 3, stride: [2, 2], padding: [1, 1], seed: 22 },
  { n: 1, c: 1, h: 5, w: 8, kh: 2, kw: 4, stride: [1, 3], padding: [1, 2], seed: 23 },
  // More than 16 positions: the WebGPU kernel loops over the window instead of writing it out.
  { n: 1, c: 2, h: 6, w: 5, kh: 5, kw: 4, stride: [2, 1], padding: [2, 1], seed: 24 },
];

const poolOptions = (p: PoolParamsArb): tg.Pool2dOptions => ({
  kernelSize: p.kh === p.kw ? p.kh : [p.kh, p.kw],
  ...(p.stride ? { stride: pairOrNumber(p.stride) } : {}),
  padding: pairOrNumber(p.padding),
});

const convCases: OpCase[] = [
  opCase({
    name: 'conv2d',
    arb: convArb,
    examples: convExamples,
    tol: { atol: 1e-4 },
    async build(p) {
      return {
        inputs: [await input([p.n, p.c, p.h, p.w], p.seed), await input([p.o, p.c, p.kh, p.kw], p.seed + 1)],
        fn: ([x, w]) => tg.conv2d(x, w, { stride: pairOrNumber(p.stride), padding: pairOrNumber(p.padding) }),
      };
    },
  }),
  opCase({
    name: 'maxPool2d',
    arb: poolArb,
    examples: poolExamples,
    async build(p) {
      return { inputs: [await input([p.n, p.c, p.h, p.w], p.seed, 'distinct')], fn: ([x]) => tg.maxPool2d(x, poolOptions(p)) };
    },
  }),
  opCase({
    name: 'avgPool2d',
    arb: poolArb,
    examples: poolExamples,
    async build(p) {
      return { inputs: [await input([p.n, p.c, p.h, p.w], p.seed)], fn: ([x]) => tg.avgPool2d(x, poolOptions(p)) };
    },
  }),
];

// ---- normalisation and losses ----

export const bnArb = fc
  .record({
    n: fc.integer({ min: 1, max: 3 }),
    c: fc.integer({ min: 1, max: 4 }),
    h: fc.integer({ min: 1, max: 4 }),
    w: fc.integer({ min: 1, max: 4 }),
    affine: fc.boolean(),
    training: fc.boolean(),
    momentum: fc.constantFrom(0.1, 0.5),
    seed: seedArb,
  })
  // Training normalises with batch statistics: keep several values per channel so the
  // variance is well away from 0 (the gradient gets ill-conditioned otherwise).
  .filter((p) => p.n * p.h * p.w >= 6);

export type BnParams = typeof bnArb extends fc.Arbitrary<infer T> ? T : never;

/** Running statistics (a plausible mean, a positive variance) for a batchNorm2d case. */
export async function runningStats(c: number, seed: number): Promise<{ mean: Float32Array; variance: Float32Array }> {
  return { mean: (await input([c], seed + 7)).values, variance: (await input([c], seed + 8, 'positive')).values };
}

const bnCase = opCase({
  name: 'batchNorm2d',
  arb: bnArb,
  examples: [
    { n: 2, c: 3, h: 3, w: 2, affine: true, training: true, momentum: 0.1, seed: 31 },
    { n: 2, c: 3, h: 3, w: 2, affine: false, training: true, momentum: 0.1, seed: 32 },
    { n: 2, c: 3, h: 3, w: 2, affine: true, training: false, momentum: 0.1, seed: 33 },
    { n: 3, c: 2, h: 2, w: 1, affine: false, training: false, momentum: 0.1, seed: 34 },
  ],
  tol: { atol: 1e-4, rtol: 1e-3 },
  async build(p) {
    const inputs = [await input([p.n, p.c, p.h, p.w], p.seed)];
    if (p.affine) inputs.push(await input([p.c], p.seed + 1, 'positive'), await input([p.c], p.seed + 2));
    const stats = await runningStats(p.c, p.seed);
    return {
      inputs,
      fn: ([x, weight, bias]) => {
        const backend = backendOf([x]);
        return tg.batchNorm2d(x, {
          weight: weight ?? null,
          bias: bias ?? null,
          runningMean: tg.tensor(stats.mean, [p.c], { backend }),
          runningVar: tg.tensor(stats.variance, [p.c], { backend }),
          training: p.training,
          momentum: p.momentum,
        });
      },
    };
  },
});

const lossCases: OpCase[] = [
  bnCase,
  opCase({
    name: 'logSoftmax',
    arb: shapeArb(1, 3, 6).chain((shape) =>
      fc.record({ shape: fc.constant(shape), axis: fc.integer({ min: -shape.length, max: shape.length - 1 }), scale: fc.constantFrom(1, 10), seed: seedArb }),
    ),
    async build({ shape, axis, scale, seed }) {
      const x = await input(shape, seed);
      x.values = x.values.map((v) => v * scale);
      return { inputs: [x], fn: ([t]) => tg.logSoftmax(t, axis) };
    },
  }),
  ...(['array', 'tensor'] as const).map((kind) =>
    opCase({
      name: `crossEntropy (labels as ${kind})`,
      arb: fc
        .record({ batch: fc.integer({ min: 1, max: 6 }), classes: fc.integer({ min: 1, max: 7 }), seed: seedArb })
        .chain((p) => fc.record({ labels: fc.array(fc.integer({ min: 0, max: p.classes - 1 }), { minLength: p.batch, maxLength: p.batch }) }).map((l) => ({ ...p, ...l }))),
      async build({ batch, classes, labels, seed }) {
        return {
          inputs: [await input([batch, classes], seed)],
          fn: ([logits]) => tg.crossEntropy(logits, kind === 'array' ? labels : tg.tensor(labels, [batch], { backend: backendOf([logits]) })),
        };
      },
    }),
  ),
];

/** Composite: a tiny conv net's loss (conv -> relu -> pool -> flatten -> matmul -> crossEntropy). */
const compositeCase = opCase({
  name: 'composite conv-relu-pool-linear-crossEntropy',
  arb: fc.record({ seed: seedArb, labels: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 2, maxLength: 2 }) }),
  tol: { atol: 1e-4, rtol: 1e-3 },
  // relu and max pooling have kinks that random inputs may sit near: gradient parity only.
  fd: false,
  async build({ seed, labels }) {
    return {
      inputs: [await input([2, 2, 6, 6], seed), await input([3, 2, 3, 3], seed + 1), await input([3 * 3 * 3, 3], seed + 2)],
      fn: ([x, w, lin]) => {
        const h = tg.maxPool2d(tg.relu(tg.conv2d(x, w, { padding: 1 })), { kernelSize: 2 });
        return tg.crossEntropy(tg.matmul(tg.flatten(h), lin), labels);
      },
    };
  },
});

export const cases: OpCase[] = [...binaryCases, ...scalarCases, ...unaryCases, ...reduceCases, ...shapeCases, ...matmulCases, ...convCases, ...lossCases, compositeCase];

export { sizeOf };
