/**
 * Config fixtures: good files and one file per kind of mistake, each with its expected diagnostics
 * in config-validate.test.ts. Kept as strings rather than files because Biome parses and formats
 * YAML and JSON files, and half of these are broken on purpose.
 */
export const CONFIG_FIXTURES: Readonly<Record<string, string>> = {
  'bad-enum.finetune.yaml': `model: ./models/bert-tiny
task: text-clasification
data:
  train: data/train.jsonl
training:
  scheduler: 'cosin'
device: mps
`,
  'both-warmups.finetune.yaml': `model: ./models/bert-tiny
task: text-classification
data:
  train: data/train.jsonl
training:
  warmup_ratio: 0.1
  warmup_steps: 500
  epochs: 2
`,
  'good.finetune.json': `{
  // JSON with comments, as VS Code edits it.
  "$schema": "./schemas/finetune.schema.json",
  "model": "./models/bert-tiny",
  "task": "token-classification",
  "data": {
    "train": "data/ner.jsonl",
    "validation_split": 0.1,
    "tokens_column": "words",
    "tags_column": "ner_tags"
  },
  "training": {
    "method": "lora",
    "learning_rate": 3e-4,
    "warmup_steps": 100,
    "lora": { "r": 16, "target_modules": ["query", "value"] }
  },
  "eval": { "every": 500, "metrics": ["f1"], "early_stopping": { "patience": 2 } }
}
`,
  'good.finetune.yaml': `# The example of DESIGN.md: a text classifier on a small BERT.
model: ./models/bert-tiny # a folder, or a Hub id
task: text-classification
data:
  train: data/train.jsonl
  validation: data/val.jsonl
  text_column: text
  label_column: label
  max_length: 128
  clean: { normalize: NFKC, lowercase: false, dedup: true }
  shuffle: true
training:
  method: full
  epochs: 3
  batch_size: 32
  learning_rate: 2.0e-5
  weight_decay: 0.01
  warmup_ratio: 0.1
  scheduler: linear
  gradient_accumulation_steps: 1
  max_grad_norm: 1.0
  seed: 42
  dropout: 0.1
eval:
  every: epoch
  metrics: [accuracy, f1]
  early_stopping: { patience: 3, metric: f1 }
output_dir: .finetune/runs
device: auto
`,
  'json-syntax.finetune.json': `{
  "model": "./models/bert-tiny",
  "task": "text-classification"
  "data": { "train": "data/train.jsonl" }
}
`,
  'missing-required.finetune.yaml': `# No task, and data without train.
model: ./models/bert-tiny
data:
  validation: data/val.jsonl
`,
  'out-of-range.finetune.yaml': `model: ./models/bert-tiny
task: text-classification
data:
  train: data/train.jsonl
  validation_split: 1.5
training:
  learning_rate: 0
  dropout: 1
  epochs: 0
`,
  'unknown-key.finetune.json': `{
  "model": "./models/bert-tiny",
  "task": "text-classification",
  "data": { "train": "data/train.jsonl", "lable_column": "y" }
}
`,
  'unknown-key.finetune.yaml': `model: ./models/bert-tiny
task: text-classification
data:
  train: data/train.jsonl
training:
  lerning_rate: 3.0e-5
  epochs: 2
batch_size: 16
`,
  'wrong-type.finetune.yaml': `model: ./models/bert-tiny
task: text-classification
data:
  train: data/train.jsonl
  shuffle: yes
training:
  batch_size: "32"
  epochs: 2.5
eval:
`,
  'yaml-syntax.finetune.yaml': `model: ./models/bert-tiny
task: text-classification
data:
  train: "data/train.jsonl
training:
  epochs: 3
`,
};
