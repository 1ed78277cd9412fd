// Every kernel of the wasm backend, as one WebAssembly module built at run time (a few
// milliseconds) for the runtime's features: relaxed SIMD when it validates, a shared memory
// when threads are used.
//
// Conventions:
// - Addresses are byte offsets into the one memory (i32, compared unsigned); counts and
//   offsets in tables are elements (4 bytes).
// - SIMD128 throughout. A contiguous kernel processes whole vectors and may read and write up to
//   3 elements past its end: every storage block has 16 bytes of slack (memory.ts). Kernels
//   over rows (which threads share out) store the tail of each row lane by lane, so that two
//   threads never write the same element.
// - Work is split by the caller (tasks.ts) into items; a kernel call computes one item's
//   outputs the same way whoever runs it: results do not depend on the thread count.

import type { BinaryOp, UnaryOp } from '../backend.js';
import { type Emitted, type FunctionBuilder, type Local, ModuleBuilder } from './builder.js';
import { emitGemmKernel, emitPackA, emitPackARows, emitPackB, emitZeroColumns, GEMM } from './gemm.js';
import { emitMath, type MathFunctions } from './math.js';

export interface KernelFeatures {
  /** f32x4.relaxed_madd validates. */
  relaxedSimd: boolean;
  /** The memory is shared (threads). */
  shared: boolean;
}

type VecOp1 = (f: FunctionBuilder, x: Local, s: Local, m: MathFunctions) => Emitted;
type VecOp2 = (f: FunctionBuilder, a: Local, b: Local, m: MathFunctions) => Emitted;

const one = (f: FunctionBuilder): Emitted => f.f32x4.splat(f.f32.const(1));
const zero = (f: FunctionBuilder): Emitted => f.v128.const([0, 0, 0, 0]);
/** 1.0 where the comparison mask is set, else 0. */
const ones = (f: FunctionBuilder, mask: Emitted): Emitted => f.v128.and(mask, one(f));

/** The unary ops on a vector x and the scalar s (splat), with the CPU reference's semantics. */
const UNARY: Record<UnaryOp, VecOp1> = {
  neg: (f, x) => f.f32x4.neg(f.get(x)),
  exp: (f, x, _s, m) => f.call(m.exp, f.get(x)),
  log: (f, x, _s, m) => f.call(m.log, f.get(x)),
  abs: (f, x) => f.f32x4.abs(f.get(x)),
  // x > 0 ? 1 : x < 0 ? -1 : 0 (NaN: 0)
  sign: (f, x) => f.v128.or(ones(f, f.f32x4.gt(f.get(x), zero(f))), f.v128.and(f.f32x4.lt(f.get(x), zero(f)), f.f32x4.splat(f.f32.const(-1)))),
  sqrt: (f, x) => f.f32x4.sqrt(f.get(x)),
  relu: (f, x) => f.v128.and(f.get(x), f.f32x4.gt(f.get(x), zero(f))),
  sigmoid: (f, x, _s, m) => f.f32x4.div(one(f), f.f32x4.add(one(f), f.call(m.exp, f.f32x4.neg(f.get(x))))),
  step: (f, x) => ones(f, f.f32x4.gt(f.get(x), zero(f))),
  absGreater: (f, x, s) => ones(f, f.f32x4.gt(f.f32x4.abs(f.get(x)), f.get(s))),
  // Math.sign(x) * |x|^s: Math.sign keeps ±0 and NaN.
  powerProp: (f, x, s, m) => {
    const sign = f.v128.bitselect(one(f), f.v128.bitselect(f.f32x4.splat(f.f32.const(-1)), f.get(x), f.f32x4.lt(f.get(x), zero(f))), f.f32x4.gt(f.get(x), zero(f)));
    return f.f32x4.mul(sign, f.call(m.powAbs, f.f32x4.abs(f.get(x)), f.get(s)));
  },
  // s == 1 ? 1 : s |x|^(s-1)
  powerPropGrad: (f, x, s, m) =>
    f.v128.bitselect(one(f), f.f32x4.mul(f.get(s), f.call(m.powAbs, f.f32x4.abs(f.get(x)), f.f32x4.sub(f.get(s), one(f)))), f.f32x4.eq(f.get(s), one(f))),
  addScalar: (f, x, s) => f.f32x4.add(f.get(x), f.get(s)),
  mulScalar: (f, x, s) => f.f32x4.mul(f.get(x), f.get(s)),
  rsubScalar: (f, x, s) => f.f32x4.sub(f.get(s), f.get(x)),
  powScalar: (f, x, s, m) => f.call(m.signedPow, f.get(x), f.get(s)),
  // x >= s ? x : s (NaN: s)
  maxScalar: (f, x, s) => f.v128.bitselect(f.get(x), f.get(s), f.f32x4.ge(f.get(x), f.get(s))),
};

const BINARY: Record<BinaryOp, VecOp2> = {
  add: (f, a, b) => f.f32x4.add(f.get(a), f.get(b)),
  sub: (f, a, b) => f.f32x4.sub(f.get(a), f.get(b)),
  mul: (f, a, b) => f.f32x4.mul(f.get(a), f.get(b)),
  div: (f, a, b) => f.f32x4.div(f.get(a), f.get(b)),
  pow: (f, a, b, m) => f.call(m.signedPow, f.get(a), f.get(b)),
  // b == 0 ? 0 : b a^(b-1)
  powGradBase: (f, a, b, m) => f.v128.andnot(f.f32x4.mul(f.get(b), f.call(m.signedPow, f.get(a), f.f32x4.sub(f.get(b), one(f)))), f.f32x4.eq(f.get(b), zero(f))),
  // a == 0 && b >= 0 ? 0 : a^b log(a)
  powGradExponent: (f, a, b, m) =>
    f.v128.andnot(f.f32x4.mul(f.call(m.signedPow, f.get(a), f.get(b)), f.call(m.log, f.get(a))), f.v128.and(f.f32x4.eq(f.get(a), zero(f)), f.f32x4.ge(f.get(b), zero(f)))),
  maximum: (f, a, b) => f.v128.bitselect(f.get(a), f.get(b), f.f32x4.ge(f.get(a), f.get(b))),
  gt: (f, a, b) => ones(f, f.f32x4.gt(f.get(a), f.get(b))),
  eq: (f, a, b) => ones(f, f.f32x4.eq(f.get(a), f.get(b))),
};

export const UNARY_OPS = Object.keys(UNARY) as UnaryOp[];
export const BINARY_OPS = Object.keys(BINARY) as BinaryOp[];

/**
 * How a row kernel reads an operand along a row: consecutive elements (stride 1), one
 * element for the whole row (stride 0), or any stride (gathered lane by lane).
 */
export type Access = 'vector' | 'splat' | 'gather';
export const ACCESSES: readonly Access[] = ['vector', 'splat', 'gather'];

export function accessOf(stride: number): Access {
  return stride === 1 ? 'vector' : stride === 0 ? 'splat' : 'gather';
}

/** Stores the first `count` (0-3) lanes of `v` at `addr` (a tail that must not spill over). */
function storeLanes(f: FunctionBuilder, addr: Local, v: Local, count: Local): void {
  for (let lane = 0; lane < 3; lane++) {
    f.if(f.i32.gt_u(f.get(count), f.i32.const(lane)), () => f.f32.store(f.get(addr), f.f32x4.extract_lane(f.get(v), lane), lane * 4));
  }
}

/**
 * Loads 4 elements of a row at element j: from `base + 4 j` (vector), `base` (splat), or
 * `base + 4 j stride` one lane at a time (gather); `lanes` (a local) limits a gather to the
 * lanes that exist, so that it never reads past the operand.
 */
function loadRow(f: FunctionBuilder, access: Access, base: Local, j: Local, stride: Local, into: Local, lanes?: Local): void {
  if (access === 'vector') f.set(into, f.v128.load(f.i32.add(f.get(base), f.i32.shl(f.get(j), f.i32.const(2)))));
  else if (access === 'splat') f.set(into, f.v128.load32_splat(f.get(base)));
  else {
    f.set(into, zero(f));
    for (let lane = 0; lane < 4; lane++) {
      const load = (): Emitted =>
        f.set(
          into,
          f.f32x4.replace_lane(f.get(into), f.f32.load(f.i32.add(f.get(base), f.i32.shl(f.i32.mul(f.i32.add(f.get(j), f.i32.const(lane)), f.get(stride)), f.i32.const(2)))), lane),
        );
      if (lanes) f.if(f.i32.gt_u(f.get(lanes), f.i32.const(lane)), load);
      else load();
    }
  }
}

/** unary_<op>(x, out, n, s): out[i] = op(x[i], s), whole vectors. */
function emitUnary(mod: ModuleBuilder, m: MathFunctions): void {
  for (const op of UNARY_OPS) {
    mod.func(`unary_${op}`, ['i32', 'i32', 'i32', 'f32'], [], (f, x, out, n, s) => {
      const end = f.local('i32');
      const v = f.local('v128');
      const sv = f.local('v128');
      f.set(sv, f.f32x4.splat(f.get(s)));
      f.set(end, f.i32.add(f.get(x), f.i32.shl(f.get(n), f.i32.const(2))));
      f.if(f.i32.lt_u(f.get(x), f.get(end)), () => {
        f.loop((again) => {
          f.set(v, f.v128.load(f.get(x)));
          f.v128.store(f.get(out), UNARY[op](f, v, sv, m));
          f.set(x, f.i32.add(f.get(x), f.i32.const(16)));
          f.set(out, f.i32.add(f.get(out), f.i32.const(16)));
          f.brIf(again, f.i32.lt_u(f.get(x), f.get(end)));
        });
      });
    });
  }
}

/**
 * The skeleton of a kernel over rows: for r in [0, rows), out row r (contiguous, L long)
 * from operands whose row r starts at `base + 4 * table[r]`. `body(j, lanes)` computes the
 * vector of outputs at j into `res` (lanes: how many of the 4 exist, for a tail).
 */
function rowLoop(
  f: FunctionBuilder,
  out: Local,
  rows: Local,
  len: Local,
  operands: { base: Local; table: Local; at: Local }[],
  body: (j: Local, lanes: Local | undefined) => void,
  res: Local,
): void {
  const r = f.local('i32');
  const j = f.local('i32');
  const po = f.local('i32');
  const rest = f.local('i32');
  const full = f.local('i32');
  f.set(full, f.i32.and(f.get(len), f.i32.const(-4)));
  f.for(
    r,
    () => f.i32.const(0),
    () => f.get(rows),
    1,
    () => {
      for (const o of operands) f.set(o.at, f.i32.add(f.get(o.base), f.i32.shl(f.i32.load(f.i32.add(f.get(o.table), f.i32.shl(f.get(r), f.i32.const(2)))), f.i32.const(2))));
      f.set(po, f.i32.add(f.get(out), f.i32.shl(f.i32.mul(f.get(r), f.get(len)), f.i32.const(2))));
      f.for(
        j,
        () => f.i32.const(0),
        () => f.get(full),
        4,
        () => {
          body(j, undefined);
          f.v128.store(f.i32.add(f.get(po), f.i32.shl(f.get(j), f.i32.const(2))), f.get(res));
        },
      );
      f.set(rest, f.i32.sub(f.get(len), f.get(full)));
      f.if(f.get(rest), () => {
        f.set(j, f.get(full));
        body(j, rest);
        const at = f.local('i32');
        f.set(at, f.i32.add(f.get(po), f.i32.shl(f.get(j), f.i32.const(2))));
        storeLanes(f, at, res, rest);
      });
    },
  );
}

/** binary_<op>_<a access>_<b access>(a, b, out, aTable, bTable, rows, L, sa, sb). */
function emitBinary(mod: ModuleBuilder, m: MathFunctions): void {
  for (const op of BINARY_OPS) {
    for (const aAccess of ACCESSES) {
      for (const bAccess of ACCESSES) {
        mod.func(`binary_${op}_${aAccess}_${bAccess}`, Array(9).fill('i32'), [], (f, a, b, out, aTable, bTable, rows, len, sa, sb) => {
          const pa = f.local('i32');
          const pb = f.local('i32');
          const va = f.local('v128');
          const vb = f.local('v128');
          const res = f.local('v128');
          rowLoop(
            f,
            out,
            rows,
            len,
            [
              { base: a, table: aTable, at: pa },
              { base: b, table: bTable, at: pb },
            ],
            (j, lanes) => {
              loadRow(f, aAccess, pa, j, sa, va, lanes);
              loadRow(f, bAccess, pb, j, sb, vb, lanes);
              f.set(res, BINARY[op](f, va, vb, m));
            },
            res,
          );
        });
      }
    }
  }
}

/** copy_<access>(x, out, table, rows, L, stride): out rows from x rows (transposes, broadcasts). */
function emitCopy(mod: ModuleBuilder): void {
  for (const access of ACCESSES) {
    mod.func(`copy_${access}`, Array(6).fill('i32'), [], (f, x, out, table, rows, len, stride) => {
      const px = f.local('i32');
      const res = f.local('v128');
      rowLoop(f, out, rows, len, [{ base: x, table, at: px }], (j, lanes) => loadRow(f, access, px, j, stride, res, lanes), res);
    });
  }
}

/** A reduction's accumulators: two f64x2 (sum) or one f32x4 (max). */
function start(f: FunctionBuilder, sum: boolean, lo: Local, hi: Local): void {
  if (sum) {
    f.set(lo, zero(f));
    f.set(hi, zero(f));
  } else f.set(lo, f.f32x4.splat(f.f32.const(-Infinity)));
}

/** Folds the 4 floats at `at` into the accumulators (through `v`). */
function combine(f: FunctionBuilder, sum: boolean, v: Local, lo: Local, hi: Local, at: Local): void {
  f.set(v, f.v128.load(f.get(at)));
  if (sum) {
    f.set(lo, f.f64x2.add(f.get(lo), f.f64x2.promote_low_f32x4(f.get(v))));
    f.set(hi, f.f64x2.add(f.get(hi), f.f64x2.promote_low_f32x4(f.v128.shuffle(f.get(v), f.get(v), [8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7]))));
  } else f.set(lo, f.f32x4.max(f.get(lo), f.get(v)));
}

/**
 * Reductions (sum in f64, max with NaN kept), two layouts:
 * - reduce_<op>_runs(x, out, keptTable, outs, redTable, runs, L): out[o] = op over q of the
 *   contiguous run of L at x + 4 (keptTable[o] + redTable[q]) (the reduced axes innermost).
 * - reduce_<op>_cols(x, out, keptTable, rows, redTable, runs, L): out[o L + j] = op over q of
 *   x[keptTable[o] + redTable[q] + j] for j < L (a kept axis innermost: 4 outputs a vector).
 */
function emitReduce(mod: ModuleBuilder): void {
  for (const op of ['sum', 'max'] as const) {
    const sum = op === 'sum';
    mod.func(`reduce_${op}_runs`, Array(7).fill('i32'), [], (f, x, out, keptTable, outs, redTable, runs, len) => {
      const o = f.local('i32');
      const q = f.local('i32');
      const base = f.local('i32');
      const p = f.local('i32');
      const end = f.local('i32');
      const vend = f.local('i32');
      const v = f.local('v128');
      const lo = f.local('v128');
      const hi = f.local('v128');
      const scalar = f.local('f64');
      const best = f.local('f32');
      f.for(
        o,
        () => f.i32.const(0),
        () => f.get(outs),
        1,
        () => {
          f.set(base, f.i32.add(f.get(x), f.i32.shl(f.i32.load(f.i32.add(f.get(keptTable), f.i32.shl(f.get(o), f.i32.const(2)))), f.i32.const(2))));
          start(f, sum, lo, hi);
          f.for(
            q,
            () => f.i32.const(0),
            () => f.get(runs),
            1,
            () => {
              f.set(p, f.i32.add(f.get(base), f.i32.shl(f.i32.load(f.i32.add(f.get(redTable), f.i32.shl(f.get(q), f.i32.const(2)))), f.i32.const(2))));
              f.set(end, f.i32.add(f.get(p), f.i32.shl(f.get(len), f.i32.const(2))));
              f.set(vend, f.i32.add(f.get(p), f.i32.shl(f.i32.and(f.get(len), f.i32.const(-4)), f.i32.const(2))));
              f.if(f.i32.lt_u(f.get(p), f.get(vend)), () => {
                f.loop((again) => {
                  combine(f, sum, v, lo, hi, p);
                  f.set(p, f.i32.add(f.get(p), f.i32.const(16)));
                  f.brIf(again, f.i32.lt_u(f.get(p), f.get(vend)));
                });
              });
              // The tail, one element at a time, into lane 0.
              f.if(f.i32.lt_u(f.get(p), f.get(end)), () => {
                f.loop((again) => {
                  if (sum) f.set(lo, f.f64x2.replace_lane(f.get(lo), f.f64.add(f.f64x2.extract_lane(f.get(lo), 0), f.f64.promote_f32(f.f32.load(f.get(p)))), 0));
                  else f.set(lo, f.f32x4.replace_lane(f.get(lo), f.f32.max(f.f32x4.extract_lane(f.get(lo), 0), f.f32.load(f.get(p))), 0));
                  f.set(p, f.i32.add(f.get(p), f.i32.const(4)));
                  f.brIf(again, f.i32.lt_u(f.get(p), f.get(end)));
                });
              });
            },
          );
          const at = (): Emitted => f.i32.add(f.get(out), f.i32.shl(f.get(o), f.i32.const(2)));
          if (sum) {
            f.set(lo, f.f64x2.add(f.get(lo), f.get(hi)));
            f.set(scalar, f.f64.add(f.f64x2.extract_lane(f.get(lo), 0), f.f64x2.extract_lane(f.get(lo), 1)));
            f.f32.store(at(), f.f32.demote_f64(f.get(scalar)));
          } else {
            f.set(
              best,
              f.f32.max(
                f.f32.max(f.f32x4.extract_lane(f.get(lo), 0), f.f32x4.extract_lane(f.get(lo), 1)),
                f.f32.max(f.f32x4.extract_lane(f.get(lo), 2), f.f32x4.extract_lane(f.get(lo), 3)),
              ),
            );
            f.f32.store(at(), f.get(best));
          }
        },
      );
    });

    mod.func(`reduce_${op}_cols`, Array(7).fill('i32'), [], (f, x, out, keptTable, rows, redTable, runs, len) => {
      const o = f.local('i32');
      const j = f.local('i32');
      const q = f.local('i32');
      const base = f.local('i32');
      const p = f.local('i32');
      const po = f.local('i32');
      const rest = f.local('i32');
      const v = f.local('v128');
      const lo = f.local('v128');
      const hi = f.local('v128');
      const res = f.local('v128');
      f.for(
        o,
        () => f.i32.const(0),
        () => f.get(rows),
        1,
        () => {
          f.set(base, f.i32.add(f.get(x), f.i32.shl(f.i32.load(f.i32.add(f.get(keptTable), f.i32.shl(f.get(o), f.i32.const(2)))), f.i32.const(2))));
          f.set(po, f.i32.add(f.get(out), f.i32.shl(f.i32.mul(f.get(o), f.get(len)), f.i32.const(2))));
          f.for(
            j,
            () => f.i32.const(0),
            () => f.get(len),
            4,
            () => {
              start(f, sum, lo, hi);
              f.for(
                q,
                () => f.i32.const(0),
                () => f.get(runs),
                1,
                () => {
                  f.set(p, f.i32.add(f.get(base), f.i32.shl(f.i32.add(f.i32.load(f.i32.add(f.get(redTable), f.i32.shl(f.get(q), f.i32.const(2)))), f.get(j)), f.i32.const(2))));
                  combine(f, sum, v, lo, hi, p);
                },
              );
              if (sum) {
                f.set(res, f.f32x4.demote_f64x2_zero(f.get(lo)));
                f.set(res, f.v128.shuffle(f.get(res), f.f32x4.demote_f64x2_zero(f.get(hi)), [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23]));
              } else f.set(res, f.get(lo));
              f.set(rest, f.i32.sub(f.get(len), f.get(j)));
              const at = f.local('i32');
              f.set(at, f.i32.add(f.get(po), f.i32.shl(f.get(j), f.i32.const(2))));
              f.if(
                f.i32.ge_u(f.get(rest), f.i32.const(4)),
                () => f.v128.store(f.get(at), f.get(res)),
                () => storeLanes(f, at, res, rest),
              );
            },
          );
        },
      );
    });
  }
}

/**
 * pad(src, dst, planes, H, W, Hp, Wp, top, left, dilH, dilW): each H x W plane into a zeroed
 * Hp x Wp plane at (top + y dilH, left + x dilW): the zero border of a convolution, and with
 * dilations > 1 the zeros between the rows and columns of a strided convolution's output
 * gradient.
 */
function emitPad(mod: ModuleBuilder): void {
  mod.func('pad', Array(11).fill('i32'), [], (f, src, dst, planes, h, w, hp, wp, top, left, dilH, dilW) => {
    const pl = f.local('i32');
    const y = f.local('i32');
    const x = f.local('i32');
    const row = f.local('i32');
    const planeBytes = f.local('i32');
    f.set(planeBytes, f.i32.shl(f.i32.mul(f.get(hp), f.get(wp)), f.i32.const(2)));
    f.for(
      pl,
      () => f.i32.const(0),
      () => f.get(planes),
      1,
      () => {
        f.memoryFill(f.get(dst), f.i32.const(0), f.get(planeBytes));
        f.for(
          y,
          () => f.i32.const(0),
          () => f.get(h),
          1,
          () => {
            f.set(row, f.i32.add(f.get(dst), f.i32.shl(f.i32.add(f.i32.mul(f.i32.add(f.get(top), f.i32.mul(f.get(y), f.get(dilH))), f.get(wp)), f.get(left)), f.i32.const(2))));
            f.if(
              f.i32.eq(f.get(dilW), f.i32.const(1)),
              () => {
                f.memoryCopy(f.get(row), f.get(src), f.i32.shl(f.get(w), f.i32.const(2)));
              },
              () => {
                f.for(
                  x,
                  () => f.i32.const(0),
                  () => f.get(w),
                  1,
                  () => {
                    f.f32.store(
                      f.i32.add(f.get(row), f.i32.shl(f.i32.mul(f.get(x), f.get(dilW)), f.i32.const(2))),
                      f.f32.load(f.i32.add(f.get(src), f.i32.shl(f.get(x), f.i32.const(2)))),
                    );
                  },
                );
              },
            );
            f.set(src, f.i32.add(f.get(src), f.i32.shl(f.get(w), f.i32.const(2))));
          },
        );
        f.set(dst, f.i32.add(f.get(dst), f.get(planeBytes)));
      },
    );
  });
}

/** Fields of the pooling parameter block (i32 words), as backend.ts poolParams writes them. */
export const POOL_FIELDS = ['inH', 'inW', 'outH', 'outW', 'kH', 'kW', 'strideH', 'strideW', 'padH', 'padW'] as const;

/**
 * pool_max / pool_avg(x, out, argmax, params, planes) and pool_max_back(dy, argmax, dx, params,
 * planes) / pool_avg_back(dy, dx, params, planes), over whole planes. Max pooling writes the
 * flat index of the first maximum in its plane (a NaN counting as the largest) as i32 bits; a
 * window of only padding gives -Infinity and index -1.
 */
function emitPool(mod: ModuleBuilder): void {
  const field = (f: FunctionBuilder, params: Local, name: (typeof POOL_FIELDS)[number]): Emitted => f.i32.load(f.get(params), POOL_FIELDS.indexOf(name) * 4);
  interface Geometry {
    inH: Local;
    inW: Local;
    outH: Local;
    outW: Local;
    kH: Local;
    kW: Local;
    sH: Local;
    sW: Local;
    pH: Local;
    pW: Local;
  }
  const geometry = (f: FunctionBuilder, params: Local): Geometry => {
    const g = {} as Record<string, Local>;
    const names: [keyof Geometry, (typeof POOL_FIELDS)[number]][] = [
      ['inH', 'inH'],
      ['inW', 'inW'],
      ['outH', 'outH'],
      ['outW', 'outW'],
      ['kH', 'kH'],
      ['kW', 'kW'],
      ['sH', 'strideH'],
      ['sW', 'strideW'],
      ['pH', 'padH'],
      ['pW', 'padW'],
    ];
    for (const [key, name] of names) {
      g[key] = f.local('i32');
      f.set(g[key], field(f, params, name));
    }
    return g as unknown as Geometry;
  };
  /** For every output o = (pl, oy, ox): begin, visit each position of its window inside the input, end. */
  const loops = (
    f: FunctionBuilder,
    g: Geometry,
    planes: Local,
    begin: (pl: Local) => void,
    visit: (pl: Local, iy: Local, ix: Local) => void,
    end: (o: Local, pl: Local) => void,
  ): void => {
    const pl = f.local('i32');
    const oy = f.local('i32');
    const ox = f.local('i32');
    const ky = f.local('i32');
    const kx = f.local('i32');
    const iy = f.local('i32');
    const ix = f.local('i32');
    const o = f.local('i32');
    f.set(o, f.i32.const(0));
    f.for(
      pl,
      () => f.i32.const(0),
      () => f.get(planes),
      1,
      () => {
        f.for(
          oy,
          () => f.i32.const(0),
          () => f.get(g.outH),
          1,
          () => {
            f.for(
              ox,
              () => f.i32.const(0),
              () => f.get(g.outW),
              1,
              () => {
                begin(pl);
                f.for(
                  ky,
                  () => f.i32.const(0),
                  () => f.get(g.kH),
                  1,
                  () => {
                    f.set(iy, f.i32.add(f.i32.sub(f.i32.mul(f.get(oy), f.get(g.sH)), f.get(g.pH)), f.get(ky)));
                    f.if(f.i32.and(f.i32.ge_s(f.get(iy), f.i32.const(0)), f.i32.lt_s(f.get(iy), f.get(g.inH))), () => {
                      f.for(
                        kx,
                        () => f.i32.const(0),
                        () => f.get(g.kW),
                        1,
                        () => {
                          f.set(ix, f.i32.add(f.i32.sub(f.i32.mul(f.get(ox), f.get(g.sW)), f.get(g.pW)), f.get(kx)));
                          f.if(f.i32.and(f.i32.ge_s(f.get(ix), f.i32.const(0)), f.i32.lt_s(f.get(ix), f.get(g.inW))), () => visit(pl, iy, ix));
                        },
                      );
                    });
                  },
                );
                end(o, pl);
                f.set(o, f.i32.add(f.get(o), f.i32.const(1)));
              },
            );
          },
        );
      },
    );
  };
  /** Address of element (iy, ix) of plane pl of an inH x inW tensor at `base`. */
  const inAddr = (f: FunctionBuilder, g: Geometry, base: Local, pl: Local, iy: Local, ix: Local): Emitted =>
    f.i32.add(f.get(base), f.i32.shl(f.i32.add(f.i32.mul(f.i32.add(f.i32.mul(f.get(pl), f.get(g.inH)), f.get(iy)), f.get(g.inW)), f.get(ix)), f.i32.const(2)));
  const at = (f: FunctionBuilder, base: Local, o: Local): Emitted => f.i32.add(f.get(base), f.i32.shl(f.get(o), f.i32.const(2)));

  mod.func('pool_max', Array(5).fill('i32'), [], (f, x, out, argmax, params, planes) => {
    const g = geometry(f, params);
    const best = f.local('f32');
    const bestAt = f.local('i32');
    const v = f.local('f32');
    loops(
      f,
      g,
      planes,
      () => {
        f.set(best, f.f32.const(-Infinity));
        f.set(bestAt, f.i32.const(-1));
      },
      (pl, iy, ix) => {
        f.set(v, f.f32.load(inAddr(f, g, x, pl, iy, ix)));
        // The first maximum wins (and the first position when every value is -Infinity); a NaN
        // beats a number (v != v: NaN).
        const nanOverNumber = (): Emitted => f.i32.and(f.f32.ne(f.get(v), f.get(v)), f.f32.eq(f.get(best), f.get(best)));
        f.if(f.i32.or(f.i32.or(f.f32.gt(f.get(v), f.get(best)), f.i32.lt_s(f.get(bestAt), f.i32.const(0))), nanOverNumber()), () => {
          f.set(best, f.get(v));
          f.set(bestAt, f.i32.add(f.i32.mul(f.get(iy), f.get(g.inW)), f.get(ix)));
        });
      },
      (o) => {
        f.f32.store(at(f, out, o), f.get(best));
        f.i32.store(at(f, argmax, o), f.get(bestAt));
      },
    );
  });

  mod.func('pool_avg', Array(5).fill('i32'), [], (f, x, out, _argmax, params, planes) => {
    const g = geometry(f, params);
    const sum = f.local('f64');
    const area = f.local('f32');
    f.set(area, f.f32.convert_i32_s(f.i32.mul(f.get(g.kH), f.get(g.kW))));
    loops(
      f,
      g,
      planes,
      () => f.set(sum, f.f64.promote_f32(f.f32.const(0))),
      (pl, iy, ix) => {
        f.set(sum, f.f64.add(f.get(sum), f.f64.promote_f32(f.f32.load(inAddr(f, g, x, pl, iy, ix)))));
      },
      (o) => f.f32.store(at(f, out, o), f.f32.div(f.f32.demote_f64(f.get(sum)), f.get(area))),
    );
  });

  mod.func('pool_max_back', Array(5).fill('i32'), [], (f, dy, argmax, dx, params, planes) => {
    const g = geometry(f, params);
    const pl = f.local('i32');
    const o = f.local('i32');
    const idx = f.local('i32');
    const outPlane = f.local('i32');
    const target = f.local('i32');
    f.memoryFill(f.get(dx), f.i32.const(0), f.i32.shl(f.i32.mul(f.get(planes), f.i32.mul(f.get(g.inH), f.get(g.inW))), f.i32.const(2)));
    f.set(outPlane, f.i32.mul(f.get(g.outH), f.get(g.outW)));
    f.for(
      pl,
      () => f.i32.const(0),
      () => f.get(planes),
      1,
      () => {
        f.for(
          o,
          () => f.i32.const(0),
          () => f.get(outPlane),
          1,
          () => {
            f.set(idx, f.i32.load(f.get(argmax)));
            f.if(f.i32.ge_s(f.get(idx), f.i32.const(0)), () => {
              f.set(target, f.i32.add(f.get(dx), f.i32.shl(f.i32.add(f.i32.mul(f.get(pl), f.i32.mul(f.get(g.inH), f.get(g.inW))), f.get(idx)), f.i32.const(2))));
              f.f32.store(f.get(target), f.f32.add(f.f32.load(f.get(target)), f.f32.load(f.get(dy))));
            });
            f.set(argmax, f.i32.add(f.get(argmax), f.i32.const(4)));
            f.set(dy, f.i32.add(f.get(dy), f.i32.const(4)));
          },
        );
      },
    );
  });

  mod.func('pool_avg_back', Array(4).fill('i32'), [], (f, dy, dx, params, planes) => {
    const g = geometry(f, params);
    const share = f.local('f32');
    const target = f.local('i32');
    const area = f.local('f32');
    f.set(area, f.f32.convert_i32_s(f.i32.mul(f.get(g.kH), f.get(g.kW))));
    f.memoryFill(f.get(dx), f.i32.const(0), f.i32.shl(f.i32.mul(f.get(planes), f.i32.mul(f.get(g.inH), f.get(g.inW))), f.i32.const(2)));
    loops(
      f,
      g,
      planes,
      () => f.set(share, f.f32.div(f.f32.load(f.get(dy)), f.get(area))),
      (pl, iy, ix) => {
        f.set(target, inAddr(f, g, dx, pl, iy, ix));
        f.f32.store(f.get(target), f.f32.add(f.f32.load(f.get(target)), f.get(share)));
      },
      () => f.set(dy, f.i32.add(f.get(dy), f.i32.const(4))),
    );
  });
}

/**
 * Top-k selection over the keys bits(v) & 0x7fffffff (the algorithm: backend.ts topkMask):
 * - topk_hist(src, n, fixedMask, prefix, shift, digitMask, hist): hist[(key >> shift) &
 *   digitMask]++ for every key with (key & fixedMask) == prefix (u32 counts);
 * - topk_count(src, n, threshold) -> how many keys equal threshold;
 * - topk_mask(src, out, n, threshold, ties) -> 1 where key > threshold, and where key ==
 *   threshold for the first `ties` of them; returns the ties left.
 */
function emitTopk(mod: ModuleBuilder): void {
  const keyMask = (f: FunctionBuilder): Emitted => f.i32x4.splat(f.i32.const(0x7fffffff));
  mod.func('topk_hist', Array(7).fill('i32'), [], (f, src, n, fixedMask, prefix, shift, digitMask, hist) => {
    const end = f.local('i32');
    const vend = f.local('i32');
    const keys = f.local('v128');
    const fm = f.local('v128');
    const pv = f.local('v128');
    const key = f.local('i32');
    const slot = f.local('i32');
    const p = f.local('i32');
    f.set(fm, f.i32x4.splat(f.get(fixedMask)));
    f.set(pv, f.i32x4.splat(f.get(prefix)));
    f.set(end, f.i32.add(f.get(src), f.i32.shl(f.get(n), f.i32.const(2))));
    f.set(vend, f.i32.add(f.get(src), f.i32.shl(f.i32.and(f.get(n), f.i32.const(-4)), f.i32.const(2))));
    const count = (k: () => Emitted): void => {
      f.set(key, k());
      f.if(f.i32.eq(f.i32.and(f.get(key), f.get(fixedMask)), f.get(prefix)), () => {
        f.set(slot, f.i32.add(f.get(hist), f.i32.shl(f.i32.and(f.i32.shr_u(f.get(key), f.get(shift)), f.get(digitMask)), f.i32.const(2))));
        f.i32.store(f.get(slot), f.i32.add(f.i32.load(f.get(slot)), f.i32.const(1)));
      });
    };
    f.set(p, f.get(src));
    f.if(f.i32.lt_u(f.get(p), f.get(vend)), () => {
      f.loop((again) => {
        f.set(keys, f.v128.and(f.v128.load(f.get(p)), keyMask(f)));
        // Skip the vector when no key shares the prefix (most, after the first digit).
        f.if(f.v128.any_true(f.i32x4.eq(f.v128.and(f.get(keys), f.get(fm)), f.get(pv))), () => {
          for (let lane = 0; lane < 4; lane++) count(() => f.i32x4.extract_lane(f.get(keys), lane));
        });
        f.set(p, f.i32.add(f.get(p), f.i32.const(16)));
        f.brIf(again, f.i32.lt_u(f.get(p), f.get(vend)));
      });
    });
    f.if(f.i32.lt_u(f.get(p), f.get(end)), () => {
      f.loop((again) => {
        count(() => f.i32.and(f.i32.load(f.get(p)), f.i32.const(0x7fffffff)));
        f.set(p, f.i32.add(f.get(p), f.i32.const(4)));
        f.brIf(again, f.i32.lt_u(f.get(p), f.get(end)));
      });
    });
  });

  mod.func('topk_count', ['i32', 'i32', 'i32'], ['i32'], (f, src, n, threshold) => {
    const p = f.local('i32');
    const end = f.local('i32');
    const count = f.local('i32');
    f.set(p, f.get(src));
    f.set(end, f.i32.add(f.get(src), f.i32.shl(f.get(n), f.i32.const(2))));
    f.if(f.i32.lt_u(f.get(p), f.get(end)), () => {
      f.loop((again) => {
        f.set(count, f.i32.add(f.get(count), f.i32.eq(f.i32.and(f.i32.load(f.get(p)), f.i32.const(0x7fffffff)), f.get(threshold))));
        f.set(p, f.i32.add(f.get(p), f.i32.const(4)));
        f.brIf(again, f.i32.lt_u(f.get(p), f.get(end)));
      });
    });
    f.get(count);
  });

  mod.func('topk_mask', Array(5).fill('i32'), ['i32'], (f, src, out, n, threshold, ties) => {
    const p = f.local('i32');
    const q = f.local('i32');
    const end = f.local('i32');
    const key = f.local('i32');
    const t = f.local('v128');
    f.set(p, f.get(src));
    f.set(q, f.get(out));
    f.set(end, f.i32.add(f.get(src), f.i32.shl(f.get(n), f.i32.const(2))));
    f.set(t, f.i32x4.splat(f.get(threshold)));
    // Without ties to place: key > threshold (signed compare is exact: keys are below 2^31).
    f.if(
      f.i32.eqz(f.get(ties)),
      () => {
        f.if(f.i32.lt_u(f.get(p), f.get(end)), () => {
          f.loop((again) => {
            f.v128.store(f.get(q), ones(f, f.i32x4.gt_s(f.v128.and(f.v128.load(f.get(p)), keyMask(f)), f.get(t))));
            f.set(p, f.i32.add(f.get(p), f.i32.const(16)));
            f.set(q, f.i32.add(f.get(q), f.i32.const(16)));
            f.brIf(again, f.i32.lt_u(f.get(p), f.get(end)));
          });
        });
      },
      () => {
        f.if(f.i32.lt_u(f.get(p), f.get(end)), () => {
          f.loop((again) => {
            f.set(key, f.i32.and(f.i32.load(f.get(p)), f.i32.const(0x7fffffff)));
            f.if(
              f.i32.gt_u(f.get(key), f.get(threshold)),
              () => f.f32.store(f.get(q), f.f32.const(1)),
              () => {
                f.if(
                  f.i32.and(f.i32.eq(f.get(key), f.get(threshold)), f.i32.ne(f.get(ties), f.i32.const(0))),
                  () => {
                    f.f32.store(f.get(q), f.f32.const(1));
                    f.set(ties, f.i32.sub(f.get(ties), f.i32.const(1)));
                  },
                  () => f.f32.store(f.get(q), f.f32.const(0)),
                );
              },
            );
            f.set(p, f.i32.add(f.get(p), f.i32.const(4)));
            f.set(q, f.i32.add(f.get(q), f.i32.const(4)));
            f.brIf(again, f.i32.lt_u(f.get(p), f.get(end)));
          });
        });
      },
    );
    f.get(ties);
  });

  // Bitonic sort of (key, position) pairs, key descending then position ascending.
  mod.func('bitonic_init', Array(6).fill('i32'), [], (f, src, keys, pos, len, offset, count) => {
    const i = f.local('i32');
    const at = f.local('i32');
    f.for(
      i,
      () => f.i32.const(0),
      () => f.get(count),
      1,
      () => {
        f.set(at, f.i32.shl(f.i32.add(f.get(offset), f.get(i)), f.i32.const(2)));
        // Padding past the segment: key 0 (select would load past the segment: a branch).
        f.if(
          f.i32.lt_u(f.get(i), f.get(len)),
          () => {
            f.i32.store(f.i32.add(f.get(keys), f.get(at)), f.i32.and(f.i32.load(f.i32.add(f.get(src), f.i32.shl(f.get(i), f.i32.const(2)))), f.i32.const(0x7fffffff)));
          },
          () => f.i32.store(f.i32.add(f.get(keys), f.get(at)), f.i32.const(0)),
        );
        f.i32.store(f.i32.add(f.get(pos), f.get(at)), f.i32.add(f.get(offset), f.get(i)));
      },
    );
  });
  mod.func('bitonic_step', Array(6).fill('i32'), [], (f, keys, pos, dist, block, t0, t1) => {
    const t = f.local('i32');
    const low = f.local('i32');
    const i = f.local('i32');
    const j = f.local('i32');
    const ki = f.local('i32');
    const kj = f.local('i32');
    const pi = f.local('i32');
    const pj = f.local('i32');
    const jFirst = f.local('i32');
    const addr = (base: Local, idx: Local): Emitted => f.i32.add(f.get(base), f.i32.shl(f.get(idx), f.i32.const(2)));
    f.for(
      t,
      () => f.get(t0),
      () => f.get(t1),
      1,
      () => {
        f.set(low, f.i32.and(f.get(t), f.i32.sub(f.get(dist), f.i32.const(1))));
        f.set(i, f.i32.or(f.i32.shl(f.i32.sub(f.get(t), f.get(low)), f.i32.const(1)), f.get(low)));
        f.set(j, f.i32.or(f.get(i), f.get(dist)));
        f.set(ki, f.i32.load(addr(keys, i)));
        f.set(kj, f.i32.load(addr(keys, j)));
        f.set(pi, f.i32.load(addr(pos, i)));
        f.set(pj, f.i32.load(addr(pos, j)));
        f.set(jFirst, f.i32.or(f.i32.gt_u(f.get(kj), f.get(ki)), f.i32.and(f.i32.eq(f.get(kj), f.get(ki)), f.i32.lt_u(f.get(pj), f.get(pi)))));
        f.if(f.i32.eq(f.get(jFirst), f.i32.eqz(f.i32.and(f.get(i), f.get(block)))), () => {
          f.i32.store(addr(keys, i), f.get(kj));
          f.i32.store(addr(keys, j), f.get(ki));
          f.i32.store(addr(pos, i), f.get(pj));
          f.i32.store(addr(pos, j), f.get(pi));
        });
      },
    );
  });
  mod.func('bitonic_scatter', Array(5).fill('i32'), [], (f, pos, out, k, offset, len) => {
    const i = f.local('i32');
    const p = f.local('i32');
    f.for(
      i,
      () => f.i32.const(0),
      () => f.get(k),
      1,
      () => {
        f.set(p, f.i32.sub(f.i32.load(f.i32.add(f.get(pos), f.i32.shl(f.get(i), f.i32.const(2)))), f.get(offset)));
        f.if(f.i32.lt_u(f.get(p), f.get(len)), () => f.f32.store(f.i32.add(f.get(out), f.i32.shl(f.get(p), f.i32.const(2))), f.f32.const(1)));
      },
    );
  });
}

/** load_i32 / store_i32 / memory_fill: memory access for threads whose array views may be stale. */
function emitMemoryAccess(mod: ModuleBuilder): void {
  mod.func('load_i32', ['i32'], ['i32'], (f, at) => f.i32.load(f.get(at)));
  mod.func('store_i32', ['i32', 'i32'], [], (f, at, v) => f.i32.store(f.get(at), f.get(v)));
  mod.func('memory_fill', ['i32', 'i32', 'i32'], [], (f, at, byte, n) => f.memoryFill(f.get(at), f.get(byte), f.get(n)));
}

/** The module's bytes for these features. */
export function buildKernels(features: KernelFeatures): Uint8Array<ArrayBuffer> {
  const mod = new ModuleBuilder({ initial: 1, maximum: 65536, shared: features.shared });
  emitMemoryAccess(mod);
  const math = emitMath(mod);
  emitUnary(mod, math);
  emitBinary(mod, math);
  emitCopy(mod);
  emitReduce(mod);
  emitPad(mod);
  emitPool(mod);
  emitTopk(mod);
  const shape = { ...GEMM, fma: features.relaxedSimd };
  emitGemmKernel(mod, { ...shape, b: 'packed' });
  emitGemmKernel(mod, { ...shape, b: 'rows' });
  emitPackA(mod, GEMM.mr);
  emitPackARows(mod);
  emitZeroColumns(mod);
  emitPackB(mod, GEMM.nv);
  return mod.bytes();
}
