import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { TaskName } from '../../shared/config.js';
import { CHAT_TEMPLATE } from './chat-template.js';

/**
 * Starting points for "New Fine-tune Config", one per task, in the config format of DESIGN.md.
 * Each names a small public model from the Hugging Face Hub and data files next to the config;
 * the comments say what to change. test/extension/templates.test.ts keeps every template free of
 * validation errors. No 'vscode' import.
 */
export interface ConfigTemplate {
  task: TaskName;
  label: string;
  detail: string;
  /** The file name suggested for it. */
  fileName: string;
  yaml: string;
  /**
   * Example files written beside the config (paths relative to its folder, as the config names
   * them), each only when no file of that name exists yet.
   */
  files?: Readonly<Record<string, string>>;
}

const COMMON_TRAINING = `training:
  method: full                # full | freeze | lora
  epochs: 3
  batch_size: 16
  learning_rate: 3.0e-5
  weight_decay: 0.01
  warmup_ratio: 0.1
  scheduler: linear           # linear | cosine | constant
  max_grad_norm: 1.0
  seed: 42`;

/** A template's example files beside the config; a file the user already has is kept as it is. */
export async function writeTemplateFiles(template: ConfigTemplate, dir: string): Promise<void> {
  for (const [rel, content] of Object.entries(template.files ?? {})) {
    const path = join(dir, rel);
    if (existsSync(path)) continue;
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, content, { flag: 'wx' });
  }
}

export const CONFIG_TEMPLATES: readonly ConfigTemplate[] = [
  {
    task: 'text-classification',
    label: 'Text classification',
    detail: 'Sentiment, topic or intent: one label per text (BERT family)',
    fileName: 'classifier.finetune.yaml',
    yaml: `# Fine-tune a text classifier. Data: JSON Lines with one {"text": ..., "label": ...} object per line.
model: google-bert/bert-base-uncased   # a Hugging Face Hub id, or a folder with config.json and model.safetensors
task: text-classification
data:
  train: data/train.jsonl
  validation: data/validation.jsonl     # or: validation_split: 0.1
  text_column: text
  label_column: label
  max_length: 128
${COMMON_TRAINING}
eval:
  every: epoch
  metrics: [accuracy, f1]
  early_stopping: { patience: 2, metric: f1 }
device: auto                            # auto | cpu | cuda
`,
  },
  {
    task: 'token-classification',
    label: 'Token classification',
    detail: 'Named entities or part-of-speech tags: one tag per word',
    fileName: 'ner.finetune.yaml',
    yaml: `# Fine-tune a token classifier (e.g. NER). Data: JSON Lines, {"tokens": [...], "tags": [...]} per line.
model: google-bert/bert-base-cased      # cased models suit named entities
task: token-classification
data:
  train: data/train.jsonl
  validation: data/validation.jsonl
  tokens_column: tokens
  tags_column: tags
  max_length: 128
${COMMON_TRAINING}
eval:
  every: epoch
  metrics: [f1, precision, recall]
device: auto
`,
  },
  {
    task: 'question-answering',
    label: 'Question answering',
    detail: 'Extractive QA: find the answer span in a context (SQuAD format)',
    fileName: 'qa.finetune.yaml',
    yaml: `# Fine-tune extractive question answering. Data: SQuAD-style JSON Lines rows with
# "question", "context" and "answers": {"text": [...], "answer_start": [...]}.
model: distilbert/distilbert-base-uncased
task: question-answering
data:
  train: data/train.jsonl
  validation: data/validation.jsonl
  max_length: 384
${COMMON_TRAINING}
eval:
  every: epoch
  metrics: [exact_match, f1]
device: auto
`,
  },
  {
    task: 'causal-lm',
    label: 'Causal language model',
    detail: 'Continue pretraining a GPT-style model on your own text',
    fileName: 'lm.finetune.yaml',
    yaml: `# Fine-tune a causal language model on your own text. Data: JSON Lines, {"text": ...} per line.
model: openai-community/gpt2
task: causal-lm
data:
  train: data/train.jsonl
  validation_split: 0.05
  text_column: text
  max_length: 256
training:
  method: lora                # low-rank adapters: far less memory than full fine-tuning
  epochs: 1
  batch_size: 8
  learning_rate: 2.0e-4
  warmup_ratio: 0.05
  scheduler: cosine
  lora: { r: 8, alpha: 16, dropout: 0.05, target_modules: [c_attn] }
eval:
  every: epoch
  metrics: [perplexity]
device: auto
`,
  },
  {
    task: 'masked-lm',
    label: 'Pre-train / domain-adapt (masked LM)',
    detail: 'Teach an encoder your domain from unlabelled text (BERT-style masking), then fine-tune it for a task',
    fileName: 'pretrain.finetune.yaml',
    yaml: `# Masked-language-model pre-training (run_mlm.py's recipe) on your own text, before fine-tuning.
# Data: JSON Lines with one {"text": ...} per line, no labels; a plain .txt file works too.
#
# training.init chooses where the weights start:
#   pretrained (continued pre-training, "domain adaptation"): model is a pre-trained encoder
#     (BERT, RoBERTa, DistilBERT, ALBERT, ELECTRA); it keeps what it knows and learns your
#     domain's words. Hours of text help; keep the learning rate small (2e-5 to 1e-4).
#   scratch: model is a folder holding only config.json and a tokenizer ("Train a tokenizer"
#     in New Fine-tune Config makes one from this corpus); the weights start random, as
#     transformers' _init_weights draws them. Needs more text and epochs, and a larger
#     learning rate (about 1e-3 for a small model).
# When the run completes, "Fine-tune from This Run" in the Runs view writes a classifier config
# whose model is this run's final/.
model: google-bert/bert-base-uncased   # a Hub id or a folder; with init: scratch, e.g. ./scratch
task: masked-lm
data:
  train: data/corpus.jsonl
  validation_split: 0.05      # held-out text: perplexity and masked-token accuracy at each evaluation
  text_column: text
  max_length: 128             # texts are concatenated and cut into blocks of this many tokens
  mlm_probability: 0.15       # share of tokens to predict: 80% [MASK], 10% random, 10% unchanged
  whole_word_masking: false   # true: mask all the pieces of a word together
training:
  init: pretrained            # pretrained | scratch (random weights from the folder's config.json)
  epochs: 3
  batch_size: 32
  learning_rate: 5.0e-5       # about 1.0e-3 with init: scratch
  weight_decay: 0.01
  warmup_ratio: 0.06
  scheduler: linear           # linear | cosine | constant
  seed: 42
eval:
  every: epoch
  metrics: [perplexity, accuracy]   # accuracy: of the masked tokens
device: auto
`,
  },
  {
    task: 'translation',
    label: 'Translation',
    detail: 'Fine-tune T5 to translate between two languages (run_translation.py)',
    fileName: 'translate.finetune.yaml',
    yaml: `# Fine-tune a translation model. Data: JSON Lines rows as Hugging Face translation datasets
# (WMT, OPUS) have them, {"translation": {"en": "...", "de": "..."}}; rows with two plain columns
# work too: replace source_lang/target_lang by source_column: en and target_column: de.
model: google-t5/t5-small              # an encoder-decoder: T5, flan-T5 or mT5 (a Hub id or a folder)
task: translation
data:
  train: data/train.jsonl
  validation: data/validation.jsonl     # or: validation_split: 0.05
  source_lang: en                       # the keys of each row's "translation" object
  target_lang: de
  source_prefix: 'translate English to German: '   # T5 was trained with this prefix; mT5 needs none
  max_source_length: 128                # tokens of the source (prefix included), the rest cut
  max_target_length: 128                # tokens of the target
training:
  method: full                # full | freeze | lora
  epochs: 3
  batch_size: 16
  learning_rate: 3.0e-4       # T5 fine-tunes at larger rates than BERT
  weight_decay: 0.01
  warmup_ratio: 0.05
  scheduler: linear           # linear | cosine | constant
  label_smoothing: 0.1        # transformers' label_smoothing_factor; 0 turns it off
  seed: 42
eval:
  every: epoch
device: auto
`,
  },
  {
    task: 'summarization',
    label: 'Summarization',
    detail: 'Fine-tune T5 to write summaries of your texts (run_summarization.py)',
    fileName: 'summarize.finetune.yaml',
    yaml: `# Fine-tune a summarization model. Data: JSON Lines, one {"document": ..., "summary": ...} per line
# (CNN/DailyMail's columns are article and highlights: name them below).
model: google-t5/t5-small              # an encoder-decoder: T5 or flan-T5 (a Hub id or a folder)
task: summarization
data:
  train: data/train.jsonl
  validation: data/validation.jsonl     # or: validation_split: 0.05
  source_column: document               # the text to summarise
  target_column: summary                # the summary the model learns to write
  source_prefix: 'summarize: '          # T5 was trained with this prefix
  max_source_length: 512                # long documents are cut to this many tokens
  max_target_length: 128
training:
  method: full                # full | freeze | lora
  epochs: 3
  batch_size: 8
  learning_rate: 3.0e-4       # T5 fine-tunes at larger rates than BERT
  weight_decay: 0.01
  warmup_ratio: 0.05
  scheduler: linear           # linear | cosine | constant
  seed: 42
eval:
  every: epoch
device: auto
`,
  },
  CHAT_TEMPLATE,
];
