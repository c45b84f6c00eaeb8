/**
 * JSON Schema (draft-07) of the config file: the single source for validation (config-validate.ts),
 * completion and hover (config-assist.ts), the panel form, and `schemas/finetune.schema.json`
 * (a test keeps that file equal to this object, so package.json `jsonValidation` can point at it).
 * Must agree with the types in config.ts. Every `default` is taken from config-defaults.ts, the one
 * place default values are written.
 *
 * Only the subset that our own validator understands is used: type, enum, minimum, maximum,
 * exclusiveMinimum, exclusiveMaximum, minLength, pattern, required, properties,
 * additionalProperties: false, items, minItems, uniqueItems and anyOf (of alternatives that differ
 * by type). `enumDescriptions` and `patternErrorMessage` are VS Code's JSON extensions: completion
 * shows the first, the editor's JSON validation the second.
 */
import { DEVICE_NAMES } from './config.js';
import { AUGMENT_SCHEMA } from './config-augment-schema.js';
import { COLUMN_DEFAULTS, CONFIG_DEFAULTS, LORA_DEFAULTS, WARMUP_RATIO_DEFAULT } from './config-defaults.js';
import { DISTILLATION_SCHEMA } from './config-distill-schema.js';
import { LAUNCHER_SCHEMA } from './config-launcher.js';
import { METRIC_NAMES, METRICS } from './config-metrics.js';
import { SEQ2SEQ_DATA_SCHEMA, SEQ2SEQ_EVAL_SCHEMA, SEQ2SEQ_TRAINING_SCHEMA } from './config-seq2seq-schema.js';
import { SWEEP_SCHEMA } from './config-sweep-schema.js';
import { TASK_DOCS, TASK_NAMES } from './config-tasks.js';

export { METRIC_TASKS, METRICS, type MetricDoc } from './config-metrics.js';

export type SchemaType = 'object' | 'array' | 'string' | 'number' | 'integer' | 'boolean' | 'null';

export interface JsonSchema {
  $schema?: string;
  $id?: string;
  title?: string;
  description?: string;
  type?: SchemaType;
  enum?: readonly (string | number | boolean)[];
  enumDescriptions?: readonly string[];
  default?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  pattern?: string;
  patternErrorMessage?: string;
  properties?: Readonly<Record<string, JsonSchema>>;
  required?: readonly string[];
  additionalProperties?: false;
  items?: JsonSchema;
  minItems?: number;
  uniqueItems?: boolean;
  anyOf?: readonly JsonSchema[];
}

const METRIC_DESCRIPTIONS = METRIC_NAMES.map((name) => METRICS[name].description);

const fraction = { type: 'number', minimum: 0, exclusiveMaximum: 1 } as const;
const columnName = { type: 'string', minLength: 1 } as const;
const dataFile = {
  type: 'string',
  minLength: 1,
  // A file by its extension, or a folder (a last path segment without a dot) of .txt files.
  pattern: '(\\.(jsonl|csv|tsv|txt|JSONL|CSV|TSV|TXT)|(^|[\\\\/])[^.\\\\/]+[\\\\/]?)$',
  patternErrorMessage:
    'Data files are JSON Lines (.jsonl), CSV (.csv), TSV (.tsv) or plain text (.txt, one example per line); a folder holds .txt files.',
} as const;

const clean: JsonSchema = {
  type: 'object',
  description: 'Text cleaning applied to every example before tokenization, in the order listed here.',
  additionalProperties: false,
  properties: {
    normalize: {
      type: 'string',
      enum: ['NFC', 'NFKC', 'none'],
      enumDescriptions: [
        'Canonical composition: merges combining accents, keeps compatibility characters such as ligatures.',
        'Compatibility composition: also folds full-width forms, ligatures and superscripts to plain characters.',
        'Leave the text as it is.',
      ],
      default: CONFIG_DEFAULTS.data.clean.normalize,
      description: 'The Unicode normalization form applied to the text.',
    },
    lowercase: {
      type: 'boolean',
      default: CONFIG_DEFAULTS.data.clean.lowercase,
      description:
        'Whether to lowercase the text. Only useful for uncased models, whose tokenizer usually lowercases already.',
    },
    collapse_whitespace: {
      type: 'boolean',
      default: CONFIG_DEFAULTS.data.clean.collapse_whitespace,
      description: 'Whether to replace runs of whitespace with a single space and trim both ends.',
    },
    strip_control: {
      type: 'boolean',
      default: CONFIG_DEFAULTS.data.clean.strip_control,
      description: 'Whether to remove control characters (other than tab and newline) from the text.',
    },
    strip_html: {
      type: 'boolean',
      default: CONFIG_DEFAULTS.data.clean.strip_html,
      description: 'Whether to remove HTML tags and decode HTML entities, for text scraped from web pages.',
    },
    dedup: {
      type: 'boolean',
      default: CONFIG_DEFAULTS.data.clean.dedup,
      description: 'Whether to drop exact duplicate examples (same text after cleaning), keeping the first.',
    },
    near_dedup: {
      type: 'boolean',
      default: CONFIG_DEFAULTS.data.clean.near_dedup,
      description:
        'Whether to also drop near-duplicate examples (MinHash over word n-grams). Slower on large datasets.',
    },
  },
};

const data: JsonSchema = {
  type: 'object',
  description: 'The dataset: where the examples are, which columns to read and how to prepare them.',
  additionalProperties: false,
  required: ['train'],
  properties: {
    train: {
      ...dataFile,
      description:
        'Path to the training file (JSON Lines, CSV, TSV, or plain text with one example per line), or for masked-lm and causal-lm a folder of .txt files (read with `streaming`), relative to the folder of this config file.',
    },
    validation: {
      ...dataFile,
      description:
        'Path to the validation file, relative to the folder of this config file. Use either this or `validation_split`.',
    },
    validation_split: {
      type: 'number',
      exclusiveMinimum: 0,
      exclusiveMaximum: 1,
      description:
        'Fraction of the training file held out for validation, stratified by label for classification. Use either this or `validation`.',
    },
    text_column: {
      ...columnName,
      default: COLUMN_DEFAULTS.text_column,
      description: 'The name of the column containing the input text.',
    },
    text_pair_column: {
      ...columnName,
      description:
        'The name of the column containing the second text of a pair (e.g. the hypothesis in natural language inference), for text classification.',
    },
    label_column: {
      ...columnName,
      default: COLUMN_DEFAULTS.label_column,
      description: 'The name of the column containing the label, for text classification.',
    },
    tokens_column: {
      ...columnName,
      default: COLUMN_DEFAULTS.tokens_column,
      description: 'The name of the column containing the list of words, for token classification.',
    },
    tags_column: {
      ...columnName,
      default: COLUMN_DEFAULTS.tags_column,
      description:
        'The name of the column containing the list of tags (one per word, e.g. B-PER), for token classification.',
    },
    max_length: {
      type: 'integer',
      minimum: 1,
      default: CONFIG_DEFAULTS.data.max_length,
      description:
        "The maximum total input sequence length after tokenization. Longer sequences are truncated; it can't exceed the model's maximum position embeddings.",
    },
    clean,
    shuffle: {
      type: 'boolean',
      default: CONFIG_DEFAULTS.data.shuffle,
      description: 'Whether to shuffle the training examples at every epoch (with the training seed).',
    },
    doc_stride: {
      type: 'integer',
      minimum: 0,
      description:
        'question-answering only: tokens shared by consecutive windows when a context is longer than max_length (default 128, capped at a third of max_length when not set).',
    },
    max_answer_length: {
      type: 'integer',
      minimum: 1,
      default: CONFIG_DEFAULTS.data.max_answer_length,
      description: 'question-answering only: the longest answer span, in tokens, that post-processing considers.',
    },
    n_best: {
      type: 'integer',
      minimum: 1,
      default: CONFIG_DEFAULTS.data.n_best,
      description: 'question-answering only: how many start and end candidates post-processing combines per window.',
    },
    packing: {
      type: 'boolean',
      default: CONFIG_DEFAULTS.data.packing,
      description:
        'causal-lm only: concatenate short texts, separated by the end-of-sequence token, into blocks of max_length tokens (as run_clm.py groups texts), so no batch position is padding.',
    },
    mlm_probability: {
      type: 'number',
      exclusiveMinimum: 0,
      maximum: 1,
      default: CONFIG_DEFAULTS.data.mlm_probability,
      description:
        'masked-lm only: the share of non-special tokens selected for prediction (of those 80% become the mask token, 10% a random token, 10% stay), as DataCollatorForLanguageModeling draws them.',
    },
    whole_word_masking: {
      type: 'boolean',
      default: CONFIG_DEFAULTS.data.whole_word_masking,
      description:
        "masked-lm only: select whole words (every sub-token of a word the tokenizer's pre-tokenizer found) rather than single tokens.",
    },
    line_by_line: {
      type: 'boolean',
      default: CONFIG_DEFAULTS.data.line_by_line,
      description:
        'masked-lm, and causal-lm on XLNet (the permutation LM): one example per text (truncated to max_length, a batch padded to its longest) instead of all texts concatenated and cut into max_length blocks (group_texts of run_mlm.py and run_plm.py).',
    },
    streaming: {
      type: 'boolean',
      description:
        'masked-lm and causal-lm (text rows): read the corpus from disk instead of memory, for corpora larger than memory (default false; a folder of .txt files is always streamed). The corpus is tokenized once by `tokenize_workers` threads into a cache next to the runs folder (`cache/tokens/`), keyed by the files, the tokenizer and these settings: later runs and resumes read it without tokenizing again. Near-duplicate removal (`clean.near_dedup`) is not available.',
    },
    tokenize_workers: {
      type: 'integer',
      minimum: 1,
      description: 'With `streaming`: the threads that tokenize the corpus (default: one per CPU core).',
    },
    ...SEQ2SEQ_DATA_SCHEMA,
    on_bad_rows: {
      type: 'string',
      enum: ['error', 'skip'],
      enumDescriptions: [
        'Stop with an error naming the file and line of the first bad row.',
        'Skip bad rows and report how many were skipped.',
      ],
      default: CONFIG_DEFAULTS.data.on_bad_rows,
      description:
        'What to do with rows that cannot be read or lack a required column, and (causal-lm) conversations the chat template refuses.',
    },
    format: {
      type: 'string',
      enum: ['text', 'prompt-completion', 'messages'],
      enumDescriptions: [
        'Plain text (`text_column`): language modelling on every token.',
        '`prompt` and `completion` columns: supervised fine-tuning on the completion (see `training.completion_only_loss`).',
        "`messages` (a list of `{role, content}`, or ShareGPT `conversations` of `{from, value}`) rendered with the model's chat template (see `training.assistant_only_loss`).",
      ],
      description:
        "causal-lm only: how the rows read, as TRL's SFTTrainer formats. When not set, detected from the first training row: `messages` or `conversations`, else `prompt` with `completion`, else text.",
    },
    on_long_rows: {
      type: 'string',
      enum: ['truncate', 'skip'],
      enumDescriptions: [
        'Cut the row to max_length tokens from the right; the data report counts such rows.',
        'Leave the row out of training; the data report counts such rows.',
      ],
      default: CONFIG_DEFAULTS.data.on_long_rows,
      description:
        'causal-lm prompt-completion and messages rows: what to do with a row longer than max_length tokens.',
    },
    unlabeled: {
      ...dataFile,
      description:
        "With `training.distillation`, text-classification only: a data file (jsonl, csv, tsv) of rows with a text column and no label, relative to this config file: an unlabeled transfer set the student learns from the teacher's logits alone (the KL term of the loss, no cross-entropy).",
    },
    augment: AUGMENT_SCHEMA,
  },
};

const lora: JsonSchema = {
  type: 'object',
  description:
    'Low-Rank Adaptation: trains small rank-decomposition matrices next to frozen weights. Only used with `method: lora`.',
  additionalProperties: false,
  properties: {
    r: {
      type: 'integer',
      minimum: 1,
      default: LORA_DEFAULTS.r,
      description: 'The rank of the update matrices. Lower rank means fewer trainable parameters.',
    },
    alpha: {
      type: 'number',
      exclusiveMinimum: 0,
      default: LORA_DEFAULTS.alpha,
      description: 'The scaling factor of the update matrices; the update is scaled by `alpha / r`.',
    },
    dropout: {
      ...fraction,
      default: LORA_DEFAULTS.dropout,
      description: 'The dropout probability of the LoRA layers.',
    },
    target_modules: {
      anyOf: [
        { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1, uniqueItems: true },
        {
          type: 'string',
          enum: ['all-linear'],
          enumDescriptions: ["Every linear layer except the output head (`lm_head`), as PEFT's `all-linear`."],
        },
      ],
      description:
        'The names of the modules to apply LoRA to, as Hugging Face names them (e.g. `[query, value]` for BERT, `[c_attn]` for GPT-2, `[q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj]` for Llama, Mistral, Qwen), or `all-linear` for every linear layer but the output head. Defaults to the attention projections of the model family.',
    },
    use_rslora: {
      type: 'boolean',
      default: LORA_DEFAULTS.use_rslora,
      description: 'Rank-stabilized LoRA: scale the update by `alpha / sqrt(r)` instead of `alpha / r`.',
    },
  },
};

const training: JsonSchema = {
  type: 'object',
  description: 'The optimization hyperparameters.',
  additionalProperties: false,
  properties: {
    method: {
      type: 'string',
      enum: ['full', 'freeze', 'lora'],
      enumDescriptions: [
        'Fine-tune every weight of the model and the task head.',
        'Freeze the embeddings and the bottom `freeze_layers` layers; train the rest and the head.',
        'Freeze the model and train low-rank adapters (see `lora`) and the head.',
      ],
      default: CONFIG_DEFAULTS.training.method,
      description: 'Which weights are trained.',
    },
    init: {
      type: 'string',
      enum: ['pretrained', 'scratch'],
      enumDescriptions: [
        'Start from the weights in the model folder (model.safetensors); a task head the folder lacks is initialised.',
        "Ignore any weights and initialise every parameter from the folder's config.json as Hugging Face's `_init_weights` does (normal(0, initializer_range) for matrices and embeddings, zero biases and padding rows, LayerNorm ones/zeros): pre-training from scratch. The folder needs config.json and a tokenizer only.",
      ],
      default: CONFIG_DEFAULTS.training.init,
      description:
        "Where the weights start: pretrained (the model folder's checkpoint) or scratch (random, from config.json).",
    },
    epochs: {
      type: 'integer',
      minimum: 1,
      default: CONFIG_DEFAULTS.training.epochs,
      description: 'Total number of training epochs to perform.',
    },
    batch_size: {
      type: 'integer',
      minimum: 1,
      default: CONFIG_DEFAULTS.training.batch_size,
      description: 'The batch size per optimizer step, before gradient accumulation.',
    },
    learning_rate: {
      type: 'number',
      exclusiveMinimum: 0,
      default: CONFIG_DEFAULTS.training.learning_rate,
      description: 'The initial learning rate for the AdamW optimizer.',
    },
    weight_decay: {
      type: 'number',
      minimum: 0,
      default: CONFIG_DEFAULTS.training.weight_decay,
      description:
        'The weight decay to apply to all weights except biases and LayerNorm weights, decoupled from the gradient as in AdamW.',
    },
    warmup_ratio: {
      ...fraction,
      default: WARMUP_RATIO_DEFAULT,
      description:
        'Ratio of total training steps used for a linear warmup from 0 to `learning_rate`. Use either this or `warmup_steps`.',
    },
    warmup_steps: {
      type: 'integer',
      minimum: 0,
      description:
        'Number of steps used for a linear warmup from 0 to `learning_rate`. Overrides any effect of `warmup_ratio`, so set only one of them.',
    },
    scheduler: {
      type: 'string',
      enum: ['linear', 'cosine', 'constant'],
      enumDescriptions: [
        'Decays linearly from the peak learning rate to 0 at the last step.',
        'Decays along a half cosine from the peak learning rate to 0 at the last step.',
        'Keeps the peak learning rate after warmup.',
      ],
      default: CONFIG_DEFAULTS.training.scheduler,
      description: 'The learning rate schedule used after warmup.',
    },
    gradient_accumulation_steps: {
      type: 'integer',
      minimum: 1,
      default: CONFIG_DEFAULTS.training.gradient_accumulation_steps,
      description:
        'Number of batches to accumulate the gradients for before performing an optimizer step. The effective batch size is `batch_size` times this.',
    },
    max_grad_norm: {
      type: 'number',
      minimum: 0,
      default: CONFIG_DEFAULTS.training.max_grad_norm,
      description: 'Maximum gradient norm (for gradient clipping). 0 disables clipping.',
    },
    seed: {
      type: 'integer',
      minimum: 0,
      default: CONFIG_DEFAULTS.training.seed,
      description:
        'Random seed that will be set at the beginning of training: head initialization, shuffling, dropout and the validation split.',
    },
    dropout: {
      ...fraction,
      description:
        "The dropout probability for all fully connected layers and attention probabilities, overriding the model's own values from config.json.",
    },
    freeze_layers: {
      anyOf: [
        { type: 'integer', minimum: 0 },
        { type: 'string', enum: ['all'], enumDescriptions: ['Freeze every layer: only the task head is trained.'] },
      ],
      description:
        'With `method: freeze`: the number of bottom transformer layers frozen together with the embeddings, or `all` to train only the task head.',
    },
    lora,
    save_total_limit: {
      type: 'integer',
      minimum: 1,
      description:
        'If set, limits the total number of checkpoints kept in the run directory, deleting the oldest ones. The best checkpoint is always kept.',
    },
    save_steps: {
      type: 'integer',
      minimum: 1,
      description:
        'Number of optimizer steps between two checkpoints, in addition to the checkpoints written at each evaluation. A killed run resumes from its latest checkpoint (`finetune resume`).',
    },
    save_minutes: {
      type: 'number',
      minimum: 0,
      default: CONFIG_DEFAULTS.training.save_minutes,
      description:
        'Writes a checkpoint at the next optimizer step once this many minutes have passed since the last checkpoint, so a killed run loses at most that much work. 0 turns time-based checkpoints off.',
    },
    group_by_length: {
      type: 'boolean',
      default: CONFIG_DEFAULTS.training.group_by_length,
      description:
        'Whether to group together examples of roughly the same length in the training set (to minimize padding and be more efficient).',
    },
    on_nonfinite: {
      type: 'string',
      enum: ['stop', 'skip_step'],
      enumDescriptions: [
        'Stop the run as failed at the first such step, naming the step and the last good checkpoint.',
        'Skip that optimizer step (weights and optimizer state stay as they were) and log it; the run fails after 10 skipped steps in a row.',
      ],
      default: CONFIG_DEFAULTS.training.on_nonfinite,
      description:
        'What to do when a training step has a NaN or infinite loss or gradient norm (usually a learning rate that is too high, fp16-overflowed data, or bad rows).',
    },
    completion_only_loss: {
      type: 'boolean',
      default: CONFIG_DEFAULTS.training.completion_only_loss,
      description:
        'causal-lm with prompt-completion rows: compute the loss on the completion (and its end-of-sequence token) only, as TRL does; false trains on the prompt too.',
    },
    assistant_only_loss: {
      type: 'boolean',
      default: CONFIG_DEFAULTS.training.assistant_only_loss,
      description:
        'causal-lm with messages rows: compute the loss on the assistant turns only (each reply and its end-of-turn token, as the chat template renders them); false trains on the whole conversation.',
    },
    distillation: DISTILLATION_SCHEMA,
    ...SEQ2SEQ_TRAINING_SCHEMA,
  },
};

const evaluation: JsonSchema = {
  type: 'object',
  description: 'When and how the model is evaluated on the validation set.',
  additionalProperties: false,
  properties: {
    every: {
      anyOf: [
        {
          type: 'string',
          enum: ['epoch'],
          enumDescriptions: ['Evaluate at the end of every epoch.'],
        },
        { type: 'integer', minimum: 1 },
      ],
      default: CONFIG_DEFAULTS.eval.every,
      description:
        'The evaluation strategy: `epoch` to evaluate at the end of each epoch, or a number of optimizer steps.',
    },
    metrics: {
      type: 'array',
      items: {
        type: 'string',
        enum: METRIC_NAMES,
        enumDescriptions: METRIC_DESCRIPTIONS,
      },
      uniqueItems: true,
      default: CONFIG_DEFAULTS.eval.metrics,
      description: 'The metrics computed at each evaluation, in addition to the validation loss.',
    },
    ...SEQ2SEQ_EVAL_SCHEMA,
    early_stopping: {
      type: 'object',
      description:
        'Stops training when the metric has not improved for `patience` evaluations; the best checkpoint is kept as the result.',
      additionalProperties: false,
      required: ['patience'],
      properties: {
        patience: {
          type: 'integer',
          minimum: 1,
          description: 'Number of evaluations without improvement after which training stops.',
        },
        metric: {
          type: 'string',
          enum: ['loss', ...METRIC_NAMES],
          enumDescriptions: ['The validation loss.', ...METRIC_DESCRIPTIONS],
          description:
            'The metric used to compare evaluations: `loss` or one of `eval.metrics`. Defaults to the first of `eval.metrics`, else `loss`.',
        },
        mode: {
          type: 'string',
          enum: ['max', 'min'],
          enumDescriptions: ['Higher is better.', 'Lower is better.'],
          description:
            'Whether a better metric is higher or lower. Defaults to `min` for loss, perplexity and the regression errors, else `max`.',
        },
      },
    },
  },
};

export const CONFIG_SCHEMA: JsonSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'Fine-tune Workbench config',
  description: 'A fine-tuning run: the pretrained model, the task, the data and the hyperparameters.',
  type: 'object',
  additionalProperties: false,
  required: ['model', 'task', 'data'],
  properties: {
    $schema: {
      type: 'string',
      description: 'The JSON Schema of this file, for editors that validate JSON and YAML files against a schema.',
    },
    model: {
      type: 'string',
      minLength: 1,
      description:
        'The pretrained model: a folder in Hugging Face format (`config.json`, `model.safetensors`, `tokenizer.json`), relative to the folder of this config file, or a model id on the Hub such as `google-bert/bert-base-uncased`.',
    },
    task: {
      type: 'string',
      enum: TASK_NAMES,
      enumDescriptions: TASK_NAMES.map((name) => TASK_DOCS[name].description),
      description: 'The task, which decides the head put on the model, the loss and the available metrics.',
    },
    data,
    training,
    eval: evaluation,
    sweep: SWEEP_SCHEMA,
    launcher: LAUNCHER_SCHEMA,
    output_dir: {
      type: 'string',
      minLength: 1,
      default: CONFIG_DEFAULTS.output_dir,
      description:
        'The output directory where the run directories (checkpoints, logs, final model) are written, relative to the workspace folder.',
    },
    device: {
      type: 'string',
      enum: DEVICE_NAMES,
      enumDescriptions: [
        'CUDA when its ONNX Runtime execution provider is installed and a GPU is present, else the CPU.',
        'Always the CPU.',
        'The GPU through CUDA; fails if the CUDA execution provider is not installed.',
      ],
      default: CONFIG_DEFAULTS.device,
      description: 'The device that ONNX Runtime trains on.',
    },
  },
};
