// tg.prune: the pruning methods of docs/algorithms.md section 3, all ending in the same exact top-k.

export { computeMasks, rampedDensity, type MaskConfig, type Scope } from './masks.js';
export { setTopkMasks, scopeGroups, reapplyMasks, layerDensities, collapseWarnings, type ScoreGroup, type LayerDensity } from './select.js';
export {
  pruneAtInit,
  snipScores,
  synflowScores,
  erkDensities,
  defaultPruneRounds,
  defaultPruneScope,
  INIT_PRUNE_METHODS,
  type InitPruneMethod,
  type PruneAtInitOptions,
  type LabelledBatch,
} from './at-init.js';
export { impRoundCount, impSchedule, impPrune, Snapshot, IMP_RATE, type ImpSchedule, type ImpPruneOptions } from './imp.js';
export { GemMinerSearch, gemMinerSchedule, GEMMINER_PERIOD, type GemMinerOptions } from './gemminer.js';
export {
  channelGroups,
  gammaPenalty,
  channelMasks,
  hammingDistance,
  EarlyBirdDetector,
  pruneChannels,
  applyChannelMasks,
  type ChannelGroup,
  type EarlyBirdOptions,
} from './earlybird.js';
export { iht, spectralNormSquared, type IhtOptions, type IhtResult } from './iht.js';
