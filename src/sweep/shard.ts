// Splitting a sweep over the tasks of a cluster's job array. Shard i of n (0-based) takes the
// cells whose index in the grid is i modulo n: round robin, so that expensive corners of the grid
// (high epochs, big models) spread over the shards instead of landing on one of them.

export interface Shard {
  index: number;
  count: number;
  /** Where the shard came from, for the progress output. */
  source: string;
}

export const UNSHARDED: Shard = { index: 0, count: 1, source: 'unsharded' };

function integer(name: string, text: string, min: number): number {
  const v = Number(text);
  if (text.trim() === '' || !Number.isInteger(v) || v < min) throw new Error(`${name}: expected an integer >= ${min}, got '${text}'`);
  return v;
}

function shardOf(index: number, count: number, source: string): Shard {
  if (index >= count) throw new Error(`${source}: shard index ${index} is not below the shard count ${count} (indices are 0-based)`);
  return { index, count, source };
}

/** `i/n`, 0 <= i < n. */
export function parseShard(text: string): Shard {
  const parts = text.split('/');
  if (parts.length !== 2) throw new Error(`--shard: expected i/n (e.g. 0/4), got '${text}'`);
  return shardOf(integer('--shard', parts[0], 0), integer('--shard', parts[1], 1), '--shard');
}

export type Environment = Record<string, string | undefined>;

/**
 * The shard to run: --shard i/n; else a SLURM array task (SLURM_ARRAY_TASK_ID counted from
 * SLURM_ARRAY_TASK_MIN in steps of SLURM_ARRAY_TASK_STEP, of SLURM_ARRAY_TASK_COUNT); else a
 * Kubernetes Indexed Job's JOB_COMPLETION_INDEX with the count from --shards (Kubernetes does not
 * export the completion count); else the whole grid. --shards, when given, must agree.
 */
export function resolveShard(flags: { shard?: string; shards?: string }, env: Environment): Shard {
  const shards = flags.shards === undefined ? undefined : integer('--shards', flags.shards, 1);
  const agree = (shard: Shard): Shard => {
    if (shards !== undefined && shards !== shard.count) throw new Error(`--shards ${shards} disagrees with ${shard.source}, which gives ${shard.count} shards`);
    return shard;
  };
  if (flags.shard !== undefined) return agree(parseShard(flags.shard));
  const slurmId = env.SLURM_ARRAY_TASK_ID;
  if (slurmId !== undefined) {
    const id = integer('SLURM_ARRAY_TASK_ID', slurmId, 0);
    const min = integer('SLURM_ARRAY_TASK_MIN', env.SLURM_ARRAY_TASK_MIN ?? '0', 0);
    const step = integer('SLURM_ARRAY_TASK_STEP', env.SLURM_ARRAY_TASK_STEP ?? '1', 1);
    const countText = env.SLURM_ARRAY_TASK_COUNT ?? flags.shards;
    if (countText === undefined) throw new Error('SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not: give the number of shards with --shards N');
    const count = integer('SLURM_ARRAY_TASK_COUNT', countText, 1);
    if (id < min || (id - min) % step !== 0) throw new Error(`SLURM_ARRAY_TASK_ID ${id} is not SLURM_ARRAY_TASK_MIN ${min} plus a multiple of SLURM_ARRAY_TASK_STEP ${step}`);
    return agree(shardOf((id - min) / step, count, 'SLURM_ARRAY_TASK_ID'));
  }
  const jobIndex = env.JOB_COMPLETION_INDEX;
  if (jobIndex !== undefined) {
    if (shards === undefined) throw new Error("JOB_COMPLETION_INDEX is set: give the number of shards (the Job's completions) with --shards N");
    return shardOf(integer('JOB_COMPLETION_INDEX', jobIndex, 0), shards, 'JOB_COMPLETION_INDEX');
  }
  if (shards !== undefined && shards !== 1) throw new Error('--shards N needs --shard i/N, SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX to say which shard this is');
  return UNSHARDED;
}

/** The items of a shard, in their order. */
export function shardItems<T>(items: T[], shard: Shard): T[] {
  return items.filter((_, i) => i % shard.count === shard.index);
}
