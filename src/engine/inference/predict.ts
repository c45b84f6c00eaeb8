import { tensorNumbers } from '../graph/types.js';
import { collateEncoded } from '../tasks/encoder/encoded.js';
import { argmax } from '../tasks/metrics/classification.js';
import type { FinetunedModel } from './finetuned-model.js';

/**
 * One prediction in the output format of `finetune predict`: for sequence classification the top
 * label, its softmax probability and the raw logits; for token classification one label per word.
 */
export type Prediction =
  | { label: string | number; score: number; logits: number[] }
  | { labels: string[]; scores: number[]; logits: number[] }
  | { tokens: string[]; labels: string[] };

/** Probabilities of logits (max-shifted for stability). */
export function softmax(xs: readonly number[]): number[] {
  const max = Math.max(...xs);
  const exps = xs.map((x) => Math.exp(x - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

export async function predictLine(
  model: FinetunedModel,
  row: unknown,
  textColumn: string,
  where: string,
): Promise<Prediction> {
  if (row === null || typeof row !== 'object') throw new Error(`${where}: expected a JSON object`);
  const fields = row as Record<string, unknown>;
  const { recipe, tokenizer } = model;
  if (model.task === 'token-classification') {
    const words = Array.isArray(fields.tokens)
      ? fields.tokens.map(String)
      : typeof fields[textColumn] === 'string'
        ? (fields[textColumn] as string).split(/\s+/).filter(Boolean)
        : undefined;
    if (!words) throw new Error(`${where}: expected a "tokens" array or a "${textColumn}" string`);
    // Truncated to the model's length; words past it keep the default label 'O'.
    const enc = tokenizer.encodeWords(words, null, { maxLength: recipe.maxLength });
    const { logits } = await model.evaluate(
      collateEncoded(
        [{ inputIds: enc.ids, tokenTypeIds: enc.tokenTypeIds, label: enc.ids.map(() => -100) }],
        recipe.collateOptions,
      ),
    );
    const v = tensorNumbers(logits);
    const width = logits.dims[2] as number;
    const labels: string[] = new Array(words.length).fill('O');
    const seen = new Set<number>();
    enc.wordIds.forEach((w, t) => {
      if (w === null || seen.has(w)) return; // the first sub-token of each word decides
      seen.add(w);
      const best = argmax(v, t * width, width);
      labels[w] = recipe.labels[best] ?? String(best);
    });
    return { tokens: words, labels };
  }
  const text = fields[textColumn];
  if (typeof text !== 'string') throw new Error(`${where}: expected a string in "${textColumn}"`);
  const enc = tokenizer.encode(text, null, { maxLength: recipe.maxLength });
  // The forward graph takes labels for its loss: a placeholder of the right kind (ignored here).
  const placeholder = recipe.problemType === 'multi_label_classification' ? recipe.labels.map(() => 0) : 0;
  const { logits } = await model.evaluate(
    collateEncoded([{ inputIds: enc.ids, tokenTypeIds: enc.tokenTypeIds, label: placeholder }], recipe.collateOptions),
  );
  const values = tensorNumbers(logits);
  if (recipe.problemType === 'regression')
    return { label: values[0] as number, score: values[0] as number, logits: values };
  if (recipe.problemType === 'multi_label_classification') {
    // Independent sigmoids: every label whose probability reaches 0.5, as the multi-label metrics count.
    const sig = values.map((x) => 1 / (1 + Math.exp(-x)));
    const on = sig.flatMap((p, i) => (p >= 0.5 ? [i] : []));
    return {
      labels: on.map((i) => recipe.labels[i] ?? String(i)),
      scores: on.map((i) => sig[i] as number),
      logits: values,
    };
  }
  const probs = softmax(values);
  const best = probs.indexOf(Math.max(...probs));
  return { label: recipe.labels[best] ?? best, score: probs[best] as number, logits: values };
}
