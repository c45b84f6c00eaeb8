import type { Seq2SeqExample } from '../../data/records.js';
import { readHfConfig } from '../../io/hf-config.js';
import { loadPretrained } from '../../io/pretrained.js';
import { HfConfigReader } from '../../models/hf-config.js';
import { seq2seqFamilyOf } from '../../models/registry.js';
import { type Seq2SeqLmModel, seq2seqLmModel } from '../../models/seq2seq.js';
import { loadReportOf, type RecipeOptions, type TaskRecipe } from '../task.js';
import { collateSeq2Seq, encodeSeq2Seq, type Seq2SeqEncoded } from './batches.js';
import { evalSearch, evaluateGenerated, generatedMetricsOf } from './evaluate.js';
import { seq2seqGenerationDefaults } from './generation-config.js';

/**
 * Translation and summarization (`task: translation | summarization`) on an encoder-decoder, as
 * run_translation.py and run_summarization.py train it with Seq2SeqTrainer:
 *
 * - sources are `data.source_prefix` + the text, tokenized with the tokenizer's special tokens and
 *   truncated to data.max_source_length; targets tokenized the same way (T5: the ids then `</s>`)
 *   and truncated to data.max_target_length;
 * - teacher forcing: labels padded with -100, decoder_input_ids = shift_right(labels) (batches.ts);
 * - the loss is the mean cross-entropy over the label tokens of each batch (the model's own loss),
 *   or with training.label_smoothing transformers' LabelSmoother; with gradient accumulation the
 *   step averages its micro-batches' losses, as Trainer does for a model that takes no
 *   num_items_in_batch (T5ForConditionalGeneration);
 * - the eval loss is the mean of the batches' losses weighted by their examples (Trainer's
 *   evaluation loop repeats each batch's loss once per example); with eval.generate the
 *   validation set is also decoded and scored (evaluate.ts).
 */
export interface Seq2SeqRecipe extends TaskRecipe<Seq2SeqEncoded> {
  model: Seq2SeqLmModel;
}

export function seq2seqRecipe(o: RecipeOptions): Seq2SeqRecipe {
  const task = o.config.task;
  const cfg = new HfConfigReader(readHfConfig(o.modelDir), `${o.modelDir}/config.json`);
  const family = seq2seqFamilyOf(cfg);
  const t = o.config.training;
  const model = seq2seqLmModel(family, {
    config: cfg,
    labelSmoothing: t.label_smoothing,
    ...(t.dropout === undefined ? {} : { dropout: t.dropout }),
    ...(o.adapters ? { adapters: o.adapters } : {}),
  });
  const arch = model.seq2seq.arch;
  const loaded = loadPretrained(o.modelDir, model.params, {
    seed: o.seed,
    basePrefix: family.basePrefix,
    init: t.init,
    tiedNames: (n) => model.seq2seq.tiedNames(n),
  });
  const d = o.config.data;
  const encoding = {
    prefix: d.source_prefix ?? '',
    maxSourceLength: d.max_source_length,
    maxTargetLength: d.max_target_length,
  };
  const modelType = cfg.str('model_type', '');
  const generating = o.config.eval.generate;
  // The evaluation's search, checked now: a bad generation config fails the run before training.
  const search = generating ? evalSearch(seq2seqGenerationDefaults(o.modelDir, arch), o.config) : undefined;
  return {
    model,
    weights: loaded.weights,
    loadReport: loadReportOf(loaded, (n) => model.seq2seq.isIgnoredTensor(n)),
    labels: [],
    architecture: family.conditionalGenerationArchitecture(modelType),
    exportConfig: {},
    encode: (examples) =>
      encodeSeq2Seq(
        o.tokenizer,
        examples.map((e) => {
          if (e.kind !== 'seq2seq') throw new Error(`${task} needs source and target examples, got ${e.kind}`);
          return e as Seq2SeqExample;
        }),
        encoding,
      ),
    collate: (examples) => collateSeq2Seq(examples, arch),
    tokensOf: (e) => e.inputIds.length + e.labels.length,
    async evaluate(evaluator, examples, metrics, batchSize) {
      const listed = metrics.filter((m) => m !== 'loss');
      if (!generating && listed.length > 0)
        throw new Error(`eval.metrics ${listed.join(', ')} score generated text: set eval.generate: true`);
      let sum = 0;
      for (let i = 0; i < examples.length; i += batchSize) {
        const chunk = examples.slice(i, i + batchSize);
        const batch = collateSeq2Seq(chunk, arch);
        const loss = evaluator.evaluateLoss
          ? await evaluator.evaluateLoss(batch)
          : (await evaluator.evaluate(batch)).loss;
        sum += loss * chunk.length;
      }
      const loss = examples.length === 0 ? Number.NaN : sum / examples.length;
      if (!search) return { loss };
      const scores = await evaluateGenerated(evaluator, examples, {
        seq2seq: model.seq2seq,
        tokenizer: o.tokenizer,
        search,
        metrics: generatedMetricsOf(task as 'translation' | 'summarization', listed),
        batchSize,
      });
      return { loss, ...scores };
    },
    beforeTraining: async (run) => {
      // run_translation.py's warning for the original T5 checkpoints, which were trained with prefixes.
      if (modelType === 't5' && !d.source_prefix)
        run.log(
          'warn',
          `data.source_prefix is not set: T5 was trained with a task prefix such as 'translate English to German: ' or 'summarize: '`,
        );
    },
  };
}
