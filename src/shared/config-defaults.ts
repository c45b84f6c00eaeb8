import type {
  AugmentConfig,
  CleanConfig,
  DataConfig,
  DistillationConfig,
  EvalConfig,
  FinetuneConfig,
  LoraConfig,
  TrainingConfig,
} from './config.js';
import type { SweepConfig } from './config-sweep.js';
import { DEFAULT_RUNS_FOLDER } from './run-directory.js';

/**
 * The config's default values, the one place they are written: the schema (config-schema.ts)
 * takes each `default` from here, applyDefaults (config-validate.ts) fills them in through the
 * schema, and the types of the resolved config (ResolvedConfig in config.ts) make every key
 * defaulted here required. The engine reads them only from a resolved config.
 *
 * CONFIG_DEFAULTS holds the defaults every run gets. The others apply only in some configs, so
 * their keys stay optional in ResolvedConfig.
 */
export const CONFIG_DEFAULTS = {
  data: {
    max_length: 128,
    clean: {
      normalize: 'NFC',
      lowercase: false,
      collapse_whitespace: true,
      strip_control: true,
      strip_html: false,
      dedup: true,
      near_dedup: false,
    },
    shuffle: true,
    max_answer_length: 30,
    n_best: 20,
    packing: false,
    mlm_probability: 0.15,
    whole_word_masking: false,
    line_by_line: false,
    on_bad_rows: 'error',
    on_long_rows: 'truncate',
    // run_translation.py's and run_summarization.py's defaults.
    max_source_length: 1024,
    max_target_length: 128,
  },
  training: {
    method: 'full',
    init: 'pretrained',
    epochs: 3,
    batch_size: 32,
    learning_rate: 2e-5,
    weight_decay: 0.01,
    scheduler: 'linear',
    gradient_accumulation_steps: 1,
    max_grad_norm: 1,
    seed: 42,
    group_by_length: false,
    // A run killed after hours loses at most this much work, at the cost of one checkpoint write.
    save_minutes: 30,
    on_nonfinite: 'stop',
    // TRL's SFTConfig defaults: train on what the model should say, not on what it is given.
    completion_only_loss: true,
    assistant_only_loss: true,
    // Trainer's label_smoothing_factor: none.
    label_smoothing: 0,
  },
  eval: {
    every: 'epoch',
    metrics: [],
    generate: false,
  },
  output_dir: DEFAULT_RUNS_FOLDER,
  device: 'auto',
} as const satisfies {
  data: Partial<Omit<DataConfig, 'clean'>> & { clean: Required<CleanConfig> };
  training: Partial<TrainingConfig>;
  eval: Partial<EvalConfig>;
} & Partial<Omit<FinetuneConfig, 'data' | 'training' | 'eval'>>;

/** data.*_column: filled in only for the columns the task reads (TASK_COLUMNS in config-rules.ts). */
export const COLUMN_DEFAULTS = {
  text_column: 'text',
  label_column: 'label',
  tokens_column: 'tokens',
  tags_column: 'tags',
} as const satisfies Partial<DataConfig>;

/** training.warmup_ratio: filled in only when training.warmup_steps is not set (they exclude each other). */
export const WARMUP_RATIO_DEFAULT = 0;

/** training.lora: created under method lora, and filled in wherever it is given. */
export const LORA_DEFAULTS = {
  r: 8,
  alpha: 16,
  dropout: 0.05,
  use_rslora: false,
} as const satisfies Partial<LoraConfig>;

/**
 * training.distillation: filled in wherever it is given. T = 2 and α = 0.5 are the middle of
 * what Hinton et al. (2015) and DistilBERT's distiller.py use (T 1-20, α a weight in [0, 1]).
 */
export const DISTILLATION_DEFAULTS = {
  temperature: 2,
  alpha: 0.5,
  hidden_loss: 'none',
} as const satisfies Partial<DistillationConfig>;

/**
 * data.augment.eda: filled in wherever it is given. eda.py's defaults (Wei & Zou 2019: α = 0.1
 * each; they suggest n_aug = 4 for training sets of a few thousand examples). Token classification
 * takes only alpha_sr (applyDefaults leaves the other three out for it).
 */
export const EDA_DEFAULTS = {
  n_aug: 4,
  alpha_sr: 0.1,
  alpha_ri: 0.1,
  alpha_rs: 0.1,
  p_rd: 0.1,
} as const satisfies NonNullable<AugmentConfig['eda']>;

/**
 * data.augment.mention_replacement: p = 0.3 is Dai & Adel's (2020) rate for their NER
 * augmentations; n_aug as EDA's.
 */
export const MENTION_REPLACEMENT_DEFAULTS = {
  n_aug: 4,
  p: 0.3,
} as const satisfies NonNullable<AugmentConfig['mention_replacement']>;

/**
 * data.augment.back_translation: temperature 1 is unrestricted sampling, which Edunov et al. (2018)
 * found to make better synthetic data than beam search; one round trip per example.
 */
export const BACK_TRANSLATION_DEFAULTS = {
  temperature: 1,
  n_aug: 1,
  batch_size: 16,
} as const satisfies Partial<NonNullable<AugmentConfig['back_translation']>>;

/**
 * sweep: filled in wherever a sweep block is given. The TPE, median and ASHA values are Optuna's
 * defaults (TPESampler, MedianPruner, SuccessiveHalvingPruner), so a sweep behaves as the same
 * study in Optuna would.
 */
export const SWEEP_DEFAULTS = {
  strategy: 'tpe',
  seed: 0,
  parallel: 1,
  pruner: 'none',
  tpe: { n_startup_trials: 10, n_ei_candidates: 24, prior_weight: 1 },
  median: { n_startup_trials: 5, n_warmup_steps: 0, interval_steps: 1 },
  asha: { min_resource: 'auto', reduction_factor: 4, min_early_stopping_rate: 0 },
} as const satisfies Partial<SweepConfig>;

/** sweep.max_trials when not set and the strategy is not grid (a grid runs every point). */
export const SWEEP_MAX_TRIALS_DEFAULT = 10;
