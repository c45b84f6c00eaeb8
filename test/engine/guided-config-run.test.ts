import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { trainFromConfig } from '../../src/engine/train/finetune.js';
import type { RunStatus } from '../../src/shared/run-directory.js';
import { flow, workspace } from '../extension/fixtures/guided-workspace.js';
import { replaced } from '../fixtures/text-edit.js';

/**
 * Configs written by the guided New Fine-tune Config (test/extension/guided-flow.test.ts checks
 * that they validate) train as written: a BERT classifier with the detected columns and the
 * validation file beside the data, and GPT-2 chat SFT with LoRA on every linear layer. One epoch
 * each (the only edit), on the CPU, to keep the test short.
 */
for (const [model, data, task] of [
  ['./models/tiny-bert', 'data/train.jsonl', 'text-classification'],
  ['./models/chat-gpt2', 'data/chat.jsonl', 'causal-lm'],
] as const) {
  test(`a guided ${task} config trains to a final model`, async (t) => {
    const ws = workspace(t);
    const { path, value } = await flow(ws, model, data);
    assert.equal(value.task as unknown, task);
    writeFileSync(
      path,
      replaced(replaced(readFileSync(path, 'utf8'), /epochs: \d+/, 'epochs: 1'), 'device: auto', 'device: cpu'),
    );
    const runDir = join(ws.dir, 'run');
    const { outcome } = await trainFromConfig(path, runDir, { threads: 1 });
    assert.equal(outcome, 'completed');
    const status = JSON.parse(readFileSync(join(runDir, 'status.json'), 'utf8')) as RunStatus;
    assert.equal(status.state, 'completed');
    assert.ok(existsSync(join(runDir, 'final', 'model.safetensors')));
  });
}
