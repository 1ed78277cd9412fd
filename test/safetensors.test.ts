// The safetensors format: exact layout, round trip, and a clear error for every corruption.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readSafetensors, writeSafetensors } from '../src/io/safetensors.js';

/** A file from a header object and a data buffer, laid out as the format says (header padded to 8). */
function rawFile(header: unknown, data: Uint8Array | number = 0, headerText = JSON.stringify(header)): Uint8Array {
  const json = new TextEncoder().encode(headerText);
  const padded = Math.ceil(json.length / 8) * 8;
  const buffer = typeof data === 'number' ? new Uint8Array(data) : data;
  const bytes = new Uint8Array(8 + padded + buffer.length);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(padded), true);
  bytes.set(json, 8);
  bytes.fill(0x20, 8 + json.length, 8 + padded);
  bytes.set(buffer, 8 + padded);
  return bytes;
}

const f32 = (shape: number[], begin: number, end: number): object => ({ dtype: 'F32', shape, data_offsets: [begin, end] });

test('writeSafetensors: the exact byte layout (length, padded JSON header, little-endian data)', () => {
  const bytes = writeSafetensors({ w: { shape: [2], data: Float32Array.of(1, -2.5) }, s: { shape: [], data: Float32Array.of(3) } }, { step: '7' });
  const view = new DataView(bytes.buffer);
  const headerLength = Number(view.getBigUint64(0, true));
  assert.equal(headerLength % 8, 0);
  const headerText = new TextDecoder().decode(bytes.subarray(8, 8 + headerLength));
  assert.match(headerText, /^\{.*\} *$/);
  assert.deepEqual(JSON.parse(headerText), {
    __metadata__: { step: '7' },
    w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
    s: { dtype: 'F32', shape: [], data_offsets: [8, 12] },
  });
  assert.equal(bytes.length, 8 + headerLength + 12);
  assert.deepEqual(
    [0, 4, 8].map((o) => view.getFloat32(8 + headerLength + o, true)),
    [1, -2.5, 3],
  );
  // No metadata: no "__metadata__" entry.
  const plain = writeSafetensors({ w: { shape: [1], data: Float32Array.of(0) } });
  assert.doesNotMatch(new TextDecoder().decode(plain), /__metadata__/);
});

test('safetensors round trip: shapes, values (incl. -0, NaN, Infinity), metadata, odd names, empty tensors', () => {
  const tensors = {
    'layer1.weight': { shape: [3, 2, 2], data: Float32Array.from({ length: 12 }, (_, i) => i * 0.1 - 0.55) },
    'layer1.scores': { shape: [4], data: Float32Array.of(-0, NaN, Infinity, -3.4e38) },
    empty: { shape: [0, 5], data: new Float32Array(0) },
    scalar: { shape: [], data: Float32Array.of(42) },
    'ünï "quoted" \\ name': { shape: [1], data: Float32Array.of(1e-45) },
    __proto__: { shape: [1], data: Float32Array.of(5) },
  };
  const metadata = { format: 'ticketgrad', note: 'line\nbreak "quoted"' };
  const bytes = writeSafetensors(tensors, metadata);
  const back = readSafetensors(bytes);
  assert.deepEqual(back.metadata, metadata);
  assert.deepEqual(Object.keys(back.tensors).sort(), Object.keys(tensors).sort());
  for (const [name, { shape, data }] of Object.entries(tensors)) {
    assert.deepEqual(back.tensors[name].shape, shape, name);
    assert.deepEqual(back.tensors[name].data, data, name);
  }
  assert.ok(Object.is(back.tensors['layer1.scores'].data[0], -0));
  assert.deepEqual(readSafetensors(writeSafetensors({})), { tensors: {}, metadata: {} });
  // A view into a larger, unaligned buffer reads the same.
  const shifted = new Uint8Array(bytes.length + 3);
  shifted.set(bytes, 3);
  assert.deepEqual(readSafetensors(shifted.subarray(3)).tensors.scalar.data, Float32Array.of(42));
});

test('readSafetensors: tensors in any order in the header and the buffer', () => {
  const data = new Uint8Array(12);
  new DataView(data.buffer).setFloat32(0, 7, true);
  new DataView(data.buffer).setFloat32(4, 8, true);
  new DataView(data.buffer).setFloat32(8, 9, true);
  const { tensors } = readSafetensors(rawFile({ b: f32([2], 4, 12), a: f32([1], 0, 4) }, data));
  assert.deepEqual(tensors.a.data, Float32Array.of(7));
  assert.deepEqual(tensors.b.data, Float32Array.of(8, 9));
});

test('writeSafetensors: rejects a shape that does not match the data and the reserved name', () => {
  assert.throws(() => writeSafetensors({ w: { shape: [2, 2], data: new Float32Array(3) } }), /shape \[2, 2\] \(4 elements\) but 3 values/);
  assert.throws(() => writeSafetensors({ w: { shape: [-1], data: new Float32Array(0) } }), /invalid shape/);
  assert.throws(() => writeSafetensors({ __metadata__: { shape: [0], data: new Float32Array(0) } }), /reserved/);
});

test('readSafetensors: every corruption is a clear error', () => {
  const good = writeSafetensors({ a: { shape: [2], data: Float32Array.of(1, 2) }, b: { shape: [1], data: Float32Array.of(3) } });
  const cases: [string, Uint8Array, RegExp][] = [
    ['empty file', new Uint8Array(0), /0 bytes, shorter than the 8-byte header length/],
    ['7 bytes', new Uint8Array(7), /7 bytes/],
    ['truncated file', good.subarray(0, 20), /header length \d+ goes beyond the end of the file/],
    [
      'huge header length',
      (() => {
        const b = good.slice();
        new DataView(b.buffer).setBigUint64(0, 0xffffffffffffffffn, true);
        return b;
      })(),
      /header length 18446744073709551615 goes beyond/,
    ],
    [
      'zero header length',
      (() => {
        const b = good.slice();
        new DataView(b.buffer).setBigUint64(0, 0n, true);
        return b;
      })(),
      /not valid UTF-8 JSON/,
    ],
    ['invalid JSON', rawFile(null, 0, '{"a": {"dtype": "F32",'), /not valid UTF-8 JSON/],
    [
      'invalid UTF-8',
      (() => {
        const b = rawFile({ a: {} });
        b[8 + 2] = 0xff;
        return b;
      })(),
      /not valid UTF-8 JSON/,
    ],
    ['header not an object', rawFile([1, 2]), /not a JSON object/],
    ['entry not an object', rawFile({ a: 3 }), /tensor "a": the entry is not an object/],
    ['F16', rawFile({ a: { dtype: 'F16', shape: [2], data_offsets: [0, 4] } }, 4), /tensor "a": dtype F16 is not supported \(only F32\)/],
    ['missing dtype', rawFile({ a: { shape: [1], data_offsets: [0, 4] } }, 4), /dtype is missing/],
    ['bad shape', rawFile({ a: { dtype: 'F32', shape: [1.5], data_offsets: [0, 4] } }, 4), /shape \[1.5\] is not a list of non-negative integers/],
    ['bad offsets', rawFile({ a: { dtype: 'F32', shape: [1], data_offsets: [0] } }, 4), /data_offsets \[0\] is not a pair/],
    ['negative offset', rawFile({ a: f32([1], -4, 0) }, 4), /not a pair of non-negative integers/],
    ['reversed offsets', rawFile({ a: f32([1], 4, 0) }, 4), /end before they begin/],
    ['offsets out of range', rawFile({ a: f32([2], 0, 8) }, 4), /\[0, 8\] go beyond the 4-byte data buffer/],
    ['offsets not matching shape', rawFile({ a: f32([2], 0, 4) }, 4), /span 4 bytes but shape \[2\] of F32 needs 8/],
    ['overlap', rawFile({ a: f32([2], 0, 8), b: f32([1], 4, 8) }, 8), /tensors "a" and "b" overlap/],
    ['gap', rawFile({ a: f32([1], 0, 4), b: f32([1], 8, 12) }, 12), /bytes 4\.\.8 of the data buffer belong to no tensor/],
    ['gap at the start', rawFile({ a: f32([1], 4, 8) }, 8), /bytes 0\.\.4 of the data buffer belong to no tensor/],
    [
      'trailing data',
      (() => {
        const b = new Uint8Array(good.length + 4);
        b.set(good);
        return b;
      })(),
      /4 bytes of data after the last tensor/,
    ],
    ['metadata not an object', rawFile({ __metadata__: 'x' }), /"__metadata__" is not an object/],
    ['metadata value not a string', rawFile({ __metadata__: { epoch: 3 } }), /metadata "epoch" is not a string/],
  ];
  for (const [what, bytes, pattern] of cases) {
    assert.throws(
      () => readSafetensors(bytes),
      (error: Error) => {
        assert.ok(error instanceof Error && error.message.startsWith('safetensors: '), `${what}: ${String(error)}`);
        assert.match(error.message, pattern, what);
        return true;
      },
      what,
    );
  }
});

test('readSafetensors: random byte corruptions never crash with anything but a safetensors error', () => {
  const good = writeSafetensors({ a: { shape: [3], data: Float32Array.of(1, 2, 3) }, b: { shape: [2, 1], data: Float32Array.of(4, 5) } }, { k: 'v' });
  let state = 12345;
  const next = (n: number): number => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state % n;
  };
  for (let trial = 0; trial < 2000; trial++) {
    const bytes = good.slice(0, good.length - (trial % 7 === 0 ? next(good.length) : 0));
    for (let k = 0; k < 1 + next(3); k++) if (bytes.length > 0) bytes[next(bytes.length)] = next(256);
    try {
      const { tensors } = readSafetensors(bytes);
      // Whatever is accepted is self-consistent.
      for (const { shape, data } of Object.values(tensors))
        assert.equal(
          data.length,
          shape.reduce((x, y) => x * y, 1),
        );
    } catch (error) {
      assert.match((error as Error).message, /^safetensors: /);
    }
  }
});
