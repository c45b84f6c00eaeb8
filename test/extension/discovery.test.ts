import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isConfigFile, orderConfigs } from '../../src/extension/configs/discovery.js';

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
