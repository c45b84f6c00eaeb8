import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { dataCommand, dataStats } from '../../../src/engine/commands/data.js';
import type { Example } from '../../../src/engine/data/records.js';
import { renderReport, reportJson } from '../../../src/engine/data/report.js';
import { computeStats, percentile, renderStats, statsJson, whitespaceCounter } from '../../../src/engine/data/stats.js';
import { writeBertTokenizer } from '../../fixtures/tokenizers.js';
import { prepare } from './resolved.js';
import { jsonl, tempDir } from './tmp.js';

const tmp = tempDir();

const words = (n: number, label: string, line: number): Example => ({
  kind: 'text',
  text: Array.from({ length: n }, (_, i) => `w${i}`).join(' '),
  label,
  source: { file: 't.jsonl', line },
});

test('percentiles are nearest-rank', () => {
  const xs = Float64Array.from({ length: 100 }, (_, i) => i + 1);
  assert.deepEqual(
    [50, 90, 99, 100].map((p) => percentile(xs, p)),
    [50, 90, 99, 100],
  );
  assert.equal(percentile([7], 50), 7);
  assert.equal(percentile([], 50), 0);
});

test('token lengths, truncation share and label distribution; a warning above 5% truncated', () => {
  const { countTokens } = whitespaceCounter;
  assert.equal(countTokens('a  b', ' c '), 3);
  // 20 examples of 1..20 words; max_length 18 truncates 2 of them (10%).
  const train = Array.from({ length: 20 }, (_, i) => words(i + 1, i < 15 ? 'a' : 'b', i + 1));
  const labels = {
    labels: ['a', 'b'],
    ids: new Map([
      ['a', 0],
      ['b', 1],
    ]),
    order: 'sorted' as const,
  };
  const stats = computeStats(train, [words(3, 'a', 1)], {
    counter: whitespaceCounter,
    counterName: 'whitespace',
    maxLength: 18,
    labels,
  });
  assert.deepEqual(stats.train.tokens, { p50: 10, p90: 18, p99: 20, max: 20, mean: 10.5 });
  assert.deepEqual(stats.train.truncated, { count: 2, fraction: 0.1 });
  assert.deepEqual(
    stats.train.labels?.map((l) => [l.label, l.count]),
    [
      ['a', 15],
      ['b', 5],
    ],
  );
  assert.equal(stats.warnings.length, 2);
  assert.match(stats.warnings[0] ?? '', /10\.0% of the training examples are longer than max_length 18/);
  assert.match(stats.warnings[1] ?? '', /no validation example has the label\(s\): b/);
  const text = renderStats(stats);
  assert.match(text, /train\s+20 examples {2}tokens p50 10 {2}p90 18 {2}p99 20 {2}max 20/);
  assert.match(text, /a\s+15 \(75\.0%\)\s+1 \(100\.0%\)/);
  assert.deepEqual(statsJson(stats).maxLength, 18);
  const exactlyFive = computeStats(
    Array.from({ length: 20 }, (_, i) => words(i < 19 ? 1 : 9, 'a', i + 1)),
    [],
    { counter: whitespaceCounter, counterName: 'w', maxLength: 8 },
  );
  assert.deepEqual(exactlyFive.warnings, []);
});

const TRAIN = [
  { text: 'great movie', label: 'pos' },
  { text: 'great  movie', label: 'pos' }, // duplicate after whitespace collapsing
  { text: 'awful plot', label: 'neg' },
  { text: 'Cafe\u0301 scene', label: 'pos' },
  { text: 'seen it', label: 'neg' },
  { text: 'boring', label: 'pos' },
];

test('prepareData: load, clean, de-duplicate, labels, leakage, stats, one report', async () => {
  const train = tmp.write('p-train.jsonl', jsonl(TRAIN));
  const val = tmp.write('p-val.csv', 'text,label\nseen it,neg\nnew one,pos\n');
  const {
    train: tr,
    validation,
    labels,
    report,
  } = await prepare(
    { train: 'p-train.jsonl', validation: 'p-val.csv', max_length: 2 },
    {
      task: 'text-classification',

      baseDir: tmp.dir,
      tokens: { counter: whitespaceCounter, name: 'whitespace' },
    },
  );
  assert.equal(tr.length, 5);
  assert.equal(validation.length, 2);
  assert.deepEqual(labels?.labels, ['neg', 'pos']);
  assert.deepEqual(report.files.train, { path: train, format: 'jsonl', examples: 6, skipped: 0 });
  assert.equal(report.files.validation?.path, val);
  assert.deepEqual([report.clean.train.normalized, report.clean.train.whitespace], [1, 1]);
  assert.equal(report.duplicates.train.exact, 1);
  assert.equal(report.leakage.count, 1);
  assert.deepEqual(report.leakage.examples[0]?.validation, { file: val, line: 2 });
  assert.ok(report.warnings.some((w) => /1 validation examples also occur/.test(w)));
  const text = renderReport(report);
  assert.match(text, /leakage: 1 validation examples also in train/);
  assert.match(text, /labels \(2, sorted\): neg, pos/);
  assert.deepEqual(JSON.parse(JSON.stringify(reportJson(report))), reportJson(report));
});

test('prepareData: validation_split is stratified and seeded; a split leaving nothing is an error', async () => {
  tmp.write(
    's-train.jsonl',
    jsonl(Array.from({ length: 40 }, (_, i) => ({ text: `t${i}`, label: i % 4 === 0 ? 'x' : 'y' }))),
  );
  const { report } = await prepare(
    { train: 's-train.jsonl', validation_split: 0.2 },
    { task: 'text-classification', baseDir: tmp.dir, seed: 3 },
  );
  assert.deepEqual(report.sizes, { train: 32, validation: 8 });
  assert.deepEqual(report.split, { fraction: 0.2, seed: 3, stratified: true });
  tmp.write('tiny.jsonl', jsonl([{ text: 'only', label: 'a' }]));
  await assert.rejects(
    prepare({ train: 'tiny.jsonl', validation_split: 0.1 }, { task: 'text-classification', baseDir: tmp.dir }),
    /leaves 0 for validation/,
  );
});

test('finetune data stats <config>: text and JSON reports; a data error exits 1 with its location', async () => {
  tmp.write('cli-train.jsonl', jsonl(TRAIN));
  const cfg = tmp.write(
    'cli.finetune.yaml',
    'model: ./no-such-model\ntask: text-classification\ndata:\n  train: cli-train.jsonl\n  validation_split: 0.5\n  max_length: 4\ntraining:\n  seed: 1\n',
  );
  const text = await dataStats(cfg, false);
  assert.match(text, /whitespace-separated words: no local tokenizer.json for model '[^']*no-such-model'/);
  assert.match(text, /labels \(2, sorted\): neg, pos/);
  const parsed = JSON.parse(await dataStats(cfg, true)) as {
    sizes: { train: number; validation: number };
    split: { seed: number };
  };
  assert.equal(parsed.sizes.train + parsed.sizes.validation, 5);
  assert.equal(parsed.split.seed, 1);

  tmp.write('cli-bad.jsonl', `${jsonl(TRAIN)}{"text": 1, "label": "pos"}\n`);
  const bad = tmp.write(
    'bad.finetune.json',
    JSON.stringify({ model: 'm', task: 'text-classification', data: { train: 'cli-bad.jsonl' } }),
  );
  await assert.rejects(dataStats(bad, false), /cli-bad\.jsonl:7: 'text' is an integer; expected a string/);
  await assert.rejects(dataCommand.run(['show', cfg]), /unknown sub-command 'show'/);
  await assert.rejects(dataCommand.run(['stats']), /missing <config>/);
});

test('finetune data stats: a Hub model in the Hugging Face cache counts with its tokenizer, as training would', async () => {
  const cache = join(tmp.dir, 'hf-cache');
  const commit = 'c'.repeat(40);
  const storage = join(cache, 'models--org--tiny-bert');
  const snapshot = join(storage, 'snapshots', commit);
  mkdirSync(snapshot, { recursive: true });
  mkdirSync(join(storage, 'refs'), { recursive: true });
  writeFileSync(join(storage, 'refs', 'main'), commit);
  writeFileSync(join(snapshot, 'config.json'), JSON.stringify({ model_type: 'bert' }));
  writeBertTokenizer(snapshot);
  tmp.write('hub-train.jsonl', jsonl(TRAIN));
  const cfg = tmp.write(
    'hub.finetune.yaml',
    'model: org/tiny-bert\ntask: text-classification\ndata:\n  train: hub-train.jsonl\n  validation_split: 0.5\n',
  );
  const saved = process.env.HF_HUB_CACHE;
  process.env.HF_HUB_CACHE = cache;
  try {
    const text = await dataStats(cfg, false);
    assert.match(text, /model tokenizer/);
    assert.doesNotMatch(text, /whitespace-separated words/);
  } finally {
    if (saved === undefined) delete process.env.HF_HUB_CACHE;
    else process.env.HF_HUB_CACHE = saved;
  }
});
