import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  checkPlaygroundInput,
  completionChunk,
  formatMs,
  isPlaygroundResult,
  type PlaygroundResult,
  predictResult,
  resultMarkdown,
  resultSummary,
  serveRequest,
  utf16Offset,
} from '../../src/shared/playground.js';

/**
 * The Playground's requests to `finetune serve` and its answers turned into results: the request
 * bodies of README "Serving", the pipeline shapes of transformers (text classification
 * [{label, score}], token classification {entity_group, score, word, start, end}, QA
 * {answer, score, start, end}), and code-point offsets (Python's str indices, which the server
 * reports) turned into UTF-16 ones.
 */

test('requests: /predict in the Inference API shape, /v1/completions streamed for a causal LM', () => {
  assert.deepEqual(serveRequest({ task: 'text-classification', text: 'great film' }), {
    path: '/predict',
    body: { inputs: 'great film', parameters: { top_k: null } },
  });
  assert.deepEqual(serveRequest({ task: 'token-classification', text: 'Ada in Paris' }), {
    path: '/predict',
    body: { inputs: 'Ada in Paris' },
  });
  assert.deepEqual(serveRequest({ task: 'question-answering', question: 'Who?', context: 'Ada wrote.' }), {
    path: '/predict',
    body: { inputs: { question: 'Who?', context: 'Ada wrote.' } },
  });
  assert.deepEqual(serveRequest({ task: 'causal-lm', prompt: 'the cat', maxTokens: 20, temperature: 0 }), {
    path: '/v1/completions',
    body: { prompt: 'the cat', max_tokens: 20, temperature: 0, stream: true },
  });
  // text2text-generation.ts: max_new_tokens in parameters, or the model's generation_config.json length.
  assert.deepEqual(serveRequest({ task: 'translation', text: 'the cat', maxTokens: 12 }), {
    path: '/predict',
    body: { inputs: 'the cat', parameters: { max_new_tokens: 12 } },
  });
  assert.deepEqual(serveRequest({ task: 'summarization', text: 'a long text' }), {
    path: '/predict',
    body: { inputs: 'a long text' },
  });
});

test('inputs are checked before they reach a server, naming what is wrong', () => {
  assert.equal(checkPlaygroundInput({ task: 'text-classification', text: 'x' }), undefined);
  assert.equal(checkPlaygroundInput({ task: 'text-classification', text: '  ' }), 'the text must not be empty');
  assert.equal(
    checkPlaygroundInput({ task: 'question-answering', question: 'q', context: '' }),
    'the context must not be empty',
  );
  assert.equal(
    checkPlaygroundInput({ task: 'causal-lm', prompt: 'a', maxTokens: 0, temperature: 0 }),
    'max tokens must be a whole number of at least 1',
  );
  assert.equal(
    checkPlaygroundInput({ task: 'causal-lm', prompt: 'a', maxTokens: 4, temperature: 3 }),
    'the temperature must be a number from 0 to 2',
  );
  assert.equal(checkPlaygroundInput({ task: 'summarization', text: 'a' }), undefined, 'max new tokens may be left out');
  assert.equal(
    checkPlaygroundInput({ task: 'translation', text: 'a', maxTokens: 4097 }),
    'max new tokens must be a whole number from 1 to 4096',
  );
  assert.equal(checkPlaygroundInput({ task: 'translation', text: ' ', maxTokens: 8 }), 'the text must not be empty');
  assert.equal(checkPlaygroundInput({ task: 'masked-lm', text: 'a' }), 'no playground for task "masked-lm"');
  assert.equal(checkPlaygroundInput('text'), 'the input must be an object');
});

test('code-point offsets become UTF-16 offsets (an emoji is one code point, two UTF-16 units)', () => {
  const text = '😀 Ada in Paris';
  // Python: text.index('Ada') == 2; JavaScript: text.indexOf('Ada') == 3.
  assert.equal(utf16Offset(text, 2), 3);
  assert.equal(utf16Offset(text, 0), 0);
  assert.equal(utf16Offset(text, 14), text.length, 'the end of the text');
  assert.equal(utf16Offset(text, 99), text.length, 'clamped');
});

test('token classification: the pipeline entities, with offsets into the JavaScript string', () => {
  const text = '😀 Ada in Paris';
  const result = predictResult(
    { task: 'token-classification', text },
    [
      { entity_group: 'PER', score: 0.9, word: 'ada', start: 2, end: 5 },
      { entity_group: 'LOC', score: 0.8, word: 'paris', start: 9, end: 14 },
    ],
    0,
  );
  assert.equal(result.task, 'token-classification');
  if (result.task !== 'token-classification') return;
  assert.deepEqual(
    result.entities.map((e) => text.slice(e.start, e.end)),
    ['Ada', 'Paris'],
  );
  assert.ok(isPlaygroundResult(result));
  assert.equal(resultSummary(result), 'ada (PER), paris (LOC)');
  assert.throws(
    () => predictResult({ task: 'token-classification', text }, [{ entity: 'B-PER', score: 1 }], 0),
    /token classification with an unexpected shape/,
  );
});

test('text classification and QA results; a summary and a Markdown table for the hover', () => {
  const labels = predictResult(
    { task: 'text-classification', text: 'great' },
    [
      { label: 'positive', score: 0.75 },
      { label: 'negative', score: 0.25 },
    ],
    0,
  );
  assert.deepEqual(labels, {
    task: 'text-classification',
    labels: [
      { label: 'positive', score: 0.75 },
      { label: 'negative', score: 0.25 },
    ],
  });
  assert.equal(resultSummary(labels), 'positive 75.0%');
  assert.equal(
    resultMarkdown(labels, 'run-1/final'),
    '**Fine-tune prediction** · run\\-1/final\n\n| label | score |\n|---|---:|\n| positive | 75.0% |\n| negative | 25.0% |',
  );
  const context = 'née à Paris';
  const qa = predictResult(
    { task: 'question-answering', question: 'Où?', context },
    { answer: 'Paris', score: 0.5, start: 6, end: 11 },
    0,
  );
  assert.ok(qa.task === 'question-answering' && context.slice(qa.answer.start, qa.answer.end) === 'Paris');
  assert.equal(resultSummary(qa), '"Paris" 50.0%');
  assert.throws(
    () => predictResult({ task: 'question-answering', question: 'q', context }, [{ answer: 'x' }], 0),
    /question with an unexpected shape/,
  );
});

test('a generated text is escaped in Markdown, so the model cannot format the hover', () => {
  const r: PlaygroundResult = { task: 'causal-lm', prompt: 'a *b*', text: ' [c](d)', finishReason: 'length' };
  assert.equal(
    resultMarkdown(r, 'm'),
    '**Fine-tune prediction** · m\n\na \\*b\\*** \\[c\\]\\(d\\)**\n\n_cut at the token limit_',
  );
  assert.equal(resultSummary(r), '…[c](d)');
});

test('completion chunks of OpenAI streaming: text deltas, the finish reason, the usage chunk', () => {
  const chunk = (text: string, finish: string | null) => ({
    object: 'text_completion',
    choices: [{ text, index: 0, logprobs: null, finish_reason: finish }],
  });
  assert.deepEqual(completionChunk(chunk(' sat', null)), { text: ' sat' });
  assert.deepEqual(completionChunk(chunk('', 'length')), { text: '', finish: 'length' });
  assert.deepEqual(completionChunk({ choices: [], usage: { total_tokens: 3 } }), { text: '' });
  assert.throws(() => completionChunk({ error: { message: 'x' } }), /completion chunk/);
});

test('results a webview renders: offsets must lie inside their text', () => {
  const ok = {
    task: 'question-answering',
    question: 'q',
    context: 'abc',
    answer: { answer: 'bc', score: 1, start: 1, end: 3 },
  };
  assert.ok(isPlaygroundResult(ok));
  assert.ok(!isPlaygroundResult({ ...ok, answer: { ...ok.answer, end: 4 } }));
  assert.ok(!isPlaygroundResult({ task: 'causal-lm', prompt: 'p', text: 't', finishReason: 'eos' }));
  assert.ok(!isPlaygroundResult({ task: 'text-classification', labels: [{ label: 1, score: 1 }] }));
});

test("translation and summarization: the pipelines' [{translation_text}] / [{summary_text}], with the time taken", () => {
  const source = 'the cat sat';
  const fr = predictResult(
    { task: 'translation', text: source, maxTokens: 8 },
    [{ translation_text: 'le *chat*' }],
    42.4,
  );
  assert.deepEqual(fr, { task: 'translation', source, text: 'le *chat*', ms: 42.4 });
  assert.ok(isPlaygroundResult(fr));
  assert.equal(resultSummary(fr), '→ le *chat*');
  assert.equal(resultMarkdown(fr, 'm'), '**Fine-tune prediction** · m\n\nTranslation: **le \\*chat\\***\n\n_42 ms_');
  const sum = predictResult({ task: 'summarization', text: source }, [{ summary_text: 'a cat' }], 2450);
  assert.equal(resultMarkdown(sum, 'm'), '**Fine-tune prediction** · m\n\nSummary: **a cat**\n\n_2.5 s_');
  // A summarization answer for a translation input, or a bare record, is not the pipeline's shape.
  assert.throws(
    () => predictResult({ task: 'translation', text: source }, [{ summary_text: 'a cat' }], 1),
    /a translation with an unexpected shape/,
  );
  assert.throws(
    () => predictResult({ task: 'summarization', text: source }, { summary_text: 'a cat' }, 1),
    /a summarization with an unexpected shape/,
  );
  assert.equal(isPlaygroundResult({ task: 'summarization', source, text: 'x', ms: -1 }), false);
  assert.equal(isPlaygroundResult({ task: 'translation', source, text: 'x' }), false);
  assert.deepEqual(
    [formatMs(0.4), formatMs(999.4), formatMs(999.6), formatMs(61_250)],
    ['0 ms', '999 ms', '1.0 s', '61.3 s'],
  );
});
