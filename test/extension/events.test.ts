import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  EventsAccumulator,
  isRunEvent,
  parseEventLine,
  RECENT_STEPS,
  splitLines,
} from '../../src/extension/runs/events.js';
import { isRunEvent as isSharedRunEvent } from '../../src/shared/message-guards.js';

const step = (n: number, t: number, loss = 1 / n) =>
  JSON.stringify({ type: 'step', step: n, epoch: 0, loss, lr: 1e-5, tokensPerSec: 100, t });

test('splitLines keeps the unfinished rest', () => {
  assert.deepEqual(splitLines('', 'a\nb\nc'), { lines: ['a', 'b'], carry: 'c' });
  assert.deepEqual(splitLines('c', 'd\n'), { lines: ['cd'], carry: '' });
  assert.deepEqual(splitLines('', 'no newline'), { lines: [], carry: 'no newline' });
});

test('parseEventLine accepts events and rejects everything else', () => {
  assert.equal(parseEventLine(step(1, 5))?.type, 'step');
  assert.equal(parseEventLine('{"type":"eval","step":1,"metrics":{},"t":1}')?.type, 'eval');
  assert.equal(parseEventLine(''), undefined);
  assert.equal(parseEventLine('{"type":"step"'), undefined);
  assert.equal(parseEventLine('[1,2]'), undefined);
  assert.equal(parseEventLine('{"type":"other"}'), undefined);
  assert.equal(parseEventLine('null'), undefined);
  // The panel's check and this one are the same: an event without a numeric time is no event.
  assert.equal(parseEventLine('{"type":"step","step":1}'), undefined);
  assert.equal(parseEventLine('{"type":"log","level":"info","message":"m","t":"soon"}'), undefined);
  assert.equal(isRunEvent({ type: 'step', step: 1, t: 1 }), true);
  assert.equal(isRunEvent([{ type: 'step', t: 1 }]), false);
  // A generating evaluation's samples (seq2seq eval.generate), as the engine writes them.
  const samples = { type: 'samples', step: 75, samples: [{ source: 's', reference: 'r', prediction: 'p' }], t: 9 };
  assert.deepEqual(parseEventLine(JSON.stringify(samples)), samples);
  assert.equal(isSharedRunEvent(samples), true);
  assert.equal(isSharedRunEvent({ ...samples, samples: [{ source: 's', reference: 'r' }] }), false);
});

test('a partial last line is held back until its newline arrives', () => {
  const acc = new EventsAccumulator();
  const line = step(1, 1000);
  acc.push(`${line.slice(0, 20)}`);
  assert.equal(acc.summary.lines, 0);
  assert.ok(acc.hasPartialLine);
  acc.push(`${line.slice(20)}\n`);
  assert.equal(acc.summary.lines, 1);
  assert.equal(acc.summary.badLines, 0);
  assert.equal(acc.summary.lastStep?.step, 1);
  assert.equal(acc.hasPartialLine, false);
});

test('bad lines are counted and skipped', () => {
  const acc = new EventsAccumulator();
  acc.push(`garbage\n${step(1, 1)}\n{"type":\n\n`);
  assert.equal(acc.summary.lines, 3);
  assert.equal(acc.summary.badLines, 2);
  assert.equal(acc.summary.lastStep?.step, 1);
});

test('summary: last eval, checkpoints, errors, and recent steps that restart on resume', () => {
  const acc = new EventsAccumulator();
  const lines = [
    step(1, 1000),
    step(2, 2000),
    '{"type":"eval","step":2,"metrics":{"f1":0.5},"t":2100}',
    '{"type":"checkpoint","step":2,"path":"checkpoints/step-2","t":2200}',
    '{"type":"log","level":"error","message":"disk full","t":2300}',
    '{"type":"status","state":"stopped","t":2400}',
    // Resumed from the checkpoint at step 2 after a pause.
    '{"type":"status","state":"running","t":90000}',
    step(3, 91000),
  ];
  acc.push(`${lines.join('\n')}\n`);
  const s = acc.summary;
  assert.deepEqual(s.lastEval?.metrics, { f1: 0.5 });
  assert.deepEqual(
    s.checkpoints.map((c) => c.step),
    [2],
  );
  assert.deepEqual(s.errors, ['disk full']);
  assert.equal(s.lastStatus?.state, 'running');
  assert.deepEqual(s.recentSteps, [{ step: 3, t: 91000 }]);
});

test('recent steps: a step number going back (resume from an earlier checkpoint) restarts the window; the window is bounded', () => {
  const acc = new EventsAccumulator();
  acc.push(`${step(10, 1)}\n${step(11, 2)}\n${step(5, 3)}\n`);
  assert.deepEqual(acc.summary.recentSteps, [{ step: 5, t: 3 }]);
  const many = Array.from({ length: RECENT_STEPS + 10 }, (_, i) => step(100 + i, 10 + i)).join('\n');
  acc.push(`${many}\n`);
  assert.equal(acc.summary.recentSteps.length, RECENT_STEPS);
  assert.equal(acc.summary.recentSteps.at(-1)?.step, 100 + RECENT_STEPS + 9);
});
