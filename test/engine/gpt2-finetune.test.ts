import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { evaluateCommand, exportCommand, predictCommand } from '../../src/engine/commands/model-commands.js';
import { encodeModel } from '../../src/engine/graph/onnx-codec.js';
import { type TensorData, tensorNumbers } from '../../src/engine/graph/types.js';
import { loadCausalLm } from '../../src/engine/inference/causal-lm-model.js';
import { SafetensorsFile } from '../../src/engine/io/safetensors.js';
import { createSession } from '../../src/engine/runtime.js';
import { buildInference } from '../../src/engine/step/step-graph.js';
import { collateLm } from '../../src/engine/tasks/causal-lm/recipe.js';
import { Tokenizer } from '../../src/engine/tokenize/index.js';
import { trainFromConfig } from '../../src/engine/train/finetune.js';
import type { RunEvent, RunStatus } from '../../src/shared/run-directory.js';
import { toJsonl } from '../fixtures/datasets.js';
import {
  GPT2_FIXTURE_SENTENCES,
  patternedLmConfig,
  patternedSentences,
  writePatternedLmData,
  writeTinyGpt2,
} from '../fixtures/tiny-gpt2.js';
import { captureStdout as capture } from './helpers/capture-stdout.js';

function tensorNames(file: string): string[] {
  const st = SafetensorsFile.open(file);
  try {
    return [...st.entries.keys()];
  } finally {
    st.close();
  }
}

let dir: string;
let runDir: string;
let events: RunEvent[];
const val = patternedSentences(40, 2);

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ft-gpt2-'));
  mkdirSync(join(dir, 'model'));
  writeTinyGpt2(join(dir, 'model'), GPT2_FIXTURE_SENTENCES);
  writePatternedLmData(dir, 240, val);
  writeFileSync(join(dir, 'lm.finetune.yaml'), patternedLmConfig({ epochs: 4 }));
  runDir = join(dir, 'run');
  const { outcome } = await trainFromConfig(join(dir, 'lm.finetune.yaml'), runDir, { threads: 1 });
  assert.equal(outcome, 'completed');
  events = readFileSync(join(runDir, 'events.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as RunEvent);
});

test('gpt2 causal-lm fine-tuning lowers validation perplexity through trainFromConfig', async () => {
  const status = JSON.parse(readFileSync(join(runDir, 'status.json'), 'utf8')) as RunStatus;
  assert.equal(status.state, 'completed');
  const evals = events.flatMap((e) => (e.type === 'eval' && e.metrics.perplexity !== undefined ? [e] : []));
  assert.equal(evals.length, 4);
  for (const e of evals)
    assert.ok(
      Math.abs(Math.exp(e.metrics.loss as number) - (e.metrics.perplexity as number)) <
        1e-6 * (e.metrics.perplexity as number),
    );
  // Before training: the pretrained (random) model on the same validation texts.
  const base = await loadCausalLm(join(dir, 'model'), { threads: 1 });
  const before = await base.evaluateTexts(val);
  await base.dispose();
  const first = evals[0]?.metrics.perplexity as number;
  const last = evals.at(-1)?.metrics.perplexity as number;
  assert.ok(last < first, `perplexity ${first} -> ${last}`);
  assert.ok(last < before.perplexity / 10, `perplexity ${before.perplexity} before training, ${last} after`);
  const log = readFileSync(join(runDir, 'engine.log'), 'utf8');
  assert.doesNotMatch(log, /unused weights|initialised \(not in the checkpoint\)/);
});

test('the n-gram baseline is logged and carried as an eval event at step 0', () => {
  const baseline = events.filter((e) => e.type === 'eval' && e.metrics.ngram_perplexity !== undefined);
  assert.equal(baseline.length, 1);
  const [b] = baseline as Extract<RunEvent, { type: 'eval' }>[];
  assert.equal(b?.step, 0);
  assert.deepEqual(Object.keys(b?.metrics ?? {}), ['ngram_perplexity']);
  assert.ok((b?.metrics.ngram_perplexity as number) > 1);
  const firstEval = events.findIndex((e) => e.type === 'eval');
  assert.equal(events[firstEval], b, 'the baseline comes before every trained evaluation');
  const logs = events.flatMap((e) => (e.type === 'log' ? [e.message] : []));
  assert.ok(logs.some((m) => /^n-gram baseline: order \d .*perplexity/.test(m)));
  // This patterned corpus makes order-3 modified-KN undefined: the fallback is said.
  assert.ok(logs.some((m) => /n-gram baseline: order 3 modified-kneser-ney is not defined/.test(m)));
});

test('final/: tied weights are saved without lm_head.weight and reload to the same logits', async () => {
  const final = join(runDir, 'final');
  const names = tensorNames(join(final, 'model.safetensors'));
  assert.ok(names.includes('transformer.wte.weight'));
  assert.ok(!names.some((n) => n.startsWith('lm_head')), names.join(', '));
  const config = JSON.parse(readFileSync(join(final, 'config.json'), 'utf8')) as { architectures: string[] };
  assert.deepEqual(config.architectures, ['GPT2LMHeadModel']);

  const reloaded = await loadCausalLm(final, { threads: 1 });
  const batch = collateLm(
    val.slice(0, 3).map((t) => ({ inputIds: reloaded.tokenizer.encode(t, null).ids })),
    reloaded.padId,
  );
  const feeds = { input_ids: batch.input_ids as TensorData, attention_mask: batch.attention_mask as TensorData };
  const exported = await createSession(new Uint8Array(readFileSync(join(final, 'model.onnx'))), { device: 'cpu' });
  const rebuilt = await createSession(encodeModel(buildInference(reloaded.model, reloaded.weights)), { device: 'cpu' });
  const a = tensorNumbers((await exported.run(feeds)).logits as TensorData);
  const b = tensorNumbers((await rebuilt.run(feeds)).logits as TensorData);
  await Promise.all([exported.dispose(), rebuilt.dispose()]);
  assert.equal(a.length, b.length);
  let maxDiff = 0;
  for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs((a[i] as number) - (b[i] as number)));
  assert.ok(maxDiff < 1e-5, `max logit difference ${maxDiff}`);
  // The reloaded weights score the validation set as the best evaluation did.
  const metrics = JSON.parse(readFileSync(join(final, 'metrics.json'), 'utf8')) as Record<string, number>;
  const scores = await reloaded.evaluateTexts(val);
  await reloaded.dispose();
  assert.ok(Math.abs(scores.perplexity - (metrics.perplexity as number)) < 1e-4 * scores.perplexity);
});

test('finetune evaluate --task causal-lm prints one JSON line with loss and perplexity', async () => {
  const final = join(runDir, 'final');
  const { code, out } = await capture(() =>
    evaluateCommand.run([
      '--model',
      final,
      '--task',
      'causal-lm',
      '--data',
      join(dir, 'val.jsonl'),
      '--text-column',
      'text',
    ]),
  );
  assert.equal(code, 0);
  const lines = out.trim().split('\n');
  assert.equal(lines.length, 1);
  const result = JSON.parse(lines[0] as string) as { loss: number; perplexity: number; tokens: number };
  assert.equal(typeof result.loss, 'number');
  // GPT-2's post-processor adds no token: every text predicts all of its tokens but the first.
  const tokenizer = Tokenizer.fromFolder(join(dir, 'model'));
  const predicted = val.reduce((n, text) => n + tokenizer.encode(text, null).ids.length - 1, 0);
  assert.equal(result.tokens, predicted);
  assert.ok(Math.abs(Math.exp(result.loss) - result.perplexity) < 1e-9 * result.perplexity);
  // a plain Hugging Face GPT-2 folder too (no run, no fine-tuning), and a run directory
  const base = JSON.parse(
    (
      await capture(() =>
        evaluateCommand.run(['--model', join(dir, 'model'), '--task', 'causal-lm', '--data', join(dir, 'val.jsonl')]),
      )
    ).out,
  ) as { loss: number };
  assert.ok(base.loss > result.loss);
  const viaRun = JSON.parse(
    (await capture(() => evaluateCommand.run(['--model', runDir, '--data', join(dir, 'val.jsonl')]))).out,
  ) as { loss: number };
  assert.equal(viaRun.loss, result.loss);
  // A tokenizer whose post-processor adds a BOS (Llama's TemplateProcessing): one more predicted token per text.
  const withBos = join(dir, 'model-bos');
  cpSync(join(dir, 'model'), withBos, { recursive: true });
  const tokPath = join(withBos, 'tokenizer.json');
  const tok = JSON.parse(readFileSync(tokPath, 'utf8')) as Record<string, unknown>;
  tok.post_processor = {
    type: 'TemplateProcessing',
    single: [{ SpecialToken: { id: '<|endoftext|>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
    pair: [{ Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
    special_tokens: {
      '<|endoftext|>': { id: '<|endoftext|>', ids: [tokenizer.eosTokenId], tokens: ['<|endoftext|>'] },
    },
  };
  writeFileSync(tokPath, JSON.stringify(tok));
  const bos = JSON.parse(
    (
      await capture(() =>
        evaluateCommand.run(['--model', withBos, '--task', 'causal-lm', '--data', join(dir, 'val.jsonl')]),
      )
    ).out,
  ) as { loss: number; tokens: number };
  assert.equal(bos.tokens, predicted + val.length);
  assert.notEqual(bos.loss, base.loss);
});

test('finetune predict on a causal LM returns {"text", "finish_reason"} continuations; export keeps the head tied', async () => {
  const input = join(dir, 'prompts.jsonl');
  writeFileSync(input, toJsonl([{ text: 'the cat sees' }, { text: 'my friend' }]));
  const { code, out } = await capture(() =>
    predictCommand.run(['--model', runDir, '--input', input, '--max-new-tokens', '6']),
  );
  assert.equal(code, 0);
  const rows = out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(rows.length, 2);
  for (const r of rows) {
    assert.deepEqual(Object.keys(r), ['text', 'finish_reason']);
    assert.equal(typeof r.text, 'string');
    assert.ok(r.finish_reason === 'stop' || r.finish_reason === 'length', String(r.finish_reason));
    assert.ok((r.text as string).length > 0);
  }
  // sampled with a seed: reproducible
  const sample = () =>
    capture(() =>
      predictCommand.run(['--model', runDir, '--input', input, '--temperature', '1.2', '--top-k', '20', '--seed', '7']),
    );
  assert.equal((await sample()).out, (await sample()).out);
  const exported = join(dir, 'exported');
  assert.equal((await capture(() => exportCommand.run([runDir, '--format', 'onnx', '--out', exported]))).code, 0);
  const names = tensorNames(join(exported, 'model.safetensors'));
  assert.ok(!names.includes('lm_head.weight'));
  readFileSync(join(exported, 'model.onnx'));
});
