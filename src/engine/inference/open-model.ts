import { readHfConfig } from '../io/hf-config.js';
import type { DeviceChoice } from '../runtime.js';
import { TASKS } from '../tasks/registry.js';
import { type FinetunedModel, loadFinetuned, modelFolderOf, type Quantize, taskOf } from './finetuned-model.js';
import { loadQaModel, type QaFinetunedModel } from './qa-model.js';

/**
 * A fine-tuned model folder (or run directory) of any task the CLI runs, loaded by the task its
 * config.json's `architectures` names: classification heads, or question answering.
 */
export type AnyFinetunedModel = FinetunedModel | QaFinetunedModel;

export const isQaModel = (m: AnyFinetunedModel): m is QaFinetunedModel => TASKS[m.task].inference === 'extractive-qa';

/** An encoder model of a classification or extractive-QA task; a causal LM opens with loadCausalLm. */
export async function openModel(
  path: string,
  o: { device?: DeviceChoice; quantize?: Quantize; threads?: number } = {},
): Promise<AnyFinetunedModel> {
  const folder = modelFolderOf(path);
  const task = taskOf(readHfConfig(folder), folder);
  if (TASKS[task].inference === 'fill-mask') {
    throw new Error(
      `${folder}: a masked-LM model (pre-trained, no task head): fine-tune it for a task with model: ${folder}, then predict or evaluate with that run`,
    );
  }
  if (TASKS[task].inference === 'seq2seq') {
    throw new Error(
      `${folder}: an encoder-decoder (${task}) model: predict generates with it (greedy, beam search or sampling) and finetune score scores what it writes (BLEU, chrF, ROUGE); evaluate does not run it, and its model.onnx gives the logits of decoder_input_ids`,
    );
  }
  return TASKS[task].inference === 'extractive-qa' ? loadQaModel(folder, o) : loadFinetuned(folder, o);
}
