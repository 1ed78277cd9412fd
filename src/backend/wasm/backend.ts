// The WebAssembly backend: every kernel is SIMD128 code built at run time (kernels.ts), run on
// one memory that holds every storage, by this thread and, for large jobs, worker threads.
//
// How a kernel runs: it is synchronous, like the CPU reference. The method sizes its job,
// writes small index tables (row offsets, im2col offsets) into scratch blocks, and runs the
// job's items (tasks.ts) on the thread pool; scratch goes back to the pool when it returns.
//
// Convolutions are matrix products without an im2col copy in the common case (stride 1): the
// input is padded once, and output pixel (oy, ox) of a "virtual" row of Wp (padded width)
// columns reads input row run (c, oy + ky, ox + kx) at offset c Hp Wp + ky Wp + kx + q, with
// q = oy Wp + ox. So B's row (c, ky, kx) is the padded image shifted by a constant: no copy,
// only a table of K row offsets. The Wp - OW extra columns per row (about 6% more work for a
// 32-wide image with padding 1) are computed and dropped. A strided convolution copies im2col
// columns first. The input gradient is the same product on the output gradient dilated by the
// stride and padded by k - 1 - p, with the weights flipped and transposed; the weight gradient
// is col x dY^T, with threads splitting the K rows of col.

import type {
  Backend,
  BinaryConvWeights,
  BinaryOp,
  ConvParams,
  DType,
  MatmulParams,
  MemoryInfo,
  PoolMode,
  PoolParams,
  ReduceOp,
  Storage,
  TopkMethod,
  UnaryOp,
} from '../backend.js';
import { type Shape, coalesce, reductionDims, sizeOf } from '../../shape.js';
import { GEMM } from './gemm.js';
import { BINARY_OPS, type KernelFeatures, POOL_FIELDS, UNARY_OPS, accessOf, ACCESSES, buildKernels } from './kernels.js';
import { ModuleBuilder } from './builder.js';
import { BlockPool, MAX_PAGES, RESERVED_BYTES } from './memory.js';
import { CONTROL_BYTES, type SpawnWorker, ThreadPool } from './threads.js';
import { type Kernels, REDUCE_KERNELS, TILE_BYTES, type TaskName } from './tasks.js';

/** Tuning knobs. */
const KNOBS = {
  /** Elements per item of elementwise work. */
  chunk: 16384,
  /** Below this many elements (or FLOPs / 16), one thread does the job. */
  parallelElements: 65536,
  /** K is cut into blocks of about this many (kept in L1/L2 next to the B panel). */
  kBlock: 320,
  /** Rows of A (multiple of MR) and columns of B (multiple of NR) per matmul item. */
  mBlock: 64,
  nBlock: 480,
  /** Top-k: elements per chunk of the histogram and mask passes. */
  topkChunk: 65536,
};
const NR = 4 * GEMM.nv;

if (CONTROL_BYTES > RESERVED_BYTES) throw new Error('internal: the thread control block does not fit the reserved memory');

class WasmStorage implements Storage {
  refs = 0;
  released = false;
  constructor(
    readonly ptr: number,
    readonly bytes: number,
    readonly size: number,
    readonly dtype: DType,
  ) {}
}

const ptr = (s: Storage): number => (s as WasmStorage).ptr;

const ceilDiv = (a: number, b: number): number => Math.ceil(a / b);
const roundUp = (a: number, b: number): number => ceilDiv(a, b) * b;

/** K blocks of about KNOBS.kBlock, equal in size. */
function kBlocking(k: number): { kc: number; blocks: number } {
  const blocks = Math.max(1, ceilDiv(k, KNOBS.kBlock));
  return { kc: Math.max(1, ceilDiv(k, blocks)), blocks };
}

/** Offsets of every element of `shape` through `strides` (row-major). */
function offsets(shape: readonly number[], strides: readonly number[]): Int32Array {
  const out = new Int32Array(sizeOf(shape));
  const idx = new Array<number>(shape.length).fill(0);
  let at = 0;
  for (let i = 0; i < out.length; i++) {
    out[i] = at;
    for (let d = shape.length - 1; d >= 0; d--) {
      idx[d]++;
      at += strides[d];
      if (idx[d] < shape[d]) break;
      at -= strides[d] * shape[d];
      idx[d] = 0;
    }
  }
  return out;
}

/** How a convolution's B operand is laid out (see the file comment). */
interface ConvSource {
  /** Address of image 0's first B row run, and bytes per image. */
  src: number;
  image: number;
  /** Columns per image: OH * Wp (virtual rows) or OH * OW. */
  q: number;
  /** Row width of the columns: Wp, or OW when the columns are the output pixels. */
  width: number;
  /** Element offset of B row (c, ky, kx) from `src`. */
  rowOffset(c: number, ky: number, kx: number): number;
}

/** The row offsets of every (c, ky, kx) of a convolution's K dimension, in that order. */
function convRows(source: ConvSource, channels: number, kH: number, kW: number): Int32Array {
  const rows = new Int32Array(channels * kH * kW);
  let i = 0;
  for (let c = 0; c < channels; c++) for (let ky = 0; ky < kH; ky++) for (let kx = 0; kx < kW; kx++) rows[i++] = source.rowOffset(c, ky, kx);
  return rows;
}

export interface WasmInfo {
  relaxedSimd: boolean;
  /** Why there is one thread when more were asked for (a browser page without cross-origin isolation). */
  singleThreadReason: string | null;
}

export class WasmBackend implements Backend {
  readonly name = 'wasm' as const;
  /** wasm32: one memory of at most 4 GiB (less the reserved area), float32 elements. */
  readonly maxElements = (MAX_PAGES * 65536 - RESERVED_BYTES) / 4;
  private readonly blocks: BlockPool;
  private readonly registry: FinalizationRegistry<{ ptr: number; bytes: number }>;
  private temps: { ptr: number; bytes: number }[] = [];
  private f32 = new Float32Array(0);
  private i32 = new Int32Array(0);

  constructor(
    private readonly wasmMemory: WebAssembly.Memory,
    private readonly k: Kernels,
    private readonly pool: ThreadPool,
    readonly info: WasmInfo,
  ) {
    this.blocks = new BlockPool(wasmMemory);
    this.registry = new FinalizationRegistry(({ ptr, bytes }) => this.blocks.release(ptr, bytes));
    // The per-thread GEMM edge tiles live in the reserved area, after the control block.
    this.tiles = roundUp(CONTROL_BYTES, 64);
    if (this.tiles + pool.started * TILE_BYTES > RESERVED_BYTES) throw new Error(`wasm backend: ${pool.started} threads exceed the kernels' scratch area`);
  }

  get adapter(): string {
    const n = this.pool.threads;
    return `WebAssembly SIMD128${this.info.relaxedSimd ? ' + relaxed madd' : ''}, ${n} thread${n > 1 ? 's' : ''}`;
  }

  /** Threads that run jobs; any count up to `startedThreads` (results are the same for any). */
  get threads(): number {
    return this.pool.threads;
  }

  set threads(n: number) {
    this.pool.threads = n;
  }

  get startedThreads(): number {
    return this.pool.started;
  }

  private readonly tiles: number;

  // ---- memory ----

  private views(): void {
    if (this.f32.byteLength !== this.wasmMemory.buffer.byteLength) {
      const b = this.wasmMemory.buffer;
      this.f32 = new Float32Array(b);
      this.i32 = new Int32Array(b);
    }
  }

  private storage(size: number, dtype: DType = 'f32'): WasmStorage {
    const block = this.blocks.allocate(size * 4, () => `a tensor of ${size} elements`);
    const s = new WasmStorage(block.ptr, block.bytes, size, dtype);
    this.registry.register(s, block, s);
    return s;
  }

  /** Scratch for the running method; freed by `done()`. */
  private temp(bytes: number): number {
    const block = this.blocks.allocate(bytes, () => `scratch of ${bytes} bytes`);
    this.temps.push(block);
    return block.ptr;
  }

  /** An i32 table in scratch. */
  private table(values: ArrayLike<number>): number {
    const at = this.temp(Math.max(1, values.length) * 4);
    this.views();
    this.i32.set(values, at / 4);
    return at;
  }

  private done(): void {
    for (const { ptr: p, bytes } of this.temps) this.blocks.release(p, bytes);
    this.temps = [];
  }

  /** Runs `fn`, then frees its scratch whatever happens. */
  private scoped<T>(fn: () => T): T {
    try {
      return fn();
    } finally {
      this.done();
    }
  }

  private run(task: TaskName, items: number, args: readonly number[], work: number): void {
    this.pool.run(task, items, args, work >= KNOBS.parallelElements);
  }

  // Copies in and out of the memory go through Float32Array views: V8 copies between
  // Float32Arrays with memmove even when one is shared (and a same-type copy keeps every bit, so
  // u32 words pass too), while slice() or a Uint8Array/Uint32Array copy of shared memory went
  // element by element, 30x slower (2.8 ms per MiB).

  upload(data: Float32Array | Uint32Array): Storage {
    const s = this.storage(data.length, data instanceof Uint32Array ? 'u32' : 'f32');
    this.views();
    this.f32.set(new Float32Array(data.buffer, data.byteOffset, data.length), s.ptr / 4);
    return s;
  }

  zeros(size: number, dtype: DType = 'f32'): Storage {
    const s = this.storage(size, dtype);
    return this.fill(s, 0);
  }

  /** A copy of `size` words at `at` (bits kept). */
  private copyOut(at: number, size: number): Float32Array {
    this.views();
    const out = new Float32Array(size);
    out.set(this.f32.subarray(at / 4, at / 4 + size));
    return out;
  }

  async read(s: Storage): Promise<Float32Array | Uint32Array> {
    const out = this.copyOut(ptr(s), s.size);
    return s.dtype === 'u32' ? new Uint32Array(out.buffer) : out;
  }

  release(s: Storage): void {
    const w = s as WasmStorage;
    if (w.released) throw new Error('internal: a wasm storage released twice');
    w.released = true;
    this.registry.unregister(w);
    this.blocks.release(w.ptr, w.bytes);
  }

  copy(src: Storage, dst: Storage): void {
    if (src.dtype !== dst.dtype) throw new Error(`internal: copy from ${src.dtype} to ${dst.dtype}`);
    if (src.size !== dst.size) throw new Error(`internal: copy of ${src.size} elements into ${dst.size}`);
    this.views();
    this.f32.copyWithin(ptr(dst) / 4, ptr(src) / 4, ptr(src) / 4 + src.size);
  }

  flush(): void {}
  async sync(): Promise<void> {}
  memory(): MemoryInfo {
    return this.blocks.stats();
  }
  destroy(): void {
    this.pool.terminate();
  }

  // ---- elementwise ----

  unary(op: UnaryOp, x: Storage, scalar: number): Storage {
    const out = this.storage(x.size);
    const n = x.size;
    this.run('unary', ceilDiv(n, KNOBS.chunk), [UNARY_OPS.indexOf(op), ptr(x), out.ptr, n, scalar, KNOBS.chunk], n);
    return out;
  }

  /**
   * Rows of the output (contiguous, L long) and each operand's row offsets and innermost
   * stride, after merging dims; items are blocks of rows, or chunks of one long row.
   */
  private rows(
    outShape: Shape,
    strideSets: readonly (readonly number[])[],
  ): { rows: number; len: number; tables: number[]; inner: number[]; perRow: number; chunk: number; items: number } {
    const c = coalesce(outShape, strideSets as number[][]);
    const rank = c.shape.length;
    const len = rank === 0 ? 1 : c.shape[rank - 1];
    const outer = c.shape.slice(0, -1);
    const rows = sizeOf(outer);
    const tables = c.strides.map((s) => this.table(offsets(outer, s.slice(0, -1))));
    const inner = c.strides.map((s) => (rank === 0 ? 1 : s[rank - 1]));
    const perRow = rows > 1 ? Math.max(1, Math.floor(KNOBS.chunk / len)) : 0;
    const items = perRow > 0 ? ceilDiv(rows, perRow) : ceilDiv(len, KNOBS.chunk);
    return { rows, len, tables, inner, perRow, chunk: KNOBS.chunk, items };
  }

  binary(op: BinaryOp, a: Storage, aStrides: readonly number[], b: Storage, bStrides: readonly number[], outShape: Shape): Storage {
    const size = sizeOf(outShape);
    const out = this.storage(size);
    if (size === 0) return out;
    return this.scoped(() => {
      const r = this.rows(outShape, [aStrides, bStrides]);
      const name = (BINARY_OPS.indexOf(op) * ACCESSES.length + ACCESSES.indexOf(accessOf(r.inner[0]))) * ACCESSES.length + ACCESSES.indexOf(accessOf(r.inner[1]));
      this.run('binary', r.items, [name, ptr(a), ptr(b), out.ptr, r.tables[0], r.tables[1], r.rows, r.len, r.inner[0], r.inner[1], r.perRow, r.chunk], size);
      return out;
    });
  }

  copyStrided(x: Storage, outShape: Shape, strides: readonly number[]): Storage {
    const out = this.storage(sizeOf(outShape));
    this.scoped(() => this.copyInto(ptr(x), out.ptr, outShape, strides));
    return out;
  }

  /** out (contiguous, `outShape`) = x read at offset(i) through `strides`. */
  private copyInto(x: number, out: number, outShape: Shape, strides: readonly number[]): void {
    const size = sizeOf(outShape);
    if (size === 0) return;
    const r = this.rows(outShape, [strides]);
    this.run('copy', r.items, [ACCESSES.indexOf(accessOf(r.inner[0])), x, out, r.tables[0], r.rows, r.len, r.inner[0], r.perRow, r.chunk], size);
  }

  reduce(op: ReduceOp, x: Storage, shape: Shape, axes: readonly number[]): Storage {
    const { kept, red } = reductionDims(shape, axes);
    const outSize = sizeOf(kept.shape);
    const redSize = sizeOf(red.shape);
    if (redSize === 0) return this.fill(this.storage(outSize), op === 'sum' ? 0 : -Infinity);
    if (redSize === 1 || outSize === 0) {
      // Nothing to combine: the values themselves (reduced axes of size 1).
      const out = this.storage(outSize);
      this.copy(x, out);
      return out;
    }
    const out = this.storage(outSize);
    return this.scoped(() => {
      // The input's innermost dim (stride 1) is reduced (runs) or kept (cols).
      const runs = red.strides[red.shape.length - 1] === 1;
      const [inner, outer] = runs ? [red, kept] : [kept, red];
      const len = inner.shape[inner.shape.length - 1];
      const innerOuter = offsets(inner.shape.slice(0, -1), inner.strides.slice(0, -1));
      const keptTable = this.table(runs ? offsets(outer.shape, outer.strides) : innerOuter);
      const redTable = this.table(runs ? innerOuter : offsets(outer.shape, outer.strides));
      const count = runs ? outSize : outSize / len;
      const runsPer = runs ? redSize / len : redSize;
      const name = REDUCE_KERNELS.indexOf(`reduce_${op}_${runs ? 'runs' : 'cols'}`);
      const perItem = Math.max(1, Math.floor(KNOBS.chunk / (runs ? redSize : redSize * len)));
      this.run('reduce', ceilDiv(count, perItem), [name, ptr(x), out.ptr, keptTable, count, redTable, runsPer, len, perItem], outSize * redSize);
      return out;
    });
  }

  // ---- matrix products ----

  matmul(a: Storage, b: Storage, p: MatmulParams): Storage {
    const { batch, m, k, n } = p;
    const out = this.storage(batch * m * n);
    if (out.size === 0) return out;
    if (k === 0) return this.fill(out, 0);
    return this.scoped(() => {
      const { kc: KC, blocks } = kBlocking(k);
      const work = (2 * batch * m * n * k) / 16;
      // A: row panels per (batch, K block); B: column panels. A broadcast operand is packed once.
      const aBatches = p.strideA === 0 ? 1 : batch;
      const bBatches = p.strideB === 0 ? 1 : batch;
      const aBlock = roundUp(m, GEMM.mr) * KC * 4;
      const bBlock = roundUp(n, NR) * KC * 4;
      const pa = this.temp(aBatches * blocks * aBlock);
      const pb = this.temp(bBatches * blocks * bBlock);
      const rowTable = this.table(Int32Array.from({ length: m }, (_, r) => r * k));
      const aItems = aBatches * blocks;
      this.run(
        'packBoth',
        aItems + bBatches * blocks,
        [aItems, ptr(a), p.strideA, rowTable, 0, m, k, KC, pa, blocks * aBlock, aBlock, blocks, 1, ptr(b), p.strideB, n, 1, n, k, KC, pb, blocks * bBlock, bBlock, blocks],
        work,
      );
      // Blocks of C of about KNOBS' sizes, equal (multiples of MR and NR), so that items balance.
      const mPer = roundUp(ceilDiv(m, ceilDiv(m, KNOBS.mBlock)), GEMM.mr);
      const nPer = roundUp(ceilDiv(n, ceilDiv(n, KNOBS.nBlock)), NR);
      const mBlocks = ceilDiv(m, mPer);
      const nBlocks = ceilDiv(n, nPer);
      this.run(
        'matmulGemm',
        batch * mBlocks * nBlocks,
        [
          pa,
          aBatches > 1 ? blocks * aBlock : 0,
          aBlock,
          pb,
          bBatches > 1 ? blocks * bBlock : 0,
          bBlock,
          out.ptr,
          m * n * 4,
          n,
          m,
          n,
          k,
          KC,
          mPer,
          nPer,
          mBlocks,
          nBlocks,
          this.tiles,
        ],
        work,
      );
      return out;
    });
  }

  private fill(s: WasmStorage, value: number): WasmStorage {
    this.views();
    this.f32.fill(value, s.ptr / 4, s.ptr / 4 + s.size);
    return s;
  }

  /**
   * planes of H x W (contiguous) into zeroed planes of Hp x Wp at (top + y dil, left + x dil).
   * Returns the new block (scratch), with Wp + 2 NR zeros after the last plane: a convolution's
   * virtual columns read past the last row run by at most the left padding plus kW + NR - 2,
   * which is less.
   */
  private pad(src: number, planes: number, h: number, w: number, hp: number, wp: number, top: number, left: number, dilH = 1, dilW = 1): number {
    const slack = wp + 2 * NR;
    const dst = this.temp((planes * hp * wp + slack) * 4);
    this.views();
    this.f32.fill(0, dst / 4 + planes * hp * wp, dst / 4 + planes * hp * wp + slack);
    const perItem = Math.max(1, Math.floor(KNOBS.chunk / (hp * wp)));
    this.run('pad', ceilDiv(planes, perItem), [src, dst, planes, h, w, hp, wp, top, left, dilH, dilW, perItem], planes * hp * wp);
    return dst;
  }

  /**
   * B of a stride-1 convolution with output OH x OW over `planes`-channel images of inH x inW,
   * dilated by `dil` and padded so that output (oy, ox) reads padded rows oy..oy+kH-1 starting
   * at dilated row oy - top (top may be negative: a crop) and columns likewise.
   */
  private virtualSource(
    x: number,
    images: number,
    channels: number,
    inH: number,
    inW: number,
    dilH: number,
    dilW: number,
    top: number,
    left: number,
    kH: number,
    kW: number,
    outH: number,
    outW: number,
  ): ConvSource {
    const tp = Math.max(top, 0),
      lp = Math.max(left, 0);
    const dh = (inH - 1) * dilH + 1,
      dw = (inW - 1) * dilW + 1;
    // Rows/columns read: from (tp - top) to (tp - top) + out + k - 1, and the data itself.
    const hp = Math.max(tp - top + outH + kH - 1, tp + dh);
    const wp = Math.max(lp - left + outW + kW - 1, lp + dw);
    const padded = this.pad(x, images * channels, inH, inW, hp, wp, tp, lp, dilH, dilW);
    const shift = (tp - top) * wp + (lp - left);
    return {
      src: padded + 4 * shift,
      image: channels * hp * wp * 4,
      q: outH * wp,
      width: wp,
      rowOffset: (c, ky, kx) => c * hp * wp + ky * wp + kx,
    };
  }

  /** B of any convolution as explicit im2col columns [images, C kH kW, OH OW]. */
  private im2colSource(x: number, p: ConvParams): ConvSource {
    const hp = p.inH + 2 * p.padH,
      wp = p.inW + 2 * p.padW;
    const planes = p.batch * p.inC;
    const padded = p.padH || p.padW ? this.pad(x, planes, p.inH, p.inW, hp, wp, p.padH, p.padW) : x;
    const K = p.inC * p.kH * p.kW,
      P = p.outH * p.outW;
    const col = this.temp((p.batch * K * P + 64) * 4);
    // col[n, (c, ky, kx), oy, ox] = padded[n, c, oy sH + ky, ox sW + kx]
    this.copyInto(padded, col, [p.batch, p.inC, p.kH, p.kW, p.outH, p.outW], [p.inC * hp * wp, hp * wp, wp, 1, p.strideH * wp, p.strideW]);
    return { src: col, image: K * P * 4, q: P, width: p.outW, rowOffset: (c, ky, kx) => ((c * p.kH + ky) * p.kW + kx) * P };
  }

  private convSource(x: number, p: ConvParams): ConvSource {
    if (p.strideH !== 1 || p.strideW !== 1) return this.im2colSource(x, p);
    return this.virtualSource(x, p.batch, p.inC, p.inH, p.inW, 1, 1, p.padH, p.padW, p.kH, p.kW, p.outH, p.outW);
  }

  /** Column blocks (multiples of NR) per image so that there are at least 2 items a thread. */
  private qBlocking(images: number, q: number): { per: number; blocks: number } {
    const want = Math.max(1, ceilDiv(2 * this.pool.threads, images));
    const per = roundUp(ceilDiv(q, want), NR);
    return { per, blocks: ceilDiv(q, per) };
  }

  /** Segments per item so that there are at least 2 items a thread. */
  private perItem(images: number, segments: number): number {
    return Math.max(1, ceilDiv(segments, ceilDiv(2 * this.pool.threads, images)));
  }

  /**
   * Where a convolution's products write: the C block, its layout for the tasks (C's rows ldc
   * apart; an image's columns in segments, see tasks.ts convGemm), and what finishes out[n, M,
   * OH, OW] afterwards. Three layouts:
   * - the source's columns are the output pixels (im2col): straight into out;
   * - virtual rows of Wp columns whose width OW is a multiple of NR: one product per output row,
   *   written in place (no dropped columns, no copy);
   * - otherwise: the Wp - OW extra columns are computed into scratch, then each row is copied.
   */
  private convLayout(source: ConvSource, images: number, m: number, outH: number, outW: number, out: number): { args: number[]; items: number; finish: () => void } {
    const pixels = outH * outW;
    const layout = (c: number, ldc: number, segments: number, segCols: number, lastCols: number, srcStep: number, cStep: number, finish = (): void => {}) => {
      const perItem = this.perItem(images, segments);
      return { args: [c, m * ldc * 4, ldc, segments, segCols, lastCols, srcStep, cStep, perItem], items: images * ceilDiv(segments, perItem), finish };
    };
    if (source.width === outW) {
      const q = this.qBlocking(images, pixels);
      return layout(out, pixels, q.blocks, q.per, pixels - (q.blocks - 1) * q.per, q.per, q.per);
    }
    if (outW % NR === 0) return layout(out, pixels, outH, outW, outW, source.width, outW);
    const q = this.qBlocking(images, source.q);
    const c = this.temp((images * m * source.q + 64) * 4);
    return layout(c, source.q, q.blocks, q.per, source.q - (q.blocks - 1) * q.per, q.per, q.per, () =>
      this.copyInto(c, out, [images * m, outH, outW], [source.q, source.width, 1]),
    );
  }

  /** out = conv(source, A) with A packed from `pa` (kBlocks blocks of M x kc); K rows in `rowTable`. */
  private convGemm(
    source: ConvSource,
    images: number,
    m: number,
    kRows: number,
    rowTable: number,
    pa: number,
    paBlock: number,
    KC: number,
    outH: number,
    outW: number,
    out: number,
  ): void {
    const work = (2 * images * m * outH * source.width * kRows) / 16;
    const layout = this.convLayout(source, images, m, outH, outW, out);
    this.run('convGemm', layout.items, [pa, paBlock, source.src, source.image, rowTable, kRows, KC, m, ...layout.args, this.tiles], work);
    layout.finish();
  }

  conv2d(x: Storage, w: Storage, p: ConvParams): Storage {
    const out = this.storage(p.batch * p.outC * p.outH * p.outW);
    const K = p.inC * p.kH * p.kW;
    if (out.size === 0) return out;
    if (K === 0) return this.fill(out, 0);
    return this.scoped(() => {
      const { kc: KC, blocks } = kBlocking(K);
      const source = this.convSource(ptr(x), p);
      const rows = convRows(source, p.inC, p.kH, p.kW);
      const aBlock = roundUp(p.outC, GEMM.mr) * KC * 4;
      const pa = this.temp(blocks * aBlock);
      const wRows = this.table(Int32Array.from({ length: p.outC }, (_, o) => o * K));
      this.run('packA', blocks, [ptr(w), 0, wRows, 0, p.outC, K, KC, pa, 0, aBlock, blocks, 1], 0);
      this.convGemm(source, p.batch, p.outC, K, this.table(rows), pa, aBlock, KC, p.outH, p.outW, out.ptr);
      return out;
    });
  }

  conv2dBackwardInput(dy: Storage, w: Storage, p: ConvParams): Storage {
    const out = this.storage(p.batch * p.inC * p.inH * p.inW);
    const K = p.outC * p.kH * p.kW;
    if (out.size === 0) return out;
    if (K === 0) return this.fill(out, 0);
    return this.scoped(() => {
      // dX = conv(dY dilated by the stride, padded by k - 1 - p; W flipped, channels swapped).
      const { kc: KC, blocks } = kBlocking(K);
      const source = this.virtualSource(ptr(dy), p.batch, p.outC, p.outH, p.outW, p.strideH, p.strideW, p.kH - 1 - p.padH, p.kW - 1 - p.padW, p.kH, p.kW, p.inH, p.inW);
      const khw = p.kH * p.kW;
      const rows: number[] = [];
      const cols: number[] = [];
      // Column (o, a, b) of A is W[o, c, kH-1-a, kW-1-b]; B's row (o, a, b) the dilated dY at (a, b).
      for (let o = 0; o < p.outC; o++) {
        for (let a = 0; a < p.kH; a++) {
          for (let b = 0; b < p.kW; b++) {
            rows.push(source.rowOffset(o, a, b));
            cols.push(o * p.inC * khw + (p.kH - 1 - a) * p.kW + (p.kW - 1 - b));
          }
        }
      }
      const aBlock = roundUp(p.inC, GEMM.mr) * KC * 4;
      const pa = this.temp(blocks * aBlock);
      const cRows = this.table(Int32Array.from({ length: p.inC }, (_, c) => c * khw));
      this.run('packA', blocks, [ptr(w), 0, cRows, this.table(cols), p.inC, K, KC, pa, 0, aBlock, blocks, 0], 0);
      this.convGemm(source, p.batch, p.inC, K, this.table(rows), pa, aBlock, KC, p.inH, p.inW, out.ptr);
      return out;
    });
  }

  conv2dBackwardWeight(x: Storage, dy: Storage, p: ConvParams): Storage {
    const K = p.inC * p.kH * p.kW;
    const out = this.storage(p.outC * K);
    if (out.size === 0) return out;
    if (p.batch === 0) return this.fill(out, 0);
    return this.scoped(() => {
      // dW^T[K, O] = col[K, Q] x dY^T[Q, O], summed over images; dY in the columns' layout.
      const source = this.convSource(ptr(x), p);
      const virtual = source.width !== p.outW;
      const dyv = virtual ? this.pad(ptr(dy), p.batch * p.outC, p.outH, p.outW, p.outH, source.width, 0, 0) : ptr(dy);
      const Q = source.q;
      const { kc: KC, blocks } = kBlocking(Q);
      const bBlock = roundUp(p.outC, NR) * KC * 4;
      const pb = this.temp(p.batch * blocks * bBlock);
      const work = (2 * p.batch * Q * K * p.outC) / 16;
      this.run('packB', p.batch * blocks, [dyv, p.outC * Q, 1, Q, p.outC, Q, KC, pb, blocks * bBlock, bBlock, blocks], work);
      const rows = convRows(source, p.inC, p.kH, p.kW);
      const mc = Math.max(GEMM.mr, roundUp(ceilDiv(K, 4 * this.pool.threads), GEMM.mr));
      const items = ceilDiv(K, mc);
      const pa = this.temp(this.pool.threads * mc * KC * 4);
      const ct = this.temp(K * p.outC * 4 + 64);
      // The virtual columns past OW read real pixels of the next row: their A entries are zeroed
      // (dY's are zero there too, but an infinite pixel times 0 would be NaN).
      this.run(
        'weightGradGemm',
        items,
        [source.src, source.image, this.table(rows), K, mc, p.batch, Q, KC, pb, blocks * bBlock, bBlock, p.outC, ct, pa, this.tiles, source.width, p.outW],
        work,
      );
      this.copyInto(ct, out.ptr, [p.outC, K], [1, p.outC]);
      return out;
    });
  }

  binaryConv2d(x: Storage, w: BinaryConvWeights, p: ConvParams): Storage {
    const out = this.storage(p.batch * p.outC * p.outH * p.outW);
    if (out.size === 0) return out;
    return this.scoped(() => {
      const source = this.convSource(ptr(x), p);
      const blocks = ceilDiv(p.outC, 8);
      const segments = new Uint32Array(this.copyOut(ptr(w.segments), blocks + 1).buffer);
      const entries = new Uint32Array(this.copyOut(ptr(w.entries), w.entries.size).buffer);
      const total = segments[blocks];
      // A: per block, two panels of 4 channels x its entries, +-alpha or 0; B rows: the entries' (c, ky, kx).
      const pa = this.temp(Math.max(1, total) * 32);
      const rows = new Int32Array(total);
      this.views();
      const a = this.f32;
      for (let b = 0; b < blocks; b++) {
        const e0 = segments[b],
          count = segments[b + 1] - e0;
        for (let e = e0; e < e0 + count; e++) {
          const head = entries[3 * e];
          rows[e] = source.rowOffset(head & 0xffff, (head >>> 16) & 0xff, head >>> 24);
          for (let i = 0; i < 8; i++) {
            const byte = (entries[3 * e + 1 + (i >> 2)] >>> (8 * (i & 3))) & 0xff;
            const panel = i >> 2,
              r = i & 3;
            a[pa / 4 + 8 * e0 + panel * 4 * count + 4 * (e - e0) + r] = byte === 0 ? 0 : byte === 0x7f ? w.alpha : -w.alpha;
          }
        }
      }
      const rowTable = this.table(rows);
      const work = (2 * p.batch * source.q * total * 8) / 16;
      const layout = this.convLayout(source, p.batch, p.outC, p.outH, p.outW, out.ptr);
      this.run('binaryConvGemm', layout.items, [pa, source.src, source.image, rowTable, ptr(w.segments), blocks, p.outC, ...layout.args, this.tiles], work);
      layout.finish();
      return out;
    });
  }

  // ---- pooling ----

  private poolParams(p: PoolParams): number {
    const fields: Record<(typeof POOL_FIELDS)[number], number> = p;
    return this.table(POOL_FIELDS.map((f) => fields[f]));
  }

  pool2d(mode: PoolMode, x: Storage, p: PoolParams): { out: Storage; argmax: Storage | null } {
    const planes = p.batch * p.channels;
    const out = this.storage(planes * p.outH * p.outW);
    const argmax = mode === 'max' ? this.storage(out.size) : null;
    if (out.size === 0) return { out, argmax };
    this.scoped(() => {
      const perItem = Math.max(1, Math.floor(KNOBS.chunk / (p.inH * p.inW)));
      this.run(
        'poolForward',
        ceilDiv(planes, perItem),
        [mode === 'max' ? 0 : 1, ptr(x), out.ptr, argmax ? argmax.ptr : 0, this.poolParams(p), planes, p.inH * p.inW, p.outH * p.outW, perItem],
        x.size,
      );
    });
    return { out, argmax };
  }

  pool2dBackward(mode: PoolMode, dy: Storage, argmax: Storage | null, p: PoolParams): Storage {
    if (mode === 'max' && !argmax) throw new Error('internal: max pooling backward needs the argmax of its forward');
    const planes = p.batch * p.channels;
    const out = this.storage(planes * p.inH * p.inW);
    if (out.size === 0) return out;
    this.scoped(() => {
      const perItem = Math.max(1, Math.floor(KNOBS.chunk / (p.inH * p.inW)));
      this.run(
        'poolBackward',
        ceilDiv(planes, perItem),
        [mode === 'max' ? 0 : 1, ptr(dy), argmax ? ptr(argmax) : 0, out.ptr, this.poolParams(p), planes, p.inH * p.inW, p.outH * p.outW, perItem],
        out.size,
      );
    });
    return out;
  }

  // ---- top-k masks ----

  /**
   * Exact masks by radix selection over the keys bits(v) & 0x7fffffff (monotone in |v|, NaN
   * above Infinity), the CPU reference's rule: the k-th largest key T comes from three
   * histogram passes over every element (11, 11 and 9 bits, each counting only the keys that
   * share the digits fixed so far; vectors with none are skipped), then the mask is key > T,
   * plus the first keys equal to T in position order while ties remain. Each pass is split
   * into chunks across threads; global scope reads each segment in place.
   */
  topkMask(segments: readonly Storage[], k: number, method: TopkMethod): Storage[] {
    const total = segments.reduce((n, s) => n + s.size, 0);
    if (!Number.isInteger(k) || k < 0 || k > total) throw new Error(`topkMask: k=${k} must be an integer in [0, ${total}]`);
    if (total > 0x7fffffff) throw new Error(`topkMask: ${total} elements exceed the 2^31 positions of the wasm kernels`);
    const masks = segments.map((s) => this.zeros(s.size) as WasmStorage);
    if (k === 0) return masks;
    return this.scoped(() => (method === 'bitonic' ? this.bitonic(segments, masks, k, total) : this.threshold(segments, masks, k, total)));
  }

  private threshold(segments: readonly Storage[], masks: WasmStorage[], k: number, total: number): Storage[] {
    const chunks: number[] = [];
    const outs: number[] = [];
    segments.forEach((s, i) => {
      for (let at = 0; at < s.size; at += KNOBS.topkChunk) {
        chunks.push(ptr(s) + 4 * at, Math.min(KNOBS.topkChunk, s.size - at));
        outs.push(masks[i].ptr + 4 * at);
      }
    });
    const n = outs.length;
    const chunkTable = this.table(chunks);
    const hist = this.temp(n * 2048 * 4);
    let prefix = 0,
      fixed = 0,
      rest = k,
      eqTotal = 0;
    for (const [shift, width] of [
      [20, 11],
      [9, 11],
      [0, 9],
    ]) {
      const digit = (1 << width) - 1;
      this.run('topkHist', n, [chunkTable, fixed, prefix, shift, digit, hist, digit + 1], total);
      this.views();
      const counts = new Float64Array(digit + 1);
      for (let c = 0; c < n; c++) {
        const h = this.i32.subarray(hist / 4 + c * (digit + 1), hist / 4 + (c + 1) * (digit + 1));
        for (let b = 0; b <= digit; b++) counts[b] += h[b] >>> 0;
      }
      let b = digit;
      while (b > 0 && counts[b] < rest) rest -= counts[b--];
      prefix |= b << shift;
      fixed |= digit << shift;
      eqTotal = counts[b];
    }
    const outTable = this.table(outs);
    if (rest === eqTotal) {
      // Every key equal to T is kept: the mask is key > T - 1.
      this.run('topkMask', n, [chunkTable, outTable, prefix - 1, this.table(new Int32Array(n))], total);
      return masks;
    }
    const counts = this.temp(n * 4);
    this.run('topkCount', n, [chunkTable, prefix, counts], total);
    this.views();
    const budgets = new Int32Array(n);
    let left = rest;
    for (let c = 0; c < n; c++) {
      budgets[c] = Math.min(left, this.i32[counts / 4 + c]);
      left -= budgets[c];
    }
    this.run('topkMask', n, [chunkTable, outTable, prefix, this.table(budgets)], total);
    return masks;
  }

  /** The bitonic sort of (key, position) pairs that the WebGPU backend runs, for parity. */
  private bitonic(segments: readonly Storage[], masks: WasmStorage[], k: number, total: number): Storage[] {
    let size = 1;
    while (size < total) size *= 2;
    const keys = this.temp(size * 4);
    const pos = this.temp(size * 4);
    let offset = 0;
    segments.forEach((s, i) => {
      const count = i === segments.length - 1 ? size - offset : s.size;
      this.k.bitonic_init(ptr(s), keys, pos, s.size, offset, count);
      offset += s.size;
    });
    const pairs = size / 2;
    const perItem = KNOBS.chunk;
    for (let block = 2; block <= size; block *= 2) {
      for (let dist = block / 2; dist >= 1; dist /= 2) this.run('bitonicStep', ceilDiv(pairs, perItem), [keys, pos, dist, block, pairs, perItem], pairs);
    }
    offset = 0;
    segments.forEach((s, i) => {
      this.k.bitonic_scatter(pos, masks[i].ptr, k, offset, s.size);
      offset += s.size;
    });
    return masks;
  }
}

// ---- creation ----

/** The most threads a backend runs (init() refuses more). */
export const MAX_THREADS = 256;

export interface WasmOptions {
  /** Threads in all (this one included); default: the available cores. */
  threads?: number;
}

/** A one-function module using SIMD (and relaxed madd): validates only where the runtime has it. */
function probe(relaxed: boolean): Uint8Array<ArrayBuffer> {
  const mod = new ModuleBuilder({ initial: 1, maximum: 1, shared: false });
  mod.func('probe', [], ['v128'], (f) => {
    const v = (): void => void f.f32x4.splat(f.f32.const(1));
    if (relaxed) f.f32x4.relaxed_madd(v(), v(), v());
    else f.f32x4.add(v(), v());
  });
  return mod.bytes();
}

const isNode = typeof process !== 'undefined' && !!process.versions?.node;

const spawnBrowser: SpawnWorker = async (module, memory, thread) => {
  const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  await new Promise<void>((resolve, reject) => {
    worker.onmessage = () => resolve();
    worker.onerror = (e) => reject(new Error(`wasm worker failed to start: ${e.message}`));
    worker.postMessage({ module, memory, thread });
  });
  return { terminate: () => worker.terminate() };
};

/** The browser's core count. */
function browserCores(): number {
  return (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1;
}

/** Builds the kernels for this runtime and starts the threads. */
export async function createWasmBackend(options: WasmOptions = {}): Promise<WasmBackend> {
  if (typeof WebAssembly !== 'object') throw new Error('this runtime has no WebAssembly');
  if (!WebAssembly.validate(probe(false))) throw new Error('this runtime has no WebAssembly SIMD (Node 16.4+, Chrome 91+, Firefox 89+, Safari 16.4+ have it)');
  const node = isNode ? await import('./node.js') : null;
  // Node 20 validates relaxed SIMD only behind this V8 switch (on by default from Node 22).
  if (node && !WebAssembly.validate(probe(true))) node.setV8Flag('--experimental-wasm-relaxed-simd');
  const relaxedSimd = WebAssembly.validate(probe(true));
  // init() checks a requested count; the default is every core, at most MAX_THREADS.
  const wanted = options.threads ?? Math.min(MAX_THREADS, Math.max(1, node ? node.cores() : browserCores()));
  const isolated = isNode || (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  const canShare = typeof SharedArrayBuffer !== 'undefined' && isolated;
  const singleThreadReason = wanted > 1 && !canShare ? 'this page is not cross-origin isolated (it needs the COOP/COEP headers), so SharedArrayBuffer is unavailable' : null;
  const threads = canShare ? wanted : 1;
  const features: KernelFeatures = { relaxedSimd, shared: threads > 1 };
  const memory = new WebAssembly.Memory({ initial: RESERVED_BYTES / 65536, maximum: 65536, ...(features.shared ? { shared: true } : {}) } as WebAssembly.MemoryDescriptor);
  // V8 runs a function first as baseline code and optimises it in the background once it is
  // hot: the kernels' loops get there within their first calls. (Switching V8 to optimise at
  // once with --no-liftoff measured no faster here and leaves other modules' code unoptimised.)
  const module = new WebAssembly.Module(buildKernels(features));
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  const k = instance.exports as unknown as Kernels;
  const pool = await ThreadPool.create(threads, module, memory, k, threads > 1 ? (node?.spawnWorker ?? spawnBrowser) : null);
  return new WasmBackend(memory, k, pool, { relaxedSimd, singleThreadReason });
}
