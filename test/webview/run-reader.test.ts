import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { RunFollower, readRunInfo } from '../../src/extension/panel/run-reader.js';
import { isRunEvent } from '../../src/extension/runs/events.js';
import type { RunInfo } from '../../src/shared/messages.js';
import type { RunEvent } from '../../src/shared/run-directory.js';

const root = mkdtempSync(join(tmpdir(), 'run-reader-'));
after(() => rmSync(root, { recursive: true, force: true }));

function runDir(name: string): string {
  const dir = join(root, name);
  mkdirSync(join(dir, 'final'), { recursive: true });
  return dir;
}

const line = (e: object) => `${JSON.stringify(e)}\n`;

test('a run directory reads into status, config and final metrics, each optional', async () => {
  const dir = runDir('demo-20250101-120000');
  assert.deepEqual(await readRunInfo(dir), { id: 'demo-20250101-120000', dir });
  writeFileSync(
    join(dir, 'status.json'),
    JSON.stringify({ state: 'completed', step: 9, totalSteps: 9, epoch: 1, pid: 1 }),
  );
  writeFileSync(join(dir, 'config.yaml'), 'model: x # comment\ntraining:\n  learning_rate: 3.0e-5\n');
  writeFileSync(
    join(dir, 'final', 'metrics.json'),
    JSON.stringify({
      accuracy: 0.9,
      confusion_matrix: {
        labels: ['neg', 'pos'],
        matrix: [
          [4, 1],
          [0, 5],
        ],
      },
    }),
  );
  const info = await readRunInfo(dir);
  assert.equal(info.status?.state, 'completed');
  assert.deepEqual(info.config, { model: 'x', training: { learning_rate: 3e-5 } });
  assert.equal(info.finalMetrics?.accuracy, 0.9);
  assert.deepEqual(info.finalMetrics?.confusion_matrix?.labels, ['neg', 'pos']);
});

test('unknown event types and malformed events are skipped', () => {
  assert.ok(isRunEvent({ type: 'step', step: 1, t: 1 }));
  assert.equal(isRunEvent({ type: 'gpu-temperature', t: 1 }), false);
  assert.equal(isRunEvent({ type: 'step' }), false);
  assert.equal(isRunEvent(null), false);
});

test('a status.json the runs view would reject is left out of the run info too', async () => {
  const dir = runDir('odd-20250101-120000');
  writeFileSync(join(dir, 'status.json'), JSON.stringify({ state: 'exploded', step: 1 }));
  assert.equal((await readRunInfo(dir)).status, undefined);
  writeFileSync(join(dir, 'status.json'), JSON.stringify({ state: 'running' }));
  assert.equal((await readRunInfo(dir)).status?.step, 0);
});

test('a follower reports appended events and status changes as they happen', async () => {
  const dir = runDir('live-20250101-120000');
  const step = (s: number): RunEvent => ({ type: 'step', step: s, epoch: 0, loss: 1, lr: 1, tokensPerSec: 1, t: s });
  writeFileSync(join(dir, 'events.jsonl'), line(step(1)));
  writeFileSync(
    join(dir, 'status.json'),
    JSON.stringify({ state: 'running', step: 1, totalSteps: 3, epoch: 0, pid: 1 }),
  );
  const seen: RunEvent[] = [];
  const infos: RunInfo[] = [];
  let wake: () => void = () => {};
  const follower = new RunFollower(dir, {
    events: (_id, events) => {
      seen.push(...events);
      wake();
    },
    info: (info) => {
      infos.push(info);
      wake();
    },
  });
  const until = async (check: () => boolean) => {
    const deadline = Date.now() + 5000;
    while (!check()) {
      assert.ok(Date.now() < deadline, 'timed out waiting for the follower');
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 100);
      });
    }
  };
  try {
    const loaded = await follower.load();
    assert.deepEqual(loaded.events, [step(1)]);
    follower.start();
    await new Promise((r) => setTimeout(r, 200)); // let the watcher settle
    appendFileSync(join(dir, 'events.jsonl'), line(step(2)) + line(step(3)).slice(0, 10));
    await until(() => seen.length >= 1);
    assert.deepEqual(seen, [step(2)], 'the partial line waits');
    appendFileSync(join(dir, 'events.jsonl'), line(step(3)).slice(10));
    await until(() => seen.length >= 2);
    assert.deepEqual(seen, [step(2), step(3)]);
    writeFileSync(
      join(dir, 'status.json'),
      JSON.stringify({ state: 'completed', step: 3, totalSteps: 3, epoch: 1, pid: 1 }),
    );
    await until(() => infos.some((i) => i.status?.state === 'completed'));
  } finally {
    follower.dispose();
  }
});
