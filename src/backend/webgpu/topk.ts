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
// - 'threshold' (no sort, O(n)): a radix select of the k-th largest composite key (key, then
//   inverted position; unique, so `composite >= kth` keeps exactly k), all on the GPU with no
//   readback (the state buffer carries the fixed digits and the remaining rank from kernel to
//   kernel; topk_radix_scan.wgsl). Only three passes read every element, one dispatch per
//   segment each (global scope never copies the segments: each dispatch carries its global
//   offset): a 65536-bin histogram of the top 16 key bits; after a tiny scan, a compaction of
//   the elements of the chosen bin into candidate lists; after the candidate passes (8 + 7 low
//   key bits, then 8-bit position digits while ties remain, each a 256-bin histogram and a
//   single-invocation scan; "decided" as soon as a whole bin is kept, and later passes return
//   at once), the mask pass.

import type { Storage, TopkMethod } from '../backend.js';
import { type GpuStorage, Uniforms, WebGpuBackend } from './backend.js';

/** The first pass histograms the top 16 bits of the key (bits 30..15; bit 31 is always 0). */
const WIDE_BINS = 65536;
const WIDE_FIXED = 0x7fff8000;
/** The remaining key digits, [shift, width], on the candidates. */
const LOW_KEY_DIGITS: readonly [number, number][] = [[7, 8], [0, 7]];
/** Workgroups of the candidate passes (grid-stride loops; the count is known only on the GPU). */
const CPU_LIKE_CANDIDATE_GROUPS = 2;
const MAX_CANDIDATE_GROUPS = 256;

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
  const wide = gpu.output(WIDE_BINS + 256);
  const hist = gpu.output(256 + 1);
  const state = gpu.output(4);
  const candKey = gpu.output(total);
  const candPos = gpu.output(total);
  const offsets = offsetsOf(segments);
  const small = [wide.buffer, hist.buffer, state.buffer];
  const scanUniforms = (byPosition: number, shift: number, digit: number, last: number): Uniforms => new Uniforms().u32(k, byPosition, shift, digit, last, 0, 0, 0);
  gpu.dispatch('topk_radix_scan', {}, small, scanUniforms(0, 0, 0, 0), [1, 1, 1], 'init');

  // Full pass 1: the top 16 key bits.
  const full = [state.buffer, wide.buffer, hist.buffer, candKey.buffer, candPos.buffer];
  const live = segments.map((s, i) => ({ s, offset: offsets[i] })).filter(({ s }) => s.size > 0);
  for (const { s, offset } of live) {
    gpu.dispatch('topk_radix', {}, [buf(s), ...full], new Uniforms().u32(s.size, offset, 0, 0), WebGpuBackend.fold(Math.ceil(s.size / 1024)), 'main_wide');
  }
  gpu.dispatch('topk_radix_scan', {}, small, scanUniforms(0, 0, 0, 0), [1, 1, 1], 'sums');
  gpu.dispatch('topk_radix_scan', {}, small, scanUniforms(0, 0, 0, 0), [1, 1, 1], 'pick_wide');
  // Full pass 2: the elements of the chosen bin become the candidates.
  for (const { s, offset } of live) {
    gpu.dispatch('topk_radix', {}, [buf(s), ...full], new Uniforms().u32(s.size, offset, 0, 0), WebGpuBackend.fold(Math.ceil(s.size / 1024)), 'main_compact');
  }

  // Candidate passes: the low key bits, then (only while ties remain) the position bits.
  const posBits = Math.max(1, 32 - Math.clz32(total - 1));
  const passes: { byPosition: number; shift: number; width: number; fixed: number }[] = [];
  let fixed = WIDE_FIXED;
  for (const [shift, width] of LOW_KEY_DIGITS) {
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
  const groups = gpu.cpuLike ? CPU_LIKE_CANDIDATE_GROUPS : Math.max(1, Math.min(MAX_CANDIDATE_GROUPS, Math.ceil(total / (256 * 64))));
  passes.forEach((pass, pi) => {
    const digit = (1 << pass.width) - 1;
    const u = new Uniforms().u32(pass.byPosition, pass.shift, digit, pass.fixed, groups * 256, 0, 0, 0);
    gpu.dispatch('topk_radix_cand', {}, [candKey.buffer, candPos.buffer, state.buffer, hist.buffer], u, [groups, 1, 1]);
    gpu.dispatch('topk_radix_scan', {}, small, scanUniforms(pass.byPosition, pass.shift, digit, pi === passes.length - 1 ? 1 : 0), [1, 1, 1], 'scan');
  });

  // Full pass 3: the masks.
  const masks = segments.map((s, i) => {
    const out = gpu.output(s.size);
    gpu.dispatch('topk_mask', {}, [buf(s), state.buffer, out.buffer], new Uniforms().u32(s.size, offsets[i], 0, 0), WebGpuBackend.fold(Math.ceil(s.size / 1024)));
    return out;
  });
  for (const scratch of [wide, hist, state, candKey, candPos]) gpu.release(scratch);
  return masks;
}
