// Helpers shared by the kernels (pulled in with `#include "common"`; not a kernel itself).

// Shapes and strides travel in uniforms innermost dimension first, as two vec4s (rank <= 8;
// the engine uses <= 6).
alias Dims = array<vec4<u32>, 2>;

// Element offsets of flat index i (row-major over `shape`) through two stride sets. `rank` is a
// constant of the calling kernel (a template value), so only the needed steps remain, and
// every uniform access has a constant index: dynamic indices are slow on SwiftShader.
fn strided_offsets(i: u32, rank: u32, shape: Dims, sa: Dims, sb: Dims) -> vec2<u32> {
  // Innermost dims first; the outermost dim's coordinate is whatever remains (no division).
  var rest = i;
  var off = vec2<u32>(0u, 0u);
  if (rank > 1u) { let e = shape[0].x; off += (rest % e) * vec2<u32>(sa[0].x, sb[0].x); rest = rest / e; }
  if (rank > 2u) { let e = shape[0].y; off += (rest % e) * vec2<u32>(sa[0].y, sb[0].y); rest = rest / e; }
  if (rank > 3u) { let e = shape[0].z; off += (rest % e) * vec2<u32>(sa[0].z, sb[0].z); rest = rest / e; }
  if (rank > 4u) { let e = shape[0].w; off += (rest % e) * vec2<u32>(sa[0].w, sb[0].w); rest = rest / e; }
  if (rank > 5u) { let e = shape[1].x; off += (rest % e) * vec2<u32>(sa[1].x, sb[1].x); rest = rest / e; }
  switch (rank) {
    case 1u: { off += rest * vec2<u32>(sa[0].x, sb[0].x); }
    case 2u: { off += rest * vec2<u32>(sa[0].y, sb[0].y); }
    case 3u: { off += rest * vec2<u32>(sa[0].z, sb[0].z); }
    case 4u: { off += rest * vec2<u32>(sa[0].w, sb[0].w); }
    case 5u: { off += rest * vec2<u32>(sa[1].x, sb[1].x); }
    case 6u: { off += rest * vec2<u32>(sa[1].y, sb[1].y); }
    default: {}
  }
  return off;
}

// 1-D kernels fold large grids into (x, y) to stay under the 65535 workgroups-per-dimension limit.
fn flat_index(wid: vec3<u32>, nwg: vec3<u32>, lid: u32, wg_size: u32) -> u32 {
  return (wid.y * nwg.x + wid.x) * wg_size + lid;
}


// Non-finite values come from runtime bits: WGSL rejects them in constant expressions.
fn f32_from_bits(bits: u32) -> f32 {
  var b = bits;
  return bitcast<f32>(b);
}

// By bits: WGSL lets compilers assume `v != v` is false.
fn is_nan(v: f32) -> bool {
  return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u;
}

fn f32_nan() -> f32 { return f32_from_bits(0x7fc00000u); }
fn f32_inf() -> f32 { return f32_from_bits(0x7f800000u); }
fn f32_neg_inf() -> f32 { return f32_from_bits(0xff800000u); }

// WGSL leaves exp and log undefined outside their domain and for NaN (SwiftShader returns
// finite values there); these follow Math.exp and Math.log as the CPU reference does.
fn exp_ieee(v: f32) -> f32 {
  if (is_nan(v)) { return v; }
  return exp(v);
}

fn log_ieee(v: f32) -> f32 {
  if (is_nan(v) || v < 0.0) { return f32_nan(); }
  if (v == 0.0) { return f32_neg_inf(); }
  if (v == f32_inf()) { return v; }
  return log(v);
}

// a ^ b with the sign kept for a negative base and an odd integer exponent; NaN for a negative
// base and a non-integer exponent (as Math.pow).
fn signed_pow(a: f32, b: f32) -> f32 {
  if (b == 0.0) { return 1.0; }
  if (a == 0.0) { return select(0.0, f32_inf(), b < 0.0); }
  let r = pow(abs(a), b);
  if (a > 0.0) { return r; }
  // A finite negative base to a non-integer power is NaN; -Infinity's is |a|^b (as Math.pow).
  if (fract(b) != 0.0) { return select(f32_nan(), r, a == -f32_inf()); }
  return select(r, -r, abs(b) % 2.0 == 1.0);
}

// d(a^b)/da = b * a^(b-1), defined as 0 where b == 0 (also at a == 0, as PyTorch).
fn pow_grad_base(a: f32, b: f32) -> f32 {
  if (b == 0.0) { return 0.0; }
  return b * signed_pow(a, b - 1.0);
}

// d(a^b)/db = a^b log(a), defined as 0 where a == 0 and b >= 0 (as PyTorch).
fn pow_grad_exponent(a: f32, b: f32) -> f32 {
  if (a == 0.0 && b >= 0.0) { return 0.0; }
  return signed_pow(a, b) * log_ieee(a);
}
