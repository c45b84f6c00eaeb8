import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { exportCommand, predictCommand } from '../../src/engine/commands/model-commands.js';
import { encodeModel } from '../../src/engine/graph/onnx-codec.js';
import { type TensorData, tensorNumbers, tensorOf } from '../../src/engine/graph/types.js';
import { openModel } from '../../src/engine/inference/open-model.js';
import { loadSeq2Seq, seq2seqGenerationDefaults } from '../../src/engine/inference/seq2seq-model.js';
import { readHfConfig } from '../../src/engine/io/hf-config.js';
import { loadPretrained } from '../../src/engine/io/pretrained.js';
import { readSafetensors } from '../../src/engine/io/safetensors.js';
import { prepareMethod } from '../../src/engine/methods/method.js';
import { HfConfigReader } from '../../src/engine/models/hf-config.js';
import { seq2seqFamilyOf } from '../../src/engine/models/registry.js';
import { type Seq2SeqArch, seq2seqLmModel, shiftRight } from '../../src/engine/models/seq2seq.js';
import { createSession } from '../../src/engine/runtime.js';
import { buildInference } from '../../src/engine/step/step-graph.js';
import { argmax } from '../../src/engine/tasks/metrics/classification.js';
import { TASKS } from '../../src/engine/tasks/registry.js';
import { Tokenizer } from '../../src/engine/tokenize/index.js';
import { resumeRun, trainFromConfig } from '../../src/engine/train/finetune.js';
import { applyDefaults } from '../../src/shared/config-validate.js';
import { toJsonl } from '../fixtures/datasets.js';
import { toyPairs, writeTinyT5 } from '../fixtures/tiny-t5.js';
import { evalMetrics, lossByStep, readEvents } from './helpers/run-events.js';
import { cutToCheckpoint } from './helpers/tiny-run.js';

/**
 * Whole translation runs on a tiny T5: a rule-based toy language pair (each word through a lexicon,
 * the order reversed) learnt by teacher forcing, resumed exactly, exported and reloaded, and
 * trained with LoRA on q and v.
 */
let dir = '';
let runDir = '';

const configText = (training = '', data = '  source_lang: en\n  target_lang: toy\n') => `model: ./model
task: translation
data:
  train: train.jsonl
  validation: val.jsonl
${data}  source_prefix: 'translate: '
  max_source_length: 16
  max_target_length: 8
training:
  epochs: 12
  batch_size: 8
  learning_rate: 5.0e-3
  warmup_steps: 5
  dropout: 0.0
  save_steps: 50
${training}eval:
  every: 75
device: cpu
`;

const asRows = (n: number, seed: number) =>
  toyPairs(n, seed).map((p) => ({ translation: { en: p.source, toy: p.target } }));

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 't5-run-'));
  mkdirSync(join(dir, 'model'));
  // t5-small's 32 buckets up to distance 128: 8 exact positions each way, which reversing needs.
  const config = {
    d_model: 32,
    d_ff: 64,
    d_kv: 8,
    relative_attention_num_buckets: 32,
    relative_attention_max_distance: 128,
  };
  writeTinyT5(join(dir, 'model'), { seed: 2, config });
  writeFileSync(join(dir, 'train.jsonl'), toJsonl(asRows(600, 1)));
  writeFileSync(join(dir, 'val.jsonl'), toJsonl(asRows(24, 2)));
  writeFileSync(join(dir, 'cols.jsonl'), toJsonl(toyPairs(200, 3).map((p) => ({ en: p.source, toy: p.target }))));
  writeFileSync(join(dir, 't5.finetune.yaml'), configText());
  runDir = join(dir, 'run');
  assert.equal((await trainFromConfig(join(dir, 't5.finetune.yaml'), runDir, { threads: 1 })).outcome, 'completed');
});

after(() => rmSync(dir, { recursive: true, force: true }));

/** Teacher-forced argmax of model.onnx against the toy targets: the share of label tokens it gets right. */
async function tokenAccuracy(onnx: string, modelDir: string): Promise<number> {
  const tokenizer = Tokenizer.fromFolder(modelDir);
  const session = await createSession(readFileSync(onnx), { device: 'cpu', threads: 1 });
  let right = 0;
  let total = 0;
  try {
    for (const p of toyPairs(24, 2)) {
      const ids = tokenizer.encode(`translate: ${p.source}`, null).ids;
      const labels = tokenizer.encode(p.target, null).ids;
      const out = await session.run({
        input_ids: tensorOf('int64', [1, ids.length], ids),
        attention_mask: tensorOf(
          'int64',
          [1, ids.length],
          ids.map(() => 1),
        ),
        decoder_input_ids: tensorOf('int64', [1, labels.length], shiftRight(labels, 0, 0)),
      });
      const logits = tensorNumbers(out.logits as TensorData);
      const V = logits.length / labels.length;
      labels.forEach((label, t) => {
        const row = logits.slice(t * V, (t + 1) * V);
        if (row.indexOf(Math.max(...row)) === label) right++;
        total++;
      });
    }
  } finally {
    await session.dispose();
  }
  return right / total;
}

test('translation on a tiny T5 learns the toy language pair by teacher forcing', async () => {
  const evals = evalMetrics(runDir);
  assert.ok(evals.length >= 3, JSON.stringify(evals));
  const first = evals[0]?.loss as number;
  const last = evals.at(-1)?.loss as number;
  process.stdout.write(`# toy translation eval loss ${first.toFixed(3)} -> ${last.toFixed(3)}\n`);
  assert.ok(last < first / 5, `eval loss ${first} -> ${last}`);
  const accuracy = await tokenAccuracy(join(runDir, 'final', 'model.onnx'), join(runDir, 'final'));
  process.stdout.write(`# teacher-forced token accuracy on the validation pairs: ${accuracy.toFixed(3)}\n`);
  assert.ok(accuracy > 0.9, `token accuracy ${accuracy}`);
  const log = readFileSync(join(runDir, 'engine.log'), 'utf8');
  assert.doesNotMatch(log, /unused weights in the checkpoint/); // embed_tokens copies are ignored, not unused
  const config = JSON.parse(readFileSync(join(runDir, 'final', 'config.json'), 'utf8')) as { architectures: string[] };
  assert.deepEqual(config.architectures, ['T5ForConditionalGeneration']);
});

test('resume from a mid-run checkpoint gives the same losses and the same final weights', async () => {
  const config = join(dir, 'short.finetune.yaml');
  writeFileSync(
    config,
    configText('  dropout: 0.1\n').replace('epochs: 12', 'epochs: 2').replace('  dropout: 0.0\n', ''),
  );
  const whole = join(dir, 'whole');
  const resumed = join(dir, 'resumed');
  for (const r of [whole, resumed])
    assert.equal((await trainFromConfig(config, r, { threads: 1 })).outcome, 'completed');
  const run = cutToCheckpoint(resumed, 50);
  assert.equal(await resumeRun(resumed, { threads: 1 }), 'completed');
  assert.match(readFileSync(run.file('engine.log'), 'utf8'), /resumed from .*step-50 at step 50/);
  assert.deepEqual(lossByStep(readEvents(resumed)), lossByStep(readEvents(whole)));
  const bytes = (r: string) => readFileSync(join(r, 'final', 'model.safetensors'));
  assert.ok(bytes(resumed).equals(bytes(whole)));
});

test('export to safetensors reloads with the logits of final/model.onnx; export --format onnx gives the same', async () => {
  const feeds = {
    input_ids: tensorOf('int64', [2, 4], [5, 6, 7, 1, 8, 9, 1, 0]),
    attention_mask: tensorOf('int64', [2, 4], [1, 1, 1, 1, 1, 1, 1, 0]),
    decoder_input_ids: tensorOf('int64', [2, 3], [0, 10, 11, 0, 12, 13]),
  };
  const logitsOf = async (onnx: Uint8Array) => {
    const session = await createSession(onnx, { device: 'cpu', threads: 1 });
    try {
      return tensorNumbers((await session.run(feeds)).logits as TensorData);
    } finally {
      await session.dispose();
    }
  };
  const trained = await logitsOf(readFileSync(join(runDir, 'final', 'model.onnx')));
  const folder = join(dir, 'exported-safetensors');
  assert.equal(await exportCommand.run([runDir, '--format', 'safetensors', '--out', folder]), 0);
  const cfg = new HfConfigReader(readHfConfig(folder), `${folder}/config.json`);
  const model = seq2seqLmModel(seq2seqFamilyOf(cfg), { config: cfg });
  const loaded = loadPretrained(folder, model.params, { basePrefix: '' });
  assert.deepEqual([loaded.missing, loaded.unexpected], [[], []]);
  assert.deepEqual(await logitsOf(encodeModel(buildInference(model, loaded.weights))), trained);
  const onnx = join(dir, 'exported-onnx');
  assert.equal(await exportCommand.run([runDir, '--format', 'onnx', '--out', onnx]), 0);
  assert.deepEqual(await logitsOf(readFileSync(join(onnx, 'model.onnx'))), trained);
  await assert.rejects(openModel(runDir), /encoder-decoder \(translation\) model: predict generates with it/);
});

test('LoRA on q and v (PEFT SEQ_2_SEQ_LM): only adapters train, the merged export keeps the base names', async () => {
  const config = join(dir, 'lora.finetune.yaml');
  writeFileSync(
    config,
    configText(
      '  method: lora\n  lora: {r: 4, alpha: 8, dropout: 0.0}\n',
      '  source_column: en\n  target_column: toy\n',
    )
      .replace('train: train.jsonl', 'train: cols.jsonl')
      .replace('validation: val.jsonl', 'validation: cols.jsonl')
      .replace('epochs: 12', 'epochs: 2')
      .replace('learning_rate: 5.0e-3', 'learning_rate: 1.0e-2')
      .replace('every: 75', 'every: 10\n  generate: true\n  max_new_tokens: 6'),
  );
  const { runDir: lora, outcome } = await trainFromConfig(config, join(dir, 'lora-run'), { threads: 1 });
  assert.equal(outcome, 'completed');
  const log = readFileSync(join(lora, 'engine.log'), 'utf8');
  // 2 encoder blocks × (q, v) + 2 decoder blocks × (self q, v + cross q, v) = 12 modules
  assert.match(log, /method lora: .*on 12 modules \(target_modules: q, v\); base model frozen, head trained \(none\)/);
  const adapter = JSON.parse(readFileSync(join(lora, 'final', 'adapter', 'adapter_config.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  assert.equal(adapter.task_type, 'SEQ_2_SEQ_LM');
  assert.deepEqual(adapter.target_modules, ['q', 'v']);
  const names = [...readSafetensors(join(lora, 'final', 'adapter', 'adapter_model.safetensors')).tensors.keys()];
  assert.equal(names.length, 24); // lora_A and lora_B of the 12 modules, nothing else
  assert.ok(names.includes('base_model.model.decoder.block.1.layer.1.EncDecAttention.v.lora_B.weight'), names.join());
  assert.ok(
    names.every((n) => /\.(q|v)\.lora_[AB]\.weight$/.test(n)),
    names.join(),
  );
  const merged = [...readSafetensors(join(lora, 'final', 'model.safetensors')).tensors.keys()];
  assert.ok(merged.includes('shared.weight') && merged.every((n) => !n.includes('lora')), merged.join());
  const evals = evalMetrics(lora);
  // eval.generate decodes with the adapters in the graph: BLEU and chrF next to the loss.
  assert.ok(
    evals.every((m) => Number.isFinite(m.bleu) && Number.isFinite(m.chrf)),
    JSON.stringify(evals),
  );
  const [first, last] = [evals[0]?.loss as number, evals.at(-1)?.loss as number];
  process.stdout.write(`# LoRA eval loss ${first.toFixed(3)} -> ${last.toFixed(3)}\n`);
  assert.ok(last < first, `LoRA eval loss ${first} -> ${last}`);
});

test('method freeze is refused on an encoder-decoder, naming the methods that work', () => {
  const model = join(dir, 'model');
  const config = applyDefaults({
    model,
    task: 'translation',
    data: { train: 'x.jsonl', source_lang: 'en', target_lang: 'toy' },
    training: { method: 'freeze', freeze_layers: 'all' },
  });
  const recipe = TASKS.translation.recipe({
    config,
    modelDir: model,
    tokenizer: Tokenizer.fromFolder(model),
    labelSet: undefined,
    seed: 1,
  });
  const o = { modelType: 't5', seed: 1, optimizer: { kind: 'adamw', weightDecay: 0 } as const, accumulation: 1 };
  assert.throws(
    () => prepareMethod(config, recipe, o),
    /method freeze: t5 is an encoder-decoder, whose two stacks freeze_layers does not count yet; use method full or lora/,
  );
});

test('greedy generation: the KV cache gives the tokens of the full recompute and of the teacher-forced argmax', async () => {
  const final = join(runDir, 'final');
  const model = await loadSeq2Seq(final, { threads: 1 });
  const forward = await createSession(readFileSync(join(final, 'model.onnx')), { device: 'cpu', threads: 1 });
  try {
    const pairs = toyPairs(24, 2);
    const sources = pairs.map((p) => `translate: ${p.source}`); // different lengths: padded in one batch
    const cached = await model.generate(sources, { maxNewTokens: 12 });
    const recomputed = await model.generate(sources, { maxNewTokens: 12, useCache: false });
    assert.deepEqual(
      cached.map((g) => g.ids),
      recomputed.map((g) => g.ids),
    );
    const { decoderStartTokenId: start, eosTokenIds } = model.defaults;
    assert.deepEqual([start, eosTokenIds], [0, [1]]); // T5Config's decoder_start_token_id (pad) and eos_token_id
    let exact = 0;
    for (const [b, g] of cached.entries()) {
      // Teacher forcing on the generated sequence (and the EOS that ended it): each position's argmax
      // must be the next generated token, since greedy search picks exactly that.
      const ids = model.tokenizer.encode(sources[b] as string, null).ids;
      const targets = g.finishReason === 'stop' ? [...g.ids, eosTokenIds[0] as number] : g.ids;
      const decoderIds = [start, ...targets.slice(0, -1)];
      const out = await forward.run({
        input_ids: tensorOf('int64', [1, ids.length], ids),
        attention_mask: tensorOf('int64', [1, ids.length], new Array<number>(ids.length).fill(1)),
        decoder_input_ids: tensorOf('int64', [1, decoderIds.length], decoderIds),
      });
      const logits = tensorNumbers(out.logits as TensorData);
      const V = logits.length / decoderIds.length;
      assert.deepEqual(
        targets.map((_, t) => argmax(logits, t * V, V)),
        targets,
        `row ${b}`,
      );
      if (g.text === pairs[b]?.target) exact++;
    }
    process.stdout.write(`# greedy translations equal to the toy target: ${exact}/${pairs.length}\n`);
    assert.ok(exact >= pairs.length / 2, `${exact} exact translations`);
    assert.ok(cached.some((g) => g.finishReason === 'stop'));
    // max_new_tokens cuts a row: 'length' with that many ids (or 'stop' at once on eos).
    const short = await model.generate(sources.slice(0, 3), { maxNewTokens: 1 });
    for (const g of short)
      assert.ok(
        (g.finishReason === 'length' && g.ids.length === 1) || (g.finishReason === 'stop' && g.ids.length === 0),
        JSON.stringify(g),
      );
    assert.ok(short.some((g) => g.finishReason === 'length'));
  } finally {
    await forward.dispose();
    await model.dispose();
  }
});

test('finetune predict on the translation run prints one translation per line, the run source_prefix in front', async () => {
  const pairs = toyPairs(6, 2);
  const input = join(dir, 'predict.jsonl');
  const output = join(dir, 'predict.out.jsonl');
  writeFileSync(input, toJsonl(pairs.map((p) => ({ text: p.source }))));
  assert.equal(await predictCommand.run(['--model', runDir, '--input', input, '--output', output]), 0);
  const lines = readFileSync(output, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { translation_text: string; finish_reason: string });
  const model = await loadSeq2Seq(runDir, { threads: 1 });
  try {
    const expected = await model.generate(pairs.map((p) => `translate: ${p.source}`));
    assert.deepEqual(
      lines,
      expected.map((g) => ({ translation_text: g.text, finish_reason: g.finishReason })),
    );
    process.stdout.write(`# predict: ${lines.map((l) => l.translation_text).join(' | ')}\n`);
  } finally {
    await model.dispose();
  }
  // Beam search flags: the lines are what generate() gives with the same options.
  const beamOut = join(dir, 'predict.beam.jsonl');
  const flags = [
    '--num-beams',
    '4',
    '--length-penalty',
    '0.5',
    '--no-repeat-ngram-size',
    '2',
    '--early-stopping',
    'never',
  ];
  assert.equal(await predictCommand.run(['--model', runDir, '--input', input, '--output', beamOut, ...flags]), 0);
  const beamModel = await loadSeq2Seq(runDir, { threads: 1 });
  try {
    const o = { numBeams: 4, lengthPenalty: 0.5, noRepeatNgramSize: 2, earlyStopping: 'never' } as const;
    const expected = await beamModel.generate(
      pairs.map((p) => `translate: ${p.source}`),
      o,
    );
    assert.deepEqual(
      readFileSync(beamOut, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
      expected.map((g) => ({ translation_text: g.text, finish_reason: g.finishReason })),
    );
  } finally {
    await beamModel.dispose();
  }
  await assert.rejects(
    predictCommand.run(['--model', runDir, '--input', input, '--early-stopping', 'soon']),
    /--early-stopping must be true, false or never, got 'soon'/,
  );
  await assert.rejects(
    predictCommand.run(['--model', runDir, '--input', input, '--stop', 'x']),
    /--stop and --repetition-penalty apply to causal LMs/,
  );
});

test('finetune predict on a summarization run prints summary_text (the task comes from the run: both save the same head)', async () => {
  // The translation run's model, as if trained with task: summarization (same head, same prefix).
  const summaryRun = join(dir, 'summary-run');
  cpSync(join(runDir, 'final'), join(summaryRun, 'final'), { recursive: true });
  const config = readFileSync(join(runDir, 'config.yaml'), 'utf8');
  assert.match(config, /^task: translation$/m);
  writeFileSync(join(summaryRun, 'config.yaml'), config.replace(/^task: translation$/m, 'task: summarization'));
  const input = join(dir, 'summarize.jsonl');
  const output = join(dir, 'summarize.out.jsonl');
  writeFileSync(input, toJsonl([{ text: toyPairs(1, 3)[0]?.source }]));
  assert.equal(
    await predictCommand.run(['--model', join(summaryRun, 'final'), '--input', input, '--output', output]),
    0,
  );
  const line = JSON.parse(readFileSync(output, 'utf8').trim()) as Record<string, unknown>;
  assert.deepEqual(Object.keys(line), ['summary_text', 'finish_reason']);
});

test('generation_config.json: max_new_tokens, else max_length − 1, else 19; bad values named', () => {
  const folder = mkdtempSync(join(tmpdir(), 't5-gencfg-'));
  const arch = { decoderStartTokenId: 0, eosTokenId: 1, padTokenId: 0 } as Seq2SeqArch;
  try {
    assert.equal(seq2seqGenerationDefaults(folder, arch).maxNewTokens, 19); // GenerationConfig's max_length 20
    const write = (c: object) => writeFileSync(join(folder, 'generation_config.json'), JSON.stringify(c));
    write({ max_length: 5, decoder_start_token_id: 3, eos_token_id: [1, 7] });
    const { decoderStartTokenId, eosTokenIds, padTokenId, maxNewTokens } = seq2seqGenerationDefaults(folder, arch);
    assert.deepEqual(
      { decoderStartTokenId, eosTokenIds, padTokenId, maxNewTokens },
      { decoderStartTokenId: 3, eosTokenIds: [1, 7], padTokenId: 0, maxNewTokens: 4 },
    );
    write({ max_length: 5, max_new_tokens: 9 });
    assert.equal(seq2seqGenerationDefaults(folder, arch).maxNewTokens, 9);
    write({ max_new_tokens: -1 });
    assert.throws(
      () => seq2seqGenerationDefaults(folder, arch),
      /generation_config\.json: key 'max_new_tokens' must be an integer >= 0, got -1/,
    );
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});
