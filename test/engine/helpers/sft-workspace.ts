import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { toJsonl } from '../../fixtures/datasets.js';
import { type LlamaLikeType, writeTinyDecoder } from '../../fixtures/tiny-decoders.js';
import { GPT2_FIXTURE_SENTENCES, patternedSentences } from '../../fixtures/tiny-gpt2.js';

/**
 * The chat-models issue's (#14) done-when config, verbatim: full fine-tuning of a causal LM on
 * prompt-completion rows from `./model`, two epochs of batch 4 on the CPU.
 */
export const SFT_DONE_WHEN_CONFIG = `model: ./model
task: causal-lm
data: {train: sft.jsonl, format: prompt-completion, max_length: 64, shuffle: false}
training: {method: full, epochs: 2, batch_size: 4, learning_rate: 2.0e-3, weight_decay: 0.01,
           warmup_ratio: 0, scheduler: linear, max_grad_norm: 1.0, seed: 42}
device: cpu
`;

/**
 * Prompt-completion rows cut from the patterned sentences: the prompt is the subject and verb, the
 * completion the rest ("the cat sees" -> " the ball every day."), so a reply is learnable from its prompt.
 */
export function promptCompletionRows(count: number, seed: number): { prompt: string; completion: string }[] {
  return patternedSentences(count, seed).map((s) => {
    const words = s.split(' ');
    return { prompt: words.slice(0, 3).join(' '), completion: ` ${words.slice(3).join(' ')}` };
  });
}

/**
 * A folder as a user would have it: `model/` with a tiny random `type` checkpoint in bfloat16 and
 * its tokenizer.json + tokenizer_config.json, `sft.jsonl` with `rows` prompt-completion rows, and
 * `x.finetune.yaml` holding `config`. Returns the config's path.
 */
export function writeSftWorkspace(
  dir: string,
  type: LlamaLikeType,
  o: { rows?: number; config?: string; data?: string } = {},
): string {
  mkdirSync(join(dir, 'model'), { recursive: true });
  writeTinyDecoder(join(dir, 'model'), type, { seed: 3, dtype: 'bfloat16', sentences: GPT2_FIXTURE_SENTENCES });
  writeFileSync(join(dir, 'sft.jsonl'), o.data ?? toJsonl(promptCompletionRows(o.rows ?? 32, 5)));
  const config = join(dir, 'x.finetune.yaml');
  writeFileSync(config, o.config ?? SFT_DONE_WHEN_CONFIG);
  return config;
}
