import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { columnsFor } from '../data/records.js';
import type { Graph } from '../graph/graph.js';
import { quantizeDynamicInt8 } from '../graph/quantize-int8.js';
import { isCausalLmFolder } from '../inference/causal-lm-model.js';
import { modelFolderOf, taskOf } from '../inference/finetuned-model.js';
import {
  DEFAULT_MAX_DROP,
  evaluateExamples,
  loadLabelled,
  measureInt8,
  type QuantizationReport,
  validationSet,
} from '../inference/int8-check.js';
import { type AnyFinetunedModel, isQaModel, openModel } from '../inference/open-model.js';
import { predictLine } from '../inference/predict.js';
import { predictQa } from '../inference/qa-model.js';
import { isSeq2SeqFolder } from '../inference/seq2seq-predict.js';
import { SAVED_FLOAT_DTYPES } from '../io/half.js';
import { readHfConfig } from '../io/hf-config.js';
import { buildInference } from '../step/step-graph.js';
import { TASK_NAMES, TASKS } from '../tasks/registry.js';
import {
  evaluateCausalLm,
  exportCausalLm,
  GENERATION_OPTIONS,
  GENERATION_USAGE,
  generationOptions,
  predictCausalLm,
} from './causal-lm-commands.js';
import { type Command, choiceOption, numberOption, UsageError } from './command.js';
import { exportMaskedLm, exportSeq2Seq, writeExport } from './export-folder.js';
import { predictJsonl } from './jsonl-predict.js';
import {
  predictSeq2Seq,
  SEQ2SEQ_GENERATION_OPTIONS,
  SEQ2SEQ_GENERATION_USAGE,
  seq2seqOnlyFlags,
  seq2seqSearchFlags,
} from './seq2seq-commands.js';

/** `predict`, `evaluate` and `export`: what a user does with a fine-tuned model folder or run. */

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
  translation/summarization: {"translation_text"} or {"summary_text"} and "finish_reason" for a
                           line whose "text" (or --text-column) is the source (a run's
                           data.source_prefix in front); greedy or beam search (see below) with
                           the KV-cached decoder until EOS or --max-new-tokens (default:
                           generation_config.json's max_new_tokens, else max_length - 1, else 19).
  question answering:      {"answer", "score", "start", "end", "probability"} for a line with
                           "question" and "context": the best span over the context's windows,
                           start/end its character offsets in the context (end exclusive),
                           score start_logit + end_logit, probability its softmax over the n-best
                           (windows and post-processing as the run's config.yaml sets them when
                           --model is a run; run_qa.py's defaults for a bare model folder)
${GENERATION_USAGE}${SEQ2SEQ_GENERATION_USAGE}`,
  async run(args) {
    const { values } = parseArgs({
      args,
      options: {
        model: { type: 'string' },
        input: { type: 'string' },
        output: { type: 'string' },
        'text-column': { type: 'string' },
        ...GENERATION_OPTIONS,
        ...SEQ2SEQ_GENERATION_OPTIONS,
      },
      strict: true,
    });
    if (!values.model || !values.input) throw new UsageError('--model and --input are required');
    const column = values['text-column'] ?? 'text';
    if (isSeq2SeqFolder(values.model)) {
      return predictSeq2Seq({
        model: values.model,
        input: values.input,
        output: values.output,
        textColumn: column,
        generation: generationOptions(values),
        search: seq2seqSearchFlags(values),
      });
    }
    const seq2seqFlags = seq2seqOnlyFlags(values);
    if (seq2seqFlags.length > 0)
      throw new UsageError(
        `${seq2seqFlags.join(', ')} apply to encoder-decoders (translation, summarization); ${values.model} is not one`,
      );
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
      const examples = await loadLabelled(values.data as string, model, columns);
      const result = await evaluateExamples(model, examples, metrics, values.data as string);
      process.stdout.write(`${JSON.stringify(result)}\n`);
      return 0;
    });
  },
};

export const exportCommand: Command = {
  summary: 'export a fine-tuned model as ONNX (inference) or as a safetensors model folder',
  usage: `usage: finetune export <run-dir|folder> --format onnx|safetensors --out <dir> [--dtype float32|float16|bfloat16]
                       [--quantize int8 [--max-drop 1] [--data <file>] [--text-column text] [--label-column label]]

  onnx          model.onnx with inputs input_ids, attention_mask (and token_type_ids where the family
                uses them), dynamic batch and sequence axes, output logits (start_logits and
                end_logits for question answering: Optimum's layout), plus config.json and the
                tokenizer files
  safetensors   a Hugging Face folder: model.safetensors, config.json, tokenizer files

  --dtype       the dtype of the saved weights (default float32, what training computes in), rounded
                to nearest even as torch's tensor.to(dtype); config.json's torch_dtype says it. A
                LoRA run's final model has its adapters merged before. model.onnx stays float32.
  --quantize    int8 (onnx; task models and causal LMs): model.onnx with its linear layers as ONNX Runtime's
                dynamic quantization writes them (MatMulInteger over int8 weights per output channel,
                uint8 activations quantized at run time). The quality change is measured on the
                validation set (--data, labelled rows; default: the run's validation data) and written
                to quantization.json: accuracy for text classification, Pearson's r for a regression
                head, entity F1 for token classification, SQuAD F1 for question answering, in points
                (0-100). The export is refused, writing nothing, when float32 - int8 exceeds --max-drop
                points (default ${DEFAULT_MAX_DROP}; a negative value asks int8 to score better by that much).
                A causal LM is measured by validation perplexity (--data: a text column, as evaluate reads
                it; default: the run's validation texts); its drop is the perplexity increase in percent.
`,
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      options: {
        format: { type: 'string' },
        out: { type: 'string' },
        dtype: { type: 'string' },
        quantize: { type: 'string' },
        'max-drop': { type: 'string' },
        data: { type: 'string' },
        'text-column': { type: 'string' },
        'label-column': { type: 'string' },
      },
      allowPositionals: true,
      strict: true,
    });
    const [source, ...extra] = positionals;
    if (!source || extra.length > 0) throw new UsageError('expected exactly one run directory or model folder');
    const format = choiceOption(values.format, 'format', ['onnx', 'safetensors'] as const);
    if (!format || !values.out) throw new UsageError('--format and --out are required');
    const dtype = choiceOption(values.dtype, 'dtype', SAVED_FLOAT_DTYPES) ?? 'float32';
    const quantize = choiceOption(values.quantize, 'quantize', ['int8'] as const);
    for (const flag of ['max-drop', 'data', 'text-column', 'label-column'] as const)
      if (values[flag] !== undefined && !quantize) throw new UsageError(`--${flag} applies to --quantize int8 only`);
    if (quantize && format !== 'onnx')
      throw new UsageError('--quantize int8 writes model.onnx: use it with --format onnx');
    const maxDrop = numberOption(values['max-drop'], 'max-drop') ?? DEFAULT_MAX_DROP;
    const out = resolve(values.out);
    const folder = modelFolderOf(source);
    if (isCausalLmFolder(folder)) {
      if (values['label-column'] !== undefined)
        throw new UsageError('--label-column applies to task models, not a causal LM');
      return exportCausalLm(
        folder,
        format,
        out,
        dtype,
        quantize ? { maxDrop, data: values.data, textColumn: values['text-column'] } : undefined,
      );
    }
    const inference = TASKS[taskOf(readHfConfig(folder), folder)].inference;
    if (inference === 'fill-mask' || inference === 'seq2seq') {
      if (quantize)
        throw new UsageError(
          `--quantize int8 applies to task models (classification, question answering) and causal LMs; ${folder} is ${inference === 'seq2seq' ? 'an encoder-decoder (int8 is measured on a task metric, and generated text is not scored here yet): export it with --format onnx in float32' : 'a masked LM'}`,
        );
      return (inference === 'seq2seq' ? exportSeq2Seq : exportMaskedLm)({ folder, out, format, dtype });
    }
    return withModel(folder, async (model) => {
      let report: QuantizationReport | undefined;
      let quantized: Graph | undefined;
      if (quantize) {
        const columns = columnsFor({ text_column: values['text-column'], label_column: values['label-column'] });
        const validation = await validationSet(folder, model, { data: values.data, columns });
        report = await measureInt8(model, validation, maxDrop);
        process.stdout.write(`${JSON.stringify(report)}\n`);
        if (!report.accepted)
          throw new Error(
            `int8 quantization refused: ${report.metric} drops by ${report.drop.toFixed(2)} points on ${report.validation.data} (float32 ${report.float32.toFixed(2)}, int8 ${report.int8.toFixed(2)}, ${report.validation.examples} examples), more than --max-drop ${maxDrop}`,
          );
        quantized = quantizeDynamicInt8(buildInference(model.recipe.model, model.recipe.weights)).graph;
      }
      writeExport(
        { folder, out, format, dtype, ...(quantized ? { graph: quantized } : {}) },
        model.recipe.model,
        model.recipe.weights,
      );
      if (report) {
        writeFileSync(join(out, 'quantization.json'), `${JSON.stringify(report, null, 2)}\n`);
        process.stdout.write(
          `int8: ${report.metric} ${report.float32.toFixed(2)} -> ${report.int8.toFixed(2)} (drop ${report.drop.toFixed(2)} points, at most ${maxDrop}) on ${report.validation.examples} validation examples\n`,
        );
      }
      return 0;
    });
  },
};
