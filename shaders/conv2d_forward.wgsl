// conv2d forward, NCHW, no bias: y[n,o,oy,ox] = sum_{c,ky,kx} w[o,c,ky,kx] * x[n,c,oy*sH-pH+ky, ox*sW-pW+kx]
// (zero padding). Any kernel size, stride, padding. Every y element is overwritten.
// Workgroup size 64 (1-D). One invocation computes 8 output channels x 8 output pixels (64 outputs). Pixels are
// the flattened index q over (n, oy, ox), P = batch*outH*outW; lane l of SIMD group g owns pixels g*32 + l + 4*j.
// Loop order: ky, kx (validity/offsets per pixel computed once) then input channel c (unrolled x2).
// Dispatch: gx = ceil(P / 512); if gx <= 65535: dispatchWorkgroups(gx, ceil(outC / 8), 1)
//           else dispatchWorkgroups(65535, ceil(outC / 8), ceil(gx / 65535))  (the shader linearises
//           wid.x + wid.z * num_workgroups.x and returns past P). No template placeholders.
struct ConvParams { batch: u32, inC: u32, inH: u32, inW: u32, outC: u32, kH: u32, kW: u32, outH: u32, outW: u32, strideH: u32, strideW: u32, padH: u32, padW: u32, _p0: u32, _p1: u32, _p2: u32 };
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<uniform> p: ConvParams;
@compute @workgroup_size(64, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32, @builtin(num_workgroups) nwg: vec3<u32>) {
  let C = p.inC; let H = p.inH; let W = p.inW; let O = p.outC; let KW = p.kW; let KK = p.kH * p.kW;
  let HW = H * W; let OHW = p.outH * p.outW; let P = p.batch * OHW;
  let g = (wid.x + wid.z * nwg.x) * 64u + lid;
  let qs = (g >> 2u) * 32u + (g & 3u);
  if (qs >= P) { return; }
  let o0 = wid.y * 8u;
  let q0 = min(qs + 0u, P - 1u); let n0 = q0 / OHW; let r0 = q0 - n0 * OHW; let oy0 = r0 / p.outW; let ox0 = r0 - oy0 * p.outW;
  let xb0 = n0 * C * HW; let iy0 = i32(oy0 * p.strideH) - i32(p.padH); let ix0 = i32(ox0 * p.strideW) - i32(p.padW);
  let q1 = min(qs + 4u, P - 1u); let n1 = q1 / OHW; let r1 = q1 - n1 * OHW; let oy1 = r1 / p.outW; let ox1 = r1 - oy1 * p.outW;
  let xb1 = n1 * C * HW; let iy1 = i32(oy1 * p.strideH) - i32(p.padH); let ix1 = i32(ox1 * p.strideW) - i32(p.padW);
  let q2 = min(qs + 8u, P - 1u); let n2 = q2 / OHW; let r2 = q2 - n2 * OHW; let oy2 = r2 / p.outW; let ox2 = r2 - oy2 * p.outW;
  let xb2 = n2 * C * HW; let iy2 = i32(oy2 * p.strideH) - i32(p.padH); let ix2 = i32(ox2 * p.strideW) - i32(p.padW);
  let q3 = min(qs + 12u, P - 1u); let n3 = q3 / OHW; let r3 = q3 - n3 * OHW; let oy3 = r3 / p.outW; let ox3 = r3 - oy3 * p.outW;
  let xb3 = n3 * C * HW; let iy3 = i32(oy3 * p.strideH) - i32(p.padH); let ix3 = i32(ox3 * p.strideW) - i32(p.padW);
  let q4 = min(qs + 16u, P - 1u); let n4 = q4 / OHW; let r4 = q4 - n4 * OHW; let oy4 = r4 / p.outW; let ox4 = r4 - oy4 * p.outW;
  let xb4 = n4 * C * HW; let iy4 = i32(oy4 * p.strideH) - i32(p.padH); let ix4 = i32(ox4 * p.strideW) - i32(p.padW);
  let q5 = min(qs + 20u, P - 1u); let n5 = q5 / OHW; let r5 = q5 - n5 * OHW; let oy5 = r5 / p.outW; let ox5 = r5 - oy5 * p.outW;
  let xb5 = n5 * C * HW; let iy5 = i32(oy5 * p.strideH) - i32(p.padH); let ix5 = i32(ox5 * p.strideW) - i32(p.padW);
  let q6 = min(qs + 24u, P - 1u); let n6 = q6 / OHW; let r6 = q6 - n6 * OHW; let oy6 = r6 / p.outW; let ox6 = r6 - oy6 * p.outW;
  let xb6 = n6 * C * HW; let iy6 = i32(oy6 * p.strideH) - i32(p.padH); let ix6 = i32(ox6 * p.strideW) - i32(p.padW);
  let q7 = min(qs + 28u, P - 1u); let n7 = q7 / OHW; let r7 = q7 - n7 * OHW; let oy7 = r7 / p.outW; let ox7 = r7 - oy7 * p.outW;
  let xb7 = n7 * C * HW; let iy7 = i32(oy7 * p.strideH) - i32(p.padH); let ix7 = i32(ox7 * p.strideW) - i32(p.padW);
  let wb0 = min(o0 + 0u, O - 1u) * C * KK;
  let wb1 = min(o0 + 1u, O - 1u) * C * KK;
  let wb2 = min(o0 + 2u, O - 1u) * C * KK;
  let wb3 = min(o0 + 3u, O - 1u) * C * KK;
  let wb4 = min(o0 + 4u, O - 1u) * C * KK;
  let wb5 = min(o0 + 5u, O - 1u) * C * KK;
  let wb6 = min(o0 + 6u, O - 1u) * C * KK;
  let wb7 = min(o0 + 7u, O - 1u) * C * KK;
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
  for (var ky = 0u; ky < p.kH; ky = ky + 1u) {
  for (var kx = 0u; kx < KW; kx = kx + 1u) {
    let kk = ky * KW + kx;
    let yy0 = iy0 + i32(ky); let xx0 = ix0 + i32(kx);
    let v0 = (u32(yy0) < H) & (u32(xx0) < W);
    let off0 = select(0u, xb0 + u32(yy0) * W + u32(xx0), v0);
    let yy1 = iy1 + i32(ky); let xx1 = ix1 + i32(kx);
    let v1 = (u32(yy1) < H) & (u32(xx1) < W);
    let off1 = select(0u, xb1 + u32(yy1) * W + u32(xx1), v1);
    let yy2 = iy2 + i32(ky); let xx2 = ix2 + i32(kx);
    let v2 = (u32(yy2) < H) & (u32(xx2) < W);
    let off2 = select(0u, xb2 + u32(yy2) * W + u32(xx2), v2);
    let yy3 = iy3 + i32(ky); let xx3 = ix3 + i32(kx);
    let v3 = (u32(yy3) < H) & (u32(xx3) < W);
    let off3 = select(0u, xb3 + u32(yy3) * W + u32(xx3), v3);
    let yy4 = iy4 + i32(ky); let xx4 = ix4 + i32(kx);
    let v4 = (u32(yy4) < H) & (u32(xx4) < W);
    let off4 = select(0u, xb4 + u32(yy4) * W + u32(xx4), v4);
    let yy5 = iy5 + i32(ky); let xx5 = ix5 + i32(kx);
    let v5 = (u32(yy5) < H) & (u32(xx5) < W);
    let off5 = select(0u, xb5 + u32(yy5) * W + u32(xx5), v5);
    let yy6 = iy6 + i32(ky); let xx6 = ix6 + i32(kx);
    let v6 = (u32(yy6) < H) & (u32(xx6) < W);
    let off6 = select(0u, xb6 + u32(yy6) * W + u32(xx6), v6);
    let yy7 = iy7 + i32(ky); let xx7 = ix7 + i32(kx);
    let v7 = (u32(yy7) < H) & (u32(xx7) < W);
    let off7 = select(0u, xb7 + u32(yy7) * W + u32(xx7), v7);
    var c = 0u;
    let cEnd = 0u + ((C - 0u) / 2u) * 2u;
    for (; c < cEnd; c = c + 2u) {
      {
        let cu = c + 0u;
        let cx = cu * HW; let cw = cu * KK + kk;
        let xv0 = select(0.0, x[off0 + cx], v0);
        let xv1 = select(0.0, x[off1 + cx], v1);
        let xv2 = select(0.0, x[off2 + cx], v2);
        let xv3 = select(0.0, x[off3 + cx], v3);
        let xv4 = select(0.0, x[off4 + cx], v4);
        let xv5 = select(0.0, x[off5 + cx], v5);
        let xv6 = select(0.0, x[off6 + cx], v6);
        let xv7 = select(0.0, x[off7 + cx], v7);
        let wv0 = w[wb0 + cw];
        acc0_0 = fma(wv0, xv0, acc0_0);
        acc0_1 = fma(wv0, xv1, acc0_1);
        acc0_2 = fma(wv0, xv2, acc0_2);
        acc0_3 = fma(wv0, xv3, acc0_3);
        acc0_4 = fma(wv0, xv4, acc0_4);
        acc0_5 = fma(wv0, xv5, acc0_5);
        acc0_6 = fma(wv0, xv6, acc0_6);
        acc0_7 = fma(wv0, xv7, acc0_7);
        let wv1 = w[wb1 + cw];
        acc1_0 = fma(wv1, xv0, acc1_0);
        acc1_1 = fma(wv1, xv1, acc1_1);
        acc1_2 = fma(wv1, xv2, acc1_2);
        acc1_3 = fma(wv1, xv3, acc1_3);
        acc1_4 = fma(wv1, xv4, acc1_4);
        acc1_5 = fma(wv1, xv5, acc1_5);
        acc1_6 = fma(wv1, xv6, acc1_6);
        acc1_7 = fma(wv1, xv7, acc1_7);
        let wv2 = w[wb2 + cw];
        acc2_0 = fma(wv2, xv0, acc2_0);
        acc2_1 = fma(wv2, xv1, acc2_1);
        acc2_2 = fma(wv2, xv2, acc2_2);
        acc2_3 = fma(wv2, xv3, acc2_3);
        acc2_4 = fma(wv2, xv4, acc2_4);
        acc2_5 = fma(wv2, xv5, acc2_5);
        acc2_6 = fma(wv2, xv6, acc2_6);
        acc2_7 = fma(wv2, xv7, acc2_7);
        let wv3 = w[wb3 + cw];
        acc3_0 = fma(wv3, xv0, acc3_0);
        acc3_1 = fma(wv3, xv1, acc3_1);
        acc3_2 = fma(wv3, xv2, acc3_2);
        acc3_3 = fma(wv3, xv3, acc3_3);
        acc3_4 = fma(wv3, xv4, acc3_4);
        acc3_5 = fma(wv3, xv5, acc3_5);
        acc3_6 = fma(wv3, xv6, acc3_6);
        acc3_7 = fma(wv3, xv7, acc3_7);
        let wv4 = w[wb4 + cw];
        acc4_0 = fma(wv4, xv0, acc4_0);
        acc4_1 = fma(wv4, xv1, acc4_1);
        acc4_2 = fma(wv4, xv2, acc4_2);
        acc4_3 = fma(wv4, xv3, acc4_3);
        acc4_4 = fma(wv4, xv4, acc4_4);
        acc4_5 = fma(wv4, xv5, acc4_5);
        acc4_6 = fma(wv4, xv6, acc4_6);
        acc4_7 = fma(wv4, xv7, acc4_7);
        let wv5 = w[wb5 + cw];
        acc5_0 = fma(wv5, xv0, acc5_0);
        acc5_1 = fma(wv5, xv1, acc5_1);
        acc5_2 = fma(wv5, xv2, acc5_2);
        acc5_3 = fma(wv5, xv3, acc5_3);
        acc5_4 = fma(wv5, xv4, acc5_4);
        acc5_5 = fma(wv5, xv5, acc5_5);
        acc5_6 = fma(wv5, xv6, acc5_6);
        acc5_7 = fma(wv5, xv7, acc5_7);
        let wv6 = w[wb6 + cw];
        acc6_0 = fma(wv6, xv0, acc6_0);
        acc6_1 = fma(wv6, xv1, acc6_1);
        acc6_2 = fma(wv6, xv2, acc6_2);
        acc6_3 = fma(wv6, xv3, acc6_3);
        acc6_4 = fma(wv6, xv4, acc6_4);
        acc6_5 = fma(wv6, xv5, acc6_5);
        acc6_6 = fma(wv6, xv6, acc6_6);
        acc6_7 = fma(wv6, xv7, acc6_7);
        let wv7 = w[wb7 + cw];
        acc7_0 = fma(wv7, xv0, acc7_0);
        acc7_1 = fma(wv7, xv1, acc7_1);
        acc7_2 = fma(wv7, xv2, acc7_2);
        acc7_3 = fma(wv7, xv3, acc7_3);
        acc7_4 = fma(wv7, xv4, acc7_4);
        acc7_5 = fma(wv7, xv5, acc7_5);
        acc7_6 = fma(wv7, xv6, acc7_6);
        acc7_7 = fma(wv7, xv7, acc7_7);
      }
      {
        let cu = c + 1u;
        let cx = cu * HW; let cw = cu * KK + kk;
        let xv0 = select(0.0, x[off0 + cx], v0);
        let xv1 = select(0.0, x[off1 + cx], v1);
        let xv2 = select(0.0, x[off2 + cx], v2);
        let xv3 = select(0.0, x[off3 + cx], v3);
        let xv4 = select(0.0, x[off4 + cx], v4);
        let xv5 = select(0.0, x[off5 + cx], v5);
        let xv6 = select(0.0, x[off6 + cx], v6);
        let xv7 = select(0.0, x[off7 + cx], v7);
        let wv0 = w[wb0 + cw];
        acc0_0 = fma(wv0, xv0, acc0_0);
        acc0_1 = fma(wv0, xv1, acc0_1);
        acc0_2 = fma(wv0, xv2, acc0_2);
        acc0_3 = fma(wv0, xv3, acc0_3);
        acc0_4 = fma(wv0, xv4, acc0_4);
        acc0_5 = fma(wv0, xv5, acc0_5);
        acc0_6 = fma(wv0, xv6, acc0_6);
        acc0_7 = fma(wv0, xv7, acc0_7);
        let wv1 = w[wb1 + cw];
        acc1_0 = fma(wv1, xv0, acc1_0);
        acc1_1 = fma(wv1, xv1, acc1_1);
        acc1_2 = fma(wv1, xv2, acc1_2);
        acc1_3 = fma(wv1, xv3, acc1_3);
        acc1_4 = fma(wv1, xv4, acc1_4);
        acc1_5 = fma(wv1, xv5, acc1_5);
        acc1_6 = fma(wv1, xv6, acc1_6);
        acc1_7 = fma(wv1, xv7, acc1_7);
        let wv2 = w[wb2 + cw];
        acc2_0 = fma(wv2, xv0, acc2_0);
        acc2_1 = fma(wv2, xv1, acc2_1);
        acc2_2 = fma(wv2, xv2, acc2_2);
        acc2_3 = fma(wv2, xv3, acc2_3);
        acc2_4 = fma(wv2, xv4, acc2_4);
        acc2_5 = fma(wv2, xv5, acc2_5);
        acc2_6 = fma(wv2, xv6, acc2_6);
        acc2_7 = fma(wv2, xv7, acc2_7);
        let wv3 = w[wb3 + cw];
        acc3_0 = fma(wv3, xv0, acc3_0);
        acc3_1 = fma(wv3, xv1, acc3_1);
        acc3_2 = fma(wv3, xv2, acc3_2);
        acc3_3 = fma(wv3, xv3, acc3_3);
        acc3_4 = fma(wv3, xv4, acc3_4);
        acc3_5 = fma(wv3, xv5, acc3_5);
        acc3_6 = fma(wv3, xv6, acc3_6);
        acc3_7 = fma(wv3, xv7, acc3_7);
        let wv4 = w[wb4 + cw];
        acc4_0 = fma(wv4, xv0, acc4_0);
        acc4_1 = fma(wv4, xv1, acc4_1);
        acc4_2 = fma(wv4, xv2, acc4_2);
        acc4_3 = fma(wv4, xv3, acc4_3);
        acc4_4 = fma(wv4, xv4, acc4_4);
        acc4_5 = fma(wv4, xv5, acc4_5);
        acc4_6 = fma(wv4, xv6, acc4_6);
        acc4_7 = fma(wv4, xv7, acc4_7);
        let wv5 = w[wb5 + cw];
        acc5_0 = fma(wv5, xv0, acc5_0);
        acc5_1 = fma(wv5, xv1, acc5_1);
        acc5_2 = fma(wv5, xv2, acc5_2);
        acc5_3 = fma(wv5, xv3, acc5_3);
        acc5_4 = fma(wv5, xv4, acc5_4);
        acc5_5 = fma(wv5, xv5, acc5_5);
        acc5_6 = fma(wv5, xv6, acc5_6);
        acc5_7 = fma(wv5, xv7, acc5_7);
        let wv6 = w[wb6 + cw];
        acc6_0 = fma(wv6, xv0, acc6_0);
        acc6_1 = fma(wv6, xv1, acc6_1);
        acc6_2 = fma(wv6, xv2, acc6_2);
        acc6_3 = fma(wv6, xv3, acc6_3);
        acc6_4 = fma(wv6, xv4, acc6_4);
        acc6_5 = fma(wv6, xv5, acc6_5);
        acc6_6 = fma(wv6, xv6, acc6_6);
        acc6_7 = fma(wv6, xv7, acc6_7);
        let wv7 = w[wb7 + cw];
        acc7_0 = fma(wv7, xv0, acc7_0);
        acc7_1 = fma(wv7, xv1, acc7_1);
        acc7_2 = fma(wv7, xv2, acc7_2);
        acc7_3 = fma(wv7, xv3, acc7_3);
        acc7_4 = fma(wv7, xv4, acc7_4);
        acc7_5 = fma(wv7, xv5, acc7_5);
        acc7_6 = fma(wv7, xv6, acc7_6);
        acc7_7 = fma(wv7, xv7, acc7_7);
      }
    }
    for (; c < C; c = c + 1u) {
      let cx = c * HW; let cw = c * KK + kk;
      let xv0 = select(0.0, x[off0 + cx], v0);
      let xv1 = select(0.0, x[off1 + cx], v1);
      let xv2 = select(0.0, x[off2 + cx], v2);
      let xv3 = select(0.0, x[off3 + cx], v3);
      let xv4 = select(0.0, x[off4 + cx], v4);
      let xv5 = select(0.0, x[off5 + cx], v5);
      let xv6 = select(0.0, x[off6 + cx], v6);
      let xv7 = select(0.0, x[off7 + cx], v7);
      let wv0 = w[wb0 + cw];
      acc0_0 = fma(wv0, xv0, acc0_0);
      acc0_1 = fma(wv0, xv1, acc0_1);
      acc0_2 = fma(wv0, xv2, acc0_2);
      acc0_3 = fma(wv0, xv3, acc0_3);
      acc0_4 = fma(wv0, xv4, acc0_4);
      acc0_5 = fma(wv0, xv5, acc0_5);
      acc0_6 = fma(wv0, xv6, acc0_6);
      acc0_7 = fma(wv0, xv7, acc0_7);
      let wv1 = w[wb1 + cw];
      acc1_0 = fma(wv1, xv0, acc1_0);
      acc1_1 = fma(wv1, xv1, acc1_1);
      acc1_2 = fma(wv1, xv2, acc1_2);
      acc1_3 = fma(wv1, xv3, acc1_3);
      acc1_4 = fma(wv1, xv4, acc1_4);
      acc1_5 = fma(wv1, xv5, acc1_5);
      acc1_6 = fma(wv1, xv6, acc1_6);
      acc1_7 = fma(wv1, xv7, acc1_7);
      let wv2 = w[wb2 + cw];
      acc2_0 = fma(wv2, xv0, acc2_0);
      acc2_1 = fma(wv2, xv1, acc2_1);
      acc2_2 = fma(wv2, xv2, acc2_2);
      acc2_3 = fma(wv2, xv3, acc2_3);
      acc2_4 = fma(wv2, xv4, acc2_4);
      acc2_5 = fma(wv2, xv5, acc2_5);
      acc2_6 = fma(wv2, xv6, acc2_6);
      acc2_7 = fma(wv2, xv7, acc2_7);
      let wv3 = w[wb3 + cw];
      acc3_0 = fma(wv3, xv0, acc3_0);
      acc3_1 = fma(wv3, xv1, acc3_1);
      acc3_2 = fma(wv3, xv2, acc3_2);
      acc3_3 = fma(wv3, xv3, acc3_3);
      acc3_4 = fma(wv3, xv4, acc3_4);
      acc3_5 = fma(wv3, xv5, acc3_5);
      acc3_6 = fma(wv3, xv6, acc3_6);
      acc3_7 = fma(wv3, xv7, acc3_7);
      let wv4 = w[wb4 + cw];
      acc4_0 = fma(wv4, xv0, acc4_0);
      acc4_1 = fma(wv4, xv1, acc4_1);
      acc4_2 = fma(wv4, xv2, acc4_2);
      acc4_3 = fma(wv4, xv3, acc4_3);
      acc4_4 = fma(wv4, xv4, acc4_4);
      acc4_5 = fma(wv4, xv5, acc4_5);
      acc4_6 = fma(wv4, xv6, acc4_6);
      acc4_7 = fma(wv4, xv7, acc4_7);
      let wv5 = w[wb5 + cw];
      acc5_0 = fma(wv5, xv0, acc5_0);
      acc5_1 = fma(wv5, xv1, acc5_1);
      acc5_2 = fma(wv5, xv2, acc5_2);
      acc5_3 = fma(wv5, xv3, acc5_3);
      acc5_4 = fma(wv5, xv4, acc5_4);
      acc5_5 = fma(wv5, xv5, acc5_5);
      acc5_6 = fma(wv5, xv6, acc5_6);
      acc5_7 = fma(wv5, xv7, acc5_7);
      let wv6 = w[wb6 + cw];
      acc6_0 = fma(wv6, xv0, acc6_0);
      acc6_1 = fma(wv6, xv1, acc6_1);
      acc6_2 = fma(wv6, xv2, acc6_2);
      acc6_3 = fma(wv6, xv3, acc6_3);
      acc6_4 = fma(wv6, xv4, acc6_4);
      acc6_5 = fma(wv6, xv5, acc6_5);
      acc6_6 = fma(wv6, xv6, acc6_6);
      acc6_7 = fma(wv6, xv7, acc6_7);
      let wv7 = w[wb7 + cw];
      acc7_0 = fma(wv7, xv0, acc7_0);
      acc7_1 = fma(wv7, xv1, acc7_1);
      acc7_2 = fma(wv7, xv2, acc7_2);
      acc7_3 = fma(wv7, xv3, acc7_3);
      acc7_4 = fma(wv7, xv4, acc7_4);
      acc7_5 = fma(wv7, xv5, acc7_5);
      acc7_6 = fma(wv7, xv6, acc7_6);
      acc7_7 = fma(wv7, xv7, acc7_7);
    }
  }
  }
  if (qs + 0u < P) {
    let yb = n0 * O * OHW + r0;
    if (o0 + 0u < O) { y[yb + (o0 + 0u) * OHW] = acc0_0; }
    if (o0 + 1u < O) { y[yb + (o0 + 1u) * OHW] = acc1_0; }
    if (o0 + 2u < O) { y[yb + (o0 + 2u) * OHW] = acc2_0; }
    if (o0 + 3u < O) { y[yb + (o0 + 3u) * OHW] = acc3_0; }
    if (o0 + 4u < O) { y[yb + (o0 + 4u) * OHW] = acc4_0; }
    if (o0 + 5u < O) { y[yb + (o0 + 5u) * OHW] = acc5_0; }
    if (o0 + 6u < O) { y[yb + (o0 + 6u) * OHW] = acc6_0; }
    if (o0 + 7u < O) { y[yb + (o0 + 7u) * OHW] = acc7_0; }
  }
  if (qs + 4u < P) {
    let yb = n1 * O * OHW + r1;
    if (o0 + 0u < O) { y[yb + (o0 + 0u) * OHW] = acc0_1; }
    if (o0 + 1u < O) { y[yb + (o0 + 1u) * OHW] = acc1_1; }
    if (o0 + 2u < O) { y[yb + (o0 + 2u) * OHW] = acc2_1; }
    if (o0 + 3u < O) { y[yb + (o0 + 3u) * OHW] = acc3_1; }
    if (o0 + 4u < O) { y[yb + (o0 + 4u) * OHW] = acc4_1; }
    if (o0 + 5u < O) { y[yb + (o0 + 5u) * OHW] = acc5_1; }
    if (o0 + 6u < O) { y[yb + (o0 + 6u) * OHW] = acc6_1; }
    if (o0 + 7u < O) { y[yb + (o0 + 7u) * OHW] = acc7_1; }
  }
  if (qs + 8u < P) {
    let yb = n2 * O * OHW + r2;
    if (o0 + 0u < O) { y[yb + (o0 + 0u) * OHW] = acc0_2; }
    if (o0 + 1u < O) { y[yb + (o0 + 1u) * OHW] = acc1_2; }
    if (o0 + 2u < O) { y[yb + (o0 + 2u) * OHW] = acc2_2; }
    if (o0 + 3u < O) { y[yb + (o0 + 3u) * OHW] = acc3_2; }
    if (o0 + 4u < O) { y[yb + (o0 + 4u) * OHW] = acc4_2; }
    if (o0 + 5u < O) { y[yb + (o0 + 5u) * OHW] = acc5_2; }
    if (o0 + 6u < O) { y[yb + (o0 + 6u) * OHW] = acc6_2; }
    if (o0 + 7u < O) { y[yb + (o0 + 7u) * OHW] = acc7_2; }
  }
  if (qs + 12u < P) {
    let yb = n3 * O * OHW + r3;
    if (o0 + 0u < O) { y[yb + (o0 + 0u) * OHW] = acc0_3; }
    if (o0 + 1u < O) { y[yb + (o0 + 1u) * OHW] = acc1_3; }
    if (o0 + 2u < O) { y[yb + (o0 + 2u) * OHW] = acc2_3; }
    if (o0 + 3u < O) { y[yb + (o0 + 3u) * OHW] = acc3_3; }
    if (o0 + 4u < O) { y[yb + (o0 + 4u) * OHW] = acc4_3; }
    if (o0 + 5u < O) { y[yb + (o0 + 5u) * OHW] = acc5_3; }
    if (o0 + 6u < O) { y[yb + (o0 + 6u) * OHW] = acc6_3; }
    if (o0 + 7u < O) { y[yb + (o0 + 7u) * OHW] = acc7_3; }
  }
  if (qs + 16u < P) {
    let yb = n4 * O * OHW + r4;
    if (o0 + 0u < O) { y[yb + (o0 + 0u) * OHW] = acc0_4; }
    if (o0 + 1u < O) { y[yb + (o0 + 1u) * OHW] = acc1_4; }
    if (o0 + 2u < O) { y[yb + (o0 + 2u) * OHW] = acc2_4; }
    if (o0 + 3u < O) { y[yb + (o0 + 3u) * OHW] = acc3_4; }
    if (o0 + 4u < O) { y[yb + (o0 + 4u) * OHW] = acc4_4; }
    if (o0 + 5u < O) { y[yb + (o0 + 5u) * OHW] = acc5_4; }
    if (o0 + 6u < O) { y[yb + (o0 + 6u) * OHW] = acc6_4; }
    if (o0 + 7u < O) { y[yb + (o0 + 7u) * OHW] = acc7_4; }
  }
  if (qs + 20u < P) {
    let yb = n5 * O * OHW + r5;
    if (o0 + 0u < O) { y[yb + (o0 + 0u) * OHW] = acc0_5; }
    if (o0 + 1u < O) { y[yb + (o0 + 1u) * OHW] = acc1_5; }
    if (o0 + 2u < O) { y[yb + (o0 + 2u) * OHW] = acc2_5; }
    if (o0 + 3u < O) { y[yb + (o0 + 3u) * OHW] = acc3_5; }
    if (o0 + 4u < O) { y[yb + (o0 + 4u) * OHW] = acc4_5; }
    if (o0 + 5u < O) { y[yb + (o0 + 5u) * OHW] = acc5_5; }
    if (o0 + 6u < O) { y[yb + (o0 + 6u) * OHW] = acc6_5; }
    if (o0 + 7u < O) { y[yb + (o0 + 7u) * OHW] = acc7_5; }
  }
  if (qs + 24u < P) {
    let yb = n6 * O * OHW + r6;
    if (o0 + 0u < O) { y[yb + (o0 + 0u) * OHW] = acc0_6; }
    if (o0 + 1u < O) { y[yb + (o0 + 1u) * OHW] = acc1_6; }
    if (o0 + 2u < O) { y[yb + (o0 + 2u) * OHW] = acc2_6; }
    if (o0 + 3u < O) { y[yb + (o0 + 3u) * OHW] = acc3_6; }
    if (o0 + 4u < O) { y[yb + (o0 + 4u) * OHW] = acc4_6; }
    if (o0 + 5u < O) { y[yb + (o0 + 5u) * OHW] = acc5_6; }
    if (o0 + 6u < O) { y[yb + (o0 + 6u) * OHW] = acc6_6; }
    if (o0 + 7u < O) { y[yb + (o0 + 7u) * OHW] = acc7_6; }
  }
  if (qs + 28u < P) {
    let yb = n7 * O * OHW + r7;
    if (o0 + 0u < O) { y[yb + (o0 + 0u) * OHW] = acc0_7; }
    if (o0 + 1u < O) { y[yb + (o0 + 1u) * OHW] = acc1_7; }
    if (o0 + 2u < O) { y[yb + (o0 + 2u) * OHW] = acc2_7; }
    if (o0 + 3u < O) { y[yb + (o0 + 3u) * OHW] = acc3_7; }
    if (o0 + 4u < O) { y[yb + (o0 + 4u) * OHW] = acc4_7; }
    if (o0 + 5u < O) { y[yb + (o0 + 5u) * OHW] = acc5_7; }
    if (o0 + 6u < O) { y[yb + (o0 + 6u) * OHW] = acc6_7; }
    if (o0 + 7u < O) { y[yb + (o0 + 7u) * OHW] = acc7_7; }
  }
}
