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

import type { CompactTicket, ModelSpec } from '../sparse/compact-model.js';
import { MODEL_NAMES } from '../nn/models.js';
import { DATA_NAMES } from '../data/dataset.js';
import { sizeOf } from '../shape.js';
import { type BinaryLayer, type BinaryLayerShape, bitBytes, kernelTaps, popcount } from '../sparse/ticket.js';

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

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

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

  let parsed: TgtHeader;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(header)) as TgtHeader;
  } catch (e) {
    return fail(`malformed header: ${(e as Error).message}`);
  }
  if (!parsed || typeof parsed !== 'object' || !parsed.spec || !Array.isArray(parsed.layers) || !Array.isArray(parsed.tensors))
    fail('malformed header: spec, layers and tensors are required');
  const { spec } = parsed;
  if (
    !MODEL_NAMES.includes(spec.model) ||
    typeof spec.width !== 'number' ||
    !(spec.width > 0) ||
    !isCount(spec.classes) ||
    !Array.isArray(spec.input) ||
    spec.input.length !== 3 ||
    !spec.input.every(isCount) ||
    (spec.batchNorm !== undefined && typeof spec.batchNorm !== 'boolean') ||
    (spec.data !== undefined && !(DATA_NAMES as readonly string[]).includes(spec.data)) ||
    (spec.dataSeed !== undefined && !isCount(spec.dataSeed))
  ) {
    fail(`malformed model spec ${JSON.stringify(spec)}`);
  }
  const slice = (r: unknown, length: number, name: string): Uint8Array => {
    if (!Array.isArray(r) || r.length !== 2 || !isCount(r[0]) || !isCount(r[1])) return fail(`${name}: malformed byte range`);
    if (r[1] !== length) fail(`${name}: ${r[1]} bytes, expected ${length}`);
    if (r[0] + r[1] > payload.length) fail(`${name}: bytes [${r[0]}, ${r[0] + r[1]}) lie past the ${payload.length}-byte payload`);
    // A copy: a Node Buffer's slice shares (and its .buffer spans) the whole file.
    return new Uint8Array(payload.subarray(r[0], r[0] + r[1]));
  };
  const layers = parsed.layers.map((l, i): BinaryLayer => {
    const name = `layer ${i} (${typeof l?.name === 'string' ? l.name : '?'})`;
    if (typeof l?.name !== 'string' || (l.kind !== 'conv' && l.kind !== 'linear')) fail(`${name}: malformed name or kind`);
    for (const key of ['outChannels', 'inChannels', 'kernelSize', 'stride', 'keptKernels', 'keptWeights'] as const) {
      if (!isCount(l[key]) || (key !== 'keptKernels' && key !== 'keptWeights' && l[key] === 0)) fail(`${name}: ${key} must be a positive integer`);
    }
    if (!isCount(l.padding)) fail(`${name}: padding must be an integer >= 0`);
    if (!Array.isArray(l.outputSize) || l.outputSize.length !== 2 || !l.outputSize.every((d) => isCount(d) && d > 0)) fail(`${name}: malformed outputSize`);
    // Stored as float32 by the kernels: beyond its range it would turn infinite.
    if (typeof l.alpha !== 'number' || !Number.isFinite(l.alpha) || !(l.alpha > 0) || l.alpha > 3.4e38)
      fail(`${name}: alpha must be a finite number > 0 (float32), got ${l.alpha}`);
    const taps = kernelTaps(l);
    const kernelBits = slice(l.kernelBits, bitBytes(l.outChannels * l.inChannels), `${name} kernel bits`);
    const tapBits = slice(l.tapBits, taps > 1 ? bitBytes(l.keptKernels * taps) : 0, `${name} tap bits`);
    const signBits = slice(l.signBits, bitBytes(l.keptWeights), `${name} sign bits`);
    if (popcount(kernelBits) !== l.keptKernels) fail(`${name}: ${popcount(kernelBits)} kernel bits set, the header says ${l.keptKernels} kept kernels`);
    const weights = taps > 1 ? popcount(tapBits) : l.keptKernels;
    if (weights !== l.keptWeights) fail(`${name}: ${weights} nonzero taps, the header says ${l.keptWeights} kept weights`);
    return {
      name: l.name,
      kind: l.kind,
      outChannels: l.outChannels,
      inChannels: l.inChannels,
      kernelSize: l.kernelSize,
      stride: l.stride,
      padding: l.padding,
      outputSize: [l.outputSize[0], l.outputSize[1]],
      alpha: l.alpha,
      keptKernels: l.keptKernels,
      keptWeights: l.keptWeights,
      kernelBits,
      tapBits,
      signBits,
    };
  });
  const extras: CompactTicket['extras'] = {};
  for (const t of parsed.tensors) {
    if (typeof t?.name !== 'string' || !Array.isArray(t.shape) || !t.shape.every(isCount)) fail('malformed tensor entry');
    const elements = sizeOf(t.shape);
    extras[t.name] = { shape: t.shape, data: new Float32Array(slice(t.data, 4 * elements, `tensor ${t.name}`).buffer) };
  }
  return { spec, layers, extras };
}
