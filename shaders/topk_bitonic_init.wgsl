// Bitonic top-k, step 1: (key, position) pairs of one segment into the shared sort buffers at
// its global offset; the last segment also writes the padding up to the power of two, with
// key 0 and its own position (>= every real position, so it sorts after every real element).
// Dispatch per segment: fold(ceil(count / WORKGROUP_SIZE)).
#include "common"

// The uniform block p (struct Params, generated from the layout in src/backend/webgpu/kernels.ts):
//   len: Real elements of this segment.
//   count: len plus the padding this dispatch writes.

@group(0) @binding(0) var<storage, read> x: array<u32>;
@group(0) @binding(1) var<storage, read_write> keys: array<u32>;
@group(0) @binding(2) var<storage, read_write> idx: array<u32>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid, WORKGROUP_SIZE);
  if (i >= p.count) { return; }
  var key = 0u;
  if (i < p.len) { key = x[i] & 0x7fffffffu; }
  keys[p.offset + i] = key;
  idx[p.offset + i] = p.offset + i;
}
