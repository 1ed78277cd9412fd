// y[i] = OP(x[i], scalar) for the unary op named by the engine (placeholder {{OP}}, an
// expression in `v` and `s`). Workgroup 256, one element per invocation;
// dispatch: fold(ceil(size / 256)).
#include "common"

struct Params {
  size: u32,
  scalar: f32,
  _p0: u32,
  _p1: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

fn op(v: f32, s: f32) -> f32 {
  return {{OP}};
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid, 256u);
  if (i >= p.size) { return; }
  y[i] = op(x[i], p.scalar);
}
