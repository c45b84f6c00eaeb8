import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { BadRows } from '../data/errors.js';
import { loadExamples } from '../data/load.js';
import { columnsFor, type Example } from '../data/records.js';
import { isCausalLmFolder } from '../inference/causal-lm-model.js';
import { modelFolderOf, taskOf } from '../inference/finetuned-model.js';
import { type AnyFinetunedModel, isQaModel, openModel } from '../inference/open-model.js';
import { predictLine } from '../inference/predict.js';
import { predictQa } from '../inference/qa-model.js';
import { SAVED_FLOAT_DTYPES } from '../io/half.js';
import { readHfConfig } from '../io/hf-config.js';
import { TASK_NAMES, TASKS } from '../tasks/registry.js';
import {
  evaluateCausalLm,
  exportCausalLm,
  GENERATION_OPTIONS,
  GENERATION_USAGE,
  generationOptions,
  predictCausalLm,
} from './causal-lm-commands.js';
import { type Command, choiceOption, UsageError } from './command.js';
import { exportMaskedLm, writeExport } from './export-folder.js';
import { predictJsonl } from './jsonl-predict.js';

/** `predict`, `evaluate` and `export`: what a user does with a fine-tuned model folder or run. */
const BATCH = 32;

async function withModel<T>(path: string, body: (m: AnyFinetunedModel) => Promise<T>): Promise<T> {
  const model = await openModel(path, { device: 'cpu' });
  try {
    return await body(model);
  } finally {
    await model.dispose();
  }
}

export const predictCommand: Command = {
  summary: 'run a fine-tuned model over a JSONL file, one prediction per line',
  usage: `usage: finetune predict --model <folder|run-dir> --input <file.jsonl> [--output <file.jsonl>] [--text-column text]

Writes one JSON line per input line, in input order:
  sequence classification: {"label", "score", "logits": [...]}  (raw pre-softmax logits)
  token classification:    {"tokens": [...], "labels": [...]}  (one label per word; words are the
                           line's "tokens" array, or its text split on whitespace)
  question answering:      {"answer", "score", "start", "end", "probability"} for a line with
                           "question" and "context": the best span over the context's windows,
                           start/end its character offsets in the context (end exclusive),
                           score start_logit + end_logit, probability its softmax over the n-best
                           (windows and post-processing as the run's config.yaml sets them when
                           --model is a run; run_qa.py's defaults for a bare model folder)
${GENERATION_USAGE}`,
  async run(args) {
    const { values } = parseArgs({
      args,
      options: {
        model: { type: 'string' },
        input: { type: 'string' },
        output: { type: 'string' },
        'text-column': { type: 'string' },
        ...GENERATION_OPTIONS,
      },
      strict: true,
    });
    if (!values.model || !values.input) throw new UsageError('--model and --input are required');
    const column = values['text-column'] ?? 'text';
    if (isCausalLmFolder(values.model)) {
      const generation = generationOptions(values);
      return predictCausalLm({
        model: values.model,
        input: values.input,
        output: values.output,
        textColumn: column,
        generation,
      });
    }
    return withModel(values.model, async (model) => {
      await predictJsonl(values.input as string, values.output, (row, where) =>
        isQaModel(model) ? predictQa(model, row, where) : predictLine(model, row, column, where),
      );
      return 0;
    });
  },
};

export const evaluateCommand: Command = {
  summary: 'compute the metrics of a fine-tuned model on a labelled file',
  usage: `usage: finetune evaluate --model <folder|run-dir> --task <task> --data <file> [--text-column text] [--label-column label] [--metrics a,b]

Prints one JSON line: the eval loss and the task's metrics (default: accuracy and f1 for text
classification, seqeval f1/precision/recall/accuracy for token classification, SQuAD
exact_match and f1 for question answering, whose data is SQuAD rows: question, context, answers).
For a causal LM (--task causal-lm, or a GPT2LMHeadModel folder): {"loss", "perplexity"}, token-weighted
over the file (Σ NLL / Σ predicted tokens), each text tokenized alone, truncated only at the context.
`,
  async run(args) {
    const { values } = parseArgs({
      args,
      options: {
        model: { type: 'string' },
        task: { type: 'string' },
        data: { type: 'string' },
        'text-column': { type: 'string' },
        'label-column': { type: 'string' },
        metrics: { type: 'string' },
      },
      strict: true,
    });
    if (!values.model || !values.data) throw new UsageError('--model and --data are required');
    const task = choiceOption(values.task, 'task', TASK_NAMES);
    if (task === 'causal-lm' || isCausalLmFolder(values.model)) {
      if (task !== undefined && task !== 'causal-lm')
        throw new UsageError(`--task ${task} does not match the model's head (causal-lm)`);
      if (!isCausalLmFolder(values.model))
        throw new UsageError(`--task causal-lm needs a causal LM (GPT2LMHeadModel); ${values.model} is not one`);
      return evaluateCausalLm({ model: values.model, data: values.data, textColumn: values['text-column'] ?? 'text' });
    }
    return withModel(values.model, async (model) => {
      if (task && task !== model.task)
        throw new UsageError(`--task ${task} does not match the model's head (${model.task})`);
      const columns = columnsFor({ text_column: values['text-column'], label_column: values['label-column'] });
      const metrics = values.metrics?.split(',').map((m) => m.trim()) ?? TASKS[model.task].evaluateMetrics;
      const examples: Example[] = [];
      for await (const e of loadExamples(resolve(values.data as string), {
        rows: TASKS[model.task].data.rows,
        columns,
        badRows: new BadRows('error'),
      }))
        examples.push(e);
      if (isQaModel(model)) {
        const result = await model.recipe.evaluate(model, model.recipe.encode(examples), metrics, BATCH);
        process.stdout.write(`${JSON.stringify(result)}\n`);
        return 0;
      }
      const encoded = model.recipe.encode(examples);
      for (const e of encoded) {
        const bad = Array.isArray(e.label) ? e.label.some((l) => l === -1) : e.label === -1;
        if (bad)
          throw new Error(
            `${values.data}:${e.line}: a label the model does not know (its labels: ${model.recipe.labels.join(', ')})`,
          );
      }
      const result = await model.recipe.evaluate(model, encoded, metrics, BATCH);
      process.stdout.write(`${JSON.stringify(result)}\n`);
      return 0;
    });
  },
};

export const exportCommand: Command = {
  summary: 'export a fine-tuned model as ONNX (inference) or as a safetensors model folder',
  usage: `usage: finetune export <run-dir|folder> --format onnx|safetensors --out <dir> [--dtype float32|float16|bfloat16]

  onnx          model.onnx with inputs input_ids, attention_mask (and token_type_ids where the family
                uses them), dynamic batch and sequence axes, output logits (start_logits and
                end_logits for question answering: Optimum's layout), plus config.json and the
                tokenizer files
  safetensors   a Hugging Face folder: model.safetensors, config.json, tokenizer files

  --dtype       the dtype of the saved weights (default float32, what training computes in), rounded
                to nearest even as torch's tensor.to(dtype); config.json's torch_dtype says it. A
                LoRA run's final model has its adapters merged before. model.onnx stays float32.
`,
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      options: { format: { type: 'string' }, out: { type: 'string' }, dtype: { type: 'string' } },
      allowPositionals: true,
      strict: true,
    });
    const [source, ...extra] = positionals;
    if (!source || extra.length > 0) throw new UsageError('expected exactly one run directory or model folder');
    const format = choiceOption(values.format, 'format', ['onnx', 'safetensors'] as const);
    if (!format || !values.out) throw new UsageError('--format and --out are required');
    const dtype = choiceOption(values.dtype, 'dtype', SAVED_FLOAT_DTYPES) ?? 'float32';
    const out = resolve(values.out);
    const folder = modelFolderOf(source);
    if (isCausalLmFolder(folder)) return exportCausalLm(folder, format, out, dtype);
    if (TASKS[taskOf(readHfConfig(folder), folder)].inference === 'fill-mask')
      return exportMaskedLm({ folder, out, format, dtype });
    return withModel(folder, async (model) =>
      writeExport({ folder, out, format, dtype }, model.recipe.model, model.recipe.weights),
    );
  },
};
