import { stringify } from 'yaml';
import { OFFSET_POSITIONS } from './config-files.js';
import { SEQ2SEQ_TASKS } from './config-seq2seq-rules.js';
import type { TaskName } from './config-tasks.js';
import type { TaskSuggestion } from './dataset-detect.js';

/**
 * The config the guided New Fine-tune Config writes once the user has picked a model and a dataset
 * and confirmed the task: the picked values, not placeholders, and training settings that suit the
 * task (those of the task templates in src/extension/configs/templates.ts). Browser-safe.
 */
export interface GuidedChoices {
  /** `model:` as the config names it: a path relative to the config's folder, or a Hub id. */
  model: string;
  /** What the picker read of the model, when it could (a typed Hub id has nothing). */
  modelInfo?: { modelType?: string; positions?: number };
  suggestion: TaskSuggestion;
  /** Data files, relative to the config's folder. */
  train: string;
  validation?: string;
}

/** max_length per task before the model's positions cap it: QA's run_qa.py 384, chat 512. */
function maxLengthFor(task: TaskName, chat: boolean): number {
  if (task === 'question-answering') return 384;
  if (task === 'causal-lm') return chat ? 512 : 256;
  return 128;
}

function trainingFor(task: TaskName, modelType: string | undefined): Record<string, unknown> {
  if (task === 'causal-lm' && modelType !== 'xlnet')
    // LoRA on every linear layer (PEFT's all-linear, r 16 / alpha 32): far less memory than full
    // fine-tuning of a decoder, at the learning rate TRL's LoRA examples use.
    return {
      method: 'lora',
      epochs: 1,
      batch_size: 8,
      learning_rate: 2e-4,
      warmup_ratio: 0.05,
      scheduler: 'cosine',
      lora: { r: 16, alpha: 32, dropout: 0.05, target_modules: 'all-linear' },
    };
  return {
    method: 'full',
    epochs: 3,
    batch_size: 16,
    // Trainer's default, which run_translation.py and run_summarization.py train with.
    learning_rate:
      task === 'text-classification' || task === 'token-classification' || task === 'question-answering' ? 3e-5 : 5e-5,
    weight_decay: 0.01,
    warmup_ratio: 0.1,
    scheduler: 'linear',
    seed: 42,
  };
}

/** T5's names of the languages its translation prefixes name (its paper's WMT pairs). */
const T5_LANGUAGES: Readonly<Record<string, string>> = { en: 'English', de: 'German', fr: 'French', ro: 'Romanian' };

/**
 * The prefix T5 (not mT5, which was trained without) expects before a source, as the examples
 * pass `--source_prefix`: "summarize: ", "translate English to German: " (when both languages are
 * ones T5 knows by name).
 */
function t5Prefix(task: TaskName, columns: TaskSuggestion['data']): string | undefined {
  if (task === 'summarization') return 'summarize: ';
  const from = T5_LANGUAGES[columns.source_lang ?? ''];
  const to = T5_LANGUAGES[columns.target_lang ?? ''];
  return task === 'translation' && from && to ? `translate ${from} to ${to}: ` : undefined;
}

/** The config as a value, in the key order of the templates. */
export function guidedConfigValue(c: GuidedChoices): Record<string, unknown> {
  const { task, data: columns, metrics } = c.suggestion;
  const modelType = c.modelInfo?.modelType;
  let maxLength = maxLengthFor(task, columns.format === 'messages' || columns.format === 'prompt-completion');
  const positions = c.modelInfo?.positions;
  if (positions !== undefined)
    maxLength = Math.min(maxLength, OFFSET_POSITIONS.has(modelType ?? '') ? positions - 2 : positions);
  // XLNet's permutation LM needs an even max_length (run_plm's blocks).
  if (modelType === 'xlnet' && task === 'causal-lm') maxLength -= maxLength % 2;
  const data: Record<string, unknown> = { train: c.train };
  if (c.validation !== undefined) data.validation = c.validation;
  else data.validation_split = 0.1;
  Object.assign(data, columns);
  if (SEQ2SEQ_TASKS.includes(task)) {
    // Seq2seq reads max_source_length/max_target_length (their defaults), not max_length.
    const prefix = modelType === 't5' ? t5Prefix(task, columns) : undefined;
    if (prefix !== undefined) data.source_prefix = prefix;
  } else data.max_length = maxLength;
  return {
    model: c.model,
    task,
    data,
    training: trainingFor(task, modelType),
    eval: { every: 'epoch', metrics },
    device: 'auto',
  };
}

/** The config file's text: YAML with a comment saying what was detected, or JSON. */
export function guidedConfigText(c: GuidedChoices, format: 'yaml' | 'json'): string {
  const value = guidedConfigValue(c);
  if (format === 'json') return `${JSON.stringify(value, null, 2)}\n`;
  const labels = c.suggestion.labels;
  const shown = labels.length > 8 ? `${labels.slice(0, 8).join(', ')}, …` : labels.join(', ');
  const header = [
    `# Written by New Fine-tune Config from ${c.train}: ${c.suggestion.reason}.`,
    ...(labels.length > 0 ? [`# Labels seen in its first rows: ${shown}.`] : []),
    '# Every key is described on hover; Validate checks the model, the data files and their columns.',
  ];
  return `${header.join('\n')}\n${stringify(value, { lineWidth: 0, flowCollectionPadding: false })}`;
}

/**
 * A validation file beside the training file: the same folder and extension, `train` in its name
 * replaced by validation, valid, val, dev or eval (train.jsonl -> validation.jsonl, sst2_train.csv
 * -> sst2_dev.csv). Paths use `/`.
 */
export function validationSibling(train: string, files: readonly string[]): string | undefined {
  const slash = train.lastIndexOf('/');
  const dir = train.slice(0, slash + 1);
  const name = train.slice(slash + 1);
  if (!/train/i.test(name)) return undefined;
  for (const word of ['validation', 'valid', 'val', 'dev', 'eval']) {
    const candidate = `${dir}${name.replace(/train(ing)?/i, word)}`;
    if (candidate !== train && files.includes(candidate)) return candidate;
  }
  return undefined;
}
