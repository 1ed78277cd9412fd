// The compact binary ticket: packing, the weight-sparse binary conv kernel (each backend vs the
// dense conv2d), whole compact models vs the dense masked model, the .tgt file and its
// corruption checks, and the acceleration rate of Eq. 4.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import * as tg from '../src/index.js';
import { getBackend } from '../src/engine.js';
import { type BinaryLayerShape, binaryConvLayout, denseWeight, packBinaryLayer } from '../src/sparse/ticket.js';
import { BinaryConvModule, type ModelSpec, inferenceModel } from '../src/sparse/compact-model.js';
import { checkpointKernelCounts, checkpointTicket, modelCheckpoint } from '../src/sparse/checkpoint.js';
import { analyzeTicket } from '../src/sparse/analyze.js';
import { readTgt, writeTgt } from '../src/io/tgt.js';
import { prunableLayers } from '../src/nn/models.js';
import { forEachDevice } from './devices.js';
import { assertClose, runs, seedArb } from './helpers.js';

const layerArb = fc.record({
  outChannels: fc.integer({ min: 1, max: 12 }),
  inChannels: fc.integer({ min: 1, max: 6 }),
  kernelSize: fc.constantFrom(1, 2, 3),
  stride: fc.constantFrom(1, 2),
  padding: fc.constantFrom(0, 1),
  density: fc.constantFrom(0, 0.05, 0.3, 0.7, 1),
  seed: seedArb,
});

function randomLayer(o: { outChannels: number; inChannels: number; kernelSize: number; stride: number; padding: number; density: number; seed: number }) {
  const n = o.outChannels * o.inChannels * o.kernelSize ** 2;
  let state = o.seed + 1;
  const next = (): number => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
  const weight = Float32Array.from({ length: n }, () => next() - 0.5);
  const mask = Float32Array.from({ length: n }, () => (next() < o.density ? 1 : 0));
  const shape: BinaryLayerShape = {
    name: 'l',
    kind: 'conv',
    outChannels: o.outChannels,
    inChannels: o.inChannels,
    kernelSize: o.kernelSize,
    stride: o.stride,
    padding: o.padding,
    outputSize: [1, 1],
  };
  return { weight, mask, layer: packBinaryLayer(shape, weight, mask, 0.37) };
}

test('packBinaryLayer keeps alpha * sign(W) * M exactly, and counts kept kernels and weights', () => {
  fc.assert(
    fc.property(layerArb, (o) => {
      const { weight, mask, layer } = randomLayer(o);
      const expected = weight.map((w, i) => (mask[i] && w !== 0 ? (w < 0 ? -0.37 : 0.37) : 0));
      assert.deepEqual(denseWeight(layer), Float32Array.from(expected));
      assert.equal(
        layer.keptWeights,
        mask.reduce((a, m, i) => a + (m && weight[i] !== 0 ? 1 : 0), 0),
      );
      const taps = o.kernelSize ** 2;
      let kept = 0;
      for (let k = 0; k < o.outChannels * o.inChannels; k++) if (mask.subarray(k * taps, (k + 1) * taps).some((m) => m)) kept++;
      assert.equal(layer.keptKernels, kept);
    }),
    runs(100),
  );
});

test('a kept weight of exactly 0 packs as dropped, as tg.binarize computes it (alpha * sign(0) = 0)', async () => {
  const shape: BinaryLayerShape = { name: 'l', kind: 'linear', outChannels: 1, inChannels: 4, kernelSize: 1, stride: 1, padding: 0, outputSize: [1, 1] };
  const weight = Float32Array.from([0, 2, -1, -0]);
  const mask = Float32Array.from([1, 1, 1, 1]);
  const { weight: binarized, alpha } = tg.binarize(tg.tensor(weight, [4]), tg.tensor(mask, [4]));
  const a = await alpha.item();
  const layer = packBinaryLayer(shape, weight, mask, a);
  assert.deepEqual(denseWeight(layer), await binarized.data());
  assert.equal(layer.keptWeights, 2);
});

test('binaryConvLayout has one entry per (block of 8 outputs, tap, input channel) with a nonzero weight', () => {
  fc.assert(
    fc.property(layerArb, (o) => {
      const { mask, layer } = randomLayer(o);
      const taps = o.kernelSize ** 2;
      const perBlock = Array.from({ length: Math.ceil(o.outChannels / 8) }, () => new Set<number>());
      mask.forEach((m, i) => {
        const k = Math.floor(i / taps);
        if (m) perBlock[Math.floor(k / o.inChannels / 8)].add((i % taps) * o.inChannels + (k % o.inChannels));
      });
      const { segments, entries } = binaryConvLayout(layer);
      assert.deepEqual([...segments], [0, ...perBlock.map((_, b) => perBlock.slice(0, b + 1).reduce((n, set) => n + set.size, 0))]);
      assert.equal(entries.length, 3 * segments[segments.length - 1]);
    }),
    runs(100),
  );
});

forEachDevice('binaryConv2d equals conv2d with the dense weights alpha * sign(W) * M', async () => {
  await fc.assert(
    fc.asyncProperty(layerArb, fc.integer({ min: 1, max: 3 }), fc.integer({ min: 3, max: 9 }), fc.integer({ min: 3, max: 11 }), async (o, batch, h, w) => {
      const { layer } = randomLayer(o);
      const x = tg.randn([batch, o.inChannels, h, w], { seed: o.seed });
      const module = new BinaryConvModule(layer);
      const got = module.forward(x);
      const dense = tg.tensor(denseWeight(layer), [o.outChannels, o.inChannels, o.kernelSize, o.kernelSize]);
      const want = tg.conv2d(x, dense, { stride: o.stride, padding: o.padding });
      assert.deepEqual(got.shape, want.shape);
      assertClose(await got.data(), await want.data(), 'binary conv vs dense conv', { rtol: 1e-5, atol: 1e-5 });
      module.dispose();
      [x, got, dense, want].forEach((t) => t.dispose());
    }),
    runs(25),
  );
});

/** A small mpt model with masks from its (random) scores, after one forward pass. */
async function maskedModel(model: ModelSpec['model'], width: number, density: number): Promise<{ net: tg.nn.Module; spec: ModelSpec; x: tg.Tensor }> {
  const spec: ModelSpec = { model, width, input: [1, 28, 28], classes: 10 };
  const net = tg.nn.createModel(model, { mode: 'mpt', input: spec.input, classes: 10, width, seed: 3 });
  tg.computeMasks(net, { density, scope: 'layer', method: 'threshold' });
  const x = tg.rand([4, 1, 28, 28], { seed: 9 });
  net.eval();
  return { net, spec, x };
}

for (const [model, width] of [
  ['lenet300', 0.2],
  ['conv2', 0.125],
  ['conv4', 0.125],
] as const) {
  forEachDevice(`${model}: the compact ticket (and its dense form) computes the masked network's logits`, async () => {
    const { net, spec, x } = await maskedModel(model, width, 0.1);
    const want = tg.noGrad(() => net.forward(x));
    const ticket = checkpointTicket(await modelCheckpoint(net, spec, 'mpt'), 'test');
    const reread = readTgt(writeTgt(ticket));
    for (const kind of ['compact', 'dense'] as const) {
      const inference = inferenceModel(reread, kind);
      const got = tg.noGrad(() => inference.forward(x));
      assertClose(await got.data(), await want.data(), `${kind} ${model} logits`, { rtol: 1e-4, atol: 1e-4 });
      got.dispose();
      inference.dispose();
    }
    net.dispose();
    [x, want].forEach((t) => t.dispose());
  });
}

test('.tgt: round trip, at least 16x smaller than float32 weights, every truncation and altered byte is an error but version 2 made 1, which reads the same ticket', async () => {
  tg.setBackend('cpu');
  const { net, spec, x } = await maskedModel('conv2', 0.25, 0.5);
  tg.noGrad(() => net.forward(x)).dispose();
  const ticket = checkpointTicket(await modelCheckpoint(net, spec, 'mpt'), 'test');
  const bytes = writeTgt(ticket);
  assert.deepEqual(readTgt(bytes), ticket);
  const floatBytes = 4 * prunableLayers(net).reduce((a, [, l]) => a + l.weight.size, 0);
  assert.ok(floatBytes / bytes.length >= 16, `${floatBytes} float32 bytes vs ${bytes.length} .tgt bytes: ${(floatBytes / bytes.length).toFixed(1)}x`);
  fc.assert(
    fc.property(fc.integer({ min: 0, max: bytes.length - 1 }), (cut) => {
      assert.throws(() => readTgt(bytes.subarray(0, cut), 'cut.tgt'), /^Error: cut\.tgt: (truncated|not a ticketgrad model)/);
    }),
    runs(200),
  );
  fc.assert(
    fc.property(fc.integer({ min: 0, max: bytes.length - 1 }), fc.integer({ min: 1, max: 255 }), (at, flip) => {
      const altered = bytes.slice();
      altered[at] ^= flip;
      // Version 2 -> 1 is the one readable alteration: a version 1 file of the same ticket (the
      // checksum covers header and payload; run-files.test.ts loads such a file on purpose).
      if (at === 4 && altered[at] === 1) assert.deepEqual(readTgt(altered, 'v1.tgt'), ticket);
      else assert.throws(() => readTgt(altered, 'bad.tgt'), /^Error: bad\.tgt: /);
    }),
    runs(300),
  );
  assert.throws(() => readTgt(new Uint8Array([...bytes, 0]), 'long.tgt'), /1 unexpected bytes/);
  net.dispose();
  x.dispose();
});

test('acceleration rate (Eq. 4) and zero-kernel fraction by hand', () => {
  const conv = (name: string, o: number, i: number, d: number, kept: number) => ({
    name,
    kind: 'conv' as const,
    outChannels: o,
    inChannels: i,
    kernelSize: 3,
    stride: 1,
    padding: 1,
    outputSize: [d, d] as [number, number],
    keptKernels: kept,
  });
  const fc1 = {
    name: 'fc',
    kind: 'linear' as const,
    outChannels: 10,
    inChannels: 20,
    kernelSize: 1,
    stride: 1,
    padding: 0,
    outputSize: [1, 1] as [number, number],
    keptKernels: 100,
  };
  const a = analyzeTicket([conv('a', 4, 2, 8, 2), conv('b', 4, 4, 4, 8), fc1]);
  // dense: 8*64*9 + 16*16*9 + 200 = 4608 + 2304 + 200; kept: 2*64*9 + 8*16*9 + 100 = 1152 + 1152 + 100
  assert.equal(a.accelerationRate, 7112 / 2404);
  assert.equal(a.zeroKernelFraction, (6 + 8) / 24);
  assert.equal(a.layers[0].accelerationRate, 4);
  assert.equal(a.layers[2].zeroKernels, 100);
  assert.equal(analyzeTicket([fc1]).zeroKernelFraction, null);
  assert.equal(analyzeTicket([conv('dead', 2, 2, 4, 0)]).accelerationRate, null);
});

test('analysis from a checkpoint equals the in-memory masks', async () => {
  tg.setBackend('cpu');
  const { net, spec, x } = await maskedModel('conv2', 0.25, 0.05);
  tg.noGrad(() => net.forward(x)).dispose();
  const counts = checkpointKernelCounts(await modelCheckpoint(net, spec, 'mpt'), 'test');
  const analysis = analyzeTicket(counts);
  assert.equal(counts.length, prunableLayers(net).length);
  assert.ok(analysis.zeroKernelFraction! > 0.5, `at density 0.05 most 3x3 kernels are empty: ${analysis.zeroKernelFraction}`);
  assert.deepEqual(counts[0].outputSize, [28, 28]);
  assert.ok(getBackend().name === 'cpu');
  net.dispose();
  x.dispose();
});
