// `ticketgrad sweep`: a grid of train runs in one directory, resumable and shardable over a
// cluster's job array, and `ticketgrad sweep merge` to join the shards (logic in src/sweep/).

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { TrainOptions } from '../train/train.js';
import { shutdown } from '../engine.js';
import { parseGridAxis, type SweepDefinition } from '../sweep/grid.js';
import { DEFINITION_FILE, clearSweep, gridDifference, mergeSweeps, type ParseTrainArgs, planCells, readDefinition, runSweep } from '../sweep/run.js';
import { resolveShard } from '../sweep/shard.js';
import { CellConflictError } from '../sweep/state.js';
import { parseTrainArgs, UsageError } from './args.js';
import { trainInterruptibly } from './progress.js';

export const SWEEP_HELP = `ticketgrad sweep: run a grid of train runs into one directory, resumably, optionally one shard of it

Usage: ticketgrad sweep --out DIR --grid NAME=V1,V2,... [--grid ...] [train flags] [--shard i/n | --shards n]
       ticketgrad sweep --out DIR [--shard i/n | --shards n]      resume the sweep DIR/sweep.json defines
       ticketgrad sweep merge DIR... [--out DIR]                 join sweep (shard) directories' results

  --out DIR             the sweep directory: sweep.json, cells/NAME/ (one train run directory per cell),
                        results.csv, results.json, summary.csv (mean and std over seeds),
                        accuracy.svg, epoch-time.svg
  --grid NAME=V1,V2     an axis: a train flag and its values, e.g. --grid sparsity=0.1,0.5,0.9
                        --grid alpha=1,2 --grid seed=1,2 --grid method=dense,mpt; cells are every
                        combination, named by their values (cells/alpha=2_sparsity=0.5)
  train flags           any other ticketgrad train flag (see ticketgrad train --help), the same
                        for every cell, e.g. --model lenet300 --epochs 3 (--quiet: the cells' own
                        output; the sweep still prints a line per cell)
  --shard i/n           run only cells k with k mod n = i (0 <= i < n) and write
                        results.shard-i-of-n.json; without it the shard comes from
                        SLURM_ARRAY_TASK_ID (minus SLURM_ARRAY_TASK_MIN, of SLURM_ARRAY_TASK_COUNT)
                        or JOB_COMPLETION_INDEX (of --shards n)
  --shards n            the number of shards, for JOB_COMPLETION_INDEX (Kubernetes Indexed Jobs)
  --merge               the same as the merge command: DIR... are the arguments that are not flags,
                        or --out itself
  --overwrite           replace the sweep that --out holds when --grid drops cells of its
                        sweep.json (its cells and results are deleted first); without it that is
                        an error that names the difference
  -h, --help            this help

Finished cells are not run again; failed ones are (exit code 1 while any cell of the shard failed).
A finished cell run with other options stops the sweep before anything runs (exit code 2).
`;

interface SweepArgs {
  out?: string;
  grid: string[];
  shard?: string;
  shards?: string;
  merge: boolean;
  help: boolean;
  overwrite: boolean;
  /** Train flags (a run) or directories (merge). */
  rest: string[];
}

/** The sweep's flags that take one value, and where it goes. */
const SINGLE_VALUE_FLAGS: Record<string, 'out' | 'shard' | 'shards'> = { '--out': 'out', '--shard': 'shard', '--shards': 'shards' };

/** Takes the sweep's own flags (also as --flag=value) out of argv; everything else is left for train. */
function parseSweepArgs(argv: string[]): SweepArgs {
  const args: SweepArgs = { grid: [], merge: argv[0] === 'merge', help: false, overwrite: false, rest: [] };
  for (let i = args.merge ? 1 : 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const single = SINGLE_VALUE_FLAGS[flag];
    if (flag === '--grid' || single) {
      const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined) throw new UsageError(`${flag} needs a value`);
      if (!single) args.grid.push(value);
      else if (args[single] !== undefined) throw new UsageError(`${flag} is given twice`);
      else args[single] = value;
    } else if (arg === '--merge') args.merge = true;
    else if (arg === '--overwrite') args.overwrite = true;
    else if (arg === '-h' || arg === '--help') args.help = true;
    else args.rest.push(arg);
  }
  return args;
}

/** Errors of `fn` as usage errors: they come from bad flags or values, and nothing has run yet. */
function asUsage<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

const parseCell: ParseTrainArgs = (args) => {
  const options = parseTrainArgs(args);
  if (options === 'help') throw new UsageError('--help is not a grid axis');
  return options;
};

function merge({ out, rest, grid, shard, shards }: SweepArgs): number {
  const flag = grid.length ? '--grid' : shard !== undefined ? '--shard' : shards !== undefined ? '--shards' : rest.find((a) => a.startsWith('-'));
  if (flag) throw new UsageError(`sweep merge: no ${flag} here (it takes sweep directories and --out DIR)`);
  const inputs = rest.length ? rest : out ? [out] : [];
  if (inputs.length === 0) throw new UsageError('sweep merge: give the sweep directories to merge');
  const target = out ?? (inputs.length === 1 ? inputs[0] : undefined);
  if (!target) throw new UsageError('sweep merge: give --out DIR for the merged results of several directories');
  const summary = asUsage(() => mergeSweeps(inputs, target, parseCell));
  const failed = summary.failed ? `, ${summary.failed} failed` : '';
  const pending = summary.pending ? `, ${summary.pending} not run yet` : '';
  console.log(
    `sweep merge: ${summary.cells} cells from ${inputs.length} director${inputs.length === 1 ? 'y' : 'ies'}: ${summary.finished} finished${failed}${pending}; results in ${join(target, 'results.csv')}`,
  );
  return summary.failed + summary.pending > 0 ? 1 : 0;
}

/**
 * One cell: a failed run may leave device memory behind (an optimizer's state, a method's
 * snapshots) or a lost device, so the device is released and the next cell opens a fresh one.
 */
async function trainCell(options: TrainOptions, resume: boolean): Promise<{ testAccuracy: number; stopped?: boolean }> {
  try {
    return await trainInterruptibly(options, resume);
  } catch (e) {
    shutdown();
    throw e;
  }
}

export async function sweepCommand(argv: string[]): Promise<number> {
  const args = parseSweepArgs(argv);
  if (args.help) {
    console.log(SWEEP_HELP);
    return 0;
  }
  if (args.merge) return merge(args);
  const { out } = args;
  if (out === undefined) throw new UsageError('sweep: --out DIR is required');
  if (out === '') throw new UsageError('sweep: --out: expected a directory, got an empty string');
  let definition: SweepDefinition;
  if (args.grid.length) {
    definition = { axes: asUsage(() => args.grid.map(parseGridAxis)), fixed: args.rest };
    const recorded = existsSync(join(out, DEFINITION_FILE)) ? asUsage(() => readDefinition(out)) : null;
    const difference = recorded && gridDifference(recorded, definition);
    if (difference && !args.overwrite) {
      throw new UsageError(`sweep: ${out} holds a sweep of another grid (${difference}): give another --out, --overwrite to replace that sweep, or leave out --grid to resume it`);
    }
    if (difference) clearSweep(out);
  } else if (!existsSync(join(out, DEFINITION_FILE)))
    throw new UsageError(`sweep: --grid NAME=V1,V2,... is required (${join(out, DEFINITION_FILE)} does not exist, so there is no sweep to resume)`);
  else if (args.rest.length)
    throw new UsageError(`sweep: without --grid the sweep is resumed as ${join(out, DEFINITION_FILE)} defines it; give train flags only together with --grid`);
  else definition = asUsage(() => readDefinition(out));
  const cells = asUsage(() => planCells(definition, out, parseCell));
  const shard = asUsage(() => resolveShard(args, process.env));
  let summary: Awaited<ReturnType<typeof runSweep>>;
  try {
    summary = await runSweep({ out, definition, cells, shard, runCell: trainCell, log: (line) => console.log(line) });
  } catch (e) {
    if (e instanceof CellConflictError) throw new UsageError(e.message);
    throw e;
  }
  if (summary.stopped) return 130;
  const results = shard.count > 1 ? `results.shard-${shard.index}-of-${shard.count}.json (ticketgrad sweep merge ${out} joins the shards)` : 'results.csv';
  const failed = summary.failed ? `, ${summary.failed} failed (run the same command again to retry them)` : '';
  console.log(`sweep: ${summary.finished} finished${failed}, ${summary.skipped} were finished before; results in ${join(out, results)}`);
  return summary.failed ? 1 : 0;
}
