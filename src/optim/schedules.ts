// Learning-rate schedules: functions from the epoch index (0-based) to a learning rate.

export type Schedule = (epoch: number) => number;

/** Cosine annealing from `baseLr` at epoch 0 towards `minLr` at `totalEpochs`. */
export function cosineSchedule(baseLr: number, totalEpochs: number, minLr = 0): Schedule {
  if (!(totalEpochs > 0)) throw new Error(`cosineSchedule: totalEpochs must be > 0, got ${totalEpochs}`);
  return (epoch) => minLr + 0.5 * (baseLr - minLr) * (1 + Math.cos((Math.PI * Math.min(epoch, totalEpochs)) / totalEpochs));
}

/** `baseLr` times `gamma` for every milestone epoch already reached. */
export function multiStepSchedule(baseLr: number, milestones: readonly number[], gamma = 0.1): Schedule {
  return (epoch) => baseLr * gamma ** milestones.filter((m) => epoch >= m).length;
}

export function constantSchedule(baseLr: number): Schedule {
  return () => baseLr;
}
