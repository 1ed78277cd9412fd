// 2-D max or average pooling over NCHW planes. One invocation per output element.
// Placeholder {{MAX}}: true for max pooling, which also writes the flat in-plane index of the
// chosen input to `argmax` (as f32, exact below 2^24). Average pooling divides by kH*kW
// (padding counts as zeros). Workgroup 256; dispatch: fold(ceil(outputs / 256)).
#include "common"

struct Params {
  planes: u32,
  in_h: u32,
  in_w: u32,
  out_h: u32,
  out_w: u32,
  k_h: u32,
  k_w: u32,
  stride_h: u32,
  stride_w: u32,
  pad_h: u32,
  pad_w: u32,
  _p0: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read_write> argmax: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let o = flat_index(wid, nwg, lid, 256u);
  if (o >= p.planes * p.out_h * p.out_w) { return; }
  let ox = o % p.out_w;
  let oy = (o / p.out_w) % p.out_h;
  let plane = o / (p.out_w * p.out_h);
  var best = 0.0;
  var best_index = -1;
  var total = 0.0;
  for (var ky = 0u; ky < p.k_h; ky++) {
    let iy = i32(oy * p.stride_h + ky) - i32(p.pad_h);
    if (iy < 0 || iy >= i32(p.in_h)) { continue; }
    for (var kx = 0u; kx < p.k_w; kx++) {
      let ix = i32(ox * p.stride_w + kx) - i32(p.pad_w);
      if (ix < 0 || ix >= i32(p.in_w)) { continue; }
      let at = iy * i32(p.in_w) + ix;
      let v = x[plane * p.in_h * p.in_w + u32(at)];
      total += v;
      if (best_index < 0 || v > best) {
        best = v;
        best_index = at;
      }
    }
  }
  if ({{MAX}}) {
    out[o] = best;
    argmax[o] = f32(best_index);
  } else {
    out[o] = total / f32(p.k_h * p.k_w);
  }
}
