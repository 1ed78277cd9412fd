// Bitonic top-k, step 2: one compare-exchange step (block `block`, distance `dist`) of a
// bitonic sort of (key, position) pairs into rank order: key descending, then position
// ascending. One invocation per pair; dispatch: fold(ceil(n / 2 / WORKGROUP_SIZE)).
#include "common"

@group(0) @binding(0) var<storage, read_write> keys: array<u32>;
@group(0) @binding(1) var<storage, read_write> idx: array<u32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let t = flat_index(wid, nwg, lid, WORKGROUP_SIZE);
  if (t >= p.half) { return; }
  let low = t & (p.dist - 1u);
  let i = ((t - low) << 1u) | low;
  let j = i | p.dist;
  let ki = keys[i];
  let kj = keys[j];
  let ii = idx[i];
  let ij = idx[j];
  // Does j rank before i?
  let j_first = kj > ki || (kj == ki && ij < ii);
  let forward = (i & p.block) == 0u;
  if (j_first == forward) {
    keys[i] = kj;
    keys[j] = ki;
    idx[i] = ij;
    idx[j] = ii;
  }
}
