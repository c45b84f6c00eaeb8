import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { chatModelPath } from '../../src/extension/chat/chat-models.js';
import { ConfigEditError, configEdit } from '../../src/extension/panel/config-edit.js';
import { receiveWebviewMessage } from '../../src/extension/panel/panel-requests.js';
import { checkHostMessage } from '../../src/shared/message-guards.js';
import type { ReplyMessage, WebviewRequest } from '../../src/shared/messages.js';
import { differingHyperparameters, legendLabel } from '../../src/webview/compare.js';
import { appendEvents, metricSummary, newRunData, summarize } from '../../src/webview/run-data.js';
import { axesOf, bestSoFar, filterRows, importances, sortRows, trialRows } from '../../src/webview/sweep-model.js';
import { fuzz, fuzzAsync } from '../fuzz.js';
import { hostMessage, webviewMessage } from './message-arbitraries.js';

/**
 * The panel's message handling on random input, without a browser: the host's routing of what the
 * page posts (panel-requests.ts, with the real config editor behind editConfig) and the webview's
 * check of what the host posts (message-guards.ts) followed by the panel's data model. The page
 * itself gets random messages in messages-fuzz.browser.test.ts.
 */
const CONFIG = `# demo
model: ./m
task: text-classification
data:
  train: t.jsonl
training:
  epochs: 3          # a comment
  lora: {r: 8}
eval:
  metrics: [accuracy, f1]
`;
const RUNS = new Set(['demo-20250101-120000']);

/** What RunPanel.handle does, minus VS Code: the real configEdit, and commands on known runs. */
async function handle(request: WebviewRequest): Promise<void> {
  switch (request.type) {
    case 'editConfig':
      configEdit(CONFIG, 'yaml', request.path, request.value);
      return;
    case 'command':
      if (request.command !== 'start' && !RUNS.has(request.runId ?? ''))
        throw new Error(`Unknown run ${request.runId}.`);
      return;
    case 'exportPng':
      if (request.fileName === '') throw new Error('Export cancelled.');
      return;
    case 'chatModels':
    case 'chatSend':
    case 'playgroundModels':
    case 'playgroundRun':
      if (!RUNS.has(request.runId)) throw new Error(`Unknown run ${request.runId}.`);
      // The page names a model by key; only final and step-<N> become folders, inside the run.
      if (request.type === 'chatSend' || request.type === 'playgroundRun') {
        const dir = chatModelPath('/ws/runs/demo', request.model);
        assert.ok(dir.startsWith('/ws/runs/demo/'), dir);
      }
      return;
    case 'chatStop':
    case 'playgroundStop':
      return;
    case 'dataReport':
      if (request.runId !== undefined && !RUNS.has(request.runId)) throw new Error(`Unknown run ${request.runId}.`);
      return;
    case 'openDataRow':
      // What reaches the handler is a row the guard let through (test/webview/data-rows.test.ts
      // covers the host's resolution, which reads the file system).
      assert.ok(request.file !== '' && Number.isSafeInteger(request.line) && request.line >= 1);
      if (request.runId !== undefined && !RUNS.has(request.runId)) throw new Error(`Unknown run ${request.runId}.`);
      return;
  }
}

test('host: random webview messages are ignored or answered exactly once, never thrown', async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (err: unknown) => unhandled.push(err);
  process.on('unhandledRejection', onUnhandled);
  let invalid = 0;
  let failedRequests = 0;
  let editErrors = 0;
  try {
    await fuzzAsync(
      'host webview-message handler',
      webviewMessage,
      async (message) => {
        const replies: ReplyMessage[] = [];
        let ready = 0;
        let bad = 0;
        const isRequest = typeof message === 'object' && message !== null && 'id' in message;
        receiveWebviewMessage(message, {
          onReady: () => ready++,
          handle: async (request) => {
            try {
              await handle(request);
            } catch (err) {
              // The editor refuses what it cannot do with its own error, saying what and where.
              if (request.type === 'editConfig') {
                assert.ok(err instanceof ConfigEditError, `configEdit threw ${String(err)}`);
                editErrors++;
              }
              throw err;
            }
          },
          reply: (r) => replies.push(r),
          onInvalid: () => bad++,
        });
        await new Promise((r) => setImmediate(r));
        invalid += bad;
        failedRequests += replies.filter((r) => !r.ok).length;
        if (bad === 1) assert.deepEqual([replies.length, ready], [0, 0], 'an ignored message has no effect');
        else if (ready === 1) assert.equal(replies.length, 0);
        else {
          assert.ok(isRequest);
          assert.equal(replies.length, 1, 'exactly one reply per request');
          assert.equal(replies[0]?.id, (message as { id: number }).id);
        }
        return true;
      },
      { numRuns: 1000 },
    );
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
  console.log(
    `# fuzz host webview-message handler: ${invalid} ignored, ${failedRequests} answered ok: false (${editErrors} by the config editor)`,
  );
  assert.deepEqual(unhandled, []);
});

test('host: a handler that throws, rejects or throws a non-error still gets its one reply', async () => {
  const replies: ReplyMessage[] = [];
  const request = { type: 'command', id: 7, command: 'stop', runId: 'r' };
  const cases: (() => Promise<void>)[] = [
    () => {
      throw new Error('sync');
    },
    () => Promise.reject(new ConfigEditError('no such key')),
    () => Promise.reject(Object.create(null)),
  ];
  for (const h of cases)
    receiveWebviewMessage(request, { onReady() {}, handle: h, reply: (r) => replies.push(r), onInvalid() {} });
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(replies, [
    { type: 'reply', id: 7, ok: false, error: 'sync' },
    { type: 'reply', id: 7, ok: false, error: 'no such key' },
    { type: 'reply', id: 7, ok: false, error: 'an error without a message' },
  ]);
  const ignored: string[] = [];
  receiveWebviewMessage(
    { type: 'command', id: 1, command: 'rm -rf' },
    {
      onReady() {},
      handle: () => assert.fail('not a request'),
      reply: () => assert.fail('no reply'),
      onInvalid: (d) => ignored.push(d),
    },
  );
  assert.match(ignored[0] ?? '', /not one of the protocol's: \{"type":"command","id":1,"command":"rm -rf"\}/);
});

test('webview: any value is checked without throwing; what passes keeps the panel model working', () => {
  let accepted = 0;
  let dropped = 0;
  fuzz(
    'webview host-message check + panel model',
    fc.oneof(hostMessage, fc.anything()),
    (data) => {
      const checked = checkHostMessage(data);
      if ('problem' in checked) return true;
      accepted++;
      dropped += checked.dropped;
      // Checking the result again finds nothing more to leave out.
      assert.deepEqual(checkHostMessage(checked.message), { message: checked.message, dropped: 0 });
      const m = checked.message;
      const runs =
        m.type === 'init'
          ? m.runs.map((r) => [r, r.events] as const)
          : m.type === 'run'
            ? [[m.run, m.events ?? []] as const]
            : [];
      const data2 = runs.map(([info, events]) => {
        const run = newRunData(info);
        appendEvents(run, events);
        if (m.type === 'events') for (const r of m.runs) appendEvents(run, r.events);
        summarize(run, Date.now());
        for (const name of run.evals.metrics.keys()) metricSummary(run, name);
        return run;
      });
      const diffs = differingHyperparameters(data2.map((r) => ({ id: r.info.id, config: r.info.config })));
      for (const r of data2) legendLabel(r.info.id, diffs.get(r.info.id));
      // A sweep.json that passed the check keeps the Sweep view's model working.
      const record = m.type === 'sweep' || m.type === 'init' ? m.sweep?.record : undefined;
      if (record) {
        const rows = trialRows(record, Date.now());
        const axes = axesOf(record);
        const some = Object.fromEntries(axes.slice(0, 1).map((a) => [a.key, a.domain]));
        sortRows(filterRows(rows, axes, some), { column: 'value', descending: true });
        bestSoFar(record);
        importances(record);
      }
      return true;
    },
    { numRuns: 2000 },
  );
  console.log(`# fuzz webview host-message check: ${accepted} accepted, ${dropped} malformed parts left out`);
});

test('webview check: whole messages rejected with a reason, bad parts left out, NaN losses kept', () => {
  assert.deepEqual(checkHostMessage({ type: 'events', runs: null }), { problem: 'events: runs is not an array' });
  assert.deepEqual(checkHostMessage({ type: 'init' }), { problem: 'init: runs is not an array' });
  assert.deepEqual(checkHostMessage({ type: 'run', run: { id: 'a', dir: '/a', status: { state: 'running' } } }), {
    problem: 'run: not a run (id, dir, status...)',
  });
  const step = { type: 'step', step: 1, epoch: 0, loss: null, lr: 1e-5, tokensPerSec: 10, t: 1 };
  assert.deepEqual(
    checkHostMessage({
      type: 'events',
      runs: [{ runId: 'a', events: [step, { type: 'eval', step: 2, t: 2 }, { type: 'gpu', t: 3 }] }, { runId: 5 }],
    }),
    { message: { type: 'events', runs: [{ runId: 'a', events: [step] }] }, dropped: 3 },
  );
  const init = checkHostMessage({
    type: 'init',
    runs: [{ id: 'a', dir: '/a', events: [] }, { id: 'b' }],
    trusted: true,
    target: { runDirs: ['/a'] },
    config: { uri: 'u', fileName: 'f', format: 'yaml', text: '', version: 1, diagnostics: [{ message: 'x' }] },
  });
  assert.deepEqual(init, {
    message: {
      type: 'init',
      runs: [{ id: 'a', dir: '/a', events: [] }],
      trusted: true,
      target: { runDirs: ['/a'] },
      config: { uri: 'u', fileName: 'f', format: 'yaml', text: '', version: 1 },
    },
    dropped: 2,
  });
});
