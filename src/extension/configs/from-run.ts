import { existsSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { RUN_FILES } from '../../shared/run-directory.js';
import { configName } from '../../shared/run-id.js';

/**
 * "Fine-tune from This Run": the config that starts a task from a completed pre-training run's
 * final/ (run_mlm.py then run_glue.py; LLaMA-Factory's pt stage then sft). A masked-LM run gets a
 * text classifier, whose recipe drops the MLM head and initialises the classification head; a
 * causal-LM run on plain text gets supervised fine-tuning on prompt-completion rows. The data
 * entries are placeholders the user edits (validation names the missing file until then). No
 * 'vscode' import: unit-tested in plain Node.
 */
export type PretrainingTask = 'masked-lm' | 'causal-lm';

type Config = Record<string, unknown>;

const section = (config: Config, key: string): Config => {
  const v = config[key];
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Config) : {};
};

/**
 * The pre-training task of a run's resolved config (config.yaml): masked-lm, or causal-lm on plain
 * text (not already supervised fine-tuning on prompt-completion or messages rows); else undefined.
 */
export function pretrainingTaskOf(config: Config | undefined): PretrainingTask | undefined {
  if (!config) return undefined;
  if (config.task === 'masked-lm') return 'masked-lm';
  const format = section(config, 'data').format;
  if (config.task === 'causal-lm' && (format === undefined || format === 'text')) return 'causal-lm';
  return undefined;
}

export interface FromRunConfig {
  /** Where the new config goes: beside the pre-training config. */
  path: string;
  text: string;
}

const scalar = (v: unknown, fallback: string | number): string | number =>
  typeof v === 'string' || typeof v === 'number' ? v : fallback;

/** A YAML string only where plain YAML would read it differently (a path with `: ` or `#`). */
const yamlString = (s: string) => (/^[\w./@-]+$/.test(s) ? s : JSON.stringify(s));

/**
 * The new config for a completed pre-training run: its name is the pre-training config's with
 * `-classifier` (or `-sft`), numbered when taken, in `configDir`; `model:` is the run's final/,
 * relative to that folder. `sourceConfig` names the config the run came from, when known.
 */
export function configFromRun(
  runDir: string,
  runId: string,
  runConfig: Config,
  configDir: string,
  sourceConfig?: string,
): FromRunConfig {
  const task = pretrainingTaskOf(runConfig);
  if (!task) throw new Error(`Run ${runId} is not a pre-training run (task masked-lm, or causal-lm on plain text).`);
  const rel = relative(configDir, join(runDir, RUN_FILES.final)).split(sep).join('/');
  // `./` makes a folder inside this one read as a path, not as a Hub id (`../` and absolute paths already do).
  const model = rel.startsWith('../') || rel.startsWith('/') || /^[A-Za-z]:/.test(rel) ? rel : `./${rel}`;
  const data = section(runConfig, 'data');
  const training = section(runConfig, 'training');
  const fromScratch = training.init === 'scratch';
  const maxLength = scalar(data.max_length, task === 'masked-lm' ? 128 : 512);
  const head = `# Fine-tune the model that run ${runId} pre-trained (${task}), from its final/ folder.
# Made by "Fine-tune from This Run": edit the placeholders (the data files and columns), then Start Fine-tune.
model: ${yamlString(model)}
`;
  const text =
    task === 'masked-lm'
      ? `${head}task: text-classification      # or token-classification / question-answering: the MLM head is dropped, the task head initialised
data:
  train: data/train.jsonl     # placeholder: your labelled rows, {"text": ..., "label": ...} per line
  validation_split: 0.1       # or validation: a file of its own
  text_column: ${yamlString(String(scalar(data.text_column, 'text')))}
  label_column: label
  max_length: ${maxLength}
training:
  epochs: 5
  batch_size: 16
  learning_rate: ${fromScratch ? '1.0e-4              # a small model pre-trained from scratch takes a larger rate' : '3.0e-5'}
  weight_decay: 0.01
  warmup_ratio: 0.1
  seed: ${scalar(training.seed, 42)}
eval:
  every: epoch
  metrics: [accuracy, f1]
device: ${scalar(runConfig.device, 'auto')}
`
      : `${head}task: causal-lm
data:
  train: data/train.jsonl     # placeholder: {"prompt": ..., "completion": ...} per line
  format: prompt-completion   # the loss covers the completions only; or messages (needs a chat template)
  validation_split: 0.05
  max_length: ${maxLength}
training:
  epochs: 3
  batch_size: 8
  learning_rate: ${fromScratch ? '2.0e-4' : '5.0e-5'}
  warmup_ratio: 0.05
  scheduler: cosine
  seed: ${scalar(training.seed, 42)}
eval:
  every: epoch
  metrics: [perplexity]
device: ${scalar(runConfig.device, 'auto')}
`;
  const base = `${configName(sourceConfig ?? runId.replace(/-\d{8}-\d{6}(?:-\d+)?$/, ''))}-${task === 'masked-lm' ? 'classifier' : 'sft'}`;
  let path = join(configDir, `${base}.finetune.yaml`);
  for (let i = 2; existsSync(path); i++) path = join(configDir, `${base}-${i}.finetune.yaml`);
  return { path, text };
}
