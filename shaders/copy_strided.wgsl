// out[i] = x[offset(i)], reading x through strides over the output shape: transposes
// (permuted strides) and broadcasts (0 strides) with one kernel. Placeholder {{RANK}}: the
// rank of the merged output shape.
// Workgroup WORKGROUP_SIZE, one element per invocation; dispatch: fold(ceil(size / WORKGROUP_SIZE)).
#include "common"

const RANK: u32 = {{RANK}}u;

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid, WORKGROUP_SIZE);
  if (i >= p.size) { return; }
  // Copied out of the uniform block first: passing uniform arrays to a function is slow.
  let shape = p.shape;
  let strides = p.strides;
  out[i] = x[strided_offsets(i, RANK, shape, strides, strides).x];
}
