// Exact top-k masks on the GPU: bitonic sort or parallel threshold selection.
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
// - 'threshold' (no sort, O(n), one pass over the elements): sample-based bracketing, then an
//   exact radix select among the few candidates. All on the GPU in one command stream, with no
//   readback: the small `work` buffer carries the state from kernel to kernel
//   (shaders/topk_common.wgsl). Global scope never copies the segments: the per-element
//   kernels run once per segment with its global offset. What is dear on SwiftShader (a CPU
//   emulating the GPU: barriers, contended atomics, divergent code, dispatches) shaped it;
//   layer scope takes 5 dispatches.
//   1. `sample`, `bracket`: a stratified random sample of m ~ 1.6 n^(2/3) keys (vec4 units at
//      hashed offsets) and its two-level histogram give the sample's order statistics at ranks
//      k m / n -+ 4 standard deviations of that rank: the bracket [LO, HI], which holds the
//      k-th key unless the sample was unlucky (about 1 in 10^4) or the data adversarial.
//   2. `split`, the only pass over every element: the provisional mask `key > HI`, the count
//      of those keys, and flags for the vec4s holding candidates (LO <= key <= HI, typically
//      1-3% of n); `append` copies those candidates to the region of their chunk of 16384
//      elements (per-chunk counters: no two cores contend).
//   3. `check`: if the k-th key is in the bracket, rank REST = k - #(key > HI) remains to
//      find among the candidates; otherwise (a miss) the bracket becomes every key, and the
//      fallback (recorded always, returning at once after a hit) makes every element a
//      candidate and the mask 0.
//   4. `select`, one workgroup: radix select among the candidates, digits (11 bits, then 8) of
//      the key bits below the common prefix of LO and HI, then (only while ties remain) of the
//      global position, with barriers between digits instead of a dispatch per digit.
//   5. The kept candidates' masks are set (`select` for the first segment, `scatter` others).

import type { Storage, TopkMethod } from '../backend.js';
import { type GpuDevice, type GpuStorage, buf } from './device.js';
import { KERNELS, fold, perElement } from './kernels.js';

/** Sample size m = clamp(SAMPLE_SCALE * n^(2/3)) keys, in vec4 units; at most 16384 keeps the stratum arithmetic in u32. */
const SAMPLE_SCALE = 1.6;
const SAMPLE_MIN_UNITS = 256;
const SAMPLE_MAX_UNITS = 16384;
/** Half-width of the bracket in standard deviations of the k-th key's rank in the sample. */
const BRACKET_SD = 4;
/** Words of `work` before the per-chunk candidate counts (COUNTS in topk_common.wgsl). */
const WORK_COUNTS = 6416;
/**
 * vec4s per invocation of the split (chunks of 16384 elements per workgroup): CPU-emulated GPUs
 * pay per workgroup; a real GPU still gets 672 workgroups at ResNet-18's 11M.
 */
const PER = 16;
/** Workgroups of the further segments' fallback passes on CPU-emulated GPUs, where idle ones cost. */
const CPU_LIKE_FALLBACK_GROUPS = 8;
/** Workgroups of the scatter (grid-stride; the candidate count is known only on the GPU). */
const CPU_LIKE_SCATTER_GROUPS = 2;
const MAX_SCATTER_GROUPS = 256;

export function topkMaskGpu(gpu: GpuDevice, segments: readonly Storage[], k: number, method: TopkMethod): Storage[] {
  const total = segments.reduce((n, s) => n + s.size, 0);
  if (!Number.isInteger(k) || k < 0 || k > total) throw new Error(`topkMask: k=${k} must be an integer in [0, ${total}]`);
  if (total > 0xffffffff) throw new Error(`topkMask: ${total} elements exceed the 2^32 positions of the kernels`);
  if (k === 0) return segments.map((s) => gpu.zeros(s.size));
  return method === 'bitonic' ? bitonic(gpu, segments, k, total) : threshold(gpu, segments, k, total);
}

function offsetsOf(segments: readonly { size: number }[]): number[] {
  let at = 0;
  return segments.map((s) => {
    const o = at;
    at += s.size;
    return o;
  });
}

function bitonic(gpu: GpuDevice, segments: readonly Storage[], k: number, total: number): Storage[] {
  let n = 1;
  while (n < total) n *= 2;
  const keys = gpu.output(n, 'u32');
  const idx = gpu.output(n, 'u32');
  const offsets = offsetsOf(segments);
  segments.forEach((s, i) => {
    const count = i === segments.length - 1 ? n - offsets[i] : s.size;
    gpu.dispatch('topk_bitonic_init', {}, [buf(s), keys.buffer, idx.buffer], { len: s.size, offset: offsets[i], count }, perElement('topk_bitonic_init', count));
  });
  const half = n / 2;
  const groups = perElement('topk_bitonic', half);
  for (let block = 2; block <= n; block *= 2) {
    for (let dist = block / 2; dist >= 1; dist /= 2) {
      gpu.dispatch('topk_bitonic', {}, [keys.buffer, idx.buffer], { half, dist, block }, groups);
    }
  }
  const masks = segments.map((s, i) => {
    const out = gpu.zeros(s.size);
    gpu.dispatch('topk_bitonic_scatter', {}, [idx.buffer, out.buffer], { k, offset: offsets[i], len: s.size }, perElement('topk_bitonic_scatter', k));
    return out;
  });
  gpu.release(keys);
  gpu.release(idx);
  return masks;
}

/**
 * How many vec4 units (4 consecutive keys: one cache line serves them) the sample of n elements
 * takes, given `units` whole vec4s in all: about SAMPLE_SCALE n^(2/3) / 4.
 */
function sampleUnits(n: number, units: number): number {
  return Math.min(units, SAMPLE_MAX_UNITS, Math.max(SAMPLE_MIN_UNITS, Math.round((SAMPLE_SCALE * n ** (2 / 3)) / 4)));
}

/** Each segment's share of the sample: units [first, first + count), in proportion to its whole vec4s. */
function sampleSplit(lengths: readonly number[]): { first: number; count: number }[] {
  const units = lengths.map((len) => Math.floor(len / 4));
  const all = units.reduce((a, b) => a + b, 0);
  const m = sampleUnits(
    lengths.reduce((a, b) => a + b, 0),
    all,
  );
  let at = 0;
  return units.map((u) => {
    if (m === 0) return { first: 0, count: 0 };
    const first = Math.floor((m * at) / all);
    at += u;
    return { first, count: Math.floor((m * at) / all) - first };
  });
}

/** lowbias32, as in topk_sample.wgsl. */
function hash32(v: number): number {
  let h = v >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d) >>> 0;
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * @internal The global positions the threshold method samples for segments of these lengths
 * (what topk_sample.wgsl reads): sampled unit j of a segment is a vec4 at a hashed offset
 * inside the j-th of equal strata of its whole vec4s. Tests use it to build data on which the
 * bracket misses.
 */
export function thresholdSamplePositions(lengths: readonly number[]): number[] {
  const positions: number[] = [];
  let offset = 0;
  sampleSplit(lengths).forEach(({ first, count }, i) => {
    const units = Math.floor(lengths[i] / 4);
    const stratum = (j: number): number => Math.floor((j * units) / count);
    for (let j = 0; j < count; j++) {
      const unit = stratum(j) + (hash32(first + j) % (stratum(j + 1) - stratum(j)));
      for (let e = 0; e < 4; e++) positions.push(offset + 4 * unit + e);
    }
    offset += lengths[i];
  });
  return positions;
}

function threshold(gpu: GpuDevice, segments: readonly Storage[], k: number, total: number): Storage[] {
  const cpuLike = gpu.cpuLike;
  // The single-workgroup kernels run one SIMD group on CPU-emulated GPUs (SwiftShader's width is
  // 4), so that their barriers switch no fibers; the split groups its vec4s the same way.
  const wg = { WG: cpuLike ? '4' : String(KERNELS.topk_split.workgroupSize) };
  const splitGroup = KERNELS.topk_split.workgroupSize;
  const offsets = offsetsOf(segments);
  // The split's chunks (4 * workgroup * PER elements) each own a candidate region and count.
  const chunkLength = 4 * splitGroup * PER;
  const chunks = segments.map((s) => Math.ceil(s.size / chunkLength));
  const chunk0 = offsetsOf(chunks.map((size) => ({ size })));
  const starts = segments.flatMap((_, i) => Array.from({ length: chunks[i] }, (_, c) => offsets[i] + c * chunkLength));
  const split = sampleSplit(segments.map((s) => s.size));
  const m = 4 * split.reduce((a, { count }) => a + count, 0);
  const work = gpu.zeros(WORK_COUNTS + starts.length, 'u32');
  const samples = gpu.output(Math.max(4, m), 'u32');
  const candKey = gpu.output(total, 'u32');
  const candPos = gpu.output(total, 'u32');
  const regions = gpu.upload(Uint32Array.from(starts)) as GpuStorage;
  const flags = gpu.output(Math.max(...chunks) * splitGroup, 'u32');
  const masks = segments.map((s) => gpu.output(s.size));
  const bindings = (i: number): GPUBuffer[] => [buf(segments[i]), masks[i].buffer, candKey.buffer, candPos.buffer, work.buffer, flags.buffer];
  const segmentUniforms = (i: number, stride = 0) => ({ len: segments[i].size, offset: offsets[i], chunk0: chunk0[i], per: PER, k: 0, chunks: 0, stride });
  // The first segment's sampling, fallback and scatter ride on the single-workgroup kernels
  // (layer scope needs no dispatch for them); the others get their own dispatches.
  const further = segments.map((_, i) => i).slice(1);

  // 1. The sample (m keys) and the bracket: sample ranks k m / n -+ spread.
  const q = k / total;
  const spread = BRACKET_SD * Math.sqrt(m * q * (1 - q)) + 1;
  const rHi = Math.floor((k * m) / total - spread);
  const rLo = Math.ceil((k * m) / total + spread);
  const sampleUniforms = (i: number) => ({
    len: Math.floor(segments[i].size / 4),
    first: split[i].first,
    count: split[i].count,
    units: m / 4,
    r_hi: rHi >= 1 ? rHi : 0,
    r_lo: rLo <= m ? rLo : 0,
  });
  for (const i of further) {
    gpu.dispatch(
      'topk_sample',
      wg,
      [buf(segments[i]), samples.buffer, work.buffer],
      sampleUniforms(i),
      [Math.ceil(split[i].count / KERNELS.topk_sample.workgroupSize), 1, 1],
      'sample',
    );
  }
  gpu.dispatch('topk_sample', wg, [buf(segments[0]), samples.buffer, work.buffer], sampleUniforms(0), [1, 1, 1], 'bracket');

  // 2-3. The pass over every element; the check (with the first segment's fallback pass), and
  // the other segments' fallback passes: no-ops after a hit; on CPU-like devices idle
  // workgroups cost, so they run few that loop over the chunks.
  segments.forEach((_, i) => {
    gpu.dispatch('topk_split', wg, bindings(i), segmentUniforms(i), fold(chunks[i]), 'split');
    gpu.dispatch('topk_split', wg, bindings(i), segmentUniforms(i), fold(chunks[i]), 'append');
  });
  gpu.dispatch('topk_split', wg, bindings(0), { ...segmentUniforms(0), k, chunks: starts.length }, [1, 1, 1], 'check');
  for (const i of further) {
    gpu.dispatch('topk_split', wg, bindings(i), segmentUniforms(i), fold(cpuLike ? Math.min(chunks[i], CPU_LIKE_FALLBACK_GROUPS) : chunks[i]), 'fallback');
  }

  // 4-5. Radix select among the candidates; the kept candidates' masks.
  const posBits = Math.max(1, 32 - Math.clz32(total - 1));
  const select = { chunks: starts.length, pos_bits: posBits, first_chunks: chunks[0] };
  gpu.dispatch('topk_select', wg, [candKey.buffer, candPos.buffer, regions.buffer, work.buffer, masks[0].buffer], select, [1, 1, 1]);
  const groups = cpuLike ? CPU_LIKE_SCATTER_GROUPS : Math.max(1, Math.min(MAX_SCATTER_GROUPS, Math.ceil(total / (splitGroup * 64))));
  for (const i of further) gpu.dispatch('topk_split', wg, bindings(i), segmentUniforms(i, groups * splitGroup), [groups, 1, 1], 'scatter');
  for (const scratch of [work, samples, candKey, candPos, regions, flags]) gpu.release(scratch);
  return masks;
}
