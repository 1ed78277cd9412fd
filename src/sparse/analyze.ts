// Post-hoc structured pruning analysis (Efficient MPT, section 5): all-zero k x k kernels and
// the acceleration rate of Eq. 4,
//
//   AR = sum_l (N_l M_l D_l^2 k_l^2) / sum_l (P_l D_l^2 k_l^2)
//
// N, M: input and output channels, D: output feature-map size (here H*W, so non-square maps
// count right), k: kernel size, P: kernels with at least one nonzero weight. Skipping zero
// kernels is what a kernel-sparse convolution can save. Linear layers enter as 1x1 kernels on a
// 1x1 map (their "kernels" are single weights); the zero-kernel fraction counts only layers
// with kernels larger than 1x1 (the paper's Fig. 5), and is null for a model without any.

import { type BinaryLayerShape, kernelTaps } from './ticket.js';

export interface KernelCounts extends BinaryLayerShape {
  keptKernels: number;
}

export interface MaskCounts extends KernelCounts {
  /** Nonzero mask entries (the layer's weights when it has no mask). */
  keptWeights: number;
}

export interface LayerAnalysis {
  name: string;
  kind: BinaryLayerShape['kind'];
  kernelSize: number;
  outputSize: [number, number];
  kernels: number;
  zeroKernels: number;
  zeroKernelFraction: number;
  /** Dense multiply-adds per image over kept-kernel multiply-adds; null when every kernel is zero. */
  accelerationRate: number | null;
  denseMacs: number;
  keptKernelMacs: number;
}

export interface TicketAnalysis {
  layers: LayerAnalysis[];
  /** Zero kernels / kernels over the layers with k > 1; null without such layers. */
  zeroKernelFraction: number | null;
  accelerationRate: number | null;
}

/** Kept kernels and weights of a layer's mask (every one without a mask). */
export function maskCounts(shape: BinaryLayerShape, mask: Float32Array | null): MaskCounts {
  const taps = kernelTaps(shape);
  if (!mask) return { ...shape, keptKernels: shape.outChannels * shape.inChannels, keptWeights: shape.outChannels * shape.inChannels * taps };
  return { ...shape, keptKernels: keptKernelCount(mask, taps), keptWeights: mask.reduce((n, v) => n + (v !== 0 ? 1 : 0), 0) };
}

/** Kernels (groups of `taps` consecutive mask values) with at least one nonzero. */
export function keptKernelCount(mask: Float32Array, taps: number): number {
  let kept = 0;
  for (let k = 0; k < mask.length; k += taps) {
    for (let t = 0; t < taps; t++) {
      if (mask[k + t] !== 0) {
        kept++;
        break;
      }
    }
  }
  return kept;
}

export function analyzeTicket(layers: readonly KernelCounts[]): TicketAnalysis {
  const out = layers.map((l): LayerAnalysis => {
    const kernels = l.outChannels * l.inChannels;
    const perKernel = l.outputSize[0] * l.outputSize[1] * kernelTaps(l);
    const denseMacs = kernels * perKernel;
    const keptKernelMacs = l.keptKernels * perKernel;
    return {
      name: l.name,
      kind: l.kind,
      kernelSize: l.kernelSize,
      outputSize: l.outputSize,
      kernels,
      zeroKernels: kernels - l.keptKernels,
      zeroKernelFraction: (kernels - l.keptKernels) / kernels,
      accelerationRate: keptKernelMacs > 0 ? denseMacs / keptKernelMacs : null,
      denseMacs,
      keptKernelMacs,
    };
  });
  const sum = (ls: LayerAnalysis[], f: (l: LayerAnalysis) => number): number => ls.reduce((a, l) => a + f(l), 0);
  const withKernels = out.filter((l) => l.kernelSize > 1);
  const kept = sum(out, (l) => l.keptKernelMacs);
  return {
    layers: out,
    zeroKernelFraction: withKernels.length ? sum(withKernels, (l) => l.zeroKernels) / sum(withKernels, (l) => l.kernels) : null,
    accelerationRate: kept > 0 ? sum(out, (l) => l.denseMacs) / kept : null,
  };
}
