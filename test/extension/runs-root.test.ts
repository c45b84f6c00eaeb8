import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { normalizeRunsFolder, outputDirOf, resolveRunsRoot } from '../../src/extension/runs/runs-root.js';
import { DEFAULT_RUNS_FOLDER, runsFolderOf } from '../../src/shared/run-directory.js';

const folder = resolve('/work/project');

test('the runs folder setting is trimmed, and blank or missing means the default', () => {
  assert.equal(normalizeRunsFolder('  out/runs \n'), 'out/runs');
  assert.equal(normalizeRunsFolder('   '), '.finetune/runs');
  assert.equal(normalizeRunsFolder(''), '.finetune/runs');
  assert.equal(normalizeRunsFolder(undefined), '.finetune/runs');
  assert.equal(normalizeRunsFolder(42), '.finetune/runs');
});

test("a config's output_dir, from YAML or JSON, when it is a non-empty string", () => {
  assert.equal(outputDirOf('model: m\noutput_dir: my/runs\n', 'a.finetune.yaml'), 'my/runs');
  assert.equal(outputDirOf('{"model": "m", "output_dir": "/abs/runs"}', 'a.finetune.json'), '/abs/runs');
  assert.equal(outputDirOf('model: m\n', 'a.finetune.yaml'), undefined);
  assert.equal(outputDirOf('output_dir: ""\n', 'a.finetune.yaml'), undefined);
  assert.equal(outputDirOf('output_dir: 3\n', 'a.finetune.yml'), undefined);
  assert.equal(outputDirOf('output_dir: [a]\n', 'a.finetune.yaml'), undefined);
  assert.equal(outputDirOf('output_dir: : :\n  - {', 'a.finetune.yaml'), undefined);
});

test('runs go to output_dir when set, else to the setting, relative to the workspace folder', () => {
  assert.equal(resolveRunsRoot(folder, '.finetune/runs'), join(folder, '.finetune/runs'));
  assert.equal(resolveRunsRoot(folder, resolve('/elsewhere/runs')), resolve('/elsewhere/runs'));
  assert.equal(resolveRunsRoot(folder, '.finetune/runs', 'mine'), join(folder, 'mine'));
  assert.equal(resolveRunsRoot(folder, '.finetune/runs', '../shared/runs'), resolve(folder, '../shared/runs'));
  assert.equal(resolveRunsRoot(folder, '.finetune/runs', resolve('/abs/out')), resolve('/abs/out'));
  assert.equal(resolveRunsRoot(folder, 'custom', ''), join(folder, 'custom'));
  // Resolved like the engine resolves output_dir: normalized, whichever of the two decides.
  assert.equal(resolveRunsRoot(folder, 'custom/'), join(folder, 'custom'));
  assert.equal(resolveRunsRoot(folder, resolve('/elsewhere/runs'), 'mine/'), join(folder, 'mine'));
});

test('runsFolderOf: output_dir when set, else the fallback, else the default the engine uses', () => {
  assert.equal(runsFolderOf('my/runs'), 'my/runs');
  assert.equal(runsFolderOf('my/runs', 'setting'), 'my/runs');
  assert.equal(runsFolderOf(undefined, 'setting'), 'setting');
  assert.equal(runsFolderOf('', 'setting'), 'setting');
  assert.equal(runsFolderOf(undefined), DEFAULT_RUNS_FOLDER);
  assert.equal(DEFAULT_RUNS_FOLDER, '.finetune/runs');
});
