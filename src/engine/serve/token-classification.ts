import { tensorNumbers } from '../graph/types.js';
import type { FinetunedModel } from '../inference/finetuned-model.js';
import { softmax } from '../inference/predict.js';
import { collateEncoded, padOffset } from '../tasks/encoder/encoded.js';
import { codePointIndex } from '../tasks/question-answering/windows.js';
import { invalidRequest } from './api-error.js';
import { predictBody, type TaskPipeline, textInput } from './task-pipeline.js';

/**
 * Token classification as transformers' TokenClassificationPipeline answers it. Each non-special
 * token gets the softmax of its logits; with `aggregation_strategy` "simple" (the default here)
 * the pipeline's group_entities runs: consecutive tokens join a group while their tag (the label
 * without a B-/I- prefix) stays the same and the next token is not a B-; a group is
 * `{entity_group, score (mean), word, start, end}`. "none" gives one `{entity, score, index, word,
 * start, end}` per token. Entities whose label is in `ignore_labels` (default ["O"]) are left
 * out. start/end are character offsets in the input (code points, as Python indexes; end
 * exclusive); the input is truncated to the model's max length.
 */
export interface TokenScores {
  /** Position in the encoding (the pipeline's `index`, counting the leading special token). */
  index: number;
  id: number;
  scores: number[];
  start: number;
  end: number;
}

interface Entity {
  entity: string;
  score: number;
  index: number;
  id: number;
  start: number;
  end: number;
}

/** The pipeline's get_tag: B-/I- prefixes split off; a label without one continues ("I"). */
function tagOf(label: string): { bi: 'B' | 'I'; tag: string } {
  if (label.startsWith('B-')) return { bi: 'B', tag: label.slice(2) };
  if (label.startsWith('I-')) return { bi: 'I', tag: label.slice(2) };
  return { bi: 'I', tag: label };
}

export function tokenClassification(model: FinetunedModel): TaskPipeline<string, TokenScores[]> {
  const { recipe, tokenizer } = model;
  const labelOf = (i: number) => recipe.labels[i] ?? `LABEL_${i}`;
  const group = (members: Entity[]) => ({
    // split("-", 1)[-1], as group_sub_entities takes the type of the group's first token.
    entity_group: (members[0] as Entity).entity.replace(/^[^-]*-/, ''),
    score: members.reduce((s, e) => s + e.score, 0) / members.length,
    // convert_tokens_to_string: the tokenizer's decoder over the group's tokens.
    word: tokenizer.decode(members.map((e) => e.id)),
    start: (members[0] as Entity).start,
    end: (members.at(-1) as Entity).end,
  });
  return {
    parse(body) {
      const { inputs, single, parameters } = predictBody(body, textInput, ['aggregation_strategy', 'ignore_labels']);
      const strategy = parameters.aggregation_strategy ?? 'simple';
      if (strategy !== 'simple' && strategy !== 'none')
        throw invalidRequest(
          'parameters.aggregation_strategy must be "simple" or "none" (first, average and max are not supported)',
          'parameters.aggregation_strategy',
        );
      const ignore = parameters.ignore_labels ?? ['O'];
      if (!Array.isArray(ignore) || ignore.some((l) => typeof l !== 'string'))
        throw invalidRequest('parameters.ignore_labels must be a list of labels', 'parameters.ignore_labels');
      return {
        inputs,
        single,
        format(tokens) {
          const entities: Entity[] = tokens.map((t) => {
            const best = t.scores.indexOf(Math.max(...t.scores));
            return {
              entity: labelOf(best),
              score: t.scores[best] as number,
              index: t.index,
              id: t.id,
              start: t.start,
              end: t.end,
            };
          });
          if (strategy === 'none')
            return entities
              .filter((e) => !ignore.includes(e.entity))
              .map((e) => ({
                entity: e.entity,
                score: e.score,
                index: e.index,
                word: tokenizer.idToToken(e.id) ?? '',
                start: e.start,
                end: e.end,
              }));
          const groups: Entity[][] = [];
          for (const e of entities) {
            const current = groups.at(-1);
            const last = current?.at(-1);
            const next = tagOf(e.entity);
            if (current && last && tagOf(last.entity).tag === next.tag && next.bi !== 'B') current.push(e);
            else groups.push([e]);
          }
          return groups.map(group).filter((g) => !ignore.includes(g.entity_group));
        },
      };
    },
    async run(texts) {
      const encodings = texts.map((text) => tokenizer.encode(text, null, { maxLength: recipe.maxLength }));
      const { logits } = await model.evaluate(
        collateEncoded(
          encodings.map((enc) => ({
            inputIds: enc.ids,
            tokenTypeIds: enc.tokenTypeIds,
            label: enc.ids.map(() => -100),
          })),
          recipe.collateOptions,
        ),
      );
      const values = tensorNumbers(logits);
      const [, T = 0, width = 0] = logits.dims as number[];
      return encodings.map((enc, b) => {
        const text = texts[b] as string;
        const out: TokenScores[] = [];
        const first = b * T + padOffset({ inputIds: enc.ids, tokenTypeIds: [], label: 0 }, T, recipe.collateOptions);
        enc.ids.forEach((id, t) => {
          if (enc.specialTokensMask[t] === 1) return;
          const [s, e] = enc.offsets[t] as [number, number];
          const at = (first + t) * width;
          out.push({
            index: t,
            id,
            scores: softmax(values.slice(at, at + width)),
            start: codePointIndex(text, s),
            end: codePointIndex(text, e),
          });
        });
        return out;
      });
    },
  };
}
