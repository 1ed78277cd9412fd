// Choosing the masks of a model's prunable layers from their scores, every training step.

import { noGrad } from '../engine.js';
import type { Tensor } from '../tensor.js';
import { TOPK_METHODS, type TopkMethod } from '../backend/backend.js';
import { powerProp } from '../ops/mpt.js';
import { thresholdMask, topkMask } from '../ops/topk.js';
import type { Module } from '../nn/module.js';
import { prunableLayers } from '../nn/models.js';

/** Where a mask's top-k is taken: in each layer, or over all prunable weights together. */
export const SCOPES = ['layer', 'global'] as const;
export type Scope = (typeof SCOPES)[number];

export interface MaskConfig {
  /** Fraction of weights kept. */
  density: number;
  scope: Scope;
  /** The exact top-k by a bitonic sort or by a parallel threshold select. */
  method: TopkMethod;
  /** A fixed threshold on |S| instead of a top-k (the density then follows the scores). */
  tau?: number;
}

/**
 * biprop's global-scope sparsity ramp: before `rampEpochs`, when the target density is <= 0.5,
 * the pruned fraction starts at 0.5 and reaches the target with a cubic schedule.
 */
export function rampedDensity(density: number, scope: Scope, epoch: number, rampEpochs: number): number {
  if (scope !== 'global' || density > 0.5 || epoch >= rampEpochs) return density;
  const sparsity = 1 - density;
  return 1 - (sparsity + (0.5 - sparsity) * (1 - epoch / rampEpochs) ** 3);
}

/** Sets a fresh mask on every prunable layer of `model` (no gradient is recorded). */
export function computeMasks(model: Module, config: MaskConfig): void {
  for (const [field, choices] of [
    ['method', TOPK_METHODS],
    ['scope', SCOPES],
  ] as const) {
    const value: string = config[field];
    if (!(choices as readonly string[]).includes(value))
      throw new Error(`computeMasks: ${field} must be ${choices.map((c) => `'${c}'`).join(' or ')}, got ${JSON.stringify(value)}`);
  }
  const layers = prunableLayers(model)
    .map(([, l]) => l)
    .filter((l) => l.prunable);
  if (layers.length === 0) return;
  noGrad(() => {
    let masks: Tensor[];
    if (config.tau !== undefined) {
      const tau = config.tau;
      masks = layers.map((l) => {
        const s = powerProp(l.rankingScores(), l.scoreAlpha);
        const m = thresholdMask(s, tau);
        s.dispose();
        return m;
      });
    } else {
      const method = config.method;
      const scores = layers.map((l) => l.rankingScores());
      masks = config.scope === 'global' ? topkMask(scores, config.density, { method }) : scores.map((s) => topkMask(s, config.density, { method }));
    }
    layers.forEach((l, i) => l.setMask(masks[i]));
  });
}
