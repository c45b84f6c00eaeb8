import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { prepareData } from '../../../src/engine/data/prepare.js';
import { GraphBuilder } from '../../../src/engine/graph/builder.js';
import { Graph } from '../../../src/engine/graph/graph.js';
import { encodeModel } from '../../../src/engine/graph/onnx-codec.js';
import { type TensorData, tensorNumbers, tensorOf, type Value } from '../../../src/engine/graph/types.js';
import { seq2seqLoss, shiftRight, shiftTokensRight } from '../../../src/engine/models/seq2seq.js';
import { createSession } from '../../../src/engine/runtime.js';
import { TASKS } from '../../../src/engine/tasks/registry.js';
import { collateSeq2Seq, encodeSeq2Seq } from '../../../src/engine/tasks/seq2seq/batches.js';
import { Tokenizer } from '../../../src/engine/tokenize/index.js';
import { applyDefaults, validateConfigText } from '../../../src/shared/config-validate.js';
import { tempDir } from '../../extension/helpers.js';
import { writeT5Tokenizer } from '../../fixtures/tokenizers.js';
import { gradCheck } from '../helpers/gradcheck.js';

test('collate: right padding, labels padded with -100, decoder_input_ids = shift_right(labels)', () => {
  const batch = collateSeq2Seq(
    [
      { inputIds: [5, 6, 7, 1], labels: [8, 9, 1], source: 'a' },
      { inputIds: [4, 1], labels: [3, 3, 3, 3, 1], source: 'b' },
    ],
    { padTokenId: 0, decoderStartTokenId: 0 },
  );
  const rows = (t: TensorData) => {
    const v = tensorNumbers(t);
    const w = t.dims[1] as number;
    return [v.slice(0, w), v.slice(w)];
  };
  assert.deepEqual(rows(batch.input_ids as TensorData), [
    [5, 6, 7, 1],
    [4, 1, 0, 0],
  ]);
  assert.deepEqual(rows(batch.attention_mask as TensorData), [
    [1, 1, 1, 1],
    [1, 1, 0, 0],
  ]);
  assert.deepEqual(rows(batch.labels as TensorData), [
    [8, 9, 1, -100, -100],
    [3, 3, 3, 3, 1],
  ]);
  // transformers' _shift_right: decoder_start_token_id first, -100 replaced by pad_token_id.
  assert.deepEqual(rows(batch.decoder_input_ids as TensorData), [
    [0, 8, 9, 1, 0],
    [0, 3, 3, 3, 3],
  ]);
  assert.deepEqual(shiftRight([4, -100, -100], 2, 7), [2, 4, 7]);
});

test("mBART's shift_tokens_right: the last non-pad label (the language code) wraps to the front", () => {
  // modeling_mbart.shift_tokens_right on labels [[5, 6, 2, 250020, -100, -100]] with pad 1 gives
  // [[250020, 5, 6, 2, 250020, 1]]: -100 -> pad, index_of_eos = 4 non-pad − 1 = 3, shifted by one.
  const mbart = { padTokenId: 1, decoderStartTokenId: 2, startFromLastLabel: true };
  assert.deepEqual(shiftTokensRight([5, 6, 2, 250020, -100, -100], mbart), [250020, 5, 6, 2, 250020, 1]);
  assert.deepEqual(shiftTokensRight([5, 2, 9], mbart), [9, 5, 2]);
  // BART / Marian: the decoder start token, as shiftRight.
  assert.deepEqual(shiftTokensRight([5, 2, -100], { padTokenId: 1, decoderStartTokenId: 2 }), [2, 5, 2]);
  const batch = collateSeq2Seq(
    [
      { inputIds: [5, 2, 9], labels: [7, 2, 8], source: 'a' },
      { inputIds: [4, 2, 9], labels: [3, 2, 8, 6], source: 'b' },
    ],
    mbart,
  );
  assert.deepEqual(tensorNumbers(batch.decoder_input_ids as TensorData), [8, 7, 2, 8, 6, 3, 2, 8]);
});

test('encoding: source_prefix + source and the target, each with </s> and truncated to its own length', (t) => {
  const dir = tempDir(t, 'seq2seq-');
  writeT5Tokenizer(dir, { training: ['translate: red cat sees blue dog', 'hund blau sieh katz rot'] });
  const tokenizer = Tokenizer.fromFolder(dir);
  const source = { file: 'x.jsonl', line: 3 };
  const example = {
    kind: 'seq2seq' as const,
    sourceText: 'red cat sees blue dog',
    targetText: 'hund blau sieh',
    source,
  };
  const [full] = encodeSeq2Seq(tokenizer, [example], {
    prefix: 'translate: ',
    maxSourceLength: 64,
    maxTargetLength: 64,
  });
  const eos = tokenizer.eosTokenId as number;
  assert.deepEqual(full?.inputIds, tokenizer.encode('translate: red cat sees blue dog', null).ids);
  assert.equal(full?.inputIds.at(-1), eos);
  assert.deepEqual(full?.labels, [...tokenizer.encode('hund blau sieh', null).ids.slice(0, -1), eos]);
  assert.equal(full?.line, 3);
  const [cut] = encodeSeq2Seq(tokenizer, [example], { prefix: 'translate: ', maxSourceLength: 3, maxTargetLength: 2 });
  // Truncation keeps the end-of-sequence token, as tokenizer(..., truncation=True, max_length=n).
  assert.deepEqual(cut?.inputIds, [...(full?.inputIds.slice(0, 2) ?? []), eos]);
  assert.deepEqual(cut?.labels, [full?.labels[0], eos]);
});

test('rows: translation objects by source_lang/target_lang, from JSON lines and CSV; a missing language is located', async (t) => {
  const dir = tempDir(t, 'seq2seq-');
  writeFileSync(
    join(dir, 't.jsonl'),
    '{"translation": {"en": "red cat", "de": "rote katze"}}\n{"translation": {"en": "dog", "fr": "chien"}}\n',
  );
  writeFileSync(join(dir, 't.csv'), 'id,translation\n1,"{""en"": ""blue"", ""de"": ""blau""}"\n');
  const prepare = (file: string, data: Record<string, unknown>) =>
    prepareData(applyDefaults({ model: 'm', task: 'translation', data: { train: join(dir, file), ...data } }).data, {
      task: 'translation',
      format: TASKS.translation.data,
      baseDir: dir,
      seed: 1,
    });
  const langs = { source_lang: 'en', target_lang: 'de' };
  await assert.rejects(prepare('t.jsonl', langs), /t\.jsonl:2.*'translation\.de' is missing \(languages: en, fr\)/);
  const skipped = await prepare('t.jsonl', { ...langs, on_bad_rows: 'skip' });
  assert.deepEqual(
    skipped.train.map((e) => (e.kind === 'seq2seq' ? [e.sourceText, e.targetText] : [])),
    [['red cat', 'rote katze']],
  );
  const csv = await prepare('t.csv', langs);
  assert.deepEqual(
    csv.train.map((e) => (e.kind === 'seq2seq' ? [e.sourceText, e.targetText] : [])),
    [['blue', 'blau']],
  );
  await assert.rejects(
    prepare('t.csv', { source_column: 'en', target_column: 'de' }),
    /t\.csv:1: the header has no column 'en' \(columns: id, translation\); expected a column named 'en' \(data\.source_column\)/,
  );
});

/** transformers' LabelSmoother on flat logits [N][V] and labels [N] (-100 ignored), in float64. */
function labelSmoother(logits: number[][], labels: number[], epsilon: number): number {
  let nll = 0;
  let smoothed = 0;
  let active = 0;
  logits.forEach((row, i) => {
    if (labels[i] === -100) return;
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((a, z) => a + Math.exp(z - m), 0));
    nll += lse - (row[labels[i] as number] as number);
    smoothed += row.reduce((a, z) => a + (lse - z), 0);
    active++;
  });
  return (1 - epsilon) * (nll / active) + epsilon * (smoothed / (active * (logits[0]?.length ?? 1)));
}

test('label smoothing: the loss is LabelSmoother’s (1 − ε) NLL + ε mean −log p, and ε = 0 the plain mean NLL', async () => {
  const logits = [
    [1.5, -0.3, 0.2, 0.9],
    [-1, 2, 0.5, 0],
    [0.1, 0.1, 0.1, 3],
  ];
  const labels = [2, -100, 3];
  for (const epsilon of [0, 0.1, 0.4]) {
    const g = new GraphBuilder(new Graph('smoothing'), 'float64');
    const x = g.input('logits', 'float64', [1, 3, 4]);
    const y = g.input('labels', 'int64', [1, 3]);
    g.output(seq2seqLoss(g, x, y, 4, epsilon));
    const session = await createSession(encodeModel(g.graph), { device: 'cpu', threads: 1 });
    const out = await session.run({
      logits: tensorOf('float64', [1, 3, 4], logits.flat()),
      labels: tensorOf('int64', [1, 3], labels),
    });
    await session.dispose();
    const got = tensorNumbers(Object.values(out)[0] as TensorData)[0] as number;
    const want = labelSmoother(logits, labels, epsilon);
    assert.ok(Math.abs(got - want) < 1e-12, `ε ${epsilon}: ${got} vs ${want}`);
  }
  await gradCheck(
    {
      op: 'LogSoftmax',
      name: 'label-smoothed seq2seq loss',
      inputs: [{ shape: [2, 3, 5] }, { shape: [2, 3], kind: 'index', values: [1, 4, -100, 0, -100, 2] }],
      build: (g, xs) => g.reshape(seq2seqLoss(g, xs[0] as Value, xs[1] as Value, 5, 0.2), [1]),
    },
    17,
  );
});

test('config rules: a pair of columns or of languages, not half of one, not both; seq2seq keys warn elsewhere', () => {
  const codes = (data: string, task = 'translation', training = '') =>
    validateConfigText(`model: m\ntask: ${task}\ndata: {train: t.jsonl${data}}\n${training}`, 'yaml').diagnostics.map(
      (d) => `${d.severity} ${d.code} ${d.path.join('.')}`,
    );
  assert.deepEqual(codes(', source_column: a, target_column: b'), []);
  assert.deepEqual(codes(', source_lang: en, target_lang: de', 'summarization'), []);
  assert.deepEqual(codes(''), ['error seq2seq-columns data']);
  assert.deepEqual(codes(', target_lang: de'), ['error seq2seq-pair data.target_lang']);
  assert.deepEqual(codes(', source_column: a, target_column: b, source_lang: en, target_lang: de'), [
    'error exclusive data.source_lang',
    'error exclusive data.target_lang',
  ]);
  assert.deepEqual(codes(', text_column: t, source_prefix: "x: "', 'causal-lm', 'training: {label_smoothing: 0.1}\n'), [
    'warning unused-key data.source_prefix',
    'warning unused-key training.label_smoothing',
  ]);
  assert.deepEqual(codes(', source_column: a, label_column: l, text_column: t', 'causal-lm'), [
    'warning unused-key data.source_column',
    'warning unused-key data.label_column',
  ]);
  const resolved = applyDefaults({
    model: 'm',
    task: 'translation',
    data: { train: 't.jsonl', source_lang: 'en', target_lang: 'de' },
  });
  assert.deepEqual(
    [
      resolved.data.max_source_length,
      resolved.data.max_target_length,
      resolved.training.label_smoothing,
      resolved.data.text_column,
    ],
    [1024, 128, 0, undefined],
  );
});

test('config rules: eval.generate; bleu, chrf and rouge need it, with the line of the metric; its keys warn elsewhere', () => {
  const check = (text: string) =>
    validateConfigText(text, 'yaml').diagnostics.map((d) => `${d.severity} ${d.code} ${d.path.join('.')} ${d.message}`);
  const base =
    'model: m\ntask: translation\ndata: {train: t.jsonl, validation: v.jsonl, source_column: a, target_column: b}\n';
  assert.deepEqual(
    check(`${base}eval:\n  generate: true\n  num_beams: 4\n  max_new_tokens: 64\n  metrics: [bleu, chrf]\n`),
    [],
  );
  assert.deepEqual(check(`${base}eval:\n  metrics: [loss_x]\n`).length, 1); // the schema's enum error
  const needs = validateConfigText(
    `${base}eval:\n  metrics:\n    - chrf\n    - rougeL\n  num_beams: 2\n`,
    'yaml',
  ).diagnostics;
  assert.deepEqual(
    needs.map((d) => `${d.severity} ${d.code} ${d.path.join('.')} line ${d.range.start.line}`),
    [
      'error needs-generate eval.metrics.0 line 5',
      'error needs-generate eval.metrics.1 line 6',
      'warning unused-key eval.num_beams line 7',
    ],
  );
  assert.match(needs[0]?.message ?? '', /chrf scores generated text: set eval\.generate: true to compute it/);
  assert.deepEqual(
    check(
      'model: m\ntask: causal-lm\ndata: {train: t.jsonl, validation: v.jsonl}\neval: {generate: true, num_beams: 2}\n',
    ).map((d) => d.split(' ').slice(0, 3).join(' ')),
    ['warning unused-key eval.generate', 'warning unused-key eval.num_beams'],
  );
  assert.deepEqual(
    check('model: m\ntask: causal-lm\ndata: {train: t.jsonl, validation: v.jsonl}\neval: {metrics: [bleu]}\n').map(
      (d) => d.split(' ').slice(0, 3).join(' '),
    ),
    ['error metric-task eval.metrics.0'],
  );
});
