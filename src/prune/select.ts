// The one path every weight-ranking pruning method ends in (IMP, SynFlow, SNIP, magnitude,
// random, ERK, Gem-Miner's final mask): scores in, exact top-k masks out, on the same topkMask
// kernels as the score-training methods. Also the helpers masked training needs around it.

import { noGrad } from '../engine.js';
import type { Tensor } from '../tensor.js';
import type { TopkMethod } from '../backend/backend.js';
import { topkMask } from '../ops/topk.js';
import type { Module } from '../nn/module.js';
import { prunableLayers } from '../nn/models.js';
import type { PrunableLayer } from '../nn/prunable.js';
import type { Scope } from './masks.js';

/** Layers that share one top-k selection: the group keeps `density` of its weights in total. */
export interface ScoreGroup {
  layers: PrunableLayer[];
  /** One tensor per layer, of the layer's weight shape; larger keeps. */
  scores: Tensor[];
  density: number;
}

/** One group of every layer (global scope) or one group per layer (layer scope). */
export function scopeGroups(layers: PrunableLayer[], scores: Tensor[], density: number, scope: Scope): ScoreGroup[] {
  if (scope === 'global') return [{ layers, scores, density }];
  return layers.map((l, i) => ({ layers: [l], scores: [scores[i]], density }));
}

/**
 * Sets every group's layers' masks to the exact top-k of its scores (k = round(density * n),
 * ties to the lower index). Masked layers also get W <- W * M, so that the stored weights are
 * the pruned ones.
 */
export function setTopkMasks(groups: ScoreGroup[], method: TopkMethod = 'threshold'): void {
  noGrad(() => {
    for (const group of groups) {
      if (group.layers.length !== group.scores.length) throw new Error(`setTopkMasks: ${group.layers.length} layers but ${group.scores.length} score tensors`);
      const masks = topkMask(group.scores, group.density, { method });
      group.layers.forEach((layer, i) => {
        layer.setMask(masks[i]);
        if (layer.mode === 'masked') layer.applyMask();
      });
    }
  });
}

/**
 * W <- W * M on every masked layer: call it after each optimizer step of masked training, so
 * that momentum and weight decay never revive a pruned weight.
 */
export function reapplyMasks(model: Module | PrunableLayer[]): void {
  const layers = Array.isArray(model) ? model : prunableLayers(model).map(([, l]) => l);
  for (const layer of layers) if (layer.mode === 'masked') layer.applyMask();
}

export interface LayerDensity {
  name: string;
  kept: number;
  size: number;
  density: number;
}

/** Kept weights per prunable layer (a layer without a mask keeps all). Reads the masks back. */
export async function layerDensities(model: Module): Promise<LayerDensity[]> {
  const out: LayerDensity[] = [];
  for (const [name, layer] of prunableLayers(model)) {
    const size = layer.weight.size;
    const kept = layer.mask ? (await layer.mask.data()).reduce((a, v) => a + v, 0) : size;
    out.push({ name, kept, size, density: kept / size });
  }
  return out;
}

/** The message for a layer whose every weight is pruned (layer collapse). */
export function collapseWarning(name: string): string {
  return `layer ${name} has density 0 (every weight pruned): layer collapse, the network's output no longer depends on its input`;
}

/** Collapse warnings for the layers of `model` that keep no weight. */
export async function collapseWarnings(model: Module): Promise<string[]> {
  return (await layerDensities(model)).filter((l) => l.kept === 0).map((l) => collapseWarning(l.name));
}
