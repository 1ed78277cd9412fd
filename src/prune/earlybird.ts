// Early-Bird tickets (You et al.): train with an L1 penalty on the BatchNorm scales gamma; after
// every epoch take the global channel mask that keeps the largest |gamma| (the same exact top-k
// as everywhere), and call the ticket drawn when the normalized Hamming distance from the new
// mask to each of the previous (window - 1) masks is <= threshold. Then the channels are pruned
// (BatchNorm scale and shift, the producing layer's output channels and, in a plain Sequential,
// the next layer's input channels) and the ticket retrained.

import { noGrad, scope } from '../engine.js';
import { type Tensor, tensor } from '../tensor.js';
import type { TopkMethod } from '../backend/backend.js';
import { abs, add, mul, sum } from '../ops/elementwise.js';
import { topkMask } from '../ops/topk.js';
import { BatchNorm2d, Flatten, MaxPool2d, type Module, ReLU, Sequential } from '../nn/module.js';
import { PrunableConv2d, PrunableLayer, type PrunableLinear } from '../nn/prunable.js';

/** One BatchNorm with the layer whose output channels it normalizes and the layer that reads them. */
export interface ChannelGroup {
  name: string;
  norm: BatchNorm2d;
  producer: PrunableLayer;
  /** Null when the channels flow into a residual join (ResNet): only the producer is pruned there. */
  consumer: PrunableLayer | null;
}

const outChannels = (l: PrunableLayer): number => (l instanceof PrunableConv2d ? l.outChannels : (l as PrunableLinear).outFeatures);
const channelPreserving = (m: Module): boolean => m instanceof ReLU || m instanceof MaxPool2d || m instanceof Flatten;

/** The affine BatchNorms of a model, each after a prunable layer (in forward order). */
export function channelGroups(model: Module): ChannelGroup[] {
  const groups: ChannelGroup[] = [];
  let producer: PrunableLayer | null = null;
  for (const [name, m] of model.namedModules()) {
    if (m instanceof PrunableLayer) producer = m;
    if (!(m instanceof BatchNorm2d) || !m.weight) continue;
    if (!producer || outChannels(producer) !== m.channels) throw new Error(`channelGroups: BatchNorm ${name} does not follow a layer with ${m.channels} output channels`);
    groups.push({ name, norm: m, producer, consumer: model instanceof Sequential ? nextLayer(model, m) : null });
  }
  return groups;
}

/** In a Sequential, the prunable layer after `norm` when only channel-preserving modules lie between. */
function nextLayer(model: Sequential, norm: BatchNorm2d): PrunableLayer | null {
  const at = model.layers.indexOf(norm);
  if (at < 0) return null;
  for (const m of model.layers.slice(at + 1)) {
    if (m instanceof PrunableLayer) return m;
    if (!channelPreserving(m)) return null;
  }
  return null;
}

/** strength * sum |gamma| over the groups: Early-Bird's sparsity penalty on the channel scales. */
export function gammaPenalty(groups: ChannelGroup[], strength: number): Tensor {
  return mul(
    groups.map((g) => sum(abs(g.norm.weight!))).reduce((a, b) => add(a, b)),
    strength,
  );
}

/** The global channel mask keeping the fraction `keep` of channels with the largest |gamma|, one 0/1 tensor per group. */
export function channelMasks(groups: ChannelGroup[], keep: number, topk?: TopkMethod): Tensor[] {
  return noGrad(() =>
    topkMask(
      groups.map((g) => g.norm.weight!),
      keep,
      { method: topk },
    ),
  );
}

/** Fraction of positions where two 0/1 masks differ. */
export function hammingDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`hammingDistance: masks of ${a.length} and ${b.length} elements`);
  let differ = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) differ++;
  return a.length === 0 ? 0 : differ / a.length;
}

export interface EarlyBirdOptions {
  /** Masks compared: the new one and the (window - 1) before it (5). */
  window?: number;
  /** Largest normalized Hamming distance of a drawn ticket (0.1). */
  threshold?: number;
}

/** Early-Bird's detector: feed one channel mask per epoch. */
export class EarlyBirdDetector {
  readonly window: number;
  readonly threshold: number;
  private readonly recent: Float32Array[] = [];

  constructor({ window = 5, threshold = 0.1 }: EarlyBirdOptions = {}) {
    if (!Number.isInteger(window) || window < 2) throw new Error(`EarlyBirdDetector: window must be an integer >= 2, got ${window}`);
    this.window = window;
    this.threshold = threshold;
  }

  /**
   * Adds this epoch's mask. `distance` is the largest distance to the previous (window - 1)
   * masks (null until there are that many); `emerged` is distance <= threshold.
   */
  /** The masks it compares with, oldest first (to save a detector). */
  masks(): Float32Array[] {
    return this.recent.slice();
  }

  /** Takes the masks() of a saved detector. */
  load(masks: Float32Array[]): void {
    this.recent.splice(0, this.recent.length, ...masks.slice(-this.window));
  }

  push(mask: Float32Array): { distance: number | null; emerged: boolean } {
    const previous = this.recent.slice();
    this.recent.push(mask);
    if (this.recent.length > this.window) this.recent.shift();
    if (previous.length < this.window - 1) return { distance: null, emerged: false };
    const distance = Math.max(...previous.slice(-(this.window - 1)).map((m) => hammingDistance(m, mask)));
    return { distance, emerged: distance <= this.threshold };
  }
}

/** Index of the channel (of `channels`) that each element of a producer's weight writes. */
function producerChannel(l: PrunableLayer, index: number): number {
  if (l instanceof PrunableConv2d) return Math.floor(index / (l.inChannels * l.kernelSize * l.kernelSize));
  return index % (l as PrunableLinear).outFeatures;
}

/** Index of the channel (of `channels`) that each element of a consumer's weight reads. */
function consumerChannel(l: PrunableLayer, index: number, channels: number): number {
  if (l instanceof PrunableConv2d) return Math.floor(index / (l.kernelSize * l.kernelSize)) % l.inChannels;
  const linear = l as PrunableLinear;
  // After a Flatten of [C, H, W] the features of channel c are c*H*W .. (c+1)*H*W - 1.
  return Math.floor(Math.floor(index / linear.outFeatures) / (linear.inFeatures / channels));
}

/**
 * Prunes the channels that `masks` (from channelMasks) drop: the layers' masks lose the weights
 * that write or read them, and gamma and beta are zeroed (applyChannelMasks keeps them so).
 */
export async function pruneChannels(groups: ChannelGroup[], masks: Tensor[]): Promise<void> {
  const keepOf = new Map<PrunableLayer, Float32Array>();
  const current = async (l: PrunableLayer): Promise<Float32Array> => keepOf.get(l) ?? (l.mask ? await l.mask.data() : new Float32Array(l.weight.size).fill(1));
  for (const [i, g] of groups.entries()) {
    const channel = await masks[i].data();
    const produced = await current(g.producer);
    for (let j = 0; j < produced.length; j++) if (!channel[producerChannel(g.producer, j)]) produced[j] = 0;
    keepOf.set(g.producer, produced);
    if (g.consumer) {
      const read = await current(g.consumer);
      for (let j = 0; j < read.length; j++) if (!channel[consumerChannel(g.consumer, j, g.norm.channels)]) read[j] = 0;
      keepOf.set(g.consumer, read);
    }
  }
  for (const [layer, values] of keepOf) {
    layer.setMask(tensor(values, [...layer.weight.shape], { backend: layer.weight.backend.name }));
    if (layer.mode === 'masked') layer.applyMask();
  }
  applyChannelMasks(groups, masks);
}

/** gamma and beta of the pruned channels back to 0 (after every optimizer step of retraining). */
export function applyChannelMasks(groups: ChannelGroup[], masks: Tensor[]): void {
  noGrad(() =>
    scope(() => {
      groups.forEach((g, i) => {
        g.norm.weight!.assign(mul(g.norm.weight!, masks[i]));
        g.norm.bias!.assign(mul(g.norm.bias!, masks[i]));
      });
    }),
  );
}
