// Vector (f32x4) exp, log and powers for the wasm backend: WebAssembly has no transcendental
// instructions. The polynomials are Cephes' expf / logf (S. L. Moshier), accurate to about
// 1-2 ulp; powers are exp(s * log|x|). Special values follow JavaScript's Math functions, as
// the CPU reference does: exp(-Inf) = 0, exp(NaN) = NaN, log(0) = -Inf, log(x < 0) = NaN,
// pow(x, 0) = 1, pow(1, Inf) = NaN, the sign rules of an integer power of a negative base, and
// NaN for a finite negative base to a non-integer power (pow(-Inf, 0.5) = Inf).

import type { Emitted, FunctionBuilder, ModuleBuilder } from './builder.js';

export interface MathFunctions {
  /** v128 -> v128 */
  exp: number;
  log: number;
  /** (|x|, s) -> |x|^s, for |x| >= 0 or NaN */
  powAbs: number;
  /** (x, s) -> x^s with the sign of x kept for odd integer s; NaN for finite x < 0 and non-integer s */
  signedPow: number;
}

const splat = (f: FunctionBuilder, v: number): Emitted => f.f32x4.splat(f.f32.const(v));
const splatI = (f: FunctionBuilder, v: number): Emitted => f.i32x4.splat(f.i32.const(v));

/** ((c0 x + c1) x + c2) x + ... by Horner's rule. */
function horner(f: FunctionBuilder, x: () => Emitted, coefficients: readonly number[]): Emitted {
  splat(f, coefficients[0]);
  for (const c of coefficients.slice(1)) f.f32x4.add(f.f32x4.mul(undefined, x()), splat(f, c));
}

export function emitMath(mod: ModuleBuilder): MathFunctions {
  const exp = mod.func(
    'exp',
    ['v128'],
    ['v128'],
    (f, x) => {
      const cx = f.local('v128');
      const fx = f.local('v128');
      const r = f.local('v128');
      const y = f.local('v128');
      const n = f.local('v128');
      const n1 = f.local('v128');
      // Clamp to where exp is a (possibly subnormal) nonzero float; min/max keep NaN.
      f.set(cx, f.f32x4.min(f.f32x4.max(f.get(x), splat(f, -103.972084)), splat(f, 88.7228394)));
      f.set(fx, f.f32x4.nearest(f.f32x4.mul(f.get(cx), splat(f, Math.LOG2E))));
      // r = x - n ln2, with ln2 split in two for precision.
      f.set(r, f.f32x4.sub(f.f32x4.sub(f.get(cx), f.f32x4.mul(f.get(fx), splat(f, 0.693359375))), f.f32x4.mul(f.get(fx), splat(f, -2.1219444e-4))));
      horner(f, () => f.get(r), [1.98756915e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1]);
      f.set(y, f.f32x4.add(f.f32x4.add(f.f32x4.mul(undefined, f.f32x4.mul(f.get(r), f.get(r))), f.get(r)), splat(f, 1)));
      // y * 2^n as y * 2^n1 * 2^(n - n1): n reaches -150 and 128, outside one exponent field.
      f.set(n, f.i32x4.trunc_sat_f32x4_s(f.get(fx)));
      f.set(n1, f.i32x4.shr_s(f.get(n), f.i32.const(1)));
      const pow2 = (e: () => Emitted): Emitted => f.i32x4.shl(f.i32x4.add(e(), splatI(f, 127)), f.i32.const(23));
      f.set(
        y,
        f.f32x4.mul(
          f.f32x4.mul(
            f.get(y),
            pow2(() => f.get(n1)),
          ),
          pow2(() => f.i32x4.sub(f.get(n), f.get(n1))),
        ),
      );
      // Past the clamps: exactly Inf and 0.
      f.set(y, f.v128.bitselect(splat(f, Infinity), f.get(y), f.f32x4.gt(f.get(x), splat(f, 88.7228394))));
      f.v128.andnot(f.get(y), f.f32x4.lt(f.get(x), splat(f, -103.972084)));
    },
    false,
  );

  const log = mod.func(
    'log',
    ['v128'],
    ['v128'],
    (f, x) => {
      const xs = f.local('v128');
      const bits = f.local('v128');
      const e = f.local('v128');
      const m = f.local('v128');
      const small = f.local('v128');
      const z = f.local('v128');
      const y = f.local('v128');
      // Subnormals: scale by 2^23 first.
      f.set(small, f.f32x4.lt(f.get(x), splat(f, 1.17549435e-38)));
      f.set(xs, f.v128.bitselect(f.f32x4.mul(f.get(x), splat(f, 8388608)), f.get(x), f.get(small)));
      f.set(bits, f.get(xs));
      // x = m 2^e with m in [0.5, 1).
      f.set(e, f.i32x4.sub(f.i32x4.shr_u(f.get(bits), f.i32.const(23)), splatI(f, 126)));
      f.set(e, f.i32x4.sub(f.get(e), f.v128.and(f.get(small), splatI(f, 23))));
      f.set(m, f.v128.or(f.v128.and(f.get(bits), splatI(f, 0x007fffff)), splatI(f, 0x3f000000)));
      f.set(e, f.f32x4.convert_i32x4_s(f.get(e)));
      // m < sqrt(1/2): e -= 1, m = 2m - 1; else m = m - 1.
      f.set(small, f.f32x4.lt(f.get(m), splat(f, Math.SQRT1_2)));
      f.set(e, f.f32x4.sub(f.get(e), f.v128.and(f.get(small), splat(f, 1))));
      f.set(m, f.f32x4.sub(f.f32x4.add(f.get(m), f.v128.and(f.get(small), f.get(m))), splat(f, 1)));
      f.set(z, f.f32x4.mul(f.get(m), f.get(m)));
      horner(
        f,
        () => f.get(m),
        [7.0376836292e-2, -1.151461031e-1, 1.167699874e-1, -1.2420140846e-1, 1.4249322787e-1, -1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1],
      );
      f.set(y, f.f32x4.mul(f.f32x4.mul(undefined, f.get(m)), f.get(z)));
      f.set(y, f.f32x4.add(f.get(y), f.f32x4.mul(f.get(e), splat(f, -2.1219444e-4))));
      f.set(y, f.f32x4.sub(f.get(y), f.f32x4.mul(f.get(z), splat(f, 0.5))));
      f.set(y, f.f32x4.add(f.f32x4.add(f.get(m), f.get(y)), f.f32x4.mul(f.get(e), splat(f, 0.693359375))));
      // log(0) = -Inf, log(Inf) = Inf, log(x < 0) = log(NaN) = NaN.
      f.set(y, f.v128.bitselect(splat(f, -Infinity), f.get(y), f.f32x4.eq(f.get(x), splat(f, 0))));
      f.set(y, f.v128.bitselect(splat(f, Infinity), f.get(y), f.f32x4.eq(f.get(x), splat(f, Infinity))));
      f.v128.bitselect(splat(f, NaN), f.get(y), f.v128.not(f.f32x4.ge(f.get(x), splat(f, 0))));
    },
    false,
  );

  const powAbs = mod.func(
    'pow_abs',
    ['v128', 'v128'],
    ['v128'],
    (f, ax, s) => {
      // exp(s log|x|): log(0) = -Inf gives 0 or Inf by the sign of s; s = 0 gives 1 even for NaN.
      f.v128.bitselect(splat(f, 1), f.call(exp, f.f32x4.mul(f.get(s), f.call(log, f.get(ax)))), f.f32x4.eq(f.get(s), splat(f, 0)));
    },
    false,
  );

  const signedPow = mod.func(
    'signed_pow',
    ['v128', 'v128'],
    ['v128'],
    (f, x, s) => {
      const r = f.local('v128');
      const integer = f.local('v128');
      const odd = f.local('v128');
      f.set(r, f.call(powAbs, f.f32x4.abs(f.get(x)), f.get(s)));
      f.set(integer, f.f32x4.eq(f.f32x4.floor(f.get(s)), f.get(s)));
      // Odd: an integer below 2^24 (floats above are even) whose low bit is set.
      f.set(
        odd,
        f.v128.and(
          f.v128.and(f.get(integer), f.f32x4.lt(f.f32x4.abs(f.get(s)), splat(f, 16777216))),
          f.i32x4.eq(f.v128.and(f.i32x4.trunc_sat_f32x4_s(f.get(s)), splatI(f, 1)), splatI(f, 1)),
        ),
      );
      // A negative base (-0 included) to an odd power flips the sign; a finite x < 0 to a
      // non-integer is NaN (-Infinity is not: |x|^s).
      f.set(r, f.v128.xor(f.get(r), f.v128.and(f.v128.and(f.get(x), splatI(f, 0x80000000 | 0)), f.get(odd))));
      const negativeFinite = (): Emitted => f.v128.and(f.f32x4.lt(f.get(x), splat(f, 0)), f.f32x4.gt(f.get(x), splat(f, -Infinity)));
      f.v128.bitselect(splat(f, NaN), f.get(r), f.v128.andnot(negativeFinite(), f.get(integer)));
    },
    false,
  );

  return { exp, log, powAbs, signedPow };
}
