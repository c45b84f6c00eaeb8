import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { resolveConfig } from '../../shared/config-validate.js';
import { RUN_FILES } from '../../shared/run-directory.js';
import { BadRows } from '../data/errors.js';
import { loadExamples } from '../data/load.js';
import { prepareData } from '../data/prepare.js';
import type { Columns, Example } from '../data/records.js';
import { TASKS } from '../tasks/registry.js';
import { type AnyFinetunedModel, isQaModel, openModel } from './open-model.js';

/**
 * What int8 quantization costs a fine-tuned encoder model, measured on labelled validation data:
 * the task's quality metric in points (0-100) for float32 and int8, and the drop between them.
 *
 * The metric, per task (higher is better for each, so drop = float32 - int8):
 * - text classification: accuracy × 100 (percentage points); a regression head: Pearson's r × 100;
 * - token classification: entity-level F1 (seqeval) × 100;
 * - question answering: SQuAD F1 (already in percent).
 * A negative --max-drop asks int8 to score better than float32 by that many points.
 */
export const DEFAULT_MAX_DROP = 1;
export const INT8_SCHEME =
  'linear layers as MatMulInteger: int8 weights per output channel (symmetric), uint8 activations quantized per run (DynamicQuantizeLinear)';
const BATCH = 32;

export interface QuantizationReport {
  quantization: 'int8-dynamic';
  /** What the rewrite does (quantize-int8.ts), for whoever reads the file later. */
  scheme: string;
  validation: { data: string; examples: number };
  metric: string;
  float32: number;
  int8: number;
  /** float32 - int8, in points; positive when int8 is worse. */
  drop: number;
  max_drop: number;
  accepted: boolean;
}

export function qualityMetric(model: AnyFinetunedModel): { metric: 'accuracy' | 'pearson' | 'f1'; scale: number } {
  if (isQaModel(model)) return { metric: 'f1', scale: 1 };
  if (model.task === 'token-classification') return { metric: 'f1', scale: 100 };
  return model.recipe.problemType === 'regression'
    ? { metric: 'pearson', scale: 100 }
    : { metric: 'accuracy', scale: 100 };
}

/** Metrics of a model over labelled examples (what `finetune evaluate` prints); `where` names the data. */
export async function evaluateExamples(
  model: AnyFinetunedModel,
  examples: Example[],
  metrics: readonly string[],
  where: string,
): Promise<Record<string, number>> {
  if (isQaModel(model)) return model.recipe.evaluate(model, model.recipe.encode(examples), metrics, BATCH);
  const encoded = model.recipe.encode(examples);
  for (const e of encoded) {
    const bad = Array.isArray(e.label) ? e.label.some((l) => l === -1) : e.label === -1;
    if (bad)
      throw new Error(
        `${where}:${e.line}: a label the model does not know (its labels: ${model.recipe.labels.join(', ')})`,
      );
  }
  return model.recipe.evaluate(model, encoded, metrics, BATCH);
}

/** Labelled rows of a data file in the layout of the model's task. */
export async function loadLabelled(file: string, model: AnyFinetunedModel, columns: Columns): Promise<Example[]> {
  const examples: Example[] = [];
  for await (const e of loadExamples(resolve(file), {
    rows: TASKS[model.task].data.rows,
    columns,
    badRows: new BadRows('error'),
  }))
    examples.push(e);
  return examples;
}

/**
 * The validation set to measure on: `--data` when given, else the validation data of the run a
 * final/ folder comes from (its config.yaml's data.validation or data.validation_split, read
 * and split as training did).
 */
export async function validationSet(
  folder: string,
  model: AnyFinetunedModel,
  o: { data?: string; columns: Columns },
): Promise<{ examples: Example[]; source: string }> {
  if (o.data !== undefined) return { examples: await loadLabelled(o.data, model, o.columns), source: resolve(o.data) };
  return runValidation(folder);
}

/** The validation examples of the run a final/ folder comes from, read and split as training did. */
export async function runValidation(folder: string): Promise<{ examples: Example[]; source: string }> {
  const runDir = dirname(folder);
  const configFile = join(runDir, RUN_FILES.config);
  if (basename(folder) !== RUN_FILES.final || !existsSync(configFile))
    throw new Error(
      `${folder} is not a run's final model, so it has no validation set: pass --data <file> to measure the int8 quality change on`,
    );
  const { config: full } = resolveConfig(readFileSync(configFile, 'utf8'), 'yaml');
  if (!full) throw new Error(`${configFile}: the run's config does not validate`);
  const prepared = await prepareData(full.data, {
    task: full.task,
    format: TASKS[full.task].data,
    baseDir: runDir,
    seed: full.training.seed,
  });
  if (prepared.validation.length === 0)
    throw new Error(
      `${configFile}: the run has no validation data (data.validation or data.validation_split): pass --data <file> to measure the int8 quality change on`,
    );
  const source = full.data.validation ?? `${full.data.train} (validation_split ${full.data.validation_split})`;
  return { examples: prepared.validation, source };
}

/** Evaluates `float` and the int8 rewrite of the same folder on `examples`, and judges the drop. */
export async function measureInt8(
  float: AnyFinetunedModel,
  validation: { examples: Example[]; source: string },
  maxDrop: number,
): Promise<QuantizationReport> {
  const { metric, scale } = qualityMetric(float);
  const int8 = await openModel(float.folder, { device: 'cpu', quantize: 'int8' });
  try {
    const score = async (m: AnyFinetunedModel) =>
      ((await evaluateExamples(m, validation.examples, [metric], validation.source))[metric] as number) * scale;
    const before = await score(float);
    const after = await score(int8);
    const drop = before - after;
    return {
      quantization: 'int8-dynamic',
      scheme: INT8_SCHEME,
      validation: { data: validation.source, examples: validation.examples.length },
      metric: scale === 100 ? `${metric} x 100` : metric,
      float32: before,
      int8: after,
      drop,
      max_drop: maxDrop,
      accepted: drop <= maxDrop,
    };
  } finally {
    await int8.dispose();
  }
}
