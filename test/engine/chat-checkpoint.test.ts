import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { checkpointModel, isCheckpointFolder } from '../../src/engine/commands/checkpoint-model.js';
import { loadCausalLm } from '../../src/engine/inference/causal-lm-model.js';
import { generationOf } from '../../src/engine/inference/chat-server.js';
import { trainFromConfig } from '../../src/engine/train/finetune.js';
import { toJsonl } from '../fixtures/datasets.js';
import { GPT2_FIXTURE_SENTENCES, patternedSentences, writeTinyGpt2 } from '../fixtures/tiny-gpt2.js';

test('a LoRA checkpoint chats as the model final/ holds: base config and tokenizer, adapters merged', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'chat-ckpt-'));
  mkdirSync(join(dir, 'model'));
  writeTinyGpt2(join(dir, 'model'), GPT2_FIXTURE_SENTENCES);
  writeFileSync(join(dir, 'train.jsonl'), toJsonl(patternedSentences(64, 1).map((text) => ({ text }))));
  writeFileSync(
    join(dir, 'lm.finetune.yaml'),
    `model: ./model
task: causal-lm
data: {train: train.jsonl, max_length: 32, clean: {dedup: false}}
training:
  epochs: 1
  batch_size: 16
  learning_rate: 3.0e-2
  save_steps: 2
  method: lora
  lora: {r: 4, alpha: 8, target_modules: [c_attn]}
device: cpu
`,
  );
  const runDir = join(dir, 'run');
  const { outcome } = await trainFromConfig(join(dir, 'lm.finetune.yaml'), runDir, { threads: 1 });
  assert.equal(outcome, 'completed');
  const steps = readdirSync(join(runDir, 'checkpoints')).sort((a, b) => stepOf(a) - stepOf(b));
  // No validation: final/ is the weights of the last step, which the epoch's end checkpointed too.
  const last = join(runDir, 'checkpoints', steps.at(-1) as string);
  assert.ok(isCheckpointFolder(last));
  assert.ok(!isCheckpointFolder(join(runDir, 'final')));
  const materialized = await checkpointModel(last);
  const options = generationOf({ max_new_tokens: 10 });
  try {
    const fromCheckpoint = await loadCausalLm(materialized.folder, { threads: 1 });
    const final = await loadCausalLm(runDir, { threads: 1 });
    const base = await loadCausalLm(join(dir, 'model'), { threads: 1 });
    try {
      for (const prompt of ['the cat', 'a bird sees']) {
        const got = await fromCheckpoint.generate(prompt, options);
        assert.deepEqual(got.ids, (await final.generate(prompt, options)).ids, prompt);
        // The adapters count: the merged model differs from the base it started from.
        const loss = async (m: typeof base) => (await m.evaluateTexts(patternedSentences(8, 1))).loss;
        assert.ok((await loss(fromCheckpoint)) < (await loss(base)), 'the checkpoint is the trained model');
      }
    } finally {
      await Promise.all([fromCheckpoint.dispose(), final.dispose(), base.dispose()]);
    }
  } finally {
    materialized.dispose();
  }
  assert.equal(existsSync(materialized.folder), false, 'the temporary folder is removed');
});

const stepOf = (name: string) => Number(name.replace('step-', ''));
