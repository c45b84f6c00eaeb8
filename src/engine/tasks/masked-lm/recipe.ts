import { tensorNumbers } from '../../graph/types.js';
import { readHfConfig } from '../../io/hf-config.js';
import { loadPretrained } from '../../io/pretrained.js';
import { maxSequenceLength } from '../../models/encoder.js';
import { HfConfigReader } from '../../models/hf-config.js';
import { encoderFamilyOf } from '../../models/registry.js';
import type { Evaluator } from '../../step/batch.js';
import type { NllBatch } from '../metrics/perplexity.js';
import { computeMetrics } from '../metrics/registry.js';
import { loadReportOf, type RecipeOptions, type TaskRecipe } from '../task.js';
import { encodeMlmTexts } from './blocks.js';
import {
  type BatchPosition,
  collateMlm,
  MLM_IGNORE_INDEX,
  type MlmCollateOptions,
  type MlmExample,
} from './masking.js';
import { type MaskedLmModel, maskedLmModel } from './model.js';
import { mlmCorpusExamples } from './streamed.js';

/**
 * Masked language modelling (`task: masked-lm`) on an encoder, as Hugging Face's run_mlm.py
 * trains it: texts grouped into max_length blocks (or line by line), masks drawn per batch by
 * DataCollatorForLanguageModeling's rule (masking.ts), the loss a mean over the selected tokens.
 * The exported final/ is a *ForMaskedLM folder, which the classification, token and QA recipes
 * load as a base model (the MLM head unused, the task head initialised).
 */
export interface MaskedLmRecipe extends TaskRecipe<MlmExample> {
  model: MaskedLmModel;
  maxLength: number;
  collateOptions: MlmCollateOptions;
}

/** Eval masks come from epoch 0, which training never uses: the same masks at every evaluation. */
const EVAL_EPOCH = 0;

export function maskedLmRecipe(o: RecipeOptions): MaskedLmRecipe {
  const cfg = new HfConfigReader(readHfConfig(o.modelDir), `${o.modelDir}/config.json`);
  const family = encoderFamilyOf(cfg);
  const model = maskedLmModel({
    family,
    config: cfg,
    ...(o.config.training.dropout === undefined ? {} : { dropout: o.config.training.dropout }),
    ...(o.adapters ? { adapters: o.adapters } : {}),
  });
  const loaded = loadPretrained(o.modelDir, model.params, { seed: o.seed, init: o.config.training.init });
  const maskId = o.tokenizer.maskTokenId;
  if (maskId === null)
    throw new Error(`${o.modelDir}: the tokenizer has no mask token (mask_token), which masked-lm needs`);
  const d = o.config.data;
  const maxLength = Math.min(d.max_length, maxSequenceLength(model.arch));
  const collateOptions: MlmCollateOptions = {
    probability: d.mlm_probability,
    maskId,
    randomVocab: Math.min(o.tokenizer.vocabSize, model.arch.vocabSize),
    wholeWord: d.whole_word_masking,
    padId: o.tokenizer.padTokenId ?? 0,
    withTokenTypes: model.batchInputs.some((b) => b.name === 'token_type_ids'),
    seed: o.seed,
  };
  const collate = (examples: readonly MlmExample[], at?: BatchPosition) =>
    collateMlm(examples, at ?? { epoch: EVAL_EPOCH, batch: 0 }, collateOptions);

  /** Evaluation over items that `load` turns into examples a batch at a time (in memory: themselves). */
  async function evaluateItems<T>(
    evaluator: Evaluator,
    items: readonly T[],
    load: (batch: readonly T[]) => readonly MlmExample[],
    metrics: readonly string[],
    batchSize: number,
  ) {
    const batches: NllBatch[] = [];
    let correct = 0;
    let selected = 0;
    for (let i = 0; i < items.length; i += batchSize) {
      const batch = collate(load(items.slice(i, i + batchSize)), { epoch: EVAL_EPOCH, batch: i / batchSize });
      // The eval graph's `logits` are the predicted ids, [B, T] (model.ts).
      const { loss, logits: predicted } = await evaluator.evaluate(batch);
      const labels = tensorNumbers(batch.labels as NonNullable<typeof batch.labels>);
      const ids = tensorNumbers(predicted);
      let tokens = 0;
      labels.forEach((label, p) => {
        if (label === MLM_IGNORE_INDEX) return;
        tokens++;
        if (ids[p] === label) correct++;
      });
      selected += tokens;
      batches.push({ nllSum: loss * tokens, tokens });
    }
    const nll = batches.reduce((a, b) => a + b.nllSum, 0);
    // Perplexity and accuracy come with every evaluation (run_mlm.py reports both), listed or not.
    const named = [...new Set(['perplexity', 'accuracy', ...metrics.filter((m) => m !== 'loss')])];
    return {
      loss: selected === 0 ? Number.NaN : nll / selected,
      ...(selected === 0 ? {} : computeMetrics({ kind: 'masked-lm', batches, correct, selected }, named)),
    };
  }

  return {
    model,
    weights: loaded.weights,
    loadReport: loadReportOf(loaded, (n) => model.head.tied.includes(n)),
    labels: [],
    maxLength,
    collateOptions,
    architecture: model.head.architecture,
    exportConfig: {},
    encode: (examples) => encodeMlmTexts(o.tokenizer, examples, { maxLength, lineByLine: d.line_by_line }),
    collate,
    tokensOf: (e) => e.inputIds.length,
    evaluate: (evaluator, examples, metrics, batchSize) =>
      evaluateItems(evaluator, examples, (batch) => batch, metrics, batchSize),
    streaming: {
      // Line by line caches each text truncated as encodeMlmTexts does; blocks need whole texts.
      encoding: { maxLength: d.line_by_line ? maxLength : null, blankAsEmpty: d.line_by_line },
      open(corpus, texts) {
        const source = mlmCorpusExamples(corpus, texts, { maxLength, lineByLine: d.line_by_line });
        return {
          count: source.count,
          collate: (items, at) => collate(source.examples(items), at),
          tokensOf: (item) => source.lengthOf(item),
          evaluate: (evaluator, items, metrics, batchSize) =>
            evaluateItems(evaluator, items, source.examples, metrics, batchSize),
        };
      },
    },
  };
}
