// Default learning rates of score training with power-propagation, browser-safe (no Node
// imports) so that the web page trains with the CLI's rule.

import type { Tensor } from '../tensor.js';
import { rampedDensity } from '../prune/masks.js';
import type { RunOptions } from './options.js';
import type { MaskMode, PrunableLayer } from '../nn/prunable.js';

/**
 * The density the frozen weights of a score-trained model are drawn for (--init-scale): with
 * 'density', mpt and edgepopup with a top-k mask draw them for the density training starts at,
 * 1 - sparsity, or 0.5 where global scope's ramp starts there (rampedDensity at epoch 0: weights
 * drawn for 0.1 under a mask keeping 0.5 make conv4's first logits ~300x too large and the run
 * collapse to chance); otherwise 1.
 */
export function initDensityOf(o: Pick<RunOptions, 'method' | 'sparsity' | 'scope' | 'rampEpochs' | 'initScale' | 'tau'>): number {
  if (o.initScale !== 'density' || (o.method !== 'mpt' && o.method !== 'edgepopup') || o.tau !== undefined) return 1;
  return rampedDensity(1 - o.sparsity, o.scope, 0, o.rampEpochs);
}

/**
 * The bound on |s| after every step of score training (undefined: none). By default 1 for
 * alpha > 1, none for alpha 1. The step on s is lr * g * alpha|s|^(alpha-1), and nothing in the
 * forward pass pulls a score back (only its rank counts), so a score whose gradient keeps one sign
 * grows without limit: exponentially for alpha 2, to infinity in finite time for alpha > 2
 * (ds/dt = k s^(alpha-1)). Measured (conv4 width 0.25, MNIST, global scope, sparsity 0.5, 3
 * epochs, docs/results.md): alpha 3 without a bound stops with infinite scores in epoch 2, with
 * |s| <= 1 it trains; alpha 2's largest |s| reaches 280 in 3 epochs unbounded.
 */
export function scoreBoundOf(o: Pick<RunOptions, 'alpha' | 'scoreBound'>): number | undefined {
  if (o.scoreBound === 'none') return undefined;
  return o.scoreBound ?? (o.alpha > 1 ? 1 : undefined);
}

/** Mean |S| of a layer's fresh scores: uniform(-1/sqrt(fanIn), 1/sqrt(fanIn)) has 1/(2 sqrt(fanIn)). */
const initialScoreMagnitude = (l: PrunableLayer): number => 1 / (2 * Math.sqrt(l.fanIn));

/** The same over all layers, weighted by their sizes. */
function meanInitialScoreMagnitude(layers: PrunableLayer[]): number {
  const total = layers.reduce((n, l) => n + l.weight.size, 0);
  return layers.reduce((a, l) => a + l.weight.size * initialScoreMagnitude(l), 0) / total;
}

/** (dS/ds)^2 at the initial |S| = m: the factor power-propagation puts on the step of S. */
const powerPropStepFactor = (alpha: number, m: number): number => alpha * alpha * m ** ((2 * (alpha - 1)) / alpha);

/**
 * The default rate of trained weights (dense and every method that trains them): 0.05 for
 * lenet300; 0.01 for models with conv layers, which have no BatchNorm by default: Conv-2 at
 * width 0.25 (1,000 digits, 2 epochs, batch 64, SGD momentum 0.9) diverged to chance at 0.05
 * and reached 71.1% at 0.02 and 76.8% at 0.01.
 */
export function weightLearningRate(layers: PrunableLayer[]): number {
  return layers.some((l) => l.weight.rank === 4) ? 0.01 : 0.05;
}

/**
 * Default learning rates. dense: weightLearningRate; score training with alpha = 1: 0.1 (the calibration in
 * docs/algorithms.md). With power-propagation the step on S is lr * (dS/ds)^2 * g, and
 * dS/ds = alpha|s|^(alpha-1) is small where |S| is small, so the rate is scaled to give S the
 * same initial step as alpha = 1: lr = 0.1 / (alpha^2 m^(2(alpha-1)/alpha)), m = mean initial |S|
 * over the model (LeNet-300-100: about 1.3 for alpha 2, 2.2 for alpha 3), and each layer's
 * scores get the same rule with their own m, relative to that (scoreLearningRateScales).
 * Weights drawn for density d (--init-scale density) are 1/sqrt(d) larger, and so is the
 * gradient dL/dS = dL/dW_eff * W: the rate is multiplied by sqrt(d) to keep that same initial
 * step. Measured (lenet300 MPT, 2 epochs): at density 0.036, 78.8% at lr 0.02 = 0.1 sqrt(d),
 * 18.9% at 0.1 (43.9% with unscaled weights at 0.1); at 0.1, 91.2% (64.8% unscaled).
 */
export function defaultLearningRate(method: MaskMode, alpha: number, layers: PrunableLayer[]): number {
  if (method === 'dense') return weightLearningRate(layers);
  return (0.1 * Math.sqrt(layers[0]?.initDensity ?? 1)) / powerPropStepFactor(alpha, meanInitialScoreMagnitude(layers));
}

/**
 * Per-parameter multipliers of the learning rate: the same rule per layer, relative to the
 * model-wide rate, so that layers with larger initial scores (small fan-in, e.g. the last one)
 * do not take larger steps on S (with one rate for all, power-propagation let a few of their
 * scores run away to ~1e7). 1 for alpha 1 and for everything that is not a score.
 */
export function scoreLearningRateScales(params: Tensor[], layers: PrunableLayer[], alpha: number): number[] {
  const mean = powerPropStepFactor(alpha, meanInitialScoreMagnitude(layers));
  return params.map((p) => {
    const layer = layers.find((l) => l.scores === p);
    return layer ? mean / powerPropStepFactor(alpha, initialScoreMagnitude(layer)) : 1;
  });
}
