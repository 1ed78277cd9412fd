// Forward results: every op on every accelerated backend (wasm, WebGPU) equals the CPU
// reference within float32 tolerance, on random shapes and parameters from fast-check (see
// cases.ts).

import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as tg from '../src/index.js';
import { acceleratorTest, forEachDevice } from './devices.js';
import { bnArb, cases, runningStats } from './cases.js';
import { assertClose, assertMatchesCpu, input, runs, upload } from './helpers.js';

for (const c of cases) {
  acceleratorTest(`${c.name}: forward`, async (device) => {
    await fc.assert(
      fc.asyncProperty(c.arb, async (p) => {
        const built = await c.build(p);
        await assertMatchesCpu(device, built.inputs, built.fn, c.name, c.tol);
      }),
      { ...runs(c.runs ?? 15), examples: (c.examples ?? []).map((e) => [e] as [unknown]) },
    );
  });
}

// batchNorm2d in training updates its running statistics in place (PyTorch's rule: the
// variance update uses the unbiased batch variance).
forEachDevice('batchNorm2d training updates runningMean / runningVar', async (device) => {
  await fc.assert(
    fc.asyncProperty(bnArb, async (p) => {
      const x = await input([p.n, p.c, p.h, p.w], p.seed);
      const stats = await runningStats(p.c, p.seed);
      const rm = tg.tensor(stats.mean, [p.c], { backend: device });
      const rv = tg.tensor(stats.variance, [p.c], { backend: device });
      const before = rm.storage;
      tg.scope(() => tg.batchNorm2d(upload(x, device), { runningMean: rm, runningVar: rv, training: true, momentum: p.momentum }));
      const count = p.n * p.h * p.w;
      const expectedMean: number[] = [],
        expectedVar: number[] = [];
      for (let c = 0; c < p.c; c++) {
        const vals: number[] = [];
        for (let n = 0; n < p.n; n++) for (let i = 0; i < p.h * p.w; i++) vals.push(x.values[(n * p.c + c) * p.h * p.w + i]);
        const mu = vals.reduce((s, v) => s + v, 0) / count;
        const unbiased = vals.reduce((s, v) => s + (v - mu) ** 2, 0) / (count - 1);
        expectedMean.push((1 - p.momentum) * stats.mean[c] + p.momentum * mu);
        expectedVar.push((1 - p.momentum) * stats.variance[c] + p.momentum * unbiased);
      }
      assert.equal(rm.disposed, false, 'running mean survives the scope');
      assert.equal(rm.storage, before, 'updated in place (the same storage behind the same tensor)');
      assertClose(await rm.data(), expectedMean, 'runningMean', { rtol: 1e-4 });
      assertClose(await rv.data(), expectedVar, 'runningVar', { rtol: 1e-4 });
      // Evaluation leaves them alone.
      tg.scope(() => tg.batchNorm2d(upload(x, device), { runningMean: rm, runningVar: rv, training: false }));
      assertClose(await rm.data(), expectedMean, 'runningMean after eval', { rtol: 1e-4 });
      rm.dispose();
      rv.dispose();
    }),
    runs(10),
  );
});
