// Iterative magnitude pruning with rewinding (Frankle & Carbin; open_lth): train, keep the
// largest |W| of the surviving weights, rewind the survivors to their values at init (or at
// step k), repeat. The output layer is pruned at a fraction of the rate (half by default, as in
// the original paper).

import { keep, noGrad, scope } from '../engine.js';
import { type SavedTensors, type Tensor, readTensors, tensor } from '../tensor.js';
import type { TopkMethod } from '../backend/backend.js';
import { abs, mul } from '../ops/elementwise.js';
import type { Module } from '../nn/module.js';
import { prunableLayers } from '../nn/models.js';
import type { PrunableLayer } from '../nn/prunable.js';
import type { Scope } from './masks.js';
import { type ScoreGroup, reapplyMasks, setTopkMasks } from './select.js';

/** The pruning rate of one round of the original paper: 20% of the remaining weights. */
export const IMP_RATE = 0.2;

/** Rounds of 20% pruning needed to reach `density`: ceil(log(density) / log(0.8)) (0 for density 1). */
export function impRoundCount(density: number): number {
  if (!(density > 0 && density <= 1)) throw new Error(`impRoundCount: density must be in (0, 1], got ${density}`);
  // The epsilon keeps 0.8^n itself from rounding up to n + 1.
  return Math.max(0, Math.ceil(Math.log(density) / Math.log(1 - IMP_RATE) - 1e-9));
}

export interface ImpSchedule {
  /** Density of the other layers after round r (index 0 = before pruning, 1). */
  density: number[];
  /** Density of the output layer after round r. */
  outputDensity: number[];
}

/**
 * The densities after each of `rounds` rounds: the others lose the same fraction per round so
 * that they end exactly at `density` (1 - density^(1/rounds), at most 20% when `rounds` comes
 * from impRoundCount); the output layer loses `outputRate` times that fraction.
 */
export function impSchedule(density: number, rounds: number, outputRate = 0.5): ImpSchedule {
  if (!Number.isInteger(rounds) || rounds < 0) throw new Error(`impSchedule: rounds must be an integer >= 0, got ${rounds}`);
  if (!(outputRate >= 0 && outputRate <= 1)) throw new Error(`impSchedule: outputRate must be in [0, 1], got ${outputRate}`);
  if (rounds === 0 && density !== 1) throw new Error(`impSchedule: density ${density} needs at least one round`);
  const rate = rounds === 0 ? 0 : 1 - density ** (1 / rounds);
  const steps = Array.from({ length: rounds + 1 }, (_, r) => r);
  return {
    density: steps.map((r) => (r === rounds ? density : (1 - rate) ** r)),
    outputDensity: steps.map((r) => (1 - rate * outputRate) ** r),
  };
}

export interface ImpPruneOptions {
  /** Density of every layer but the output one, as a fraction of the layer (or, global, of all of them). */
  density: number;
  outputDensity: number;
  scope: Scope;
  topk?: TopkMethod;
}

/**
 * One pruning step of IMP on masked layers (the last one is the output layer): keep the largest
 * |W * M|. Pruned weights score 0, so with a lower density than before nothing comes back.
 */
export function impPrune(layers: PrunableLayer[], options: ImpPruneOptions): void {
  if (layers.length === 0) throw new Error('impPrune: no layers');
  scope(() => {
    const scores = noGrad(() => layers.map((l) => abs(mul(l.weight, l.mask!))));
    const body = layers.length - 1;
    const groups: ScoreGroup[] = [{ layers: [layers[body]], scores: [scores[body]], density: options.outputDensity }];
    if (options.scope === 'global' && body > 0) groups.push({ layers: layers.slice(0, body), scores: scores.slice(0, body), density: options.density });
    else for (let i = 0; i < body; i++) groups.push({ layers: [layers[i]], scores: [scores[i]], density: options.density });
    setTopkMasks(groups, options.topk);
  });
}

/**
 * Copies of a model's state (weights, BatchNorm parameters and statistics; not the masks), to
 * rewind to. Tensors are replaced in place (`assign`), so the same objects are restored.
 */
export class Snapshot {
  /** (name, the model's tensor, its saved copy). */
  private readonly saved: [string, Tensor, Tensor][];

  /** The model's values now, or (`values`, as values() gave them) those of a saved snapshot. */
  constructor(
    private readonly model: Module,
    values?: SavedTensors,
  ) {
    const masks = new Set(prunableLayers(model).map(([, l]) => l.mask));
    this.saved = noGrad(() =>
      model
        .namedTensors()
        .filter(([, t]) => !masks.has(t))
        .map(([name, t]): [string, Tensor, Tensor] => {
          if (!values) return [name, t, keep(mul(t, 1))];
          const v = values[name];
          if (v?.data.length !== t.size) throw new Error(`Snapshot: the saved values have no ${name} of ${t.size} elements`);
          return [name, t, keep(tensor(v.data, t.shape, { backend: t.backend.name }))];
        }),
    );
  }

  /** The saved values by tensor name (a checkpoint's copy of the rewind point). */
  values(): Promise<SavedTensors> {
    return readTensors(this.saved.map(([name, , copy]) => [name, copy]));
  }

  /** Puts the saved values back, then re-applies the masks (the survivors get their saved values). */
  restore(): void {
    for (const [, t, copy] of this.saved) t.assign(copy);
    reapplyMasks(this.model);
  }

  dispose(): void {
    for (const [, , copy] of this.saved) copy.dispose();
  }
}
