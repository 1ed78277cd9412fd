// out[i] = OP(a[ia], b[ib]) with NumPy broadcasting: each operand is read through strides over
// the output shape (0 on broadcast dims). Placeholders: {{OP}} (an expression in `u`, `v`),
// {{BROADCAST}} (false when both operands are contiguous and of the output's shape).
// Workgroup 256, one element per invocation; dispatch: fold(ceil(size / 256)).
#include "common"

struct Params {
  size: u32,
  rank: u32,
  _p0: u32,
  _p1: u32,
  shape: Dims,
  a_strides: Dims,
  b_strides: Dims,
}

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

fn op(u: f32, v: f32) -> f32 {
  return {{OP}};
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid, 256u);
  if (i >= p.size) { return; }
  var ia = i;
  var ib = i;
  if ({{BROADCAST}}) {
    ia = 0u;
    ib = 0u;
    var rest = i;
    for (var d = i32(p.rank) - 1; d >= 0; d--) {
      let extent = dim_at(p.shape, u32(d));
      let coord = rest % extent;
      rest = rest / extent;
      ia += coord * dim_at(p.a_strides, u32(d));
      ib += coord * dim_at(p.b_strides, u32(d));
    }
  }
  out[i] = op(a[ia], b[ib]);
}
