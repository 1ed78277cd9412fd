// Shared test machinery: fast-check arbitraries for shapes, host-side inputs drawn from
// tg.randn / tg.rand, float32 comparisons, running a computation on a backend (forward and
// gradients), and central finite differences on the CPU reference.

import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as tg from '../src/index.js';
import type { Device } from './devices.js';

// Reproduce a failure with FC_SEED=<seed printed by fast-check> (and FC_PATH=<path>).
fc.configureGlobal({
  ...(process.env.FC_SEED ? { seed: Number(process.env.FC_SEED) } : {}),
  ...(process.env.FC_PATH ? { path: process.env.FC_PATH } : {}),
  ...(process.env.FC_RUNS ? { numRuns: Number(process.env.FC_RUNS) } : {}),
});

/** numRuns for a property (FC_RUNS overrides every property). */
export const runs = (n: number): { numRuns: number } => ({ numRuns: process.env.FC_RUNS ? Number(process.env.FC_RUNS) : n });

// ---- arbitraries ----

export const seedArb = fc.integer({ min: 0, max: 0x7fffffff });

/** Dims 1..maxDim, biased to small and odd sizes (1, 3, 5 show up often). */
export const dimArb = (maxDim = 5): fc.Arbitrary<number> =>
  fc.oneof({ arbitrary: fc.constantFrom(1, 3, Math.min(5, maxDim)), weight: 1 }, { arbitrary: fc.integer({ min: 1, max: maxDim }), weight: 2 });

export const shapeArb = (minRank = 0, maxRank = 4, maxDim = 5): fc.Arbitrary<number[]> => fc.array(dimArb(maxDim), { minLength: minRank, maxLength: maxRank });

/**
 * Two shapes that broadcast together (NumPy rules): a common output shape, from which each
 * operand drops some leading dims and sets some dims to 1.
 */
export const broadcastPairArb = (maxRank = 4, maxDim = 4): fc.Arbitrary<[number[], number[]]> =>
  shapeArb(0, maxRank, maxDim).chain((out) => {
    const operand = fc
      .tuple(fc.integer({ min: 0, max: out.length }), fc.array(fc.boolean(), { minLength: out.length, maxLength: out.length }))
      .map(([drop, ones]) => out.map((d, i) => (ones[i] ? 1 : d)).slice(drop));
    return fc.tuple(operand, operand);
  });

/** Axes to reduce: undefined (all), a single axis (maybe negative), or a subset of axes. */
export const axesArb = (rank: number): fc.Arbitrary<number | number[] | undefined> => {
  const all = [...Array(rank).keys()];
  const options: fc.Arbitrary<number | number[] | undefined>[] = [fc.constant(undefined)];
  if (rank > 0) {
    options.push(fc.integer({ min: -rank, max: rank - 1 }));
    options.push(fc.subarray(all, { minLength: 0 }).chain((axes) => fc.shuffledSubarray(axes, { minLength: axes.length, maxLength: axes.length })));
  }
  return fc.oneof(...options);
};

export const permutationArb = (rank: number): fc.Arbitrary<number[]> => {
  const all = [...Array(rank).keys()];
  return fc.shuffledSubarray(all, { minLength: rank, maxLength: rank });
};

// ---- inputs ----

export type Dist = 'normal' | 'positive' | 'nonzero' | 'distinct' | 'uniform';

import { sizeOf } from '../src/shape.js';

export { sizeOf };

/**
 * Host values drawn with tg.randn / tg.rand (on the CPU) from `seed`:
 * normal N(0,1); positive U[0.5, 2); uniform U[-1, 1); nonzero normal pushed at least 0.2 away
 * from 0 (keeps relu/abs/sign/div away from kinks and poles); distinct: a random permutation
 * of the values k * 0.05 (max and max pooling have a unique, stable winner).
 */
export async function values(shape: readonly number[], seed: number, dist: Dist = 'normal'): Promise<Float32Array> {
  const n = sizeOf(shape);
  const draw = async (t: tg.Tensor): Promise<Float32Array> => {
    const d = await t.data();
    t.dispose();
    return d;
  };
  switch (dist) {
    case 'normal':
      return draw(tg.randn([n], { seed, backend: 'cpu' }));
    case 'positive':
      return draw(tg.rand([n], { seed, low: 0.5, high: 2, backend: 'cpu' }));
    case 'uniform':
      return draw(tg.rand([n], { seed, low: -1, high: 1, backend: 'cpu' }));
    case 'nonzero':
      return (await draw(tg.randn([n], { seed, backend: 'cpu' }))).map((v) => (v >= 0 ? v + 0.2 : v - 0.2));
    case 'distinct': {
      const keys = await draw(tg.rand([n], { seed, backend: 'cpu' }));
      const order = [...keys.keys()].sort((a, b) => keys[a] - keys[b]);
      const out = new Float32Array(n);
      // On the grid k * 0.05 whatever n is, so a copy shifted by 0.025 never ties with it.
      order.forEach((idx, rank) => (out[idx] = (rank - Math.floor(n / 2)) * 0.05));
      return out;
    }
  }
}

/** A host-side input: its shape and values, uploadable to any backend. */
export interface Input {
  shape: number[];
  values: Float32Array;
}

export async function input(shape: readonly number[], seed: number, dist: Dist = 'normal'): Promise<Input> {
  return { shape: [...shape], values: await values(shape, seed, dist) };
}

export function upload(inp: Input, device: Device, requiresGrad = false): tg.Tensor {
  return tg.tensor(inp.values, inp.shape, { backend: device, requiresGrad });
}

// ---- comparisons ----

export interface Tolerance {
  rtol?: number;
  /** Absolute tolerance, scaled by max(1, max |expected|) (sums lose precision with their magnitude). */
  atol?: number;
}

const fmtShape = (s: readonly number[]): string => `[${s.join(', ')}]`;

/** |a - e| <= atol * max(1, max|e|) + rtol * |e| elementwise; NaN only where both are NaN. */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string, tol: Tolerance = {}): void {
  const rtol = tol.rtol ?? 1e-4;
  assert.equal(actual.length, expected.length, `${what}: ${actual.length} values, expected ${expected.length}`);
  let scale = 1;
  for (let i = 0; i < expected.length; i++) if (Number.isFinite(expected[i])) scale = Math.max(scale, Math.abs(expected[i]));
  const atol = (tol.atol ?? 1e-5) * scale;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i],
      e = expected[i];
    if (Number.isNaN(e) || Number.isNaN(a)) {
      assert.ok(Number.isNaN(e) && Number.isNaN(a), `${what}: at ${i} got ${a}, expected ${e}`);
      continue;
    }
    if (a === e) continue;
    const err = Math.abs(a - e);
    assert.ok(
      err <= atol + rtol * Math.abs(e),
      `${what}: at flat index ${i} got ${a}, expected ${e} (|diff| ${err.toExponential(2)} > ${(atol + rtol * Math.abs(e)).toExponential(2)})`,
    );
  }
}

export function assertShape(t: tg.Tensor, shape: readonly number[], what: string): void {
  assert.deepEqual([...t.shape], [...shape], `${what}: shape ${fmtShape(t.shape)}, expected ${fmtShape(shape)}`);
}

// ---- running a computation on one backend ----

export interface Result {
  shape: number[];
  out: Float32Array;
  /** d(sum(out * weights)) / d(input i), for each input (when gradients were asked for). */
  grads: Float32Array[];
}

/**
 * Uploads `inputs` to `device`, runs `fn`, and reads the output; with `weights`, also
 * back-propagates loss = sum(out * weights) and reads every input's gradient. Everything it
 * creates is disposed.
 */
export async function evaluate(device: Device, inputs: Input[], fn: (xs: tg.Tensor[]) => tg.Tensor, weights?: Float32Array): Promise<Result> {
  const withGrad = weights !== undefined;
  const { xs, out } = tg.scope(() => {
    const xs = inputs.map((inp) => upload(inp, device, withGrad));
    const out = fn(xs);
    if (withGrad) {
      assert.equal(out.requiresGrad, true, 'output must require a gradient');
      const w = tg.tensor(weights, out.shape, { backend: device });
      tg.sum(tg.mul(out, w)).backward();
    }
    return { xs, out };
  });
  try {
    const outValues = await out.data();
    const grads: Float32Array[] = [];
    if (withGrad) {
      for (const [i, x] of xs.entries()) {
        assert.ok(x.grad, `input ${i} got no gradient`);
        assertShape(x.grad, x.shape, `gradient of input ${i}`);
        grads.push(await x.grad.data());
      }
    }
    return { shape: [...out.shape], out: outValues, grads };
  } finally {
    out.dispose();
    xs.forEach((x) => x.dispose());
  }
}

/** The same computation on the CPU and on `device`: outputs (and gradients) must agree. */
export async function assertMatchesCpu(
  device: Device,
  inputs: Input[],
  fn: (xs: tg.Tensor[]) => tg.Tensor,
  what: string,
  tol: Tolerance = {},
  options: { grad?: boolean; weightSeed?: number } = {},
): Promise<void> {
  let weights: Float32Array | undefined;
  const cpu0 = await evaluate('cpu', inputs, fn);
  if (options.grad) weights = await values(cpu0.shape, options.weightSeed ?? 12345, 'normal');
  const cpu = weights ? await evaluate('cpu', inputs, fn, weights) : cpu0;
  const got = await evaluate(device, inputs, fn, weights);
  assert.deepEqual(got.shape, cpu.shape, `${what}: output shape on ${device} ${fmtShape(got.shape)} vs cpu ${fmtShape(cpu.shape)}`);
  assertClose(got.out, cpu.out, `${what}: ${device} output vs cpu`, tol);
  got.grads.forEach((g, i) => assertClose(g, cpu.grads[i], `${what}: ${device} gradient of input ${i} (shape ${fmtShape(inputs[i].shape)}) vs cpu`, tol));
}

// ---- finite differences ----

/** loss = sum(fn(inputs) * weights) on the CPU, accumulated in float64 on the host. */
async function cpuLoss(inputs: Input[], fn: (xs: tg.Tensor[]) => tg.Tensor, weights: Float32Array): Promise<number> {
  const out = tg.noGrad(() => tg.scope(() => fn(inputs.map((inp) => upload(inp, 'cpu')))));
  const v = await out.data();
  out.dispose();
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * weights[i];
  return s;
}

export interface FdOptions {
  /** Step (default 1e-2). */
  h?: number;
  /** |fd - analytic| <= tol * max(1, |analytic|) (default 2e-2). */
  tol?: number;
  /** Which inputs to check (default all). */
  check?: number[];
  /** Coordinates checked per input (default 4). */
  points?: number;
}

/**
 * Central finite differences on the CPU reference against the analytic gradient of
 * loss = sum(fn(inputs) * weights), with fixed random weights, at a few coordinates per input
 * chosen from `pick` (fast-check chosen).
 */
export async function assertFiniteDifferences(inputs: Input[], fn: (xs: tg.Tensor[]) => tg.Tensor, what: string, pick: number, options: FdOptions = {}): Promise<void> {
  const h = options.h ?? 1e-2;
  const tol = options.tol ?? 2e-2;
  const points = options.points ?? 4;
  const probe = await evaluate('cpu', inputs, fn);
  const weights = await values(probe.shape, (pick * 7 + 1) >>> 0, 'normal');
  const { grads } = await evaluate('cpu', inputs, fn, weights);
  const check = options.check ?? inputs.map((_, i) => i);
  for (const i of check) {
    const n = inputs[i].values.length;
    const coords = new Set<number>();
    for (let k = 0; k < Math.min(points, n); k++) coords.add((pick + k * 7919 + Math.floor((k * n) / points)) % n);
    for (const j of coords) {
      const at = (delta: number): Input[] =>
        inputs.map((inp, m) => {
          if (m !== i) return inp;
          const v = Float32Array.from(inp.values);
          v[j] += delta;
          return { shape: inp.shape, values: v };
        });
      // The step actually taken in float32.
      const up = at(h),
        down = at(-h);
      const step = up[i].values[j] - down[i].values[j];
      const fd = ((await cpuLoss(up, fn, weights)) - (await cpuLoss(down, fn, weights))) / step;
      const an = grads[i][j];
      assert.ok(
        Math.abs(fd - an) <= tol * Math.max(1, Math.abs(an)),
        `${what}: d loss / d input${i}[${j}] (input shape ${fmtShape(inputs[i].shape)}): analytic ${an}, finite difference ${fd}`,
      );
    }
  }
}
