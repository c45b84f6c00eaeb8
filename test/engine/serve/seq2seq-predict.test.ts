import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type LoadedSeq2Seq, loadSeq2Seq } from '../../../src/engine/inference/seq2seq-model.js';
import { loadServedModel, type ServedModel } from '../../../src/engine/serve/served-model.js';
import { metricValue, predict, startServer, writeTinySeq2SeqRun } from './helpers.js';

/**
 * POST /predict on an encoder-decoder: transformers' TranslationPipeline / SummarizationPipeline
 * shapes (`[{"translation_text"}]` for one string, one record per input for a list), the run's
 * source_prefix in front, batched through the dynamic batcher with the texts each source gets when
 * generated alone (greedy, random tiny T5: the text is whatever it is, the comparison is exact).
 */
let dir: string;
let translator: ServedModel;
let summarizer: ServedModel;
let direct: LoadedSeq2Seq;

const SOURCES = ['red cat sees', 'big dog eats blue cat', 'tiny dog', 'blue cat sees red dog big'];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'serve-seq2seq-'));
  const translation = writeTinySeq2SeqRun(join(dir, 'translate'), 'translation', 'translate: ');
  const summarization = writeTinySeq2SeqRun(join(dir, 'summarize'), 'summarization', 'summarize: ');
  translator = await loadServedModel(translation, 'translator', { threads: 1 });
  summarizer = await loadServedModel(summarization, 'summarizer', { threads: 1 });
  direct = await loadSeq2Seq(translation, { threads: 1 });
});

after(async () => {
  await Promise.all([translator?.dispose(), summarizer?.dispose(), direct?.dispose()]);
  rmSync(dir, { recursive: true, force: true });
});

test('seq2seq predict: one string -> [{translation_text}] equal to greedy generate on the prefixed source', async () => {
  const server = await startServer(translator);
  try {
    const reply = await predict(server.url, { inputs: SOURCES[0], parameters: { max_new_tokens: 6 } });
    assert.equal(reply.status, 200);
    const [expected] = await direct.generate([`translate: ${SOURCES[0]}`], { maxNewTokens: 6 });
    assert.deepEqual(reply.body, [{ translation_text: expected?.text }]);
    // Not the unprefixed source's text (the check can tell them apart on this model).
    const [bare] = await direct.generate([SOURCES[0] as string], { maxNewTokens: 6 });
    assert.notEqual(bare?.text, expected?.text);
  } finally {
    await server.close();
  }
});

test('seq2seq predict: concurrent requests share one engine batch and get what they get alone', async () => {
  const server = await startServer(translator, { maxBatch: SOURCES.length, maxWaitMs: 3_600_000 });
  try {
    const together = await Promise.all(
      SOURCES.map((s) => predict(server.url, { inputs: s, parameters: { max_new_tokens: 8 } })),
    );
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    assert.equal(metricValue(metrics, 'finetune_serve_batch_size_count'), 1, 'one engine run for every request');
    const texts = new Set<string | undefined>();
    for (const [i, source] of SOURCES.entries()) {
      const [alone] = await direct.generate([`translate: ${source}`], { maxNewTokens: 8 });
      assert.deepEqual(together[i]?.body, [{ translation_text: alone?.text }], source);
      texts.add(alone?.text);
    }
    assert.ok(texts.size > 1, 'the sources give different texts, so a mixed-up row would show');
  } finally {
    await server.close();
  }
});

test('seq2seq predict: a list answers one record per input; mixed max_new_tokens in one batch', async () => {
  const server = await startServer(translator, { maxBatch: 8, maxWaitMs: 3_600_000 });
  try {
    // A list of 4 and a single input with another length: 5 inputs, under max-batch 8; a third
    // request fills the batch so it runs.
    const [list, short, filler] = await Promise.all([
      predict(server.url, { inputs: SOURCES, parameters: { max_new_tokens: 5 } }),
      predict(server.url, { inputs: SOURCES[1], parameters: { max_new_tokens: 2 } }),
      predict(server.url, { inputs: SOURCES.slice(0, 3) }),
    ]);
    assert.equal(list.status, 200);
    const expected = await direct.generate(
      SOURCES.map((s) => `translate: ${s}`),
      { maxNewTokens: 5 },
    );
    assert.deepEqual(
      list.body,
      expected.map((g) => ({ translation_text: g.text })),
    );
    const [two] = await direct.generate([`translate: ${SOURCES[1]}`], { maxNewTokens: 2 });
    assert.deepEqual(short.body, [{ translation_text: two?.text }]);
    assert.ok(two && two.ids.length <= 2);
    assert.equal((filler.body as unknown[]).length, 3);
  } finally {
    await server.close();
  }
});

test('seq2seq predict: a summarization run answers summary_text with its own prefix', async () => {
  const server = await startServer(summarizer);
  try {
    const reply = await predict(server.url, { inputs: SOURCES[2], parameters: { max_new_tokens: 4 } });
    const [expected] = await direct.generate([`summarize: ${SOURCES[2]}`], { maxNewTokens: 4 });
    assert.deepEqual(reply.body, [{ summary_text: expected?.text }]);
  } finally {
    await server.close();
  }
});

test('seq2seq predict: bad parameters get 400 naming the parameter', async () => {
  const server = await startServer(translator);
  try {
    for (const [parameters, param] of [
      [{ max_new_tokens: 0 }, 'parameters.max_new_tokens'],
      [{ max_new_tokens: 'ten' }, 'parameters.max_new_tokens'],
      [{ num_beams: 4 }, 'parameters.num_beams'],
    ] as const) {
      const reply = await predict(server.url, { inputs: 'red cat', parameters });
      assert.equal(reply.status, 400, JSON.stringify(parameters));
      assert.equal((reply.body as { error: { param: string } }).error.param, param);
    }
    const notText = await predict(server.url, { inputs: 3 });
    assert.equal(notText.status, 400);
  } finally {
    await server.close();
  }
});
