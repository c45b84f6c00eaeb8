import type { LoadedSeq2Seq } from '../inference/seq2seq-model.js';
import { invalidRequest } from './api-error.js';
import { predictBody, type TaskPipeline, textInput } from './task-pipeline.js';

/**
 * Translation and summarization as transformers' TranslationPipeline / SummarizationPipeline answer
 * them: `{"inputs": "text"}` -> `[{"translation_text"}]` (`summary_text`), a list of inputs -> one
 * object per input (the pipelines flatten single results so). The source takes the model's prefix
 * (seq2seqTaskOf) as the pipelines prepend `config.prefix`; decoding is the model's greedy search
 * with its generation_config.json, `parameters.max_new_tokens` overriding the length.
 */
interface Text2TextInput {
  text: string;
  maxNewTokens: number | undefined;
}

export function text2text(
  model: Pick<LoadedSeq2Seq, 'generate'>,
  o: { task: 'translation' | 'summarization'; prefix: string },
): TaskPipeline<Text2TextInput, string> {
  const key = o.task === 'translation' ? 'translation_text' : 'summary_text';
  return {
    parse(body) {
      const { inputs, single, parameters } = predictBody(body, textInput, ['max_new_tokens']);
      const max = parameters.max_new_tokens;
      if (max !== undefined && !(Number.isSafeInteger(max) && (max as number) >= 0))
        throw invalidRequest('parameters.max_new_tokens must be an integer >= 0', 'parameters.max_new_tokens');
      return {
        inputs: inputs.map((text) => ({ text, maxNewTokens: max as number | undefined })),
        single,
        format: (text) => (single ? [{ [key]: text }] : { [key]: text }),
      };
    },
    async run(inputs) {
      // One generate call per max_new_tokens asked in this batch (requests batched together may differ).
      const results = new Array<string>(inputs.length);
      const groups = new Map<number | undefined, number[]>();
      inputs.forEach((input, i) => {
        groups.set(input.maxNewTokens, [...(groups.get(input.maxNewTokens) ?? []), i]);
      });
      for (const [maxNewTokens, rows] of groups) {
        const out = await model.generate(
          rows.map((i) => `${o.prefix}${(inputs[i] as Text2TextInput).text}`),
          maxNewTokens === undefined ? {} : { maxNewTokens },
        );
        rows.forEach((i, r) => {
          results[i] = out[r]?.text ?? '';
        });
      }
      return results;
    },
  };
}
