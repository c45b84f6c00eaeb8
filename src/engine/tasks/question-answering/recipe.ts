import type { ResolvedConfig } from '../../../shared/config.js';
import type { Example, QaExample } from '../../data/records.js';
import { tensorNumbers, tensorOf } from '../../graph/types.js';
import { readHfConfig } from '../../io/hf-config.js';
import { loadPretrained } from '../../io/pretrained.js';
import { maxSequenceLength } from '../../models/encoder.js';
import type { EncoderFamily } from '../../models/family.js';
import { HfConfigReader } from '../../models/hf-config.js';
import { encoderFamilyOf } from '../../models/registry.js';
import type { Batch, Evaluator } from '../../step/batch.js';
import { type CollateOptions, collateEncoded, type EncodedExample, padOffset } from '../encoder/encoded.js';
import type { EncoderTaskModel } from '../encoder/task-models.js';
import { computeMetrics } from '../metrics/registry.js';
import type { QaExample as ScoredQuestion } from '../metrics/squad.js';
import { loadReportOf, type RecipeOptions, type TaskRecipe } from '../task.js';
import { questionAnsweringModel } from './model.js';
import {
  bestAnswers,
  type QaCandidate,
  type QaPostprocessOptions,
  splitQaLogits,
  type WindowLogits,
} from './postprocess.js';
import { type QaWindow, type QaWindowOptions, qaWindows } from './windows.js';

/**
 * Extractive question answering (SQuAD format) on an encoder family, as Hugging Face's run_qa.py:
 * the training "examples" are windows of question + context (a long context gives several), each
 * with the token positions of its answer; evaluation runs every window of the validation set,
 * gathers each question's windows, picks the best span (n-best, max answer length, context only)
 * and scores SQuAD v1.1 exact match and F1 against all gold answers.
 */
export interface QaSettings extends QaWindowOptions, QaPostprocessOptions {}

export interface QaRecipe extends TaskRecipe<QaWindow> {
  family: EncoderFamily;
  model: EncoderTaskModel;
  settings: QaSettings;
  /** Windows through the eval forward: the mean window loss and the n-best answers of each example. */
  answers(
    evaluator: Evaluator,
    windows: readonly QaWindow[],
    batchSize: number,
  ): Promise<{ loss: number; answers: Map<QaExample, QaCandidate[]> }>;
  /** Windows through the eval forward: each example's windows with their start and end logits. */
  windowLogits(
    evaluator: Evaluator,
    windows: readonly QaWindow[],
    batchSize: number,
  ): Promise<{ loss: number; perExample: Map<QaExample, (WindowLogits & { window: QaWindow })[]> }>;
}

export interface QaRecipeOptions extends RecipeOptions {
  /** Overrides of the settings from the config (predict and evaluate of a fine-tuned model). */
  settings?: Partial<QaSettings>;
}

/** A QA key of `data` without a config default (doc_stride) when the config has it. */
function dataKey(config: ResolvedConfig, key: string, min: number): number | undefined {
  const v = (config.data as unknown as Record<string, unknown>)[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min)
    throw new Error(`data.${key} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
  return v;
}

/**
 * The settings of the config, overrides first. doc_stride, which has no config default, defaults as
 * in run_qa.py to 128 (but at most a third of max_length, so the default works with short windows:
 * run_qa pairs 128 with max_seq_length 384); max_answer_length and n_best come resolved.
 */
export function qaSettings(config: ResolvedConfig, maxLength: number, overrides: Partial<QaSettings> = {}): QaSettings {
  return {
    maxLength,
    docStride: overrides.docStride ?? dataKey(config, 'doc_stride', 0) ?? Math.min(128, Math.floor(maxLength / 3)),
    maxAnswerLength: overrides.maxAnswerLength ?? config.data.max_answer_length,
    nBest: overrides.nBest ?? config.data.n_best,
  };
}

export function qaRecipe(o: QaRecipeOptions): QaRecipe {
  if (o.config.task !== 'question-answering')
    throw new Error(`task '${o.config.task}' is not trained by the question-answering recipe`);
  const raw = readHfConfig(o.modelDir);
  const cfg = new HfConfigReader(raw, `${o.modelDir}/config.json`);
  const family = encoderFamilyOf(cfg);
  const model = questionAnsweringModel({
    family,
    config: cfg,
    ...(o.config.training?.dropout === undefined ? {} : { dropout: o.config.training.dropout }),
    ...(o.adapters ? { adapters: o.adapters } : {}),
  });
  const architecture = family.architectures(cfg.str('model_type')).qa;
  const loaded = loadPretrained(o.modelDir, model.params, { seed: o.seed, init: o.config.training.init });
  const maxLength = Math.min(o.settings?.maxLength ?? o.config.data.max_length, maxSequenceLength(model.arch));
  const settings = qaSettings(o.config, maxLength, o.settings);
  const withTokenTypes = model.batchInputs.some((b) => b.name === 'token_type_ids');
  const padId = o.tokenizer.padTokenId ?? 0;

  const encode = (examples: readonly Example[]): QaWindow[] =>
    examples.flatMap((e) => {
      if (e.kind !== 'qa') throw new Error('question-answering needs SQuAD examples (question, context, answers)');
      return qaWindows(o.tokenizer, e, settings);
    });

  const collateOptions: CollateOptions = {
    padId,
    withTokenTypes,
    labels: 'class',
    paddingSide: o.tokenizer.paddingSide,
    padTypeId: o.tokenizer.padTypeId,
  };
  const encoded = (w: QaWindow): EncodedExample => ({ inputIds: w.inputIds, tokenTypeIds: w.tokenTypeIds, label: 0 });
  /** Where window w's token 0 sits in a batch padded to T tokens (left padding shifts it). */
  const firstToken = (w: QaWindow, T: number) => padOffset(encoded(w), T, collateOptions);

  const collate = (windows: readonly QaWindow[]): Batch => {
    const { labels: _, ...inputs } = collateEncoded(windows.map(encoded), collateOptions);
    const B = windows.length;
    const T = inputs.input_ids?.dims[1] ?? 0;
    // Positions index the padded batch, as run_qa.py's are computed after padding.
    const positions = (pick: (w: QaWindow) => number) =>
      tensorOf(
        'int64',
        [B],
        windows.map((w) => pick(w) + firstToken(w, T)),
      );
    return {
      ...inputs,
      start_positions: positions((w) => w.startPosition),
      end_positions: positions((w) => w.endPosition),
    };
  };

  async function windowLogits(evaluator: Evaluator, windows: readonly QaWindow[], batchSize: number) {
    let lossSum = 0;
    const perExample = new Map<QaExample, (WindowLogits & { window: QaWindow })[]>();
    for (let i = 0; i < windows.length; i += batchSize) {
      const chunk = windows.slice(i, i + batchSize);
      const { loss, logits } = await evaluator.evaluate(collate(chunk));
      lossSum += loss * chunk.length;
      const values = tensorNumbers(logits);
      chunk.forEach((w, b) => {
        const { start, end } = splitQaLogits(
          values,
          logits.dims,
          b,
          firstToken(w, logits.dims[1] as number),
          w.offsets.length,
        );
        const list = perExample.get(w.example) ?? [];
        list.push({ start, end, offsets: w.offsets, window: w });
        perExample.set(w.example, list);
      });
    }
    return { loss: windows.length > 0 ? lossSum / windows.length : Number.NaN, perExample };
  }

  async function answers(evaluator: Evaluator, windows: readonly QaWindow[], batchSize: number) {
    const { loss, perExample } = await windowLogits(evaluator, windows, batchSize);
    const result = new Map<QaExample, QaCandidate[]>();
    for (const [e, ws] of perExample) result.set(e, bestAnswers(e.context, ws, settings));
    return { loss, answers: result };
  }

  async function evaluate(
    evaluator: Evaluator,
    windows: readonly QaWindow[],
    metrics: readonly string[],
    batchSize: number,
  ): Promise<Record<string, number>> {
    const { loss, answers: predicted } = await answers(evaluator, windows, batchSize);
    const wanted = metrics.filter((m) => m !== 'loss');
    if (wanted.length === 0) return { loss };
    // SQuAD v1.1 scores answered questions; a question without a gold answer has nothing to match.
    const scored: ScoredQuestion[] = [];
    for (const [e, candidates] of predicted) {
      if (e.answers.text.length === 0) continue;
      scored.push({ prediction: candidates[0]?.text ?? '', answers: e.answers.text });
    }
    if (scored.length === 0)
      throw new Error('question answering: no evaluation question has a gold answer to score (SQuAD v1.1 metrics)');
    return { loss, ...computeMetrics({ kind: 'question-answering', examples: scored }, wanted) };
  }

  return {
    family,
    model,
    settings,
    weights: loaded.weights,
    loadReport: loadReportOf(loaded),
    labels: [],
    architecture,
    exportConfig: {},
    encode,
    collate,
    tokensOf: (w) => w.inputIds.length,
    evaluate,
    answers,
    windowLogits,
  };
}
