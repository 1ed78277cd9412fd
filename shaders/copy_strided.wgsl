// out[i] = x[offset(i)], reading x through strides over the output shape: transposes
// (permuted strides) and broadcasts (0 strides) with one kernel.
// Workgroup 256, one element per invocation; dispatch: fold(ceil(size / 256)).
#include "common"

struct Params {
  size: u32,
  rank: u32,
  _p0: u32,
  _p1: u32,
  shape: Dims,
  strides: Dims,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid, 256u);
  if (i >= p.size) { return; }
  var src = 0u;
  var rest = i;
  for (var d = i32(p.rank) - 1; d >= 0; d--) {
    let extent = dim_at(p.shape, u32(d));
    src += (rest % extent) * dim_at(p.strides, u32(d));
    rest = rest / extent;
  }
  out[i] = x[src];
}
