import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { exportCommand, predictCommand } from '../../src/engine/commands/model-commands.js';
import { decodeModel } from '../../src/engine/graph/onnx-codec.js';
import { SEQ2SEQ_ONNX_FILES } from '../../src/engine/inference/seq2seq-onnx-layout.js';
import { loadServedModel } from '../../src/engine/serve/served-model.js';
import { trainFromConfig } from '../../src/engine/train/finetune.js';
import { toJsonl } from '../fixtures/datasets.js';
import { toyPairs, writeTinyT5 } from '../fixtures/tiny-t5.js';
import { predict as post, startServer } from './serve/helpers.js';

/**
 * `finetune export --format onnx` of a translation run writes Optimum's seq2seq layout
 * (encoder_model.onnx, decoder_model.onnx, decoder_with_past_model.onnx: the names and symbolic dims
 * of optimum's OnnxSeq2SeqConfigWithPast / TextSeq2SeqOnnxConfig), and predict and serve generate
 * from those files exactly what they generate from the run's final/ weights.
 */
let dir = '';
let runDir = '';
let exported = '';
const L = 2; // the tiny T5's decoder blocks (num_decoder_layers)
const HEADS = 4;
const HEAD_DIM = 4;
const D_MODEL = 16;
let vocab = 0;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 't5-export-'));
  mkdirSync(join(dir, 'model'));
  vocab = writeTinyT5(join(dir, 'model'), { seed: 3 }).vocab_size as number;
  writeFileSync(join(dir, 'train.jsonl'), toJsonl(toyPairs(48, 7).map((p) => ({ en: p.source, toy: p.target }))));
  writeFileSync(join(dir, 'input.jsonl'), toJsonl(toyPairs(6, 8).map((p) => ({ text: p.source }))));
  writeFileSync(
    join(dir, 'x.finetune.yaml'),
    `model: ./model
task: translation
data: {train: train.jsonl, source_column: en, target_column: toy, source_prefix: 'translate: '}
training: {epochs: 2, batch_size: 8, learning_rate: 3.0e-3, dropout: 0.0}
device: cpu
`,
  );
  runDir = join(dir, 'run');
  assert.equal((await trainFromConfig(join(dir, 'x.finetune.yaml'), runDir, { threads: 1 })).outcome, 'completed');
  exported = join(dir, 'exported');
  assert.equal(await exportCommand.run([runDir, '--format', 'onnx', '--out', exported]), 0);
});

after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

type Dims = (string | number)[];
function signature(file: string): { inputs: Record<string, Dims>; outputs: Record<string, Dims> } {
  const { graph } = decodeModel(readFileSync(join(exported, file)));
  const dims = (name: string) => [...(graph.values.get(name)?.shape ?? [])] as Dims;
  return {
    inputs: Object.fromEntries(graph.inputs.map((n) => [n, dims(n)])),
    outputs: Object.fromEntries(graph.outputs.map((n) => [n, dims(n)])),
  };
}

const kv = (prefix: string, part: string, length: string | number) =>
  Object.fromEntries(
    Array.from({ length: L }, (_, i) =>
      ['key', 'value'].map((k) => [`${prefix}.${i}.${part}.${k}`, ['batch_size', HEADS, length, HEAD_DIM]]),
    ).flat(),
  );

test("the three files carry Optimum's input/output names and shapes; config and generation_config go with them", () => {
  assert.deepEqual(signature(SEQ2SEQ_ONNX_FILES.encoder), {
    inputs: {
      input_ids: ['batch_size', 'encoder_sequence_length'],
      attention_mask: ['batch_size', 'encoder_sequence_length'],
    },
    outputs: { last_hidden_state: ['batch_size', 'encoder_sequence_length', D_MODEL] },
  });
  assert.deepEqual(signature(SEQ2SEQ_ONNX_FILES.decoder), {
    inputs: {
      input_ids: ['batch_size', 'decoder_sequence_length'],
      encoder_attention_mask: ['batch_size', 'encoder_sequence_length'],
      encoder_hidden_states: ['batch_size', 'encoder_sequence_length', D_MODEL],
    },
    outputs: {
      logits: ['batch_size', 'decoder_sequence_length', vocab],
      ...kv('present', 'decoder', 'decoder_sequence_length'),
      ...kv('present', 'encoder', 'encoder_sequence_length'),
    },
  });
  const withPast = signature(SEQ2SEQ_ONNX_FILES.decoderWithPast);
  assert.deepEqual(withPast.inputs, {
    input_ids: ['batch_size', 1],
    encoder_attention_mask: ['batch_size', 'encoder_sequence_length'],
    ...kv('past_key_values', 'decoder', 'past_decoder_sequence_length'),
    ...kv('past_key_values', 'encoder', 'encoder_sequence_length'),
  });
  assert.deepEqual(withPast.outputs, {
    logits: ['batch_size', 1, vocab],
    ...kv('present', 'decoder', 'past_decoder_sequence_length + 1'),
  });
  const config = JSON.parse(readFileSync(join(exported, 'config.json'), 'utf8')) as Record<string, unknown>;
  assert.deepEqual(
    [config.architectures, config.finetuning_task, config.prefix],
    [['T5ForConditionalGeneration'], 'translation', 'translate: '],
  );
  // GenerationConfig.from_model_config of the tiny T5's config.json (start = pad = 0, eos 1).
  const generation = JSON.parse(readFileSync(join(exported, 'generation_config.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  assert.deepEqual([generation.decoder_start_token_id, generation.eos_token_id, generation.pad_token_id], [0, 1, 0]);
  for (const f of ['tokenizer.json', 'model.onnx']) assert.ok(existsSync(join(exported, f)), f);
});

const predictLines = async (model: string, out: string, ...extra: string[]) => {
  const output = join(dir, out);
  assert.equal(
    await predictCommand.run(['--model', model, '--input', join(dir, 'input.jsonl'), '--output', output, ...extra]),
    0,
  );
  return readFileSync(output, 'utf8').trim().split('\n');
};

test("predict from the exported files (no weights left) equals predict from the run's final/, cached or not", async () => {
  // Without model.safetensors only the ONNX files can answer: the prefix comes from config.json.
  rmSync(join(exported, 'model.safetensors'));
  const fromRun = await predictLines(runDir, 'run.jsonl');
  assert.equal(fromRun.length, 6);
  assert.ok(
    fromRun.every((l) => 'translation_text' in JSON.parse(l)),
    fromRun.join('\n'),
  );
  assert.deepEqual(await predictLines(exported, 'export.jsonl'), fromRun);
  assert.deepEqual(await predictLines(exported, 'export-no-cache.jsonl', '--no-cache'), fromRun);
});

test('serve --model <export>: POST /predict answers as the translation pipeline, with the same text as predict', async () => {
  const expected = (await predictLines(runDir, 'run2.jsonl')).map(
    (l) => (JSON.parse(l) as { translation_text: string }).translation_text,
  );
  const inputs = readFileSync(join(dir, 'input.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { text: string }).text);
  const model = await loadServedModel(exported, 'export');
  const server = await startServer(model);
  try {
    const one = await post(server.url, { inputs: inputs[0] });
    assert.deepEqual(one, { status: 200, body: [{ translation_text: expected[0] }] });
    const many = await post(server.url, { inputs });
    assert.deepEqual(many, { status: 200, body: expected.map((t) => ({ translation_text: t })) });
    const bad = await post(server.url, { inputs: 'x', parameters: { num_beams: 4 } });
    assert.equal(bad.status, 400);
    const message = (bad.body as { error: { message: string } }).error.message;
    assert.equal(message, 'unknown parameter "num_beams" (this task takes max_new_tokens)');
  } finally {
    await server.close();
    await model.dispose();
  }
});

test('export --quantize int8 of an encoder-decoder is refused, naming why', async () => {
  await assert.rejects(
    exportCommand.run([runDir, '--format', 'onnx', '--out', join(dir, 'q'), '--quantize', 'int8']),
    /--quantize int8 applies to task models \(classification, question answering\) and causal LMs; .* is an encoder-decoder/,
  );
  assert.ok(!existsSync(join(dir, 'q')));
});
