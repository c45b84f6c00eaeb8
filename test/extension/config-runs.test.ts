import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type KnownRun, latestCompletedRun } from '../../src/extension/runs/config-runs.js';

/**
 * Predict on Selection's run: the config's newest completed run, among runs of other configs
 * (a name that only starts like it), other folders, and runs still going or failed.
 */
const ROOT = '/ws/.finetune/runs';
const run = (id: string, state: KnownRun['state'], startedAt: number, root = ROOT): KnownRun => ({
  id,
  dir: `${root}/${id}`,
  state,
  startedAt,
});

test("the config's newest completed run in its runs folder", () => {
  const runs = [
    run('bert-20250101-120000', 'completed', 1),
    run('bert-20250102-120000', 'completed', 2),
    run('bert-20250103-120000', 'running', 3),
    run('bert-20250104-120000', 'failed', 4),
    run('bert-large-20250105-120000', 'completed', 5),
    run('bert-20250106-120000', 'completed', 6, '/elsewhere'),
  ];
  assert.equal(latestCompletedRun(runs, '/ws/bert.finetune.yaml', ROOT)?.id, 'bert-20250102-120000');
  assert.equal(latestCompletedRun(runs, '/ws/bert-large.finetune.yaml', `${ROOT}/`)?.id, 'bert-large-20250105-120000');
  assert.equal(latestCompletedRun(runs, '/ws/gpt.finetune.yaml', ROOT), undefined);
});

test('two runs started in the same second: the higher -N wins', () => {
  const runs = [run('bert-20250101-120000-2', 'completed', 7), run('bert-20250101-120000', 'completed', 7)];
  assert.equal(latestCompletedRun(runs, 'bert.finetune.json', ROOT)?.id, 'bert-20250101-120000-2');
});
