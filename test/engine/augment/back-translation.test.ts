import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { type BackTranslationSettings, backTranslate } from '../../../src/engine/augment/back-translation.js';
import { loadSeq2Seq } from '../../../src/engine/inference/seq2seq-model.js';
import { readSafetensors } from '../../../src/engine/io/safetensors.js';
import { resumeRun, trainFromConfig } from '../../../src/engine/train/finetune.js';
import { toyPairs, writeTinyT5 } from '../../fixtures/tiny-t5.js';
import { lossByStep, readEvents } from '../helpers/run-events.js';
import { trainUntilStopped, writeTinyRun } from '../helpers/tiny-run.js';

/**
 * Back-translation through two tiny random T5 folders (as t5-run.test.ts builds them): batching
 * changes nothing under greedy decoding, sampling is reproducible from the seed, the disk cache is
 * reused and keyed by the settings, and an augmented run resumes exactly from the cache.
 */
const dir = mkdtempSync(join(tmpdir(), 'ft-backtranslate-'));
after(() => rmSync(dir, { recursive: true, force: true }));
writeTinyT5(join(dir, 'via'), { seed: 3 });
writeTinyT5(join(dir, 'back'), { seed: 4 });
const texts = toyPairs(5, 1).map((p) => p.source);

const settings = (o: Partial<BackTranslationSettings> = {}): BackTranslationSettings => ({
  via: join(dir, 'via'),
  back: join(dir, 'back'),
  temperature: 1,
  n_aug: 2,
  batch_size: 2,
  max_new_tokens: 5,
  ...o,
});

test('greedy round trips equal generate() one text at a time, whatever the batch size', {
  timeout: 120_000,
}, async () => {
  const cacheDir = join(dir, 'cache-greedy');
  const batched = await backTranslate(texts, settings({ temperature: 0, n_aug: 1, batch_size: 2 }), {
    seed: 1,
    cacheDir,
  });
  const whole = await backTranslate(texts, settings({ temperature: 0, n_aug: 1, batch_size: 5 }), {
    seed: 1,
    cacheDir,
  });
  assert.deepEqual(batched, whole);
  const via = await loadSeq2Seq(join(dir, 'via'));
  const back = await loadSeq2Seq(join(dir, 'back'));
  try {
    for (const [i, text] of texts.entries()) {
      const [pivot] = await via.generate([text], { maxNewTokens: 5 });
      const [round] = await back.generate([pivot?.text.trim() ?? ''], { maxNewTokens: 5 });
      assert.deepEqual(batched[i], [round?.text.trim()]);
    }
  } finally {
    await Promise.all([via.dispose(), back.dispose()]);
  }
});

test('sampling: the same seed gives the same paraphrases (read back from the cache), another seed other ones', {
  timeout: 120_000,
}, async () => {
  const cacheDir = join(dir, 'cache-sampled');
  const lines: string[] = [];
  const log = (line: string) => lines.push(line);
  const a = await backTranslate(texts, settings(), { seed: 1, cacheDir, log });
  assert.equal(a.length, texts.length);
  for (const copies of a) assert.equal(copies.length, 2);
  assert.match(lines[0] ?? '', /^back-translation: 5 texts × 2 round trips in \d+ ms/);
  const again = await backTranslate(texts, settings(), { seed: 1, cacheDir, log });
  assert.deepEqual(again, a);
  assert.match(lines[1] ?? '', /^back-translation: 5 texts read from the cache/);
  // Nothing in the cache: the same draws again from the seed.
  assert.deepEqual(await backTranslate(texts, settings(), { seed: 1, cacheDir: join(dir, 'cache-fresh') }), a);
  // A random tiny model's distribution is nearly flat at temperature 1: two copies of five differ.
  assert.ok(
    a.some((copies) => copies[0] !== copies[1]),
    JSON.stringify(a),
  );
  const other = await backTranslate(texts, settings(), { seed: 2, cacheDir, log });
  assert.notDeepEqual(other, a);
  // Each setting is part of the key: one entry per (seed, temperature, ...).
  await backTranslate(texts, settings({ temperature: 0.5 }), { seed: 1, cacheDir, log });
  assert.equal(lines.filter((l) => l.includes('read from the cache')).length, 1);
  assert.equal(readdirSync(cacheDir).filter((n) => n.endsWith('.json')).length, 3);
});

test('a run with back-translation resumes exactly, its round trips read from the cache beside the runs folder', {
  timeout: 300_000,
}, async () => {
  const work = join(dir, 'work');
  mkdirSync(work);
  const plain = writeTinyRun(work);
  const config = join(work, 'bt.finetune.yaml');
  const augment = `  augment:\n    back_translation: {via: ../via, back: ../back, n_aug: 1, batch_size: 32, max_new_tokens: 6}\n`;
  writeFileSync(config, readFileSync(plain, 'utf8').replace('  max_length: 32\n', `  max_length: 32\n${augment}`));
  const whole = join(work, 'runs', 'whole');
  const resumed = join(work, 'runs', 'resumed');
  assert.equal((await trainFromConfig(config, whole, { threads: 1 })).outcome, 'completed');
  const report = JSON.parse(readFileSync(join(whole, 'data-report.json'), 'utf8'));
  assert.equal(report.augment.before, 128);
  assert.ok(report.augment.after > 128, `${report.augment.after} rows`);
  assert.match(report.augment.methods[0], /^back-translation \(n_aug 1, temperature 1\)/);
  assert.match(readFileSync(join(whole, 'engine.log'), 'utf8'), /back-translation: 128 texts × 1 round trips/);
  await trainUntilStopped(config, resumed, 20);
  assert.equal(await resumeRun(resumed, { threads: 1 }), 'completed');
  const log = readFileSync(join(resumed, 'engine.log'), 'utf8');
  assert.equal(log.split('read from the cache').length - 1, 2, 'both starts of the resumed run read the cache');
  assert.ok(readdirSync(join(work, 'cache', 'back-translation')).length > 0);
  const want = lossByStep(readEvents(whole));
  const got = lossByStep(readEvents(resumed));
  assert.equal(got.size, want.size);
  for (const [step, loss] of want) assert.equal(got.get(step), loss, `step ${step} loss`);
  const a = readSafetensors(join(whole, 'final', 'model.safetensors')).tensors;
  const b = readSafetensors(join(resumed, 'final', 'model.safetensors')).tensors;
  for (const [name, t] of a) assert.deepEqual(b.get(name)?.data, t.data, `${name} after resume`);
});
