import type { Example } from '../../data/records.js';
import { type TensorData, tensorNumbers } from '../../graph/types.js';
import { readHfConfig } from '../../io/hf-config.js';
import { loadPretrained } from '../../io/pretrained.js';
import { maxSequenceLength } from '../../models/encoder.js';
import type { EncoderFamily } from '../../models/family.js';
import { HfConfigReader } from '../../models/hf-config.js';
import { encoderFamilyOf } from '../../models/registry.js';
import type { Evaluator } from '../../step/batch.js';
import { argmax } from '../metrics/classification.js';
import { computeMetrics, type EvalOutputs } from '../metrics/registry.js';
import { loadReportOf, type RecipeOptions, type TaskRecipe } from '../task.js';
import { type CollateOptions, collateEncoded, type EncodedExample, padOffset, tokenCount } from './encoded.js';
import {
  type EncoderTaskModel,
  IGNORE_INDEX,
  type ProblemType,
  sequenceClassificationModel,
  tokenClassificationModel,
} from './task-models.js';

/**
 * Text and token classification on an encoder family: from a model folder, a tokenizer and the
 * prepared data to the model graph, its pretrained weights, encoded examples, collation and the
 * evaluation metrics, as Hugging Face's Trainer recipes for these tasks do.
 */
export interface EncoderRecipe extends TaskRecipe<EncodedExample> {
  family: EncoderFamily;
  model: EncoderTaskModel;
  problemType: ProblemType;
  collateOptions: CollateOptions;
  /** Tokens per input: data.max_length, capped by the model's position embeddings. */
  maxLength: number;
}

export interface EncoderRecipeOptions extends RecipeOptions {
  /** Overrides config.json's problem_type (a loaded fine-tuned model states its own). */
  problemType?: ProblemType;
}

const labelName = (l: string | number) => String(l);

export function encoderRecipe(o: EncoderRecipeOptions): EncoderRecipe {
  const task = o.config.task;
  if (task !== 'text-classification' && task !== 'token-classification') {
    throw new Error(`task '${task}' is not trained by the encoder recipe (text-classification, token-classification)`);
  }
  const raw = readHfConfig(o.modelDir);
  const cfg = new HfConfigReader(raw, `${o.modelDir}/config.json`);
  const family = encoderFamilyOf(cfg);
  const labels = (o.labelSet?.labels ?? []).map(labelName);
  const fromConfig = task === 'text-classification' ? (raw.problem_type as ProblemType | undefined) : undefined;
  const fromData: ProblemType | undefined = o.labelSet?.regression
    ? 'regression'
    : o.labelSet?.multiLabel
      ? 'multi_label_classification'
      : undefined;
  const problemType: ProblemType = o.problemType ?? fromData ?? fromConfig ?? 'single_label_classification';
  const numLabels = problemType === 'regression' ? 1 : labels.length;
  if (numLabels < 1) throw new Error('the training data has no labels');
  const common = {
    family,
    config: cfg,
    numLabels,
    ...(o.config.training?.dropout === undefined ? {} : { dropout: o.config.training.dropout }),
    ...(o.adapters ? { adapters: o.adapters } : {}),
  };
  const model =
    task === 'token-classification'
      ? tokenClassificationModel(common)
      : sequenceClassificationModel({ ...common, problemType });
  const loaded = loadPretrained(o.modelDir, model.params, { seed: o.seed, init: o.config.training.init });
  const maxLength = Math.min(o.config.data.max_length, maxSequenceLength(model.arch));
  const withTokenTypes = model.batchInputs.some((b) => b.name === 'token_type_ids');
  const padId = o.tokenizer.padTokenId ?? 0;
  const labelId = (l: string | number): number => o.labelSet?.ids.get(l) ?? -1;
  const collateOptions: CollateOptions = {
    padId,
    withTokenTypes,
    labels:
      task === 'token-classification'
        ? 'per-token'
        : problemType === 'regression'
          ? 'float'
          : problemType === 'multi_label_classification'
            ? 'float-vector'
            : 'class',
    ignoreIndex: IGNORE_INDEX,
    paddingSide: o.tokenizer.paddingSide,
    padTypeId: o.tokenizer.padTypeId,
  };

  const encode = (examples: readonly Example[]): EncodedExample[] =>
    examples.map((e) => {
      if (e.kind === 'tokens') {
        const enc = o.tokenizer.encodeWords(e.tokens, null, { maxLength });
        // The first sub-token of each word carries the word's tag; the rest and specials are ignored.
        let previous: number | null = null;
        const label = enc.wordIds.map((w) => {
          const first = w !== null && w !== previous;
          previous = w;
          return first ? labelId(e.tags[w as number] as string | number) : IGNORE_INDEX;
        });
        return { inputIds: enc.ids, tokenTypeIds: enc.tokenTypeIds, label, line: e.source.line };
      }
      if (e.kind !== 'text') throw new Error(`${task} needs text examples`);
      const enc = o.tokenizer.encode(e.text, e.pair ?? null, { maxLength });
      if (problemType === 'multi_label_classification') {
        // Multi-hot over the label set; a single label (not a list) counts as a list of one.
        const on = new Set((e.labels ?? (e.label === undefined ? [] : [e.label])).map(labelId));
        return {
          inputIds: enc.ids,
          tokenTypeIds: enc.tokenTypeIds,
          label: labels.map((_, i) => (on.has(i) ? 1 : 0)),
          line: e.source.line,
        };
      }
      const label = problemType === 'regression' ? Number(e.label) : labelId(e.label as string | number);
      return { inputIds: enc.ids, tokenTypeIds: enc.tokenTypeIds, label, line: e.source.line };
    });

  async function evaluate(
    runner: Evaluator,
    examples: readonly EncodedExample[],
    metrics: readonly string[],
    batchSize: number,
  ) {
    let lossSum = 0;
    let counted = 0;
    const golds: number[][] = [];
    const preds: number[][] = [];
    const scalarGold: number[] = [];
    const scalarPred: number[] = [];
    for (let i = 0; i < examples.length; i += batchSize) {
      const chunk = examples.slice(i, i + batchSize);
      const { loss, logits } = await runner.evaluate(collateEncoded(chunk, collateOptions));
      // Token loss is a mean over labelled tokens: weight batches by them, as a dataset-level mean.
      const weight =
        task === 'token-classification'
          ? chunk.reduce((n, e) => n + (e.label as number[]).filter((l) => l !== IGNORE_INDEX).length, 0)
          : chunk.length;
      lossSum += loss * weight;
      counted += weight;
      collectPredictions(logits, chunk, golds, preds, scalarGold, scalarPred);
    }
    const outputs = evalOutputs(golds, preds, scalarGold, scalarPred);
    return {
      loss: lossSum / counted,
      ...computeMetrics(
        outputs,
        metrics.filter((m) => m !== 'loss'),
      ),
    };
  }

  function collectPredictions(
    logits: TensorData,
    chunk: readonly EncodedExample[],
    golds: number[][],
    preds: number[][],
    sg: number[],
    sp: number[],
  ) {
    const v = tensorNumbers(logits);
    const width = logits.dims[logits.dims.length - 1] as number;
    if (task === 'token-classification') {
      const T = logits.dims[1] as number;
      chunk.forEach((e, b) => {
        const gold: number[] = [];
        const pred: number[] = [];
        const at = b * T + padOffset(e, T, collateOptions);
        (e.label as number[]).forEach((l, t) => {
          if (l === IGNORE_INDEX) return;
          gold.push(l);
          pred.push(argmax(v, (at + t) * width, width));
        });
        golds.push(gold);
        preds.push(pred);
      });
      return;
    }
    chunk.forEach((e, b) => {
      if (problemType === 'regression') {
        sg.push(e.label as number);
        sp.push(v[b] as number);
      } else if (problemType === 'multi_label_classification') {
        golds.push(e.label as number[]);
        preds.push(Array.from({ length: width }, (_, j) => ((v[b * width + j] as number) > 0 ? 1 : 0)));
      } else {
        sg.push(e.label as number);
        sp.push(argmax(v, b * width, width));
      }
    });
  }

  function evalOutputs(golds: number[][], preds: number[][], sg: number[], sp: number[]): EvalOutputs {
    if (task === 'token-classification') {
      const name = (ids: number[]) => ids.map((id) => labels[id] ?? 'O');
      return { kind: 'token-classification', labels: golds.map(name), predictions: preds.map(name) };
    }
    if (problemType === 'regression') return { kind: 'regression', labels: sg, predictions: sp };
    if (problemType === 'multi_label_classification') return { kind: 'multi-label', labels: golds, predictions: preds };
    return { kind: 'single-label', labels: sg, predictions: sp, numLabels };
  }

  return {
    family,
    model,
    weights: loaded.weights,
    loadReport: loadReportOf(loaded),
    labels,
    problemType,
    collateOptions,
    maxLength,
    collate: (examples) => collateEncoded(examples, collateOptions),
    tokensOf: tokenCount,
    exportConfig: { problem_type: problemType },
    architecture: family.architectures(cfg.str('model_type'))[task === 'token-classification' ? 'token' : 'sequence'],
    encode,
    evaluate,
  };
}
