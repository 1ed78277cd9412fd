// Prunable layers: frozen random weights W, trainable scores s, and a mask mode.
//
//   dense      W is trained (the baseline), no scores
//   edgepopup  W_eff = W * M,                   M = top-k of |S|
//   mpt        W_eff = alpha * sign(W) * M      (multi-prize tickets / biprop)
//
// S = powerProp(s, scoreAlpha). The mask is set from outside (see src/prune/masks.ts) so that
// global scope can select over all layers at once. After score training, `freezeMask()` keeps
// M fixed and makes W trainable for fine-tuning; the binarized forward stays.

import { keep } from '../engine.js';
import { Tensor, rand } from '../tensor.js';
import { mul } from '../ops/elementwise.js';
import { conv2d } from '../ops/conv.js';
import { matmul } from '../ops/matmul.js';
import { binarize, powerProp, powerPropInit, scoreMask } from '../ops/mpt.js';
import { Module, kaimingNormal } from './module.js';

export type MaskMode = 'dense' | 'edgepopup' | 'mpt';

export interface PrunableOptions {
  mode: MaskMode;
  /** Power-propagation exponent for the scores (1 = plain scores). */
  scoreAlpha?: number;
  seed: number;
}

export abstract class PrunableLayer extends Module {
  readonly mode: MaskMode;
  readonly scoreAlpha: number;
  readonly weight: Tensor;
  /** Trainable scores s (null in dense mode). */
  readonly scores: Tensor | null;
  /** The current 0/1 mask (null until set; dense mode has none). */
  mask: Tensor | null = null;
  /** alpha of the last binarized forward (mpt), a scalar tensor. */
  binaryAlpha: Tensor | null = null;
  private maskFrozen = false;

  constructor(shape: number[], readonly fanIn: number, options: PrunableOptions) {
    super();
    this.mode = options.mode;
    this.scoreAlpha = options.scoreAlpha ?? 1;
    const dense = this.mode === 'dense';
    this.weight = kaimingNormal(shape, fanIn, options.seed, dense);
    if (dense) {
      this.scores = null;
      return;
    }
    const bound = 1 / Math.sqrt(fanIn);
    const u = rand(shape, { seed: options.seed + 7919, low: -bound, high: bound });
    this.scores = keep(powerPropInit(u, this.scoreAlpha).detach());
    this.scores.requiresGrad = true;
    u.dispose();
  }

  get prunable(): boolean {
    return this.mode !== 'dense';
  }

  /** |S| = |s|^alpha, the ranking the mask is chosen by (same order as |s|). */
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

  /** The weight the forward uses. */
  effectiveWeight(): Tensor {
    if (this.mode === 'dense') return this.weight;
    if (!this.mask) throw new Error('effectiveWeight: set a mask first (see computeMasks)');
    const m = this.maskFrozen ? this.mask : scoreMask(powerProp(this.scores!, this.scoreAlpha), this.mask);
    if (this.mode === 'edgepopup') return mul(this.weight, m);
    const { weight, alpha } = binarize(this.weight, m);
    this.binaryAlpha?.dispose();
    this.binaryAlpha = keep(alpha.detach());
    return weight;
  }

  override ownTensors(): [string, Tensor][] {
    const own: [string, Tensor][] = [['weight', this.weight]];
    if (this.scores) own.push(['scores', this.scores]);
    if (this.mask) own.push(['mask', this.mask]);
    if (this.binaryAlpha) own.push(['alpha', this.binaryAlpha]);
    return own;
  }
}

export class PrunableLinear extends PrunableLayer {
  constructor(readonly inFeatures: number, readonly outFeatures: number, options: PrunableOptions) {
    super([inFeatures, outFeatures], inFeatures, options);
  }
  forward(x: Tensor): Tensor {
    return matmul(x, this.effectiveWeight());
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
  forward(x: Tensor): Tensor {
    return conv2d(x, this.effectiveWeight(), { stride: this.stride, padding: this.padding });
  }
}
