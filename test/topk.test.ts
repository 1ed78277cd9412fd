// Exact top-k masks (tg.topkMask) and fixed-threshold masks (tg.thresholdMask): on random
// sizes (1, odd, non-powers of two), values with many exact ties (a few distinct values, both
// signs, -0 and 0), NaN and infinities, or none, every k from 0 to n, one segment (layer
// scope) or several (global scope), both methods, every backend:
// - exactly k kept; every kept |s| >= every dropped |s|; among equal |s| the lower positions
//   (segment order, then index) are kept;
// - bitonic == threshold bit for bit, and wasm == cpu and webgpu == cpu bit for bit.
// The WebGPU threshold method brackets the k-th |s| from a sample: inputs large enough to be
// sampled (sorted, periodic, all equal, heavy ties), and adversarial ones on which the bracket
// misses (the sampled positions hold small values, all others large), take its other paths;
// the wasm backend (an exact radix select) runs them too.

import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as tg from '../src/index.js';
import { readF32 } from '../src/backend/backend.js';
import { thresholdSamplePositions } from '../src/backend/webgpu/topk.js';
import { type Device, acceleratorTest, forEachDevice } from './devices.js';
import { runs } from './helpers.js';

const METHODS = ['threshold', 'bitonic'] as const;

interface Case {
  segments: Float32Array[];
  k: number;
}

const TIE_VALUES = [0, -0, 0.5, -0.5, 1, -1, 2, -2.5, 1e-30, -3e38];

/** Values of one segment: mostly drawn from a few distinct values (exact ties), or spread. */
const segmentArb = (maxSize: number): fc.Arbitrary<Float32Array> =>
  fc
    .oneof(fc.constantFrom(1, 2, 3, 7, 255, 257), fc.integer({ min: 1, max: maxSize }))
    .chain((n) =>
      fc
        .oneof(
          fc.array(fc.constantFrom(...TIE_VALUES), { minLength: n, maxLength: n }),
          fc.array(fc.float({ noNaN: true, min: -4, max: 4 }), { minLength: n, maxLength: n }),
          fc.array(fc.integer({ min: -3, max: 3 }), { minLength: n, maxLength: n }),
          fc.array(fc.constantFrom(...TIE_VALUES, NaN, Infinity, -Infinity), { minLength: n, maxLength: n }),
        )
        .map((a) => Float32Array.from(a)),
    );

const caseArb = (maxSegments: number, maxSize: number): fc.Arbitrary<Case> =>
  fc.array(segmentArb(maxSize), { minLength: 1, maxLength: maxSegments }).chain((segments) => {
    const total = segments.reduce((n, s) => n + s.length, 0);
    return fc.oneof(fc.constant(0), fc.constant(total), fc.integer({ min: 0, max: total })).map((k) => ({ segments, k }));
  });

/** Runs the backend's topkMask on host values and reads the masks back. */
async function masksOn(device: Device, c: Case, method: (typeof METHODS)[number]): Promise<Float32Array[]> {
  const backend = tg.getBackend(device);
  const storages = c.segments.map((s) => backend.upload(s));
  const masks = backend.topkMask(storages, c.k, method);
  try {
    return await Promise.all(masks.map((m) => readF32(backend, m)));
  } finally {
    storages.forEach((s) => backend.release(s));
    masks.forEach((m) => backend.release(m));
  }
}

/** The contract, checked directly on the values (independently of any implementation). */
function assertExactTopk(c: Case, masks: Float32Array[], what: string): void {
  assert.equal(masks.length, c.segments.length, `${what}: one mask per segment`);
  let kept = 0;
  let minKept = Infinity; // smallest kept key, and the last position where it was kept
  let lastKeptAtMin = -1;
  let maxDropped = -1; // largest dropped key, and the first position where it was dropped
  let firstDroppedAtMax = Infinity;
  let pos = 0;
  c.segments.forEach((seg, si) => {
    const m = masks[si];
    assert.equal(m.length, seg.length, `${what}: mask ${si} has ${m.length} elements, segment ${seg.length}`);
    const bits = new Uint32Array(seg.buffer, seg.byteOffset, seg.length);
    for (let i = 0; i < seg.length; i++, pos++) {
      const key = bits[i] & 0x7fffffff; // |v| as float bits: what both backends rank by
      assert.ok(m[i] === 0 || m[i] === 1, `${what}: mask value ${m[i]} at segment ${si} index ${i}`);
      if (m[i] === 1) {
        kept++;
        if (key < minKept) minKept = key;
        if (key === minKept) lastKeptAtMin = pos;
      } else {
        if (key > maxDropped) {
          maxDropped = key;
          firstDroppedAtMax = pos;
        }
      }
    }
  });
  assert.equal(kept, c.k, `${what}: kept ${kept}, expected exactly k = ${c.k}`);
  assert.ok(kept === 0 || maxDropped <= minKept, `${what}: a dropped |s| (key ${maxDropped}) exceeds a kept one (key ${minKept})`);
  if (kept > 0 && maxDropped === minKept) {
    assert.ok(lastKeptAtMin < firstDroppedAtMax, `${what}: tie at key ${minKept} kept position ${lastKeptAtMin} but dropped the lower ${firstDroppedAtMax}`);
  }
}

const same = (a: Float32Array[], b: Float32Array[], what: string): void => {
  assert.equal(a.length, b.length, what);
  a.forEach((m, i) =>
    assert.ok(Buffer.from(m.buffer, m.byteOffset, m.byteLength).equals(Buffer.from(b[i].buffer, b[i].byteOffset, b[i].byteLength)), `${what}: mask ${i} differs`),
  );
};

forEachDevice('topkMask: exact k, largest |s| kept, ties to the lower position, both methods agree (layer and global scope)', async (device) => {
  await fc.assert(
    fc.asyncProperty(fc.oneof(caseArb(1, 3000), caseArb(4, 1000)), async (c) => {
      const byMethod = [];
      for (const method of METHODS) {
        const masks = await masksOn(device, c, method);
        assertExactTopk(c, masks, `${device} ${method} k=${c.k} sizes [${c.segments.map((s) => s.length).join(', ')}]`);
        byMethod.push(masks);
      }
      same(byMethod[0], byMethod[1], 'bitonic vs threshold');
    }),
    { ...runs(device === 'cpu' ? 200 : 25), examples: [[{ segments: [Float32Array.of(-3)], k: 1 }], [{ segments: [Float32Array.of(1, 1, 1), Float32Array.of(-1, 1)], k: 4 }]] },
  );
});

acceleratorTest('topkMask: masks equal the cpu reference bit for bit', async (device) => {
  await fc.assert(
    fc.asyncProperty(fc.oneof(caseArb(1, 5000), caseArb(5, 2000)), fc.constantFrom(...METHODS), async (c, method) => {
      same(await masksOn(device, c, method), await masksOn('cpu', c, 'threshold'), `${device} ${method} vs cpu, k=${c.k}`);
    }),
    runs(25),
  );
});

acceleratorTest('topkMask threshold: ties decided on the position bits of a large global scope', async (device) => {
  // 70,000 + 3 equal values: the key passes leave a tie, the position passes settle it.
  const big = new Float32Array(70_000).fill(0.25);
  big[12_345] = 3;
  const c: Case = { segments: [Float32Array.of(0.25, -1, 0.25), big, Float32Array.of(0.25)], k: 40_000 };
  const got = await masksOn(device, c, 'threshold');
  assertExactTopk(c, got, `${device} threshold`);
  same(got, await masksOn('cpu', c, 'threshold'), `${device} vs cpu`);
});

acceleratorTest('topkMask threshold: 16.8M elements with many ties', async (device) => {
  const n = 65535 * 256 + 1000;
  const values = new Float32Array(n);
  for (let i = 0; i < n; i++) values[i] = ((i * 2654435761) % 1000) - 500; // many ties
  const c: Case = { segments: [values], k: 1_234_567 };
  const got = await masksOn(device, c, 'threshold');
  assertExactTopk(c, got, `${device} threshold`);
  same(got, await masksOn('cpu', c, 'threshold'), `${device} vs cpu`);
});

/** Splits `flat` into segments of these lengths. */
function segmentsOf(flat: Float32Array, lengths: readonly number[]): Float32Array[] {
  let at = 0;
  return lengths.map((len) => {
    at += len;
    return flat.slice(at - len, at);
  });
}

acceleratorTest('topkMask threshold: inputs large enough to be sampled (spread, sorted, periodic, all equal, heavy ties, non-finite)', async (device) => {
  const lengthsArb = fc.oneof(
    fc.integer({ min: 2000, max: 300_000 }).map((n) => [n]),
    fc.array(fc.integer({ min: 1, max: 100_000 }), { minLength: 2, maxLength: 5 }),
  );
  const values: Record<string, (i: number, n: number) => number> = {
    spread: (i) => (Math.sin(i * 12.9898) * 43758.5453) % 1,
    ascending: (i, n) => i / n - 0.5,
    descending: (i, n) => (n - i) / n,
    periodic: (i) => ((i % 97) - 48) / 7,
    equal: () => -0.25,
    ties: (i) => [0, -0, 1, -1, 2][(i * 7919) % 5],
    tiny: (i) => Math.cos(i) * 1e-38,
    nonFinite: (i) => [NaN, Infinity, -Infinity, 1, -0][i % 5],
  };
  await fc.assert(
    fc.asyncProperty(lengthsArb, fc.constantFrom(...Object.keys(values)), fc.double({ min: 0, max: 1, noNaN: true }), async (lengths, kind, density) => {
      const total = lengths.reduce((a, b) => a + b, 0);
      const flat = Float32Array.from({ length: total }, (_, i) => values[kind](i, total));
      const c: Case = { segments: segmentsOf(flat, lengths), k: Math.round(density * total) };
      const got = await masksOn(device, c, 'threshold');
      assertExactTopk(c, got, `${device} threshold ${kind} k=${c.k} sizes [${lengths.join(', ')}]`);
      same(got, await masksOn('cpu', c, 'threshold'), `${kind}: ${device} vs cpu`);
    }),
    {
      ...runs(12),
      examples: [
        [[250_000], 'equal', 0.3],
        [[100_000, 3, 77_777], 'ties', 0.5],
        [[300_000], 'spread', 1],
        [[4097], 'nonFinite', 0.9],
      ],
    },
  );
});

acceleratorTest('topkMask threshold: the sampled bracket misses (adversarial data), layer and global scope', async (device) => {
  // The sampled positions hold |s| = 1, every other position |s| = 2: the bracket around 1
  // holds no k-th value below the count of 2s, so the fallback pass redoes the selection.
  for (const lengths of [[5000], [200_000], [70_000, 3, 123_457], [1, 30_000]]) {
    const total = lengths.reduce((a, b) => a + b, 0);
    const flat = Float32Array.from({ length: total }, (_, i) => (i % 3 ? 2 : -2));
    const sampled = thresholdSamplePositions(lengths);
    for (const p of sampled) flat[p] = p % 2 ? 1 : -1;
    const large = total - sampled.length;
    for (const k of [1, Math.floor(large / 2), large - 1, large, large + 1, large + 5, total]) {
      const c: Case = { segments: segmentsOf(flat, lengths), k };
      const got = await masksOn(device, c, 'threshold');
      assertExactTopk(c, got, `${device} threshold k=${k} sizes [${lengths.join(', ')}]`);
      same(got, await masksOn('cpu', c, 'threshold'), `${device} vs cpu, k=${k} sizes [${lengths.join(', ')}]`);
    }
  }
});

forEachDevice('tg.topkMask: k = round(density * n), shapes kept, layer and global scope, no gradient', async () => {
  const a = tg.tensor([0.1, -5, 3, 0, -0.2, 2], [2, 3], { requiresGrad: true });
  const b = tg.tensor([4, -4, 0.5], [3]);
  for (const method of METHODS) {
    const m = tg.topkMask(a, 0.5, { method });
    assert.deepEqual([...m.shape], [2, 3]);
    assert.equal(m.requiresGrad, false);
    assert.deepEqual([...(await m.data())], [0, 1, 1, 0, 0, 1]);
    const [ma, mb] = tg.topkMask([a, b], 4 / 9, { method });
    assert.deepEqual([...ma.shape], [2, 3]);
    assert.deepEqual([...mb.shape], [3]);
    // |values| in global order: 0.1 5 3 0 0.2 2 | 4 4 0.5 -> keep 5, 4, 4, 3.
    assert.deepEqual([...(await ma.data())], [0, 1, 1, 0, 0, 0]);
    assert.deepEqual([...(await mb.data())], [1, 1, 0]);
    assert.deepEqual([...(await tg.topkMask(a, 0, { method }).data())], [0, 0, 0, 0, 0, 0]);
    assert.deepEqual([...(await tg.topkMask(a, 1, { method }).data())], [1, 1, 1, 1, 1, 1]);
    assert.equal((await tg.topkMask(tg.tensor([7], [1]), 0.6, { method }).data())[0], 1);
  }
  // The default method is 'threshold'.
  assert.deepEqual([...(await tg.topkMask(a, 0.5).data())], [0, 1, 1, 0, 0, 1]);
});

forEachDevice('tg.topkMask: clear errors for a bad density, an empty list, mixed backends', (device) => {
  const a = tg.tensor([1, 2, 3], [3]);
  for (const d of [-0.1, 1.5, NaN]) assert.throws(() => tg.topkMask(a, d), /density must be a number in \[0, 1\]/);
  assert.throws(() => tg.topkMask([], 0.5), /at least one tensor/);
  if (device !== 'cpu') {
    assert.throws(() => tg.topkMask([a, tg.tensor([1], [1], { backend: 'cpu' })], 0.5), /one backend/);
  }
});

forEachDevice('tg.thresholdMask: |s| > tau as 0/1, counts match', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(fc.constantFrom(...TIE_VALUES, 0.3, -0.7), { minLength: 1, maxLength: 500 }), fc.constantFrom(0, 0.5, 1, 0.4, 3), async (vals, tau) => {
      const s = tg.tensor(vals, [vals.length]);
      const m = tg.thresholdMask(s, tau);
      const got = await m.data();
      const expected = vals.map((v) => (Math.abs(Math.fround(v)) > tau ? 1 : 0));
      assert.deepEqual([...got], expected);
      assert.equal(
        got.reduce((x, y) => x + y, 0),
        expected.reduce((x: number, y) => x + y, 0),
      );
      assert.equal(m.requiresGrad, false);
      s.dispose();
      m.dispose();
    }),
    runs(20),
  );
});
