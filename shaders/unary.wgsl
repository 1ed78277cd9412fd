// y[i] = OP(x[i], scalar) for the unary op named by the engine (placeholder {{OP}}, an
// expression in `v` and `s`). Workgroup WORKGROUP_SIZE, one element per invocation;
// dispatch: fold(ceil(size / WORKGROUP_SIZE)).
#include "common"

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

fn op(v: f32, s: f32) -> f32 {
  return {{OP}};
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid, WORKGROUP_SIZE);
  if (i >= p.size) { return; }
  y[i] = op(x[i], p.scalar);
}
