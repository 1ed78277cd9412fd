// Exact top-k masks (the core of lottery-ticket methods: edge-popup / MPT scores, IMP,
// iterative hard thresholding) and masks from a fixed threshold.
//
// The masks are new tensors with no gradient (straight-through estimators wrap them in the
// layers that use them).

import type { TopkMethod } from '../backend/backend.js';
import { valueStr } from '../shape.js';
import { Tensor } from '../tensor.js';

export interface TopkMaskOptions {
  /**
   * 'threshold' (default): an O(n) selection of the k-th largest |s| on the device (a sampled
   * bracket, then an exact radix select among the candidates; no sort, no readback); 'bitonic': a bitonic sort (the original method). Both give the same mask.
   */
  method?: TopkMethod;
}

/**
 * 0/1 masks keeping exactly `k = round(density * n)` elements with the largest |s|; ties go to
 * the lower position. A single tensor: layer scope, one mask of its shape. An array: global
 * scope (one selection over all of them together, k = round(density * total), positions in
 * array order), one mask per tensor.
 */
export function topkMask(scores: Tensor, density: number, options?: TopkMaskOptions): Tensor;
export function topkMask(scores: Tensor[], density: number, options?: TopkMaskOptions): Tensor[];
export function topkMask(scores: Tensor | Tensor[], density: number, options?: TopkMaskOptions): Tensor | Tensor[];
export function topkMask(scores: Tensor | Tensor[], density: number, options: TopkMaskOptions = {}): Tensor | Tensor[] {
  const list = Array.isArray(scores) ? scores : [scores];
  if (list.length === 0) throw new Error('topkMask: needs at least one tensor of scores (got an empty list)');
  list.forEach((t, i) => {
    if (!(t instanceof Tensor)) throw new Error(`topkMask: scores${Array.isArray(scores) ? `[${i}]` : ''} must be a Tensor, got ${Array.isArray(t) ? 'an array' : typeof t}`);
  });
  if (typeof density !== 'number' || !(density >= 0 && density <= 1)) {
    throw new Error(`topkMask: density must be a number in [0, 1] (the fraction of elements kept), got ${valueStr(density)}`);
  }
  const method = options.method ?? 'threshold';
  if (method !== 'threshold' && method !== 'bitonic') throw new Error(`topkMask: unknown method '${String(method)}' (use 'threshold' or 'bitonic')`);
  const backend = list[0].backend;
  list.forEach((t, i) => {
    if (t.backend !== backend) throw new Error(`topkMask: scores[${i}] lives on ${t.backend.name}, scores[0] on ${backend.name}: all must share one backend`);
  });
  const total = list.reduce((n, t) => n + t.size, 0);
  const k = Math.round(density * total);
  const storages = backend.topkMask(
    list.map((t) => t.storage),
    k,
    method,
  );
  const masks = storages.map((s, i) => new Tensor(s, list[i].shape, backend));
  return Array.isArray(scores) ? masks : masks[0];
}

/** |s| > tau as 0/1 (the paper's fixed-threshold mask), with no gradient. */
export function thresholdMask(scores: Tensor, tau: number): Tensor {
  if (typeof tau !== 'number' || Number.isNaN(tau)) throw new Error(`thresholdMask: tau must be a number, got ${valueStr(tau)}`);
  if (!(scores instanceof Tensor)) throw new Error('thresholdMask: scores must be a Tensor');
  // Kernels hold the threshold as float32; for float32 scores |s| > tau exactly when |s| > the
  // largest float32 <= tau (rounding tau to nearest could round up past some |s| > tau).
  return new Tensor(scores.backend.unary('absGreater', scores.storage, float32AtMost(tau)), scores.shape, scores.backend);
}

/** The largest float32 <= v. */
function float32AtMost(v: number): number {
  const f = Math.fround(v);
  if (!(f > v)) return f;
  if (f === 0) return -(2 ** -149);
  const bits = new Float32Array([f]);
  new Int32Array(bits.buffer)[0] += f > 0 ? -1 : 1;
  return bits[0];
}
