// ticketgrad: the public API.

export { init, type InitOptions, type InitResult } from './init.js';
export { setBackend, getBackend, shutdown, noGrad, scope, keep, type BackendName } from './engine.js';
export { Tensor, tensor, zeros, ones, full, randn, rand, type TensorOptions, type RandomOptions, type BackwardFn } from './tensor.js';
import './tensor-methods.js';
export * from './ops/index.js';
export { SGD, Adam, type SGDOptions, type AdamOptions, type OptimizerState } from './optim/optimizers.js';
export { cosineSchedule, multiStepSchedule, constantSchedule, type Schedule } from './optim/schedules.js';
export type { Backend, MemoryInfo, TopkMethod } from './backend/backend.js';
export { sizeOf } from './shape.js';
export * as nn from './nn/index.js';
export { computeMasks, rampedDensity, type MaskConfig, type Scope } from './prune/masks.js';
export * as prune from './prune/index.js';
export * as sparse from './sparse/index.js';
export * as data from './data/index.js';
export * as report from './report/index.js';
export { trainModel, type RunCheckpoint, type TrainModelOptions, type TrainListener, type StepInfo, type RunReport, type LayerReport } from './train/loop.js';
export {
  resolveOptions,
  checkOptions,
  DEFAULT_OPTIONS,
  TRAIN_METHODS,
  type RunOptions,
  type TrainMethod,
  type EpochMetrics,
  type DataName,
  type FinetuneLayers,
} from './train/options.js';
export { evaluate } from './train/evaluate.js';

import { getBackend } from './engine.js';
import type { MemoryInfo } from './backend/backend.js';

/** Submits recorded GPU work now (call at a step boundary); a no-op on the CPU. */
export function flush(): void {
  getBackend().flush();
}

/** Submits recorded GPU work and waits for the device to finish it (for timing). */
export async function sync(): Promise<void> {
  await getBackend().sync();
}

/** Device memory of the default backend: live and pooled buffers. */
export function memory(): MemoryInfo {
  return getBackend().memory();
}
