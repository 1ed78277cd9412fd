// Storages carry a dtype: u32 index data keeps every bit (a word that is a NaN pattern as a
// float included), and f32 values come back as floats, on every backend.

import assert from 'node:assert/strict';
import * as tg from '../src/index.js';
import { forEachDevice } from './devices.js';

/** Signalling and quiet NaN patterns, infinities, -0 and ordinary words. */
const WORDS = Uint32Array.of(0x7fa00001, 0xffc00000, 0x7f800001, 0xff800000, 0x80000000, 0, 1, 0xffffffff, 0x12345678);

forEachDevice('u32 storages keep every bit: upload, copy, read', async (device) => {
  const backend = tg.getBackend(device);
  const s = backend.upload(WORDS);
  assert.equal(s.dtype, 'u32');
  assert.equal(s.size, WORDS.length);
  const copy = backend.zeros(WORDS.length, 'u32');
  backend.copy(s, copy);
  for (const storage of [s, copy]) {
    const back = await backend.read(storage);
    assert.ok(back instanceof Uint32Array, 'a u32 storage reads back as a Uint32Array');
    assert.deepEqual([...back], [...WORDS]);
  }
  const zero = await backend.read(backend.zeros(3, 'u32'));
  assert.ok(zero instanceof Uint32Array);
  assert.deepEqual([...zero], [0, 0, 0]);
  backend.release(s);
  backend.release(copy);
});

forEachDevice('f32 storages read back as floats; copying across dtypes is refused', async (device) => {
  const backend = tg.getBackend(device);
  const f = backend.upload(Float32Array.of(1.5, -0, Infinity));
  assert.equal(f.dtype, 'f32');
  const back = await backend.read(f);
  assert.ok(back instanceof Float32Array);
  assert.deepEqual([...back], [1.5, -0, Infinity]);
  const u = backend.zeros(3, 'u32');
  assert.throws(() => backend.copy(f, u), /copy from f32 to u32/);
  backend.release(f);
  backend.release(u);
});
