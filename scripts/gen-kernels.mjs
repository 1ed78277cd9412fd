#!/usr/bin/env node
// Writes the register-blocked kernels shaders/matmul.wgsl, shaders/conv2d_*.wgsl and shaders/binary_conv2d.wgsl.
//
// Each invocation of these kernels keeps an 8x8 block of outputs in registers. WGSL has no
// macros, and loop overhead measured up to 2x on SwiftShader, so the blocks are written out
// unrolled: this script is their single source. Edit
// it (block sizes, unrolling), run `node scripts/gen-kernels.mjs`, and commit the .wgsl files;
// `node scripts/gen-kernels.mjs --check` (run by the test suite) fails when they differ.
// Tuned on SwiftShader (Subzero, 4-wide SIMD): no workgroup memory, no barriers.

import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const shaderDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'shaders');

const HDR = `struct ConvParams { batch: u32, inC: u32, inH: u32, inW: u32, outC: u32, kH: u32, kW: u32, outH: u32, outW: u32, strideH: u32, strideW: u32, padH: u32, padW: u32, _p0: u32, _p1: u32, _p2: u32 };`;
const F = (a, b, c) => `fma(${a}, ${b}, ${c})`;

function unrolledLoop(L, ind, v, lo, hi, KU, bodyFn) {
  // for v in [lo, hi) with unroll KU and remainder
  if (KU > 1) {
    L.push(`${ind}var ${v} = ${lo};`);
    L.push(`${ind}let ${v}End = ${lo} + ((${hi} - ${lo}) / ${KU}u) * ${KU}u;`);
    L.push(`${ind}for (; ${v} < ${v}End; ${v} = ${v} + ${KU}u) {`);
    for (let u = 0; u < KU; u++) { L.push(`${ind}  {`); L.push(`${ind}    let ${v}u = ${v} + ${u}u;`); bodyFn(`${v}u`, ind + '    '); L.push(`${ind}  }`); }
    L.push(`${ind}}`);
    L.push(`${ind}for (; ${v} < ${hi}; ${v} = ${v} + 1u) {`); bodyFn(v, ind + '  '); L.push(`${ind}}`);
  } else {
    L.push(`${ind}for (var ${v} = ${lo}; ${v} < ${hi}; ${v} = ${v} + 1u) {`); bodyFn(v, ind + '  '); L.push(`${ind}}`);
  }
}
// The TP output pixels of an invocation (flattened over n, oy, ox; lane l of SIMD group g owns
// g*4*TP + l + 4*j): batch offset into x and the top-left input coordinate of each.
function outputPixels(L, TP) {
  for (let j = 0; j < TP; j++) {
    L.push(`  let q${j} = min(qs + ${4 * j}u, P - 1u); let n${j} = q${j} / OHW; let r${j} = q${j} - n${j} * OHW; let oy${j} = r${j} / p.outW; let ox${j} = r${j} - oy${j} * p.outW;`);
    L.push(`  let xb${j} = n${j} * C * HW; let iy${j} = i32(oy${j} * p.strideH) - i32(p.padH); let ix${j} = i32(ox${j} * p.strideW) - i32(p.padW);`);
  }
}
// At tap (ky, kx): each pixel's input offset and whether it is inside the image.
function tapOffsets(L, TP) {
  for (let j = 0; j < TP; j++) {
    L.push(`    let yy${j} = iy${j} + i32(ky); let xx${j} = ix${j} + i32(kx);`);
    L.push(`    let v${j} = (u32(yy${j}) < H) & (u32(xx${j}) < W);`);
    L.push(`    let off${j} = select(0u, xb${j} + u32(yy${j}) * W + u32(xx${j}), v${j});`);
  }
}
// A forward conv kernel: TO output channels x TP pixels per invocation, `reduce` (the accumulation into
// acc{i}_{j}), then the guarded stores of `scale`acc. `bindings` precede the uniform block `p`; `setup` adds lines
// before `reduce`.
function genConvForward({ TO, TP, WG, header, bindings, setup = () => {}, reduce, scale = '' }) {
  const L = [header, ...bindings.map((b, i) => `@group(0) @binding(${i}) var<storage, ${b};`),
    `@group(0) @binding(${bindings.length}) var<uniform> p: ${header.match(/struct (\w+)/)[1]};`,
    `@compute @workgroup_size(${WG}, 1, 1)`,
    `fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32, @builtin(num_workgroups) nwg: vec3<u32>) {`,
    `  let C = p.inC; let H = p.inH; let W = p.inW; let O = p.outC; let KW = p.kW; let KK = p.kH * p.kW;`,
    `  let HW = H * W; let OHW = p.outH * p.outW; let P = p.batch * OHW;`,
    `  let g = (wid.x + wid.z * nwg.x) * ${WG}u + lid;`,
    `  let qs = (g >> 2u) * ${4 * TP}u + (g & 3u);`,
    `  if (qs >= P) { return; }`,
    `  let o0 = wid.y * ${TO}u;`];
  outputPixels(L, TP);
  setup(L);
  for (let i = 0; i < TO; i++) for (let j = 0; j < TP; j++) L.push(`  var acc${i}_${j} = 0.0;`);
  reduce(L);
  for (let j = 0; j < TP; j++) {
    L.push(`  if (qs + ${4 * j}u < P) {`);
    L.push(`    let yb = n${j} * O * OHW + r${j};`);
    for (let i = 0; i < TO; i++) L.push(`    if (o0 + ${i}u < O) { y[yb + (o0 + ${i}u) * OHW] = ${scale}acc${i}_${j}; }`);
    L.push(`  }`);
  }
  L.push(`}`);
  return L.join('\n');
}
// forward: TO out channels x TP pixels, dense weights w[o, c, ky, kx]
function genFwd({ TO = 8, TP = 8, WG = 64, KU = 2 }) {
  return genConvForward({
    TO, TP, WG, header: HDR,
    bindings: ['read> x: array<f32>', 'read> w: array<f32>', 'read_write> y: array<f32>'],
    setup: (L) => { for (let i = 0; i < TO; i++) L.push(`  let wb${i} = min(o0 + ${i}u, O - 1u) * C * KK;`); },
    // Loops over the taps (ky, kx) with each pixel's offsets computed once per tap, then over input channels.
    reduce: (L) => {
      L.push(`  for (var ky = 0u; ky < p.kH; ky = ky + 1u) {`, `  for (var kx = 0u; kx < KW; kx = kx + 1u) {`, `    let kk = ky * KW + kx;`);
      tapOffsets(L, TP);
      unrolledLoop(L, '    ', 'c', '0u', 'C', KU, (c, ind) => {
        L.push(`${ind}let cx = ${c} * HW; let cw = ${c} * KK + kk;`);
        for (let j = 0; j < TP; j++) L.push(`${ind}let xv${j} = select(0.0, x[off${j} + cx], v${j});`);
        for (let i = 0; i < TO; i++) { L.push(`${ind}let wv${i} = w[wb${i} + cw];`); for (let j = 0; j < TP; j++) L.push(`${ind}acc${i}_${j} = ${F(`wv${i}`, `xv${j}`, `acc${i}_${j}`)};`); }
      });
      L.push(`  }`, `  }`);
    },
  });
}
// backward input: TC in channels x TP input pixels
function genBwdIn({ TC = 8, TP = 8, WG = 64, KU = 2 }) {
  const L = [HDR,
    `@group(0) @binding(0) var<storage, read> dy: array<f32>;`,
    `@group(0) @binding(1) var<storage, read> w: array<f32>;`,
    `@group(0) @binding(2) var<storage, read_write> dx: array<f32>;`,
    `@group(0) @binding(3) var<uniform> p: ConvParams;`,
    `@compute @workgroup_size(${WG}, 1, 1)`,
    `fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32, @builtin(num_workgroups) nwg: vec3<u32>) {`,
    `  let C = p.inC; let H = p.inH; let W = p.inW; let O = p.outC; let OH = p.outH; let OW = p.outW; let KW = p.kW; let KK = p.kH * p.kW; let CKK = C * KK;`,
    `  let HW = H * W; let OHW = OH * OW; let P = p.batch * HW;`,
    `  let g = (wid.x + wid.z * nwg.x) * ${WG}u + lid;`,
    `  let qs = (g >> 2u) * ${4 * TP}u + (g & 3u);`,
    `  if (qs >= P) { return; }`,
    `  let c0 = wid.y * ${TC}u;`];
  for (let j = 0; j < TP; j++) {
    L.push(`  let q${j} = min(qs + ${4 * j}u, P - 1u); let n${j} = q${j} / HW; let r${j} = q${j} - n${j} * HW; let iy${j} = r${j} / W; let ix${j} = r${j} - iy${j} * W;`);
    L.push(`  let db${j} = n${j} * O * OHW; let ty${j} = i32(iy${j} + p.padH); let tx${j} = i32(ix${j} + p.padW);`);
  }
  for (let i = 0; i < TC; i++) L.push(`  let wb${i} = min(c0 + ${i}u, C - 1u) * KK;`);
  for (let i = 0; i < TC; i++) for (let j = 0; j < TP; j++) L.push(`  var acc${i}_${j} = 0.0;`);
  L.push(`  for (var ky = 0u; ky < p.kH; ky = ky + 1u) {`);
  L.push(`  for (var kx = 0u; kx < KW; kx = kx + 1u) {`);
  L.push(`    let kk = ky * KW + kx;`);
  const vs = [];
  for (let j = 0; j < TP; j++) {
    L.push(`    let sy${j} = ty${j} - i32(ky); let sx${j} = tx${j} - i32(kx);`);
    L.push(`    let oy${j} = u32(sy${j}) / p.strideH; let ox${j} = u32(sx${j}) / p.strideW;`);
    L.push(`    let v${j} = (sy${j} >= 0) & (sx${j} >= 0) & (oy${j} * p.strideH == u32(sy${j})) & (ox${j} * p.strideW == u32(sx${j})) & (oy${j} < OH) & (ox${j} < OW);`);
    L.push(`    let off${j} = select(0u, db${j} + oy${j} * OW + ox${j}, v${j});`);
    vs.push(`v${j}`);
  }
  L.push(`    if (${vs.join(' | ')}) {`);
  unrolledLoop(L, '    ', 'o', '0u', 'O', KU, (o, ind) => {
    L.push(`${ind}let od = ${o} * OHW; let ow = ${o} * CKK + kk;`);
    for (let j = 0; j < TP; j++) L.push(`${ind}let dv${j} = select(0.0, dy[off${j} + od], v${j});`);
    for (let i = 0; i < TC; i++) { L.push(`${ind}let wv${i} = w[wb${i} + ow];`); for (let j = 0; j < TP; j++) L.push(`${ind}acc${i}_${j} = ${F(`wv${i}`, `dv${j}`, `acc${i}_${j}`)};`); }
  });
  L.push(`    }`);
  L.push(`  }`, `  }`);
  for (let j = 0; j < TP; j++) {
    L.push(`  if (qs + ${4 * j}u < P) {`);
    L.push(`    let xb = n${j} * C * HW + r${j};`);
    for (let i = 0; i < TC; i++) L.push(`    if (c0 + ${i}u < C) { dx[xb + (c0 + ${i}u) * HW] = acc${i}_${j}; }`);
    L.push(`  }`);
  }
  L.push(`}`);
  return L.join('\n');
}
// backward weight: TO out channels x TC in channels at one (ky,kx)
function genBwdW({ TO = 8, TC = 8, WG = 16, KU = 2 }) {
  const L = [HDR,
    `@group(0) @binding(0) var<storage, read> x: array<f32>;`,
    `@group(0) @binding(1) var<storage, read> dy: array<f32>;`,
    `@group(0) @binding(2) var<storage, read_write> dw: array<f32>;`,
    `@group(0) @binding(3) var<uniform> p: ConvParams;`,
    `@compute @workgroup_size(${WG}, 1, 1)`,
    `fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32, @builtin(num_workgroups) nwg: vec3<u32>) {`,
    `  let C = p.inC; let H = p.inH; let W = p.inW; let O = p.outC; let OH = p.outH; let OW = p.outW; let KW = p.kW; let KK = p.kH * p.kW;`,
    `  let HW = H * W; let OHW = OH * OW;`,
    `  let g = (wid.x + wid.z * nwg.x) * ${WG}u + lid;`,
    `  let CB = (C + ${TC - 1}u) / ${TC}u;`,
    `  if (g >= CB * KK) { return; }`,
    `  let kk = g % KK; let c0 = (g / KK) * ${TC}u; let ky = kk / KW; let kx = kk - ky * KW;`,
    `  let o0 = wid.y * ${TO}u;`];
  for (let i = 0; i < TO; i++) L.push(`  let ob${i} = min(o0 + ${i}u, O - 1u) * OHW;`);
  for (let j = 0; j < TC; j++) L.push(`  let cb${j} = min(c0 + ${j}u, C - 1u) * HW;`);
  for (let i = 0; i < TO; i++) for (let j = 0; j < TC; j++) L.push(`  var acc${i}_${j} = 0.0;`);
  L.push(`  let ix0 = i32(kx) - i32(p.padW);`);
  L.push(`  for (var n = 0u; n < p.batch; n = n + 1u) {`);
  L.push(`  for (var oy = 0u; oy < OH; oy = oy + 1u) {`);
  L.push(`    let iy = i32(oy * p.strideH + ky) - i32(p.padH);`);
  L.push(`    if (u32(iy) < H) {`);
  L.push(`    let xrow = n * C * HW + u32(iy) * W; let drow = n * O * OHW + oy * OW;`);
  unrolledLoop(L, '    ', 'ox', '0u', 'OW', KU, (ox, ind) => {
    L.push(`${ind}let ix = ix0 + i32(${ox} * p.strideW); let v = u32(ix) < W;`);
    L.push(`${ind}let xo = select(0u, xrow + u32(ix), v); let d = drow + ${ox};`);
    for (let j = 0; j < TC; j++) L.push(`${ind}let xv${j} = select(0.0, x[xo + cb${j}], v);`);
    for (let i = 0; i < TO; i++) { L.push(`${ind}let dv${i} = dy[d + ob${i}];`); for (let j = 0; j < TC; j++) L.push(`${ind}acc${i}_${j} = ${F(`dv${i}`, `xv${j}`, `acc${i}_${j}`)};`); }
  });
  L.push(`    }`);
  L.push(`  }`, `  }`);
  for (let i = 0; i < TO; i++) {
    L.push(`  if (o0 + ${i}u < O) {`);
    for (let j = 0; j < TC; j++) L.push(`    if (c0 + ${j}u < C) { dw[((o0 + ${i}u) * C + c0 + ${j}u) * KK + kk] = acc${i}_${j}; }`);
    L.push(`  }`);
  }
  L.push(`}`);
  return L.join('\n');
}

// Matmul: TM rows x TN columns per invocation; the 4 lanes of a SIMD group interleave columns.
function genMatmul({ TM, TN, WGX, WGY, KU }) {
  const L = [];
  L.push(`struct MatmulParams { M: u32, N: u32, K: u32, batch: u32, strideA: u32, strideB: u32, strideC: u32, _pad: u32 };`);
  L.push(`@group(0) @binding(0) var<storage, read> a: array<f32>;`);
  L.push(`@group(0) @binding(1) var<storage, read> b: array<f32>;`);
  L.push(`@group(0) @binding(2) var<storage, read_write> c: array<f32>;`);
  L.push(`@group(0) @binding(3) var<uniform> p: MatmulParams;`);
  L.push(`@compute @workgroup_size(${WGX}, ${WGY}, 1)`);
  L.push(`fn main(@builtin(global_invocation_id) gid: vec3<u32>) {`);
  L.push(`  let M = p.M; let N = p.N; let K = p.K; let bi = gid.z;`);
  L.push(`  let row0 = gid.y * ${TM}u; let col0 = (gid.x >> 2u) * ${4 * TN}u + (gid.x & 3u);`);
  L.push(`  if ((row0 >= M) | (col0 >= N)) { return; }`);
  for (let i = 0; i < TM; i++) L.push(`  let ra${i} = bi * p.strideA + min(row0 + ${i}u, M - 1u) * K;`);
  for (let j = 0; j < TN; j++) L.push(`  let cb${j} = bi * p.strideB + min(col0 + ${4 * j}u, N - 1u);`);
  for (let i = 0; i < TM; i++) for (let j = 0; j < TN; j++) L.push(`  var acc${i}_${j} = 0.0;`);
  const body = (kx, ind) => {
    for (let j = 0; j < TN; j++) L.push(`${ind}let b${j} = b[cb${j} + (${kx}) * N];`);
    for (let i = 0; i < TM; i++) {
      L.push(`${ind}let a${i} = a[ra${i} + ${kx}];`);
      for (let j = 0; j < TN; j++) L.push(`${ind}acc${i}_${j} = ${F(`a${i}`, `b${j}`, `acc${i}_${j}`)};`);
    }
  };
  L.push(`  let KU = K - K % ${KU}u;`);
  L.push(`  var k = 0u;`);
  L.push(`  for (; k < KU; k = k + ${KU}u) {`);
  for (let u = 0; u < KU; u++) { L.push(`   {`); body(`k + ${u}u`, '    '); L.push(`   }`); }
  L.push(`  }`);
  L.push(`  for (; k < K; k = k + 1u) {`); body('k', '    '); L.push(`  }`);
  for (let i = 0; i < TM; i++) {
    L.push(`  if (row0 + ${i}u < M) {`);
    L.push(`    let rc = bi * p.strideC + (row0 + ${i}u) * N + col0;`);
    for (let j = 0; j < TN; j++) L.push(`    if (col0 + ${4 * j}u < N) { c[rc + ${4 * j}u] = acc${i}_${j}; }`);
    L.push(`  }`);
  }
  L.push(`}`);
  return L.join('\n');
}

// binary sparse forward: 8 output channels x TP pixels, one loop over the block's entries (taps included): a loop
// over the taps cost, on SwiftShader, about as much per tap as 4 entries even when the tap had none, which at high
// sparsity was half the kernel's time
function genBinary({ TP = 8, WG = 64 }) {
  const TO = 8;
  return genConvForward({
    TO, TP, WG,
    header: `struct BinaryConvParams { batch: u32, inC: u32, inH: u32, inW: u32, outC: u32, kH: u32, kW: u32, outH: u32, outW: u32, strideH: u32, strideW: u32, padH: u32, padW: u32, _p0: u32, _p1: u32, alpha: f32 };`,
    bindings: ['read> x: array<f32>', 'read> segments: array<u32>', 'read> entries: array<u32>', 'read_write> y: array<f32>'],
    reduce: (L) => {
      L.push(`  for (var e = segments[wid.y]; e < segments[wid.y + 1u]; e = e + 1u) {`);
      L.push(`    let head = entries[3u * e]; let ky = (head >> 16u) & 0xffu; let kx = head >> 24u; let cx = (head & 0xffffu) * HW;`);
      tapOffsets(L, TP);
      for (let j = 0; j < TP; j++) L.push(`    let xv${j} = select(0.0, x[off${j} + cx], v${j});`);
      // The block's 8 weights as signed bytes (+127, -127 or 0): unpack4x8snorm gives +1, -1, 0.
      L.push(`    let wlo = unpack4x8snorm(entries[3u * e + 1u]); let whi = unpack4x8snorm(entries[3u * e + 2u]);`);
      for (let i = 0; i < TO; i++) {
        L.push(`    let wv${i} = ${i < 4 ? 'wlo' : 'whi'}.${'xyzw'[i % 4]};`);
        for (let j = 0; j < TP; j++) L.push(`    acc${i}_${j} = ${F(`wv${i}`, `xv${j}`, `acc${i}_${j}`)};`);
      }
      L.push(`  }`);
    },
    scale: 'p.alpha * ',
  });
}

const mmHdr = `// Batched row-major matmul: C[bi*strideC + m*N + n] = sum_k A[bi*strideA + m*K + k] * B[bi*strideB + k*N + n]
// (strides in elements, 0 = broadcast). Any M, N, K >= 1. Every C element of each batch is overwritten.
// Workgroup size (8, 4, 1) = 32 invocations. One invocation computes an 8 x 8 block of C: 8 consecutive rows
// x 8 columns; the 4 lanes of a SIMD group (consecutive gid.x) interleave their columns, so lane l of group g
// owns columns g*32 + l + 4*j (j = 0..7). One workgroup covers 32 rows x 64 columns.
// Dispatch: dispatchWorkgroups(ceil(N / 64), ceil(M / 32), batch).
// Edges: loads use clamped row/column indices (always in bounds), stores are guarded. K loop unrolled x2.
// Tuned for SwiftShader (Subzero, 4-wide SIMD): no workgroup memory, no barriers. No template placeholders.
`;

const fwdHdr = `// conv2d forward, NCHW, no bias: y[n,o,oy,ox] = sum_{c,ky,kx} w[o,c,ky,kx] * x[n,c,oy*sH-pH+ky, ox*sW-pW+kx]
// (zero padding). Any kernel size, stride, padding. Every y element is overwritten.
// Workgroup size 64 (1-D). One invocation computes 8 output channels x 8 output pixels (64 outputs). Pixels are
// the flattened index q over (n, oy, ox), P = batch*outH*outW; lane l of SIMD group g owns pixels g*32 + l + 4*j.
// Loop order: ky, kx (validity/offsets per pixel computed once) then input channel c (unrolled x2).
// Dispatch: gx = ceil(P / 512); if gx <= 65535: dispatchWorkgroups(gx, ceil(outC / 8), 1)
//           else dispatchWorkgroups(65535, ceil(outC / 8), ceil(gx / 65535))  (the shader linearises
//           wid.x + wid.z * num_workgroups.x and returns past P). No template placeholders.
`;

const biHdr = `// conv2d backward w.r.t. input, NCHW: dx[n,c,iy,ix] = sum_{o,ky,kx} w[o,c,ky,kx] * dy[n,o,oy,ox] over the
// (ky,kx) with oy = (iy+pH-ky)/sH, ox = (ix+pW-kx)/sW exact (divisible) and in range. Any kernel, stride, padding.
// Every dx element is overwritten (no accumulation into prior contents).
// Workgroup size 64 (1-D). One invocation computes 8 input channels x 8 input pixels (64 outputs). Pixels are the
// flattened index q over (n, iy, ix), P = batch*inH*inW; lane l of SIMD group g owns pixels g*32 + l + 4*j.
// Loop order: ky, kx (skipped when no lane has a valid tap), then output channel o.
// Dispatch: gx = ceil(P / 512); if gx <= 65535: dispatchWorkgroups(gx, ceil(inC / 8), 1)
//           else dispatchWorkgroups(65535, ceil(inC / 8), ceil(gx / 65535)). No template placeholders.
`;

const bwHdr = `// conv2d backward w.r.t. weight, NCHW: dw[o,c,ky,kx] = sum_{n,oy,ox} dy[n,o,oy,ox] * x[n,c,oy*sH-pH+ky, ox*sW-pW+kx]
// (zero padding). Any kernel, stride, padding. Single pass, every dw element is overwritten.
// Workgroup size 16 (1-D). One invocation computes 8 output channels x 8 input channels at one (ky,kx) tap
// (64 outputs) and runs the whole batch*outH*outW reduction itself (loops n, oy, ox).
// Invocation index g (over x) = cblock * (kH*kW) + (ky*kW + kx), cblock = c / 8; workgroup y = o / 8.
// Dispatch: gx = ceil(ceil(inC / 8) * kH * kW / 16); dispatchWorkgroups(gx, ceil(outC / 8), 1)
//           (gx > 65535 only for > 8.3M (channel-block, tap) pairs; fold into z like the other kernels:
//           dispatchWorkgroups(65535, ceil(outC / 8), ceil(gx / 65535))). No template placeholders.
`;

const binHdr = `// Binary sparse conv2d forward (inference), NCHW, no bias: y[n,o,oy,ox] = alpha * sum of +-x over the nonzero
// weights (each +1 or -1), scaled once by alpha. Weights come as index lists (BinaryConvWeights in
// src/backend/backend.ts): the entries of the block of 8 output channels b are e in [segments[b], segments[b+1]),
// 3 u32 each: input channel c | ky << 16 | kx << 24, then the block's 8 weights at that (c, ky, kx) as signed bytes
// (unpack4x8snorm: +1, -1 or 0). (c, tap) pairs where all 8 weights are zero have no entry and cost nothing.
// Workgroup size 64 (1-D). One invocation computes 8 output channels x 8 output pixels (the layout of
// conv2d_forward). Dispatch: gx = ceil(P / 512); if gx <= 65535: dispatchWorkgroups(gx, ceil(outC / 8), 1)
//           else dispatchWorkgroups(65535, ceil(outC / 8), ceil(gx / 65535)). No template placeholders.
`;

// Block sizes and unrolling per kernel; src/backend/webgpu/programs.ts launches them.
const GENERATED = '// Generated by scripts/gen-kernels.mjs: edit that script, not this file.\n';
const kernels = {
  matmul: mmHdr + genMatmul({ TM: 8, TN: 8, WGX: 8, WGY: 4, KU: 2 }),
  conv2d_forward: fwdHdr + genFwd({ TO: 8, TP: 8, WG: 64, KU: 2 }),
  conv2d_backward_input: biHdr + genBwdIn({ TC: 8, TP: 8, WG: 64, KU: 1 }),
  conv2d_backward_weight: bwHdr + genBwdW({ TO: 8, TC: 8, WG: 16, KU: 1 }),
  binary_conv2d: binHdr + genBinary({ TP: 8, WG: 64 }),
};

const check = process.argv.includes('--check');
const stale = [];
for (const [name, text] of Object.entries(kernels)) {
  const file = join(shaderDir, `${name}.wgsl`);
  const code = GENERATED + text + '\n';
  if (!check) writeFileSync(file, code);
  else if (readFileSync(file, 'utf8') !== code) stale.push(file);
}
if (stale.length) {
  console.error(`gen-kernels: ${stale.join(', ')} differ from what scripts/gen-kernels.mjs writes; run it and commit the result`);
  process.exit(1);
}
console.log(`gen-kernels: ${Object.keys(kernels).length} kernels ${check ? 'up to date' : 'written'}`);
