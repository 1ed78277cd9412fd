// Bitonic top-k, step 3: 1s at the positions of the first k sorted pairs that fall in this
// segment (out is zeroed first). Dispatch per segment: fold(ceil(k / WORKGROUP_SIZE)).
#include "common"

@group(0) @binding(0) var<storage, read> idx: array<u32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let t = flat_index(wid, nwg, lid, WORKGROUP_SIZE);
  if (t >= p.k) { return; }
  let pos = idx[t];
  if (pos >= p.offset && pos - p.offset < p.len) { out[pos - p.offset] = 1.0; }
}
