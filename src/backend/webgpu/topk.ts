// Exact top-k masks on the GPU: bitonic sort or parallel threshold (radix) selection.
//
// Both methods rank elements by the key `bits(v) & 0x7fffffff` (the float bits without the
// sign: monotone in |v|, -0 equals 0, NaN above Infinity) descending, then by global position
// (segment order, then index) ascending, and keep the first k. The CPU reference
// (CpuBackend.topkMask) uses the same key, so all four results agree bit for bit.
//
// - 'bitonic' (the baseline): the pairs (key, position) of every segment go into one pair of
//   buffers padded to a power of two (pads: key 0 and a position past the end, so they rank
//   last), a bitonic sort of log2(N)(log2(N)+1)/2 compare-exchange dispatches puts them in
//   rank order, and the first k positions are scattered into the zeroed masks.
// - 'threshold' (no sort, O(n) per pass): a radix select of the k-th largest composite key
//   (key, then inverted position; unique, so `composite >= kth` keeps exactly k). Digits of
//   8, 8, 8, 7 bits of the key, then 8-bit digits of the position (only while ties remain):
//   each pass is one histogram dispatch per segment into one 256-bin histogram (the segments
//   stay where they are: each dispatch carries its global offset), then a single-invocation
//   scan that fixes the digit and the remaining rank in a small state buffer. Nothing is read
//   back; once a whole bin is kept the state says "decided" and later passes return at once.
//   A last dispatch per segment writes the mask from the state.

import type { Storage, TopkMethod } from '../backend.js';
import { type GpuStorage, Uniforms, WebGpuBackend } from './backend.js';

/** The key's digits: [shift, width], most significant first (bit 31 is always 0). */
const KEY_DIGITS: readonly [number, number][] = [[23, 8], [15, 8], [7, 8], [0, 7]];

/** Histogram workgroups per segment on CPU-emulated devices (each barrier there costs ~0.3 ms). */
const CPU_LIKE_HIST_GROUPS = 4;
/** Elements per invocation of the workgroup-histogram kernel on real GPUs. */
const GPU_HIST_ELEMENTS_PER_INVOCATION = 32;
const MAX_HIST_GROUPS = 1024;

const buf = (s: Storage): GPUBuffer => (s as GpuStorage).buffer;

export function topkMaskGpu(gpu: WebGpuBackend, segments: readonly Storage[], k: number, method: TopkMethod): Storage[] {
  const total = segments.reduce((n, s) => n + s.size, 0);
  if (!Number.isInteger(k) || k < 0 || k > total) throw new Error(`topkMask: k=${k} must be an integer in [0, ${total}]`);
  if (total > 0xffffffff) throw new Error(`topkMask: ${total} elements exceed the 2^32 positions of the kernels`);
  if (k === 0) return segments.map((s) => gpu.zeros(s.size));
  return method === 'bitonic' ? bitonic(gpu, segments, k, total) : threshold(gpu, segments, k, total);
}

function offsetsOf(segments: readonly Storage[]): number[] {
  let at = 0;
  return segments.map((s) => {
    const o = at;
    at += s.size;
    return o;
  });
}

function bitonic(gpu: WebGpuBackend, segments: readonly Storage[], k: number, total: number): Storage[] {
  let n = 1;
  while (n < total) n *= 2;
  const keys = gpu.output(n);
  const idx = gpu.output(n);
  const offsets = offsetsOf(segments);
  segments.forEach((s, i) => {
    const count = i === segments.length - 1 ? n - offsets[i] : s.size;
    const u = new Uniforms().u32(s.size, offsets[i], count, 0);
    gpu.dispatch('topk_bitonic_init', {}, [buf(s), keys.buffer, idx.buffer], u, WebGpuBackend.fold(Math.ceil(count / 256)));
  });
  const half = n / 2;
  const groups = WebGpuBackend.fold(Math.ceil(half / 256));
  for (let block = 2; block <= n; block *= 2) {
    for (let dist = block / 2; dist >= 1; dist /= 2) {
      gpu.dispatch('topk_bitonic', {}, [keys.buffer, idx.buffer], new Uniforms().u32(half, dist, block, 0), groups);
    }
  }
  const masks = segments.map((s, i) => {
    const out = gpu.zeros(s.size) as GpuStorage;
    const u = new Uniforms().u32(k, offsets[i], s.size, 0);
    gpu.dispatch('topk_bitonic_scatter', {}, [idx.buffer, out.buffer], u, WebGpuBackend.fold(Math.ceil(k / 256)));
    return out;
  });
  gpu.release(keys);
  gpu.release(idx);
  return masks;
}

function threshold(gpu: WebGpuBackend, segments: readonly Storage[], k: number, total: number): Storage[] {
  const hist = gpu.output(256);
  const state = gpu.output(4);
  const offsets = offsetsOf(segments);
  const cpuLike = /swiftshader|llvmpipe|lavapipe/i.test(gpu.adapter);
  gpu.dispatch('topk_radix_scan', {}, [hist.buffer, state.buffer], new Uniforms().u32(k, 0, 0, 0, 0, 0, 0, 0), [1, 1, 1], 'init');

  // The passes: the key's digits, then the position's (only reached while ties remain).
  const posBits = Math.max(1, 32 - Math.clz32(total - 1));
  const passes: { byPosition: number; shift: number; width: number; fixed: number }[] = [];
  let fixed = 0;
  for (const [shift, width] of KEY_DIGITS) {
    passes.push({ byPosition: 0, shift, width, fixed });
    fixed = (fixed | (((1 << width) - 1) << shift)) >>> 0;
  }
  fixed = 0;
  for (let top = posBits; top > 0; top -= 8) {
    const width = Math.min(8, top);
    const shift = top - width;
    passes.push({ byPosition: 1, shift, width, fixed });
    fixed = (fixed | (((1 << width) - 1) << shift)) >>> 0;
  }

  passes.forEach((pass, pi) => {
    const digit = (1 << pass.width) - 1;
    segments.forEach((s, si) => {
      if (s.size === 0) return;
      const perGroup = 256 * (cpuLike ? 1 : GPU_HIST_ELEMENTS_PER_INVOCATION);
      const groups = cpuLike ? Math.min(CPU_LIKE_HIST_GROUPS, Math.ceil(s.size / 256)) : Math.min(MAX_HIST_GROUPS, Math.ceil(s.size / perGroup));
      const u = new Uniforms().u32(s.size, offsets[si], pass.byPosition, pass.shift, digit, pass.fixed, groups * 256, 0);
      gpu.dispatch('topk_radix', {}, [buf(s), state.buffer, hist.buffer], u, [groups, 1, 1]);
    });
    const last = pi === passes.length - 1 ? 1 : 0;
    const u = new Uniforms().u32(k, pass.byPosition, pass.shift, digit, last, 0, 0, 0);
    gpu.dispatch('topk_radix_scan', {}, [hist.buffer, state.buffer], u, [1, 1, 1], 'scan');
  });

  const masks = segments.map((s, i) => {
    const out = gpu.output(s.size);
    gpu.dispatch('topk_mask', {}, [buf(s), state.buffer, out.buffer], new Uniforms().u32(s.size, offsets[i], 0, 0), WebGpuBackend.fold(Math.ceil(s.size / 256)));
    return out;
  });
  gpu.release(hist);
  gpu.release(state);
  return masks;
}
