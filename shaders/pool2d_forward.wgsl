// 2-D max or average pooling over NCHW planes. One invocation per output element.
// Placeholder {{MAX}}: true for max pooling, which also writes the flat in-plane index of the
// chosen input (the first maximum, a NaN counting as the largest) to `argmax`. Average pooling divides by kH*kW
// (padding counts as zeros). Placeholder {{WINDOW}}: the statements that visit the window's
// positions in order (src/backend/webgpu/kernels.ts: poolWindow), written out one by one for
// small windows: a loop over a 2x2 window measured 2x slower on SwiftShader.
// Workgroup WORKGROUP_SIZE; dispatch: fold(ceil(outputs / WORKGROUP_SIZE)).
#include "common"

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read_write> argmax: array<i32>;
@group(0) @binding(3) var<uniform> p: Params;

/** The window so far: the largest value and its flat in-plane index (-1: none yet), and the sum. */
struct Window {
  best: f32,
  index: i32,
  total: f32,
}

/** Visits input (iy, ix) of the plane at `base` (outside the image: padding, skipped). */
fn visit(w: Window, base: u32, iy: i32, ix: i32) -> Window {
  let inside = iy >= 0 && iy < i32(p.in_h) && ix >= 0 && ix < i32(p.in_w);
  let at = select(0, iy * i32(p.in_w) + ix, inside);
  let v = x[base + u32(at)];
  let better = inside && (w.index < 0 || v > w.best || (is_nan(v) && !is_nan(w.best)));
  return Window(select(w.best, v, better), select(w.index, at, better), w.total + select(0.0, v, inside));
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let o = flat_index(wid, nwg, lid, WORKGROUP_SIZE);
  if (o >= p.planes * p.out_h * p.out_w) { return; }
  let ox = o % p.out_w;
  let oy = (o / p.out_w) % p.out_h;
  let base = (o / (p.out_w * p.out_h)) * p.in_h * p.in_w;
  let y0 = i32(oy * p.stride_h) - i32(p.pad_h);
  let x0 = i32(ox * p.stride_w) - i32(p.pad_w);
  var w = Window(0.0, -1, 0.0);
  {{WINDOW}}
  if ({{MAX}}) {
    out[o] = w.best;
    argmax[o] = w.index;
  } else {
    out[o] = w.total / f32(p.k_h * p.k_w);
  }
}
