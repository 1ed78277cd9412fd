// Helpers shared by the kernels (pulled in with `#include "common"`; not a kernel itself).

// Shapes and strides travel in uniforms as two vec4s (rank <= 8; the engine uses <= 6).
alias Dims = array<vec4<u32>, 2>;

fn dim_at(v: Dims, i: u32) -> u32 {
  return v[i >> 2u][i & 3u];
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

// a ^ b with the sign kept for a negative base and an odd integer exponent; NaN for a negative
// base and a non-integer exponent (as Math.pow).
fn signed_pow(a: f32, b: f32) -> f32 {
  if (b == 0.0) { return 1.0; }
  if (a == 0.0) { return select(0.0, f32_inf(), b < 0.0); }
  let r = pow(abs(a), b);
  if (a > 0.0) { return r; }
  if (fract(b) != 0.0) { return f32_nan(); }
  return select(r, -r, abs(b) % 2.0 == 1.0);
}

// d(a^b)/da = b * a^(b-1), defined as 0 where b == 0 (also at a == 0, as PyTorch).
fn pow_grad_base(a: f32, b: f32) -> f32 {
  if (b == 0.0) { return 0.0; }
  return b * signed_pow(a, b - 1.0);
}
