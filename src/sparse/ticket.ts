// The compact form of a binary ticket (MPT / biprop): every weight of a prunable layer is
// alpha * {-1, 0, +1}, so a layer is fully described by one alpha and three bit sets:
//
//   kernelBits  one bit per k x k kernel (o, c), in o-major order: does it keep any weight?
//   tapBits     for each kept kernel in order, k*k bits: which of its taps are nonzero
//               (left out for 1x1 kernels, whose one tap is nonzero by definition)
//   signBits    for each nonzero weight in order (kernel, then tap), 1 = -alpha, 0 = +alpha
//
// All-zero kernels cost one bit. Linear layers are 1x1 convolutions on a 1x1 map, with
// out/in channels = out/in features, so one form and one kernel serve both. Bits are packed
// least significant first. This is what `ticketgrad export` stores (src/io/tgt.ts); for the
// GPU it is expanded into one list per block of 8 output channels (binaryConvLayout).

import { BINARY_CONV_BLOCK } from '../backend/backend.js';
import { type Check, aCount, aPositiveCount, aString, listOf, oneOf, readFields } from '../io/json.js';

export type LayerKind = 'conv' | 'linear';

export interface BinaryLayerShape {
  name: string;
  kind: LayerKind;
  outChannels: number;
  inChannels: number;
  kernelSize: number;
  stride: number;
  padding: number;
  /** Output feature-map size [H, W] (the D of the acceleration rate); [1, 1] for linear layers. */
  outputSize: [number, number];
}

export interface BinaryLayer extends BinaryLayerShape {
  alpha: number;
  keptKernels: number;
  keptWeights: number;
  kernelBits: Uint8Array;
  tapBits: Uint8Array;
  signBits: Uint8Array;
}

/** A layer's shape as a file records it (a .tgt header, a checkpoint's metadata); errors start with `what`. */
export function readLayerShape(value: unknown, what: string): BinaryLayerShape {
  return readFields<BinaryLayerShape>(
    value,
    {
      name: aString,
      kind: oneOf(['conv', 'linear']),
      outChannels: aPositiveCount,
      inChannels: aPositiveCount,
      kernelSize: aPositiveCount,
      stride: aPositiveCount,
      padding: aCount,
      outputSize: listOf(aPositiveCount, 2),
    },
    what,
  );
}

/** The scale of a layer's binary weights: the kernels store it as float32, beyond whose range it would turn infinite. */
export const aBinaryScale: Check = { expected: 'a finite number > 0 (float32)', ok: (v) => typeof v === 'number' && v > 0 && v <= 3.4e38 };

export const bitBytes = (bits: number): number => Math.ceil(bits / 8);
export const getBit = (bits: Uint8Array, i: number): boolean => ((bits[i >> 3] >> (i & 7)) & 1) === 1;
const setBit = (bits: Uint8Array, i: number): void => {
  bits[i >> 3] |= 1 << (i & 7);
};

export function popcount(bits: Uint8Array): number {
  let n = 0;
  for (let byte of bits) {
    for (; byte; byte &= byte - 1) n++;
  }
  return n;
}

export const kernelTaps = (l: BinaryLayerShape): number => l.kernelSize * l.kernelSize;

/**
 * Packs a layer from its weights and 0/1 mask, both in [out, in, k, k] order: the weight kept
 * at a masked position is alpha * sign(w), as in tg.binarize (a weight of 0 is dropped).
 */
export function packBinaryLayer(shape: BinaryLayerShape, weight: Float32Array, mask: Float32Array, alpha: number): BinaryLayer {
  const taps = kernelTaps(shape);
  const kernels = shape.outChannels * shape.inChannels;
  if (weight.length !== kernels * taps || mask.length !== weight.length) {
    throw new Error(
      `${shape.name}: ${weight.length} weights and ${mask.length} mask values for [${shape.outChannels}, ${shape.inChannels}, ${shape.kernelSize}, ${shape.kernelSize}]`,
    );
  }
  if (!Number.isFinite(alpha)) throw new Error(`${shape.name}: alpha is ${alpha}`);
  // A kept weight of exactly 0 binarizes to alpha * sign(0) = 0: stored as dropped, so that
  // the ticket computes what the training forward did.
  const keeps = (i: number): boolean => mask[i] !== 0 && weight[i] !== 0;
  const kernelBits = new Uint8Array(bitBytes(kernels));
  let keptKernels = 0,
    keptWeights = 0;
  for (let k = 0; k < kernels; k++) {
    let kept = 0;
    for (let t = 0; t < taps; t++) if (keeps(k * taps + t)) kept++;
    if (kept) {
      setBit(kernelBits, k);
      keptKernels++;
      keptWeights += kept;
    }
  }
  const tapBits = new Uint8Array(taps > 1 ? bitBytes(keptKernels * taps) : 0);
  const signBits = new Uint8Array(bitBytes(keptWeights));
  let kernelAt = 0,
    weightAt = 0;
  for (let k = 0; k < kernels; k++) {
    if (!getBit(kernelBits, k)) continue;
    for (let t = 0; t < taps; t++) {
      const i = k * taps + t;
      if (!keeps(i)) continue;
      if (taps > 1) setBit(tapBits, kernelAt * taps + t);
      if (weight[i] < 0) setBit(signBits, weightAt);
      weightAt++;
    }
    kernelAt++;
  }
  return { ...shape, alpha, keptKernels, keptWeights, kernelBits, tapBits, signBits };
}

/** Calls `fn(kernel, tap, negative)` for every nonzero weight, in storage order. */
export function forEachWeight(l: BinaryLayer, fn: (kernel: number, tap: number, negative: boolean) => void): void {
  const taps = kernelTaps(l);
  const kernels = l.outChannels * l.inChannels;
  let kernelAt = 0,
    weightAt = 0;
  for (let k = 0; k < kernels; k++) {
    if (!getBit(l.kernelBits, k)) continue;
    for (let t = 0; t < taps; t++) {
      if (taps > 1 && !getBit(l.tapBits, kernelAt * taps + t)) continue;
      fn(k, t, getBit(l.signBits, weightAt++));
    }
    kernelAt++;
  }
}

/** The dense weights alpha * sign(W) * M, in [out, in, k, k] order. */
export function denseWeight(l: BinaryLayer): Float32Array {
  const taps = kernelTaps(l);
  const w = new Float32Array(l.outChannels * l.inChannels * taps);
  forEachWeight(l, (k, t, negative) => {
    w[k * taps + t] = negative ? -l.alpha : l.alpha;
  });
  return w;
}

/** The index lists binary_conv2d reads (see BinaryConvWeights in src/backend/backend.ts). */
export function binaryConvLayout(l: BinaryLayer): { segments: Uint32Array; entries: Uint32Array } {
  if (l.inChannels > 0xffff) throw new Error(`${l.name}: the binary conv kernel takes at most 65535 input channels, not ${l.inChannels}`);
  if (l.kernelSize > 0xff) throw new Error(`${l.name}: the binary conv kernel takes kernels of at most 255 x 255, not ${l.kernelSize}`);
  const taps = kernelTaps(l);
  const blocks = Math.ceil(l.outChannels / BINARY_CONV_BLOCK);
  // codes[(block * taps + t) * inC + c]: mask bits 0-7 and sign bits 8-15 of the block's channels.
  const codes = new Uint32Array(blocks * taps * l.inChannels);
  forEachWeight(l, (k, t, negative) => {
    const o = Math.floor(k / l.inChannels),
      c = k % l.inChannels;
    const i = o % BINARY_CONV_BLOCK;
    codes[(Math.floor(o / BINARY_CONV_BLOCK) * taps + t) * l.inChannels + c] |= (1 << i) | (negative ? 1 << (8 + i) : 0);
  });
  const segments = new Uint32Array(blocks + 1);
  const entries: number[] = [];
  // The 8 weights of an entry as signed bytes (unpack4x8snorm reads 127 as 1.0), 4 per word.
  const snorm = (code: number, from: number): number => {
    let word = 0;
    for (let i = from; i < from + 4; i++) {
      if ((code >> i) & 1) word |= ((code >> (8 + i)) & 1 ? 0x81 : 0x7f) << (8 * (i - from));
    }
    return word >>> 0;
  };
  for (let b = 0; b < blocks; b++) {
    for (let t = 0; t < taps; t++) {
      const head = (Math.floor(t / l.kernelSize) << 16) | ((t % l.kernelSize) << 24);
      for (let c = 0; c < l.inChannels; c++) {
        const code = codes[(b * taps + t) * l.inChannels + c];
        if (code) entries.push((head | c) >>> 0, snorm(code, 0), snorm(code, 4));
      }
    }
    segments[b + 1] = entries.length / 3;
  }
  return { segments, entries: Uint32Array.from(entries) };
}

/** [in, out] (a linear layer's storage order) to [out, in]: the 1x1-conv order of the compact form. */
export function transposeLinear(w: Float32Array, inFeatures: number, outFeatures: number): Float32Array {
  const t = new Float32Array(w.length);
  for (let i = 0; i < inFeatures; i++) for (let o = 0; o < outFeatures; o++) t[o * inFeatures + i] = w[i * outFeatures + o];
  return t;
}
