// A per-epoch progress bar for the command line, and the training loop's listener that draws it:
//   label [#########...........] 12/63 loss 0.512 acc 83.1% ETA 0:42
// On a terminal the line is redrawn in place (carriage return), at most about 10 times a second
// so that drawing never slows training. When the stream is not a terminal (a log file, CI) nothing
// is written per batch, only the final line, so logs stay one line per epoch.

/** The part of a writable stream this needs (process.stderr fits). */
export interface ProgressStream {
  isTTY?: boolean;
  /** Terminal width; lines are cut to fit so that the redraw never wraps. */
  columns?: number;
  write(text: string): unknown;
}

/** Terminals read the running loss every this many steps (each read waits for the device). */
const READ_EVERY = 10;

export type ProgressInfo = Record<string, string | number>;

export interface ProgressOptions {
  total: number;
  label: string;
  stream?: ProgressStream;
  /** Milliseconds clock (default performance.now); tests pass a fake one. */
  now?: () => number;
}

import { formatDuration } from '../report/format.js';
import type { TrainListener } from '../train/loop.js';
import { type TrainOptions, type TrainReport, train } from '../train/train.js';

const REDRAW_INTERVAL_MS = 100;
const BAR_WIDTH = 20;
const MIN_BAR_WIDTH = 5;
const DEFAULT_COLUMNS = 80;
const CLEAR_TO_END_OF_LINE = '\x1b[K';

export class Progress {
  private readonly total: number;
  private readonly label: string;
  private readonly stream: ProgressStream;
  private readonly now: () => number;
  private readonly started: number;
  private lastDrawn = -Infinity;

  constructor({ total, label, stream = process.stderr, now = () => performance.now() }: ProgressOptions) {
    if (!(total >= 0)) throw new Error(`Progress: total must be >= 0, got ${total}`);
    this.total = total;
    this.label = label;
    this.stream = stream;
    this.now = now;
    this.started = now();
  }

  /** Reports `done` of `total` steps finished; redraws on a terminal if enough time has passed. */
  update(done: number, info: ProgressInfo = {}): void {
    if (!this.stream.isTTY) return;
    const time = this.now();
    if (time - this.lastDrawn < REDRAW_INTERVAL_MS && done < this.total) return;
    this.lastDrawn = time;
    const elapsed = time - this.started;
    const eta = done > 0 ? `ETA ${formatDuration((elapsed / done) * Math.max(0, this.total - done))}` : 'ETA -:--';
    const counter = `${done}/${this.total}`;
    const tail = [counter, formatInfo(info), eta].filter((part) => part !== '').join(' ');
    const columns = this.stream.columns ?? DEFAULT_COLUMNS;
    // Shrink the bar before cutting the text; the last column stays free so the cursor never wraps.
    const room = columns - 1 - (this.label.length + tail.length + 4);
    const width = Math.max(MIN_BAR_WIDTH, Math.min(BAR_WIDTH, room));
    const filled = this.total > 0 ? Math.round((Math.min(done, this.total) / this.total) * width) : width;
    const line = `${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${tail}`;
    this.stream.write(`\r${line.slice(0, columns - 1)}${CLEAR_TO_END_OF_LINE}`);
  }

  /** Ends the bar with one plain line: label, steps, info and elapsed time. */
  finish(info: ProgressInfo = {}): void {
    const parts = [this.label, `${this.total}/${this.total}`, formatInfo(info), `in ${formatDuration(this.now() - this.started)}`];
    const line = parts.filter((part) => part !== '').join(' ');
    this.stream.write(this.stream.isTTY ? `\r${line}${CLEAR_TO_END_OF_LINE}\n` : `${line}\n`);
  }
}

/** "loss 0.512 acc 83.1%": fractional numbers rounded to 3 significant digits, the rest as they are. */
function formatInfo(info: ProgressInfo): string {
  const format = (value: string | number): string => (typeof value === 'number' && !Number.isInteger(value) ? String(Number(value.toPrecision(3))) : String(value));
  return Object.entries(info)
    .map(([key, value]) => `${key} ${format(value)}`)
    .join(' ');
}

/**
 * A bar per epoch on `stream` (`train 1/3 63/63 loss 0.939 acc 72.3% test 89.1% s 1.1 in 0:01`);
 * on a terminal redrawn with the running loss and accuracy. Not `enabled`: nothing.
 */
export function progressListener(enabled: boolean, stream: ProgressStream = process.stderr): TrainListener {
  if (!enabled) return {};
  let progress: Progress | undefined;
  return {
    readEvery: stream.isTTY ? READ_EVERY : 0,
    onEpochStart: ({ phase, epoch, epochs, steps }) => {
      progress = new Progress({ total: steps, label: `${phase} ${epoch}/${epochs}`, stream });
    },
    onStep: ({ step, meanLoss, meanAccuracy }) => {
      if (meanLoss !== undefined && meanAccuracy !== undefined) progress?.update(step, { loss: meanLoss.toFixed(3), acc: `${(100 * meanAccuracy).toFixed(1)}%` });
    },
    onEpoch: (m) => {
      progress?.finish({
        loss: m.trainLoss.toFixed(3),
        acc: `${(100 * m.trainAccuracy).toFixed(1)}%`,
        ...(m.valAccuracy !== undefined ? { val: `${(100 * m.valAccuracy).toFixed(1)}%` } : {}),
        test: `${(100 * m.testAccuracy).toFixed(1)}%`,
        s: m.seconds.toFixed(1),
      });
    },
  };
}

/**
 * Trains `o` (continuing its run with `resume`) with a progress bar; Ctrl-C (SIGINT) ends it
 * after the current step with a report marked stopped, a second Ctrl-C quits at once.
 */
export async function trainInterruptibly(o: TrainOptions, resume: boolean): Promise<TrainReport> {
  const stop = new AbortController();
  const onInterrupt = (): void => {
    console.error('ticketgrad: interrupted: finishing the current step and writing the run files (Ctrl-C again to quit at once)');
    process.off('SIGINT', onInterrupt);
    stop.abort();
  };
  process.on('SIGINT', onInterrupt);
  try {
    return await train(o, progressListener(o.verbose !== false), { signal: stop.signal, resume });
  } finally {
    process.off('SIGINT', onInterrupt);
  }
}
