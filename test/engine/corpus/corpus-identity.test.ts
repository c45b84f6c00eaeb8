import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { tokenizedCorpus } from '../../../src/engine/corpus/build.js';
import { selectTexts } from '../../../src/engine/corpus/select.js';
import { prepareData } from '../../../src/engine/data/prepare.js';
import { type TensorData, tensorNumbers } from '../../../src/engine/graph/types.js';
import { encodeMlmTexts } from '../../../src/engine/tasks/masked-lm/blocks.js';
import { collateMlm, type MlmCollateOptions } from '../../../src/engine/tasks/masked-lm/masking.js';
import { mlmCorpusExamples } from '../../../src/engine/tasks/masked-lm/streamed.js';
import { TASKS } from '../../../src/engine/tasks/registry.js';
import { Tokenizer } from '../../../src/engine/tokenize/index.js';
import { epochBatches } from '../../../src/engine/train/batching.js';
import { applyDefaults } from '../../../src/shared/config-validate.js';
import { FIXTURE_SENTENCES, sentimentRows, toJsonl } from '../../fixtures/datasets.js';
import { writeTinyModel } from '../../fixtures/tiny-models.js';
import { request } from './helpers.js';

/**
 * A streamed masked-LM corpus gives exactly the examples of the in-memory pipeline (prepareData,
 * then encodeMlmTexts): the same cleaning, the same exact dedup, the same validation split, the
 * same blocks or lines, and so, through the trainer's batching and DataCollatorForLanguageModeling's
 * masking, the same batches, tensor for tensor.
 */
let dir = '';
let model = '';
let file = '';

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'corpus-identity-'));
  model = join(dir, 'model');
  mkdirSync(model);
  writeTinyModel(model, 'bert', FIXTURE_SENTENCES);
  // Duplicates (sentimentRows repeats itself), whitespace to collapse, HTML, text that NFC changes,
  // a text cleaning empties (or leaves blank), and long texts that line_by_line truncates.
  const texts = [
    ...sentimentRows(120, 4).map((r) => r.text),
    '  spaced   out\ttext  ',
    'caf\u0065\u0301 au lait',
    '<p>html &amp; entities</p>',
    // Control characters only: strip_control leaves a space, which whitespace collapsing empties.
    '\u0001 \u0001',
    sentimentRows(12, 5)
      .map((r) => r.text)
      .join(' '),
  ];
  file = join(dir, 'corpus.jsonl');
  writeFileSync(file, toJsonl(texts.map((text) => ({ text }))));
});

after(() => rmSync(dir, { recursive: true, force: true }));

const CASES = [
  { name: 'blocks', data: {} },
  { name: 'line by line', data: { line_by_line: true } },
  { name: 'blocks, validation split, html stripped', data: { validation_split: 0.2, clean: { strip_html: true } } },
  {
    name: 'line by line, no dedup, no whitespace collapse',
    data: { line_by_line: true, clean: { dedup: false, collapse_whitespace: false } },
  },
];

for (const c of CASES) {
  test(`streamed and in-memory masked-LM examples are identical: ${c.name}`, { timeout: 120_000 }, async () => {
    const config = applyDefaults({ model, task: 'masked-lm', data: { train: file, max_length: 16, ...c.data } });
    const d = config.data;
    const seed = 11;
    const tokenizer = Tokenizer.fromFolder(model);
    const o = { maxLength: 16, lineByLine: d.line_by_line };
    const prepared = await prepareData(d, { task: 'masked-lm', format: TASKS['masked-lm'].data, baseDir: dir, seed });
    const memory = {
      train: encodeMlmTexts(tokenizer, prepared.train, o),
      validation: prepared.validation.length > 0 ? encodeMlmTexts(tokenizer, prepared.validation, o) : [],
    };

    const built = await tokenizedCorpus(
      request(file, model, join(dir, 'cache'), {
        clean: d.clean,
        encoding: { maxLength: d.line_by_line ? 16 : null, blankAsEmpty: d.line_by_line },
      }),
    );
    const selection = selectTexts(built.corpus, {
      dedup: d.clean.dedup,
      validationSplit: d.validation_split,
      seed,
    });
    const streamed = {
      train: mlmCorpusExamples(built.corpus, selection.train, o),
      validation: mlmCorpusExamples(built.corpus, selection.validation, o),
    };
    assert.equal(streamed.train.count, memory.train.length);
    assert.equal(selection.validation.length > 0 ? streamed.validation.count : 0, memory.validation.length);
    const all = (n: number) => Array.from({ length: n }, (_, i) => i);
    const fromCache = streamed.train.examples(all(streamed.train.count));
    fromCache.forEach((e, i) => {
      assert.deepEqual(e.inputIds, memory.train[i]?.inputIds, `example ${i}`);
      assert.deepEqual(e.specialMask, memory.train[i]?.specialMask, `example ${i}`);
    });
    // The held-out examples too, not only their count.
    if (memory.validation.length > 0)
      streamed.validation.examples(all(streamed.validation.count)).forEach((e, i) => {
        assert.deepEqual(e.inputIds, memory.validation[i]?.inputIds, `validation example ${i}`);
        assert.deepEqual(e.specialMask, memory.validation[i]?.specialMask, `validation example ${i}`);
      });

    // The batches of an epoch, shuffled by the trainer, masked with whole words.
    const collate: MlmCollateOptions = {
      probability: 0.3,
      maskId: tokenizer.maskTokenId as number,
      randomVocab: tokenizer.vocabSize,
      wholeWord: true,
      padId: 0,
      withTokenTypes: true,
      seed,
    };
    const order = { batchSize: 4, stepExamples: 4, shuffle: true, groupByLength: false, seed, epoch: 2 };
    const memoryBatches = epochBatches(memory.train, order, (e) => e.inputIds.length);
    const indexBatches = epochBatches(all(streamed.train.count), order, streamed.train.lengthOf);
    assert.equal(indexBatches.length, memoryBatches.length);
    memoryBatches.forEach((examples, b) => {
      const at = { epoch: 2, batch: b };
      const want = collateMlm(examples, at, collate);
      const got = collateMlm(streamed.train.examples(indexBatches[b] as number[]), at, collate);
      for (const name of Object.keys(want)) {
        assert.deepEqual(
          tensorNumbers(got[name] as TensorData),
          tensorNumbers(want[name] as TensorData),
          `batch ${b} ${name}`,
        );
      }
    });
    built.corpus.close();
  });
}
