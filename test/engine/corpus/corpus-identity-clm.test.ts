import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { tokenizedCorpus } from '../../../src/engine/corpus/build.js';
import { selectTexts } from '../../../src/engine/corpus/select.js';
import { prepareData } from '../../../src/engine/data/prepare.js';
import { encodeTexts, lmEosId } from '../../../src/engine/tasks/causal-lm/recipe.js';
import { lmCorpusExamples } from '../../../src/engine/tasks/causal-lm/streamed.js';
import { TASKS } from '../../../src/engine/tasks/registry.js';
import { Tokenizer } from '../../../src/engine/tokenize/index.js';
import { applyDefaults } from '../../../src/shared/config-validate.js';
import { toJsonl } from '../../fixtures/datasets.js';
import { patternedSentences, writeTinyGpt2 } from '../../fixtures/tiny-gpt2.js';
import { request } from './helpers.js';

/**
 * A streamed causal-LM text corpus gives exactly encodeTexts' examples (run_clm.py's recipe):
 * texts truncated to max_length and those under 2 tokens dropped, or with data.packing the texts
 * joined by EOS and cut into blocks, the last kept when it predicts a token.
 */
let dir = '';
let model = '';
let file = '';

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'corpus-identity-clm-'));
  model = join(dir, 'model');
  mkdirSync(model);
  const sentences = patternedSentences(90, 3);
  writeTinyGpt2(model, sentences);
  // Duplicates, a one-token text, and texts long enough to be cut.
  const texts = [...sentences, ...sentences.slice(0, 10), 'a', sentences.slice(0, 6).join(' ')];
  file = join(dir, 'corpus.jsonl');
  writeFileSync(file, toJsonl(texts.map((text) => ({ text }))));
});

after(() => rmSync(dir, { recursive: true, force: true }));

for (const packing of [false, true]) {
  for (const split of [undefined, 0.25]) {
    test(`streamed and in-memory causal-LM examples are identical: packing ${packing}, validation_split ${split}`, {
      timeout: 120_000,
    }, async () => {
      const config = applyDefaults({
        model,
        task: 'causal-lm',
        data: { train: file, format: 'text', max_length: 12, packing, ...(split ? { validation_split: split } : {}) },
      });
      const d = config.data;
      const seed = 3;
      const tokenizer = Tokenizer.fromFolder(model);
      const o = { maxLength: 12, packing, eos: lmEosId(tokenizer, null) };
      const prepared = await prepareData(d, { task: 'causal-lm', format: TASKS['causal-lm'].data, baseDir: dir, seed });
      const built = await tokenizedCorpus(
        request(file, model, join(dir, 'cache'), { encoding: { maxLength: packing ? null : 12, blankAsEmpty: false } }),
      );
      const selection = selectTexts(built.corpus, {
        dedup: true,
        validationSplit: d.validation_split,
        seed,
      });
      for (const part of ['train', 'validation'] as const) {
        const memory = prepared[part].length > 0 ? encodeTexts(tokenizer, prepared[part], o) : [];
        const streamed = lmCorpusExamples(built.corpus, selection[part], o);
        assert.equal(streamed.count, memory.length, part);
        const all = streamed.examples(Array.from({ length: streamed.count }, (_, i) => i));
        assert.deepEqual(
          all.map((e) => e.inputIds),
          memory.map((e) => e.inputIds),
          part,
        );
        assert.deepEqual(
          all.map((_, i) => streamed.lengthOf(i)),
          all.map((e) => e.inputIds.length),
        );
      }
      built.corpus.close();
    });
  }
}
