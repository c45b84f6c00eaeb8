import type {
  BACK_TRANSLATION_DEFAULTS,
  CONFIG_DEFAULTS,
  DISTILLATION_DEFAULTS,
  LORA_DEFAULTS,
} from './config-defaults.js';
import type { LauncherConfig } from './config-launcher.js';
import type { ResolvedSweepConfig, SweepConfig } from './config-sweep.js';
import type { TaskName } from './config-tasks.js';

/**
 * The fine-tune config file (`*.finetune.yaml|yml|json`): the contract between the engine, the
 * extension and the webview (DESIGN.md, "Config file"). FinetuneConfig is a config as written;
 * ResolvedConfig is what the engine runs, after applyDefaults (config-validate.ts) with every
 * default of config-defaults.ts filled in. The JSON Schema (config-schema.ts) is the single source
 * of truth for validation, completion, hover docs and the panel form, and must agree with these
 * types.
 */
export type { TaskName };
export type MethodName = 'full' | 'freeze' | 'lora';
export type SchedulerName = 'linear' | 'cosine' | 'constant';
/** What a training step with a non-finite (NaN or infinite) loss or gradient norm does. */
export type NonFinitePolicy = 'stop' | 'skip_step';
/** Where ONNX Runtime trains (`device` in the config, `--device` on the CLI). */
export const DEVICE_NAMES = ['auto', 'cpu', 'cuda'] as const;
export type DeviceName = (typeof DEVICE_NAMES)[number];

export interface CleanConfig {
  normalize?: 'NFC' | 'NFKC' | 'none'; // Unicode normalisation
  lowercase?: boolean;
  collapse_whitespace?: boolean;
  strip_control?: boolean; // remove control characters
  strip_html?: boolean;
  dedup?: boolean; // exact duplicates by content hash
  near_dedup?: boolean; // near-duplicate removal
}

export interface DataConfig {
  train: string; // jsonl | csv | tsv | txt, or a folder of .txt (masked-lm, causal-lm), relative to the config file's folder
  validation?: string;
  validation_split?: number; // fraction held out of train (stratified for classification)
  text_column?: string;
  text_pair_column?: string;
  label_column?: string;
  tokens_column?: string; // token classification
  tags_column?: string; // token classification
  max_length?: number;
  clean?: CleanConfig;
  shuffle?: boolean;
  packing?: boolean; // causal-lm: pack texts into max_length blocks
  mlm_probability?: number; // masked-lm: share of non-special tokens selected for prediction
  whole_word_masking?: boolean; // masked-lm: select whole words (all their sub-tokens)
  line_by_line?: boolean; // masked-lm and XLNet's permutation LM: one example per text instead of concatenated max_length blocks
  streaming?: boolean; // masked-lm, causal-lm text: the corpus read from disk through a tokenized cache, not held in memory
  tokenize_workers?: number; // streaming: threads that tokenize the corpus (default: one per core)
  doc_stride?: number; // question-answering: window overlap in tokens (default 128, capped at max_length / 3)
  max_answer_length?: number; // question-answering: longest answer in tokens
  n_best?: number; // question-answering: candidates per window
  on_bad_rows?: 'error' | 'skip';
  format?: 'text' | 'prompt-completion' | 'messages'; // causal-lm: the rows' layout (default: detected from the first row)
  on_long_rows?: 'truncate' | 'skip'; // causal-lm prompt-completion / messages: a row over max_length
  unlabeled?: string; // training.distillation: rows without labels, trained on the teacher's logits only
  augment?: AugmentConfig; // extra training rows made from the training split (never validation)
  source_column?: string; // translation / summarization: the input text (with target_column)
  target_column?: string; // translation / summarization: the text to produce
  source_lang?: string; // translation rows {"translation": {<source_lang>: …, <target_lang>: …}}
  target_lang?: string;
  source_prefix?: string; // prepended to every source, e.g. "translate English to German: " (T5)
  max_source_length?: number; // translation / summarization: sources truncated to this many tokens
  max_target_length?: number; // translation / summarization: targets (labels) truncated to this many tokens
}

/** data.augment: copies of the training rows, reproducible from training.seed (src/engine/augment/). */
export interface AugmentConfig {
  /** Easy Data Augmentation (Wei & Zou 2019); token classification takes n_aug and alpha_sr only. */
  eda?: { n_aug?: number; alpha_sr?: number; alpha_ri?: number; alpha_rs?: number; p_rd?: number };
  /** token-classification: mentions swapped for other mentions of their type (Dai & Adel 2020). */
  mention_replacement?: { n_aug?: number; p?: number };
  /** text-classification: round trips through two translation models (Sennrich et al. 2016; Xie et al. 2019). */
  back_translation?: BackTranslationConfig;
}

export interface BackTranslationConfig {
  via: string; // translation model (folder or run directory) into the pivot language, relative to the config file
  back: string; // translation model from the pivot language back
  temperature?: number; // sampling temperature of both directions (0: greedy)
  n_aug?: number; // round trips per example
  batch_size?: number; // texts per generation batch
  max_new_tokens?: number; // tokens generated at most per text and direction (default: the models' generation config)
}

export interface LoraConfig {
  r?: number;
  alpha?: number;
  dropout?: number;
  /** Hugging Face module names, e.g. [query, value], or PEFT's `all-linear` (every linear layer but the output head). */
  target_modules?: string[] | 'all-linear';
  use_rslora?: boolean; // scale alpha / sqrt(r) instead of alpha / r
}

/** training.distillation: a teacher whose logits the student learns from (Hinton et al. 2015). */
export interface DistillationConfig {
  teacher: string; // a run directory (its final/) or a Hugging Face folder, relative to the config file
  temperature?: number; // T: both softmaxes are taken of logits / T
  alpha?: number; // weight of the KL term; 1 - alpha weighs the cross-entropy on gold labels
  hidden_loss?: 'none' | 'mse'; // mse: DistilBERT's alignment of the last hidden states as well
  student_layers_from_teacher?: 'every_other'; // the student starts from the teacher's layers 0, 2, 4, ...
}

/** Where the weights start: the model folder's checkpoint, or drawn from its config.json. */
export type InitName = 'pretrained' | 'scratch';

export interface TrainingConfig {
  method?: MethodName;
  init?: InitName; // pretrained: the folder's weights; scratch: initialised from config.json
  epochs?: number;
  batch_size?: number;
  learning_rate?: number;
  weight_decay?: number;
  warmup_ratio?: number; // or warmup_steps (not both)
  warmup_steps?: number;
  scheduler?: SchedulerName;
  gradient_accumulation_steps?: number;
  max_grad_norm?: number;
  seed?: number;
  dropout?: number; // overrides the model's hidden and attention dropout
  freeze_layers?: number | 'all'; // method: freeze
  lora?: LoraConfig; // method: lora
  save_total_limit?: number; // checkpoints kept (the best is always kept)
  save_steps?: number; // a checkpoint every N optimizer steps, besides those of evaluations
  save_minutes?: number; // a checkpoint when this many minutes passed since the last one (0: never)
  group_by_length?: boolean; // batch examples of similar length together
  on_nonfinite?: NonFinitePolicy; // a NaN/Inf loss or gradient norm: fail the run, or skip that update
  completion_only_loss?: boolean; // causal-lm prompt-completion: the loss covers the completion only
  assistant_only_loss?: boolean; // causal-lm messages: the loss covers the assistant turns only
  distillation?: DistillationConfig;
  label_smoothing?: number; // translation / summarization: transformers' label_smoothing_factor
}

export interface EarlyStoppingConfig {
  patience: number;
  metric?: string; // default: the first of eval.metrics, else loss
  mode?: 'max' | 'min'; // default: min for loss, max otherwise
}

export interface EvalConfig {
  every?: 'epoch' | number; // "epoch" or a number of optimizer steps
  metrics?: string[]; // accuracy, f1, precision, recall, ...
  early_stopping?: EarlyStoppingConfig;
  generate?: boolean; // translation / summarization: decode the validation set and score the texts
  num_beams?: number; // with generate: beams (default: the model's generation config)
  max_new_tokens?: number; // with generate: default data.max_target_length - 1 (run_translation.py's max_length)
}

export interface FinetuneConfig {
  model: string; // folder (relative to the config file) or a Hub id (org/name)
  task: TaskName;
  data: DataConfig;
  training?: TrainingConfig;
  eval?: EvalConfig;
  sweep?: SweepConfig; // `finetune sweep`: trials of this config with other values (config-sweep.ts)
  launcher?: LauncherConfig; // `finetune submit`: where the run goes (config-launcher.ts)
  output_dir?: string; // relative to the workspace folder
  device?: DeviceName;
}

export type { LauncherConfig, SlurmLauncherConfig } from './config-launcher.js';
export type { ResolvedSweepConfig, SweepConfig, SweepParameter } from './config-sweep.js';

/** T with every key that D (a section of the defaults) gives a value for made required. */
type WithDefaults<T, D> = Omit<T, keyof D> & { [K in keyof D & keyof T]-?: Exclude<T[K], undefined> };

type Defaults = typeof CONFIG_DEFAULTS;

export type ResolvedCleanConfig = WithDefaults<CleanConfig, Defaults['data']['clean']>;

/**
 * data after defaults. The columns (text_column, ...) are filled in only for the columns the task
 * reads, doc_stride never (question answering derives it from max_length), so they stay optional.
 */
export type ResolvedDataConfig = WithDefaults<Omit<DataConfig, 'clean' | 'augment'>, Defaults['data']> & {
  clean: ResolvedCleanConfig;
  augment?: ResolvedAugmentConfig;
};

/**
 * data.augment after defaults. eda's alpha_ri, alpha_rs and p_rd stay unset for token
 * classification (which refuses them), so absent means off.
 */
export interface ResolvedAugmentConfig {
  eda?: { n_aug: number; alpha_sr: number; alpha_ri?: number; alpha_rs?: number; p_rd?: number };
  mention_replacement?: { n_aug: number; p: number };
  back_translation?: WithDefaults<BackTranslationConfig, typeof BACK_TRANSLATION_DEFAULTS>;
}

/** training.distillation after defaults. */
export type ResolvedDistillationConfig = WithDefaults<DistillationConfig, typeof DISTILLATION_DEFAULTS>;

/** training.lora after defaults; target_modules stays optional (the model family's default). */
export type ResolvedLoraConfig = WithDefaults<LoraConfig, typeof LORA_DEFAULTS>;

/** Exactly one of warmup_ratio (defaulted when warmup_steps is not set) and warmup_steps. */
type ResolvedWarmup =
  | { warmup_ratio: number; warmup_steps?: undefined }
  | { warmup_steps: number; warmup_ratio?: undefined };

/** training.lora is always there under method lora, resolved wherever it is given. */
type ResolvedMethod =
  | { method: 'lora'; lora: ResolvedLoraConfig }
  | { method: Exclude<MethodName, 'lora'>; lora?: ResolvedLoraConfig };

/** training after defaults; dropout, freeze_layers, save_total_limit and save_steps have none and stay optional. */
export type ResolvedTrainingConfig = WithDefaults<
  Omit<TrainingConfig, 'method' | 'lora' | 'warmup_ratio' | 'warmup_steps' | 'distillation'>,
  Defaults['training']
> & { distillation?: ResolvedDistillationConfig } & ResolvedWarmup &
  ResolvedMethod;

/** early_stopping after defaults: metric (the first of eval.metrics, else loss) and mode derived. */
export type ResolvedEarlyStoppingConfig = Required<EarlyStoppingConfig>;

/** eval after defaults; early_stopping stays optional (no early stopping unless asked for). */
export type ResolvedEvalConfig = WithDefaults<Omit<EvalConfig, 'early_stopping'>, Defaults['eval']> & {
  early_stopping?: ResolvedEarlyStoppingConfig;
};

/** The config the engine runs: every key with a default is required (see applyDefaults). */
export type ResolvedConfig = WithDefaults<Omit<FinetuneConfig, 'data' | 'training' | 'eval' | 'sweep'>, Defaults> & {
  data: ResolvedDataConfig;
  training: ResolvedTrainingConfig;
  eval: ResolvedEvalConfig;
  /** Only in a config that has a `sweep:` block; `finetune train` ignores it. */
  sweep?: ResolvedSweepConfig;
};
