import type { Example } from '../../data/records.js';
import { tensorNumbers } from '../../graph/types.js';
import { loadPretrained } from '../../io/pretrained.js';
import type { HfConfigReader } from '../../models/hf-config.js';
import { PLM_IGNORE_INDEX, xlnetLmModel } from '../../models/xlnet/two-stream.js';
import type { Tokenizer } from '../../tokenize/index.js';
import { counterSeed, rng } from '../../util/random.js';
import { lmScores, type NllBatch } from '../metrics/perplexity.js';
import type { RecipeOptions, TaskRecipe } from '../task.js';
import { lmMetrics } from './evaluate.js';
import { PLM_DEFAULTS, permutationBatch } from './permutation.js';

/**
 * `task: causal-lm` on XLNet: continued pretraining with the permutation language model, as
 * transformers' run_plm.py trains XLNetLMHeadModel:
 *
 * - texts are tokenized one by one with the tokenizer's specials (`<sep> <cls>` at the end of
 *   each), concatenated, and cut into blocks of data.max_length tokens; the last partial block is
 *   dropped (group_texts), so no block is padded;
 * - or, with `data.line_by_line: true` (run_plm's --line_by_line), one row per non-blank text,
 *   truncated to data.max_length, and the rows of a batch padded on the tokenizer's side (XLNet:
 *   the left) to the longest;
 * - each batch goes through DataCollatorForPermutationLanguageModeling (permutation.ts:
 *   plm_probability 1/6, max_span_length 5); its draws are seeded by the run's seed and the
 *   batch's place in the run (epoch, index), as masked-lm's, so a resumed run draws what an
 *   uninterrupted one would and each epoch draws afresh (transformers draws from torch's global
 *   generator instead); evaluations draw from epoch 0, which training never uses, so every
 *   evaluation scores the same masks;
 * - the loss is the mean cross-entropy over the predicted tokens; an evaluation weighs each batch
 *   by its predicted tokens, perplexity = exp(loss).
 */
export interface PlmBlock {
  inputIds: number[];
}

/** transformers' all_special_ids: the named special tokens and every added token marked special. */
function specialIds(tokenizer: Tokenizer): Set<number> {
  const ids = new Set<number>();
  for (const [id, token] of tokenizer.lib.get_added_tokens_decoder()) if (token.special) ids.add(id);
  for (const id of [
    tokenizer.padTokenId,
    tokenizer.clsTokenId,
    tokenizer.sepTokenId,
    tokenizer.maskTokenId,
    tokenizer.unkTokenId,
    tokenizer.bosTokenId,
    tokenizer.eosTokenId,
  ])
    if (id !== null) ids.add(id);
  return ids;
}

/** The text of a row: the permutation LM trains on text rows only. */
function textOf(e: Example): string {
  if (e.kind !== 'text')
    throw new Error(`${e.source.file}:${e.source.line}: the permutation LM (XLNet) trains on text rows, got ${e.kind}`);
  return e.text;
}

/** run_plm.py's group_texts: every text's tokens joined, cut into full blocks of `length`. */
export function groupTexts(tokenizer: Tokenizer, examples: readonly Example[], length: number): PlmBlock[] {
  const stream: number[] = [];
  for (const e of examples) for (const id of tokenizer.encode(textOf(e)).ids) stream.push(id);
  const blocks: PlmBlock[] = [];
  for (let i = 0; i + length <= stream.length; i += length) blocks.push({ inputIds: stream.slice(i, i + length) });
  return blocks;
}

/** run_plm.py's line_by_line: one row per non-blank text, with its specials, cut to `length`. */
export function textLines(tokenizer: Tokenizer, examples: readonly Example[], length: number): PlmBlock[] {
  return examples.flatMap((e) => {
    const text = textOf(e);
    return text.trim().length === 0 ? [] : [{ inputIds: tokenizer.encode(text, null, { maxLength: length }).ids }];
  });
}

/** Eval masks come from epoch 0, which training never uses: the same masks at every evaluation. */
const EVAL_EPOCH = 0;

export function permutationLmRecipe(o: RecipeOptions, cfg: HfConfigReader): TaskRecipe<PlmBlock> {
  const dropout = o.config.training?.dropout;
  const model = xlnetLmModel(cfg, {
    ...(dropout === undefined ? {} : { dropout }),
    ...(o.adapters ? { adapters: o.adapters } : {}),
  });
  const maxLength = Math.min(o.config.data.max_length, model.arch.maxLength);
  if (maxLength % 2 !== 0)
    throw new Error(
      `data.max_length ${maxLength} is odd: the permutation LM's perm_mask needs an even length (DataCollatorForPermutationLanguageModeling)`,
    );
  const maskId = o.tokenizer.maskTokenId;
  if (maskId === null)
    throw new Error(`${o.modelDir}: the tokenizer has no mask token, which the permutation LM needs (mask_token)`);
  const specials = specialIds(o.tokenizer);
  const lineByLine = o.config.data.line_by_line === true;
  const padId = o.tokenizer.padTokenId;
  if (lineByLine && padId === null)
    throw new Error(
      `${o.modelDir}: data.line_by_line pads the texts of a batch, and the tokenizer has no pad token (pad_token)`,
    );
  const padding = padId === null ? {} : { padding: { id: padId, side: o.tokenizer.paddingSide } };
  const loaded = loadPretrained(o.modelDir, model.params, { seed: o.seed });
  const collate = (blocks: readonly PlmBlock[], at = { epoch: EVAL_EPOCH, batch: 0 }) =>
    permutationBatch(
      blocks.map((b) => b.inputIds),
      {
        ...PLM_DEFAULTS,
        maskId,
        isSpecial: (id) => specials.has(id),
        ...padding,
        rand: rng(counterSeed(o.seed, at.epoch, at.batch)),
      },
    );
  return {
    model,
    weights: loaded.weights,
    loadReport: {
      missing: loaded.missing,
      // XLNetLMHeadModel's lm_loss.weight is the word embedding (tied), not a tensor of its own.
      unexpected: loaded.unexpected.filter((n) => n !== 'lm_loss.weight'),
      reinitialized: loaded.reinitialized.map((r) => r.name),
    },
    labels: [],
    architecture: 'XLNetLMHeadModel',
    exportConfig: {},
    encode: (examples) => {
      if (lineByLine) return textLines(o.tokenizer, examples, maxLength);
      const blocks = groupTexts(o.tokenizer, examples, maxLength);
      if (examples.length > 0 && blocks.length === 0)
        throw new Error(
          `the permutation LM cuts the texts into blocks of data.max_length ${maxLength} tokens; these ${examples.length} texts give fewer (lower data.max_length, add text, or set data.line_by_line: true)`,
        );
      return blocks;
    },
    collate,
    tokensOf: (b) => b.inputIds.length,
    async evaluate(evaluator, blocks, metrics, batchSize) {
      const batches: NllBatch[] = [];
      for (let i = 0; i < blocks.length; i += batchSize) {
        const batch = collate(blocks.slice(i, i + batchSize), { epoch: EVAL_EPOCH, batch: i / batchSize });
        const tokens = tensorNumbers(batch.labels as never).filter((l) => l !== PLM_IGNORE_INDEX).length;
        if (tokens === 0) continue;
        const { loss } = await evaluator.evaluate(batch);
        batches.push({ nllSum: loss * tokens, tokens });
      }
      return lmMetrics({ ...lmScores(batches), batches }, metrics);
    },
  };
}
