import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { generationStopIds } from '../chat/generation-config.js';
import { loadTexts } from '../data/load.js';
import { quantizeDynamicInt8 } from '../graph/quantize-int8.js';
import { type GenerationOptions, type LoadedCausalLm, loadCausalLm } from '../inference/causal-lm-model.js';
import type { QuantizationReport } from '../inference/int8-check.js';
import { lmValidationTexts, measureLmInt8 } from '../inference/lm-int8-check.js';
import { predictLmRow } from '../inference/lm-predict.js';
import type { SavedFloatDtype } from '../io/half.js';
import { contextLength } from '../models/decoder.js';
import { buildInference } from '../step/step-graph.js';
import { intOption, numberOption, UsageError } from './command.js';
import { writeExport } from './export-folder.js';
import { predictJsonl } from './jsonl-predict.js';

/**
 * `predict`, `evaluate` and `export` for causal LMs (GPT2LMHeadModel folders), routed here by
 * model-commands.ts when the folder's architectures name an LM head.
 */

async function withLm<T>(path: string, body: (m: LoadedCausalLm) => Promise<T>): Promise<T> {
  const model = await loadCausalLm(path, { device: 'cpu' });
  try {
    return await body(model);
  } finally {
    await model.dispose();
  }
}

/** The generation flags of `finetune predict`, for parseArgs. */
export const GENERATION_OPTIONS = {
  'max-new-tokens': { type: 'string' },
  'do-sample': { type: 'boolean' },
  temperature: { type: 'string' },
  'top-k': { type: 'string' },
  'top-p': { type: 'string' },
  seed: { type: 'string' },
  'repetition-penalty': { type: 'string' },
  stop: { type: 'string', multiple: true },
  'no-cache': { type: 'boolean' },
} as const;

export const GENERATION_USAGE = `  causal LM:               {"text": <generated continuation>} for a line whose "text" (or
                           --text-column) is the prompt; {"completion"} for a "prompt" string;
                           {"message": {"role": "assistant", "content"}} for "messages" (OpenAI) or
                           "conversations" (ShareGPT), rendered with the model's chat template and
                           its generation prompt (a trailing assistant turn is left out and
                           generated anew; a model without a chat template is an error).
                           Greedy unless --do-sample (or any of
                           --temperature, --top-k, --top-p) is given; stops at EOS (not included),
                           after --max-new-tokens (default 50) or at the model's context.
                           --seed N makes sampling reproducible (default 0); --no-cache recomputes
                           the prefix per token instead of using the KV cache.
                           --repetition-penalty P (transformers' repetition_penalty, greedy or
                           sampled; 1 = off, > 1 discourages tokens already in prompt or reply).
                           --stop TEXT (repeatable) ends the generation where the text reaches TEXT,
                           which is cut off (OpenAI's stop). Each line also gets "finish_reason":
                           "stop" (EOS or a stop string) or "length" (the token limit or context).
`;

export function generationOptions(values: Record<string, string | string[] | boolean | undefined>): GenerationOptions {
  const str = (k: string) => values[k] as string | undefined;
  const temperature = numberOption(str('temperature'), 'temperature');
  const topK = intOption(str('top-k'), 'top-k');
  const topP = numberOption(str('top-p'), 'top-p');
  const maxNewTokens = intOption(str('max-new-tokens'), 'max-new-tokens');
  const seed = intOption(str('seed'), 'seed');
  const repetitionPenalty = numberOption(str('repetition-penalty'), 'repetition-penalty');
  if (temperature !== undefined && temperature < 0) throw new UsageError('--temperature must be >= 0');
  if (topP !== undefined && !(topP > 0 && topP <= 1)) throw new UsageError('--top-p must be in (0, 1]');
  const stop = (values.stop as string[] | undefined) ?? [];
  if (stop.includes('')) throw new UsageError('--stop needs a non-empty text');
  if (repetitionPenalty !== undefined && !(repetitionPenalty > 0))
    throw new UsageError(`--repetition-penalty must be > 0 (1 = off), got ${repetitionPenalty}`);
  const doSample =
    values['do-sample'] === true || temperature !== undefined || topK !== undefined || topP !== undefined;
  return {
    doSample,
    ...(temperature === undefined ? {} : { temperature }),
    ...(topK === undefined ? {} : { topK }),
    ...(topP === undefined ? {} : { topP }),
    ...(maxNewTokens === undefined ? {} : { maxNewTokens }),
    ...(seed === undefined ? {} : { seed }),
    ...(repetitionPenalty === undefined ? {} : { repetitionPenalty }),
    ...(stop.length === 0 ? {} : { stopStrings: stop }),
    useCache: values['no-cache'] !== true,
  };
}

/** What `finetune predict` on a generating model (causal LM or encoder-decoder) is given. */
export interface GeneratePredictArgs {
  model: string;
  input: string;
  output?: string | undefined;
  textColumn: string;
  generation: GenerationOptions;
}

/** `finetune predict` on a causal LM: one line per input line, in order (lm-predict.ts: by the row's layout). */
export async function predictCausalLm(o: GeneratePredictArgs): Promise<number> {
  return withLm(o.model, async (model) => {
    // generation_config.json's eos ids, as transformers' generate stops on them (a chat model's end of turn).
    const generation = { ...o.generation, stopTokenIds: generationStopIds(model.folder, [model.eosTokenId]) };
    await predictJsonl(o.input, o.output, (row, where) =>
      predictLmRow(model, row, { textColumn: o.textColumn, where, generation }),
    );
    return 0;
  });
}

/**
 * `finetune evaluate --task causal-lm`: loss = Σ over texts Σ_t −log p(x_t | x_<t) / Σ over texts
 * (T − 1), perplexity = exp(loss), in eval mode; each text tokenized alone with what the
 * tokenizer's post-processor adds (a Llama tokenizer's BOS; nothing for GPT-2), no packing,
 * truncated only at the model's context (n_positions), which stderr reports. Prints the loss,
 * the perplexity and `tokens`, the number of predicted tokens they average over.
 */
export async function evaluateCausalLm(o: { model: string; data: string; textColumn: string }): Promise<number> {
  return withLm(o.model, async (model) => {
    // Plain texts, whatever other columns the file has (evaluate scores every token).
    const texts = await loadTexts(resolve(o.data), o.textColumn);
    const result = await model.evaluateTexts(texts);
    if (result.truncated > 0) {
      process.stderr.write(
        `finetune evaluate: ${result.truncated} text(s) longer than the model's context (${contextLength(model.arch)} tokens) were truncated to it\n`,
      );
    }
    process.stdout.write(
      `${JSON.stringify({ loss: result.loss, perplexity: result.perplexity, tokens: result.tokens })}\n`,
    );
    return 0;
  });
}

/**
 * `finetune export` of a causal LM: the weights (tied head not stored) and, for onnx, model.onnx
 * (logits [B, T, V]). With `int8`, model.onnx has its linear layers quantized, after the validation
 * perplexity change (lm-int8-check.ts) was measured, written to quantization.json, and accepted.
 */
export async function exportCausalLm(
  folder: string,
  format: 'onnx' | 'safetensors',
  out: string,
  dtype: SavedFloatDtype = 'float32',
  int8?: { maxDrop: number; data?: string | undefined; textColumn?: string | undefined },
): Promise<number> {
  return withLm(folder, async (model) => {
    let report: QuantizationReport | undefined;
    if (int8) {
      report = await measureLmInt8(model, await lmValidationTexts(model.folder, int8), int8.maxDrop);
      process.stdout.write(`${JSON.stringify(report)}\n`);
      if (!report.accepted)
        throw new Error(
          `int8 quantization refused: validation perplexity rises by ${report.drop.toFixed(2)}% on ${report.validation.data} (float32 ${report.float32.toFixed(3)}, int8 ${report.int8.toFixed(3)}, ${report.validation.examples} texts), more than --max-drop ${int8.maxDrop}`,
        );
    }
    const graph = int8 ? quantizeDynamicInt8(buildInference(model.model, model.weights)).graph : undefined;
    writeExport(
      { folder, out, format, dtype, architecture: model.architecture, ...(graph ? { graph } : {}) },
      model.model,
      model.weights,
    );
    if (report) {
      writeFileSync(join(out, 'quantization.json'), `${JSON.stringify(report, null, 2)}\n`);
      process.stdout.write(
        `int8: perplexity ${report.float32.toFixed(3)} -> ${report.int8.toFixed(3)} (+${report.drop.toFixed(2)}%, at most ${int8?.maxDrop}%) on ${report.validation.examples} validation texts\n`,
      );
    }
    return 0;
  });
}
