// Neural-network modules: a Module tree whose leaves hold tensors, and the plain layers.

import { keep } from '../engine.js';
import { type Tensor, ones, randn, zeros } from '../tensor.js';
import { add, relu } from '../ops/elementwise.js';
import { avgPool2d, conv2d, maxPool2d } from '../ops/conv.js';
import { batchNorm2d } from '../ops/norm.js';
import { matmul } from '../ops/matmul.js';
import { flatten, reshape } from '../ops/shape.js';

export abstract class Module {
  training = true;

  abstract forward(x: Tensor): Tensor;

  /** Direct sub-modules, by name (names become tensor-name prefixes in checkpoints). */
  children(): [string, Module][] {
    return [];
  }

  /** This module's own tensors (trainable or not), by name. */
  ownTensors(): [string, Tensor][] {
    return [];
  }

  /** Every module of the tree, depth first, with its dotted path. */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [name, child] of this.children()) out.push(...child.namedModules(prefix ? `${prefix}.${name}` : name));
    return out;
  }

  /** Every tensor of the tree with its dotted name (for checkpoints). */
  namedTensors(): [string, Tensor][] {
    return this.namedModules().flatMap(([path, m]) => m.ownTensors().map(([n, t]): [string, Tensor] => [path ? `${path}.${n}` : n, t]));
  }

  /** Tensors with requiresGrad: what an optimizer updates. */
  parameters(): Tensor[] {
    return this.namedTensors()
      .map(([, t]) => t)
      .filter((t) => t.requiresGrad);
  }

  train(on = true): this {
    for (const [, m] of this.namedModules()) m.training = on;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  dispose(): void {
    for (const [, t] of this.namedTensors()) t.dispose();
  }
}

/** He (kaiming) normal init N(0, gain^2 / fanIn) with gain sqrt(2) (ReLU), seeded. */
export function kaimingNormal(shape: number[], fanIn: number, seed: number, requiresGrad: boolean): Tensor {
  return keep(randn(shape, { seed, std: Math.SQRT2 / Math.sqrt(fanIn), requiresGrad }));
}

export class Sequential extends Module {
  readonly layers: Module[];
  constructor(...layers: Module[]) {
    super();
    this.layers = layers;
  }
  forward(x: Tensor): Tensor {
    return this.layers.reduce((h, layer) => layer.forward(h), x);
  }
  override children(): [string, Module][] {
    return this.layers.map((l, i) => [String(i), l]);
  }
}

export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return relu(x);
  }
}

export class Flatten extends Module {
  forward(x: Tensor): Tensor {
    return flatten(x, 1);
  }
}

export class MaxPool2d extends Module {
  constructor(
    readonly kernelSize: number,
    readonly stride = kernelSize,
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return maxPool2d(x, { kernelSize: this.kernelSize, stride: this.stride });
  }
}

/** Average over the whole feature map: [N,C,H,W] -> [N,C]. */
export class GlobalAvgPool extends Module {
  forward(x: Tensor): Tensor {
    return flatten(avgPool2d(x, { kernelSize: [x.shape[2], x.shape[3]] }), 1);
  }
}

/** y = x W (no bias: the lottery-ticket layers have none). W is [in, out]. */
export class Linear extends Module {
  readonly weight: Tensor;
  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    seed: number,
  ) {
    super();
    this.weight = kaimingNormal([inFeatures, outFeatures], inFeatures, seed, true);
  }
  forward(x: Tensor): Tensor {
    return matmul(x, this.weight);
  }
  override ownTensors(): [string, Tensor][] {
    return [['weight', this.weight]];
  }
}

export class Conv2d extends Module {
  readonly weight: Tensor;
  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernelSize: number,
    seed: number,
    readonly stride = 1,
    readonly padding = 0,
  ) {
    super();
    this.weight = kaimingNormal([outChannels, inChannels, kernelSize, kernelSize], inChannels * kernelSize * kernelSize, seed, true);
  }
  forward(x: Tensor): Tensor {
    return conv2d(x, this.weight, { stride: this.stride, padding: this.padding });
  }
  override ownTensors(): [string, Tensor][] {
    return [['weight', this.weight]];
  }
}

export class BatchNorm2d extends Module {
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;
  readonly runningMean: Tensor;
  readonly runningVar: Tensor;
  constructor(
    readonly channels: number,
    readonly affine = true,
    readonly momentum = 0.1,
  ) {
    super();
    this.weight = affine ? keep(ones([channels], { requiresGrad: true })) : null;
    this.bias = affine ? keep(zeros([channels], { requiresGrad: true })) : null;
    this.runningMean = keep(zeros([channels]));
    this.runningVar = keep(ones([channels]));
  }
  forward(x: Tensor): Tensor {
    return batchNorm2d(x, { weight: this.weight, bias: this.bias, runningMean: this.runningMean, runningVar: this.runningVar, training: this.training, momentum: this.momentum });
  }
  override ownTensors(): [string, Tensor][] {
    const own: [string, Tensor][] = [
      ['running_mean', this.runningMean],
      ['running_var', this.runningVar],
    ];
    if (this.weight && this.bias) own.push(['weight', this.weight], ['bias', this.bias]);
    return own;
  }
}

/** Batch normalisation of [N, C] features (one channel per feature), as BatchNorm2d over [N, C, 1, 1]. */
export class BatchNorm1d extends BatchNorm2d {
  override forward(x: Tensor): Tensor {
    if (x.rank !== 2) throw new Error(`BatchNorm1d: input must be [N, C], got [${x.shape.join(', ')}]`);
    return reshape(super.forward(reshape(x, [x.shape[0], x.shape[1], 1, 1])), [x.shape[0], x.shape[1]]);
  }
}

/** relu(main(x) + shortcut(x)), the residual block's join. */
export class Residual extends Module {
  constructor(
    readonly main: Module,
    readonly shortcut: Module | null,
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return relu(add(this.main.forward(x), this.shortcut ? this.shortcut.forward(x) : x));
  }
  override children(): [string, Module][] {
    return this.shortcut
      ? [
          ['main', this.main],
          ['shortcut', this.shortcut],
        ]
      : [['main', this.main]];
  }
}
