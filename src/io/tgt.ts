// The .tgt file: a compact binary ticket (src/sparse/ticket.ts) for inference. Version 2 (the
// model spec may record the data set it was trained on); version 1 files still load.
//
//   offset  size  field
//   0       4     magic "TGT1"
//   4       4     format version, u32 little-endian (2; 1 is read too)
//   8       4     H: header length in bytes, u32 LE
//   12      4     B: payload length in bytes, u32 LE
//   16      4     CRC-32 (IEEE, as zlib) of the header and payload bytes, u32 LE
//   20      H     header: UTF-8 JSON, see TgtHeader
//   20+H    B     payload: the layers' bit sets and the extra float32 tensors (little-endian),
//                 each at the [offset, offset + length) the header gives, relative to the payload
//
// The file is exactly 20 + H + B bytes. The reader checks every one of these facts, the
// checksum, and that each layer's bit counts agree with its header (kept kernels = set kernel
// bits, kept weights = set tap bits); a truncated or altered file is an Error saying what is
// wrong, never a crash or a different model. Browser-safe: no Node imports.

import { type CompactTicket, type ModelSpec, readModelSpec } from '../sparse/compact-model.js';
import { sizeOf } from '../shape.js';
import { type BinaryLayer, type BinaryLayerShape, aBinaryScale, bitBytes, kernelTaps, popcount, readLayerShape } from '../sparse/ticket.js';
import { aCount, aString, anObject, listOf, readFields } from './json.js';

export const TGT_MAGIC = 'TGT1';
export const TGT_VERSION = 2;
/** Versions this reader takes: 1 differs only in having no data set in its spec. */
const READABLE_VERSIONS = [1, 2];
const PREAMBLE = 20;

type Range = [offset: number, length: number];

interface TgtLayer extends BinaryLayerShape {
  alpha: number;
  keptKernels: number;
  keptWeights: number;
  kernelBits: Range;
  tapBits: Range;
  signBits: Range;
}

interface TgtHeader {
  spec: ModelSpec;
  layers: TgtLayer[];
  tensors: { name: string; shape: number[]; data: Range }[];
}

let crcTable: Uint32Array | null = null;

export function crc32(parts: readonly Uint8Array[]): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (const bytes of parts) for (const b of bytes) crc = crcTable[(crc ^ b) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

export function writeTgt(ticket: CompactTicket): Uint8Array {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const place = (bytes: Uint8Array): Range => {
    const range: Range = [size, bytes.length];
    chunks.push(bytes);
    size += bytes.length;
    return range;
  };
  const layers = ticket.layers.map(
    ({ kernelBits, tapBits, signBits, ...rest }): TgtLayer => ({
      ...rest,
      kernelBits: place(kernelBits),
      tapBits: place(tapBits),
      signBits: place(signBits),
    }),
  );
  const tensors = Object.entries(ticket.extras).map(([name, t]) => ({
    name,
    shape: t.shape,
    data: place(new Uint8Array(Float32Array.from(t.data).buffer)),
  }));
  const header = new TextEncoder().encode(JSON.stringify({ spec: ticket.spec, layers, tensors } satisfies TgtHeader));
  const payload = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    payload.set(c, at);
    at += c.length;
  }
  return frameTgt(header, payload);
}

/** The file of a header (UTF-8 JSON) and a payload: the preamble with its lengths and checksum, then both. */
export function frameTgt(header: Uint8Array, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(PREAMBLE + header.length + payload.length);
  const view = new DataView(out.buffer);
  out.set(new TextEncoder().encode(TGT_MAGIC), 0);
  view.setUint32(4, TGT_VERSION, true);
  view.setUint32(8, header.length, true);
  view.setUint32(12, payload.length, true);
  view.setUint32(16, crc32([header, payload]), true);
  out.set(header, PREAMBLE);
  out.set(payload, PREAMBLE + header.length);
  return out;
}

const aRange = listOf(aCount, 2);

export function readTgt(bytes: Uint8Array, what = 'model.tgt'): CompactTicket {
  const fail = (problem: string): never => {
    throw new Error(`${what}: ${problem}`);
  };
  if (bytes.length < PREAMBLE) fail(`not a ticketgrad model: ${bytes.length} bytes, shorter than the ${PREAMBLE}-byte preamble`);
  if (new TextDecoder().decode(bytes.subarray(0, 4)) !== TGT_MAGIC) fail(`not a ticketgrad model (no "${TGT_MAGIC}" magic at the start)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(4, true);
  if (!READABLE_VERSIONS.includes(version)) fail(`format version ${version}; this ticketgrad reads versions ${READABLE_VERSIONS.join(' and ')}`);
  const headerLength = view.getUint32(8, true);
  const payloadLength = view.getUint32(12, true);
  const expected = PREAMBLE + headerLength + payloadLength;
  if (bytes.length < expected) fail(`truncated: ${bytes.length} bytes, the preamble announces ${expected}`);
  if (bytes.length > expected) fail(`${bytes.length - expected} unexpected bytes after the announced ${expected}`);
  const header = bytes.subarray(PREAMBLE, PREAMBLE + headerLength);
  const payload = bytes.subarray(PREAMBLE + headerLength);
  if (crc32([header, payload]) !== view.getUint32(16, true)) fail('corrupt: the CRC-32 checksum does not match the contents');

  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(header));
  } catch (e) {
    return fail(`malformed header: ${(e as Error).message}`);
  }
  const parsed = readFields<{ spec: unknown; layers: unknown[]; tensors: unknown[] }>(
    json,
    { spec: anObject, layers: listOf(anObject), tensors: listOf(anObject) },
    `${what}: header`,
  );
  const spec = readModelSpec(parsed.spec, what);
  const slice = ([offset, length]: Range, expected: number, name: string): Uint8Array => {
    if (length !== expected) fail(`${name}: ${length} bytes, expected ${expected}`);
    if (offset + length > payload.length) fail(`${name}: bytes [${offset}, ${offset + length}) lie past the ${payload.length}-byte payload`);
    // A copy: a Node Buffer's slice shares (and its .buffer spans) the whole file.
    return new Uint8Array(payload.subarray(offset, offset + length));
  };
  const layers = parsed.layers.map((entry, i): BinaryLayer => {
    const shape = readLayerShape(entry, `${what}: layer ${i}`);
    const name = `layer ${i} (${shape.name})`;
    const l = readFields<Omit<TgtLayer, keyof BinaryLayerShape>>(
      entry,
      { alpha: aBinaryScale, keptKernels: aCount, keptWeights: aCount, kernelBits: aRange, tapBits: aRange, signBits: aRange },
      `${what}: ${name}`,
    );
    const taps = kernelTaps(shape);
    const kernelBits = slice(l.kernelBits, bitBytes(shape.outChannels * shape.inChannels), `${name} kernel bits`);
    const tapBits = slice(l.tapBits, taps > 1 ? bitBytes(l.keptKernels * taps) : 0, `${name} tap bits`);
    const signBits = slice(l.signBits, bitBytes(l.keptWeights), `${name} sign bits`);
    if (popcount(kernelBits) !== l.keptKernels) fail(`${name}: ${popcount(kernelBits)} kernel bits set, the header says ${l.keptKernels} kept kernels`);
    const weights = taps > 1 ? popcount(tapBits) : l.keptKernels;
    if (weights !== l.keptWeights) fail(`${name}: ${weights} nonzero taps, the header says ${l.keptWeights} kept weights`);
    return { ...shape, alpha: l.alpha, keptKernels: l.keptKernels, keptWeights: l.keptWeights, kernelBits, tapBits, signBits };
  });
  const tensors = parsed.tensors.map((entry, i): [string, CompactTicket['extras'][string]] => {
    const t = readFields<TgtHeader['tensors'][number]>(entry, { name: aString, shape: listOf(aCount), data: aRange }, `${what}: tensor ${i}`);
    return [t.name, { shape: t.shape, data: new Float32Array(slice(t.data, 4 * sizeOf(t.shape), `tensor ${t.name}`).buffer) }];
  });
  if (new Set(tensors.map(([name]) => name)).size !== tensors.length) fail('two tensors have the same name');
  // fromEntries, not assignments: a tensor named "__proto__" stays an ordinary key.
  return { spec, layers, extras: Object.fromEntries(tensors) };
}
