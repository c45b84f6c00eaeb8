/**
 * Reading and writing `config.json` (the type is models/hf-config.ts's `HfConfig`): a wrong value
 * of a shared key fails here, naming the key, rather than as a shape error deep in graph building.
 */
import { join } from 'node:path';
import { MAX_MODEL_JSON_BYTES } from '../../shared/limits.js';
import type { HfConfig } from '../models/hf-config.js';
import { FileTooLargeError, readTextBounded } from '../util/bounded-read.js';
import { writeTextAtomic } from './atomic.js';

export const CONFIG_FILE = 'config.json';

const NUMBER_KEYS = [
  'hidden_size',
  'num_hidden_layers',
  'num_attention_heads',
  'intermediate_size',
  'hidden_dropout_prob',
  'attention_probs_dropout_prob',
  'max_position_embeddings',
  'type_vocab_size',
  'layer_norm_eps',
  'initializer_range',
  'vocab_size',
] as const;

/** Reads and type-checks `<folder>/config.json`. */
export function readHfConfig(folder: string): HfConfig {
  const path = join(folder, CONFIG_FILE);
  let text: string;
  try {
    text = readTextBounded(path, MAX_MODEL_JSON_BYTES, "a model's config.json");
  } catch (error) {
    if (error instanceof FileTooLargeError) throw error;
    throw new Error(`${path} not found: a Hugging Face model folder needs its config.json next to the weights`);
  }
  let config: unknown;
  try {
    config = JSON.parse(text);
  } catch (error) {
    throw new Error(`${path} is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new Error(`${path} must hold a JSON object`);
  }
  const c = config as Record<string, unknown>;
  const bad = (key: string, expected: string) =>
    new Error(`${path}: "${key}" is ${JSON.stringify(c[key])}, expected ${expected}`);
  for (const key of NUMBER_KEYS) {
    if (c[key] !== undefined && typeof c[key] !== 'number') throw bad(key, 'a number');
  }
  // hidden_act is not checked: it is an object in some remote-code configs, and the model
  // family that reads it reports an activation it does not support.
  if (c.model_type !== undefined && typeof c.model_type !== 'string') throw bad('model_type', 'a string');
  if (
    c.architectures !== undefined &&
    !(Array.isArray(c.architectures) && c.architectures.every((a) => typeof a === 'string'))
  ) {
    throw bad('architectures', 'a list of class names');
  }
  if (c.pad_token_id !== undefined && c.pad_token_id !== null && typeof c.pad_token_id !== 'number') {
    throw bad('pad_token_id', 'a number or null');
  }
  if (c.id2label !== undefined) {
    const labels = c.id2label;
    if (typeof labels !== 'object' || labels === null || !Object.values(labels).every((v) => typeof v === 'string')) {
      throw bad('id2label', 'an object {"0": "label", ...}');
    }
    if (!Object.keys(labels).every((k) => /^\d+$/.test(k))) throw bad('id2label', 'integer keys ("0", "1", ...)');
  }
  if (c.label2id !== undefined) {
    const ids = c.label2id;
    if (typeof ids !== 'object' || ids === null || !Object.values(ids).every((v) => Number.isInteger(v))) {
      throw bad('label2id', 'an object {"label": 0, ...}');
    }
  }
  return c as HfConfig;
}

/** Escapes as Python's json.dumps(ensure_ascii=True) does: every non-ASCII code unit as \uXXXX. */
const asciiOnly = (json: string): string =>
  json.replace(/[\u007f-\uffff]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);

function pythonValue(value: unknown, indent: string): string {
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    const inner = `${indent}  `;
    return `[\n${value.map((v) => inner + pythonValue(v, inner)).join(',\n')}\n${indent}]`;
  }
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return '{}';
    const inner = `${indent}  `;
    // sort_keys compares strings, so "10" sorts before "2" (a JS object would order them numerically).
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const lines = entries.map(([k, v]) => `${inner}${asciiOnly(JSON.stringify(k))}: ${pythonValue(v, inner)}`);
    return `{\n${lines.join(',\n')}\n${indent}}`;
  }
  if (typeof value === 'number' && !Number.isFinite(value)) {
    // Python writes these non-standard tokens; JSON.stringify would write null.
    return Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity';
  }
  return asciiOnly(JSON.stringify(value ?? null));
}

/**
 * JSON as transformers writes its files: `json.dumps(obj, indent=2, sort_keys=True) + "\n"`.
 * Byte-identical output keeps diffs against Python-saved folders empty.
 */
export function pythonJson(value: unknown): string {
  return `${pythonValue(value, '')}\n`;
}

export function writeHfConfig(folder: string, config: HfConfig): void {
  writeTextAtomic(join(folder, CONFIG_FILE), pythonJson(config));
}
