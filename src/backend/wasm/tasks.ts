// The wasm backend's work items: how each kernel's job is cut into independent pieces that any
// thread may run (threads.ts). A task gets the module's exports, the job's arguments (numbers:
// addresses in bytes, sizes, scalars), the item and the thread running it (for per-thread
// scratch). Every item writes its own outputs only, and computes them in a fixed order.

import { GEMM } from './gemm.js';
import { ACCESSES, BINARY_OPS, UNARY_OPS } from './kernels.js';

export type Kernel = (...args: number[]) => number;
export type Kernels = Readonly<Record<string, Kernel>>;
/** A job's arguments: the shared control block's float64 words, or the caller's list when it runs alone. */
type Args = Float64Array | readonly number[];
export type Task = (k: Kernels, a: Args, item: number, thread: number) => void;

/** Bytes of each thread's scratch tile for the GEMM's edge blocks. */
export const TILE_BYTES = GEMM.mr * 4 * GEMM.nv * 4;

const min = Math.min;

/** The arguments from `start` on. */
function rest(a: Args, start: number): Args {
  return a instanceof Float64Array ? a.subarray(start) : Array.prototype.slice.call(a, start);
}

/** Items over n things, `per` at a time: the range of `item`. */
function range(item: number, per: number, n: number): [number, number] {
  const start = item * per;
  return [start, min(per, n - start)];
}

/**
 * A convolution item's column segments (convGemm, binaryConvGemm). From argument `at`:
 * [c, cImageBytes, ldc, segments, segCols, lastCols, srcStep, cStep, perItem]: an image's
 * columns go in `segments` of `segCols` (the last `lastCols`); segment s reads B at column
 * s srcStep and writes C at column s cStep, C's rows ldc apart; an item is (image, block of
 * `perItem` segments). Calls `each(image, srcByteOffset, cAddress, ldc, columns)` per segment.
 */
function forSegments(a: Args, at: number, item: number, each: (n: number, srcAt: number, cAt: number, ldc: number, nc: number) => void): void {
  const [c, cImage, ldc, segments, segCols, lastCols, srcStep, cStep, perItem] = [a[at], a[at + 1], a[at + 2], a[at + 3], a[at + 4], a[at + 5], a[at + 6], a[at + 7], a[at + 8]];
  const itemsPerImage = Math.ceil(segments / perItem);
  const n = Math.floor(item / itemsPerImage);
  const [s0, count] = range(item % itemsPerImage, perItem, segments);
  for (let seg = s0; seg < s0 + count; seg++) {
    each(n, 4 * seg * srcStep, c + n * cImage + 4 * seg * cStep, ldc, seg === segments - 1 ? lastCols : segCols);
  }
}

export const TASKS = {
  /** [name, x, out, n, s, chunk]: contiguous chunks (multiples of 4 elements). */
  unary(k, a, item) {
    const [start, len] = range(item, a[5], a[3]);
    k[UNARY_KERNELS[a[0]]](a[1] + 4 * start, a[2] + 4 * start, len, a[4]);
  },

  /**
   * [name, a, b, out, aTable, bTable, rows, L, sa, sb, rowsPerItem, chunk]: blocks of rows, or
   * (rowsPerItem 0) column chunks of a single row.
   */
  binary(k, a, item) {
    const fn = k[BINARY_KERNELS[a[0]]];
    const [rows, len, sa, sb] = [a[6], a[7], a[8], a[9]];
    if (a[10] > 0) {
      const [r0, n] = range(item, a[10], rows);
      fn(a[1], a[2], a[3] + 4 * r0 * len, a[4] + 4 * r0, a[5] + 4 * r0, n, len, sa, sb);
    } else {
      const [c0, n] = range(item, a[11], len);
      fn(a[1] + 4 * c0 * sa, a[2] + 4 * c0 * sb, a[3] + 4 * c0, a[4], a[5], 1, n, sa, sb);
    }
  },

  /** [name, x, out, table, rows, L, sx, rowsPerItem, chunk]: as binary, one operand. */
  copy(k, a, item) {
    const fn = k[COPY_KERNELS[a[0]]];
    const [rows, len, sx] = [a[4], a[5], a[6]];
    if (a[7] > 0) {
      const [r0, n] = range(item, a[7], rows);
      fn(a[1], a[2] + 4 * r0 * len, a[3] + 4 * r0, n, len, sx);
    } else {
      const [c0, n] = range(item, a[8], len);
      fn(a[1] + 4 * c0 * sx, a[2] + 4 * c0, a[3], 1, n, sx);
    }
  },

  /** [name, x, out, keptTable, outs, redTable, runs, L, perItem]: blocks of outputs (rows of L for cols). */
  reduce(k, a, item) {
    const name = REDUCE_KERNELS[a[0]];
    const [o0, n] = range(item, a[8], a[4]);
    const outStride = name.endsWith('cols') ? a[7] : 1;
    k[name](a[1], a[2] + 4 * o0 * outStride, a[3] + 4 * o0, n, a[5], a[6], a[7]);
  },

  /** [src, dst, planes, H, W, Hp, Wp, top, left, dilH, dilW, perItem]: blocks of planes. */
  pad(k, a, item) {
    const [p0, n] = range(item, a[11], a[2]);
    k.pad(a[0] + 4 * p0 * a[3] * a[4], a[1] + 4 * p0 * a[5] * a[6], n, a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10]);
  },

  /** [kernel (0 max, 1 avg), x, out, argmax, params, planes, inPlane, outPlane, perItem] */
  poolForward(k, a, item) {
    const [p0, n] = range(item, a[8], a[5]);
    const outAt = 4 * p0 * a[7];
    k[a[0] === 0 ? 'pool_max' : 'pool_avg'](a[1] + 4 * p0 * a[6], a[2] + outAt, a[3] + outAt, a[4], n);
  },

  /** [kernel (0 max, 1 avg), dy, argmax, dx, params, planes, inPlane, outPlane, perItem] */
  poolBackward(k, a, item) {
    const [p0, n] = range(item, a[8], a[5]);
    const dyAt = 4 * p0 * a[7];
    const dxAt = a[3] + 4 * p0 * a[6];
    if (a[0] === 0) k.pool_max_back(a[1] + dyAt, a[2] + dyAt, dxAt, a[4], n);
    else k.pool_avg_back(a[1] + dyAt, dxAt, a[4], n);
  },

  /**
   * The matrix product of convolutions: per image, C[M, columns] = A[M, K] x B[K, columns]
   * where B's row kk is a run of the image at `src + 4 rowTable[kk]`, columns in segments
   * (forSegments). [pa, paBlockBytes, src, srcImageBytes, rowTable, K, KC, M, ...segments, tiles]
   */
  convGemm(k, a, item, thread) {
    const [pa, paBlock, src, srcImage, rowTable, K, KC, M] = [a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]];
    const tile = a[17] + thread * TILE_BYTES;
    forSegments(a, 8, item, (n, srcAt, cAt, ldc, nc) => {
      for (let k0 = 0, kb = 0; k0 < K; k0 += KC, kb++) {
        k.gemm_rows(pa + kb * paBlock, src + n * srcImage + srcAt, rowTable + 4 * k0, cAt, ldc, M, nc, min(KC, K - k0), kb > 0 ? 1 : 0, tile);
      }
    });
  },

  /**
   * The binary sparse conv: per image, column segment and block of 8 output channels, a
   * product over the block's entries only. [pa, src, srcImageBytes, rowTable, blockStarts, blocks, M, ...segments, tiles]
   */
  binaryConvGemm(k, a, item, thread) {
    const [pa, src, srcImage, rowTable, starts, blocks, M] = [a[0], a[1], a[2], a[3], a[4], a[5], a[6]];
    const tile = a[16] + thread * TILE_BYTES;
    forSegments(a, 7, item, (n, srcAt, cAt, ldc, nc) => {
      for (let b = 0; b < blocks; b++) {
        const e0 = k.load_i32(starts + 4 * b);
        const e1 = k.load_i32(starts + 4 * b + 4);
        k.gemm_rows(pa + 32 * e0, src + n * srcImage + srcAt, rowTable + 4 * e0, cAt + 4 * b * 8 * ldc, ldc, min(8, M - 8 * b), nc, e1 - e0, 0, tile);
      }
    });
  },

  /**
   * Packs A for matmul, per (batch, K block): rows contiguous (pack_a_rows) or through offset
   * tables (pack_a). [src, batchStride, rowTable, colTable, M, K, KC, dst, dstBatchBytes, dstBlockBytes, kBlocks, contiguous]
   */
  packA(k, a, item) {
    const [src, batchStride, rowTable, colTable, M, K, KC, dst, dstBatch, dstBlock, kBlocks, contiguous] = a;
    const b = Math.floor(item / kBlocks);
    const kb = item % kBlocks;
    const k0 = kb * KC;
    const out = dst + b * dstBatch + kb * dstBlock;
    if (contiguous) k.pack_a_rows(src + 4 * (b * batchStride + k0), rowTable, M, min(KC, K - k0), out);
    else k.pack_a(src + 4 * b * batchStride, rowTable, colTable + 4 * k0, M, min(KC, K - k0), out);
  },

  /** packA's items, then packB's: both operands of a matmul in one job. [packA items, ...packA args (12), ...packB args (11)] */
  packBoth(k, a, item) {
    const aItems = a[0];
    if (item < aItems) TASKS.packA(k, rest(a, 1), item);
    else TASKS.packB(k, rest(a, 13), item - aItems);
  },

  /** Packs B per (batch, K block). [src, batchStride, rs, cs, N, K, KC, dst, dstBatchBytes, dstBlockBytes, kBlocks] */
  packB(k, a, item) {
    const [src, batchStride, rs, cs, N, K, KC, dst, dstBatch, dstBlock, kBlocks] = [a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10]];
    const b = Math.floor(item / kBlocks);
    const kb = item % kBlocks;
    const k0 = kb * KC;
    k.pack_b(src + 4 * (b * batchStride + k0 * rs), rs, cs, min(KC, K - k0), N, dst + b * dstBatch + kb * dstBlock);
  },

  /**
   * C (+)= packed A x packed B per (batch, row block, column block), K blocks in order.
   * [pa, paBatchBytes, paBlockBytes, pb, pbBatchBytes, pbBlockBytes, c, cBatchBytes, ldc, M, N, K, KC, MC, NC, mBlocks, nBlocks, tiles]
   */
  matmulGemm(k, a, item, thread) {
    const [pa, paBatch, paBlock, pb, pbBatch, pbBlock, c, cBatch, ldc, M, N, K, KC, MC, NC, mBlocks, nBlocks, tiles] = a;
    const perBatch = mBlocks * nBlocks;
    const b = Math.floor(item / perBatch);
    const [i0, mc] = range(Math.floor((item % perBatch) / nBlocks), MC, M);
    const [j0, nc] = range(item % nBlocks, NC, N);
    const tile = tiles + thread * TILE_BYTES;
    for (let k0 = 0, kb = 0; k0 < K; k0 += KC, kb++) {
      const kc = min(KC, K - k0);
      k.gemm_packed(
        pa + b * paBatch + kb * paBlock + 4 * i0 * kc,
        pb + b * pbBatch + kb * pbBlock + 4 * j0 * kc,
        c + b * cBatch + 4 * (i0 * ldc + j0),
        ldc,
        mc,
        nc,
        kc,
        kb > 0 ? 1 : 0,
        tile,
      );
    }
  },

  /**
   * A convolution's weight gradient, transposed: C[K, O] += col[K, Q] x dY^T[Q, O] over every
   * image and Q block in order; items are blocks of K rows, so each thread packs only its own
   * rows of col. Columns whose position in their row of `width` is past `valid` are virtual
   * (see backend.ts) and are zeroed in A.
   * [src, srcImageBytes, rowTable, K, MC, images, Q, KC, pb, pbImageBytes, pbBlockBytes, O, c, paScratch, tiles, width, valid]
   */
  weightGradGemm(k, a, item, thread) {
    const [src, srcImage, rowTable, K, MC, images, Q, KC, pb, pbImage, pbBlock, O, c, paScratch, tiles, width, valid] = a;
    const [r0, mc] = range(item, MC, K);
    const pa = paScratch + thread * MC * KC * 4;
    const tile = tiles + thread * TILE_BYTES;
    for (let n = 0; n < images; n++) {
      for (let q0 = 0, qb = 0; q0 < Q; q0 += KC, qb++) {
        const kc = min(KC, Q - q0);
        k.pack_a_rows(src + n * srcImage + 4 * q0, rowTable + 4 * r0, mc, kc, pa);
        if (valid < width) k.zero_columns(pa, Math.ceil(mc / GEMM.mr), kc, q0 % width, width, valid);
        k.gemm_packed(pa, pb + n * pbImage + qb * pbBlock, c + 4 * r0 * O, O, mc, O, kc, n > 0 || qb > 0 ? 1 : 0, tile);
      }
    }
  },

  /** Top-k histograms per chunk. [chunks (src, n pairs), fixedMask, prefix, shift, digitMask, hist, histWords] */
  topkHist(k, a, item) {
    const src = k.load_i32(a[0] + 8 * item);
    const n = k.load_i32(a[0] + 8 * item + 4);
    k.memory_fill(a[5] + 4 * item * a[6], 0, 4 * a[6]);
    k.topk_hist(src, n, a[1], a[2], a[3], a[4], a[5] + 4 * item * a[6]);
  },

  /** Keys equal to the threshold per chunk. [chunks, threshold, counts] */
  topkCount(k, a, item) {
    k.store_i32(a[2] + 4 * item, k.topk_count(k.load_i32(a[0] + 8 * item), k.load_i32(a[0] + 8 * item + 4), a[1]));
  },

  /** Mask per chunk. [chunks, outs (one address per chunk), threshold, ties (per chunk)] */
  topkMask(k, a, item) {
    k.topk_mask(k.load_i32(a[0] + 8 * item), k.load_i32(a[1] + 4 * item), k.load_i32(a[0] + 8 * item + 4), a[2], k.load_i32(a[3] + 4 * item));
  },

  /** One compare-exchange stage of the bitonic sort. [keys, pos, dist, block, pairs, perItem] */
  bitonicStep(k, a, item) {
    const [t0, n] = range(item, a[5], a[4]);
    k.bitonic_step(a[0], a[1], a[2], a[3], t0, t0 + n);
  },
} satisfies Record<string, Task>;

export type TaskName = keyof typeof TASKS;
export const TASK_NAMES = Object.keys(TASKS) as TaskName[];

// Kernel names by index (jobs carry numbers only).
export const UNARY_KERNELS = UNARY_OPS.map((op) => `unary_${op}`);
export const BINARY_KERNELS = BINARY_OPS.flatMap((op) => ACCESSES.flatMap((x) => ACCESSES.map((y) => `binary_${op}_${x}_${y}`)));
export const COPY_KERNELS = ACCESSES.map((x) => `copy_${x}`);
export const REDUCE_KERNELS = ['reduce_sum_runs', 'reduce_max_runs', 'reduce_sum_cols', 'reduce_max_cols'];
