// Threshold top-k: the one pass over every element, the candidates, the check of the bracket,
// and the final fix-up of the candidates' mask.
// - `split` (one dispatch per segment): writes the provisional mask key > HI, counts those keys
//   into ABOVE (one atomic per invocation), and flags, per chunk and invocation, the vec4s
//   that hold candidates (LO <= key <= HI). Chunks of WORKGROUP_SIZE * per vec4s, grid-stride; `at` maps
//   each invocation's per vec4s. Whole vec4s only: the rarely taken code for a partial last
//   one slowed the loop down by about 10%, so `append` does it.
//   Dispatch: up to fold(ceil(ceil(len / 4) / (WORKGROUP_SIZE * per))).
// - `append` (one dispatch per segment, right after its `split`: same grid): appends the
//   flagged vec4s' candidates to their chunk's region of the candidate lists (it starts at the
//   chunk's global position and has room for all of it), one atomic per vec4 on the chunk's
//   own counter (no two cores contend for it); and the split's work for a partial last vec4
//   (buffers are 256-byte padded, so it stays in bounds; its lanes past `len` are ignored).
//   A kernel of its own: inside the streaming loop's kernel this divergent code slowed the pass
//   down by more than this dispatch costs (SwiftShader, fastest of 15: the split with the append
//   inside its loop 3.78 / 12.8 ms at 266k / 1M scores, without it 1.79 / 6.9 ms, the append
//   1.57 / 5.10 ms).
// - `check` (one workgroup of WG, the bindings of the first segment): whether the k-th key lies
//   in [LO, HI], so that REST = k - ABOVE candidates remain to rank; otherwise MISS: the
//   bracket becomes every key, the counts restart, and the first segment's mask becomes 0 and
//   each of its elements a candidate. Dispatch: [1, 1, 1].
// - `fallback` (one dispatch per further segment, after `check`): nothing unless MISS; then the
//   same for its segment. Dispatch: any grid (grid-stride).
// - `scatter` (one dispatch per further segment; topk_select.wgsl does the first): sets the
//   mask of the candidates the selection keeps. Grid-stride over each chunk's region.
//   Dispatch: [g, 1, 1] with stride = g * WORKGROUP_SIZE.
// SwiftShader runs both sides of every `if` (masked) and skips only loops that no lane enters,
// so rare work sits in loops.
#include "topk_common"

/**
 * 4 on CPU-emulated GPUs (SwiftShader's SIMD width), else 256: the invocations of `check` (one
 * SIMD group there, so barriers cost no fiber switches) and the grouping of `at`.
 */
const WG = {{WG}}u;

// The uniform block p (struct Params, generated from the layout in src/backend/webgpu/kernels.ts):
//   offset: The segment's global position.
//   chunk0: The global index of the segment's first chunk (its candidate count is COUNTS + chunk0).
//   per: vec4s per invocation and chunk (<= 32): chunks of 4 * WORKGROUP_SIZE * per elements.
//   k: `check`: k and the number of chunks of all segments.
//   stride: `scatter`: the grid stride.

@group(0) @binding(0) var<storage, read> x: array<vec4<u32>>;
@group(0) @binding(1) var<storage, read_write> out: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> cand_key: array<u32>;
@group(0) @binding(3) var<storage, read_write> cand_pos: array<u32>;
@group(0) @binding(4) var<storage, read_write> work: array<atomic<u32>>;
/** Per chunk and invocation of `split`: which of its vec4s hold candidates (bit t: the t-th). */
@group(0) @binding(5) var<storage, read_write> flags: array<u32>;
@group(0) @binding(6) var<uniform> p: Params;

/** The mask of vec4 i (lanes outside `valid` are 0); returns its keys > hi and whether it holds a candidate. */
fn visit(i: u32, valid: vec4<bool>, lo: u32, hi: u32) -> vec2<u32> {
  let a = x[i] & vec4(0x7fffffffu);
  let up = (a > vec4(hi)) & valid;
  out[i] = select(vec4(0.0), vec4(1.0), up);
  let n = select(vec4(0u), vec4(1u), up);
  return vec2(n.x + n.y + n.z + n.w, select(0u, 1u, any((a >= vec4(lo)) & !up & valid)));
}

/** Appends the keys `a` (positions `pos` in the segment) where n is 1 to the region of chunk c; one atomic reserves their slots. */
fn put(c: u32, a: vec4<u32>, pos: vec4<u32>, n: vec4<u32>) {
  var j = p.offset + c * 4u * WORKGROUP_SIZE * p.per + atomicAdd(&work[COUNTS + p.chunk0 + c], n.x + n.y + n.z + n.w);
  if (n.x != 0u) { cand_key[j] = a.x; cand_pos[j] = p.offset + pos.x; }
  j += n.x;
  if (n.y != 0u) { cand_key[j] = a.y; cand_pos[j] = p.offset + pos.y; }
  j += n.y;
  if (n.z != 0u) { cand_key[j] = a.z; cand_pos[j] = p.offset + pos.z; }
  j += n.z;
  if (n.w != 0u) { cand_key[j] = a.w; cand_pos[j] = p.offset + pos.w; }
}

/**
 * The t-th vec4 of invocation `lid` in chunk c. Invocations in groups of WG: CPU-emulated GPUs
 * run the 4 lanes of a SIMD group to the end before the next group, so each group streams
 * through consecutive memory; on a real GPU (WG = 256) consecutive invocations read
 * consecutive vec4s (coalesced).
 */
fn at(c: u32, lid: u32, t: u32) -> u32 {
  return c * WORKGROUP_SIZE * p.per + (lid / WG) * WG * p.per + t * WG + lid % WG;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn split(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
         @builtin(local_invocation_index) lid: u32) {
  _ = &cand_key;
  _ = &cand_pos;
  let hi = atomicLoad(&work[HI]);
  let lo = atomicLoad(&work[LO]);
  let full = p.len / 4u; // whole vec4s; `append` does the partial one when len % 4 != 0
  let size = WORKGROUP_SIZE * p.per;
  let chunks = (p.len + 4u * size - 1u) / (4u * size);
  var above = 0u;
  for (var c = wid.y * nwg.x + wid.x; c < chunks; c += nwg.x * nwg.y) {
    var flagged = 0u; // bit t: the t-th vec4 of this invocation in the chunk holds a candidate
    for (var t = 0u; t < p.per; t++) {
      let i = at(c, lid, t);
      if (i >= full) { break; }
      let r = visit(i, vec4(true), lo, hi);
      above += r.x;
      flagged |= r.y << t;
    }
    flags[c * WORKGROUP_SIZE + lid] = flagged;
  }
  if (above > 0u) { atomicAdd(&work[ABOVE], above); }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn append(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
          @builtin(local_invocation_index) lid: u32) {
  let hi = atomicLoad(&work[HI]);
  let lo = atomicLoad(&work[LO]);
  let full = p.len / 4u;
  let size = WORKGROUP_SIZE * p.per;
  let chunks = (p.len + 4u * size - 1u) / (4u * size);
  for (var c = wid.y * nwg.x + wid.x; c < chunks; c += nwg.x * nwg.y) {
    var flagged = flags[c * WORKGROUP_SIZE + lid];
    while (flagged != 0u) {
      let i = at(c, lid, firstTrailingBit(flagged));
      flagged &= flagged - 1u;
      let a = x[i] & vec4(0x7fffffffu);
      let pos = vec4(i * 4u) + vec4(0u, 1u, 2u, 3u);
      put(c, a, pos, select(vec4(0u), vec4(1u), (a >= vec4(lo)) & (a <= vec4(hi))));
    }
    // The partial last vec4 (the split skipped it): its mask, count and candidates, by its
    // owner, in a loop that the SIMD groups without it skip.
    let rel = full - c * size;
    let owner = full * 4u != p.len && full / size == c && at(c, lid, rel % (WG * p.per) / WG) == full;
    for (var i = full; owner && i == full; i++) {
      let valid = vec4(i * 4u) + vec4(0u, 1u, 2u, 3u) < vec4(p.len);
      let r = visit(i, valid, lo, hi);
      if (r.x > 0u) { atomicAdd(&work[ABOVE], r.x); }
      let a = x[i] & vec4(0x7fffffffu);
      put(c, a, vec4(i * 4u) + vec4(0u, 1u, 2u, 3u), select(vec4(0u), vec4(1u), (a >= vec4(lo)) & (a <= vec4(hi)) & valid));
    }
  }
}

/** After a MISS: chunk c's mask is 0 and each of its elements a candidate (vec4s lane, lane + lanes, ...). */
fn redo(c: u32, lane: u32, lanes: u32) {
  let size = WORKGROUP_SIZE * p.per;
  let vecs = (p.len + 3u) / 4u;
  for (var i = c * size + lane; i < min(c * size + size, vecs); i += lanes) {
    out[i] = vec4(0.0);
    let pos = vec4(i * 4u) + vec4(0u, 1u, 2u, 3u);
    put(c, x[i] & vec4(0x7fffffffu), pos, select(vec4(0u), vec4(1u), pos < vec4(p.len)));
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn fallback(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) lid: u32) {
  _ = &flags;
  if (atomicLoad(&work[MISS]) == 0u) { return; }
  let chunks = (p.len + 4u * WORKGROUP_SIZE * p.per - 1u) / (4u * WORKGROUP_SIZE * p.per);
  for (var c = wid.y * nwg.x + wid.x; c < chunks; c += nwg.x * nwg.y) { redo(c, lid, WORKGROUP_SIZE); }
}

var<workgroup> missed: u32;

@compute @workgroup_size(WG)
fn check(@builtin(local_invocation_index) lid: u32) {
  _ = &flags;
  if (lid == 0u) {
    var candidates = 0u;
    for (var c = 0u; c < p.chunks; c++) { candidates += atomicLoad(&work[COUNTS + c]); }
    let above = atomicLoad(&work[ABOVE]);
    var miss = 0u;
    if (above >= p.k || p.k - above > candidates) {
      miss = 1u;
      atomicStore(&work[MISS], 1u);
      atomicStore(&work[HI], 0x7fffffffu);
      atomicStore(&work[LO], 0u);
      atomicStore(&work[ABOVE], 0u);
      atomicStore(&work[KEY_BITS], 31u);
      atomicStore(&work[T_KEY], 0u);
      for (var c = 0u; c < p.chunks; c++) { atomicStore(&work[COUNTS + c], 0u); }
    }
    atomicStore(&work[REST], p.k - atomicLoad(&work[ABOVE]));
    missed = miss;
  }
  // The first segment's fallback pass (rare: one workgroup is enough), after the counts restart.
  if (workgroupUniformLoad(&missed) != 0u) {
    storageBarrier();
    let chunks = (p.len + 4u * WORKGROUP_SIZE * p.per - 1u) / (4u * WORKGROUP_SIZE * p.per);
    for (var c = 0u; c < chunks; c++) { redo(c, lid, WG); }
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn scatter(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  _ = x[0];
  _ = &flags;
  let t_key = atomicLoad(&work[T_KEY]);
  let t_pos = atomicLoad(&work[T_POS]);
  let size = WORKGROUP_SIZE * p.per;
  let chunks = (p.len + 4u * size - 1u) / (4u * size);
  for (var c = 0u; c < chunks; c++) {
    let base = p.offset + c * size * 4u;
    let count = atomicLoad(&work[COUNTS + p.chunk0 + c]);
    for (var j = wid.x * WORKGROUP_SIZE + lid; j < count; j += p.stride) {
      let key = cand_key[base + j];
      let pos = cand_pos[base + j];
      if (key > t_key || (key == t_key && pos <= t_pos)) {
        let i = pos - p.offset;
        out[i / 4u][i % 4u] = 1.0;
      }
    }
  }
}
