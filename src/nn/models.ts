// The models of the lottery-ticket papers, built from prunable layers (no biases; the plain
// Conv-2/4/6/8 have no BatchNorm unless asked (`batchNorm`, Early-Bird needs it); BatchNorm is
// affine only in the modes that train weights, so that nothing but the scores trains in the
// score modes).

import { BatchNorm1d, BatchNorm2d, Flatten, GlobalAvgPool, MaxPool2d, type Module, ReLU, Residual, Sequential } from './module.js';
import { MASK_MODES, type MaskMode, PrunableConv2d, PrunableLayer, PrunableLinear } from './prunable.js';

export const MODEL_NAMES = ['lenet300', 'conv2', 'conv4', 'conv6', 'conv8', 'resnet18'] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

export interface ModelOptions {
  mode: MaskMode;
  /** Input [C, H, W]: [1, 28, 28] (MNIST) or [3, 32, 32] (CIFAR-10). */
  input: [number, number, number];
  classes: number;
  /** Multiplies the hidden widths: conv channels, the conv models' FC 256 layers, lenet300's 300 and 100. */
  width?: number;
  scoreAlpha?: number;
  seed?: number;
  /** Weights drawn for this mask density (PrunableOptions.initDensity; default 1). */
  initDensity?: number;
  /**
   * BatchNorm after every hidden layer of lenet300 and every conv of Conv-2/4/6/8 (before the
   * ReLU), default false; ResNet-18 always has it.
   */
  batchNorm?: boolean;
}

/** BatchNorm learns its scale and shift only where the weights train too. */
const affineNorm = (mode: MaskMode): boolean => mode === 'dense' || mode === 'masked';

/** Hands out distinct seeds to the layers of one model. */
function seeds(base: number): () => number {
  let i = 0;
  return () => base * 1000 + ++i;
}

function scaled(n: number, width: number): number {
  return Math.max(1, Math.round(n * width));
}

function lenet300(o: Required<ModelOptions>): Module {
  const seed = seeds(o.seed);
  const [c, h, w] = o.input;
  const hidden = [300, 100].map((n) => scaled(n, o.width));
  const p = { mode: o.mode, scoreAlpha: o.scoreAlpha, initDensity: o.initDensity };
  const norm = (n: number): Module[] => (o.batchNorm ? [new BatchNorm1d(n, affineNorm(o.mode))] : []);
  return new Sequential(
    new Flatten(),
    new PrunableLinear(c * h * w, hidden[0], { ...p, seed: seed() }),
    ...norm(hidden[0]),
    new ReLU(),
    new PrunableLinear(hidden[0], hidden[1], { ...p, seed: seed() }),
    ...norm(hidden[1]),
    new ReLU(),
    new PrunableLinear(hidden[1], o.classes, { ...p, seed: seed() }),
  );
}

/**
 * Conv-2/4/6/8 (Frankle & Carbin; Ramanujan et al.): blocks of two 3x3 convs then a 2x2 max
 * pool, with 64, 128, 256, 512 channels, then FC 256-256-classes. 28x28 inputs pool to
 * 14, 7, 3, 1.
 */
function convNet(blocks: number, o: Required<ModelOptions>): Module {
  const seed = seeds(o.seed);
  const p = { mode: o.mode, scoreAlpha: o.scoreAlpha, initDensity: o.initDensity };
  const norm = (n: number): Module[] => (o.batchNorm ? [new BatchNorm2d(n, affineNorm(o.mode))] : []);
  const layers: Module[] = [];
  let [channels, h, w] = o.input;
  for (let b = 0; b < blocks; b++) {
    const out = scaled(64 * 2 ** b, o.width);
    layers.push(new PrunableConv2d(channels, out, 3, { ...p, seed: seed(), padding: 1 }), ...norm(out), new ReLU());
    layers.push(new PrunableConv2d(out, out, 3, { ...p, seed: seed(), padding: 1 }), ...norm(out), new ReLU(), new MaxPool2d(2));
    channels = out;
    h = Math.floor(h / 2);
    w = Math.floor(w / 2);
  }
  const fc = scaled(256, o.width);
  layers.push(
    new Flatten(),
    new PrunableLinear(channels * h * w, fc, { ...p, seed: seed() }),
    new ReLU(),
    new PrunableLinear(fc, fc, { ...p, seed: seed() }),
    new ReLU(),
    new PrunableLinear(fc, o.classes, { ...p, seed: seed() }),
  );
  return new Sequential(...layers);
}

/** ResNet-18 with the CIFAR stem (3x3 conv, no max pool), BasicBlocks [2, 2, 2, 2]. */
function resnet18(o: Required<ModelOptions>): Module {
  const seed = seeds(o.seed);
  const p = { mode: o.mode, scoreAlpha: o.scoreAlpha, initDensity: o.initDensity };
  const affine = affineNorm(o.mode);
  const conv = (inC: number, outC: number, k: number, stride: number): PrunableConv2d => new PrunableConv2d(inC, outC, k, { ...p, seed: seed(), stride, padding: k === 3 ? 1 : 0 });
  const stemChannels = scaled(64, o.width);
  const layers: Module[] = [conv(o.input[0], stemChannels, 3, 1), new BatchNorm2d(stemChannels, affine), new ReLU()];
  let channels = stemChannels;
  [64, 128, 256, 512].forEach((base, stage) => {
    const out = scaled(base, o.width);
    for (let block = 0; block < 2; block++) {
      const stride = stage > 0 && block === 0 ? 2 : 1;
      const main = new Sequential(conv(channels, out, 3, stride), new BatchNorm2d(out, affine), new ReLU(), conv(out, out, 3, 1), new BatchNorm2d(out, affine));
      const shortcut = stride !== 1 || channels !== out ? new Sequential(conv(channels, out, 1, stride), new BatchNorm2d(out, affine)) : null;
      layers.push(new Residual(main, shortcut));
      channels = out;
    }
  });
  layers.push(new GlobalAvgPool(), new PrunableLinear(channels, o.classes, { ...p, seed: seed() }));
  return new Sequential(...layers);
}

export function createModel(name: ModelName, options: ModelOptions): Module {
  if (typeof options !== 'object' || options === null) throw new Error('createModel: options { mode, input, classes } are required');
  const o: Required<ModelOptions> = { width: 1, scoreAlpha: 1, seed: 1, batchNorm: false, initDensity: 1, ...options };
  if (!MASK_MODES.includes(o.mode)) throw new Error(`createModel: mode must be one of ${MASK_MODES.join(', ')}, got ${JSON.stringify(o.mode)}`);
  if (!Array.isArray(o.input) || o.input.length !== 3 || !o.input.every((d) => Number.isInteger(d) && d > 0)) {
    throw new Error(`createModel: input must be [channels, height, width] (positive integers), got ${JSON.stringify(o.input)}`);
  }
  if (!(Number.isInteger(o.classes) && o.classes >= 1)) throw new Error(`createModel: classes must be an integer >= 1, got ${o.classes}`);
  if (!(o.width > 0)) throw new Error(`createModel: width must be > 0, got ${o.width}`);
  switch (name) {
    case 'lenet300':
      return lenet300(o);
    case 'conv2':
      return convNet(1, o);
    case 'conv4':
      return convNet(2, o);
    case 'conv6':
      return convNet(3, o);
    case 'conv8':
      return convNet(4, o);
    case 'resnet18':
      return resnet18(o);
    default:
      throw new Error(`unknown model '${String(name)}' (choose from ${MODEL_NAMES.join(', ')})`);
  }
}

/** The prunable layers of a model, in forward order, with their dotted names. */
export function prunableLayers(model: Module): [string, PrunableLayer][] {
  return model.namedModules().filter((e): e is [string, PrunableLayer] => e[1] instanceof PrunableLayer);
}
