import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isConfigFile, orderConfigs } from '../../src/extension/configs/discovery.js';
import { configName, isRunOf, latestRunOf, runId, runIdTime, uniqueRunId } from '../../src/extension/runs/run-id.js';

test('isConfigFile by name', () => {
  for (const ok of ['a.finetune.yaml', '/w/x/b.finetune.yml', 'C:\\w\\c.finetune.json', 'D.FINETUNE.YAML'])
    assert.ok(isConfigFile(ok), ok);
  for (const no of ['finetune.yaml', 'a.yaml', 'a.finetune.yaml.bak', 'a.finetune.toml'])
    assert.ok(!isConfigFile(no), no);
});

test('orderConfigs: the active editor first, then open ones, then its folder, shallow before deep, by path', () => {
  const paths = [
    '/w/z/deep/d.finetune.yaml',
    '/w/b.finetune.yaml',
    '/w/exp/c.finetune.json',
    '/w/exp/a.finetune.yaml',
    '/w/a.finetune.yaml',
    '/w/notes.md',
    '/w/b.finetune.yaml',
  ];
  assert.deepEqual(orderConfigs(paths), [
    '/w/a.finetune.yaml',
    '/w/b.finetune.yaml',
    '/w/exp/a.finetune.yaml',
    '/w/exp/c.finetune.json',
    '/w/z/deep/d.finetune.yaml',
  ]);
  assert.deepEqual(
    orderConfigs(paths, {
      active: '/w/exp/c.finetune.json',
      open: ['/w/z/deep/d.finetune.yaml', '/w/exp/c.finetune.json'],
    }),
    [
      '/w/exp/c.finetune.json',
      '/w/z/deep/d.finetune.yaml',
      '/w/exp/a.finetune.yaml',
      '/w/a.finetune.yaml',
      '/w/b.finetune.yaml',
    ],
  );
  // An active editor that is not a config (or not in the list) changes nothing but the folder preference.
  assert.deepEqual(orderConfigs(paths, { active: '/w/notes.md' })[0], '/w/a.finetune.yaml');
  assert.deepEqual(orderConfigs([]), []);
});

test('run ids follow the contract: <config name>-<YYYYMMDD-HHMMSS> in local time', () => {
  const now = new Date(2025, 0, 2, 3, 4, 5);
  assert.equal(configName('/w/sst2.finetune.yaml'), 'sst2');
  assert.equal(configName('C:\\w\\ner.finetune.json'), 'ner');
  assert.equal(configName('plain.yml'), 'plain');
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
