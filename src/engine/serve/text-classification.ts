import { tensorNumbers } from '../graph/types.js';
import type { FinetunedModel } from '../inference/finetuned-model.js';
import { softmax } from '../inference/predict.js';
import { collateEncoded } from '../tasks/encoder/encoded.js';
import { invalidRequest } from './api-error.js';
import { predictBody, type TaskPipeline, textInput } from './task-pipeline.js';

/**
 * Text classification as transformers' TextClassificationPipeline answers it: `[{label, score}]`
 * sorted by score, the `top_k` best (default 1; null: every label), scores through
 * `function_to_apply` whose default follows the model as the pipeline's does: none for
 * regression, sigmoid for multi-label or a single output, softmax otherwise.
 */
type Fn = 'softmax' | 'sigmoid' | 'none';

export function textClassification(model: FinetunedModel): TaskPipeline<string, number[]> {
  const { recipe, tokenizer } = model;
  const labelOf = (i: number) => recipe.labels[i] ?? `LABEL_${i}`;
  const defaultFn = (width: number): Fn =>
    recipe.problemType === 'regression'
      ? 'none'
      : recipe.problemType === 'multi_label_classification' || width === 1
        ? 'sigmoid'
        : 'softmax';
  // The forward graph takes labels for its loss: a placeholder of the right kind (ignored here).
  const placeholder = recipe.problemType === 'multi_label_classification' ? recipe.labels.map(() => 0) : 0;
  return {
    parse(body) {
      const { inputs, single, parameters } = predictBody(body, textInput, ['top_k', 'function_to_apply']);
      const topK = parameters.top_k === undefined ? 1 : parameters.top_k;
      if (topK !== null && !(Number.isSafeInteger(topK) && (topK as number) >= 1))
        throw invalidRequest('parameters.top_k must be an integer >= 1, or null for every label', 'parameters.top_k');
      const fn = parameters.function_to_apply;
      if (fn !== undefined && fn !== 'softmax' && fn !== 'sigmoid' && fn !== 'none')
        throw invalidRequest(
          'parameters.function_to_apply must be softmax, sigmoid or none',
          'parameters.function_to_apply',
        );
      return {
        inputs,
        single,
        format(logits) {
          const f = (fn as Fn | undefined) ?? defaultFn(logits.length);
          const scores =
            f === 'softmax' ? softmax(logits) : f === 'sigmoid' ? logits.map((x) => 1 / (1 + Math.exp(-x))) : logits;
          const ranked = scores.map((score, i) => ({ label: labelOf(i), score })).sort((a, b) => b.score - a.score);
          return topK === null ? ranked : ranked.slice(0, topK as number);
        },
      };
    },
    async run(texts) {
      const examples = texts.map((text) => {
        const enc = tokenizer.encode(text, null, { maxLength: recipe.maxLength });
        return { inputIds: enc.ids, tokenTypeIds: enc.tokenTypeIds, label: placeholder };
      });
      const { logits } = await model.evaluate(collateEncoded(examples, recipe.collateOptions));
      const values = tensorNumbers(logits);
      const width = logits.dims[1] as number;
      return texts.map((_, b) => values.slice(b * width, (b + 1) * width));
    },
  };
}
