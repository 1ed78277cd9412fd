// The training procedures of the pruning methods of docs/algorithms.md (`ticketgrad train
// --method imp|synflow|snip|magnitude|random|erk|gemminer|earlybird`), on top of the epoch loop
// that loop.ts runs for every method (runPhase). Each procedure returns what it adds to
// report.json.

import { keep } from '../engine.js';
import { type SavedTensors, type Tensor, readTensors, tensor } from '../tensor.js';
import type { Adam, SGD } from '../optim/optimizers.js';
import type { Schedule } from '../optim/schedules.js';
import { type Split, batches } from '../data/dataset.js';
import type { Module } from '../nn/module.js';
import type { MaskMode, PrunableLayer } from '../nn/prunable.js';
import type { MaskConfig } from '../prune/masks.js';
import { collapseWarnings, layerDensities, reapplyMasks } from '../prune/select.js';
import { INIT_PRUNE_METHODS, type InitPruneMethod, type LabelledBatch, pruneAtInit } from '../prune/at-init.js';
import { Snapshot, impPrune, impRoundCount, impSchedule } from '../prune/imp.js';
import { GemMinerSearch } from '../prune/gemminer.js';
import { EarlyBirdDetector, applyChannelMasks, channelGroups, channelMasks, gammaPenalty, pruneChannels } from '../prune/earlybird.js';
import { DEFAULT_EB_L1, DEFAULT_GM_LAMBDA, type EpochMetrics, type RunOptions, type TrainMethod } from './options.js';
import { weightLearningRate } from './learning-rates.js';

/** The methods of this file (the others are score training and the dense baseline). */
export type PruningMethod = Exclude<TrainMethod, 'mpt' | 'edgepopup' | 'dense'>;

export function isPruningMethod(method: TrainMethod): method is PruningMethod {
  return method !== 'mpt' && method !== 'edgepopup' && method !== 'dense';
}

/** The prunable-layer mode a method trains in. */
export function modeOf(method: TrainMethod): MaskMode {
  if (!isPruningMethod(method)) return method;
  return method === 'gemminer' ? 'gemminer' : 'masked';
}

/**
 * Gem-Miner's default learning rate. Its scores span [0, 1] but get gradients g * W of order
 * 1e-4, so its own recipe (SGD 0.1 for 150 epochs) barely moves them in a run of a few epochs.
 * Measured here (lenet300, 2,000 MNIST digits, 6 epochs, density 0.1, before fine-tuning):
 * ticket 74.0% at lr 3, 87.6% at lr 10.
 */
export const GEMMINER_LR = 10;

/** Default learning rates: weights as in the dense baseline (weightLearningRate); Gem-Miner's scores at GEMMINER_LR. */
export function defaultPruningLearningRate(method: PruningMethod, layers: PrunableLayer[]): number {
  return method === 'gemminer' ? GEMMINER_LR : weightLearningRate(layers);
}

export interface PhaseHooks {
  /** Masks recomputed from the scores before every step (mpt, edgepopup). */
  maskConfig?: (epoch: number) => MaskConfig;
  /** The density metrics.jsonl records, after each epoch (default: the mask schedule's). */
  density?: () => Promise<number>;
  /** IMP's round, recorded in the metrics. */
  round?: number;
  /** Added to the cross-entropy before backward (the reported loss stays the cross-entropy). */
  extraLoss?: () => Tensor;
  afterStep?: () => void;
  /** After each epoch's evaluation (epoch 1-based); true ends the phase. */
  // biome-ignore lint/suspicious/noConfusingVoidType: hooks that never end the phase return nothing.
  afterEpoch?: (epoch: number) => Promise<boolean | void> | boolean | void;
  /** The method's own state after an epoch (and its afterEpoch), for the run's checkpoint. */
  checkpoint?: () => Promise<MethodState>;
}

/** What a method keeps beyond the model and the optimizer, to resume from a checkpoint. */
export interface MethodState {
  values: Record<string, number | null | (number | null)[]>;
  tensors: SavedTensors;
}

/** The checkpoint a run resumes from, as a method sees it. */
export interface ResumeFrom {
  phase: EpochMetrics['phase'];
  round?: number;
  epoch: number;
  method?: MethodState;
}

export type PhaseRunner = (phase: EpochMetrics['phase'], epochs: number, optimizer: SGD | Adam, schedule: Schedule, hooks: PhaseHooks) => Promise<EpochMetrics[]>;

/** What the loop hands a method. */
export interface MethodContext {
  options: RunOptions;
  model: Module;
  layers: PrunableLayer[];
  data: Split;
  lr: number;
  /** 1 - sparsity. */
  density: number;
  log(line: string): void;
  /** Reports a problem once: one stderr line (or options.onWarning) and report.warnings. */
  warn(message: string): void;
  optimizer(params: Tensor[], lr: number, weightDecay?: number): SGD | Adam;
  schedule(lr: number, epochs: number): Schedule;
  runPhase: PhaseRunner;
  evaluate(): Promise<number>;
  /** Runs `fn` between device syncs; its time counts in report.maskSeconds. */
  timeMasks<T>(fn: () => T | Promise<T>): Promise<T>;
  /** True once the run was asked to stop: a method starts no further round. */
  stopped(): boolean;
  /**
   * The checkpoint the run continues from: the model's tensors (masks included) are restored,
   * and runPhase skips finished epochs; a method skips the steps before that point and takes
   * its own state from `resume.method`.
   */
  resume?: ResumeFrom;
}

/** The tensors of `state` whose names start with `prefix`, in index order (prefix0, prefix1, ...). */
function indexedTensors(state: MethodState | undefined, prefix: string): Float32Array[] {
  const out: Float32Array[] = [];
  while (state?.tensors[`${prefix}${out.length}`]) out.push(state.tensors[`${prefix}${out.length}`].data);
  return out;
}

export interface RoundReport {
  round: number;
  /** Density of all prunable weights while this round trained. */
  density: number;
  testAccuracy: number;
  seconds: number;
}

/** What a method adds to report.json. */
export interface MethodOutcome {
  /** IMP: one entry per training round (round 0 is dense). */
  rounds?: RoundReport[];
  /** Early-Bird: the epoch (1-based) whose mask drew the ticket; null when none did. */
  earlyBirdEpoch?: number | null;
  /** Early-Bird: per epoch, the largest mask distance to the previous epochs (null before the window fills). */
  earlyBirdDistances?: (number | null)[];
  /** Gem-Miner, Early-Bird: test accuracy of the ticket right after it was found, before retraining. */
  ticketTestAccuracy?: number;
  /** The final accuracy when no epoch measured it last (no retraining). */
  testAccuracy?: number;
}

/** Kept fraction of all prunable weights (reads the masks back). */
async function overallDensity(model: Module): Promise<number> {
  const layers = await layerDensities(model);
  return layers.reduce((a, l) => a + l.kept, 0) / layers.reduce((a, l) => a + l.size, 0);
}

async function warnCollapsed(ctx: MethodContext): Promise<void> {
  for (const message of await collapseWarnings(ctx.model)) ctx.warn(message);
}

const sumSeconds = (metrics: EpochMetrics[]): number => metrics.reduce((a, m) => a + m.seconds, 0);
const stepsPerEpoch = (ctx: MethodContext): number => Math.ceil(ctx.data.train.count / ctx.options.batch);

export async function runPruningMethod(ctx: MethodContext): Promise<MethodOutcome> {
  const method = ctx.options.method;
  if (method === 'imp') return trainImp(ctx);
  if (method === 'gemminer') return trainGemMiner(ctx);
  if (method === 'earlybird') return trainEarlyBird(ctx);
  if ((INIT_PRUNE_METHODS as readonly string[]).includes(method)) return trainPrunedAtInit(ctx, method as InitPruneMethod);
  throw new Error(`unknown pruning method '${method}'`);
}

/** Trains the weights of a masked model with the masks fixed (re-applied after every step). */
async function trainMasked(ctx: MethodContext, phase: EpochMetrics['phase'], epochs: number, lr: number, hooks: PhaseHooks = {}): Promise<EpochMetrics[]> {
  const density = await overallDensity(ctx.model);
  const optimizer = ctx.optimizer(ctx.model.parameters(), lr);
  const afterStep = hooks.afterStep;
  const metrics = await ctx.runPhase(phase, epochs, optimizer, ctx.schedule(lr, epochs), {
    density: async () => density,
    ...hooks,
    afterStep: () => {
      reapplyMasks(ctx.layers);
      afterStep?.();
    },
  });
  optimizer.dispose();
  return metrics;
}

/** magnitude, snip, synflow, random, erk: prune at init, then train the kept weights. */
async function trainPrunedAtInit(ctx: MethodContext, method: InitPruneMethod): Promise<MethodOutcome> {
  const o = ctx.options;
  if (!ctx.resume) await pruneAtInitOnce(ctx, method);
  await warnCollapsed(ctx);
  await trainMasked(ctx, 'train', o.epochs, ctx.lr);
  return {};
}

async function pruneAtInitOnce(ctx: MethodContext, method: InitPruneMethod): Promise<void> {
  const o = ctx.options;
  let snipBatches: LabelledBatch[] | undefined;
  if (method === 'snip') {
    snipBatches = [];
    for (const b of batches(ctx.data.train, o.batch)) {
      if (snipBatches.length === (o.pruneBatches ?? 1)) break;
      snipBatches.push({ inputs: keep(tensor(b.images, [b.size, ...ctx.data.train.shape])), labels: b.labels });
    }
  }
  await ctx.timeMasks(() =>
    pruneAtInit(ctx.model, {
      method,
      density: ctx.density,
      scope: o.scope,
      rounds: o.pruneRounds,
      input: ctx.data.train.shape,
      batches: snipBatches,
      seed: o.seed,
      topk: o.mask,
    }),
  );
  snipBatches?.forEach((b) => b.inputs.dispose());
}

/** IMP with rewinding: rounds of train / prune / rewind; round 0 trains the dense network. */
async function trainImp(ctx: MethodContext): Promise<MethodOutcome> {
  const o = ctx.options;
  const rounds = o.rounds ?? impRoundCount(ctx.density);
  const schedule = impSchedule(ctx.density, rounds, o.outputRate);
  const rewind = o.rewind ?? 0;
  const stepsPerRound = stepsPerEpoch(ctx) * o.epochs;
  if (rewind > stepsPerRound) throw new Error(`--rewind ${rewind}: a round has only ${stepsPerRound} steps (${o.epochs} epochs of ${stepsPerEpoch(ctx)})`);
  // A resumed run: its rounds up to the checkpoint's have pruned (the masks are restored).
  const resumedRound = ctx.resume ? (ctx.resume.round ?? 0) : -1;
  const saved = ctx.resume?.method?.tensors;
  let rewindPoint = saved && Object.keys(saved).length ? new Snapshot(ctx.model, saved) : rewind === 0 && !ctx.resume ? new Snapshot(ctx.model) : null;
  const report: RoundReport[] = [];
  for (let round = 0; round <= rounds && !ctx.stopped(); round++) {
    if (round > resumedRound && round > 0) {
      await ctx.timeMasks(() => impPrune(ctx.layers, { density: schedule.density[round], outputDensity: schedule.outputDensity[round], scope: o.scope, topk: o.mask }));
      rewindPoint!.restore();
      await warnCollapsed(ctx);
    }
    const density = await overallDensity(ctx.model);
    if (round >= resumedRound) ctx.log(`imp: round ${round} of ${rounds}, density ${density.toFixed(4)}`);
    // Steps taken in this round (those of the epochs a resumed round has finished included).
    let steps = round === resumedRound ? ctx.resume!.epoch * stepsPerEpoch(ctx) : 0;
    const metrics = await trainMasked(ctx, 'train', o.epochs, ctx.lr, {
      round,
      afterStep: () => {
        steps++;
        if (!rewindPoint && steps === rewind) rewindPoint = new Snapshot(ctx.model);
      },
      checkpoint: async () => ({ values: {}, tensors: rewindPoint ? await rewindPoint.values() : {} }),
    });
    // A round finished before the checkpoint reports the density it trained at.
    report.push({
      round,
      density: metrics[0]?.density ?? density,
      testAccuracy: metrics[metrics.length - 1]?.testAccuracy ?? (await ctx.evaluate()),
      seconds: sumSeconds(metrics),
    });
  }
  rewindPoint?.dispose();
  return { rounds: report };
}

/** Gem-Miner: score search with the weights frozen, then fine-tuning of the ticket's weights. */
async function trainGemMiner(ctx: MethodContext): Promise<MethodOutcome> {
  const o = ctx.options;
  const search = new GemMinerSearch(ctx.layers, { density: ctx.density, epochs: o.epochs, topk: o.mask });
  const inFinetune = ctx.resume?.phase === 'finetune';
  const active = indexedTensors(ctx.resume?.method, 'active');
  if (active.length) search.loadActive(active);
  // lambda * ||p||^2 enters through its gradient 2 lambda p, i.e. as weight decay on the scores.
  const optimizer = ctx.optimizer(ctx.model.parameters(), ctx.lr, o.weightDecay + 2 * (o.gmLambda ?? DEFAULT_GM_LAMBDA));
  await ctx.runPhase('train', o.epochs, optimizer, ctx.schedule(ctx.lr, o.epochs), {
    density: () => overallDensity(ctx.model),
    afterStep: () => search.afterStep(),
    afterEpoch: (epoch) => {
      const active = search.afterEpoch(epoch);
      if (active !== null) ctx.log(`gem-miner: after epoch ${epoch}, scores frozen off down to ${(100 * active).toFixed(2)}% active`);
    },
    checkpoint: async () => ({ values: {}, tensors: await readTensors(search.activeMasks().map((m, i) => [`active${i}`, m])) }),
  });
  optimizer.dispose();
  // Resumed in fine-tuning: the ticket's masks are restored; they stay fixed as finish() left them.
  if (inFinetune) search.freeze();
  else await ctx.timeMasks(() => search.finish());
  await warnCollapsed(ctx);
  const ticketTestAccuracy = inFinetune ? (ctx.resume!.method!.values.ticketTestAccuracy as number) : await ctx.evaluate();
  if (!inFinetune) ctx.log(`gem-miner: ticket test accuracy ${(100 * ticketTestAccuracy).toFixed(2)}% before fine-tuning`);
  let finetune: EpochMetrics[] = [];
  if (o.finetuneEpochs > 0) {
    const density = await overallDensity(ctx.model);
    const ft = ctx.optimizer(ctx.model.parameters(), o.finetuneLr);
    finetune = await ctx.runPhase('finetune', o.finetuneEpochs, ft, ctx.schedule(o.finetuneLr, o.finetuneEpochs), {
      density: async () => density,
      checkpoint: async () => ({ values: { ticketTestAccuracy }, tensors: {} }),
    });
    ft.dispose();
  }
  return { ticketTestAccuracy, testAccuracy: finetune[finetune.length - 1]?.testAccuracy ?? ticketTestAccuracy };
}

/**
 * Early-Bird: train with L1 on the BatchNorm scales until the channel mask stops moving (or
 * for --epochs), prune those channels, and retrain for --finetune-epochs at --finetune-lr.
 * --sparsity is the fraction of channels removed.
 */
async function trainEarlyBird(ctx: MethodContext): Promise<MethodOutcome> {
  const o = ctx.options;
  const groups = channelGroups(ctx.model);
  if (groups.length === 0) throw new Error(`earlybird: ${o.model} has no affine BatchNorm to read channel scales from`);
  const detector = new EarlyBirdDetector();
  const l1 = o.ebL1 ?? DEFAULT_EB_L1;
  const saved = ctx.resume?.method;
  const distances = (saved?.values.distances as (number | null)[] | undefined) ?? [];
  // Set inside the epoch hook.
  const found: { masks: Tensor[] | null; epoch: number | null } = { masks: null, epoch: (saved?.values.epoch as number | null | undefined) ?? null };
  detector.load(indexedTensors(saved, 'recent'));
  const savedChannels = indexedTensors(saved, 'channels');
  if (savedChannels.length) found.masks = savedChannels.map((m) => keep(tensor(m, [m.length])));
  const state = async (values: MethodState['values']): Promise<MethodState> => ({
    values: { distances, epoch: found.epoch, ...values },
    tensors: {
      ...Object.fromEntries(detector.masks().map((m, i) => [`recent${i}`, { shape: [m.length], data: m }])),
      ...(await readTensors((found.masks ?? []).map((m, i) => [`channels${i}`, m]))),
    },
  });
  const drawMasks = async (): Promise<Float32Array> => {
    found.masks?.forEach((m) => m.dispose());
    const masks = channelMasks(groups, ctx.density, o.mask).map((m) => keep(m));
    found.masks = masks;
    const parts = await Promise.all(masks.map((m) => m.data()));
    const all = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
    let at = 0;
    for (const p of parts) {
      all.set(p, at);
      at += p.length;
    }
    return all;
  };
  const optimizer = ctx.optimizer(ctx.model.parameters(), ctx.lr);
  await ctx.runPhase('train', o.epochs, optimizer, ctx.schedule(ctx.lr, o.epochs), {
    density: async () => 1,
    extraLoss: () => gammaPenalty(groups, l1),
    afterEpoch: async (epoch) => {
      const { distance, emerged } = detector.push(await drawMasks());
      distances.push(distance);
      ctx.log(`early-bird: epoch ${epoch}, channel-mask distance ${distance === null ? '-' : distance.toFixed(3)}${emerged ? ': the ticket has emerged' : ''}`);
      if (emerged) found.epoch = epoch;
      return emerged;
    },
    checkpoint: () => state({}),
  });
  optimizer.dispose();
  // Resumed in retraining: the channels were pruned before the checkpoint (the masks are restored).
  const inFinetune = ctx.resume?.phase === 'finetune';
  if (found.epoch === null && !inFinetune) ctx.log(`early-bird: no ticket emerged in ${o.epochs} epochs; pruning the channels of the last mask`);
  if (!found.masks) await drawMasks();
  const channels = found.masks!;
  if (!inFinetune) await ctx.timeMasks(() => pruneChannels(groups, channels));
  await warnCollapsed(ctx);
  const ticketTestAccuracy = inFinetune ? (saved!.values.ticketTestAccuracy as number) : await ctx.evaluate();
  if (!inFinetune) ctx.log(`early-bird: pruned-channel ticket test accuracy ${(100 * ticketTestAccuracy).toFixed(2)}% before retraining`);
  const retrain = await trainMasked(ctx, 'finetune', o.finetuneEpochs, o.finetuneLr, {
    afterStep: () => applyChannelMasks(groups, channels),
    checkpoint: () => state({ ticketTestAccuracy }),
  });
  channels.forEach((m) => m.dispose());
  return { earlyBirdEpoch: found.epoch, earlyBirdDistances: distances, ticketTestAccuracy, testAccuracy: retrain[retrain.length - 1]?.testAccuracy ?? ticketTestAccuracy };
}
