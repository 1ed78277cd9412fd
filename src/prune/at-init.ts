// Pruning at initialization (docs/algorithms.md 3): score every weight, keep the exact top-k, then
// train the kept weights with the mask fixed (masked mode).
//
//   magnitude  |W|                         (at init; magnitude after training is IMP)
//   snip       |dL/dW * W|                 summed over a few batches (Lee et al.)
//   synflow    |dR/dW * W|, R = 1^T f_|W|(1), data free, iterated (Tanaka et al.)
//   random     uniform random scores       (layer scope: the same density in every layer)
//   erk        random scores, per-layer densities by Erdos-Renyi-Kernel
//
// Iterated pruning (`rounds` > 1) keeps density^((r+1)/rounds) after round r; scores of
// pruned weights are 0 (they are computed on W * M), so a pruned weight never comes back.

import { keep, noGrad, scope } from '../engine.js';
import { type Tensor, ones, rand } from '../tensor.js';
import type { TopkMethod } from '../backend/backend.js';
import { sizeOf } from '../shape.js';
import { abs, div, maximum, mean, mul, sign, sum } from '../ops/elementwise.js';
import { crossEntropy } from '../ops/loss.js';
import { type Module, Sequential } from '../nn/module.js';
import { prunableLayers } from '../nn/models.js';
import type { PrunableLayer } from '../nn/prunable.js';
import type { Scope } from './masks.js';
import { type ScoreGroup, scopeGroups, setTopkMasks } from './select.js';

export const INIT_PRUNE_METHODS = ['magnitude', 'snip', 'synflow', 'random', 'erk'] as const;
export type InitPruneMethod = (typeof INIT_PRUNE_METHODS)[number];

/** A labelled batch for SNIP: inputs [B, ...] and class indices. */
export interface LabelledBatch {
  inputs: Tensor;
  labels: Tensor | number[];
}

export interface PruneAtInitOptions {
  method: InitPruneMethod;
  /** Fraction of the weights kept. */
  density: number;
  /** Default: global for magnitude, snip and synflow; layer for random (ERK sets its own per-layer densities). */
  scope?: Scope;
  /** Pruning rounds with the exponential schedule (default 100 for synflow, 1 otherwise; random and erk draw once). */
  rounds?: number;
  /** SynFlow's all-ones input: one example's shape, e.g. [1, 28, 28]. */
  input?: readonly number[];
  /** SNIP's batches (gradients summed over them). */
  batches?: readonly LabelledBatch[];
  /** Seed of the random scores (random, erk). */
  seed?: number;
  /** Top-k kernel (default 'threshold'). */
  topk?: TopkMethod;
}

/** Every prunable layer must be masked (weights that train under a fixed mask). */
function maskedLayers(model: Module, what: string): PrunableLayer[] {
  const layers = prunableLayers(model).map(([, l]) => l);
  if (layers.length === 0) throw new Error(`${what}: the model has no prunable layers`);
  const wrong = layers.find((l) => l.mode !== 'masked');
  if (wrong) throw new Error(`${what}: needs a model of mode 'masked' (weights trained under a fixed mask), got mode '${wrong.mode}'`);
  return layers;
}

export const defaultPruneRounds = (method: InitPruneMethod): number => (method === 'synflow' ? 100 : 1);
/** Random and ERK choose within each layer; the scored methods compare weights across layers (as in SynFlow's paper). */
export const defaultPruneScope = (method: InitPruneMethod): Scope => (method === 'random' || method === 'erk' ? 'layer' : 'global');

/** Sets the masks of a masked model by one of the pruning-at-init methods. */
export function pruneAtInit(model: Module, options: PruneAtInitOptions): void {
  const { method, density } = options;
  if (!(density >= 0 && density <= 1)) throw new Error(`pruneAtInit: density must be in [0, 1], got ${density}`);
  const layers = maskedLayers(model, `pruneAtInit(${method})`);
  const rounds = options.rounds ?? defaultPruneRounds(method);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`pruneAtInit: rounds must be an integer >= 1, got ${rounds}`);
  if ((method === 'random' || method === 'erk') && rounds !== 1) throw new Error(`pruneAtInit: ${method} draws one mask (rounds must be 1, got ${rounds})`);
  const selection = options.scope ?? defaultPruneScope(method);
  const seed = options.seed ?? 1;
  for (let round = 0; round < rounds; round++) {
    const roundDensity = density ** ((round + 1) / rounds);
    scope(() => {
      const scores = scoreLayers(model, layers, options, seed);
      const groups: ScoreGroup[] =
        method === 'erk'
          ? erkDensities(
              layers.map((l) => [...l.weight.shape]),
              density,
            ).map((d, i) => ({ layers: [layers[i]], scores: [scores[i]], density: d }))
          : scopeGroups(layers, scores, roundDensity, selection);
      setTopkMasks(groups, options.topk);
    });
  }
}

/** The method's score of every weight of `layers` (0 where pruned). */
function scoreLayers(model: Module, layers: PrunableLayer[], options: PruneAtInitOptions, seed: number): Tensor[] {
  switch (options.method) {
    case 'magnitude':
      return noGrad(() => layers.map((l) => abs(mul(l.weight, l.mask!))));
    case 'random':
    case 'erk':
      // rand is in (0, 1), never 0: kept weights always outrank pruned ones.
      return noGrad(() => layers.map((l, i) => mul(rand([...l.weight.shape], { seed: seed * 1000 + i, backend: l.weight.backend.name }), l.mask!)));
    case 'snip':
      if (!options.batches?.length) throw new Error('pruneAtInit(snip): needs `batches` (at least one labelled batch)');
      return snipScores(model, layers, options.batches);
    case 'synflow':
      if (!options.input) throw new Error('pruneAtInit(synflow): needs `input`, the shape of one example (e.g. [1, 28, 28])');
      return synflowScores(model, layers, options.input);
    default:
      throw new Error(`pruneAtInit: unknown method '${String(options.method)}' (use ${INIT_PRUNE_METHODS.join(', ')})`);
  }
}

/**
 * SNIP: |dL/dW * W| with the gradient summed over the batches. The forward uses W * M, so a
 * pruned weight's gradient, and score, is 0.
 */
export function snipScores(model: Module, layers: PrunableLayer[], batches: readonly LabelledBatch[]): Tensor[] {
  if (batches.length === 0) throw new Error('snipScores: needs at least one batch of { inputs, labels }');
  for (const b of batches) scope(() => crossEntropy(model.forward(b.inputs), b.labels).backward());
  const scores = noGrad(() => layers.map((l) => abs(mul(l.weight.grad!, l.weight))));
  for (const p of model.parameters()) p.zeroGrad();
  return scores;
}

/**
 * SynFlow: R = sum of the outputs of the network with every parameter replaced by its absolute
 * value on an all-ones input, in eval mode (BatchNorm uses its running statistics: the identity
 * at init); score = dR/dW * |W| (both >= 0).
 *
 * float32 safety: R is a product of one factor per layer and overflows (or underflows) in deep
 * nets. The activations are divided by their mean after every top-level module of a
 * Sequential, by a constant outside the graph: each module is positively homogeneous of degree
 * 1 in its input, so R and every score are multiplied by the same positive number (the product
 * of those constants) and the ranking is exact. Inside a module (a residual block) paths are
 * never scaled differently, which would change the ranking.
 */
export function synflowScores(model: Module, layers: PrunableLayer[], input: readonly number[]): Tensor[] {
  const params = model.parameters();
  const signs = noGrad(() =>
    params.map((p) => {
      const s = keep(sign(p));
      const magnitude = abs(p);
      p.assign(magnitude);
      magnitude.dispose();
      return s;
    }),
  );
  const wasTraining = model.training;
  model.eval();
  try {
    scope(() => {
      const x = ones([1, ...input], { backend: layers[0].weight.backend.name });
      sum(forwardRescaled(model, x)).backward();
    });
    return noGrad(() => layers.map((l) => mul(l.weight.grad!, l.weight)));
  } finally {
    model.train(wasTraining);
    noGrad(() =>
      params.forEach((p, i) => {
        const restored = mul(p, signs[i]);
        p.assign(restored);
        restored.dispose();
        signs[i].dispose();
        p.zeroGrad();
      }),
    );
  }
}

/** The forward with the activations divided by their (detached) mean after each top-level module. */
function forwardRescaled(model: Module, x: Tensor): Tensor {
  if (!(model instanceof Sequential)) return model.forward(x);
  return model.layers.reduce((h, layer) => {
    const out = layer.forward(h);
    // A dead (all-zero) activation stays 0; the floor only avoids 0/0.
    const scale = noGrad(() => maximum(mean(out), 1e-30));
    return div(out, scale);
  }, x);
}

/**
 * Erdos-Renyi-Kernel densities (Evci et al., RigL): density of a layer proportional to
 * (sum of its dims) / (product of its dims), scaled so that the whole model keeps `density`;
 * a layer that would exceed 1 is kept dense and the rest rescaled.
 */
export function erkDensities(shapes: readonly (readonly number[])[], density: number): number[] {
  if (!(density >= 0 && density <= 1)) throw new Error(`erkDensities: density must be in [0, 1], got ${density}`);
  const sizes = shapes.map(sizeOf);
  const raw = shapes.map((s, i) => s.reduce((a, b) => a + b, 0) / sizes[i]);
  const total = sizes.reduce((a, b) => a + b, 0);
  const dense = new Set<number>();
  for (;;) {
    const denseSize = [...dense].reduce((a, i) => a + sizes[i], 0);
    const divisor = raw.reduce((a, r, i) => (dense.has(i) ? a : a + r * sizes[i]), 0);
    const epsilon = divisor > 0 ? (density * total - denseSize) / divisor : 0;
    const over = raw.map((r, i) => (!dense.has(i) && r * epsilon > 1 ? i : -1)).filter((i) => i >= 0);
    if (over.length === 0) return raw.map((r, i) => (dense.has(i) ? 1 : Math.max(0, r * epsilon)));
    // Only the largest raw density is made dense per pass (as RigL), then the rest rescale.
    const largest = Math.max(...over.map((i) => raw[i]));
    over.filter((i) => raw[i] === largest).forEach((i) => dense.add(i));
  }
}
