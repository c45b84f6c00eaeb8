import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { exportCommand } from '../../src/engine/commands/model-commands.js';
import { type TensorData, tensorNumbers, tensorOf } from '../../src/engine/graph/types.js';
import { openModel } from '../../src/engine/inference/open-model.js';
import { Checkpoint } from '../../src/engine/io/checkpoint.js';
import { createSession } from '../../src/engine/runtime.js';
import type { Evaluator } from '../../src/engine/step/batch.js';
import { maskedLmRecipe } from '../../src/engine/tasks/masked-lm/recipe.js';
import { TASKS } from '../../src/engine/tasks/registry.js';
import { Tokenizer } from '../../src/engine/tokenize/index.js';
import { resumeRun, trainFromConfig } from '../../src/engine/train/finetune.js';
import { applyDefaults } from '../../src/shared/config-validate.js';
import { FIXTURE_SENTENCES, sentimentRows, toJsonl } from '../fixtures/datasets.js';
import { writeTinyModel } from '../fixtures/tiny-models.js';
import { lossByStep, readEvents } from './helpers/run-events.js';
import { cutToCheckpoint } from './helpers/tiny-run.js';

/**
 * Pre-train, then fine-tune (run_mlm.py, then run_glue.py / run_ner.py / run_qa.py on its output):
 * a tiny BERT trained on plain text by task masked-lm, resumed exactly, and its final/ loaded for
 * the three encoder tasks with the MLM head unused and the task head initialised.
 */
let dir = '';
let mlmRun = '';

const mlmConfig = (model: string, training = '') => `model: ${model}
task: masked-lm
data:
  train: text.jsonl
  validation: text-val.jsonl
  max_length: 16
training:
  epochs: 2
  batch_size: 8
  learning_rate: 3.0e-3
  save_steps: 2
${training}device: cpu
`;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'masked-lm-'));
  mkdirSync(join(dir, 'model'));
  writeTinyModel(join(dir, 'model'), 'bert', FIXTURE_SENTENCES);
  writeFileSync(join(dir, 'text.jsonl'), toJsonl(sentimentRows(96, 1).map((r) => ({ text: r.text }))));
  writeFileSync(join(dir, 'text-val.jsonl'), toJsonl(sentimentRows(16, 2).map((r) => ({ text: r.text }))));
  writeFileSync(join(dir, 'labelled.jsonl'), toJsonl(sentimentRows(32, 3)));
  writeFileSync(join(dir, 'mlm.finetune.yaml'), mlmConfig('./model'));
  mlmRun = join(dir, 'mlm-run');
  assert.equal((await trainFromConfig(join(dir, 'mlm.finetune.yaml'), mlmRun, { threads: 1 })).outcome, 'completed');
});

after(() => rmSync(dir, { recursive: true, force: true }));

test('a masked-LM run exports a BertForMaskedLM folder with the head, without the tied decoder or a pooler', () => {
  const final = join(mlmRun, 'final');
  const config = JSON.parse(readFileSync(join(final, 'config.json'), 'utf8')) as { architectures: string[] };
  assert.deepEqual(config.architectures, ['BertForMaskedLM']);
  const ckpt = Checkpoint.open(final);
  const names = [...ckpt.tensors.keys()];
  ckpt.close();
  assert.ok(names.includes('cls.predictions.transform.dense.weight'));
  assert.ok(names.includes('cls.predictions.bias'));
  assert.ok(!names.some((n) => n.includes('decoder') || n.includes('pooler')), names.join(', '));
  const evals = readEvents(mlmRun).filter((e) => e.type === 'eval');
  assert.ok(evals.length > 0);
  for (const e of evals) {
    const m = (e as { metrics: Record<string, number> }).metrics;
    assert.ok(
      Number.isFinite(m.loss) && Number.isFinite(m.perplexity) && Number.isFinite(m.accuracy),
      JSON.stringify(m),
    );
    assert.ok(Math.abs((m.perplexity as number) - Math.exp(m.loss as number)) < 1e-6 * (m.perplexity as number));
  }
});

test('predict and evaluate refuse a masked-LM folder, saying to fine-tune it', async () => {
  await assert.rejects(openModel(mlmRun), /a masked-LM model \(pre-trained, no task head\): fine-tune it for a task/);
});

test('export of a masked-LM run: the folder as BertForMaskedLM, and model.onnx with the vocabulary logits', async () => {
  const out = join(dir, 'exported');
  assert.equal(await exportCommand.run([mlmRun, '--format', 'onnx', '--out', out]), 0);
  const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as { architectures: string[] };
  assert.deepEqual(config.architectures, ['BertForMaskedLM']);
  assert.ok(
    readFileSync(join(out, 'model.safetensors')).equals(readFileSync(join(mlmRun, 'final', 'model.safetensors'))),
  );
  const session = await createSession(readFileSync(join(out, 'model.onnx')), { device: 'cpu' });
  try {
    const ids = [2, 7, 8, 3];
    const feeds = {
      input_ids: tensorOf('int64', [1, 4], ids),
      attention_mask: tensorOf('int64', [1, 4], [1, 1, 1, 1]),
      token_type_ids: tensorOf('int64', [1, 4], [0, 0, 0, 0]),
    };
    const { logits } = await session.run(feeds);
    const vocab = (JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as { vocab_size: number }).vocab_size;
    assert.deepEqual(logits?.dims, [1, 4, vocab]);
  } finally {
    await session.dispose();
  }
});

test('masked-LM resume draws the same masks: the same losses and the same final weights', async () => {
  const resumed = join(dir, 'resumed');
  assert.equal((await trainFromConfig(join(dir, 'mlm.finetune.yaml'), resumed, { threads: 1 })).outcome, 'completed');
  const run = cutToCheckpoint(resumed, 4);
  assert.equal(await resumeRun(resumed, { threads: 1 }), 'completed');
  assert.match(readFileSync(run.file('engine.log'), 'utf8'), /resumed from .*step-4 at step 4/);
  assert.deepEqual(lossByStep(readEvents(resumed)), lossByStep(readEvents(mlmRun)));
  const bytes = (r: string) => readFileSync(join(r, 'final', 'model.safetensors'));
  assert.ok(bytes(resumed).equals(bytes(mlmRun)));
});

test("a masked-LM run's final/ fine-tunes for text classification: MLM head unused, classifier initialised", async () => {
  const config = join(dir, 'classify.finetune.yaml');
  writeFileSync(
    config,
    `model: ./mlm-run/final\ntask: text-classification\ndata: {train: labelled.jsonl, max_length: 16}\ntraining: {epochs: 1, batch_size: 8}\ndevice: cpu\n`,
  );
  const { runDir, outcome } = await trainFromConfig(config, join(dir, 'classify-run'), { threads: 1 });
  assert.equal(outcome, 'completed');
  const log = readFileSync(join(runDir, 'engine.log'), 'utf8');
  assert.match(
    log,
    /unused weights in the checkpoint: cls\.predictions\.bias, cls\.predictions\.transform\.LayerNorm\.bias/,
  );
  assert.match(
    log,
    /initialised \(not in the checkpoint\): bert\.pooler\.dense\.weight, bert\.pooler\.dense\.bias, classifier\.weight, classifier\.bias/,
  );
});

test("a masked-LM run's final/ loads for token classification and question answering", () => {
  const final = join(mlmRun, 'final');
  const tokenizer = Tokenizer.fromFolder(final);
  const labels = ['O', 'B-PER', 'I-PER'];
  const token = TASKS['token-classification'].recipe({
    config: applyDefaults({ model: final, task: 'token-classification', data: { train: 'x.jsonl' } }),
    modelDir: final,
    tokenizer,
    labelSet: { labels, ids: new Map(labels.map((l, i) => [l, i])), order: 'sorted' },
    seed: 1,
  });
  assert.ok(token.loadReport.unexpected.includes('cls.predictions.bias'));
  // The masked-LM base has no pooler (add_pooling_layer=False); the engine's token and QA models carry one.
  assert.deepEqual(token.loadReport.missing, [
    'bert.pooler.dense.weight',
    'bert.pooler.dense.bias',
    'classifier.weight',
    'classifier.bias',
  ]);
  const qa = TASKS['question-answering'].recipe({
    config: applyDefaults({ model: final, task: 'question-answering', data: { train: 'x.jsonl' } }),
    modelDir: final,
    tokenizer,
    labelSet: undefined,
    seed: 1,
  });
  assert.ok(qa.loadReport.unexpected.includes('cls.predictions.transform.LayerNorm.weight'));
  assert.deepEqual(
    qa.loadReport.missing.filter((n) => !n.includes('pooler')),
    ['qa_outputs.weight', 'qa_outputs.bias'],
  );
});

test('init scratch pre-trains from a folder holding only config.json and the tokenizer', async () => {
  const scratch = join(dir, 'scratch');
  mkdirSync(scratch);
  for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json'])
    copyFileSync(join(dir, 'model', f), join(scratch, f));
  const config = join(dir, 'scratch.finetune.yaml');
  writeFileSync(config, mlmConfig('./scratch', '  init: scratch\n').replace('epochs: 2', 'epochs: 1'));
  const { runDir, outcome } = await trainFromConfig(config, join(dir, 'scratch-run'), { threads: 1 });
  assert.equal(outcome, 'completed');
  assert.match(
    readFileSync(join(runDir, 'engine.log'), 'utf8'),
    /training\.init: scratch: all \d+ parameters initialised/,
  );
  writeFileSync(config, mlmConfig('./scratch'));
  await assert.rejects(
    trainFromConfig(config, join(dir, 'no-weights-run'), { threads: 1 }),
    /scratch has config\.json but no weights .*set training\.init: scratch/,
  );
});

for (const family of ['roberta', 'distilbert', 'albert', 'electra'] as const) {
  test(`${family}: continued pre-training from its weights, and its final/ loads for text classification`, async () => {
    const work = join(dir, family);
    mkdirSync(join(work, 'model'), { recursive: true });
    writeTinyModel(join(work, 'model'), family, FIXTURE_SENTENCES);
    for (const f of ['text.jsonl', 'text-val.jsonl']) copyFileSync(join(dir, f), join(work, f));
    writeFileSync(join(work, 'mlm.finetune.yaml'), mlmConfig('./model').replace('epochs: 2', 'epochs: 1'));
    const { runDir, outcome } = await trainFromConfig(join(work, 'mlm.finetune.yaml'), join(work, 'run'), {
      threads: 1,
    });
    assert.equal(outcome, 'completed');
    const log = readFileSync(join(runDir, 'engine.log'), 'utf8');
    assert.doesNotMatch(
      log,
      /initialised \(not in the checkpoint\): [^\n]*embeddings/,
      'the base comes from the checkpoint',
    );
    const final = join(runDir, 'final');
    const labels = ['negative', 'positive'];
    const recipe = TASKS['text-classification'].recipe({
      config: applyDefaults({ model: final, task: 'text-classification', data: { train: 'x.jsonl' } }),
      modelDir: final,
      tokenizer: Tokenizer.fromFolder(final),
      labelSet: { labels, ids: new Map(labels.map((l, i) => [l, i])), order: 'sorted' },
      seed: 1,
    });
    const head = TASKS['masked-lm'].isHead(
      (JSON.parse(readFileSync(join(final, 'config.json'), 'utf8')) as { architectures: string[] }).architectures[0] ??
        '',
    );
    assert.ok(head, 'the export names a *ForMaskedLM architecture');
    assert.equal(recipe.loadReport.unexpected.length, 5, `the MLM head is unused: ${recipe.loadReport.unexpected}`);
    assert.ok(recipe.loadReport.missing.every((n) => !n.includes('embeddings') && !n.includes('layer')));
  });
}

test('masked accuracy and perplexity over the selected tokens, against hand-computed values', async () => {
  const recipe = maskedLmRecipe({
    config: applyDefaults({
      model: join(dir, 'model'),
      task: 'masked-lm',
      data: { train: 'x.jsonl', mlm_probability: 0.5 },
    }),
    modelDir: join(dir, 'model'),
    tokenizer: Tokenizer.fromFolder(join(dir, 'model')),
    labelSet: undefined,
    seed: 5,
  });
  const examples = [0, 1, 2].map((i) => ({
    inputIds: [2, 10 + i, 11 + i, 12 + i, 13 + i, 14 + i, 3],
    specialMask: [1, 0, 0, 0, 0, 0, 1],
    wordIds: [null, 0, 1, 2, 3, 4, null],
  }));
  // Predictions (the eval graph's argmax ids) right at every other selected position (1st, 3rd, ...), id 0 elsewhere.
  const losses = [0.7, 1.3];
  const expected = { correct: 0, selected: 0, nll: 0 };
  let call = 0;
  const evaluator: Evaluator = {
    async evaluate(batch) {
      const labels = tensorNumbers(batch.labels as TensorData);
      const predicted = new BigInt64Array(labels.length);
      let k = 0;
      let selected = 0;
      labels.forEach((l, p) => {
        if (l === -100) return;
        selected++;
        const id = k++ % 2 === 0 ? l : 0;
        if (id === l) expected.correct++;
        predicted[p] = BigInt(id);
      });
      expected.selected += selected;
      const loss = losses[call++] as number;
      expected.nll += loss * selected;
      return { loss, logits: { dtype: 'int64', dims: [labels.length / 7, 7], data: predicted } };
    },
  };
  const metrics = await recipe.evaluate(evaluator, examples, ['accuracy', 'perplexity'], 2);
  assert.equal(call, 2, 'two batches of at most 2');
  assert.ok(expected.selected > 0);
  assert.equal(metrics.accuracy, expected.correct / expected.selected);
  assert.ok(Math.abs((metrics.loss as number) - expected.nll / expected.selected) < 1e-12);
  assert.ok(Math.abs((metrics.perplexity as number) - Math.exp(expected.nll / expected.selected)) < 1e-9);
});
