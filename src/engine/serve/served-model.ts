import type { TaskName } from '../../shared/config.js';
import { isCausalLmFolder, loadCausalLm } from '../inference/causal-lm-model.js';
import { ContinuousBatcher } from '../inference/continuous-batcher.js';
import type { Quantize } from '../inference/finetuned-model.js';
import { isQaModel, openModel } from '../inference/open-model.js';
import { loadSeq2Seq } from '../inference/seq2seq-model.js';
import { isSeq2SeqFolder, seq2seqTaskOf } from '../inference/seq2seq-predict.js';
import { contextLength } from '../models/decoder.js';
import type { DeviceChoice } from '../runtime.js';
import type { ServedLm } from './completion-routes.js';
import { questionAnswering } from './question-answering.js';
import type { TaskPipeline } from './task-pipeline.js';
import { textClassification } from './text-classification.js';
import { text2textGeneration } from './text2text-generation.js';
import { tokenClassification } from './token-classification.js';

/**
 * The model a server serves, opened once: a causal LM answers the OpenAI routes; a model of a
 * classification, extractive-QA, translation or summarization task answers /predict through its
 * task's pipeline.
 */
export type ServedModel =
  | { kind: 'causal-lm'; id: string; lm: ServedLm; dispose(): Promise<void> }
  | {
      kind: 'pipeline';
      id: string;
      task: TaskName;
      pipeline: TaskPipeline<unknown, unknown>;
      dispose(): Promise<void>;
    };

/** Opens a model folder (or a run directory's final/); `id` is the name the API reports for it. */
export async function loadServedModel(
  folder: string,
  id: string,
  o: { device?: DeviceChoice; threads?: number; quantize?: Quantize } = {},
): Promise<ServedModel> {
  if (isCausalLmFolder(folder)) {
    const lm = await loadCausalLm(folder, o);
    return {
      kind: 'causal-lm',
      id,
      lm: {
        folder: lm.folder,
        tokenizer: lm.tokenizer,
        eosTokenId: lm.eosTokenId,
        contextLength: contextLength(lm.arch),
        decoder: (batching) => new ContinuousBatcher(lm, batching),
      },
      dispose: () => lm.dispose(),
    };
  }
  if (isSeq2SeqFolder(folder)) {
    if (o.quantize)
      throw new Error(
        `--quantize ${o.quantize} does not apply to encoder-decoder models (translation, summarization); ${folder} is one`,
      );
    const seq2seq = await loadSeq2Seq(folder, { ...o, device: o.device ?? 'cpu' });
    const { task, prefix } = seq2seqTaskOf(seq2seq.folder);
    return {
      kind: 'pipeline',
      id,
      task,
      pipeline: text2textGeneration(seq2seq, { task, prefix }) as TaskPipeline<unknown, unknown>,
      dispose: () => seq2seq.dispose(),
    };
  }
  const model = await openModel(folder, { ...o, device: o.device ?? 'cpu' });
  const pipeline = isQaModel(model)
    ? questionAnswering(model)
    : model.task === 'token-classification'
      ? tokenClassification(model)
      : textClassification(model);
  return {
    kind: 'pipeline',
    id,
    task: model.task,
    pipeline: pipeline as TaskPipeline<unknown, unknown>,
    dispose: () => model.dispose(),
  };
}
