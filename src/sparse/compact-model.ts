// Inference with a compact binary ticket: the model's architecture (src/nn/models.ts) with
// each prunable layer replaced by a module that runs the binary weight-sparse kernel
// (`compact`), or, for comparison, the same ticket's dense weights alpha * sign(W) * M through
// the ordinary conv2d/matmul kernels (`dense`). Both compute the same function.

import { DATA_NAMES, type DataName } from '../data/dataset.js';
import { aBoolean, aCount, aPositiveCount, listOf, oneOf, optional, readFields } from '../io/json.js';
import { getBackend, keep } from '../engine.js';
import type { Backend, Storage } from '../backend/backend.js';
import { Tensor, tensor } from '../tensor.js';
import { valueStr } from '../shape.js';
import { conv2d, convParams } from '../ops/conv.js';
import { matmul } from '../ops/matmul.js';
import { reshape } from '../ops/shape.js';
import { Module, Sequential } from '../nn/module.js';
import { MODEL_NAMES, createModel, type ModelName, prunableLayers } from '../nn/models.js';
import { PrunableLayer } from '../nn/prunable.js';
import { type BinaryLayer, binaryConvLayout, denseWeight, transposeLinear } from './ticket.js';

/** What the architecture is built from; stored with the ticket. */
export interface ModelSpec {
  model: ModelName;
  width: number;
  /** [C, H, W] of one input. */
  input: [number, number, number];
  classes: number;
  /** BatchNorm after the hidden layers (ModelOptions.batchNorm); absent: false. */
  batchNorm?: boolean;
  /** The data set it was trained on (absent in files written before it was recorded). */
  data?: DataName;
  /** The synthetic data set's seed, which draws its test set too. */
  dataSeed?: number;
}

/** A model spec as a file records it (a .tgt header, a checkpoint's metadata); errors start with `what`. */
export function readModelSpec(value: unknown, what: string): ModelSpec {
  return readFields<ModelSpec>(
    value,
    {
      model: oneOf(MODEL_NAMES),
      width: { expected: 'a finite number > 0', ok: (v) => typeof v === 'number' && v > 0 && Number.isFinite(v) },
      input: listOf(aPositiveCount, 3),
      classes: aPositiveCount,
      batchNorm: optional(aBoolean),
      data: optional(oneOf(DATA_NAMES)),
      dataSeed: optional(aCount),
    },
    `${what}: model spec`,
  );
}

export interface CompactTicket {
  spec: ModelSpec;
  layers: BinaryLayer[];
  /** The model's other tensors (e.g. BatchNorm running statistics), by checkpoint name. */
  extras: Record<string, { shape: number[]; data: Float32Array }>;
}

/** A prunable layer's replacement that runs the binary weight-sparse kernel. */
export class BinaryConvModule extends Module {
  private readonly backend: Backend;
  private readonly segments: Storage;
  private readonly entries: Storage;

  constructor(readonly layer: BinaryLayer) {
    super();
    this.backend = getBackend();
    const { segments, entries } = binaryConvLayout(layer);
    this.segments = this.backend.upload(segments);
    this.entries = this.backend.upload(entries);
  }

  forward(x: Tensor): Tensor {
    const l = this.layer;
    if (this.disposed) throw new Error(`${l.name}: the compact layer was disposed`);
    if (x.backend !== this.backend) throw new Error(`${l.name}: the input lives on another backend than the ticket`);
    const linear = l.kind === 'linear';
    if (linear && (x.rank !== 2 || x.shape[1] !== l.inChannels)) throw new Error(`${l.name}: expected input [N, ${l.inChannels}], got [${x.shape.join(', ')}]`);
    if (!linear && (x.rank !== 4 || x.shape[1] !== l.inChannels)) throw new Error(`${l.name}: expected input [N, ${l.inChannels}, H, W], got [${x.shape.join(', ')}]`);
    const x4 = linear ? reshape(x, [x.shape[0], l.inChannels, 1, 1]) : x;
    const p = convParams(l.name, x4, l.outChannels, l.kernelSize, l.kernelSize, { stride: l.stride, padding: l.padding });
    const y = new Tensor(
      this.backend.binaryConv2d(x4.storage, { segments: this.segments, entries: this.entries, alpha: l.alpha }, p),
      [p.batch, p.outC, p.outH, p.outW],
      this.backend,
    );
    return linear ? reshape(y, [p.batch, p.outC]) : y;
  }

  private disposed = false;

  override dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.backend.release(this.segments);
    this.backend.release(this.entries);
  }
}

/** The same ticket with dense weights alpha * sign(W) * M and the ordinary kernels. */
export class DenseTicketModule extends Module {
  private readonly weight: Tensor;

  constructor(readonly layer: BinaryLayer) {
    super();
    const w = denseWeight(layer);
    const { outChannels: o, inChannels: i, kernelSize: k } = layer;
    // Linear layers compute x W with W stored [in, out].
    this.weight = keep(layer.kind === 'linear' ? tensor(transposeLinear(w, o, i), [i, o]) : tensor(w, [o, i, k, k]));
  }

  forward(x: Tensor): Tensor {
    const l = this.layer;
    return l.kind === 'linear' ? matmul(x, this.weight) : conv2d(x, this.weight, { stride: l.stride, padding: l.padding });
  }

  override ownTensors(): [string, Tensor][] {
    return [['weight', this.weight]];
  }
}

/**
 * Builds the architecture of `ticket.spec` and puts `kind` modules in place of its prunable
 * layers (matched by name and shape), with the extras loaded. Runs on the current backend.
 */
export function inferenceModel(ticket: CompactTicket, kind: 'compact' | 'dense'): Module {
  if (kind !== 'compact' && kind !== 'dense') throw new Error(`inferenceModel: kind must be 'compact' or 'dense', got ${valueStr(kind)}`);
  const { spec } = ticket;
  const model = createModel(spec.model, { mode: 'mpt', input: spec.input, classes: spec.classes, width: spec.width, seed: 1, batchNorm: spec.batchNorm ?? false });
  const byName = new Map(ticket.layers.map((l) => [l.name, l]));
  const found = prunableLayers(model);
  if (found.length !== ticket.layers.length) throw new Error(`the ticket has ${ticket.layers.length} layers, ${spec.model} (width ${spec.width}) has ${found.length}`);
  for (const [path, module] of model.namedModules()) {
    if (!(module instanceof Sequential)) continue;
    module.layers.forEach((child, i) => {
      if (!(child instanceof PrunableLayer)) return;
      const name = path ? `${path}.${i}` : String(i);
      const layer = byName.get(name);
      const want = child.weight.size;
      if (!layer) throw new Error(`the ticket has no layer '${name}' of ${spec.model}`);
      if (layer.outChannels * layer.inChannels * layer.kernelSize ** 2 !== want)
        throw new Error(`ticket layer '${name}' has the wrong shape for ${spec.model} (width ${spec.width})`);
      module.layers[i] = kind === 'compact' ? new BinaryConvModule(layer) : new DenseTicketModule(layer);
      child.dispose();
    });
  }
  if (prunableLayers(model).length) throw new Error(`internal: ${spec.model} has prunable layers outside a Sequential`);
  const tensors = new Map(model.namedTensors());
  for (const [name, extra] of Object.entries(ticket.extras)) {
    const t = tensors.get(name);
    if (!t) throw new Error(`the ticket's tensor '${name}' is not part of ${spec.model}`);
    if (t.size !== extra.data.length) throw new Error(`the ticket's tensor '${name}' has ${extra.data.length} values, the model wants ${t.size}`);
    t.assign(tensor(extra.data, t.shape));
  }
  return model.eval();
}
