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

// Folds elements first, first + step, ... in three levels (runs of FOLD_RUN, runs of those,
// then the rest): an f32 running sum of n terms drifts by up to n ulps (a sum of 2^20 tenths
// came out 1% off), nested runs by about 2 FOLD_RUN + n / FOLD_RUN^2. Compensated (Kahan)
// summation would be tighter, but shader compilers may reassociate it away.
const FOLD_RUN: u32 = 64u;

fn fold_range(base: u32, first: u32, step: u32) -> f32 {
  var acc: f32 = {{INIT}};
  // Copied out of the uniform block once: passing uniform arrays to a function is slow.
  let shape = p.red_shape;
  let strides = p.red_strides;
  let count = select(0u, (p.red_size - first + step - 1u) / step, first < p.red_size);
  var r = first;
  var k = 0u;
  while (k < count) {
    var run2: f32 = {{INIT}};
    let end2 = min(count, k + FOLD_RUN * FOLD_RUN);
    while (k < end2) {
      var run1: f32 = {{INIT}};
      let end1 = min(end2, k + FOLD_RUN);
      for (; k < end1; k++) {
        run1 = combine(run1, x[base + strided_offsets(r, RED_RANK, shape, strides, strides).x]);
        r += step;
      }
      run2 = combine(run2, run1);
    }
    acc = combine(acc, run2);
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
