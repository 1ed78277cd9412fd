// conv2d backward w.r.t. input, NCHW: dx[n,c,iy,ix] = sum_{o,ky,kx} w[o,c,ky,kx] * dy[n,o,oy,ox] over the
// (ky,kx) with oy = (iy+pH-ky)/sH, ox = (ix+pW-kx)/sW exact (divisible) and in range. Any kernel, stride, padding.
// Every dx element is overwritten (no accumulation into prior contents).
// Workgroup size 64 (1-D). One invocation computes 8 input channels x 8 input pixels (64 outputs). Pixels are the
// flattened index q over (n, iy, ix), P = batch*inH*inW; lane l of SIMD group g owns pixels g*32 + l + 4*j.
// Loop order: ky, kx (skipped when no lane has a valid tap), then output channel o.
// Dispatch: gx = ceil(P / 512); if gx <= 65535: dispatchWorkgroups(gx, ceil(inC / 8), 1)
//           else dispatchWorkgroups(65535, ceil(inC / 8), ceil(gx / 65535)). No template placeholders.
struct ConvParams { batch: u32, inC: u32, inH: u32, inW: u32, outC: u32, kH: u32, kW: u32, outH: u32, outW: u32, strideH: u32, strideW: u32, padH: u32, padW: u32, _p0: u32, _p1: u32, _p2: u32 };
@group(0) @binding(0) var<storage, read> dy: array<f32>;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;
@group(0) @binding(3) var<uniform> p: ConvParams;
@compute @workgroup_size(64, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32, @builtin(num_workgroups) nwg: vec3<u32>) {
  let C = p.inC; let H = p.inH; let W = p.inW; let O = p.outC; let OH = p.outH; let OW = p.outW; let KW = p.kW; let KK = p.kH * p.kW; let CKK = C * KK;
  let HW = H * W; let OHW = OH * OW; let P = p.batch * HW;
  let g = (wid.x + wid.z * nwg.x) * 64u + lid;
  let qs = (g >> 2u) * 32u + (g & 3u);
  if (qs >= P) { return; }
  let c0 = wid.y * 8u;
  let q0 = min(qs + 0u, P - 1u); let n0 = q0 / HW; let r0 = q0 - n0 * HW; let iy0 = r0 / W; let ix0 = r0 - iy0 * W;
  let db0 = n0 * O * OHW; let ty0 = i32(iy0 + p.padH); let tx0 = i32(ix0 + p.padW);
  let q1 = min(qs + 4u, P - 1u); let n1 = q1 / HW; let r1 = q1 - n1 * HW; let iy1 = r1 / W; let ix1 = r1 - iy1 * W;
  let db1 = n1 * O * OHW; let ty1 = i32(iy1 + p.padH); let tx1 = i32(ix1 + p.padW);
  let q2 = min(qs + 8u, P - 1u); let n2 = q2 / HW; let r2 = q2 - n2 * HW; let iy2 = r2 / W; let ix2 = r2 - iy2 * W;
  let db2 = n2 * O * OHW; let ty2 = i32(iy2 + p.padH); let tx2 = i32(ix2 + p.padW);
  let q3 = min(qs + 12u, P - 1u); let n3 = q3 / HW; let r3 = q3 - n3 * HW; let iy3 = r3 / W; let ix3 = r3 - iy3 * W;
  let db3 = n3 * O * OHW; let ty3 = i32(iy3 + p.padH); let tx3 = i32(ix3 + p.padW);
  let q4 = min(qs + 16u, P - 1u); let n4 = q4 / HW; let r4 = q4 - n4 * HW; let iy4 = r4 / W; let ix4 = r4 - iy4 * W;
  let db4 = n4 * O * OHW; let ty4 = i32(iy4 + p.padH); let tx4 = i32(ix4 + p.padW);
  let q5 = min(qs + 20u, P - 1u); let n5 = q5 / HW; let r5 = q5 - n5 * HW; let iy5 = r5 / W; let ix5 = r5 - iy5 * W;
  let db5 = n5 * O * OHW; let ty5 = i32(iy5 + p.padH); let tx5 = i32(ix5 + p.padW);
  let q6 = min(qs + 24u, P - 1u); let n6 = q6 / HW; let r6 = q6 - n6 * HW; let iy6 = r6 / W; let ix6 = r6 - iy6 * W;
  let db6 = n6 * O * OHW; let ty6 = i32(iy6 + p.padH); let tx6 = i32(ix6 + p.padW);
  let q7 = min(qs + 28u, P - 1u); let n7 = q7 / HW; let r7 = q7 - n7 * HW; let iy7 = r7 / W; let ix7 = r7 - iy7 * W;
  let db7 = n7 * O * OHW; let ty7 = i32(iy7 + p.padH); let tx7 = i32(ix7 + p.padW);
  let wb0 = min(c0 + 0u, C - 1u) * KK;
  let wb1 = min(c0 + 1u, C - 1u) * KK;
  let wb2 = min(c0 + 2u, C - 1u) * KK;
  let wb3 = min(c0 + 3u, C - 1u) * KK;
  let wb4 = min(c0 + 4u, C - 1u) * KK;
  let wb5 = min(c0 + 5u, C - 1u) * KK;
  let wb6 = min(c0 + 6u, C - 1u) * KK;
  let wb7 = min(c0 + 7u, C - 1u) * KK;
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
    let sy0 = ty0 - i32(ky); let sx0 = tx0 - i32(kx);
    let oy0 = u32(sy0) / p.strideH; let ox0 = u32(sx0) / p.strideW;
    let v0 = (sy0 >= 0) & (sx0 >= 0) & (oy0 * p.strideH == u32(sy0)) & (ox0 * p.strideW == u32(sx0)) & (oy0 < OH) & (ox0 < OW);
    let off0 = select(0u, db0 + oy0 * OW + ox0, v0);
    let sy1 = ty1 - i32(ky); let sx1 = tx1 - i32(kx);
    let oy1 = u32(sy1) / p.strideH; let ox1 = u32(sx1) / p.strideW;
    let v1 = (sy1 >= 0) & (sx1 >= 0) & (oy1 * p.strideH == u32(sy1)) & (ox1 * p.strideW == u32(sx1)) & (oy1 < OH) & (ox1 < OW);
    let off1 = select(0u, db1 + oy1 * OW + ox1, v1);
    let sy2 = ty2 - i32(ky); let sx2 = tx2 - i32(kx);
    let oy2 = u32(sy2) / p.strideH; let ox2 = u32(sx2) / p.strideW;
    let v2 = (sy2 >= 0) & (sx2 >= 0) & (oy2 * p.strideH == u32(sy2)) & (ox2 * p.strideW == u32(sx2)) & (oy2 < OH) & (ox2 < OW);
    let off2 = select(0u, db2 + oy2 * OW + ox2, v2);
    let sy3 = ty3 - i32(ky); let sx3 = tx3 - i32(kx);
    let oy3 = u32(sy3) / p.strideH; let ox3 = u32(sx3) / p.strideW;
    let v3 = (sy3 >= 0) & (sx3 >= 0) & (oy3 * p.strideH == u32(sy3)) & (ox3 * p.strideW == u32(sx3)) & (oy3 < OH) & (ox3 < OW);
    let off3 = select(0u, db3 + oy3 * OW + ox3, v3);
    let sy4 = ty4 - i32(ky); let sx4 = tx4 - i32(kx);
    let oy4 = u32(sy4) / p.strideH; let ox4 = u32(sx4) / p.strideW;
    let v4 = (sy4 >= 0) & (sx4 >= 0) & (oy4 * p.strideH == u32(sy4)) & (ox4 * p.strideW == u32(sx4)) & (oy4 < OH) & (ox4 < OW);
    let off4 = select(0u, db4 + oy4 * OW + ox4, v4);
    let sy5 = ty5 - i32(ky); let sx5 = tx5 - i32(kx);
    let oy5 = u32(sy5) / p.strideH; let ox5 = u32(sx5) / p.strideW;
    let v5 = (sy5 >= 0) & (sx5 >= 0) & (oy5 * p.strideH == u32(sy5)) & (ox5 * p.strideW == u32(sx5)) & (oy5 < OH) & (ox5 < OW);
    let off5 = select(0u, db5 + oy5 * OW + ox5, v5);
    let sy6 = ty6 - i32(ky); let sx6 = tx6 - i32(kx);
    let oy6 = u32(sy6) / p.strideH; let ox6 = u32(sx6) / p.strideW;
    let v6 = (sy6 >= 0) & (sx6 >= 0) & (oy6 * p.strideH == u32(sy6)) & (ox6 * p.strideW == u32(sx6)) & (oy6 < OH) & (ox6 < OW);
    let off6 = select(0u, db6 + oy6 * OW + ox6, v6);
    let sy7 = ty7 - i32(ky); let sx7 = tx7 - i32(kx);
    let oy7 = u32(sy7) / p.strideH; let ox7 = u32(sx7) / p.strideW;
    let v7 = (sy7 >= 0) & (sx7 >= 0) & (oy7 * p.strideH == u32(sy7)) & (ox7 * p.strideW == u32(sx7)) & (oy7 < OH) & (ox7 < OW);
    let off7 = select(0u, db7 + oy7 * OW + ox7, v7);
    if (v0 | v1 | v2 | v3 | v4 | v5 | v6 | v7) {
    for (var o = 0u; o < O; o = o + 1u) {
      let od = o * OHW; let ow = o * CKK + kk;
      let dv0 = select(0.0, dy[off0 + od], v0);
      let dv1 = select(0.0, dy[off1 + od], v1);
      let dv2 = select(0.0, dy[off2 + od], v2);
      let dv3 = select(0.0, dy[off3 + od], v3);
      let dv4 = select(0.0, dy[off4 + od], v4);
      let dv5 = select(0.0, dy[off5 + od], v5);
      let dv6 = select(0.0, dy[off6 + od], v6);
      let dv7 = select(0.0, dy[off7 + od], v7);
      let wv0 = w[wb0 + ow];
      acc0_0 = fma(wv0, dv0, acc0_0);
      acc0_1 = fma(wv0, dv1, acc0_1);
      acc0_2 = fma(wv0, dv2, acc0_2);
      acc0_3 = fma(wv0, dv3, acc0_3);
      acc0_4 = fma(wv0, dv4, acc0_4);
      acc0_5 = fma(wv0, dv5, acc0_5);
      acc0_6 = fma(wv0, dv6, acc0_6);
      acc0_7 = fma(wv0, dv7, acc0_7);
      let wv1 = w[wb1 + ow];
      acc1_0 = fma(wv1, dv0, acc1_0);
      acc1_1 = fma(wv1, dv1, acc1_1);
      acc1_2 = fma(wv1, dv2, acc1_2);
      acc1_3 = fma(wv1, dv3, acc1_3);
      acc1_4 = fma(wv1, dv4, acc1_4);
      acc1_5 = fma(wv1, dv5, acc1_5);
      acc1_6 = fma(wv1, dv6, acc1_6);
      acc1_7 = fma(wv1, dv7, acc1_7);
      let wv2 = w[wb2 + ow];
      acc2_0 = fma(wv2, dv0, acc2_0);
      acc2_1 = fma(wv2, dv1, acc2_1);
      acc2_2 = fma(wv2, dv2, acc2_2);
      acc2_3 = fma(wv2, dv3, acc2_3);
      acc2_4 = fma(wv2, dv4, acc2_4);
      acc2_5 = fma(wv2, dv5, acc2_5);
      acc2_6 = fma(wv2, dv6, acc2_6);
      acc2_7 = fma(wv2, dv7, acc2_7);
      let wv3 = w[wb3 + ow];
      acc3_0 = fma(wv3, dv0, acc3_0);
      acc3_1 = fma(wv3, dv1, acc3_1);
      acc3_2 = fma(wv3, dv2, acc3_2);
      acc3_3 = fma(wv3, dv3, acc3_3);
      acc3_4 = fma(wv3, dv4, acc3_4);
      acc3_5 = fma(wv3, dv5, acc3_5);
      acc3_6 = fma(wv3, dv6, acc3_6);
      acc3_7 = fma(wv3, dv7, acc3_7);
      let wv4 = w[wb4 + ow];
      acc4_0 = fma(wv4, dv0, acc4_0);
      acc4_1 = fma(wv4, dv1, acc4_1);
      acc4_2 = fma(wv4, dv2, acc4_2);
      acc4_3 = fma(wv4, dv3, acc4_3);
      acc4_4 = fma(wv4, dv4, acc4_4);
      acc4_5 = fma(wv4, dv5, acc4_5);
      acc4_6 = fma(wv4, dv6, acc4_6);
      acc4_7 = fma(wv4, dv7, acc4_7);
      let wv5 = w[wb5 + ow];
      acc5_0 = fma(wv5, dv0, acc5_0);
      acc5_1 = fma(wv5, dv1, acc5_1);
      acc5_2 = fma(wv5, dv2, acc5_2);
      acc5_3 = fma(wv5, dv3, acc5_3);
      acc5_4 = fma(wv5, dv4, acc5_4);
      acc5_5 = fma(wv5, dv5, acc5_5);
      acc5_6 = fma(wv5, dv6, acc5_6);
      acc5_7 = fma(wv5, dv7, acc5_7);
      let wv6 = w[wb6 + ow];
      acc6_0 = fma(wv6, dv0, acc6_0);
      acc6_1 = fma(wv6, dv1, acc6_1);
      acc6_2 = fma(wv6, dv2, acc6_2);
      acc6_3 = fma(wv6, dv3, acc6_3);
      acc6_4 = fma(wv6, dv4, acc6_4);
      acc6_5 = fma(wv6, dv5, acc6_5);
      acc6_6 = fma(wv6, dv6, acc6_6);
      acc6_7 = fma(wv6, dv7, acc6_7);
      let wv7 = w[wb7 + ow];
      acc7_0 = fma(wv7, dv0, acc7_0);
      acc7_1 = fma(wv7, dv1, acc7_1);
      acc7_2 = fma(wv7, dv2, acc7_2);
      acc7_3 = fma(wv7, dv3, acc7_3);
      acc7_4 = fma(wv7, dv4, acc7_4);
      acc7_5 = fma(wv7, dv5, acc7_5);
      acc7_6 = fma(wv7, dv6, acc7_6);
      acc7_7 = fma(wv7, dv7, acc7_7);
    }
    }
  }
  }
  if (qs + 0u < P) {
    let xb = n0 * C * HW + r0;
    if (c0 + 0u < C) { dx[xb + (c0 + 0u) * HW] = acc0_0; }
    if (c0 + 1u < C) { dx[xb + (c0 + 1u) * HW] = acc1_0; }
    if (c0 + 2u < C) { dx[xb + (c0 + 2u) * HW] = acc2_0; }
    if (c0 + 3u < C) { dx[xb + (c0 + 3u) * HW] = acc3_0; }
    if (c0 + 4u < C) { dx[xb + (c0 + 4u) * HW] = acc4_0; }
    if (c0 + 5u < C) { dx[xb + (c0 + 5u) * HW] = acc5_0; }
    if (c0 + 6u < C) { dx[xb + (c0 + 6u) * HW] = acc6_0; }
    if (c0 + 7u < C) { dx[xb + (c0 + 7u) * HW] = acc7_0; }
  }
  if (qs + 4u < P) {
    let xb = n1 * C * HW + r1;
    if (c0 + 0u < C) { dx[xb + (c0 + 0u) * HW] = acc0_1; }
    if (c0 + 1u < C) { dx[xb + (c0 + 1u) * HW] = acc1_1; }
    if (c0 + 2u < C) { dx[xb + (c0 + 2u) * HW] = acc2_1; }
    if (c0 + 3u < C) { dx[xb + (c0 + 3u) * HW] = acc3_1; }
    if (c0 + 4u < C) { dx[xb + (c0 + 4u) * HW] = acc4_1; }
    if (c0 + 5u < C) { dx[xb + (c0 + 5u) * HW] = acc5_1; }
    if (c0 + 6u < C) { dx[xb + (c0 + 6u) * HW] = acc6_1; }
    if (c0 + 7u < C) { dx[xb + (c0 + 7u) * HW] = acc7_1; }
  }
  if (qs + 8u < P) {
    let xb = n2 * C * HW + r2;
    if (c0 + 0u < C) { dx[xb + (c0 + 0u) * HW] = acc0_2; }
    if (c0 + 1u < C) { dx[xb + (c0 + 1u) * HW] = acc1_2; }
    if (c0 + 2u < C) { dx[xb + (c0 + 2u) * HW] = acc2_2; }
    if (c0 + 3u < C) { dx[xb + (c0 + 3u) * HW] = acc3_2; }
    if (c0 + 4u < C) { dx[xb + (c0 + 4u) * HW] = acc4_2; }
    if (c0 + 5u < C) { dx[xb + (c0 + 5u) * HW] = acc5_2; }
    if (c0 + 6u < C) { dx[xb + (c0 + 6u) * HW] = acc6_2; }
    if (c0 + 7u < C) { dx[xb + (c0 + 7u) * HW] = acc7_2; }
  }
  if (qs + 12u < P) {
    let xb = n3 * C * HW + r3;
    if (c0 + 0u < C) { dx[xb + (c0 + 0u) * HW] = acc0_3; }
    if (c0 + 1u < C) { dx[xb + (c0 + 1u) * HW] = acc1_3; }
    if (c0 + 2u < C) { dx[xb + (c0 + 2u) * HW] = acc2_3; }
    if (c0 + 3u < C) { dx[xb + (c0 + 3u) * HW] = acc3_3; }
    if (c0 + 4u < C) { dx[xb + (c0 + 4u) * HW] = acc4_3; }
    if (c0 + 5u < C) { dx[xb + (c0 + 5u) * HW] = acc5_3; }
    if (c0 + 6u < C) { dx[xb + (c0 + 6u) * HW] = acc6_3; }
    if (c0 + 7u < C) { dx[xb + (c0 + 7u) * HW] = acc7_3; }
  }
  if (qs + 16u < P) {
    let xb = n4 * C * HW + r4;
    if (c0 + 0u < C) { dx[xb + (c0 + 0u) * HW] = acc0_4; }
    if (c0 + 1u < C) { dx[xb + (c0 + 1u) * HW] = acc1_4; }
    if (c0 + 2u < C) { dx[xb + (c0 + 2u) * HW] = acc2_4; }
    if (c0 + 3u < C) { dx[xb + (c0 + 3u) * HW] = acc3_4; }
    if (c0 + 4u < C) { dx[xb + (c0 + 4u) * HW] = acc4_4; }
    if (c0 + 5u < C) { dx[xb + (c0 + 5u) * HW] = acc5_4; }
    if (c0 + 6u < C) { dx[xb + (c0 + 6u) * HW] = acc6_4; }
    if (c0 + 7u < C) { dx[xb + (c0 + 7u) * HW] = acc7_4; }
  }
  if (qs + 20u < P) {
    let xb = n5 * C * HW + r5;
    if (c0 + 0u < C) { dx[xb + (c0 + 0u) * HW] = acc0_5; }
    if (c0 + 1u < C) { dx[xb + (c0 + 1u) * HW] = acc1_5; }
    if (c0 + 2u < C) { dx[xb + (c0 + 2u) * HW] = acc2_5; }
    if (c0 + 3u < C) { dx[xb + (c0 + 3u) * HW] = acc3_5; }
    if (c0 + 4u < C) { dx[xb + (c0 + 4u) * HW] = acc4_5; }
    if (c0 + 5u < C) { dx[xb + (c0 + 5u) * HW] = acc5_5; }
    if (c0 + 6u < C) { dx[xb + (c0 + 6u) * HW] = acc6_5; }
    if (c0 + 7u < C) { dx[xb + (c0 + 7u) * HW] = acc7_5; }
  }
  if (qs + 24u < P) {
    let xb = n6 * C * HW + r6;
    if (c0 + 0u < C) { dx[xb + (c0 + 0u) * HW] = acc0_6; }
    if (c0 + 1u < C) { dx[xb + (c0 + 1u) * HW] = acc1_6; }
    if (c0 + 2u < C) { dx[xb + (c0 + 2u) * HW] = acc2_6; }
    if (c0 + 3u < C) { dx[xb + (c0 + 3u) * HW] = acc3_6; }
    if (c0 + 4u < C) { dx[xb + (c0 + 4u) * HW] = acc4_6; }
    if (c0 + 5u < C) { dx[xb + (c0 + 5u) * HW] = acc5_6; }
    if (c0 + 6u < C) { dx[xb + (c0 + 6u) * HW] = acc6_6; }
    if (c0 + 7u < C) { dx[xb + (c0 + 7u) * HW] = acc7_6; }
  }
  if (qs + 28u < P) {
    let xb = n7 * C * HW + r7;
    if (c0 + 0u < C) { dx[xb + (c0 + 0u) * HW] = acc0_7; }
    if (c0 + 1u < C) { dx[xb + (c0 + 1u) * HW] = acc1_7; }
    if (c0 + 2u < C) { dx[xb + (c0 + 2u) * HW] = acc2_7; }
    if (c0 + 3u < C) { dx[xb + (c0 + 3u) * HW] = acc3_7; }
    if (c0 + 4u < C) { dx[xb + (c0 + 4u) * HW] = acc4_7; }
    if (c0 + 5u < C) { dx[xb + (c0 + 5u) * HW] = acc5_7; }
    if (c0 + 6u < C) { dx[xb + (c0 + 6u) * HW] = acc6_7; }
    if (c0 + 7u < C) { dx[xb + (c0 + 7u) * HW] = acc7_7; }
  }
}
