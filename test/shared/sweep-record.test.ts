import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  bestTrial,
  checkSweepRecord,
  finishedTrials,
  parseSweepRecord,
  sourceConfigOf,
} from '../../src/shared/sweep-record.js';
import { sweepJson } from '../fixtures/sweep.js';

test('a sweep.json as the engine writes it reads back whole', () => {
  const record = sweepJson();
  assert.deepEqual(parseSweepRecord(`${JSON.stringify(record, null, 2)}\n`), record);
  assert.equal(finishedTrials(record), 2);
  assert.deepEqual(bestTrial(record), record.best);
});

test('a NaN evaluation (written by JSON as null) reads back as NaN', () => {
  const record = sweepJson();
  (record.trials[2] as { intermediate: unknown[] }).intermediate = [{ step: 5, value: null }];
  const parsed = parseSweepRecord(JSON.stringify(record));
  assert.ok(typeof parsed !== 'string');
  assert.ok(Number.isNaN(parsed.trials[2]?.intermediate[0]?.value));
  // Checked again (the webview checks what the host read), the NaN stays accepted.
  assert.equal(checkSweepRecord(parsed), parsed);
});

test('what is wrong with a sweep.json is named by its path', () => {
  const cases: [mutate: (r: Record<string, unknown>) => void, message: string][] = [
    [(r) => (r.version = 2), 'sweep.json: version is 2, expected 1'],
    [(r) => (r.state = 'paused'), 'sweep.json: state is "paused", expected one of running, completed, stopped, failed'],
    [
      (r) => ((r.settings as Record<string, unknown>).mode = 'up'),
      'sweep.json: settings.mode is neither "min" nor "max"',
    ],
    [
      (r) => (((r.trials as Record<string, unknown>[])[1] as Record<string, unknown>).state = 'done'),
      'sweep.json: trials[1]: state is "done", expected one of running, completed, pruned, failed',
    ],
    [
      (r) => (((r.trials as Record<string, unknown>[])[0] as Record<string, unknown>).params = { a: [1] }),
      'sweep.json: trials[0]: params is not a map of values',
    ],
    [(r) => (r.best = { trial: 0 }), 'sweep.json: best is not {trial, value, params}'],
  ];
  for (const [mutate, message] of cases) {
    const r = sweepJson() as unknown as Record<string, unknown>;
    mutate(r);
    assert.equal(parseSweepRecord(JSON.stringify(r)), message);
  }
  assert.match(String(parseSweepRecord('{"version": 1,', '/s/sweep.json')), /^\/s\/sweep\.json is not valid JSON/);
  assert.equal(parseSweepRecord('[]'), 'sweep.json: not a JSON object');
});

test('bestTrial: the best completed trial in the mode, the earliest on a tie (Optuna best_trial)', () => {
  const record = sweepJson();
  const third = record.trials[2];
  assert.ok(third);
  Object.assign(third, { state: 'completed', value: 0.8 });
  assert.equal(bestTrial(record)?.trial, 0);
  record.settings.mode = 'min';
  assert.equal(bestTrial(record)?.trial, 0);
  third.value = 0.1;
  assert.equal(bestTrial(record)?.trial, 2);
});

test("the source config: recorded, else the sweep config's first line", () => {
  assert.equal(
    sourceConfigOf({ source: '/a/x.finetune.yaml' }, '# resolved from /b/y.finetune.yaml\n'),
    '/a/x.finetune.yaml',
  );
  assert.equal(sourceConfigOf({}, '# resolved from /b/y.finetune.yaml\nmodel: m\n'), '/b/y.finetune.yaml');
  assert.equal(sourceConfigOf({}, 'model: m\n'), undefined);
});
