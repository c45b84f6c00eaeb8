import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type {
  AugmentConfig,
  BackTranslationConfig,
  CleanConfig,
  DataConfig,
  DeviceName,
  DistillationConfig,
  EarlyStoppingConfig,
  EvalConfig,
  FinetuneConfig,
  InitName,
  LoraConfig,
  MethodName,
  NonFinitePolicy,
  SchedulerName,
  TaskName,
  TrainingConfig,
} from '../../src/shared/config.js';
import {
  BACK_TRANSLATION_DEFAULTS,
  COLUMN_DEFAULTS,
  CONFIG_DEFAULTS,
  DISTILLATION_DEFAULTS,
  EDA_DEFAULTS,
  LORA_DEFAULTS,
  MENTION_REPLACEMENT_DEFAULTS,
  SWEEP_DEFAULTS,
  WARMUP_RATIO_DEFAULT,
} from '../../src/shared/config-defaults.js';
import type { SlurmLauncherConfig } from '../../src/shared/config-launcher.js';
import { CONFIG_SCHEMA, type JsonSchema } from '../../src/shared/config-schema.js';
import type {
  AshaSettings,
  MedianSettings,
  SweepConfig,
  SweepPrunerName,
  SweepStrategy,
  TpeSettings,
} from '../../src/shared/config-sweep.js';
import { applyDefaults, validateConfigText } from '../../src/shared/config-validate.js';
import { ROOT } from './helpers.js';

const SCHEMA_FILE = join(ROOT, 'schemas', 'finetune.schema.json');

test('schemas/finetune.schema.json is CONFIG_SCHEMA (UPDATE_SCHEMA=1 rewrites it)', () => {
  const expected: unknown = JSON.parse(JSON.stringify(CONFIG_SCHEMA));
  if (process.env.UPDATE_SCHEMA === '1') writeFileSync(SCHEMA_FILE, `${JSON.stringify(expected, null, 2)}\n`);
  const committed: unknown = JSON.parse(readFileSync(SCHEMA_FILE, 'utf8'));
  assert.deepEqual(
    committed,
    expected,
    'schemas/finetune.schema.json is stale: run `UPDATE_SCHEMA=1 npm test -- config-schema`, then `npx biome format --write schemas`',
  );
});

// Records keyed by the types' keys: the compiler rejects a missing or extra key, so these lists
// are exactly the keys of config.ts, and the test below holds the schema to them.
const KEYS: Record<string, Record<string, true>> = {
  '': {
    model: true,
    task: true,
    data: true,
    training: true,
    eval: true,
    sweep: true,
    launcher: true,
    output_dir: true,
    device: true,
  } satisfies Record<keyof FinetuneConfig, true>,
  launcher: {
    type: true,
    partition: true,
    time: true,
    cpus_per_task: true,
    mem: true,
    gpus: true,
    account: true,
    qos: true,
    extra_args: true,
  } satisfies Record<keyof SlurmLauncherConfig, true>,
  sweep: {
    parameters: true,
    strategy: true,
    seed: true,
    metric: true,
    mode: true,
    max_trials: true,
    parallel: true,
    timeout: true,
    pruner: true,
    tpe: true,
    median: true,
    asha: true,
  } satisfies Record<keyof SweepConfig, true>,
  'sweep.tpe': { n_startup_trials: true, n_ei_candidates: true, prior_weight: true } satisfies Record<
    keyof TpeSettings,
    true
  >,
  'sweep.median': { n_startup_trials: true, n_warmup_steps: true, interval_steps: true } satisfies Record<
    keyof MedianSettings,
    true
  >,
  'sweep.asha': { min_resource: true, reduction_factor: true, min_early_stopping_rate: true } satisfies Record<
    keyof AshaSettings,
    true
  >,
  data: {
    train: true,
    validation: true,
    validation_split: true,
    text_column: true,
    text_pair_column: true,
    label_column: true,
    tokens_column: true,
    tags_column: true,
    max_length: true,
    clean: true,
    shuffle: true,
    packing: true,
    mlm_probability: true,
    whole_word_masking: true,
    line_by_line: true,
    streaming: true,
    tokenize_workers: true,
    doc_stride: true,
    max_answer_length: true,
    n_best: true,
    on_bad_rows: true,
    format: true,
    on_long_rows: true,
    unlabeled: true,
    augment: true,
    source_column: true,
    target_column: true,
    source_lang: true,
    target_lang: true,
    source_prefix: true,
    max_source_length: true,
    max_target_length: true,
  } satisfies Record<keyof DataConfig, true>,
  'data.clean': {
    normalize: true,
    lowercase: true,
    collapse_whitespace: true,
    strip_control: true,
    strip_html: true,
    dedup: true,
    near_dedup: true,
  } satisfies Record<keyof CleanConfig, true>,
  training: {
    method: true,
    init: true,
    epochs: true,
    batch_size: true,
    learning_rate: true,
    weight_decay: true,
    warmup_ratio: true,
    warmup_steps: true,
    scheduler: true,
    gradient_accumulation_steps: true,
    max_grad_norm: true,
    seed: true,
    dropout: true,
    freeze_layers: true,
    lora: true,
    save_total_limit: true,
    save_steps: true,
    save_minutes: true,
    group_by_length: true,
    on_nonfinite: true,
    completion_only_loss: true,
    assistant_only_loss: true,
    distillation: true,
    label_smoothing: true,
  } satisfies Record<keyof TrainingConfig, true>,
  'training.distillation': {
    teacher: true,
    temperature: true,
    alpha: true,
    hidden_loss: true,
    student_layers_from_teacher: true,
  } satisfies Record<keyof DistillationConfig, true>,
  'data.augment': { eda: true, mention_replacement: true, back_translation: true } satisfies Record<
    keyof AugmentConfig,
    true
  >,
  'data.augment.eda': { n_aug: true, alpha_sr: true, alpha_ri: true, alpha_rs: true, p_rd: true } satisfies Record<
    keyof NonNullable<AugmentConfig['eda']>,
    true
  >,
  'data.augment.mention_replacement': { n_aug: true, p: true } satisfies Record<
    keyof NonNullable<AugmentConfig['mention_replacement']>,
    true
  >,
  'data.augment.back_translation': {
    via: true,
    back: true,
    temperature: true,
    n_aug: true,
    batch_size: true,
    max_new_tokens: true,
  } satisfies Record<keyof BackTranslationConfig, true>,
  'training.lora': { r: true, alpha: true, dropout: true, target_modules: true, use_rslora: true } satisfies Record<
    keyof LoraConfig,
    true
  >,
  eval: {
    every: true,
    metrics: true,
    early_stopping: true,
    generate: true,
    num_beams: true,
    max_new_tokens: true,
  } satisfies Record<keyof EvalConfig, true>,
  'eval.early_stopping': { patience: true, metric: true, mode: true } satisfies Record<keyof EarlyStoppingConfig, true>,
};

const ENUMS: Record<string, Record<string, true>> = {
  task: {
    'text-classification': true,
    'token-classification': true,
    'question-answering': true,
    'causal-lm': true,
    'masked-lm': true,
    translation: true,
    summarization: true,
  } satisfies Record<TaskName, true>,
  'training.method': { full: true, freeze: true, lora: true } satisfies Record<MethodName, true>,
  'training.init': { pretrained: true, scratch: true } satisfies Record<InitName, true>,
  'training.scheduler': { linear: true, cosine: true, constant: true } satisfies Record<SchedulerName, true>,
  'training.on_nonfinite': { stop: true, skip_step: true } satisfies Record<NonFinitePolicy, true>,
  'training.distillation.hidden_loss': { none: true, mse: true } satisfies Record<
    NonNullable<DistillationConfig['hidden_loss']>,
    true
  >,
  'training.distillation.student_layers_from_teacher': { every_other: true } satisfies Record<
    NonNullable<DistillationConfig['student_layers_from_teacher']>,
    true
  >,
  device: { auto: true, cpu: true, cuda: true } satisfies Record<DeviceName, true>,
  'sweep.strategy': { tpe: true, random: true, grid: true } satisfies Record<SweepStrategy, true>,
  'sweep.pruner': { none: true, median: true, asha: true } satisfies Record<SweepPrunerName, true>,
  'launcher.type': { slurm: true } satisfies Record<SlurmLauncherConfig['type'], true>,
};

function at(path: string): JsonSchema {
  let s: JsonSchema | undefined = CONFIG_SCHEMA;
  for (const key of path ? path.split('.') : []) s = s?.properties?.[key];
  assert.ok(s, `no schema at ${path}`);
  return s;
}

test('the schema has exactly the keys and enum values of the config types', () => {
  for (const [path, keys] of Object.entries(KEYS)) {
    const props = Object.keys(at(path).properties ?? {}).filter((k) => k !== '$schema');
    assert.deepEqual(props.sort(), Object.keys(keys).sort(), path || '(root)');
  }
  for (const [path, values] of Object.entries(ENUMS)) assert.deepEqual(at(path).enum, Object.keys(values), path);
});

test('every object is closed and every key is described, with one description per enum value', () => {
  const walk = (s: JsonSchema, path: string) => {
    if (s.type === 'object') {
      assert.equal(s.additionalProperties, false, `${path} must set additionalProperties: false`);
      for (const [key, sub] of Object.entries(s.properties ?? {})) {
        assert.ok(sub.description && sub.description.length > 20, `${path}.${key} needs a description`);
        walk(sub, `${path}.${key}`);
      }
    }
    if (s.enum) assert.equal(s.enumDescriptions?.length, s.enum.length, `${path} enumDescriptions`);
    if (s.items) walk(s.items, `${path}[]`);
    for (const branch of s.anyOf ?? []) walk(branch, path);
  };
  walk(CONFIG_SCHEMA, '');
  assert.deepEqual(CONFIG_SCHEMA.required, ['model', 'task', 'data']);
  assert.deepEqual(at('data').required, ['train']);
});

/** The leaves of a defaults object by dotted path (arrays are leaves). */
function leaves(o: object, prefix = ''): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const [k, v] of Object.entries(o)) {
    const path = prefix ? `${prefix}.${k}` : k;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) for (const e of leaves(v, path)) out.set(...e);
    else out.set(path, v);
  }
  return out;
}

test('every schema default comes from config-defaults.ts, and config-defaults.ts has no default the schema lacks', () => {
  const inSchema = new Map<string, unknown>();
  const walk = (s: JsonSchema, path: string) => {
    if (s.default !== undefined) inSchema.set(path, s.default);
    for (const [key, sub] of Object.entries(s.properties ?? {})) walk(sub, path ? `${path}.${key}` : key);
  };
  walk(CONFIG_SCHEMA, '');
  const expected = new Map([
    ...leaves(CONFIG_DEFAULTS),
    ...leaves(COLUMN_DEFAULTS, 'data'),
    ['training.warmup_ratio', WARMUP_RATIO_DEFAULT] as const,
    ...leaves(LORA_DEFAULTS, 'training.lora'),
    ...leaves(DISTILLATION_DEFAULTS, 'training.distillation'),
    ...leaves(EDA_DEFAULTS, 'data.augment.eda'),
    ...leaves(MENTION_REPLACEMENT_DEFAULTS, 'data.augment.mention_replacement'),
    ...leaves(BACK_TRANSLATION_DEFAULTS, 'data.augment.back_translation'),
    ...leaves(SWEEP_DEFAULTS, 'sweep'),
  ]);
  assert.deepEqual(new Map([...inSchema].sort()), new Map([...expected].sort()));
});

test('applyDefaults fills in every default ResolvedConfig requires, for every task and method', () => {
  for (const task of Object.keys(ENUMS.task ?? {}))
    for (const method of Object.keys(ENUMS['training.method'] ?? {})) {
      const config = applyDefaults({ model: 'org/model', task, data: { train: 'train.jsonl' }, training: { method } });
      const got = leaves(config);
      for (const [path, value] of leaves(CONFIG_DEFAULTS))
        if (path !== 'training.method') assert.deepEqual(got.get(path), value, `${task} ${method}: ${path}`);
      assert.equal(config.training.warmup_ratio, WARMUP_RATIO_DEFAULT);
      if (config.training.method === 'lora') assert.deepEqual(config.training.lora, LORA_DEFAULTS);
      else assert.equal(config.training.lora, undefined);
    }
});

test('a config with every default filled in is valid', () => {
  for (const task of Object.keys(ENUMS.task ?? {})) {
    // translation and summarization have no default columns: a config names its source and target.
    const named = ['translation', 'summarization'].includes(task) ? { source_column: 'src', target_column: 'tgt' } : {};
    const data = { train: 'train.jsonl', validation_split: 0.1, ...named };
    const config = applyDefaults({ model: 'org/model', task, data });
    const { diagnostics } = validateConfigText(JSON.stringify(config, null, 2), 'json');
    assert.deepEqual(diagnostics, [], task);
  }
});
