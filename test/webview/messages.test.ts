import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkHostMessage } from '../../src/shared/message-guards.js';
import { isHostMessage, isWebviewMessage } from '../../src/shared/messages.js';
import { minimalReport } from '../shared/data-report-fixture.js';

test('the host accepts only well-formed webview messages', () => {
  assert.ok(isWebviewMessage({ type: 'ready' }));
  assert.ok(isWebviewMessage({ type: 'editConfig', id: 1, path: ['training', 'epochs'], value: 3 }));
  assert.ok(isWebviewMessage({ type: 'editConfig', id: 2, path: ['training', 'epochs'] }), 'no value: remove');
  assert.ok(isWebviewMessage({ type: 'command', id: 3, command: 'stop', runId: 'r' }));
  assert.ok(
    isWebviewMessage({ type: 'exportPng', id: 4, fileName: 'loss.png', dataUrl: 'data:image/png;base64,AAAA' }),
  );
  for (const bad of [
    null,
    'ready',
    { type: 'unknown' },
    { type: 'editConfig', path: ['x'], value: 1 },
    { type: 'editConfig', id: 1.5, path: ['x'], value: 1 },
    { type: 'editConfig', id: 1, path: [{}], value: 1 },
    { type: 'command', id: 1, command: 'rm -rf' },
    { type: 'command', id: 1, command: 'stop', runId: 7 },
    { type: 'exportPng', id: 1, fileName: 'x.png', dataUrl: 'javascript:alert(1)' },
  ]) {
    assert.equal(isWebviewMessage(bad), false, JSON.stringify(bad));
  }
});

test('the webview recognises the host message types', () => {
  for (const type of ['init', 'config', 'events', 'run', 'runRemoved', 'reply']) assert.ok(isHostMessage({ type }));
  assert.equal(isHostMessage({ type: 'ready' }), false);
  assert.equal(isHostMessage(undefined), false);
});

test('Data tab requests: dataReport of a run or of the config; openDataRow with a file and a 1-based line', () => {
  assert.ok(isWebviewMessage({ type: 'dataReport', id: 1 }), "the config's report");
  assert.ok(isWebviewMessage({ type: 'dataReport', id: 2, runId: 'r' }));
  assert.ok(isWebviewMessage({ type: 'openDataRow', id: 3, file: '/ws/train.jsonl', line: 12 }));
  assert.ok(isWebviewMessage({ type: 'openDataRow', id: 4, file: 'train.jsonl', line: 1, runId: 'r' }));
  for (const bad of [
    { type: 'dataReport' },
    { type: 'dataReport', id: 1, runId: 7 },
    { type: 'openDataRow', id: 1, file: 'a.jsonl' },
    { type: 'openDataRow', id: 1, file: 'a.jsonl', line: 0 },
    { type: 'openDataRow', id: 1, file: 'a.jsonl', line: 2.5 },
    { type: 'openDataRow', id: 1, file: 'a.jsonl', line: '3' },
    { type: 'openDataRow', id: 1, file: '', line: 3 },
    { type: 'openDataRow', id: 1, file: ['a'], line: 3 },
    { type: 'openDataRow', id: 1, file: 'a.jsonl', line: 3, runId: null },
  ]) {
    assert.equal(isWebviewMessage(bad), false, JSON.stringify(bad));
  }
});

test('the webview checks a dataReport message in full and accepts showData', () => {
  const report = minimalReport();
  const ok = checkHostMessage({ type: 'dataReport', runId: 'r', report });
  assert.ok('message' in ok && ok.message.type === 'dataReport' && ok.message.runId === 'r');
  const config = checkHostMessage({ type: 'dataReport', report });
  assert.ok('message' in config && config.message.type === 'dataReport' && config.message.runId === undefined);
  assert.deepEqual(checkHostMessage({ type: 'showData' }), { message: { type: 'showData' }, dropped: 0 });
  const bad = {
    ...report,
    leakage: { count: 1, examples: [{ text: 't', train: { file: 'a', line: 0 }, validation: { file: 'b', line: 1 } }] },
  };
  assert.deepEqual(checkHostMessage({ type: 'dataReport', report: bad }), {
    problem: 'dataReport: report: leakage.examples[0].train.line is not a 1-based line number',
  });
  assert.deepEqual(checkHostMessage({ type: 'dataReport', runId: 3, report }), {
    problem: 'dataReport: runId is not a string',
  });
});
