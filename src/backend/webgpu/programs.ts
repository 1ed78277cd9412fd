// Launch geometry of the register-blocked kernel families (matmul, conv2d forward and both
// backward passes): how many workgroups cover a problem. The block sizes here must match the
// WGSL files, whose header comments give the same formulas.
//
// Tuned on SwiftShader (Subzero, 4-wide SIMD, 2 cores): each invocation computes an 8x8 block
// of outputs in registers; no workgroup memory and no barriers, which measured slower there.
// Also here, as the same kind of knob: how pooling windows are written into their kernel.

import type { ConvParams, MatmulParams } from '../backend.js';

export interface Program {
  kernel: string;
  values: Readonly<Record<string, string>>;
  groups: [number, number, number];
}

/** WebGPU's limit of workgroups per dimension of a dispatch. */
export const MAX_WORKGROUPS_PER_DIM = 65535;
const ceilDiv = (a: number, b: number): number => Math.ceil(a / b);

/** matmul.wgsl: a workgroup of 8x4 invocations covers 32 rows x 64 columns of C. */
export function matmulProgram(p: MatmulParams): Program {
  return { kernel: 'matmul', values: {}, groups: [ceilDiv(p.n, 64), ceilDiv(p.m, 32), p.batch] };
}

/** The conv kernels linearise wid.x + wid.z * num_workgroups.x, so a long x folds into z. */
function convGroups(gx: number, gy: number): [number, number, number] {
  return gx <= MAX_WORKGROUPS_PER_DIM ? [gx, gy, 1] : [MAX_WORKGROUPS_PER_DIM, gy, ceilDiv(gx, MAX_WORKGROUPS_PER_DIM)];
}

export const convPrograms = {
  /** 64 invocations x (8 output channels x 8 output pixels). */
  forward: (p: ConvParams): Program => ({
    kernel: 'conv2d_forward', values: {}, groups: convGroups(ceilDiv(p.batch * p.outH * p.outW, 512), ceilDiv(p.outC, 8)),
  }),
  /** 64 invocations x (8 input channels x 8 input pixels). */
  backwardInput: (p: ConvParams): Program => ({
    kernel: 'conv2d_backward_input', values: {}, groups: convGroups(ceilDiv(p.batch * p.inH * p.inW, 512), ceilDiv(p.inC, 8)),
  }),
  /** binary_conv2d.wgsl: 64 invocations x (8 output channels x 8 output pixels). */
  binaryForward: (p: ConvParams): Program => ({
    kernel: 'binary_conv2d', values: {}, groups: convGroups(ceilDiv(p.batch * p.outH * p.outW, 512), ceilDiv(p.outC, 8)),
  }),
  /** 16 invocations x (8 output x 8 input channels at one kernel tap), each reducing over N*OH*OW. */
  backwardWeight: (p: ConvParams): Program => ({
    kernel: 'conv2d_backward_weight', values: {}, groups: convGroups(ceilDiv(ceilDiv(p.inC, 8) * p.kH * p.kW, 16), ceilDiv(p.outC, 8)),
  }),
};

/** Windows of at most this many positions are written out one by one in pool2d_forward.wgsl. */
const MAX_UNROLLED_POOL_TAPS = 16;

/**
 * pool2d_forward.wgsl's {{WINDOW}}: the visits of a kH x kW window, row by row (the order
 * decides ties of max pooling: the first maximum wins). Written out for small windows (a loop
 * over a 2x2 window measured 2x slower on SwiftShader), a loop for larger ones (global pooling).
 */
export function poolWindow(kH: number, kW: number): string {
  if (kH * kW > MAX_UNROLLED_POOL_TAPS) {
    return `for (var ky = 0; ky < ${kH}; ky++) { for (var kx = 0; kx < ${kW}; kx++) { w = visit(w, base, y0 + ky, x0 + kx); } }`;
  }
  const visits: string[] = [];
  for (let ky = 0; ky < kH; ky++) for (let kx = 0; kx < kW; kx++) visits.push(`w = visit(w, base, y0 + ${ky}, x0 + ${kx});`);
  return visits.join(' ');
}
