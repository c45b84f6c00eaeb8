import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { cancelJob, launcherTypeOf, submitConfig } from '../../src/extension/runs/slurm-jobs.js';
import type { RunStatus } from '../../src/shared/run-directory.js';
import { writeTinyRun } from '../engine/helpers/tiny-run.js';
import { ROOT } from '../shared/helpers.js';
import { slurmSkipReason } from './cluster.js';

/**
 * The extension's Slurm path (src/extension/runs/slurm-jobs.ts) through the built CLI (dist/cli.js,
 * as the extension runs it) against the test cluster: Start Fine-tune "On Slurm" and Stop.
 */
const skip =
  slurmSkipReason() ??
  (existsSync(join(ROOT, 'dist', 'cli.js')) ? undefined : 'dist/cli.js is not built (npm run build)');
const CLI = join(ROOT, 'dist', 'cli.js');

test('launcherTypeOf reads the launcher type of YAML and JSON configs', () => {
  assert.equal(launcherTypeOf('model: m\nlauncher:\n  type: slurm\n', 'a.finetune.yaml'), 'slurm');
  assert.equal(launcherTypeOf('{"model": "m", "launcher": {"type": "slurm"}}', 'a.finetune.json'), 'slurm');
  assert.equal(launcherTypeOf('model: m\n', 'a.finetune.yaml'), undefined);
});

test('submitted from the extension: the run directory it asked for, queued with its job; Stop cancels it', {
  skip,
}, async (t) => {
  const dir = mkdtempSync('/tmp/finetune-slurm-ext-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const config = writeTinyRun(dir);
  writeFileSync(config, `${readFileSync(config, 'utf8')}launcher:\n  type: slurm\n  extra_args: [--begin=now+3600]\n`);
  const runDir = join(dir, 'runs', 'tiny-1');
  assert.equal(await submitConfig(CLI, config, dir, runDir), runDir);
  const status = () => JSON.parse(readFileSync(join(runDir, 'status.json'), 'utf8')) as RunStatus;
  assert.equal(status().state, 'queued');
  assert.match(status().job?.id ?? '', /^\d+$/);
  await cancelJob(CLI, runDir, dir);
  assert.equal(status().state, 'cancelled');
});

test("sbatch's refusal reaches the extension verbatim, with the launcher line", { skip }, async (t) => {
  const dir = mkdtempSync('/tmp/finetune-slurm-ext-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const config = writeTinyRun(dir);
  writeFileSync(config, `${readFileSync(config, 'utf8')}launcher:\n  type: slurm\n  partition: nosuch\n`);
  await assert.rejects(submitConfig(CLI, config, dir, join(dir, 'runs', 'x')), (err: Error) => {
    assert.match(err.message, /sbatch: error: invalid partition specified: nosuch/);
    assert.match(err.message, /launcher\.partition: partition: nosuch/);
    return true;
  });
});
