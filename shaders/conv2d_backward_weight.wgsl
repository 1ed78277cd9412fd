// conv2d backward w.r.t. weight, NCHW: dw[o,c,ky,kx] = sum_{n,oy,ox} dy[n,o,oy,ox] * x[n,c,oy*sH-pH+ky, ox*sW-pW+kx]
// (zero padding). Any kernel, stride, padding. Single pass, every dw element is overwritten.
// Workgroup size 16 (1-D). One invocation computes 8 output channels x 8 input channels at one (ky,kx) tap
// (64 outputs) and runs the whole batch*outH*outW reduction itself (loops n, oy, ox).
// Invocation index g (over x) = cblock * (kH*kW) + (ky*kW + kx), cblock = c / 8; workgroup y = o / 8.
// Dispatch: gx = ceil(ceil(inC / 8) * kH * kW / 16); dispatchWorkgroups(gx, ceil(outC / 8), 1)
//           (gx > 65535 only for > 8.3M (channel-block, tap) pairs; fold into z like the other kernels:
//           dispatchWorkgroups(65535, ceil(outC / 8), ceil(gx / 65535))). No template placeholders.
struct ConvParams { batch: u32, inC: u32, inH: u32, inW: u32, outC: u32, kH: u32, kW: u32, outH: u32, outW: u32, strideH: u32, strideW: u32, padH: u32, padW: u32, _p0: u32, _p1: u32, _p2: u32 };
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> dw: array<f32>;
@group(0) @binding(3) var<uniform> p: ConvParams;
@compute @workgroup_size(16, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32, @builtin(num_workgroups) nwg: vec3<u32>) {
  let C = p.inC; let H = p.inH; let W = p.inW; let O = p.outC; let OH = p.outH; let OW = p.outW; let KW = p.kW; let KK = p.kH * p.kW;
  let HW = H * W; let OHW = OH * OW;
  let g = (wid.x + wid.z * nwg.x) * 16u + lid;
  let CB = (C + 7u) / 8u;
  if (g >= CB * KK) { return; }
  let kk = g % KK; let c0 = (g / KK) * 8u; let ky = kk / KW; let kx = kk - ky * KW;
  let o0 = wid.y * 8u;
  let ob0 = min(o0 + 0u, O - 1u) * OHW;
  let ob1 = min(o0 + 1u, O - 1u) * OHW;
  let ob2 = min(o0 + 2u, O - 1u) * OHW;
  let ob3 = min(o0 + 3u, O - 1u) * OHW;
  let ob4 = min(o0 + 4u, O - 1u) * OHW;
  let ob5 = min(o0 + 5u, O - 1u) * OHW;
  let ob6 = min(o0 + 6u, O - 1u) * OHW;
  let ob7 = min(o0 + 7u, O - 1u) * OHW;
  let cb0 = min(c0 + 0u, C - 1u) * HW;
  let cb1 = min(c0 + 1u, C - 1u) * HW;
  let cb2 = min(c0 + 2u, C - 1u) * HW;
  let cb3 = min(c0 + 3u, C - 1u) * HW;
  let cb4 = min(c0 + 4u, C - 1u) * HW;
  let cb5 = min(c0 + 5u, C - 1u) * HW;
  let cb6 = min(c0 + 6u, C - 1u) * HW;
  let cb7 = min(c0 + 7u, C - 1u) * HW;
  var acc0_0 = 0.0;
  var acc0_1 = 0.0;
  var acc0_2 = 0.0;
  var acc0_3 = 0.0;
  var acc0_4 = 0.0;
  var acc0_5 = 0.0;
  var acc0_6 = 0.0;
  var acc0_7 = 0.0;
  var acc1_0 = 0.0;
  var acc1_1 = 0.0;
  var acc1_2 = 0.0;
  var acc1_3 = 0.0;
  var acc1_4 = 0.0;
  var acc1_5 = 0.0;
  var acc1_6 = 0.0;
  var acc1_7 = 0.0;
  var acc2_0 = 0.0;
  var acc2_1 = 0.0;
  var acc2_2 = 0.0;
  var acc2_3 = 0.0;
  var acc2_4 = 0.0;
  var acc2_5 = 0.0;
  var acc2_6 = 0.0;
  var acc2_7 = 0.0;
  var acc3_0 = 0.0;
  var acc3_1 = 0.0;
  var acc3_2 = 0.0;
  var acc3_3 = 0.0;
  var acc3_4 = 0.0;
  var acc3_5 = 0.0;
  var acc3_6 = 0.0;
  var acc3_7 = 0.0;
  var acc4_0 = 0.0;
  var acc4_1 = 0.0;
  var acc4_2 = 0.0;
  var acc4_3 = 0.0;
  var acc4_4 = 0.0;
  var acc4_5 = 0.0;
  var acc4_6 = 0.0;
  var acc4_7 = 0.0;
  var acc5_0 = 0.0;
  var acc5_1 = 0.0;
  var acc5_2 = 0.0;
  var acc5_3 = 0.0;
  var acc5_4 = 0.0;
  var acc5_5 = 0.0;
  var acc5_6 = 0.0;
  var acc5_7 = 0.0;
  var acc6_0 = 0.0;
  var acc6_1 = 0.0;
  var acc6_2 = 0.0;
  var acc6_3 = 0.0;
  var acc6_4 = 0.0;
  var acc6_5 = 0.0;
  var acc6_6 = 0.0;
  var acc6_7 = 0.0;
  var acc7_0 = 0.0;
  var acc7_1 = 0.0;
  var acc7_2 = 0.0;
  var acc7_3 = 0.0;
  var acc7_4 = 0.0;
  var acc7_5 = 0.0;
  var acc7_6 = 0.0;
  var acc7_7 = 0.0;
  let ix0 = i32(kx) - i32(p.padW);
  for (var n = 0u; n < p.batch; n = n + 1u) {
  for (var oy = 0u; oy < OH; oy = oy + 1u) {
    let iy = i32(oy * p.strideH + ky) - i32(p.padH);
    if (u32(iy) < H) {
    let xrow = n * C * HW + u32(iy) * W; let drow = n * O * OHW + oy * OW;
    for (var ox = 0u; ox < OW; ox = ox + 1u) {
      let ix = ix0 + i32(ox * p.strideW); let v = u32(ix) < W;
      let xo = select(0u, xrow + u32(ix), v); let d = drow + ox;
      let xv0 = select(0.0, x[xo + cb0], v);
      let xv1 = select(0.0, x[xo + cb1], v);
      let xv2 = select(0.0, x[xo + cb2], v);
      let xv3 = select(0.0, x[xo + cb3], v);
      let xv4 = select(0.0, x[xo + cb4], v);
      let xv5 = select(0.0, x[xo + cb5], v);
      let xv6 = select(0.0, x[xo + cb6], v);
      let xv7 = select(0.0, x[xo + cb7], v);
      let dv0 = dy[d + ob0];
      acc0_0 = fma(dv0, xv0, acc0_0);
      acc0_1 = fma(dv0, xv1, acc0_1);
      acc0_2 = fma(dv0, xv2, acc0_2);
      acc0_3 = fma(dv0, xv3, acc0_3);
      acc0_4 = fma(dv0, xv4, acc0_4);
      acc0_5 = fma(dv0, xv5, acc0_5);
      acc0_6 = fma(dv0, xv6, acc0_6);
      acc0_7 = fma(dv0, xv7, acc0_7);
      let dv1 = dy[d + ob1];
      acc1_0 = fma(dv1, xv0, acc1_0);
      acc1_1 = fma(dv1, xv1, acc1_1);
      acc1_2 = fma(dv1, xv2, acc1_2);
      acc1_3 = fma(dv1, xv3, acc1_3);
      acc1_4 = fma(dv1, xv4, acc1_4);
      acc1_5 = fma(dv1, xv5, acc1_5);
      acc1_6 = fma(dv1, xv6, acc1_6);
      acc1_7 = fma(dv1, xv7, acc1_7);
      let dv2 = dy[d + ob2];
      acc2_0 = fma(dv2, xv0, acc2_0);
      acc2_1 = fma(dv2, xv1, acc2_1);
      acc2_2 = fma(dv2, xv2, acc2_2);
      acc2_3 = fma(dv2, xv3, acc2_3);
      acc2_4 = fma(dv2, xv4, acc2_4);
      acc2_5 = fma(dv2, xv5, acc2_5);
      acc2_6 = fma(dv2, xv6, acc2_6);
      acc2_7 = fma(dv2, xv7, acc2_7);
      let dv3 = dy[d + ob3];
      acc3_0 = fma(dv3, xv0, acc3_0);
      acc3_1 = fma(dv3, xv1, acc3_1);
      acc3_2 = fma(dv3, xv2, acc3_2);
      acc3_3 = fma(dv3, xv3, acc3_3);
      acc3_4 = fma(dv3, xv4, acc3_4);
      acc3_5 = fma(dv3, xv5, acc3_5);
      acc3_6 = fma(dv3, xv6, acc3_6);
      acc3_7 = fma(dv3, xv7, acc3_7);
      let dv4 = dy[d + ob4];
      acc4_0 = fma(dv4, xv0, acc4_0);
      acc4_1 = fma(dv4, xv1, acc4_1);
      acc4_2 = fma(dv4, xv2, acc4_2);
      acc4_3 = fma(dv4, xv3, acc4_3);
      acc4_4 = fma(dv4, xv4, acc4_4);
      acc4_5 = fma(dv4, xv5, acc4_5);
      acc4_6 = fma(dv4, xv6, acc4_6);
      acc4_7 = fma(dv4, xv7, acc4_7);
      let dv5 = dy[d + ob5];
      acc5_0 = fma(dv5, xv0, acc5_0);
      acc5_1 = fma(dv5, xv1, acc5_1);
      acc5_2 = fma(dv5, xv2, acc5_2);
      acc5_3 = fma(dv5, xv3, acc5_3);
      acc5_4 = fma(dv5, xv4, acc5_4);
      acc5_5 = fma(dv5, xv5, acc5_5);
      acc5_6 = fma(dv5, xv6, acc5_6);
      acc5_7 = fma(dv5, xv7, acc5_7);
      let dv6 = dy[d + ob6];
      acc6_0 = fma(dv6, xv0, acc6_0);
      acc6_1 = fma(dv6, xv1, acc6_1);
      acc6_2 = fma(dv6, xv2, acc6_2);
      acc6_3 = fma(dv6, xv3, acc6_3);
      acc6_4 = fma(dv6, xv4, acc6_4);
      acc6_5 = fma(dv6, xv5, acc6_5);
      acc6_6 = fma(dv6, xv6, acc6_6);
      acc6_7 = fma(dv6, xv7, acc6_7);
      let dv7 = dy[d + ob7];
      acc7_0 = fma(dv7, xv0, acc7_0);
      acc7_1 = fma(dv7, xv1, acc7_1);
      acc7_2 = fma(dv7, xv2, acc7_2);
      acc7_3 = fma(dv7, xv3, acc7_3);
      acc7_4 = fma(dv7, xv4, acc7_4);
      acc7_5 = fma(dv7, xv5, acc7_5);
      acc7_6 = fma(dv7, xv6, acc7_6);
      acc7_7 = fma(dv7, xv7, acc7_7);
    }
    }
  }
  }
  if (o0 + 0u < O) {
    if (c0 + 0u < C) { dw[((o0 + 0u) * C + c0 + 0u) * KK + kk] = acc0_0; }
    if (c0 + 1u < C) { dw[((o0 + 0u) * C + c0 + 1u) * KK + kk] = acc0_1; }
    if (c0 + 2u < C) { dw[((o0 + 0u) * C + c0 + 2u) * KK + kk] = acc0_2; }
    if (c0 + 3u < C) { dw[((o0 + 0u) * C + c0 + 3u) * KK + kk] = acc0_3; }
    if (c0 + 4u < C) { dw[((o0 + 0u) * C + c0 + 4u) * KK + kk] = acc0_4; }
    if (c0 + 5u < C) { dw[((o0 + 0u) * C + c0 + 5u) * KK + kk] = acc0_5; }
    if (c0 + 6u < C) { dw[((o0 + 0u) * C + c0 + 6u) * KK + kk] = acc0_6; }
    if (c0 + 7u < C) { dw[((o0 + 0u) * C + c0 + 7u) * KK + kk] = acc0_7; }
  }
  if (o0 + 1u < O) {
    if (c0 + 0u < C) { dw[((o0 + 1u) * C + c0 + 0u) * KK + kk] = acc1_0; }
    if (c0 + 1u < C) { dw[((o0 + 1u) * C + c0 + 1u) * KK + kk] = acc1_1; }
    if (c0 + 2u < C) { dw[((o0 + 1u) * C + c0 + 2u) * KK + kk] = acc1_2; }
    if (c0 + 3u < C) { dw[((o0 + 1u) * C + c0 + 3u) * KK + kk] = acc1_3; }
    if (c0 + 4u < C) { dw[((o0 + 1u) * C + c0 + 4u) * KK + kk] = acc1_4; }
    if (c0 + 5u < C) { dw[((o0 + 1u) * C + c0 + 5u) * KK + kk] = acc1_5; }
    if (c0 + 6u < C) { dw[((o0 + 1u) * C + c0 + 6u) * KK + kk] = acc1_6; }
    if (c0 + 7u < C) { dw[((o0 + 1u) * C + c0 + 7u) * KK + kk] = acc1_7; }
  }
  if (o0 + 2u < O) {
    if (c0 + 0u < C) { dw[((o0 + 2u) * C + c0 + 0u) * KK + kk] = acc2_0; }
    if (c0 + 1u < C) { dw[((o0 + 2u) * C + c0 + 1u) * KK + kk] = acc2_1; }
    if (c0 + 2u < C) { dw[((o0 + 2u) * C + c0 + 2u) * KK + kk] = acc2_2; }
    if (c0 + 3u < C) { dw[((o0 + 2u) * C + c0 + 3u) * KK + kk] = acc2_3; }
    if (c0 + 4u < C) { dw[((o0 + 2u) * C + c0 + 4u) * KK + kk] = acc2_4; }
    if (c0 + 5u < C) { dw[((o0 + 2u) * C + c0 + 5u) * KK + kk] = acc2_5; }
    if (c0 + 6u < C) { dw[((o0 + 2u) * C + c0 + 6u) * KK + kk] = acc2_6; }
    if (c0 + 7u < C) { dw[((o0 + 2u) * C + c0 + 7u) * KK + kk] = acc2_7; }
  }
  if (o0 + 3u < O) {
    if (c0 + 0u < C) { dw[((o0 + 3u) * C + c0 + 0u) * KK + kk] = acc3_0; }
    if (c0 + 1u < C) { dw[((o0 + 3u) * C + c0 + 1u) * KK + kk] = acc3_1; }
    if (c0 + 2u < C) { dw[((o0 + 3u) * C + c0 + 2u) * KK + kk] = acc3_2; }
    if (c0 + 3u < C) { dw[((o0 + 3u) * C + c0 + 3u) * KK + kk] = acc3_3; }
    if (c0 + 4u < C) { dw[((o0 + 3u) * C + c0 + 4u) * KK + kk] = acc3_4; }
    if (c0 + 5u < C) { dw[((o0 + 3u) * C + c0 + 5u) * KK + kk] = acc3_5; }
    if (c0 + 6u < C) { dw[((o0 + 3u) * C + c0 + 6u) * KK + kk] = acc3_6; }
    if (c0 + 7u < C) { dw[((o0 + 3u) * C + c0 + 7u) * KK + kk] = acc3_7; }
  }
  if (o0 + 4u < O) {
    if (c0 + 0u < C) { dw[((o0 + 4u) * C + c0 + 0u) * KK + kk] = acc4_0; }
    if (c0 + 1u < C) { dw[((o0 + 4u) * C + c0 + 1u) * KK + kk] = acc4_1; }
    if (c0 + 2u < C) { dw[((o0 + 4u) * C + c0 + 2u) * KK + kk] = acc4_2; }
    if (c0 + 3u < C) { dw[((o0 + 4u) * C + c0 + 3u) * KK + kk] = acc4_3; }
    if (c0 + 4u < C) { dw[((o0 + 4u) * C + c0 + 4u) * KK + kk] = acc4_4; }
    if (c0 + 5u < C) { dw[((o0 + 4u) * C + c0 + 5u) * KK + kk] = acc4_5; }
    if (c0 + 6u < C) { dw[((o0 + 4u) * C + c0 + 6u) * KK + kk] = acc4_6; }
    if (c0 + 7u < C) { dw[((o0 + 4u) * C + c0 + 7u) * KK + kk] = acc4_7; }
  }
  if (o0 + 5u < O) {
    if (c0 + 0u < C) { dw[((o0 + 5u) * C + c0 + 0u) * KK + kk] = acc5_0; }
    if (c0 + 1u < C) { dw[((o0 + 5u) * C + c0 + 1u) * KK + kk] = acc5_1; }
    if (c0 + 2u < C) { dw[((o0 + 5u) * C + c0 + 2u) * KK + kk] = acc5_2; }
    if (c0 + 3u < C) { dw[((o0 + 5u) * C + c0 + 3u) * KK + kk] = acc5_3; }
    if (c0 + 4u < C) { dw[((o0 + 5u) * C + c0 + 4u) * KK + kk] = acc5_4; }
    if (c0 + 5u < C) { dw[((o0 + 5u) * C + c0 + 5u) * KK + kk] = acc5_5; }
    if (c0 + 6u < C) { dw[((o0 + 5u) * C + c0 + 6u) * KK + kk] = acc5_6; }
    if (c0 + 7u < C) { dw[((o0 + 5u) * C + c0 + 7u) * KK + kk] = acc5_7; }
  }
  if (o0 + 6u < O) {
    if (c0 + 0u < C) { dw[((o0 + 6u) * C + c0 + 0u) * KK + kk] = acc6_0; }
    if (c0 + 1u < C) { dw[((o0 + 6u) * C + c0 + 1u) * KK + kk] = acc6_1; }
    if (c0 + 2u < C) { dw[((o0 + 6u) * C + c0 + 2u) * KK + kk] = acc6_2; }
    if (c0 + 3u < C) { dw[((o0 + 6u) * C + c0 + 3u) * KK + kk] = acc6_3; }
    if (c0 + 4u < C) { dw[((o0 + 6u) * C + c0 + 4u) * KK + kk] = acc6_4; }
    if (c0 + 5u < C) { dw[((o0 + 6u) * C + c0 + 5u) * KK + kk] = acc6_5; }
    if (c0 + 6u < C) { dw[((o0 + 6u) * C + c0 + 6u) * KK + kk] = acc6_6; }
    if (c0 + 7u < C) { dw[((o0 + 6u) * C + c0 + 7u) * KK + kk] = acc6_7; }
  }
  if (o0 + 7u < O) {
    if (c0 + 0u < C) { dw[((o0 + 7u) * C + c0 + 0u) * KK + kk] = acc7_0; }
    if (c0 + 1u < C) { dw[((o0 + 7u) * C + c0 + 1u) * KK + kk] = acc7_1; }
    if (c0 + 2u < C) { dw[((o0 + 7u) * C + c0 + 2u) * KK + kk] = acc7_2; }
    if (c0 + 3u < C) { dw[((o0 + 7u) * C + c0 + 3u) * KK + kk] = acc7_3; }
    if (c0 + 4u < C) { dw[((o0 + 7u) * C + c0 + 4u) * KK + kk] = acc7_4; }
    if (c0 + 5u < C) { dw[((o0 + 7u) * C + c0 + 5u) * KK + kk] = acc7_5; }
    if (c0 + 6u < C) { dw[((o0 + 7u) * C + c0 + 6u) * KK + kk] = acc7_6; }
    if (c0 + 7u < C) { dw[((o0 + 7u) * C + c0 + 7u) * KK + kk] = acc7_7; }
  }
}
