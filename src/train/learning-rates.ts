// Default learning rates of score training with power-propagation, browser-safe (no Node
// imports) so that the web page trains with the CLI's rule.

import type { Tensor } from '../tensor.js';
import type { MaskMode, PrunableLayer } from '../nn/prunable.js';

/**
 * The density the frozen weights of a score-trained model are drawn for (--init-scale): with
 * 'density', mpt and edgepopup with a top-k mask draw them for 1 - sparsity; otherwise 1.
 */
export function initDensityOf(method: string, sparsity: number, initScale: 'density' | 'none' = 'density', tau?: number): number {
  return initScale === 'density' && (method === 'mpt' || method === 'edgepopup') && tau === undefined ? 1 - sparsity : 1;
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
