// The progress bar: redrawn in place on a terminal (throttled), silent per batch otherwise.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Progress, type ProgressStream } from '../src/cli/progress.js';

class FakeStream implements ProgressStream {
  readonly writes: string[] = [];
  constructor(
    readonly isTTY: boolean,
    readonly columns = 100,
  ) {}
  write(text: string): boolean {
    this.writes.push(text);
    return true;
  }
}

/** A clock the test moves by hand. */
function fakeClock(): { now: () => number; advance: (ms: number) => void } {
  let time = 1000;
  return { now: () => time, advance: (ms) => (time += ms) };
}

test('Progress on a non-TTY stream: nothing per batch, one plain final line', () => {
  const stream = new FakeStream(false);
  const clock = fakeClock();
  const progress = new Progress({ total: 63, label: 'epoch 1/10', stream, now: clock.now });
  for (let done = 1; done <= 63; done++) {
    clock.advance(1000);
    progress.update(done, { loss: 0.5123, acc: '83.1%' });
  }
  assert.deepEqual(stream.writes, []);
  progress.finish({ loss: 0.5, acc: '84.0%' });
  assert.deepEqual(stream.writes, ['epoch 1/10 63/63 loss 0.5 acc 84.0% in 1:03\n']);
});

test('Progress on a TTY: carriage-return redraw with bar, counts, info and ETA', () => {
  const stream = new FakeStream(true);
  const clock = fakeClock();
  const progress = new Progress({ total: 63, label: 'epoch 1', stream, now: clock.now });
  clock.advance(12_000);
  progress.update(12, { loss: 0.51234, acc: '83.1%', step: 1200 });
  assert.equal(stream.writes.length, 1);
  // 12 steps in 12 s: 51 left take 51 s.
  assert.equal(stream.writes[0], '\repoch 1 [####................] 12/63 loss 0.512 acc 83.1% step 1200 ETA 0:51\x1b[K');
  clock.advance(3_600_000);
  progress.update(13);
  // 13 steps in 3,612 s: 50 left take 13,892 s.
  assert.match(stream.writes[1], /13\/63 ETA 3:51:32/);
  progress.finish({ acc: '90%' });
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the line ends with the terminal's clear-to-end-of-line escape.
  assert.match(stream.writes[2], /^\repoch 1 63\/63 acc 90% in 1:00:1\d\x1b\[K\n$/);
});

test('Progress on a TTY: redraws at most ~10 times a second, but always the last step', () => {
  const stream = new FakeStream(true);
  const clock = fakeClock();
  const progress = new Progress({ total: 100, label: 'train', stream, now: clock.now });
  for (let done = 1; done <= 100; done++) {
    clock.advance(10); // 100 updates a second
    progress.update(done);
  }
  // 1 s of updates: about 10 draws, plus the final one.
  assert.ok(stream.writes.length >= 9 && stream.writes.length <= 12, `${stream.writes.length} draws`);
  assert.match(stream.writes[stream.writes.length - 1], /\[#{20}\] 100\/100/);
});

test('Progress on a narrow TTY: the line never reaches the last column', () => {
  const stream = new FakeStream(true, 40);
  const progress = new Progress({ total: 10, label: 'a long label for the epoch', stream, now: fakeClock().now });
  progress.update(0, { loss: 1.5 });
  const visible = stream.writes[0].replace('\r', '').replace('\x1b[K', '');
  assert.ok(visible.length <= 39, `${visible.length} characters: ${visible}`);
  assert.match(visible, /^a long label for the epoch \[\.{5}\]/);
});
