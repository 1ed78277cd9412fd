// The safetensors file format, F32 tensors only.
//
// Layout of a file:
//   1. 8 bytes: N, the header length, an unsigned 64-bit little-endian integer.
//   2. N bytes: the header, UTF-8 JSON, one object. Each key other than "__metadata__" names a
//      tensor: { "dtype": "F32", "shape": [d0, d1, ...], "data_offsets": [begin, end] }. The
//      optional "__metadata__" entry maps strings to strings. The writer pads the JSON with
//      trailing spaces so that 8 + N is a multiple of 8 (the byte buffer starts aligned).
//   3. The byte buffer: every tensor's elements, row-major, little-endian. A tensor occupies
//      bytes [begin, end) counted from the start of the buffer, end - begin = 4 * prod(shape)
//      (prod([]) = 1: a scalar), and the tensors tile the buffer exactly: no gaps, no overlap,
//      nothing after the last one.
// This writer lays the tensors out contiguously in the order of the input object's keys,
// "__metadata__" first in the header. The reader accepts any order and rejects every file that
// breaks the rules above with an Error that says what is wrong.
// Browser-safe: no Node imports.

import { sizeOf } from '../shape.js';

export interface SafetensorsTensor {
  shape: number[];
  data: Float32Array;
}

export interface SafetensorsContents {
  tensors: Record<string, SafetensorsTensor>;
  metadata: Record<string, string>;
}

const METADATA_KEY = '__metadata__';
const F32_BYTES = 4;

export function writeSafetensors(tensors: Record<string, SafetensorsTensor>, metadata?: Record<string, string>): Uint8Array {
  // Entries, not assignments, so that a name such as "__proto__" stays an ordinary key.
  const header: [string, unknown][] = [];
  if (metadata) {
    for (const [key, value] of Object.entries(metadata)) {
      if (typeof value !== 'string') throw new Error(`writeSafetensors: metadata "${key}" must be a string, got ${typeof value}`);
    }
    header.push([METADATA_KEY, metadata]);
  }
  let offset = 0;
  for (const [name, { shape, data }] of Object.entries(tensors)) {
    if (name === METADATA_KEY) throw new Error(`writeSafetensors: "${METADATA_KEY}" is reserved and cannot name a tensor`);
    if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new Error(`writeSafetensors: tensor "${name}" has an invalid shape [${shape.join(', ')}]`);
    const elements = sizeOf(shape);
    if (data.length !== elements) throw new Error(`writeSafetensors: tensor "${name}" has shape [${shape.join(', ')}] (${elements} elements) but ${data.length} values`);
    header.push([name, { dtype: 'F32', shape, data_offsets: [offset, offset + elements * F32_BYTES] }]);
    offset += elements * F32_BYTES;
  }
  const json = new TextEncoder().encode(JSON.stringify(Object.fromEntries(header)));
  const headerLength = Math.ceil(json.length / 8) * 8;
  const bytes = new Uint8Array(8 + headerLength + offset);
  const view = new DataView(bytes.buffer);
  view.setBigUint64(0, BigInt(headerLength), true);
  bytes.set(json, 8);
  bytes.fill(0x20, 8 + json.length, 8 + headerLength);
  let position = 8 + headerLength;
  for (const { data } of Object.values(tensors)) {
    for (let i = 0; i < data.length; i++, position += F32_BYTES) view.setFloat32(position, data[i], true);
  }
  return bytes;
}

/** The tensors and metadata of a file's bytes; `what` (the file) starts every error. */
export function readSafetensors(bytes: Uint8Array, what = 'safetensors'): SafetensorsContents {
  const fail = (problem: string): never => {
    throw new Error(`${what}: ${problem}`);
  };
  if (!(bytes instanceof Uint8Array)) fail("expected the file's bytes as a Uint8Array (wrap an ArrayBuffer in new Uint8Array(...))");
  if (bytes.length < 8) fail(`the file is ${bytes.length} bytes, shorter than the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const declaredLength = view.getBigUint64(0, true);
  if (declaredLength > BigInt(bytes.length - 8)) fail(`the header length ${declaredLength} goes beyond the end of the file (${bytes.length - 8} bytes after the length)`);
  const headerLength = Number(declaredLength);

  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLength)));
  } catch (error) {
    fail(`the header is not valid UTF-8 JSON (${(error as Error).message})`);
  }
  if (!isPlainObject(header)) return fail('the header is not a JSON object');

  const bufferStart = 8 + headerLength;
  const bufferLength = bytes.length - bufferStart;
  const metadata: [string, string][] = [];
  const entries: { name: string; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, entry] of Object.entries(header)) {
    if (name === METADATA_KEY) {
      if (!isPlainObject(entry)) fail(`"${METADATA_KEY}" is not an object`);
      for (const [key, value] of Object.entries(entry as Record<string, unknown>)) {
        if (typeof value !== 'string') fail(`metadata "${key}" is not a string`);
        metadata.push([key, value as string]);
      }
      continue;
    }
    if (!isPlainObject(entry)) return fail(`tensor "${name}": the entry is not an object`);
    const { dtype, shape, data_offsets: offsets } = entry;
    if (typeof dtype !== 'string') fail(`tensor "${name}": dtype is missing or not a string`);
    if (dtype !== 'F32') fail(`tensor "${name}": dtype ${dtype} is not supported (only F32)`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      return fail(`tensor "${name}": shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      return fail(`tensor "${name}": data_offsets ${JSON.stringify(offsets)} is not a pair of non-negative integers`);
    }
    const [begin, end] = offsets as [number, number];
    if (begin > end) fail(`tensor "${name}": data_offsets [${begin}, ${end}] end before they begin`);
    if (end > bufferLength) fail(`tensor "${name}": data_offsets [${begin}, ${end}] go beyond the ${bufferLength}-byte data buffer`);
    const needed = sizeOf(shape as number[]) * F32_BYTES;
    if (end - begin !== needed) fail(`tensor "${name}": data_offsets [${begin}, ${end}] span ${end - begin} bytes but shape [${shape.join(', ')}] of F32 needs ${needed}`);
    entries.push({ name, shape: shape as number[], begin, end });
  }

  // The tensors must tile the buffer: sorted by position, each starts where the previous ended.
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  let previous = '';
  for (const { name, begin, end } of sorted) {
    if (begin < covered) fail(`tensors "${previous}" and "${name}" overlap (bytes ${begin}..${covered} of the data buffer)`);
    if (begin > covered) fail(`bytes ${covered}..${begin} of the data buffer belong to no tensor`);
    covered = end;
    previous = name;
  }
  if (covered !== bufferLength) fail(`${bufferLength - covered} bytes of data after the last tensor (the data buffer is ${bufferLength} bytes, the tensors cover ${covered})`);

  const tensors = entries.map(({ name, shape, begin, end }): [string, SafetensorsTensor] => {
    const data = new Float32Array((end - begin) / F32_BYTES);
    for (let i = 0; i < data.length; i++) data[i] = view.getFloat32(bufferStart + begin + i * F32_BYTES, true);
    return [name, { shape: [...shape], data }];
  });
  return { tensors: Object.fromEntries(tensors), metadata: Object.fromEntries(metadata) };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
