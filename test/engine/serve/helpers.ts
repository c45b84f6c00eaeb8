import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_MAX_BODY_BYTES, ServeApp, type ServeOptions } from '../../../src/engine/serve/app.js';
import type { ServedModel } from '../../../src/engine/serve/served-model.js';
import { encoderRecipe } from '../../../src/engine/tasks/encoder/recipe.js';
import { qaRecipe } from '../../../src/engine/tasks/question-answering/recipe.js';
import { Tokenizer } from '../../../src/engine/tokenize/index.js';
import { exportFinal } from '../../../src/engine/train/final-export.js';
import { applyDefaults } from '../../../src/shared/config-validate.js';
import { FIXTURE_SENTENCES } from '../../fixtures/datasets.js';
import { SQUAD_SENTENCES, writeTinyQaModel } from '../../fixtures/qa-datasets.js';
import { writeTinyModel } from '../../fixtures/tiny-models.js';
import { writeTinyT5 } from '../../fixtures/tiny-t5.js';

/** A server over `model` on 127.0.0.1, a free port; `close` drains it. */
export async function startServer(
  model: ServedModel,
  o: Partial<ServeOptions> = {},
): Promise<{ app: ServeApp; url: string; close: () => Promise<void> }> {
  const app = new ServeApp(model, {
    maxBatch: 16,
    maxWaitMs: 5,
    maxConcurrency: 64,
    maxBodyBytes: DEFAULT_MAX_BODY_BYTES,
    ...o,
  });
  const { url } = await app.listen('127.0.0.1', 0);
  return { app, url, close: () => app.drain() };
}

/** POST /predict with a JSON body: the status and the parsed reply. */
export async function predict(url: string, body: unknown): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${url}/predict`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as unknown };
}

/**
 * A fine-tuned encoder folder without training: a tiny random BERT with a randomly initialised
 * head of `labels`, written as a run's final/ is (config.json with architectures and id2label).
 */
export function writeTinyFinetuned(
  dir: string,
  task: 'text-classification' | 'token-classification',
  labels: readonly string[],
  seed = 5,
): string {
  const base = join(dir, 'base');
  mkdirSync(base, { recursive: true });
  writeTinyModel(base, 'bert', FIXTURE_SENTENCES, seed);
  const recipe = encoderRecipe({
    config: applyDefaults({ model: base, task, data: { train: '', max_length: 32 } }),
    modelDir: base,
    tokenizer: Tokenizer.fromFolder(base),
    labelSet: { labels: [...labels], ids: new Map(labels.map((l, i) => [l, i])), order: 'model-config' },
    seed,
  });
  const final = join(dir, 'final');
  exportFinal(final, { recipe, weights: recipe.weights, modelDir: base, metrics: undefined });
  return final;
}

/**
 * A fine-tuned extractive-QA folder without training: a tiny random BERT whose QA head has weight 0
 * and bias `[startBias, endBias]`, so every token's start logit is startBias and its end logit
 * endBias, whatever the input: the pipeline's probabilities are then countable by hand.
 */
export function writeTinyQaFinetuned(dir: string, bias: [number, number] = [0, 0]): string {
  const base = join(dir, 'base');
  mkdirSync(base, { recursive: true });
  writeTinyQaModel(base, 'bert', SQUAD_SENTENCES, 64);
  const recipe = qaRecipe({
    config: applyDefaults({ model: base, task: 'question-answering', data: { train: '', max_length: 64 } }),
    modelDir: base,
    tokenizer: Tokenizer.fromFolder(base),
    labelSet: undefined,
    seed: 5,
  });
  const head = recipe.weights.get('qa_outputs.weight');
  const headBias = recipe.weights.get('qa_outputs.bias');
  if (!head || !headBias) throw new Error('the QA recipe has no qa_outputs head');
  (head.data as Float32Array).fill(0);
  (headBias.data as Float32Array).set(bias);
  const final = join(dir, 'final');
  exportFinal(final, { recipe, weights: recipe.weights, modelDir: base, metrics: undefined });
  return final;
}

/** Reads a metric's value (summed over the series whose labels include `labels`) from /metrics text. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = m[2] ?? '';
    if (Object.entries(labels).every(([k, v]) => have.includes(`${k}="${v}"`))) total += Number(m[3]);
  }
  return total;
}

/**
 * A seq2seq run directory as training leaves it, without training: config.yaml (task, source_prefix)
 * beside final/, a tiny random T5. Returns final/.
 */
export function writeTinySeq2SeqRun(runDir: string, task: 'translation' | 'summarization', prefix: string): string {
  const final = join(runDir, 'final');
  mkdirSync(final, { recursive: true });
  writeTinyT5(final, { seed: 3 });
  writeFileSync(
    join(runDir, 'config.yaml'),
    `model: ${final}\ntask: ${task}\ndata:\n  train: train.jsonl\n  source_column: source\n  target_column: target\n  source_prefix: '${prefix}'\n`,
  );
  return final;
}
