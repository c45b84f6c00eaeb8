import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StopStrings } from '../../../src/engine/serve/stop-strings.js';

/** OpenAI's `stop`: the text ends before the first stop string, which is never sent, even in part. */
const run = (stops: string[], deltas: string[]) => {
  const s = new StopStrings(stops);
  const sent = deltas.map((d) => s.push(d));
  return { sent, rest: s.finish(), stopped: s.stopped };
};

test('stop strings: a stop split across deltas is held back, then cut', () => {
  assert.deepEqual(run(['\n\nUser:'], ['Hello', ' there\n', '\nUs', 'er: hi']), {
    sent: ['Hello', ' there', '', ''],
    rest: '',
    stopped: true,
  });
});

test('stop strings: a held prefix that does not complete is released', () => {
  assert.deepEqual(run(['END'], ['the E', 'ND'.slice(0, 1), 'x', ' more']), {
    sent: ['the ', '', 'ENx', ' more'],
    rest: '',
    stopped: false,
  });
  assert.deepEqual(run(['END'], ['abc E']), { sent: ['abc '], rest: 'E', stopped: false });
});

test('stop strings: the earliest of several stops wins; empty stops are ignored', () => {
  assert.deepEqual(run(['c', 'ab', ''], ['xxabc']), { sent: ['xx'], rest: '', stopped: true });
  assert.deepEqual(run([], ['a', 'b']), { sent: ['a', 'b'], rest: '', stopped: false });
});
