import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { RunFollower } from '../../src/extension/panel/run-follower.js';
import { isRunEvent } from '../../src/extension/runs/events.js';
import type { RunInfo } from '../../src/shared/messages.js';
import type { RunEvent } from '../../src/shared/run-directory.js';

const root = mkdtempSync(join(tmpdir(), 'run-follower-'));
after(() => rmSync(root, { recursive: true, force: true }));

function runDir(name: string): string {
  const dir = join(root, name);
  mkdirSync(join(dir, 'final'), { recursive: true });
  return dir;
}

const line = (e: object) => `${JSON.stringify(e)}\n`;

test('unknown event types and malformed events are skipped', () => {
  assert.ok(isRunEvent({ type: 'step', step: 1, t: 1 }));
  assert.equal(isRunEvent({ type: 'gpu-temperature', t: 1 }), false);
  assert.equal(isRunEvent({ type: 'step' }), false);
  assert.equal(isRunEvent(null), false);
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
