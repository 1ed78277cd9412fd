// Reduction of the `red` dims of x for each position of the `kept` dims (dims already merged
// where contiguous by the engine). Two entry points:
// - `main`: one workgroup of WORKGROUP_SIZE per output; each invocation folds a strided share of the
//   reduced elements, then a tree in workgroup memory combines them. For few, long reductions
//   on real GPUs. Dispatch: fold(outSize).
// - `main_serial`: one invocation per output, no barriers (barriers are very slow on
//   SwiftShader, and many short reductions need none). Dispatch: fold(ceil(outSize / WORKGROUP_SIZE)).
// Placeholders: {{COMBINE}} (an expression in `acc`, `v`), {{INIT}} (the identity),
// {{KEPT_RANK}} and {{RED_RANK}} (ranks of the merged kept and reduced dims).
#include "common"

const KEPT_RANK: u32 = {{KEPT_RANK}}u;
const RED_RANK: u32 = {{RED_RANK}}u;

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

var<workgroup> partial: array<f32, WORKGROUP_SIZE>;

fn combine(acc: f32, v: f32) -> f32 {
  return {{COMBINE}};
}

fn fold_range(base: u32, first: u32, step: u32) -> f32 {
  var acc: f32 = {{INIT}};
  // Copied out of the uniform block once: passing uniform arrays to a function is slow.
  let shape = p.red_shape;
  let strides = p.red_strides;
  for (var r = first; r < p.red_size; r += step) {
    acc = combine(acc, x[base + strided_offsets(r, RED_RANK, shape, strides, strides).x]);
  }
  return acc;
}

fn kept_offset(o: u32) -> u32 {
  let shape = p.kept_shape;
  let strides = p.kept_strides;
  return strided_offsets(o, KEPT_RANK, shape, strides, strides).x;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main_serial(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
  let o = flat_index(wid, nwg, lid, WORKGROUP_SIZE);
  if (o >= p.out_size) { return; }
  out[o] = fold_range(kept_offset(o), 0u, 1u);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  // o is the same for the whole workgroup, so this early return keeps barriers uniform.
  let o = wid.y * nwg.x + wid.x;
  if (o >= p.out_size) { return; }
  partial[lid] = fold_range(kept_offset(o), lid, WORKGROUP_SIZE);
  workgroupBarrier();
  for (var width = WORKGROUP_SIZE / 2u; width > 0u; width = width >> 1u) {
    if (lid < width) { partial[lid] = combine(partial[lid], partial[lid + width]); }
    workgroupBarrier();
  }
  if (lid == 0u) { out[o] = partial[0]; }
}
