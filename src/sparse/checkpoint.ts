// From a trained model or its model.safetensors checkpoint to what the sparse tools need: the
// kernel counts of `analyze` (any method) and the compact ticket of `export` (mpt only).
// A checkpoint carries its architecture in the metadata (keys `spec` and `layers`, JSON) so
// that a lone .safetensors file is enough.

import type { Module } from '../nn/module.js';
import { prunableLayers } from '../nn/models.js';
import type { SafetensorsContents } from '../io/safetensors.js';
import { type MaskCounts, maskCounts } from './analyze.js';
import { type CompactTicket, type ModelSpec, inferenceModel, readModelSpec } from './compact-model.js';
import { type BinaryLayer, type BinaryLayerShape, aBinaryScale, kernelTaps, packBinaryLayer, readLayerShape, transposeLinear } from './ticket.js';
import { parseJson, readList } from '../io/json.js';

/** The prunable layers of a model that has run a forward pass, as (1x1 for linear) convolutions. */
export function describeLayers(model: Module): BinaryLayerShape[] {
  return prunableLayers(model).map(([name, l]) => l.describe(name));
}

/** Checkpoint metadata entries that make the file self-describing. */
export function ticketMetadata(spec: ModelSpec, layers: BinaryLayerShape[]): Record<string, string> {
  return { spec: JSON.stringify(spec), layers: JSON.stringify(layers) };
}

/**
 * Every tensor of a model (weights, scores, masks, alphas, BatchNorm statistics) with the
 * metadata that makes the checkpoint self-describing. The model must have run a forward pass.
 */
export async function modelCheckpoint(model: Module, spec: ModelSpec, method: string): Promise<SafetensorsContents> {
  const tensors: SafetensorsContents['tensors'] = {};
  for (const [name, t] of model.namedTensors()) tensors[name] = { shape: [...t.shape], data: await t.data() };
  return { tensors, metadata: { format: 'ticketgrad', model: spec.model, method, ...ticketMetadata(spec, describeLayers(model)) } };
}

/** Kept kernels and weights of a model's current masks (everything counts as kept without a mask). */
export async function modelKernelCounts(model: Module): Promise<MaskCounts[]> {
  const out: MaskCounts[] = [];
  for (const [name, l] of prunableLayers(model)) out.push(maskCounts(l.describe(name), l.mask ? await l.mask.data() : null));
  return out;
}

interface CheckpointLayers {
  spec: ModelSpec;
  layers: BinaryLayerShape[];
  method: string;
}

function parseMetadata(contents: SafetensorsContents, what: string): CheckpointLayers {
  const { spec, layers, method } = contents.metadata;
  if (spec === undefined || layers === undefined) {
    throw new Error(`${what}: the checkpoint has no 'spec'/'layers' metadata (written by an older ticketgrad?); train it again`);
  }
  const listed = `${what}: metadata layers`;
  return {
    spec: readModelSpec(parseJson(spec, `${what}: metadata spec`), what),
    layers: readList(parseJson(layers, listed), listed).map((l, i) => readLayerShape(l, `${what}: layer ${i}`)),
    method: method ?? 'unknown',
  };
}

function tensorOf(contents: SafetensorsContents, name: string, size: number, what: string): Float32Array {
  const t = contents.tensors[name];
  if (!t) throw new Error(`${what}: the checkpoint has no tensor '${name}'`);
  if (t.data.length !== size) throw new Error(`${what}: tensor '${name}' has ${t.data.length} values, expected ${size}`);
  return t.data;
}

/** A mask's values: every one exactly 0 or 1 (a 0.5 or NaN would be counted as kept or not at random). */
function maskOf(contents: SafetensorsContents, name: string, size: number, what: string): Float32Array {
  const mask = tensorOf(contents, name, size, what);
  const bad = mask.findIndex((v) => v !== 0 && v !== 1);
  if (bad >= 0) throw new Error(`${what}: tensor '${name}' holds ${mask[bad]} at index ${bad}; a mask holds only 0 and 1`);
  return mask;
}

export function checkpointKernelCounts(contents: SafetensorsContents, what: string): MaskCounts[] {
  return parseMetadata(contents, what).layers.map((shape) => {
    const mask = contents.tensors[`${shape.name}.mask`];
    return maskCounts(shape, mask ? maskOf(contents, `${shape.name}.mask`, shape.outChannels * shape.inChannels * kernelTaps(shape), what) : null);
  });
}

/**
 * The compact binary ticket of an mpt checkpoint, checked to load as the model its spec
 * describes (a wrong class count or model name would otherwise make a .tgt that infers nothing).
 */
export function checkpointTicket(contents: SafetensorsContents, what: string): CompactTicket {
  const ticket = packTicket(contents, what);
  try {
    inferenceModel(ticket, 'compact').dispose();
  } catch (e) {
    const { model, width, input, classes } = ticket.spec;
    throw new Error(`${what}: the metadata's spec (${model} width ${width}, input [${input.join(', ')}], ${classes} classes) does not fit its layers: ${(e as Error).message}`);
  }
  return ticket;
}

function packTicket(contents: SafetensorsContents, what: string): CompactTicket {
  const { spec, layers, method } = parseMetadata(contents, what);
  if (method !== 'mpt') throw new Error(`${what}: a compact ticket needs binary weights (--method mpt); this checkpoint is '${method}'`);
  const packed: BinaryLayer[] = layers.map((shape) => {
    const size = shape.outChannels * shape.inChannels * kernelTaps(shape);
    let weight = tensorOf(contents, `${shape.name}.weight`, size, what);
    let mask = maskOf(contents, `${shape.name}.mask`, size, what);
    const alpha = tensorOf(contents, `${shape.name}.alpha`, 1, what)[0];
    if (!aBinaryScale.ok(alpha)) throw new Error(`${what}: ${shape.name}.alpha is ${alpha}; the scale of binary weights must be a finite number > 0`);
    if (shape.kind === 'linear') {
      weight = transposeLinear(weight, shape.inChannels, shape.outChannels);
      mask = transposeLinear(mask, shape.inChannels, shape.outChannels);
    }
    return packBinaryLayer(shape, weight, mask, alpha);
  });
  const prefixes = layers.map((l) => `${l.name}.`);
  const extras = Object.entries(contents.tensors).filter(([name]) => !prefixes.some((p) => name.startsWith(p)));
  return { spec, layers: packed, extras: Object.fromEntries(extras) };
}
