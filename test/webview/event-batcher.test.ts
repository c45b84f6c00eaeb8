import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type BatchTimers, type EventBatch, EventBatcher } from '../../src/extension/panel/event-batcher.js';
import type { RunEvent } from '../../src/shared/run-directory.js';

/** A clock and timers that move only when the test says so. */
class FakeTimers implements BatchTimers {
  time = 0;
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private nextId = 1;
  now = () => this.time;
  setTimeout = (fn: () => void, ms: number) => {
    const id = this.nextId++;
    this.timers.push({ at: this.time + ms, fn, id });
    return id;
  };
  clearTimeout = (handle: unknown) => {
    this.timers = this.timers.filter((t) => t.id !== handle);
  };
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      const next = this.timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!next) break;
      this.timers = this.timers.filter((t) => t !== next);
      this.time = next.at;
      next.fn();
    }
    this.time = end;
  }
}

const step = (s: number): RunEvent => ({ type: 'step', step: s, epoch: 0, loss: 1, lr: 1e-5, tokensPerSec: 100, t: s });

function setup() {
  const timers = new FakeTimers();
  const sent: { at: number; batch: EventBatch }[] = [];
  const batcher = new EventBatcher((batch) => sent.push({ at: timers.time, batch }), 100, timers);
  return { timers, sent, batcher };
}

test('a quiet run gets its first events out at once (a zero timer lets the read burst join)', () => {
  const { timers, sent, batcher } = setup();
  batcher.push('a', [step(1)]);
  batcher.push('a', [step(2)]);
  assert.equal(sent.length, 0);
  timers.advance(0);
  assert.deepEqual(sent, [{ at: 0, batch: [{ runId: 'a', events: [step(1), step(2)] }] }]);
});

test('a fast run sends at most one message per interval, losing nothing', () => {
  const { timers, sent, batcher } = setup();
  let s = 0;
  for (let ms = 0; ms < 1000; ms++) {
    batcher.push('a', [step(s++)]); // 1,000 events a second
    timers.advance(1);
  }
  timers.advance(200);
  assert.ok(sent.length <= 11, `${sent.length} messages`);
  for (let i = 1; i < sent.length; i++) assert.ok((sent[i]?.at ?? 0) - (sent[i - 1]?.at ?? 0) >= 100);
  const all = sent.flatMap((m) => m.batch.flatMap((b) => b.events));
  assert.deepEqual(
    all.map((e) => (e.type === 'step' ? e.step : -1)),
    Array.from({ length: 1000 }, (_, i) => i),
  );
});

test('events of several runs travel in one message, per run', () => {
  const { timers, sent, batcher } = setup();
  batcher.push('a', [step(1)]);
  batcher.push('b', [step(7)]);
  batcher.push('a', [step(2)]);
  timers.advance(0);
  assert.deepEqual(sent[0]?.batch, [
    { runId: 'a', events: [step(1), step(2)] },
    { runId: 'b', events: [step(7)] },
  ]);
});

test('flush sends now; discard drops one run; dispose stops everything', () => {
  const { timers, sent, batcher } = setup();
  batcher.push('a', [step(1)]);
  batcher.push('b', [step(1)]);
  batcher.discard('a');
  batcher.flush();
  assert.deepEqual(sent[0]?.batch, [{ runId: 'b', events: [step(1)] }]);
  batcher.push('a', [step(2)]);
  batcher.dispose();
  timers.advance(1000);
  batcher.push('a', [step(3)]);
  timers.advance(1000);
  assert.equal(sent.length, 1);
});
