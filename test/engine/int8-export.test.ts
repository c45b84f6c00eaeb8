import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { exportCommand } from '../../src/engine/commands/model-commands.js';
import { decodeModel } from '../../src/engine/graph/onnx-codec.js';
import { type TensorData, tensorNumbers } from '../../src/engine/graph/types.js';
import { type FinetunedModel, loadFinetuned } from '../../src/engine/inference/finetuned-model.js';
import type { QuantizationReport } from '../../src/engine/inference/int8-check.js';
import { predictLine } from '../../src/engine/inference/predict.js';
import { readSafetensors, writeSafetensors } from '../../src/engine/io/safetensors.js';
import { createSession } from '../../src/engine/runtime.js';
import { loadServedModel } from '../../src/engine/serve/served-model.js';
import { collateEncoded } from '../../src/engine/tasks/encoder/encoded.js';
import { sentimentRows, toJsonl } from '../fixtures/datasets.js';
import { writeTinyFinetuned } from './serve/helpers.js';

let dir = '';
let final = '';
const LABELS = ['negative', 'positive'];

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'ft-int8-'));
  final = writeTinyFinetuned(join(dir, 'tiny'), 'text-classification', LABELS);
  writeFileSync(join(dir, 'val.jsonl'), toJsonl(sentimentRows(64, 2)));
});

const logitsOf = async (model: FinetunedModel, text: string) =>
  ((await predictLine(model, { text }, 'text', 'test')) as { logits: number[] }).logits;

const TEXTS = sentimentRows(6, 3).map((r) => r.text);

/** The logits of an exported model.onnx over `texts` as one padded batch. */
async function exportedLogits(model: FinetunedModel, folder: string, texts: string[]): Promise<number[]> {
  const batch = collateEncoded(
    texts.map((text) => {
      const enc = model.tokenizer.encode(text, null, { maxLength: model.recipe.maxLength });
      return { inputIds: enc.ids, tokenTypeIds: enc.tokenTypeIds, label: 0 };
    }),
    model.recipe.collateOptions,
  );
  const { labels: _, ...inputs } = batch;
  const session = await createSession(new Uint8Array(readFileSync(join(folder, 'model.onnx'))), { device: 'cpu' });
  const out = tensorNumbers((await session.run(inputs)).logits as TensorData);
  await session.dispose();
  return out;
}

const opTypes = (file: string) => decodeModel(new Uint8Array(readFileSync(file))).graph.nodes.map((n) => n.opType);
const count = (xs: string[], x: string) => xs.filter((y) => y === x).length;

test('export --quantize int8: the MatMulInteger pattern for every linear layer, logits near float32, quantization.json', async () => {
  const floatOut = join(dir, 'float');
  const int8Out = join(dir, 'int8');
  assert.equal(await exportCommand.run([final, '--format', 'onnx', '--out', floatOut]), 0);
  assert.equal(
    await exportCommand.run([
      final,
      '--format',
      'onnx',
      '--out',
      int8Out,
      '--quantize',
      'int8',
      '--data',
      join(dir, 'val.jsonl'),
    ]),
    0,
  );
  const floatOps = opTypes(join(floatOut, 'model.onnx'));
  const int8Ops = opTypes(join(int8Out, 'model.onnx'));
  // Every Gemm of the float export (the tiny BERT's linear layers, pooler and classifier) is one
  // MatMulInteger, with a Cast and two Muls (ORT's pattern) and its bias Add; no Gemm is left.
  const linears = count(floatOps, 'Gemm');
  assert.ok(linears >= 8, `${linears} linear layers`);
  assert.equal(count(int8Ops, 'Gemm'), 0);
  assert.equal(count(int8Ops, 'MatMulInteger'), linears);
  assert.equal(count(int8Ops, 'DynamicQuantizeLinear'), linears);
  assert.equal(count(int8Ops, 'Cast') - count(floatOps, 'Cast'), linears);
  assert.equal(count(int8Ops, 'Mul') - count(floatOps, 'Mul'), 2 * linears);
  assert.ok(readFileSync(join(int8Out, 'model.onnx')).length < readFileSync(join(floatOut, 'model.onnx')).length);

  // Both exports on the same padded batch: int8 logits within 0.1 of float32's. The tiny model's
  // logits reach about 1 (measured: max |logit| 1.06, max |diff| 0.035 over 2 layers of int8
  // rounding); a wrong scale or a transposed weight moves them by O(1).
  const model = await loadFinetuned(final, { device: 'cpu' });
  const [f, q] = [await exportedLogits(model, floatOut, TEXTS), await exportedLogits(model, int8Out, TEXTS)];
  const diff = Math.max(...f.map((x, i) => Math.abs(x - (q[i] as number))));
  assert.ok(diff < 0.1 && diff > 0, `max |int8 - float32| logit = ${diff}`);

  // The report: float32's accuracy is what the float model scores on the file; the drop is within
  // the default bound of 1 point on this fixture.
  const report = JSON.parse(readFileSync(join(int8Out, 'quantization.json'), 'utf8')) as QuantizationReport;
  const gold = sentimentRows(64, 2);
  let correct = 0;
  for (const row of gold) {
    const l = await logitsOf(model, row.text);
    if (LABELS[(l[1] as number) > (l[0] as number) ? 1 : 0] === row.label) correct++;
  }
  await model.dispose();
  assert.equal(report.metric, 'accuracy x 100');
  assert.equal(report.validation.examples, 64);
  assert.ok(Math.abs(report.float32 - (100 * correct) / 64) < 1e-9, `${report.float32} vs ${correct}/64`);
  assert.ok(report.drop <= 1 && report.accepted, JSON.stringify(report));
  assert.equal(report.max_drop, 1);
});

test('serve --quantize int8 runs the same rewrite: /predict logits are the exported int8 model logits on one batch', async () => {
  const exported = join(dir, 'int8');
  assert.ok(existsSync(join(exported, 'model.onnx')), 'runs after the export test');
  const served = await loadServedModel(final, 'tiny', { device: 'cpu', quantize: 'int8' });
  assert.ok(served.kind === 'pipeline');
  const q = ((await served.pipeline.run(TEXTS)) as number[][]).flat();
  await served.dispose();
  const model = await loadFinetuned(final, { device: 'cpu' });
  const e = await exportedLogits(model, exported, TEXTS);
  const f = await exportedLogits(model, join(dir, 'float'), TEXTS);
  await model.dispose();
  // The served graph also computes a loss, so it is not the exported file; its linear layers are
  // the same quantized ones on the same batch, so at most float rounding order differs (measured: 0).
  const vsExport = Math.max(...q.map((x, i) => Math.abs(x - (e[i] as number))));
  const vsFloat = Math.max(...q.map((x, i) => Math.abs(x - (f[i] as number))));
  assert.ok(vsExport < 1e-5, `served int8 vs exported int8: ${vsExport}`);
  assert.ok(vsFloat > 1e-4, `served int8 vs float32: ${vsFloat} (the int8 path ran)`);
});

test('export --quantize int8 is refused, writing nothing, when the drop exceeds --max-drop', async () => {
  // A knife-edge fixture: int8 moves example 0's logit margin by d (the bias Add stays float32, so
  // d does not depend on the bias); shifting the head's bias puts float32's margin at -d/2, so
  // int8's is +d/2 and the two predictions differ. Its label is float32's prediction: float32
  // scores 100, int8 0, a drop of 100 points > --max-drop 0.
  const knife = writeTinyFinetuned(join(dir, 'knife'), 'text-classification', LABELS, 6);
  const text = sentimentRows(1, 4)[0]?.text as string;
  const float = await loadFinetuned(knife, { device: 'cpu' });
  const int8 = await loadFinetuned(knife, { device: 'cpu', quantize: 'int8' });
  const [f, q] = [await logitsOf(float, text), await logitsOf(int8, text)];
  await float.dispose();
  await int8.dispose();
  const margin = (l: number[]) => (l[1] as number) - (l[0] as number);
  const d = margin(q) - margin(f);
  assert.ok(d !== 0);
  const file = join(knife, 'model.safetensors');
  const { tensors } = readSafetensors(file);
  const bias = tensors.get('classifier.bias')?.data as Float32Array;
  bias[1] = (bias[1] as number) - d / 2 - margin(f);
  writeSafetensors(file, tensors);
  const shifted = await loadFinetuned(knife, { device: 'cpu' });
  const label = margin(await logitsOf(shifted, text)) > 0 ? 'positive' : 'negative';
  await shifted.dispose();
  writeFileSync(join(dir, 'knife.jsonl'), toJsonl([{ text, label }]));

  const out = join(dir, 'refused');
  const args = [knife, '--format', 'onnx', '--out', out, '--quantize', 'int8', '--data', join(dir, 'knife.jsonl')];
  await assert.rejects(
    exportCommand.run([...args, '--max-drop', '0']),
    /int8 quantization refused: accuracy x 100 drops by 100\.00 points .*float32 100\.00, int8 0\.00, 1 examples.*--max-drop 0/,
  );
  assert.ok(!existsSync(join(out, 'model.onnx')) && !existsSync(join(out, 'quantization.json')));
  // The default bound refuses it too; a bound of 100 points accepts it.
  await assert.rejects(exportCommand.run(args), /refused/);
  assert.equal(await exportCommand.run([...args, '--max-drop', '100']), 0);
  assert.equal((JSON.parse(readFileSync(join(out, 'quantization.json'), 'utf8')) as QuantizationReport).drop, 100);
});

test('export --quantize: bad combinations are usage errors', async () => {
  const out = join(dir, 'bad');
  await assert.rejects(
    exportCommand.run([final, '--format', 'safetensors', '--out', out, '--quantize', 'int8']),
    /--quantize int8 writes model.onnx/,
  );
  await assert.rejects(
    exportCommand.run([final, '--format', 'onnx', '--out', out, '--quantize', 'int4']),
    /--quantize/,
  );
  await assert.rejects(
    exportCommand.run([final, '--format', 'onnx', '--out', out, '--quantize', 'int8', '--max-drop', 'x']),
    /--max-drop must be a number/,
  );
  await assert.rejects(
    exportCommand.run([final, '--format', 'onnx', '--out', out, '--max-drop', '2']),
    /--quantize int8 only/,
  );
  // A bare model folder has no run config to take validation data from.
  await assert.rejects(
    exportCommand.run([final, '--format', 'onnx', '--out', out, '--quantize', 'int8']),
    /not a run's final model.*--data/,
  );
});
