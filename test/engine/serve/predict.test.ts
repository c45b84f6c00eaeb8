import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { loadFinetuned } from '../../../src/engine/inference/finetuned-model.js';
import { predictLine } from '../../../src/engine/inference/predict.js';
import { loadServedModel, type ServedModel } from '../../../src/engine/serve/served-model.js';
import { type TokenScores, tokenClassification } from '../../../src/engine/serve/token-classification.js';
import { metricValue, predict, startServer, writeTinyFinetuned } from './helpers.js';

/**
 * POST /predict in transformers' pipeline shapes, and the dynamic batcher: concurrent requests
 * share engine runs and get what they get alone. Batches are counted by the batch-size histogram
 * of /metrics; with --max-wait-ms far beyond the test, a batch starts only when --max-batch inputs
 * wait, so the count does not depend on timing.
 */
let dir: string;
let classifierDir: string;
let taggerDir: string;
let classifier: ServedModel;
let tagger: ServedModel;

const TEXTS = [
  'the cat sees the ball',
  'a dog likes a book',
  'my friend finds the garden every day',
  'the bird calls',
  'our neighbour helps the teacher at night',
  'the river',
  'a song after school',
  'the teacher likes the cat in the morning',
];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'serve-predict-'));
  classifierDir = writeTinyFinetuned(join(dir, 'cls'), 'text-classification', ['negative', 'neutral', 'positive']);
  taggerDir = writeTinyFinetuned(join(dir, 'ner'), 'token-classification', ['O', 'B-PER', 'I-PER', 'B-LOC']);
  classifier = await loadServedModel(classifierDir, 'cls');
  tagger = await loadServedModel(taggerDir, 'ner');
});

after(async () => {
  await Promise.all([classifier?.dispose(), tagger?.dispose()]);
});

test('predict: N concurrent requests run in fewer engine batches, with the results they get one by one', async () => {
  const batched = await startServer(classifier, { maxBatch: TEXTS.length, maxWaitMs: 3_600_000 });
  const alone = await startServer(classifier, { maxBatch: 1, maxWaitMs: 0 });
  try {
    const params = { top_k: null };
    const together = await Promise.all(TEXTS.map((t) => predict(batched.url, { inputs: t, parameters: params })));
    const metrics = await (await fetch(`${batched.url}/metrics`)).text();
    assert.equal(metricValue(metrics, 'finetune_serve_batch_size_count'), 1, 'one engine run for all requests');
    assert.equal(metricValue(metrics, 'finetune_serve_batch_size_sum'), TEXTS.length);
    const oneByOne = [];
    for (const t of TEXTS) oneByOne.push(await predict(alone.url, { inputs: t, parameters: params }));
    const aloneMetrics = await (await fetch(`${alone.url}/metrics`)).text();
    assert.equal(metricValue(aloneMetrics, 'finetune_serve_batch_size_count'), TEXTS.length);
    for (const [i, r] of together.entries()) {
      assert.equal(r.status, 200);
      const a = r.body as { label: string; score: number }[];
      const b = oneByOne[i]?.body as { label: string; score: number }[];
      assert.deepEqual(
        a.map((x) => x.label),
        b.map((x) => x.label),
      );
      // Padding is masked out; only the GEMM's summation order may differ between batch shapes.
      for (const [j, x] of a.entries()) assert.ok(Math.abs(x.score - (b[j]?.score as number)) < 1e-6);
    }
  } finally {
    await Promise.all([batched.close(), alone.close()]);
  }
});

test('predict: text classification is [{label, score}] sorted, top_k, and agrees with `finetune predict`', async () => {
  const s = await startServer(classifier);
  const model = await loadFinetuned(classifierDir, { device: 'cpu' });
  try {
    for (const text of TEXTS.slice(0, 3)) {
      const top = await predict(s.url, { inputs: text });
      const expected = await predictLine(model, { text }, 'text', 'test');
      assert.ok('label' in expected && typeof expected.label === 'string');
      const [best] = top.body as { label: string; score: number }[];
      assert.equal((top.body as unknown[]).length, 1, 'top_k defaults to 1');
      assert.equal(best?.label, expected.label);
      assert.ok(Math.abs((best?.score as number) - expected.score) < 1e-6);
      const all = (await predict(s.url, { inputs: text, parameters: { top_k: null } })).body as { score: number }[];
      assert.equal(all.length, 3);
      assert.ok(
        all.every((x, i) => i === 0 || (all[i - 1]?.score as number) >= x.score),
        'sorted by score',
      );
      assert.ok(Math.abs(all.reduce((a, x) => a + x.score, 0) - 1) < 1e-6, 'softmax');
      const two = (await predict(s.url, { inputs: text, parameters: { top_k: 2 } })).body as unknown[];
      assert.deepEqual(two, all.slice(0, 2));
    }
    const list = await predict(s.url, { inputs: TEXTS.slice(0, 2) });
    assert.equal((list.body as unknown[][]).length, 2, 'a list of inputs answers a list');
    assert.ok((list.body as unknown[][]).every((r) => Array.isArray(r) && r.length === 1));
    const bad = await predict(s.url, { inputs: 'x', parameters: { top_k: 0 } });
    assert.equal(bad.status, 400);
    assert.equal((bad.body as { error: { param: string } }).error.param, 'parameters.top_k');
    assert.equal((await predict(s.url, { inputs: 3 })).status, 400);
    assert.equal((await predict(s.url, { text: 'x' })).status, 400);
  } finally {
    await s.close();
    await model.dispose();
  }
});

test('predict: token classification groups as TokenClassificationPipeline(aggregation_strategy="simple")', async () => {
  assert.equal(tagger.kind, 'pipeline');
  if (tagger.kind !== 'pipeline') return;
  const model = await loadFinetuned(taggerDir, { device: 'cpu' });
  try {
    const pipeline = tokenClassification(model);
    const text = 'the cat sees the ball';
    const enc = model.tokenizer.encode(text, null);
    const words = enc.ids.flatMap((id, t) => (enc.specialTokensMask[t] ? [] : [{ id, t }]));
    // The fixture's WordPiece splits: the c ##at s ##e ##e ##s the b ##all.
    assert.equal(words.length, 10);
    // Labels O, B-PER, I-PER, B-LOC by index; each token's argmax as listed, scores chosen by hand.
    const argmaxes = [1, 2, 2, 0, 0, 0, 0, 3, 3, 2];
    const best = [0.7, 0.5, 0.6, 0.9, 0.9, 0.9, 0.9, 0.6, 0.8, 0.4];
    const tokens: TokenScores[] = words.map(({ id, t }, k) => {
      const scores = [0, 0, 0, 0].map((_, j) =>
        j === argmaxes[k] ? (best[k] as number) : (1 - (best[k] as number)) / 3,
      );
      const [s, e] = enc.offsets[t] as [number, number];
      return { index: t, id, scores, start: s, end: e };
    });
    const entities = pipeline.parse({ inputs: text }).format(tokens);
    // group_entities (worked by hand): B-PER I-PER I-PER join (same tag, none a B- after the first);
    // the O tokens form a group that ignore_labels drops; B-LOC, B-LOC stay apart (a B- starts a
    // group); the lone I-PER on ##all starts its own (tag PER != LOC). The word is the decoder over
    // the group's tokens, so a group starting with a continuation keeps its ## (as transformers').
    assert.deepEqual(entities, [
      { entity_group: 'PER', score: (0.7 + 0.5 + 0.6) / 3, word: 'the cat', start: 0, end: 7 },
      { entity_group: 'LOC', score: 0.6, word: 'the', start: 13, end: 16 },
      { entity_group: 'LOC', score: 0.8, word: 'b', start: 17, end: 18 },
      { entity_group: 'PER', score: 0.4, word: '##all', start: 18, end: 21 },
    ]);
    const none = pipeline.parse({ inputs: text, parameters: { aggregation_strategy: 'none' } }).format(tokens);
    assert.deepEqual(
      (none as { entity: string; index: number }[]).map((e) => [e.entity, e.index]),
      [
        ['B-PER', 1],
        ['I-PER', 2],
        ['I-PER', 3],
        ['B-LOC', 8],
        ['B-LOC', 9],
        ['I-PER', 10],
      ],
    );
    // Through the server, the real model's entities have the pipeline's keys and offsets into the text.
    const s = await startServer(tagger);
    try {
      const r = await predict(s.url, { inputs: text, parameters: { ignore_labels: [] } });
      assert.equal(r.status, 200);
      const groups = r.body as { entity_group: string; score: number; word: string; start: number; end: number }[];
      assert.ok(groups.length >= 1);
      for (const g of groups) {
        assert.deepEqual(Object.keys(g), ['entity_group', 'score', 'word', 'start', 'end']);
        assert.equal(text.slice(g.start, g.end).includes(g.word.replace(/^##/, '')), true, JSON.stringify(g));
      }
      assert.equal(groups[0]?.start, 0);
      assert.equal(groups.at(-1)?.end, text.length);
    } finally {
      await s.close();
    }
  } finally {
    await model.dispose();
  }
});
