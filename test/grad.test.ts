// Gradients: central finite differences on the CPU reference (loss = sum(out * fixed random
// weights), a few coordinates per input), then every accelerated backend's gradients (wasm,
// WebGPU) equal the CPU gradients.

import fc from 'fast-check';
import { test } from 'node:test';
import { acceleratorTest } from './devices.js';
import { cases } from './cases.js';
import { assertFiniteDifferences, assertMatchesCpu, runs } from './helpers.js';

for (const c of cases) {
  const examples = (c.examples ?? []).map((e, i) => [e, i * 101] as [unknown, number]);
  if (c.fd !== false) {
    test(`${c.name}: gradient matches finite differences [cpu]`, { timeout: 120_000 }, async () => {
      await fc.assert(
        fc.asyncProperty(c.arb, fc.nat(), async (p, pick) => {
          const built = await c.build(p);
          await assertFiniteDifferences(built.inputs, built.fn, c.name, pick, c.fd || {});
        }),
        { ...runs(c.runs ?? 10), examples },
      );
    });
  }
  acceleratorTest(`${c.name}: gradient`, async (device) => {
    await fc.assert(
      fc.asyncProperty(c.arb, fc.nat(), async (p, pick) => {
        const built = await c.build(p);
        await assertMatchesCpu(device, built.inputs, built.fn, c.name, c.tol, { grad: true, weightSeed: pick });
      }),
      { ...runs(c.runs ?? 10), examples },
    );
  });
}
