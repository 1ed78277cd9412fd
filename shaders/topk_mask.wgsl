// The mask of one segment from the decided threshold state (topk_radix_scan.wgsl):
// out[i] = key > state[0] || (key == state[0] && offset + i <= state[1]).
// 4 elements per invocation (vec4; buffers are 256-byte padded, so the tail stays in bounds);
// dispatch: fold(ceil(len / 1024)).
#include "common"

struct Params {
  len: u32,
  offset: u32,
  _p0: u32,
  _p1: u32,
}

@group(0) @binding(0) var<storage, read> x: array<vec4<u32>>;
@group(0) @binding(1) var<storage, read> state: array<u32, 4>;
@group(0) @binding(2) var<storage, read_write> out: array<vec4<f32>>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid, 256u);
  if (i * 4u >= p.len) { return; }
  let a = x[i] & vec4(0x7fffffffu);
  let t = vec4(state[0]);
  let pos = vec4(p.offset + i * 4u) + vec4(0u, 1u, 2u, 3u);
  out[i] = select(vec4(0.0), vec4(1.0), (a > t) | ((a == t) & (pos <= vec4(state[1]))));
}
