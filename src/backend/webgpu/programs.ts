// Launch geometry of the tiled kernel families (matmul, conv2d forward and backward): which
// shader variant, and how many workgroups. The tile sizes here must match the WGSL files.

import type { ConvParams, MatmulParams } from '../backend.js';

export interface Program {
  kernel: string;
  values: Readonly<Record<string, string>>;
  groups: [number, number, number];
}

const ceilDiv = (a: number, b: number): number => Math.ceil(a / b);

/** matmul.wgsl: each workgroup computes a TILE_M x TILE_N block of C. */
const MATMUL_TILE_M = 32;
const MATMUL_TILE_N = 32;

export function matmulProgram(p: MatmulParams): Program {
  return { kernel: 'matmul', values: {}, groups: [ceilDiv(p.n, MATMUL_TILE_N), ceilDiv(p.m, MATMUL_TILE_M), p.batch] };
}

export const convPrograms = {
  forward: (p: ConvParams): Program => ({ kernel: 'conv2d_forward', values: {}, groups: [ceilDiv(p.outH * p.outW, 32), ceilDiv(p.outC, 32), p.batch] }),
  backwardInput: (p: ConvParams): Program => ({ kernel: 'conv2d_backward_input', values: {}, groups: [ceilDiv(p.inH * p.inW, 32), ceilDiv(p.inC, 32), p.batch] }),
  backwardWeight: (p: ConvParams): Program => ({ kernel: 'conv2d_backward_weight', values: {}, groups: [ceilDiv(p.inC * p.kH * p.kW, 32), ceilDiv(p.outC, 32), 1] }),
};
