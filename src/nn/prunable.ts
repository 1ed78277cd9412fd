// Prunable layers: frozen random weights W, trainable scores s, and a mask mode.
//
//   dense      W is trained (the baseline), no scores
//   edgepopup  W_eff = W * M,                   M = top-k of |S|
//   mpt        W_eff = alpha * sign(W) * M      (multi-prize tickets / biprop)
//   masked     W_eff = W * M, W trained, M fixed by a pruning method (IMP, SynFlow, SNIP, ...);
//              starts all ones, and `applyMask()` after each optimizer step keeps pruned W at 0
//   gemminer   W_eff = W * M, M = p > 0.5 with a straight-through gradient to the scores p in
//              [0, 1] (Gem-Miner); W frozen
//
// S = powerProp(s, scoreAlpha). The mask is set from outside (see src/prune/masks.ts) so that
// global scope can select over all layers at once. After score training, `freezeMask()` keeps
// M fixed and makes W trainable for fine-tuning; the binarized forward stays.

import { keep, noGrad, scope } from '../engine.js';
import { type Tensor, ones, rand } from '../tensor.js';
import { mul } from '../ops/elementwise.js';
import { conv2d } from '../ops/conv.js';
import { matmul } from '../ops/matmul.js';
import { binarize, powerProp, powerPropInit, scoreMask, straightThrough } from '../ops/mpt.js';
import { thresholdMask } from '../ops/topk.js';
import { Module, kaimingNormal } from './module.js';
import type { BinaryLayerShape } from '../sparse/ticket.js';

export const MASK_MODES = ['dense', 'edgepopup', 'mpt', 'masked', 'gemminer'] as const;
export type MaskMode = (typeof MASK_MODES)[number];

/** Gem-Miner keeps the weights whose score p is above this. */
const GEMMINER_THRESHOLD = 0.5;

export interface PrunableOptions {
  mode: MaskMode;
  /** Power-propagation exponent for the scores (1 = plain scores). */
  scoreAlpha?: number;
  seed: number;
  /**
   * The weights are drawn as if the fan-in were fanIn * initDensity (default 1): a mask that
   * keeps the fraction d of the weights then keeps the layer's output variance, as the
   * edge-popup references' scale_fan meant to (docs/algorithms.md 1).
   */
  initDensity?: number;
}

export abstract class PrunableLayer extends Module {
  readonly mode: MaskMode;
  readonly scoreAlpha: number;
  /** The density the weights were drawn for (PrunableOptions.initDensity). */
  readonly initDensity: number;
  readonly weight: Tensor;
  /** Trainable scores s (null in dense and masked modes). */
  readonly scores: Tensor | null;
  /** The current 0/1 mask (null until set; dense mode has none). */
  mask: Tensor | null = null;
  /** alpha of the last binarized forward (mpt), a scalar tensor. */
  binaryAlpha: Tensor | null = null;
  private maskFrozen = false;

  constructor(
    shape: number[],
    readonly fanIn: number,
    options: PrunableOptions,
  ) {
    super();
    this.mode = options.mode;
    this.scoreAlpha = options.scoreAlpha ?? 1;
    const trainsWeight = this.mode === 'dense' || this.mode === 'masked';
    this.initDensity = options.initDensity ?? 1;
    if (!(this.initDensity > 0 && this.initDensity <= 1)) throw new Error(`initDensity must be in (0, 1], got ${this.initDensity}`);
    this.weight = kaimingNormal(shape, fanIn * this.initDensity, options.seed, trainsWeight);
    if (trainsWeight) {
      this.scores = null;
      if (this.mode === 'masked') this.mask = keep(ones(shape));
      return;
    }
    if (this.mode === 'gemminer') {
      // Gem-Miner's scores are probabilities-like values in [0, 1], initialised U[0, 1].
      this.scores = keep(rand(shape, { seed: options.seed + 7919, requiresGrad: true }));
      return;
    }
    const bound = 1 / Math.sqrt(fanIn);
    // In a scope: the uniform draw and the graph node before detach() are freed.
    this.scores = scope(() => keep(powerPropInit(rand(shape, { seed: options.seed + 7919, low: -bound, high: bound }), this.scoreAlpha).detach()));
    this.scores.requiresGrad = true;
  }

  /** True when the layer has scores to choose its mask from (computeMasks). */
  get prunable(): boolean {
    return this.scores !== null;
  }

  /** What the mask ranks: s itself, since |s| orders like |S| = |s|^alpha (no powerProp needed). */
  rankingScores(): Tensor {
    if (!this.scores) throw new Error('rankingScores: a dense layer has no scores');
    return this.scores;
  }

  setMask(mask: Tensor): void {
    if (this.maskFrozen) throw new Error('setMask: the mask is frozen for fine-tuning');
    if (mask.size !== this.weight.size) throw new Error(`setMask: mask of ${mask.size} elements for a weight of ${this.weight.size}`);
    this.mask?.dispose();
    this.mask = keep(mask);
  }

  /** Fine-tuning: the mask stays, scores stop training, W trains (if `trainWeight`). */
  freezeMask(trainWeight: boolean): void {
    if (!this.mask) throw new Error('freezeMask: no mask has been set');
    this.maskFrozen = true;
    if (this.scores) this.scores.requiresGrad = false;
    this.weight.requiresGrad = trainWeight;
  }

  /**
   * W <- W * M in place (masked mode): called after every optimizer step so that momentum and
   * weight decay never revive a pruned weight, and after rewinding W.
   */
  applyMask(): void {
    if (this.mode !== 'masked') throw new Error(`applyMask: only masked layers train their weights under a fixed mask (mode ${this.mode})`);
    const mask = this.mask!;
    noGrad(() => {
      const masked = mul(this.weight, mask);
      this.weight.assign(masked);
      masked.dispose();
    });
  }

  /** The weight the forward uses. */
  effectiveWeight(): Tensor {
    if (this.mode === 'dense') return this.weight;
    if (this.mode === 'gemminer' && !this.maskFrozen) {
      const mask = thresholdMask(this.scores!, GEMMINER_THRESHOLD);
      this.setMask(mask);
      return mul(this.weight, straightThrough(this.scores!, mask));
    }
    if (!this.mask) throw new Error('effectiveWeight: set a mask first (see computeMasks)');
    if (this.mode === 'masked' || this.mode === 'gemminer') return mul(this.weight, this.mask);
    const m = this.maskFrozen ? this.mask : scoreMask(powerProp(this.scores!, this.scoreAlpha), this.mask);
    if (this.mode === 'edgepopup') return mul(this.weight, m);
    const { weight, alpha } = binarize(this.weight, m);
    this.binaryAlpha?.dispose();
    this.binaryAlpha = keep(alpha.detach());
    return weight;
  }

  /** The layer as a (1x1 for linear) convolution, for the compact form and its analysis. */
  abstract describe(name: string): BinaryLayerShape;

  override ownTensors(): [string, Tensor][] {
    const own: [string, Tensor][] = [['weight', this.weight]];
    if (this.scores) own.push(['scores', this.scores]);
    if (this.mask) own.push(['mask', this.mask]);
    if (this.binaryAlpha) own.push(['alpha', this.binaryAlpha]);
    return own;
  }
}

export class PrunableLinear extends PrunableLayer {
  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    options: PrunableOptions,
  ) {
    super([inFeatures, outFeatures], inFeatures, options);
  }
  forward(x: Tensor): Tensor {
    return matmul(x, this.effectiveWeight());
  }
  describe(name: string): BinaryLayerShape {
    return { name, kind: 'linear', outChannels: this.outFeatures, inChannels: this.inFeatures, kernelSize: 1, stride: 1, padding: 0, outputSize: [1, 1] };
  }
}

export class PrunableConv2d extends PrunableLayer {
  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernelSize: number,
    options: PrunableOptions & { stride?: number; padding?: number },
  ) {
    super([outChannels, inChannels, kernelSize, kernelSize], inChannels * kernelSize * kernelSize, options);
    this.stride = options.stride ?? 1;
    this.padding = options.padding ?? 0;
  }
  readonly stride: number;
  readonly padding: number;
  /** Output feature-map size [H, W] of the last forward (null before one). */
  private outputSize: [number, number] | null = null;
  forward(x: Tensor): Tensor {
    const y = conv2d(x, this.effectiveWeight(), { stride: this.stride, padding: this.padding });
    this.outputSize = [y.shape[2], y.shape[3]];
    return y;
  }
  describe(name: string): BinaryLayerShape {
    if (!this.outputSize) throw new Error(`${name}: the output size is known after a forward pass`);
    return {
      name,
      kind: 'conv',
      outChannels: this.outChannels,
      inChannels: this.inChannels,
      kernelSize: this.kernelSize,
      stride: this.stride,
      padding: this.padding,
      outputSize: this.outputSize,
    };
  }
}
