import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isHostMessage, isWebviewMessage } from '../../src/shared/messages.js';

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
