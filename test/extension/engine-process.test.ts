import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  engineEnv,
  escalateStop,
  exportArgs,
  requestStop,
  resumeArgs,
  signalPid,
  spawnDetached,
  tokenizerTrainArgs,
  trainArgs,
} from '../../src/extension/runs/engine-process.js';
import { isPidAlive } from '../../src/shared/node/run-claims.js';
import { deadPid, tempDir, waitFor } from './helpers.js';

test('engine command lines follow the CLI contract', () => {
  assert.deepEqual(trainArgs('/x/cli.js', '/w/a.finetune.yaml', '/w/runs/a-1', { device: 'cuda', threads: 0 }), [
    '/x/cli.js',
    'train',
    '/w/a.finetune.yaml',
    '--run-dir',
    '/w/runs/a-1',
    '--device',
    'cuda',
  ]);
  // auto leaves the device to the config (--device would override it).
  assert.deepEqual(trainArgs('c', 'f', 'd', { device: 'auto', threads: 4 }), [
    'c',
    'train',
    'f',
    '--run-dir',
    'd',
    '--threads',
    '4',
  ]);
  assert.deepEqual(resumeArgs('c', 'd', { device: 'auto', threads: 0 }), ['c', 'resume', 'd']);
  assert.deepEqual(resumeArgs('c', 'd', { device: 'cpu', threads: 2 }), [
    'c',
    'resume',
    'd',
    '--device',
    'cpu',
    '--threads',
    '2',
  ]);
  assert.deepEqual(exportArgs('c', 'd', 'onnx', 'o'), ['c', 'export', 'd', '--format', 'onnx', '--out', 'o']);
  // (test/engine/tokenizer-training/corpus.test.ts runs these through the CLI.)
  assert.deepEqual(
    tokenizerTrainArgs('c', {
      type: 'unigram',
      vocabSize: 500,
      inputs: ['a.txt', 'b.jsonl'],
      lowercase: true,
      out: 'o',
    }),
    [
      'c',
      'tokenizer',
      'train',
      '--type',
      'unigram',
      '--vocab-size',
      '500',
      '--input',
      'a.txt',
      '--input',
      'b.jsonl',
    ].concat(['--lowercase', '--out', 'o']),
  );
  assert.equal(engineEnv({ PATH: '/bin' }).ELECTRON_RUN_AS_NODE, '1');
  assert.equal(engineEnv({ PATH: '/bin' }).PATH, '/bin');
});

test('spawnDetached: stderr goes to engine.log (stdout, the echo of the log, does not)', async (t) => {
  const dir = tempDir(t);
  const script = join(dir, 'fake-engine.js');
  writeFileSync(
    script,
    "console.log('echoed log line'); console.error('Error: crash trace'); console.error('ELECTRON_RUN_AS_NODE=' + process.env.ELECTRON_RUN_AS_NODE);",
  );
  const child = spawnDetached([script], dir, dir);
  // spawnDetached unrefs the child (the extension host must not wait for it); the test must.
  child.ref();
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  assert.equal(code, 0);
  const log = readFileSync(join(dir, 'engine.log'), 'utf8');
  assert.match(log, /Error: crash trace/);
  assert.match(log, /ELECTRON_RUN_AS_NODE=1/);
  assert.ok(!log.includes('echoed log line'), log);
});

test('requestStop creates the stop-request file', async (t) => {
  const dir = tempDir(t);
  await requestStop(dir);
  assert.ok(existsSync(join(dir, 'stop-requested')));
});

test('escalateStop: SIGTERM after the grace period, SIGKILL after the kill delay, only while alive', async () => {
  const sent: string[] = [];
  let alive = true;
  const deps = {
    isAlive: () => alive,
    signal: (_pid: number, s: NodeJS.Signals) => {
      sent.push(s);
      return true;
    },
  };
  escalateStop(123, { graceMs: 20, killMs: 20 }, deps);
  await waitFor(() => sent.length === 2, 2000, 'SIGTERM then SIGKILL');
  assert.deepEqual(sent, ['SIGTERM', 'SIGKILL']);

  sent.length = 0;
  escalateStop(123, { graceMs: 20, killMs: 20 }, { ...deps, isAlive: () => alive });
  alive = false;
  await new Promise((r) => setTimeout(r, 80));
  assert.deepEqual(sent, [], 'an engine that stopped in time is not signalled');

  alive = true;
  const handle = escalateStop(123, { graceMs: 20, killMs: 20 }, deps);
  handle.dispose();
  await new Promise((r) => setTimeout(r, 80));
  assert.deepEqual(sent, [], 'disposing cancels');

  // A request made long ago (before a window reload): SIGTERM at once, SIGKILL at the old deadline.
  escalateStop(123, { graceMs: 100, killMs: 40 }, deps, 110);
  assert.deepEqual(sent, ['SIGTERM']);
  await waitFor(() => sent.length === 2, 2000, 'SIGKILL');
});

test('signalPid reports whether the process was there', () => {
  assert.equal(signalPid(deadPid(), 'SIGTERM'), false);
  assert.equal(signalPid(0, 'SIGTERM'), false);
  assert.equal(isPidAlive(process.pid), true);
});
