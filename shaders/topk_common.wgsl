// Shared by the threshold top-k kernels (topk_sample, topk_split, topk_select; pulled
// in with `#include "topk_common"`, not a kernel itself): the layout of the `work` buffer that
// carries the selection from kernel to kernel on the GPU (nothing is read back).
// src/backend/webgpu/topk.ts describes the algorithm.
//
// Keys are |v| as float bits, `bits & 0x7fffffff`: monotone in |v|, -0 equals 0, NaN above
// Infinity. Elements rank by key descending, then by global position ascending.

// The threshold: mask = key > T_KEY || (key == T_KEY && pos <= T_POS), once DECIDED.
const T_KEY = 0u;     // digits fixed so far, in place (lower bits 0)
const T_POS = 1u;
const REST = 2u;      // rank still to find among the candidates sharing the fixed digits
const DECIDED = 3u;
// The bracket: keys > HI are kept outright, keys in [LO, HI] are the candidates.
const HI = 4u;
const LO = 5u;
const ABOVE = 6u;     // how many keys are > HI
const MISS = 7u;      // 1: the k-th key was outside the bracket; `fallback` makes all candidates
const KEY_BITS = 8u;  // the low key bits in which candidates differ (bit length of LO ^ HI)
/** The histograms of the select's digits (topk_select.wgsl: digit_hist); never cleared. */
const DIGIT_HIST = 16u;
/** 2048 bins of the sample's key bits 30..20 (level 1)... */
const SAMPLE_HIST = 3856u;
/** ...then 2 x 256 bins of bits 19..12 of the keys in the bin of each bracket end (level 2). */
const FINE_HIST = 5904u;
/** One candidate count per chunk of the split (topk.ts: WORK_COUNTS). */
const COUNTS = 6416u;

/** No bin (a bracket end that the sample does not bound). */
const NONE = 0xffffffffu;
