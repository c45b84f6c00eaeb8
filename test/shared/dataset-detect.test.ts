import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { suggestTasks, type TaskSuggestion } from '../../src/shared/dataset-detect.js';
import { validationSibling } from '../../src/shared/guided-config.js';
import { findDatasetFiles, readDatasetPreview } from '../../src/shared/node/dataset-preview.js';
import { tempDir } from '../extension/helpers.js';
import { multiLabelRows, nerRows, scoreRows, sentimentRows, toJsonl } from '../fixtures/datasets.js';
import { squadRows } from '../fixtures/qa-datasets.js';
import { toyPairs } from '../fixtures/tiny-t5.js';

/**
 * Task and column detection for the guided New Fine-tune Config (src/shared/dataset-detect.ts):
 * one fixture file per task, read through the picker's own reader (dataset-preview.ts), with the
 * row shapes the engine reads (src/engine/data/records.ts) and the datasets on the Hub use (SST-2,
 * GLUE pairs, CoNLL-2003's ner_tags, SQuAD, TRL's prompt/completion and messages).
 */
async function suggest(t: TestContext, name: string, content: string, modelType?: string): Promise<TaskSuggestion[]> {
  const dir = tempDir(t, 'detect-');
  writeFileSync(join(dir, name), content);
  const preview = await readDatasetPreview(join(dir, name));
  assert.ok(preview, name);
  return suggestTasks(preview, modelType);
}

const brief = (s: TaskSuggestion | undefined) => s && { task: s.task, data: s.data, supported: s.support.supported };

test('string labels: text classification with the label set, or causal-lm first on a decoder', async (t) => {
  const rows = toJsonl(sentimentRows(30, 1));
  const [first, ...rest] = await suggest(t, 'train.jsonl', rows, 'bert');
  assert.deepEqual(brief(first), {
    task: 'text-classification',
    data: { text_column: 'text', label_column: 'label' },
    supported: true,
  });
  assert.deepEqual(first?.labels, ['negative', 'positive']);
  assert.equal(first?.labelKind, 'classes');
  assert.deepEqual(first?.metrics, ['accuracy', 'f1']);
  assert.equal(first?.reason, "2 labels in 'label', text in 'text'");
  assert.deepEqual(brief(rest.at(-1)), { task: 'masked-lm', data: { text_column: 'text' }, supported: true });
  // On GPT-2 the data still reads as a classification, which the engine does not train on it.
  const onGpt2 = await suggest(t, 'train.jsonl', rows, 'gpt2');
  assert.deepEqual(brief(onGpt2[0]), {
    task: 'causal-lm',
    data: { format: 'text', text_column: 'text' },
    supported: true,
  });
  assert.equal(onGpt2[1]?.task, 'text-classification');
  assert.match(onGpt2[1]?.support.reason ?? '', /text-classification is not trained on 'gpt2'/);
});

test('CSV with other column names, quoted fields and commas inside them', async (t) => {
  const csv = [
    'id,review,sentiment',
    '1,"Great, would buy again",pos',
    '2,"The ""best"" I had",pos',
    '3,Broke after a day,neg',
    '4,"Fine, nothing more",neutral',
  ].join('\r\n');
  const [first] = await suggest(t, 'reviews.csv', csv, 'roberta');
  assert.deepEqual(brief(first), {
    task: 'text-classification',
    data: { text_column: 'review', label_column: 'sentiment' },
    supported: true,
  });
  assert.deepEqual(first?.labels, ['neg', 'neutral', 'pos']);
});

test('non-integer numbers: regression; lists: multi-label', async (t) => {
  const [reg] = await suggest(t, 'scores.jsonl', toJsonl(scoreRows(20, 3)), 'bert');
  assert.equal(reg?.task, 'text-classification');
  assert.equal(reg?.labelKind, 'regression');
  assert.deepEqual(reg?.labels, []);
  assert.deepEqual(reg?.metrics, ['mse', 'pearson']);
  const [multi] = await suggest(t, 'tags.jsonl', toJsonl(multiLabelRows(20, 4)), 'bert');
  assert.equal(multi?.labelKind, 'multi-label');
  assert.deepEqual(multi?.labels, ['happy', 'travel']);
  assert.deepEqual(multi?.metrics, ['f1']);
});

test('TSV sentence pairs with integer labels (GLUE layout)', async (t) => {
  const tsv =
    'sentence1\tsentence2\tlabel\nA man plays.\tSomeone plays.\t1\nA cat sleeps.\tA dog runs.\t0\nIt rains.\tIt is wet.\t1\n';
  const [first] = await suggest(t, 'mrpc.tsv', tsv, 'bert');
  assert.deepEqual(first?.data, { text_column: 'sentence1', text_pair_column: 'sentence2', label_column: 'label' });
  assert.deepEqual(first?.labels, ['0', '1']);
});

test('an unnamed column of a few repeated short values is a label column', async (t) => {
  const rows = ['drama', 'comedy', 'drama', 'comedy', 'drama'].map((genre, i) => ({
    plot: `A long plot summary number ${i} with several words in it`,
    genre,
  }));
  const [first] = await suggest(t, 'films.jsonl', toJsonl(rows), 'bert');
  assert.deepEqual(first?.data, { text_column: 'plot', label_column: 'genre' });
});

test('tokens and tags (string tags, or CoNLL ner_tags ids): token classification', async (t) => {
  const [ner] = await suggest(t, 'ner.jsonl', toJsonl(nerRows(10, 5)), 'bert');
  assert.deepEqual(brief(ner), {
    task: 'token-classification',
    data: { tokens_column: 'tokens', tags_column: 'tags' },
    supported: true,
  });
  assert.deepEqual(ner?.labels, ['B-LOC', 'B-PER', 'O']);
  const conll = nerRows(10, 6).map((r, i) => ({
    id: String(i),
    tokens: r.tokens,
    ner_tags: r.tags.map((tag) => ['O', 'B-PER', 'B-LOC'].indexOf(tag)),
  }));
  const [ids] = await suggest(t, 'conll.jsonl', toJsonl(conll), 'bert');
  assert.deepEqual(ids?.data, { tokens_column: 'tokens', tags_column: 'ner_tags' });
  assert.deepEqual(ids?.labels, ['0', '1', '2']);
});

test('SQuAD fields: question answering, before language modelling on the contexts', async (t) => {
  const [qa, ...rest] = await suggest(t, 'squad.jsonl', toJsonl(squadRows(5, 7)), 'distilbert');
  assert.deepEqual(brief(qa), { task: 'question-answering', data: {}, supported: true });
  assert.deepEqual(qa?.metrics, ['exact_match', 'f1']);
  assert.ok(rest.every((s) => s.task !== 'text-classification'));
});

test("TRL's prompt/completion and messages rows: causal-lm with that data.format", async (t) => {
  const pc = toJsonl([{ prompt: 'Translate: cat', completion: ' chat' }]);
  assert.deepEqual(brief((await suggest(t, 'pc.jsonl', pc, 'qwen2'))[0]), {
    task: 'causal-lm',
    data: { format: 'prompt-completion' },
    supported: true,
  });
  const chat = toJsonl([
    {
      messages: [
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: 'hello' },
      ],
    },
  ]);
  const [messages, ...others] = await suggest(t, 'chat.jsonl', chat, 'llama');
  assert.deepEqual(messages?.data, { format: 'messages' });
  assert.match(messages?.reason ?? '', /chat fine-tuning/);
  assert.deepEqual(others, []);
  // On an encoder the chat data still reads as chat, marked as not trained there.
  assert.equal((await suggest(t, 'chat.jsonl', chat, 'bert'))[0]?.support.supported, false);
});

test('text alone: causal-lm on a decoder or an unknown model, masked-lm on an encoder', async (t) => {
  const text = toJsonl([{ text: 'The first paragraph.' }, { text: 'The second one.' }]);
  assert.deepEqual(brief((await suggest(t, 'corpus.jsonl', text, 'gpt2'))[0]), {
    task: 'causal-lm',
    data: { format: 'text', text_column: 'text' },
    supported: true,
  });
  assert.equal((await suggest(t, 'corpus.jsonl', text))[0]?.task, 'causal-lm');
  const [mlm] = await suggest(t, 'corpus.jsonl', text, 'electra');
  assert.deepEqual(brief(mlm), { task: 'masked-lm', data: { text_column: 'text' }, supported: true });
  assert.deepEqual(mlm?.metrics, ['perplexity', 'accuracy']);
});

test("HF translation rows: translation with the object's two languages, first on T5, last on BERT", async (t) => {
  const rows = toJsonl(toyPairs(6, 2).map((p) => ({ id: 'x', translation: { en: p.source, de: p.target } })));
  const [first, ...rest] = await suggest(t, 'wmt.jsonl', rows, 't5');
  assert.deepEqual(brief(first), {
    task: 'translation',
    data: { source_lang: 'en', target_lang: 'de' },
    supported: true,
  });
  assert.equal(first?.reason, "'translation' objects of 'en' and 'de' texts: translation from en to de");
  assert.deepEqual(rest, []);
  const onBert = await suggest(t, 'wmt.jsonl', rows, 'bert');
  assert.deepEqual(brief(onBert.at(-1)), {
    task: 'translation',
    data: { source_lang: 'en', target_lang: 'de' },
    supported: false,
  });
  assert.match(onBert.at(-1)?.support.reason ?? '', /translation takes t5, mt5/);
  // A CSV field holding the object as JSON reads the same (the engine parses it likewise).
  const csv = [
    'translation',
    ...toyPairs(3, 3).map((p) => `"${JSON.stringify({ fr: p.source, ro: p.target }).replaceAll('"', '""')}"`),
  ];
  assert.deepEqual((await suggest(t, 'wmt.csv', csv.join('\n'), 'mt5'))[0]?.data, {
    source_lang: 'fr',
    target_lang: 'ro',
  });
  // Objects whose languages differ between rows, or with three, are no pair.
  const mixed = toJsonl([{ translation: { en: 'a b', de: 'c d' } }, { translation: { en: 'a b', fr: 'c d' } }]);
  assert.ok((await suggest(t, 'mixed.jsonl', mixed, 't5')).every((s) => s.task !== 'translation'));
  const three = toJsonl([{ translation: { en: 'a', de: 'b', fr: 'c' } }]);
  assert.deepEqual(await suggest(t, 'three.jsonl', three, 't5'), []);
});

test('source/target and src/tgt columns: translation; document/summary, article/highlights: summarization', async (t) => {
  const pairs = toyPairs(5, 4);
  const translation = await suggest(t, 'pairs.jsonl', toJsonl(pairs), 't5');
  assert.deepEqual(brief(translation[0]), {
    task: 'translation',
    data: { source_column: 'source', target_column: 'target' },
    supported: true,
  });
  // The other readings of two text columns (a language model on one of them) come after, unsupported on T5.
  assert.ok(translation.slice(1).every((s) => !s.support.supported));
  const tsv = `src\ttgt\n${pairs.map((p) => `${p.source}\t${p.target}`).join('\n')}\n`;
  assert.deepEqual((await suggest(t, 'pairs.tsv', tsv, 'mt5'))[0]?.data, {
    source_column: 'src',
    target_column: 'tgt',
  });
  const xsum = toJsonl([
    {
      id: '1',
      document: 'The council met on Monday and voted to repair the old bridge.',
      summary: 'Bridge repair approved.',
    },
    { id: '2', document: 'Heavy rain closed three roads in the valley overnight.', summary: 'Rain closes roads.' },
  ]);
  const [sum] = await suggest(t, 'xsum.jsonl', xsum, 't5');
  assert.deepEqual(brief(sum), {
    task: 'summarization',
    data: { source_column: 'document', target_column: 'summary' },
    supported: true,
  });
  assert.equal(sum?.reason, "texts in 'document' and 'summary': summarization of each 'document' into its 'summary'");
  const cnn = toJsonl([{ article: 'A long news article about the weather today.', highlights: 'Weather news.' }]);
  assert.deepEqual((await suggest(t, 'cnn.jsonl', cnn, 't5'))[0]?.data, {
    source_column: 'article',
    target_column: 'highlights',
  });
  // Without a model, every suggestion counts as supported and the data's order holds.
  assert.equal((await suggest(t, 'cnn.jsonl', cnn))[0]?.task, 'summarization');
});

test('no text at all: nothing is suggested', async (t) => {
  assert.deepEqual(await suggest(t, 'numbers.csv', 'a,b\n1,2\n3,4\n', 'bert'), []);
});

test('the dataset files of a workspace, a validation file beside the training file', async (t) => {
  const dir = tempDir(t, 'datasets-');
  for (const f of [
    'data/train.jsonl',
    'data/validation.jsonl',
    'b.csv',
    'c.tsv',
    'notes.txt',
    'node_modules/x.jsonl',
    '.hidden/y.jsonl',
  ]) {
    const path = join(dir, f);
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, '{"text":"a"}\n');
  }
  assert.deepEqual(
    (await findDatasetFiles([dir])).map((p) => p.slice(dir.length + 1)),
    ['b.csv', 'c.tsv', 'data/train.jsonl', 'data/validation.jsonl'],
  );
  const files = ['data/train.jsonl', 'data/validation.jsonl', 'sst2_train.csv', 'sst2_dev.csv', 'x.jsonl'];
  assert.equal(validationSibling('data/train.jsonl', files), 'data/validation.jsonl');
  assert.equal(validationSibling('sst2_train.csv', files), 'sst2_dev.csv');
  assert.equal(validationSibling('x.jsonl', files), undefined);
  assert.equal(validationSibling('data/train.jsonl', ['data/train.jsonl']), undefined);
});

test('a JSONL preview reports the first line that is not an object', async (t) => {
  const dir = tempDir(t, 'preview-');
  writeFileSync(join(dir, 'x.jsonl'), '{"text":"a"}\n[1,2]\n{"text":"b"}\n');
  const preview = await readDatasetPreview(join(dir, 'x.jsonl'));
  assert.equal(preview?.badLine, 2);
  assert.equal(preview?.rows.length, 2);
  assert.equal(await readDatasetPreview(join(dir, 'x.txt')), undefined);
});
