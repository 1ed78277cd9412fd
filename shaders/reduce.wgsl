// Reduction of the `red` dims of x for each position of the `kept` dims (dims already merged
// where contiguous by the engine). Two entry points:
// - `main`: one workgroup of 64 per output; each invocation folds a strided share of the
//   reduced elements, then a tree in workgroup memory combines them. For few, long reductions
//   on real GPUs. Dispatch: fold(outSize).
// - `main_serial`: one invocation per output, no barriers (barriers are very slow on
//   SwiftShader, and many short reductions need none). Dispatch: fold(ceil(outSize / 64)).
// Placeholders: {{COMBINE}} (an expression in `acc`, `v`), {{INIT}} (the identity).
#include "common"

struct Params {
  out_size: u32,
  red_size: u32,
  kept_rank: u32,
  red_rank: u32,
  kept_shape: Dims,
  kept_strides: Dims,
  red_shape: Dims,
  red_strides: Dims,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

var<workgroup> partial: array<f32, 64>;

fn combine(acc: f32, v: f32) -> f32 {
  return {{COMBINE}};
}

fn offset_of(index: u32, rank: u32, shape: Dims, strides: Dims) -> u32 {
  var off = 0u;
  var rest = index;
  for (var d = i32(rank) - 1; d >= 0; d--) {
    let extent = dim_at(shape, u32(d));
    off += (rest % extent) * dim_at(strides, u32(d));
    rest = rest / extent;
  }
  return off;
}

fn fold_range(base: u32, first: u32, step: u32) -> f32 {
  var acc: f32 = {{INIT}};
  if (p.red_rank == 1u) {
    let stride = dim_at(p.red_strides, 0u);
    for (var r = first; r < p.red_size; r += step) { acc = combine(acc, x[base + r * stride]); }
  } else {
    for (var r = first; r < p.red_size; r += step) {
      acc = combine(acc, x[base + offset_of(r, p.red_rank, p.red_shape, p.red_strides)]);
    }
  }
  return acc;
}

@compute @workgroup_size(64)
fn main_serial(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
  let o = flat_index(wid, nwg, lid, 64u);
  if (o >= p.out_size) { return; }
  out[o] = fold_range(offset_of(o, p.kept_rank, p.kept_shape, p.kept_strides), 0u, 1u);
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  // o is the same for the whole workgroup, so this early return keeps barriers uniform.
  let o = wid.y * nwg.x + wid.x;
  if (o >= p.out_size) { return; }
  partial[lid] = fold_range(offset_of(o, p.kept_rank, p.kept_shape, p.kept_strides), lid, 64u);
  workgroupBarrier();
  for (var width = 32u; width > 0u; width = width >> 1u) {
    if (lid < width) { partial[lid] = combine(partial[lid], partial[lid + width]); }
    workgroupBarrier();
  }
  if (lid == 0u) { out[o] = partial[0]; }
}
