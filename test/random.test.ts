// The counter-based RNG: the same values on every backend for a seed, different for another.

import assert from 'node:assert/strict';
import fc from 'fast-check';
import { test } from 'node:test';
import * as tg from '../src/index.js';
import { devices, forEachDevice } from './devices.js';
import { runs, seedArb, shapeArb } from './helpers.js';

test('randn / rand: the same seed gives identical values on every backend', async () => {
  await fc.assert(
    fc.asyncProperty(shapeArb(0, 3, 7), seedArb, async (shape, seed) => {
      for (const make of [tg.randn, tg.rand]) {
        const [ref, ...others] = await Promise.all(devices.map((backend) => make(shape, { seed, backend }).data()));
        for (const o of others) assert.deepEqual(o, ref);
        assert.deepEqual(await make(shape, { seed, backend: 'cpu' }).data(), ref, 'same seed twice');
      }
    }),
    runs(15),
  );
});

forEachDevice('randn / rand: another seed gives different values', async () => {
  for (const make of [tg.randn, tg.rand]) {
    const a = await make([100], { seed: 1 }).data();
    const b = await make([100], { seed: 2 }).data();
    const same = a.filter((v, i) => v === b[i]).length;
    assert.ok(same < 3, `${same} of 100 values equal across seeds`);
  }
  // Without a seed, successive draws differ too.
  const c = await tg.randn([50]).data();
  const d = await tg.randn([50]).data();
  assert.notDeepEqual(c, d);
});

forEachDevice('randn: 10,000 samples have mean ~0 and std ~1; mean/std options', async () => {
  const stats = (v: Float32Array): [number, number] => {
    const mean = v.reduce((s, x) => s + x, 0) / v.length;
    return [mean, Math.sqrt(v.reduce((s, x) => s + (x - mean) ** 2, 0) / (v.length - 1))];
  };
  for (const seed of [0, 1, 123456]) {
    const [m, s] = stats(await tg.randn([100, 100], { seed }).data());
    // Standard errors: 0.01 for the mean, ~0.007 for the std.
    assert.ok(Math.abs(m) < 0.05, `mean ${m}`);
    assert.ok(Math.abs(s - 1) < 0.05, `std ${s}`);
  }
  const [m, s] = stats(await tg.randn([10000], { seed: 9, mean: 3, std: 0.5 }).data());
  assert.ok(Math.abs(m - 3) < 0.025, `mean ${m}`);
  assert.ok(Math.abs(s - 0.5) < 0.025, `std ${s}`);
});

forEachDevice('rand: samples lie in [low, high) with the right mean', async () => {
  const v = await tg.rand([10000], { seed: 4 }).data();
  assert.ok(v.every((x) => x >= 0 && x < 1));
  const mean = v.reduce((s, x) => s + x, 0) / v.length;
  assert.ok(Math.abs(mean - 0.5) < 0.015, `mean ${mean}`);
  const w = await tg.rand([1000], { seed: 5, low: -2, high: 3 }).data();
  assert.ok(w.every((x) => x >= -2 && x < 3));
  assert.ok(Math.min(...w) < -1.9 && Math.max(...w) > 2.9);
});
