// The full-data passes of the exact top-k threshold selection (topk.ts, method 'threshold').
//
// Keys are the float bits without the sign (`bits & 0x7fffffff`, monotone in |v|). The radix
// select fixes the k-th largest composite key (key, then inverted global position) digit by
// digit; its state stays on the GPU (see topk_radix_scan.wgsl for the layout). Only two passes
// read every element (one dispatch per segment each, with the segment's global position
// `offset`: global scope never copies the segments):
// - `wide`: a 65536-bin histogram of the top 16 key bits (bits 30..15), global atomics.
// - `compact`: once the scan fixed those 16 bits, appends the (key, position) of every element
//   in the chosen bin to the candidate lists; the remaining passes run on candidates only.
// Each invocation handles 4 consecutive elements (a vec4 load; buffers are 256-byte padded).
// Dispatch: fold(ceil(len / 1024)).
#include "common"

struct Params {
  len: u32,
  offset: u32,
  _p0: u32,
  _p1: u32,
}

@group(0) @binding(0) var<storage, read> x: array<vec4<u32>>;
@group(0) @binding(1) var<storage, read> state: array<u32, 4>;
@group(0) @binding(2) var<storage, read_write> wide: array<atomic<u32>>;
@group(0) @binding(3) var<storage, read_write> hist: array<atomic<u32>>;
@group(0) @binding(4) var<storage, read_write> cand_key: array<u32>;
@group(0) @binding(5) var<storage, read_write> cand_pos: array<u32>;
@group(0) @binding(6) var<uniform> p: Params;

/** hist[256]: the number of candidates. */
const COUNT = 256u;

@compute @workgroup_size(256)
fn main_wide(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) lid: u32) {
  _ = state[0];
  _ = &hist;
  _ = &cand_key;
  _ = &cand_pos;
  let i = flat_index(wid, nwg, lid, 256u);
  let first = i * 4u;
  if (first >= p.len) { return; }
  let b = (x[i] & vec4(0x7fffffffu)) >> vec4(15u);
  atomicAdd(&wide[b.x], 1u);
  if (first + 3u < p.len) {
    atomicAdd(&wide[b.y], 1u);
    atomicAdd(&wide[b.z], 1u);
    atomicAdd(&wide[b.w], 1u);
  } else {
    if (first + 1u < p.len) { atomicAdd(&wide[b.y], 1u); }
    if (first + 2u < p.len) { atomicAdd(&wide[b.z], 1u); }
  }
}

fn append(a: u32, pos: u32) {
  let j = atomicAdd(&hist[COUNT], 1u);
  cand_key[j] = a;
  cand_pos[j] = pos;
}

@compute @workgroup_size(256)
fn main_compact(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
  _ = &wide;
  if (state[3] != 0u) { return; }
  let i = flat_index(wid, nwg, lid, 256u);
  let first = i * 4u;
  if (first >= p.len) { return; }
  let a = x[i] & vec4(0x7fffffffu);
  let hit = (a >> vec4(15u)) == vec4(state[0] >> 15u);
  if (!any(hit)) { return; }
  let pos = p.offset + first;
  if (hit.x) { append(a.x, pos); }
  if (hit.y && first + 1u < p.len) { append(a.y, pos + 1u); }
  if (hit.z && first + 2u < p.len) { append(a.z, pos + 2u); }
  if (hit.w && first + 3u < p.len) { append(a.w, pos + 3u); }
}
