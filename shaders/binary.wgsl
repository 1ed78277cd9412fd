// out[i] = OP(a[ia], b[ib]) with NumPy broadcasting: each operand is read through strides over
// the output shape (0 on broadcast dims). Placeholders: {{OP}} (an expression in `u`, `v`),
// {{RANK}} (of the merged output shape; 0 when each operand is either contiguous and of the
// output's shape or a single value, which needs no index arithmetic), {{A_AT}} / {{B_AT}} (the
// operands' element indices: `at.x` / `at.y` when strided, else `i` or `0u`).
// Workgroup WORKGROUP_SIZE, one element per invocation; dispatch: fold(ceil(size / WORKGROUP_SIZE)).
#include "common"

const RANK: u32 = {{RANK}}u;

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

fn op(u: f32, v: f32) -> f32 {
  return {{OP}};
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid, WORKGROUP_SIZE);
  if (i >= p.size) { return; }
  var at = vec2<u32>(i, i);
  if (RANK > 0u) {
    // Copied out of the uniform block first: passing uniform arrays to a function is slow.
    let shape = p.shape;
    let a_strides = p.a_strides;
    let b_strides = p.b_strides;
    at = strided_offsets(i, RANK, shape, a_strides, b_strides);
  }
  out[i] = op(a[{{A_AT}}], b[{{B_AT}}]);
}
