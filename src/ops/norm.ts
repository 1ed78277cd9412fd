// Batch normalisation over NCHW tensors, composed from reductions and elementwise kernels
// (so its gradient is the autograd of those, checked like every other op).

import { shapeStr } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { noGrad } from '../engine.js';
import { add, div, mean, mul, sqrt, sub } from './elementwise.js';
import { reshape } from './shape.js';

export interface BatchNormOptions {
  /** Scale gamma, [C]; omit for a non-affine norm. */
  weight?: Tensor | null;
  /** Shift beta, [C]. */
  bias?: Tensor | null;
  /** Running statistics, [C]; updated in place when training. */
  runningMean?: Tensor | null;
  runningVar?: Tensor | null;
  /** Batch statistics when true (default); running statistics when false. */
  training?: boolean;
  momentum?: number;
  eps?: number;
}

export function batchNorm2d(x: Tensor, options: BatchNormOptions = {}): Tensor {
  const { weight, bias, runningMean, runningVar, training = true, momentum = 0.1, eps = 1e-5 } = options;
  if (x.rank !== 4) throw new Error(`batchNorm2d: input must be [N,C,H,W], got ${shapeStr(x.shape)}`);
  const [n, c, h, w] = x.shape;
  for (const [name, t] of Object.entries({ weight, bias, runningMean, runningVar })) {
    if (t && (t.rank !== 1 || t.shape[0] !== c)) throw new Error(`batchNorm2d: ${name} must have shape [${c}], got ${shapeStr(t.shape)}`);
  }
  if (!runningMean !== !runningVar) throw new Error('batchNorm2d: runningMean and runningVar go together (one was given without the other)');
  if (!(momentum >= 0 && momentum <= 1)) throw new Error(`batchNorm2d: momentum must be in [0, 1], got ${momentum}`);
  if (!(eps >= 0 && eps < Infinity)) throw new Error(`batchNorm2d: eps must be a finite number >= 0, got ${eps}`);
  const perChannel = (t: Tensor): Tensor => reshape(t, [1, c, 1, 1]);
  let mu: Tensor, variance: Tensor;
  if (training) {
    const count = n * h * w;
    if (count < 2) throw new Error(`batchNorm2d: training needs more than one value per channel, got input ${shapeStr(x.shape)}`);
    mu = mean(x, [0, 2, 3], true);
    const centered = sub(x, mu);
    variance = mean(mul(centered, centered), [0, 2, 3], true);
    if (runningMean && runningVar) {
      noGrad(() => {
        runningMean.assign(add(mul(runningMean, 1 - momentum), mul(reshape(mu, [c]), momentum)));
        runningVar.assign(add(mul(runningVar, 1 - momentum), mul(reshape(variance, [c]), (momentum * count) / (count - 1))));
      });
    }
    const normalized = div(centered, sqrt(add(variance, eps)));
    return affine(normalized);
  }
  if (!runningMean || !runningVar) throw new Error('batchNorm2d: evaluation (training: false) needs runningMean and runningVar');
  mu = perChannel(runningMean);
  variance = perChannel(runningVar);
  return affine(div(sub(x, mu), sqrt(add(variance, eps))));

  function affine(t: Tensor): Tensor {
    const scaled = weight ? mul(t, perChannel(weight)) : t;
    return bias ? add(scaled, perChannel(bias)) : scaled;
  }
}
