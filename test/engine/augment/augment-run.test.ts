import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { prepareAndAugment } from '../../../src/engine/augment/augment.js';
import { prepareData } from '../../../src/engine/data/prepare.js';
import { readSafetensors } from '../../../src/engine/io/safetensors.js';
import { TASKS } from '../../../src/engine/tasks/registry.js';
import { resumeRun, trainFromConfig } from '../../../src/engine/train/finetune.js';
import { applyDefaults } from '../../../src/shared/config-validate.js';
import { nerRows, sentimentRows, toJsonl } from '../../fixtures/datasets.js';
import { finetune } from '../helpers/cli.js';
import { lossByStep, readEvents } from '../helpers/run-events.js';
import { trainUntilStopped, writeTinyRun } from '../helpers/tiny-run.js';

/**
 * data.augment in whole runs: only the training split grows, the data report shows it, a resumed
 * run trains on the same augmented rows (identical losses), and the CLI trains and previews it.
 */
const dir = mkdtempSync(join(tmpdir(), 'ft-augment-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const AUGMENT = '  augment:\n    eda: {n_aug: 2, alpha_sr: 0.2, alpha_ri: 0.1, alpha_rs: 0.1, p_rd: 0.1}\n';
const plainConfig = writeTinyRun(dir);
const config = join(dir, 'augmented.finetune.yaml');
writeFileSync(config, readFileSync(plainConfig, 'utf8').replace('  max_length: 32\n', `  max_length: 32\n${AUGMENT}`));

test('augmentation never touches validation: a validation_split holds out the same rows, only train grows', async () => {
  writeFileSync(join(dir, 'split.jsonl'), toJsonl(sentimentRows(100, 4)));
  const data = (augment?: object) =>
    applyDefaults({
      model: 'm',
      task: 'text-classification',
      data: { train: join(dir, 'split.jsonl'), validation_split: 0.2, ...(augment ? { augment } : {}) },
    }).data;
  const opts = {
    task: 'text-classification',
    format: TASKS['text-classification'].data,
    baseDir: dir,
    seed: 42,
  } as const;
  const plain = await prepareData(data(), opts);
  const augmented = await prepareAndAugment(data({ eda: { n_aug: 3 } }), opts);
  assert.deepEqual(augmented.validation, plain.validation);
  assert.ok(augmented.train.length > 2.5 * plain.train.length, `${augmented.train.length} vs ${plain.train.length}`);
  // The originals are all there, in order, each followed by its copies (same label).
  // A copy carries its original's source line, so the first row of each line is the original.
  const seen = new Set<number>();
  const originals = augmented.train.filter((e) => !seen.has(e.source.line) && seen.add(e.source.line));
  assert.deepEqual(originals, plain.train);
  for (const e of augmented.train) {
    const original = originals.find((o) => o.source.line === e.source.line);
    assert.equal(e.kind === 'text' && e.label, original?.kind === 'text' && original.label);
  }
  const report = augmented.report;
  assert.equal(report.augment?.before, plain.train.length);
  assert.equal(report.augment?.after, augmented.train.length);
  assert.equal(report.sizes.validation, plain.validation.length);
  assert.equal(report.sizes.train, augmented.train.length);
});

test('an augmented run resumes exactly: the same losses at every step and the same final weights', {
  timeout: 300_000,
}, async () => {
  const whole = join(dir, 'run-whole');
  const resumed = join(dir, 'run-resumed');
  assert.equal((await trainFromConfig(config, whole, { threads: 1 })).outcome, 'completed');
  const report = JSON.parse(readFileSync(join(whole, 'data-report.json'), 'utf8'));
  assert.equal(report.augment.before, 128);
  assert.ok(report.augment.after > 128 * 2.5, `${report.augment.after} training rows`);
  assert.ok(report.augment.samples.length > 0);
  await trainUntilStopped(config, resumed, 50); // in epoch 2 (about 47 steps an epoch)
  assert.equal(await resumeRun(resumed, { threads: 1 }), 'completed');
  const want = lossByStep(readEvents(whole));
  const got = lossByStep(readEvents(resumed));
  assert.equal(want.size, 3 * Math.ceil(report.augment.after / 8));
  assert.equal(got.size, want.size);
  for (const [step, loss] of want) assert.equal(got.get(step), loss, `step ${step} loss`);
  const a = readSafetensors(join(whole, 'final', 'model.safetensors')).tensors;
  const b = readSafetensors(join(resumed, 'final', 'model.safetensors')).tensors;
  for (const [name, t] of a) assert.deepEqual(b.get(name)?.data, t.data, `${name} after resume`);
});

test('from the CLI: `data augment --preview 3` prints originals beside copies, and an augmented run completes', {
  timeout: 300_000,
}, async () => {
  const preview = await finetune(dir, 'data', 'augment', 'augmented.finetune.yaml', '--preview', '3');
  assert.equal(preview.code, 0, preview.stderr);
  assert.match(preview.stdout, /^128 training examples -> \d+ with augmentation \(validation: 16, never augmented\)/);
  assert.equal(preview.stdout.match(/^\[\d\] original: {2}/gm)?.length, 3);
  assert.ok((preview.stdout.match(/^ {4}augmented: /gm)?.length ?? 0) >= 3);
  const train = await finetune(dir, 'train', 'augmented.finetune.yaml', '--run-dir', 'cli-run', '--threads', '1');
  assert.equal(train.code, 0, train.stderr);
  const log = readFileSync(join(dir, 'cli-run', 'engine.log'), 'utf8');
  assert.match(log, /augmentation: 128 training examples -> \d+/);
  const noAugment = await finetune(dir, 'data', 'augment', 'tiny.finetune.yaml');
  assert.equal(noAugment.code, 1);
  assert.match(noAugment.stderr, /has no data\.augment/);
});

test('token classification from the CLI: synonyms of O tokens and mention replacement preview and train', {
  timeout: 300_000,
}, async () => {
  writeFileSync(join(dir, 'ner-train.jsonl'), toJsonl(nerRows(80, 1)));
  writeFileSync(join(dir, 'ner-val.jsonl'), toJsonl(nerRows(16, 2)));
  writeFileSync(
    join(dir, 'ner.finetune.yaml'),
    `model: ./model
task: token-classification
data:
  train: ner-train.jsonl
  validation: ner-val.jsonl
  max_length: 32
  augment:
    eda: {n_aug: 2, alpha_sr: 0.3}
    mention_replacement: {n_aug: 2, p: 0.5}
training:
  epochs: 1
  batch_size: 8
  learning_rate: 3.0e-3
eval:
  metrics: [f1]
device: cpu
`,
  );
  const preview = await finetune(dir, 'data', 'augment', 'ner.finetune.yaml', '--preview', '2');
  assert.equal(preview.code, 0, preview.stderr);
  assert.match(preview.stdout, /synonym replacement of O tokens \(alpha_sr 0\.3\)/);
  assert.match(preview.stdout, /mention replacement \(n_aug 2, p 0\.5\)/);
  // Tagged words print as word/TAG: every copy keeps its original's mentions, type by type.
  const types = (line: string) => line.match(/\/B-(PER|LOC)/g)?.join(' ');
  let original: string | undefined;
  let copies = 0;
  for (const line of preview.stdout.split('\n')) {
    if (/^\[\d\] original: /.test(line)) original = types(line);
    else if (line.startsWith('    augmented: ')) {
      copies++;
      assert.equal(types(line), original, line);
    }
  }
  assert.ok(copies >= 2, preview.stdout);
  const bad = join(dir, 'ner-bad.finetune.yaml');
  writeFileSync(
    bad,
    readFileSync(join(dir, 'ner.finetune.yaml'), 'utf8').replace('alpha_sr: 0.3}', 'alpha_sr: 0.3, p_rd: 0.1}'),
  );
  const refused = await finetune(dir, 'train', 'ner-bad.finetune.yaml');
  assert.notEqual(refused.code, 0);
  assert.match(
    refused.stderr,
    /ner-bad\.finetune\.yaml:\d+:\d+.*data\.augment\.eda\.p_rd is not available for token-classification/,
  );
  const run = join(dir, 'ner-run');
  assert.equal((await trainFromConfig(join(dir, 'ner.finetune.yaml'), run, { threads: 1 })).outcome, 'completed');
  const report = JSON.parse(readFileSync(join(run, 'data-report.json'), 'utf8'));
  assert.ok(report.augment.after > report.augment.before, JSON.stringify(report.augment));
  assert.equal(report.augment.unknownTags, 0);
  assert.equal(report.sizes.validation, report.files.validation.examples - report.duplicates.validation.exact);
});
