import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { nodeConfigFs } from '../../src/engine/commands/validate.js';
import { type Diagnostic, validateConfig } from '../../src/shared/config-validate.js';
import { r, writeUnder } from './helpers.js';

/**
 * The on-disk checks of translation and summarization configs: the source/target columns and the
 * languages of `translation` rows are in the data file, and a T5 model without data.source_prefix
 * is warned about (run_translation.py / run_summarization.py warn so), each on its key's line.
 */
let dir = '';

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'finetune-seq2seq-config-'));
  const model = (name: string, config: Record<string, unknown>) => {
    writeUnder(dir, `${name}/config.json`, JSON.stringify(config));
    writeUnder(dir, `${name}/model.safetensors`, '');
    writeUnder(dir, `${name}/tokenizer.json`, '{}');
  };
  model('t5', { architectures: ['T5ForConditionalGeneration'], model_type: 't5', num_layers: 2 });
  model('bart', { architectures: ['BartForConditionalGeneration'], model_type: 'bart' });
  writeUnder(dir, 'pairs.jsonl', '{"en": "the cat", "de": "die Katze"}\n{"en": "a dog", "de": "ein Hund"}\n');
  writeUnder(dir, 'wmt.jsonl', '{"translation": {"en": "the cat", "de": "die Katze"}}\n');
});

after(() => rmSync(dir, { recursive: true, force: true }));

const check = (text: string): Promise<Diagnostic[]> =>
  validateConfig(text, 'yaml', { fs: nodeConfigFs, configDir: dir });
const brief = (ds: Diagnostic[]) => ds.map((d) => [d.severity, d.code, d.range]);

test('source and target columns found: no diagnostics; a missing one is an error on its value, with the fix', async () => {
  const ok =
    "model: ./t5\ntask: translation\ndata:\n  train: pairs.jsonl\n  source_column: en\n  target_column: de\n  source_prefix: 'translate English to German: '\n";
  assert.deepEqual(await check(ok), []);
  const ds = await check(ok.replace('target_column: de', 'target_column: ge'));
  assert.deepEqual(brief(ds), [['error', 'column-not-found', r(5, 17, 5, 19)]]);
  assert.equal(ds[0]?.message, "Column 'ge' not found in 'pairs.jsonl'; its columns are: en, de.");
  assert.equal(ds[0]?.fixes?.[0]?.title, "Change to 'de'");
});

test('translation rows: both languages are in the "translation" object, else an error on the language key', async () => {
  const text = (source: string, train = 'wmt.jsonl') =>
    `model: ./t5\ntask: translation\ndata:\n  train: ${train}\n  source_lang: ${source}\n  target_lang: de\n  source_prefix: 'translate: '\n`;
  assert.deepEqual(await check(text('en')), []);
  const ds = await check(text('enn'));
  assert.deepEqual(brief(ds), [['error', 'translation-lang', r(4, 15, 4, 18)]]);
  assert.equal(
    ds[0]?.message,
    `Language 'enn' not found in the "translation" object of row 1 of 'wmt.jsonl'; its languages are: en, de.`,
  );
  assert.equal(ds[0]?.fixes?.[0]?.title, "Change to 'en'");
  const flat = await check(text('en', 'pairs.jsonl'));
  assert.deepEqual(brief(flat), [['error', 'translation-rows', r(3, 9, 3, 20)]]);
  assert.match(flat[0]?.message ?? '', /row 1 of 'pairs.jsonl' has no "translation" object \(its fields: en, de\)/);
});

test('a T5 model without data.source_prefix: a warning on data, for translation and summarization; not for BART', async () => {
  const text = (model: string, task: string) =>
    `model: ./${model}\ntask: ${task}\ndata:\n  train: pairs.jsonl\n  source_column: en\n  target_column: de\n`;
  const ds = await check(text('t5', 'translation'));
  assert.deepEqual(brief(ds), [['warning', 't5-source-prefix', r(2, 0, 2, 4)]]);
  assert.equal(
    ds[0]?.message,
    "T5 was trained with a task prefix: set data.source_prefix (e.g. 'translate English to German: '), as run_translation.py warns when a t5 model has none.",
  );
  assert.match((await check(text('t5', 'summarization')))[0]?.message ?? '', /e\.g\. 'summarize: '/);
  assert.deepEqual(await check(text('bart', 'translation')), []);
  // An empty prefix is a choice, not an omission.
  assert.deepEqual(await check(`${text('t5', 'translation')}  source_prefix: ''\n`), []);
});
