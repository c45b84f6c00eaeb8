import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Seq2SeqGenerationOptions } from '../../../src/engine/inference/seq2seq-model.js';
import { seq2seqTaskOf } from '../../../src/engine/inference/seq2seq-predict.js';
import { text2text } from '../../../src/engine/serve/text2text.js';

/**
 * The /predict pipeline of encoder-decoders, over a stand-in generate that echoes what it was given:
 * the prefix goes in front of every input, summarization answers `summary_text`, a single input a
 * one-element list (as SummarizationPipeline returns), and a batch whose requests ask different
 * max_new_tokens runs one generate per value.
 */
test('summarization: prefix, summary_text, single vs list, one generate per max_new_tokens', async () => {
  const calls: { sources: string[]; o: Seq2SeqGenerationOptions | undefined }[] = [];
  const model = {
    async generate(sources: readonly (string | readonly number[])[], o?: Seq2SeqGenerationOptions) {
      calls.push({ sources: sources as string[], o });
      return sources.map((s) => ({
        ids: [],
        text: `<${String(s)}|${o?.maxNewTokens ?? '-'}>`,
        finishReason: 'stop' as const,
      }));
    },
  };
  const pipeline = text2text(model, { task: 'summarization', prefix: 'summarize: ' });
  const single = pipeline.parse({ inputs: 'a long text' });
  const [out] = await pipeline.run(single.inputs);
  assert.deepEqual(single.format(out as string), [{ summary_text: '<summarize: a long text|->' }]);

  const a = pipeline.parse({ inputs: ['x', 'y'], parameters: { max_new_tokens: 5 } });
  const b = pipeline.parse({ inputs: ['z'] });
  calls.length = 0;
  // What the dynamic batcher does with two requests waiting together.
  const results = await pipeline.run([...a.inputs, ...b.inputs]);
  assert.deepEqual(results, ['<summarize: x|5>', '<summarize: y|5>', '<summarize: z|->']);
  assert.deepEqual(
    calls.map((c) => [c.sources, c.o]),
    [
      [['summarize: x', 'summarize: y'], { maxNewTokens: 5 }],
      [['summarize: z'], {}],
    ],
  );
  assert.deepEqual(a.format(results[0] as string), { summary_text: '<summarize: x|5>' });
  assert.throws(
    () => pipeline.parse({ inputs: 'x', parameters: { max_new_tokens: -1 } }),
    /max_new_tokens must be an integer >= 0/,
  );
});

test("a bare folder's task and prefix come from config.json's finetuning_task and prefix (an export's)", () => {
  const dir = mkdtempSync(join(tmpdir(), 'seq2seq-task-'));
  try {
    writeFileSync(
      join(dir, 'config.json'),
      JSON.stringify({ model_type: 't5', finetuning_task: 'summarization', prefix: 'summarize: ' }),
    );
    assert.deepEqual(seq2seqTaskOf(dir), { task: 'summarization', prefix: 'summarize: ' });
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: 't5' }));
    assert.deepEqual(seq2seqTaskOf(dir), { task: 'translation', prefix: '' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
