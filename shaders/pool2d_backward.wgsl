// Gradient of 2-D pooling w.r.t. its input, gathered (no atomics): one invocation per input
// element sums the output gradients of the windows that contain it; for max pooling only the
// windows whose argmax is this element. Placeholder {{MAX}} as in pool2d_forward.
// Workgroup WORKGROUP_SIZE; dispatch: fold(ceil(inputs / WORKGROUP_SIZE)).
#include "common"

@group(0) @binding(0) var<storage, read> dy: array<f32>;
@group(0) @binding(1) var<storage, read> argmax: array<i32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid, WORKGROUP_SIZE);
  if (i >= p.planes * p.in_h * p.in_w) { return; }
  let ix = i32(i % p.in_w);
  let iy = i32((i / p.in_w) % p.in_h);
  let plane = i / (p.in_w * p.in_h);
  let here = iy * i32(p.in_w) + ix;
  // Windows oy with oy*stride - pad <= iy < oy*stride - pad + k.
  let oy0 = max(0, (iy + i32(p.pad_h) - i32(p.k_h) + i32(p.stride_h)) / i32(p.stride_h));
  let oy1 = min(i32(p.out_h) - 1, (iy + i32(p.pad_h)) / i32(p.stride_h));
  let ox0 = max(0, (ix + i32(p.pad_w) - i32(p.k_w) + i32(p.stride_w)) / i32(p.stride_w));
  let ox1 = min(i32(p.out_w) - 1, (ix + i32(p.pad_w)) / i32(p.stride_w));
  var total = 0.0;
  for (var oy = oy0; oy <= oy1; oy++) {
    for (var ox = ox0; ox <= ox1; ox++) {
      let o = (plane * p.out_h + u32(oy)) * p.out_w + u32(ox);
      if ({{MAX}}) {
        if (argmax[o] == here) { total += dy[o]; }
      } else {
        total += dy[o];
      }
    }
  }
  if (!({{MAX}})) { total /= f32(p.k_h * p.k_w); }
  dx[i] = total;
}
