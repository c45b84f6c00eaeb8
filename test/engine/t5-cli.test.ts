import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { toJsonl } from '../fixtures/datasets.js';
import { toyPairs, writeTinyT5 } from '../fixtures/tiny-t5.js';
import { finetune as finetuneIn } from './helpers/cli.js';
import { evalMetrics } from './helpers/run-events.js';

// Issue #16's done-when, first part: `finetune train` with `task: translation` on a tiny T5 folder,
// through the command line as a user runs it (paths relative to the config's folder).

const dir = mkdtempSync(join(tmpdir(), 't5-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const finetune = (...args: string[]) => finetuneIn(dir, ...args);

test('finetune validate and train: task translation on a tiny T5 folder, source/target columns', async () => {
  mkdirSync(join(dir, 't5-tiny'));
  writeTinyT5(join(dir, 't5-tiny'), { seed: 4 });
  writeFileSync(join(dir, 'pairs.jsonl'), toJsonl(toyPairs(64, 5).map((p) => ({ en: p.source, toy: p.target }))));
  writeFileSync(
    join(dir, 'bad.finetune.yaml'),
    'model: ./t5-tiny\ntask: translation\ndata: {train: pairs.jsonl, source_column: en}\n',
  );
  const bad = await finetune('validate', 'bad.finetune.yaml');
  assert.equal(bad.code, 1, bad.stdout);
  assert.match(
    bad.stdout,
    /data\.source_column needs data\.target_column as well: translation reads a source and a target/,
  );
  writeFileSync(
    join(dir, 'translate.finetune.yaml'),
    `model: ./t5-tiny
task: translation
data:
  train: pairs.jsonl
  validation_split: 0.25
  source_column: en
  target_column: toy
  source_prefix: 'translate: '
training:
  epochs: 2
  batch_size: 8
  learning_rate: 3.0e-3
  label_smoothing: 0.1
device: cpu
`,
  );
  const valid = await finetune('validate', 'translate.finetune.yaml');
  assert.equal(valid.code, 0, valid.stdout);
  const trained = await finetune('train', 'translate.finetune.yaml', '--threads', '1');
  assert.equal(trained.code, 0, trained.stderr);
  const runDir = /^run completed: (.+)$/m.exec(trained.stdout)?.[1];
  assert.ok(runDir, trained.stdout);
  const config = JSON.parse(readFileSync(join(runDir, 'final', 'config.json'), 'utf8')) as {
    architectures: string[];
    model_type: string;
  };
  assert.deepEqual([config.architectures, config.model_type], [['T5ForConditionalGeneration'], 't5']);
  const evals = evalMetrics(runDir);
  assert.equal(evals.length, 2);
  assert.ok(
    evals.every((m) => Number.isFinite(m.loss)),
    JSON.stringify(evals),
  );
  assert.ok((evals[1]?.loss as number) < (evals[0]?.loss as number), JSON.stringify(evals));
});
