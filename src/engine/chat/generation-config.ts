// generation_config.json's end-of-sequence ids: chat models stop on several (Llama 3 Instruct:
// <|end_of_text|>, <|eom_id|>, <|eot_id|>), so the file writes eos_token_id as an id or a list.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { MAX_MODEL_JSON_BYTES } from '../../shared/limits.js';
import { readJsonBounded } from '../util/bounded-read.js';

/** An eos_token_id value (an id, a list of ids, or absent) as a list; anything else is an error naming `where`. */
export function eosIdList(value: unknown, where: string): number[] {
  if (value === undefined || value === null) return [];
  const list = Array.isArray(value) ? value : [value];
  for (const id of list) {
    if (!Number.isSafeInteger(id) || (id as number) < 0) {
      throw new Error(`${where}: eos_token_id must be a token id or a list of token ids, got ${JSON.stringify(value)}`);
    }
  }
  return list as number[];
}

/**
 * The ids generation stops on: generation_config.json's eos_token_id (which transformers'
 * generate uses over config.json's), else `fallback` (config.json's eos_token_id or the
 * tokenizer's EOS), without repeats.
 */
export function generationStopIds(modelDir: string, fallback: readonly (number | null)[]): number[] {
  const path = join(modelDir, 'generation_config.json');
  let ids: number[] = [];
  if (existsSync(path)) {
    const config = readJsonBounded(path, MAX_MODEL_JSON_BYTES, 'a generation_config.json') as Record<string, unknown>;
    ids = eosIdList(config.eos_token_id, path);
  }
  if (ids.length === 0) ids = fallback.filter((id): id is number => id !== null);
  return [...new Set(ids)];
}
