/**
 * The fine-tune config file (`*.finetune.yaml|yml|json`): the contract between the engine, the
 * extension and the webview (DESIGN.md, "Config file"). These types describe a config after
 * defaults are applied; the JSON Schema (config-schema.ts) is the single source of truth for
 * validation, completion, hover docs and the panel form, and must agree with these types.
 */
export type TaskName = 'text-classification' | 'token-classification' | 'question-answering' | 'causal-lm';
export type MethodName = 'full' | 'freeze' | 'lora';
export type SchedulerName = 'linear' | 'cosine' | 'constant';
/** Where ONNX Runtime trains (`device` in the config, `--device` on the CLI). */
export const DEVICE_NAMES = ['auto', 'cpu', 'cuda'] as const;
export type DeviceName = (typeof DEVICE_NAMES)[number];

export interface CleanConfig {
  normalize?: 'NFC' | 'NFKC' | 'none'; // Unicode normalisation (default NFC)
  lowercase?: boolean; // default false
  collapse_whitespace?: boolean; // default true
  strip_control?: boolean; // remove control characters (default true)
  strip_html?: boolean; // default false
  dedup?: boolean; // exact duplicates by content hash (default true)
  near_dedup?: boolean; // near-duplicate removal (default false)
}

export interface DataConfig {
  train: string; // jsonl | csv | tsv, relative to the config file's folder
  validation?: string;
  validation_split?: number; // fraction held out of train (stratified for classification)
  text_column?: string; // default "text"
  text_pair_column?: string;
  label_column?: string; // default "label"
  tokens_column?: string; // token classification, default "tokens"
  tags_column?: string; // token classification, default "tags"
  max_length?: number; // default 128
  clean?: CleanConfig;
  shuffle?: boolean; // default true
  packing?: boolean; // causal-lm: pack texts into max_length blocks (default false)
  doc_stride?: number; // question-answering: window overlap in tokens (default 128, capped at max_length / 3)
  max_answer_length?: number; // question-answering: longest answer in tokens (default 30)
  n_best?: number; // question-answering: candidates per window (default 20)
  on_bad_rows?: 'error' | 'skip'; // default error
}

export interface LoraConfig {
  r?: number; // default 8
  alpha?: number; // default 16
  dropout?: number; // default 0.05
  target_modules?: string[]; // Hugging Face module names, e.g. [query, value]
}

export interface TrainingConfig {
  method?: MethodName; // default full
  epochs?: number; // default 3
  batch_size?: number; // default 32
  learning_rate?: number; // default 2e-5
  weight_decay?: number; // default 0.01
  warmup_ratio?: number; // or warmup_steps (not both); default 0
  warmup_steps?: number;
  scheduler?: SchedulerName; // default linear
  gradient_accumulation_steps?: number; // default 1
  max_grad_norm?: number; // default 1.0
  seed?: number; // default 42
  dropout?: number; // overrides the model's hidden and attention dropout
  freeze_layers?: number | 'all'; // method: freeze
  lora?: LoraConfig; // method: lora
  save_total_limit?: number; // checkpoints kept (the best is always kept)
  group_by_length?: boolean; // batch examples of similar length together (default false)
}

export interface EarlyStoppingConfig {
  patience: number;
  metric?: string; // default: the first of eval.metrics, else loss
  mode?: 'max' | 'min'; // default: min for loss, max otherwise
}

export interface EvalConfig {
  every?: 'epoch' | number; // "epoch" or a number of optimizer steps; default epoch
  metrics?: string[]; // accuracy, f1, precision, recall, ...
  early_stopping?: EarlyStoppingConfig;
}

export interface FinetuneConfig {
  model: string; // folder (relative to the config file) or a Hub id (org/name)
  task: TaskName;
  data: DataConfig;
  training?: TrainingConfig;
  eval?: EvalConfig;
  output_dir?: string; // default DEFAULT_RUNS_FOLDER (run-directory.ts), relative to the workspace folder
  device?: DeviceName; // default auto
}
