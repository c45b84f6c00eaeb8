import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { encodeModel } from '../graph/onnx-codec.js';
import { writeAll, writeFileAtomic, writeTextAtomic } from '../io/atomic.js';
import { readHfConfig } from '../io/hf-config.js';
import { savePretrained } from '../io/pretrained.js';
import type { Weights } from '../models/model.js';
import { buildInference } from '../step/step-graph.js';
import type { TaskRecipe } from '../tasks/task.js';

/**
 * The run's final/ folder: a Hugging Face model folder (model.safetensors, config.json with
 * architectures and id2label/label2id, the tokenizer files) that `from_pretrained` loads, plus
 * model.onnx (inputs input_ids, attention_mask[, token_type_ids] with dynamic batch and sequence
 * axes, output logits: the layout of Optimum's exports), labels.json and metrics.json.
 */
export interface FinalExport {
  recipe: TaskRecipe;
  weights: Weights;
  modelDir: string;
  metrics: Record<string, number> | undefined;
}

export function exportFinal(dir: string, e: FinalExport): void {
  mkdirSync(dir, { recursive: true });
  const config = { ...readHfConfig(e.modelDir), ...e.recipe.exportConfig };
  savePretrained(dir, e.weights, config, {
    tokenizerFrom: e.modelDir,
    architectures: [e.recipe.architecture],
    ...(e.recipe.labels.length > 0 ? { labels: e.recipe.labels } : {}),
  });
  // Through writeFileAtomic for its error mapping: a full disk names the file it could not write.
  const onnx = encodeModel(buildInference(e.recipe.model, e.weights), { producer: 'finetune-workbench' });
  writeFileAtomic(join(dir, 'model.onnx'), (fd) => writeAll(fd, onnx));
  writeTextAtomic(join(dir, 'labels.json'), `${JSON.stringify(e.recipe.labels, null, 2)}\n`);
  writeTextAtomic(join(dir, 'metrics.json'), `${JSON.stringify(e.metrics ?? {}, null, 2)}\n`);
}
