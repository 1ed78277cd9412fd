// A histogram pass of the exact top-k threshold selection over the candidates only (see
// topk_radix.wgsl): 8-bit digits of the low key bits, then of the position among candidates
// whose key equals state[0] (ties). Returns at once when the selection is decided. Global
// atomics into the 256-bin `hist` (hist[256] holds the candidate count). Grid-stride, no
// barriers; dispatch: [groups, 1, 1] with p.stride = groups * 256.
#include "common"

struct Params {
  /** 0: a digit of the key; 1: a digit of the position, among keys equal to state[0]. */
  by_position: u32,
  shift: u32,
  /** (1 << width) - 1 */
  digit: u32,
  /** The bits fixed by earlier passes (of the key or of the position). */
  fixed: u32,
  stride: u32,
  _p0: u32,
  _p1: u32,
  _p2: u32,
}

@group(0) @binding(0) var<storage, read> cand_key: array<u32>;
@group(0) @binding(1) var<storage, read> cand_pos: array<u32>;
@group(0) @binding(2) var<storage, read> state: array<u32, 4>;
@group(0) @binding(3) var<storage, read_write> hist: array<atomic<u32>>;
@group(0) @binding(4) var<uniform> p: Params;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  if (state[3] != 0u) { return; }
  let key_prefix = state[0];
  let pos_prefix = state[1];
  let count = atomicLoad(&hist[256]);
  for (var j = wid.x * 256u + lid; j < count; j += p.stride) {
    let a = cand_key[j];
    if (p.by_position == 0u) {
      if ((a & p.fixed) == key_prefix) { atomicAdd(&hist[(a >> p.shift) & p.digit], 1u); }
    } else {
      let pos = cand_pos[j];
      if (a == key_prefix && (pos & p.fixed) == pos_prefix) { atomicAdd(&hist[(pos >> p.shift) & p.digit], 1u); }
    }
  }
}
