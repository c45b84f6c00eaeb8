import { ChatTemplate } from '../../chat/template.js';
import { DataError } from '../../data/errors.js';
import type { Example } from '../../data/records.js';
import { readHfConfig } from '../../io/hf-config.js';
import { loadPretrained } from '../../io/pretrained.js';
import { type CausalLmModel, causalLmModel, checkAttentionWindow } from '../../models/decoder.js';
import { HfConfigReader } from '../../models/hf-config.js';
import { decoderFamilyOf } from '../../models/registry.js';
import { ngramPerplexity } from '../../ngram/perplexity.js';
import type { Smoothing } from '../../ngram/smoothing.js';
import { NgramError } from '../../ngram/tokens.js';
import type { Tokenizer } from '../../tokenize/index.js';
import { loadReportOf, type RecipeOptions, type RunReporter, type TaskRecipe } from '../task.js';
import { collateStep, collateWeighted, type LmExample, tokenWeighted } from './batches.js';
import { evaluateLm, lmMetrics } from './evaluate.js';
import { encodeChat, encodeCompletion, LongRows, type SftOptions } from './sft.js';
import { causalLmStreaming } from './streamed.js';

/**
 * Causal language modelling (`task: causal-lm`) on GPT-2, as Hugging Face's run_clm trains it:
 *
 * - a text is tokenized alone, with only what the tokenizer's post-processor adds (nothing for
 *   GPT-2: no BOS, no EOS), truncated to data.max_length (at most the model's n_positions);
 * - packing (`data.packing: true`, default false): texts are joined with the EOS token between
 *   them and cut into max_length blocks, so no position is padding (the last block may be short);
 *   attention crosses the EOS boundaries, as run_clm's group_texts does;
 * - labels are the inputs shifted by one, made by the collator: labels[t] = input_ids[t + 1],
 *   -100 at each text's last token and on padding (right padding with the pad token, else EOS,
 *   else 0: GPT-2 has no pad token; the attention mask hides it);
 * - the loss is the mean cross-entropy over the predicted tokens of a batch; an evaluation is
 *   token-weighted over the whole set: loss = Σ NLL / Σ predicted tokens, perplexity = exp(loss).
 *
 * Texts with fewer than 2 tokens predict nothing and are left out of training (without packing).
 *
 * Supervised fine-tuning rows (prompt-completion, messages) are encoded as TRL's SFTTrainer does,
 * with a loss mask (sft.ts); they are never packed. The loss of an optimizer step is the mean over
 * all of its label tokens across gradient-accumulation micro-batches (batches.ts, tokenWeighted).
 */
export type { LmExample } from './batches.js';
export { collateLm, predictedTokens } from './batches.js';
export { evaluateLm } from './evaluate.js';

export interface CausalLmRecipe extends TaskRecipe<LmExample> {
  model: CausalLmModel;
  maxLength: number;
  packing: boolean;
  padId: number;
  /** Supervised rows cut or left out by the encodings so far (see sft.ts). */
  longRows: LongRows;
}

/** The pad id of a causal LM batch: the tokenizer's pad token, else EOS, else 0 (masked either way). */
export function lmPadId(tokenizer: Tokenizer, eos: number | null = null): number {
  return tokenizer.padTokenId ?? tokenizer.eosTokenId ?? eos ?? 0;
}

/** The EOS id: config.json's eos_token_id, else the tokenizer's eos token. */
export function lmEosId(tokenizer: Tokenizer, configEos: number | null): number | null {
  return configEos ?? tokenizer.eosTokenId;
}

/** The texts of causal-lm examples (a supervised row's prompt and reply, or its turns, one after the other). */
function textsOf(examples: readonly Example[]): string[] {
  return examples.map((e) => {
    if (e.kind === 'text') return e.text;
    if (e.kind === 'completion') return `${e.prompt}${e.completion}`;
    if (e.kind === 'chat') return e.messages.map((m) => m.content).join('\n');
    throw new Error(`causal-lm needs text, prompt-completion or messages examples, got ${e.kind}`);
  });
}

/**
 * Tokenizes texts one by one; with `packing`, joins them with EOS and cuts max_length blocks.
 * Without packing, texts with fewer than `minTokens` tokens are dropped.
 */
export function encodeTexts(
  tokenizer: Tokenizer,
  examples: readonly Example[],
  o: { maxLength: number; packing: boolean; eos: number | null; minTokens?: number },
): LmExample[] {
  if (!o.packing) {
    const out: LmExample[] = [];
    for (const e of examples) {
      if (e.kind !== 'text') throw new Error(`causal-lm needs text examples, got ${e.kind}`);
      const ids = tokenizer.encode(e.text, null, { maxLength: o.maxLength }).ids;
      if (ids.length >= (o.minTokens ?? 2)) out.push({ inputIds: ids, line: e.source.line });
    }
    return out;
  }
  if (o.eos === null) throw new Error('data.packing needs an EOS token to separate texts (eos_token_id)');
  const stream: number[] = [];
  for (const text of textsOf(examples)) {
    const ids = tokenizer.encode(text, null).ids;
    if (ids.length === 0) continue;
    if (stream.length > 0) stream.push(o.eos);
    for (const id of ids) stream.push(id);
  }
  const blocks: LmExample[] = [];
  for (let i = 0; i < stream.length; i += o.maxLength) {
    const block = stream.slice(i, i + o.maxLength);
    if (block.length >= 2) blocks.push({ inputIds: block });
  }
  return blocks;
}

/** Order-3 modified Kneser-Ney, then the fallbacks, first that the counts allow. */
const NGRAM_TRIES: readonly { order: number; smoothing: Smoothing }[] = [
  { order: 3, smoothing: 'modified-kneser-ney' },
  { order: 2, smoothing: 'modified-kneser-ney' },
  { order: 3, smoothing: 'kneser-ney' },
  { order: 2, smoothing: 'kneser-ney' },
];

export interface NgramBaseline {
  perplexity: number;
  order: number;
  smoothing: Smoothing;
  /** Why the preferred model (order 3, modified-kneser-ney) was not used, when it was not. */
  fallback?: string;
}

/**
 * Perplexity of an n-gram model trained on the training texts, on the validation texts: order-3
 * modified Kneser-Ney, falling back to order 2 and then to Kneser-Ney with one discount when the
 * counts of counts make modified-KN's discounts undefined (a small corpus). Word-level (lower-cased,
 * whitespace-split, with `</s>`), so it is a reference point, not directly comparable to the
 * model's subword perplexity.
 */
export async function ngramBaseline(train: readonly string[], validation: readonly string[]): Promise<NgramBaseline> {
  const reasons: string[] = [];
  for (const t of NGRAM_TRIES) {
    try {
      const r = await ngramPerplexity({ ...t, trainLines: train, evalLines: validation });
      return { perplexity: r.perplexity, ...t, ...(reasons.length > 0 ? { fallback: reasons.join('; ') } : {}) };
    } catch (err) {
      if (!(err instanceof NgramError)) throw err;
      // The same cause at the next order is not repeated.
      const why = err.message.replace(/^modified-kneser-ney: /, '');
      reasons.push(
        reasons.some((r) => r.endsWith(why))
          ? `order ${t.order} ${t.smoothing}: likewise`
          : `order ${t.order} ${t.smoothing}: ${why}`,
      );
    }
  }
  throw new NgramError(`no n-gram baseline could be estimated: ${reasons.join('; ')}`);
}

/**
 * The baseline a causal-lm run logs before training. The run-directory contract has no baseline
 * event, so it travels as an `eval` event at step 0 whose metrics are `{ngram_perplexity}`: readers
 * that plot eval metrics show it as the starting reference; it has no `loss` and never competes for
 * the best checkpoint (the trainer's own evaluations are separate events).
 */
export async function logNgramBaseline(
  run: RunReporter,
  train: readonly Example[],
  validation: readonly Example[],
): Promise<NgramBaseline | undefined> {
  if (validation.length === 0) {
    run.log('info', 'n-gram baseline: skipped (no validation data)');
    return undefined;
  }
  let baseline: NgramBaseline;
  try {
    baseline = await ngramBaseline(textsOf(train), textsOf(validation));
  } catch (err) {
    if (!(err instanceof NgramError)) throw err;
    run.log('warn', `n-gram baseline: ${err.message}`);
    return undefined;
  }
  if (baseline.fallback) {
    run.log(
      'warn',
      `n-gram baseline: order 3 modified-kneser-ney is not defined on this data, used order ${baseline.order} ${baseline.smoothing} instead (${baseline.fallback})`,
    );
  }
  run.log(
    'info',
    `n-gram baseline: order ${baseline.order} ${baseline.smoothing} word-level perplexity ${baseline.perplexity.toFixed(2)} on the validation texts (trained on the training texts)`,
  );
  run.event({ type: 'eval', step: 0, metrics: { ngram_perplexity: baseline.perplexity } });
  return baseline;
}

export function causalLmRecipe(o: RecipeOptions): CausalLmRecipe {
  if (o.config.task !== 'causal-lm') throw new Error(`task '${o.config.task}' is not trained by the causal-lm recipe`);
  const raw = readHfConfig(o.modelDir);
  const cfg = new HfConfigReader(raw, `${o.modelDir}/config.json`);
  const family = decoderFamilyOf(cfg);
  const base = causalLmModel(family, {
    config: cfg,
    ...(o.config.training?.dropout === undefined ? {} : { dropout: o.config.training.dropout }),
    ...(o.adapters ? { adapters: o.adapters } : {}),
  });
  const model = tokenWeighted(base);
  const arch = model.decoder.arch;
  const loaded = loadPretrained(o.modelDir, model.params, {
    seed: o.seed,
    basePrefix: family.basePrefix,
    init: o.config.training.init,
  });
  const maxLength = Math.min(o.config.data.max_length, arch.maxPositions);
  checkAttentionWindow(arch, maxLength, `data.max_length ${maxLength}`);
  const packing = o.config.data.packing;
  const eos = lmEosId(o.tokenizer, arch.eosTokenId);
  const padId = lmPadId(o.tokenizer, eos);
  const t = o.config.training;
  let template: ChatTemplate | undefined | null = null;
  const sft: SftOptions = {
    maxLength,
    eos,
    onLongRows: o.config.data.on_long_rows,
    completionOnlyLoss: t.completion_only_loss,
    assistantOnlyLoss: t.assistant_only_loss,
    // Read once, and only for messages rows: a base model without a template trains on text.
    template: () => {
      if (template === null) template = ChatTemplate.fromFolder(o.modelDir);
      return template;
    },
  };
  const longRows = new LongRows();
  const accumulation = t.gradient_accumulation_steps;
  return {
    model,
    maxLength,
    packing,
    padId,
    longRows,
    weights: loaded.weights,
    loadReport: loadReportOf(loaded, (n) => model.decoder.isIgnoredTensor(n)),
    labels: [],
    architecture: family.causalLmArchitecture,
    exportConfig: {},
    encode: (examples, badRows) => {
      const texts = examples.filter((e) => e.kind === 'text');
      if (texts.length === examples.length) return encodeTexts(o.tokenizer, examples, { maxLength, packing, eos });
      if (texts.length > 0) throw new Error('causal-lm: text rows mixed with prompt-completion or messages rows');
      if (packing) throw new Error('data.packing joins text rows; prompt-completion and messages rows are not packed');
      const out: LmExample[] = [];
      for (const e of examples) {
        if (e.kind !== 'completion' && e.kind !== 'chat')
          throw new Error(`causal-lm needs text, prompt-completion or messages examples, got ${e.kind}`);
        try {
          const encoded =
            e.kind === 'completion'
              ? encodeCompletion(o.tokenizer, e, sft, longRows)
              : encodeChat(o.tokenizer, e, sft, longRows);
          if (encoded) out.push(encoded);
        } catch (err) {
          // A row the template refuses or cannot mask is a bad row; a model without a template
          // is not (its error is not skippable, so badRows throws it).
          if (!(badRows && err instanceof DataError)) throw err;
          badRows.report(err);
        }
      }
      return out;
    },
    encodeReport: () => longRows.lines(maxLength),
    collate: (examples) => collateWeighted(examples, padId),
    collateStep: (micro) => collateStep(micro, padId, accumulation),
    tokensOf: (e) => e.inputIds.length,
    evaluate: async (evaluator, examples, metrics, batchSize) =>
      lmMetrics(await evaluateLm(evaluator, examples, batchSize, padId), metrics),
    beforeTraining: async (run, data) => {
      await logNgramBaseline(run, data.train, data.validation);
    },
    // A streamed corpus is text rows: supervised rows need their template and masks per row.
    ...((o.config.data.format ?? 'text') === 'text'
      ? { streaming: causalLmStreaming({ maxLength, packing, eos, padId, accumulation }) }
      : {}),
  };
}
