// tg.sparse: compact binary tickets for inference (browser-safe).
export { type BinaryLayer, type BinaryLayerShape, type LayerKind, packBinaryLayer, denseWeight, binaryConvLayout } from './ticket.js';
export { type KernelCounts, type MaskCounts, type LayerAnalysis, type TicketAnalysis, analyzeTicket, keptKernelCount, maskCounts } from './analyze.js';
export { type CompactTicket, type ModelSpec, BinaryConvModule, DenseTicketModule, inferenceModel } from './compact-model.js';
export { modelCheckpoint, modelKernelCounts, checkpointTicket, checkpointKernelCounts, describeLayers } from './checkpoint.js';
export { readTgt, writeTgt, TGT_MAGIC, TGT_VERSION } from '../io/tgt.js';
export { readSafetensors, writeSafetensors, type SafetensorsContents, type SafetensorsTensor } from '../io/safetensors.js';
