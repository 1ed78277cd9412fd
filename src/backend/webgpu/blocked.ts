// The register-blocked kernels (matmul, conv2d forward and both backward passes, the binary
// sparse conv): WGSL generated when the pipeline is made, from the tiles that kernels.ts also
// launches them with.
//
// Each invocation keeps a block of outputs (8 x 8) in registers. WGSL has no macros, and loop
// overhead measured up to 2x on SwiftShader, so the blocks are written out unrolled here. Tuned
// on SwiftShader (Subzero, 4-wide SIMD): no workgroup memory and no barriers, which measured
// slower there. Loads use clamped indices (always in bounds), stores are guarded. Every output
// element is overwritten. The uniform block `p` (struct Params) is generated from the kernel's
// layout and prepended by the loader.

/** Outputs of one invocation and the shape of a workgroup. */
export interface Tile {
  /** Output rows (matmul) or output / input channels (conv) of one invocation. */
  rows: number;
  /** Columns (matmul), pixels or input channels (conv) of one invocation. */
  cols: number;
  /** Invocations of a workgroup, x (and y for matmul). */
  workgroup: readonly [number, number];
  /** Unrolling of the innermost reduction loop. */
  unroll: number;
}

const fma = (a: string, b: string, c: string): string => `fma(${a}, ${b}, ${c})`;

/** for v in [lo, hi), unrolled `unroll` times with a remainder loop. */
function unrolledLoop(L: string[], ind: string, v: string, lo: string, hi: string, unroll: number, body: (v: string, ind: string) => void): void {
  if (unroll === 1) {
    L.push(`${ind}for (var ${v} = ${lo}; ${v} < ${hi}; ${v} = ${v} + 1u) {`);
    body(v, `${ind}  `);
    L.push(`${ind}}`);
    return;
  }
  L.push(`${ind}var ${v} = ${lo};`, `${ind}let ${v}End = ${lo} + ((${hi} - ${lo}) / ${unroll}u) * ${unroll}u;`, `${ind}for (; ${v} < ${v}End; ${v} = ${v} + ${unroll}u) {`);
  for (let u = 0; u < unroll; u++) {
    L.push(`${ind}  {`, `${ind}    let ${v}u = ${v} + ${u}u;`);
    body(`${v}u`, `${ind}    `);
    L.push(`${ind}  }`);
  }
  L.push(`${ind}}`, `${ind}for (; ${v} < ${hi}; ${v} = ${v} + 1u) {`);
  body(v, `${ind}  `);
  L.push(`${ind}}`);
}

const bindings = (list: string[]): string[] => [...list.map((b, i) => `@group(0) @binding(${i}) var<storage, ${b};`), `@group(0) @binding(${list.length}) var<uniform> p: Params;`];

/** The bindings and the entry point of a kernel with 1-D workgroups of `size`. */
const entry1d = (list: string[], size: number): string[] => [
  ...bindings(list),
  `@compute @workgroup_size(${size}, 1, 1)`,
  'fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32, @builtin(num_workgroups) nwg: vec3<u32>) {',
];

/** The TP output pixels of an invocation (flattened over n, oy, ox; lane l of SIMD group g owns g*4*TP + l + 4*j): batch offset into x and the top-left input coordinate of each. */
function outputPixels(L: string[], TP: number): void {
  for (let j = 0; j < TP; j++) {
    L.push(
      `  let q${j} = min(qs + ${4 * j}u, P - 1u); let n${j} = q${j} / OHW; let r${j} = q${j} - n${j} * OHW; let oy${j} = r${j} / p.outW; let ox${j} = r${j} - oy${j} * p.outW;`,
    );
    L.push(`  let xb${j} = n${j} * C * HW; let iy${j} = i32(oy${j} * p.strideH) - i32(p.padH); let ix${j} = i32(ox${j} * p.strideW) - i32(p.padW);`);
  }
}

/** At tap (ky, kx): each pixel's input offset and whether it is inside the image. */
function tapOffsets(L: string[], TP: number): void {
  for (let j = 0; j < TP; j++) {
    L.push(`    let yy${j} = iy${j} + i32(ky); let xx${j} = ix${j} + i32(kx);`);
    L.push(`    let v${j} = (u32(yy${j}) < H) & (u32(xx${j}) < W);`);
    L.push(`    let off${j} = select(0u, xb${j} + u32(yy${j}) * W + u32(xx${j}), v${j});`);
  }
}

interface ConvForwardParts {
  tile: Tile;
  bindings: string[];
  /** Lines before `reduce`. */
  setup?: (L: string[]) => void;
  /** The accumulation into acc{i}_{j}. */
  reduce: (L: string[]) => void;
  /** Prefix of the stored value (the binary conv's alpha). */
  scale?: string;
}

/** A forward conv kernel: `tile.rows` output channels x `tile.cols` pixels per invocation. */
function convForward({ tile, bindings: list, setup, reduce, scale = '' }: ConvForwardParts): string {
  const { rows: TO, cols: TP } = tile;
  const WG = tile.workgroup[0];
  const L = [
    ...entry1d(list, WG),
    `  let C = p.inC; let H = p.inH; let W = p.inW; let O = p.outC; let KW = p.kW; let KK = p.kH * p.kW;`,
    `  let HW = H * W; let OHW = p.outH * p.outW; let P = p.batch * OHW;`,
    `  let g = (wid.x + wid.z * nwg.x) * ${WG}u + lid;`,
    `  let qs = (g >> 2u) * ${4 * TP}u + (g & 3u);`,
    `  if (qs >= P) { return; }`,
    `  let o0 = wid.y * ${TO}u;`,
  ];
  outputPixels(L, TP);
  setup?.(L);
  for (let i = 0; i < TO; i++) for (let j = 0; j < TP; j++) L.push(`  var acc${i}_${j} = 0.0;`);
  reduce(L);
  for (let j = 0; j < TP; j++) {
    L.push(`  if (qs + ${4 * j}u < P) {`, `    let yb = n${j} * O * OHW + r${j};`);
    for (let i = 0; i < TO; i++) L.push(`    if (o0 + ${i}u < O) { y[yb + (o0 + ${i}u) * OHW] = ${scale}acc${i}_${j}; }`);
    L.push(`  }`);
  }
  L.push(`}`);
  return L.join('\n');
}

/**
 * conv2d forward, NCHW, no bias: y[n,o,oy,ox] = sum_{c,ky,kx} w[o,c,ky,kx] * x[n,c,oy*sH-pH+ky,
 * ox*sW-pW+kx] (zero padding). Loops over the taps (each pixel's offsets computed once per tap),
 * then over input channels.
 */
export function conv2dForwardWgsl(tile: Tile): string {
  const { rows: TO, cols: TP } = tile;
  return convForward({
    tile,
    bindings: ['read> x: array<f32>', 'read> w: array<f32>', 'read_write> y: array<f32>'],
    setup: (L) => {
      for (let i = 0; i < TO; i++) L.push(`  let wb${i} = min(o0 + ${i}u, O - 1u) * C * KK;`);
    },
    reduce: (L) => {
      L.push(`  for (var ky = 0u; ky < p.kH; ky = ky + 1u) {`, `  for (var kx = 0u; kx < KW; kx = kx + 1u) {`, `    let kk = ky * KW + kx;`);
      tapOffsets(L, TP);
      unrolledLoop(L, '    ', 'c', '0u', 'C', tile.unroll, (c, ind) => {
        L.push(`${ind}let cx = ${c} * HW; let cw = ${c} * KK + kk;`);
        for (let j = 0; j < TP; j++) L.push(`${ind}let xv${j} = select(0.0, x[off${j} + cx], v${j});`);
        for (let i = 0; i < TO; i++) {
          L.push(`${ind}let wv${i} = w[wb${i} + cw];`);
          for (let j = 0; j < TP; j++) L.push(`${ind}acc${i}_${j} = ${fma(`wv${i}`, `xv${j}`, `acc${i}_${j}`)};`);
        }
      });
      L.push(`  }`, `  }`);
    },
  });
}

/**
 * conv2d backward w.r.t. the input, NCHW: dx[n,c,iy,ix] = sum_{o,ky,kx} w[o,c,ky,kx] *
 * dy[n,o,oy,ox] over the (ky,kx) with oy = (iy+pH-ky)/sH, ox = (ix+pW-kx)/sW exact and in range.
 * `tile.rows` input channels x `tile.cols` input pixels per invocation; a tap is skipped when no
 * lane has a valid one.
 */
export function conv2dBackwardInputWgsl(tile: Tile): string {
  const { rows: TC, cols: TP } = tile;
  const WG = tile.workgroup[0];
  const L = [
    ...entry1d(['read> dy: array<f32>', 'read> w: array<f32>', 'read_write> dx: array<f32>'], WG),
    `  let C = p.inC; let H = p.inH; let W = p.inW; let O = p.outC; let OH = p.outH; let OW = p.outW; let KW = p.kW; let KK = p.kH * p.kW; let CKK = C * KK;`,
    `  let HW = H * W; let OHW = OH * OW; let P = p.batch * HW;`,
    `  let g = (wid.x + wid.z * nwg.x) * ${WG}u + lid;`,
    `  let qs = (g >> 2u) * ${4 * TP}u + (g & 3u);`,
    `  if (qs >= P) { return; }`,
    `  let c0 = wid.y * ${TC}u;`,
  ];
  for (let j = 0; j < TP; j++) {
    L.push(`  let q${j} = min(qs + ${4 * j}u, P - 1u); let n${j} = q${j} / HW; let r${j} = q${j} - n${j} * HW; let iy${j} = r${j} / W; let ix${j} = r${j} - iy${j} * W;`);
    L.push(`  let db${j} = n${j} * O * OHW; let ty${j} = i32(iy${j} + p.padH); let tx${j} = i32(ix${j} + p.padW);`);
  }
  for (let i = 0; i < TC; i++) L.push(`  let wb${i} = min(c0 + ${i}u, C - 1u) * KK;`);
  for (let i = 0; i < TC; i++) for (let j = 0; j < TP; j++) L.push(`  var acc${i}_${j} = 0.0;`);
  L.push(`  for (var ky = 0u; ky < p.kH; ky = ky + 1u) {`, `  for (var kx = 0u; kx < KW; kx = kx + 1u) {`, `    let kk = ky * KW + kx;`);
  const valid: string[] = [];
  for (let j = 0; j < TP; j++) {
    L.push(`    let sy${j} = ty${j} - i32(ky); let sx${j} = tx${j} - i32(kx);`);
    L.push(`    let oy${j} = u32(sy${j}) / p.strideH; let ox${j} = u32(sx${j}) / p.strideW;`);
    L.push(`    let v${j} = (sy${j} >= 0) & (sx${j} >= 0) & (oy${j} * p.strideH == u32(sy${j})) & (ox${j} * p.strideW == u32(sx${j})) & (oy${j} < OH) & (ox${j} < OW);`);
    L.push(`    let off${j} = select(0u, db${j} + oy${j} * OW + ox${j}, v${j});`);
    valid.push(`v${j}`);
  }
  L.push(`    if (${valid.join(' | ')}) {`);
  unrolledLoop(L, '    ', 'o', '0u', 'O', tile.unroll, (o, ind) => {
    L.push(`${ind}let od = ${o} * OHW; let ow = ${o} * CKK + kk;`);
    for (let j = 0; j < TP; j++) L.push(`${ind}let dv${j} = select(0.0, dy[off${j} + od], v${j});`);
    for (let i = 0; i < TC; i++) {
      L.push(`${ind}let wv${i} = w[wb${i} + ow];`);
      for (let j = 0; j < TP; j++) L.push(`${ind}acc${i}_${j} = ${fma(`wv${i}`, `dv${j}`, `acc${i}_${j}`)};`);
    }
  });
  L.push(`    }`, `  }`, `  }`);
  for (let j = 0; j < TP; j++) {
    L.push(`  if (qs + ${4 * j}u < P) {`, `    let xb = n${j} * C * HW + r${j};`);
    for (let i = 0; i < TC; i++) L.push(`    if (c0 + ${i}u < C) { dx[xb + (c0 + ${i}u) * HW] = acc${i}_${j}; }`);
    L.push(`  }`);
  }
  L.push(`}`);
  return L.join('\n');
}

/**
 * conv2d backward w.r.t. the weight, NCHW: dw[o,c,ky,kx] = sum_{n,oy,ox} dy[n,o,oy,ox] *
 * x[n,c,oy*sH-pH+ky, ox*sW-pW+kx]. `tile.rows` output channels x `tile.cols` input channels at
 * one tap per invocation, each running the whole batch*outH*outW reduction; invocation g =
 * channel block * kH*kW + tap, workgroup y = output channel block.
 */
export function conv2dBackwardWeightWgsl(tile: Tile): string {
  const { rows: TO, cols: TC } = tile;
  const WG = tile.workgroup[0];
  const L = [
    ...entry1d(['read> x: array<f32>', 'read> dy: array<f32>', 'read_write> dw: array<f32>'], WG),
    `  let C = p.inC; let H = p.inH; let W = p.inW; let O = p.outC; let OH = p.outH; let OW = p.outW; let KW = p.kW; let KK = p.kH * p.kW;`,
    `  let HW = H * W; let OHW = OH * OW;`,
    `  let g = (wid.x + wid.z * nwg.x) * ${WG}u + lid;`,
    `  let CB = (C + ${TC - 1}u) / ${TC}u;`,
    `  if (g >= CB * KK) { return; }`,
    `  let kk = g % KK; let c0 = (g / KK) * ${TC}u; let ky = kk / KW; let kx = kk - ky * KW;`,
    `  let o0 = wid.y * ${TO}u;`,
  ];
  for (let i = 0; i < TO; i++) L.push(`  let ob${i} = min(o0 + ${i}u, O - 1u) * OHW;`);
  for (let j = 0; j < TC; j++) L.push(`  let cb${j} = min(c0 + ${j}u, C - 1u) * HW;`);
  for (let i = 0; i < TO; i++) for (let j = 0; j < TC; j++) L.push(`  var acc${i}_${j} = 0.0;`);
  L.push(
    `  let ix0 = i32(kx) - i32(p.padW);`,
    `  for (var n = 0u; n < p.batch; n = n + 1u) {`,
    `  for (var oy = 0u; oy < OH; oy = oy + 1u) {`,
    `    let iy = i32(oy * p.strideH + ky) - i32(p.padH);`,
    `    if (u32(iy) < H) {`,
    `    let xrow = n * C * HW + u32(iy) * W; let drow = n * O * OHW + oy * OW;`,
  );
  unrolledLoop(L, '    ', 'ox', '0u', 'OW', tile.unroll, (ox, ind) => {
    L.push(`${ind}let ix = ix0 + i32(${ox} * p.strideW); let v = u32(ix) < W;`, `${ind}let xo = select(0u, xrow + u32(ix), v); let d = drow + ${ox};`);
    for (let j = 0; j < TC; j++) L.push(`${ind}let xv${j} = select(0.0, x[xo + cb${j}], v);`);
    for (let i = 0; i < TO; i++) {
      L.push(`${ind}let dv${i} = dy[d + ob${i}];`);
      for (let j = 0; j < TC; j++) L.push(`${ind}acc${i}_${j} = ${fma(`dv${i}`, `xv${j}`, `acc${i}_${j}`)};`);
    }
  });
  L.push(`    }`, `  }`, `  }`);
  for (let i = 0; i < TO; i++) {
    L.push(`  if (o0 + ${i}u < O) {`);
    for (let j = 0; j < TC; j++) L.push(`    if (c0 + ${j}u < C) { dw[((o0 + ${i}u) * C + c0 + ${j}u) * KK + kk] = acc${i}_${j}; }`);
    L.push(`  }`);
  }
  L.push(`}`);
  return L.join('\n');
}

/**
 * Batched row-major matmul: C[bi*strideC + m*N + n] = sum_k A[bi*strideA + m*K + k] *
 * B[bi*strideB + k*N + n] (strides in elements, 0 = broadcast). `tile.rows` consecutive rows x
 * `tile.cols` columns per invocation; the 4 lanes of a SIMD group (consecutive gid.x)
 * interleave their columns, so lane l of group g owns columns g*4*cols + l + 4*j.
 */
export function matmulWgsl(tile: Tile): string {
  const { rows: TM, cols: TN, unroll: KU } = tile;
  const L = [
    ...bindings(['read> a: array<f32>', 'read> b: array<f32>', 'read_write> c: array<f32>']),
    `@compute @workgroup_size(${tile.workgroup[0]}, ${tile.workgroup[1]}, 1)`,
    `fn main(@builtin(global_invocation_id) gid: vec3<u32>) {`,
    `  let M = p.M; let N = p.N; let K = p.K; let bi = gid.z;`,
    `  let row0 = gid.y * ${TM}u; let col0 = (gid.x >> 2u) * ${4 * TN}u + (gid.x & 3u);`,
    `  if ((row0 >= M) | (col0 >= N)) { return; }`,
  ];
  for (let i = 0; i < TM; i++) L.push(`  let ra${i} = bi * p.strideA + min(row0 + ${i}u, M - 1u) * K;`);
  for (let j = 0; j < TN; j++) L.push(`  let cb${j} = bi * p.strideB + min(col0 + ${4 * j}u, N - 1u);`);
  for (let i = 0; i < TM; i++) for (let j = 0; j < TN; j++) L.push(`  var acc${i}_${j} = 0.0;`);
  const body = (kx: string, ind: string): void => {
    for (let j = 0; j < TN; j++) L.push(`${ind}let b${j} = b[cb${j} + (${kx}) * N];`);
    for (let i = 0; i < TM; i++) {
      L.push(`${ind}let a${i} = a[ra${i} + ${kx}];`);
      for (let j = 0; j < TN; j++) L.push(`${ind}acc${i}_${j} = ${fma(`a${i}`, `b${j}`, `acc${i}_${j}`)};`);
    }
  };
  L.push(`  let KU = K - K % ${KU}u;`, `  var k = 0u;`, `  for (; k < KU; k = k + ${KU}u) {`);
  for (let u = 0; u < KU; u++) {
    L.push(`   {`);
    body(`k + ${u}u`, '    ');
    L.push(`   }`);
  }
  L.push(`  }`, `  for (; k < K; k = k + 1u) {`);
  body('k', '    ');
  L.push(`  }`);
  for (let i = 0; i < TM; i++) {
    L.push(`  if (row0 + ${i}u < M) {`, `    let rc = bi * p.strideC + (row0 + ${i}u) * N + col0;`);
    for (let j = 0; j < TN; j++) L.push(`    if (col0 + ${4 * j}u < N) { c[rc + ${4 * j}u] = acc${i}_${j}; }`);
    L.push(`  }`);
  }
  L.push(`}`);
  return L.join('\n');
}

/**
 * Binary sparse conv2d forward (inference), NCHW, no bias: y = alpha * the sum of +-x over the
 * nonzero weights. The weights come as index lists (BinaryConvWeights in backend.ts): the
 * entries of the block of 8 output channels b are e in [segments[b], segments[b+1]), 3 u32 each:
 * input channel c | ky << 16 | kx << 24, then the block's 8 weights at that (c, ky, kx) as signed
 * bytes. One loop over the block's entries, taps included: a loop over the taps cost, on
 * SwiftShader, about as much per tap as 4 entries even when the tap had none.
 */
export function binaryConv2dWgsl(tile: Tile): string {
  const { rows: TO, cols: TP } = tile;
  if (TO !== 8) throw new Error('internal: the binary conv packs 8 output channels per entry');
  return convForward({
    tile,
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
        for (let j = 0; j < TP; j++) L.push(`    acc${i}_${j} = ${fma(`wv${i}`, `xv${j}`, `acc${i}_${j}`)};`);
      }
      L.push(`  }`);
    },
    scale: 'p.alpha * ',
  });
}
