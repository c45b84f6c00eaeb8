import { MAX_NEW_TOKENS_LIMIT } from '../../shared/playground.js';
import type { LoadedSeq2Seq, Seq2SeqGeneration } from '../inference/seq2seq-model.js';
import { invalidRequest } from './api-error.js';
import { predictBody, type TaskPipeline, textInput } from './task-pipeline.js';

/**
 * Translation and summarization in the shapes of transformers' TranslationPipeline and
 * SummarizationPipeline (both Text2TextGenerationPipeline): `{"inputs": str}` ->
 * `[{"translation_text": ...}]` (or `summary_text`), `{"inputs": [str, ...]}` -> one record per
 * input, flat (the pipeline unwraps its per-input lists when each holds one sequence). Greedy
 * search as `finetune predict` runs it; the source gets the run's `data.source_prefix` as the run
 * tokenized it. `parameters.max_new_tokens` overrides generation_config.json's length.
 */
export interface Text2TextInput {
  source: string;
  maxNewTokens: number | undefined;
}

export function text2textGeneration(
  model: Pick<LoadedSeq2Seq, 'generate'>,
  o: { task: 'translation' | 'summarization'; prefix: string },
): TaskPipeline<Text2TextInput, Seq2SeqGeneration> {
  const key = o.task === 'translation' ? 'translation_text' : 'summary_text';
  return {
    parse(body) {
      const { inputs, single, parameters } = predictBody(body, textInput, ['max_new_tokens']);
      // MAX_NEW_TOKENS_LIMIT bounds a request, so one request cannot hold the model for ever.
      const max = parameters.max_new_tokens;
      if (
        max !== undefined &&
        !(Number.isSafeInteger(max) && (max as number) >= 1 && (max as number) <= MAX_NEW_TOKENS_LIMIT)
      )
        throw invalidRequest(
          `parameters.max_new_tokens must be an integer from 1 to ${MAX_NEW_TOKENS_LIMIT}`,
          'parameters.max_new_tokens',
        );
      return {
        inputs: inputs.map((text) => ({ source: `${o.prefix}${text}`, maxNewTokens: max as number | undefined })),
        single,
        // One string answers with a list of one record, as the pipeline does.
        format: (g) => (single ? [{ [key]: g.text }] : { [key]: g.text }),
      };
    },
    async run(inputs) {
      // Rows of one generate() call share max_new_tokens: a batch runs as one call per length asked.
      const out: Seq2SeqGeneration[] = new Array(inputs.length);
      const groups = new Map<number | undefined, number[]>();
      inputs.forEach((input, i) => {
        const group = groups.get(input.maxNewTokens) ?? [];
        group.push(i);
        groups.set(input.maxNewTokens, group);
      });
      for (const [maxNewTokens, rows] of groups) {
        const generated = await model.generate(
          rows.map((i) => (inputs[i] as Text2TextInput).source),
          maxNewTokens === undefined ? {} : { maxNewTokens },
        );
        rows.forEach((row, j) => {
          out[row] = generated[j] as Seq2SeqGeneration;
        });
      }
      return out;
    },
  };
}
