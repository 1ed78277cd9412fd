// Gem-Miner (Sreenivasan et al., "Rare Gems"): weights frozen at init, one score p in [0, 1]
// per weight (init U[0, 1]), mask M = p > 0.5 with a straight-through gradient (mode
// 'gemminer' of the prunable layers), loss + lambda * ||p||^2, p clamped to [0, 1] after every
// step, and every `period` epochs the lowest active scores are frozen off (set to 0 for good),
// globally, so that the active fraction reaches the target density on schedule. The ticket is
// the top-k of p at the target density; its weights are then fine-tuned.

import { keep, noGrad, scope } from '../engine.js';
import { type Tensor, tensor } from '../tensor.js';
import type { TopkMethod } from '../backend/backend.js';
import { maximum, mul, neg } from '../ops/elementwise.js';
import { topkMask } from '../ops/topk.js';
import type { PrunableLayer } from '../nn/prunable.js';
import { setTopkMasks } from './select.js';

/** Gem-Miner freezes scores every 5 epochs. */
export const GEMMINER_PERIOD = 5;

/**
 * Freeze events: at the end of epochs period, 2 period, ... and of the last epoch; the t-th of
 * T events leaves density^(t/T) of the scores active. Map from epoch (1-based) to density.
 */
export function gemMinerSchedule(density: number, epochs: number, period = GEMMINER_PERIOD): Map<number, number> {
  if (!Number.isInteger(period) || period < 1) throw new Error(`gemMinerSchedule: period must be an integer >= 1, got ${period}`);
  if (!(density > 0 && density <= 1)) throw new Error(`gemMinerSchedule: density must be in (0, 1], got ${density}`);
  if (!(Number.isInteger(epochs) && epochs >= 1)) throw new Error(`gemMinerSchedule: epochs must be an integer >= 1, got ${epochs}`);
  const events = Math.ceil(epochs / period);
  return new Map(Array.from({ length: events }, (_, t): [number, number] => [Math.min((t + 1) * period, epochs), density ** ((t + 1) / events)]));
}

export interface GemMinerOptions {
  /** Target fraction of weights kept. */
  density: number;
  /** Epochs of score training (the schedule's length). */
  epochs: number;
  period?: number;
  topk?: TopkMethod;
}

/** The score side of a Gem-Miner search over layers of mode 'gemminer'. */
export class GemMinerSearch {
  /** 0/1 per score: 0 once frozen off (null before the first freeze: all active). */
  private active: Tensor[] | null = null;
  private readonly schedule: Map<number, number>;

  constructor(
    readonly layers: PrunableLayer[],
    readonly options: GemMinerOptions,
  ) {
    const wrong = layers.find((l) => l.mode !== 'gemminer');
    if (wrong) throw new Error(`GemMinerSearch: layers must have mode 'gemminer', got '${wrong.mode}'`);
    this.schedule = gemMinerSchedule(options.density, options.epochs, options.period);
  }

  private get scores(): Tensor[] {
    return this.layers.map((l) => l.scores!);
  }

  /** After every optimizer step: p <- clamp(p, 0, 1), and frozen-off scores stay 0. */
  afterStep(): void {
    noGrad(() =>
      scope(() => {
        this.layers.forEach((l, i) => {
          // min(max(p, 0), 1) with exact operations (negation and max).
          const clamped = neg(maximum(neg(maximum(l.scores!, 0)), -1));
          l.scores!.assign(this.active ? mul(clamped, this.active[i]) : clamped);
        });
      }),
    );
  }

  /** At the end of epoch `epoch` (1-based): freezes off on schedule; the active density, or null. */
  afterEpoch(epoch: number): number | null {
    const density = this.schedule.get(epoch);
    if (density === undefined) return null;
    noGrad(() => {
      const active = topkMask(this.scores, density, { method: this.options.topk }).map((m) => keep(m));
      this.active?.forEach((m) => m.dispose());
      this.active = active;
    });
    this.afterStep();
    return density;
  }

  /** The 0/1 masks of the scores still active (none before the first freeze). */
  activeMasks(): Tensor[] {
    return this.active ?? [];
  }

  /** Continues a search whose activeMasks() were saved (a resumed run). */
  loadActive(masks: Float32Array[]): void {
    if (masks.length !== this.layers.length) throw new Error(`GemMinerSearch: ${masks.length} saved masks for ${this.layers.length} layers`);
    this.dispose();
    this.active = masks.map((m, i) => keep(tensor(m, this.layers[i].scores!.shape, { backend: this.layers[i].scores!.backend.name })));
  }

  /**
   * The ticket: the top-k of p over all layers at the target density (exactly that many
   * weights; p > 0.5 first, as the scores rank). Masks are fixed and the weights set trainable.
   */
  finish(): void {
    setTopkMasks([{ layers: this.layers, scores: this.scores, density: this.options.density }], this.options.topk);
    this.freeze();
  }

  /** Masks fixed as they are (finish() without choosing them: a run resumed after it), weights trainable. */
  freeze(): void {
    for (const l of this.layers) l.freezeMask(true);
    this.dispose();
  }

  dispose(): void {
    this.active?.forEach((m) => m.dispose());
    this.active = null;
  }
}
