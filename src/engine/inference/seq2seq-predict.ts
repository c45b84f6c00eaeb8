import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readHfConfig } from '../io/hf-config.js';
import { TASKS } from '../tasks/registry.js';
import { modelFolderOf, runConfigOf, taskOf } from './finetuned-model.js';
import type { LoadedSeq2Seq, Seq2SeqGenerationOptions } from './seq2seq-model.js';

/**
 * One line of `finetune predict` on an encoder-decoder (translation, summarization): the row's
 * text column is the source, the run's `data.source_prefix` in front when the model is a run's
 * final/ (as the run tokenized its sources); the line is {"translation_text"} or
 * {"summary_text"} (transformers' pipelines' names) and "finish_reason".
 */

/** Whether a model folder (or run directory) holds an encoder-decoder of a seq2seq task. */
export function isSeq2SeqFolder(path: string): boolean {
  try {
    const folder = modelFolderOf(path);
    if (!existsSync(join(folder, 'config.json'))) return false;
    return TASKS[taskOf(readHfConfig(folder), folder)].inference === 'seq2seq';
  } catch {
    return false;
  }
}

export async function predictSeq2SeqRow(
  model: Pick<LoadedSeq2Seq, 'generate'>,
  row: unknown,
  o: {
    textColumn: string;
    where: string;
    prefix: string;
    task: 'translation' | 'summarization';
    generation: Seq2SeqGenerationOptions;
  },
): Promise<Record<string, unknown>> {
  if (row === null || typeof row !== 'object' || Array.isArray(row))
    throw new Error(`${o.where}: expected a JSON object`);
  const text = (row as Record<string, unknown>)[o.textColumn];
  if (typeof text !== 'string') throw new Error(`${o.where}: expected a string in "${o.textColumn}"`);
  const [g] = await model.generate([`${o.prefix}${text}`], o.generation);
  const key = o.task === 'translation' ? 'translation_text' : 'summary_text';
  return { [key]: g?.text ?? '', finish_reason: g?.finishReason ?? 'length' };
}

/**
 * Which of the two seq2seq tasks a folder does and the prefix its sources get: both save the same
 * head (…ForConditionalGeneration), so it is the task and `data.source_prefix` of the run a final/
 * comes from; a bare folder is read as a translation model without a prefix.
 */
export function seq2seqTaskOf(folder: string): { task: 'translation' | 'summarization'; prefix: string } {
  const run = runConfigOf(folder);
  return {
    task: run?.task === 'summarization' ? 'summarization' : 'translation',
    prefix: run?.data.source_prefix ?? '',
  };
}
