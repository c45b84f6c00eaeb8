import assert from 'node:assert/strict';
import { test } from 'node:test';
import { configName, isRunOf, latestRunOf, runId, runIdTime, uniqueRunId } from '../../src/shared/run-id.js';

test('run ids follow the contract: <config name>-<YYYYMMDD-HHMMSS> in local time', () => {
  const now = new Date(2025, 0, 2, 3, 4, 5);
  assert.equal(configName('/w/sst2.finetune.yaml'), 'sst2');
  assert.equal(configName('C:\\w\\ner.finetune.json'), 'ner');
  assert.equal(configName('plain.yml'), 'plain');
  assert.equal(configName('sst2.finetune.json'), 'sst2');
  assert.equal(runId('/w/sst2.finetune.yaml', now), 'sst2-20250102-030405');
  assert.equal(runIdTime('sst2-20250102-030405'), now.getTime());
  assert.equal(runIdTime('sst2-20250102-030405-2'), now.getTime());
  assert.equal(runIdTime('no-stamp'), undefined);
  const taken = new Set(['sst2-20250102-030405', 'sst2-20250102-030405-2']);
  assert.equal(
    uniqueRunId('/w/sst2.finetune.yaml', (id) => taken.has(id), now),
    'sst2-20250102-030405-3',
  );
  assert.equal(
    uniqueRunId('/w/sst2.finetune.yaml', () => false, now),
    'sst2-20250102-030405',
  );
});

test('isRunOf: the config name, the stamp and an optional -N, nothing else', () => {
  assert.ok(isRunOf('bert', 'bert-20250101-120000'));
  assert.ok(isRunOf('bert', 'bert-20250101-120000-2'));
  assert.ok(!isRunOf('bert', 'bert-large-20250101-120000'));
  assert.ok(isRunOf('bert-large', 'bert-large-20250101-120000'));
  assert.ok(!isRunOf('bert-large', 'bert-20250101-120000'));
  assert.ok(!isRunOf('bert', 'bert-20250101-120000-'));
  assert.ok(!isRunOf('bert', 'bert-20250101-1200'));
  assert.ok(!isRunOf('bert', 'xbert-20250101-120000'));
  assert.ok(!isRunOf('a.b', 'axb-20250101-120000'));
});

test("latestRunOf: a config's newest run by start time, then -N, never another config's", () => {
  const dirs = [
    'bert-20250101-120000',
    'bert-large-20250301-120000',
    'bert-20250102-090000',
    'bert-20250102-090000-2',
    'bert-20250102-090000-10',
    'notes',
  ];
  assert.equal(latestRunOf('bert', dirs), 'bert-20250102-090000-10');
  assert.equal(latestRunOf('bert-large', dirs), 'bert-large-20250301-120000');
  assert.equal(latestRunOf('bert', ['bert-20250101-120000-2', 'bert-20250101-120000']), 'bert-20250101-120000-2');
  assert.equal(latestRunOf('gpt', dirs), undefined);
});
