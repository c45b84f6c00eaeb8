import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TaskName } from '../../shared/config-tasks.js';
import { suggestTasks, type TaskSuggestion } from '../../shared/dataset-detect.js';
import { guidedConfigText, validationSibling } from '../../shared/guided-config.js';
import { type DatasetFilePreview, findDatasetFiles, readDatasetPreview } from '../../shared/node/dataset-preview.js';
import { parseHubId } from '../../shared/node/hub-cache.js';
import type { ModelInfo } from '../../shared/node/model-scan.js';
import { ModelCatalog } from './model-catalog.js';
import { configRelative, type ModelItem, modelItems } from './model-items.js';

/**
 * The guided New Fine-tune Config: pick a model, pick a dataset, confirm the task and columns
 * detected from its first rows, and the config is written with those values. The steps ask
 * through `GuidedUi`, which the extension implements with QuickPicks (actions/guided-config.ts)
 * and the tests with scripted answers; everything else is here, with no 'vscode' import.
 */
export interface DatasetItem {
  /** Absolute path. */
  path: string;
  /** As the config names it: relative to the config's folder, `/`-separated. */
  value: string;
  preview?: DatasetFilePreview;
}

/** The model the user chose: one found on disk, or a Hub id typed as it is (nothing known about it). */
export type ModelChoice = { value: string; info?: ModelInfo };

export interface GuidedUi {
  pickModel(items: ModelItem[]): Promise<ModelChoice | undefined>;
  pickDataset(items: DatasetItem[]): Promise<DatasetItem | undefined>;
  /** The suggestions, best first; the data's columns are in the preview. */
  confirmTask(
    suggestions: TaskSuggestion[],
    dataset: DatasetItem & { preview: DatasetFilePreview },
  ): Promise<TaskSuggestion | undefined>;
  /** The config's file name in the folder; `taken` says whether a name exists already. */
  fileName(suggested: string, taken: (name: string) => boolean): Promise<string | undefined>;
  /** Something that stops the flow, in words for the user. */
  error(message: string): void;
  /** Shows that a scan is under way while `work` runs. */
  busy?<T>(what: string, work: Promise<T>): Promise<T>;
}

export interface GuidedOptions {
  /** The workspace folder the config is written to. */
  folder: string;
  /** Every workspace folder, scanned for models and data. */
  roots: readonly string[];
  /** Where the Hugging Face cache is (HF_HUB_CACHE, HF_HOME); the process's by default. */
  env?: NodeJS.ProcessEnv;
}

/** A typed model that is neither listed nor a folder: accepted as a Hub id when it is one. */
export function typedModel(text: string): ModelChoice | undefined {
  const value = text.trim();
  return value !== '' && parseHubId(value) ? { value } : undefined;
}

/** Dataset files with a short preview each (the picker shows the columns and the first row). */
async function datasetItems(o: GuidedOptions): Promise<DatasetItem[]> {
  const paths = await findDatasetFiles(o.roots);
  const items: DatasetItem[] = [];
  for (const path of paths) {
    const preview = await readDatasetPreview(path, 3, 64 * 1024);
    items.push({ path, value: configRelative(o.folder, path), ...(preview ? { preview } : {}) });
  }
  return items;
}

/** The suggested file name's stem per task, as the templates name theirs. */
const SHORT_NAMES: Readonly<Record<TaskName, string>> = {
  'text-classification': 'classifier',
  'token-classification': 'ner',
  'question-answering': 'qa',
  'causal-lm': 'lm',
  'masked-lm': 'mlm',
  translation: 'translation',
  summarization: 'summarization',
};

/** Runs the flow; returns the written config's path, or undefined when the user cancelled or nothing fits. */
export async function runGuidedFlow(ui: GuidedUi, o: GuidedOptions): Promise<string | undefined> {
  const busy = <T>(what: string, work: Promise<T>) => (ui.busy ? ui.busy(what, work) : work);
  const models = await busy('looking for models', new ModelCatalog(o.env, 0).list(o.roots));
  const model = await ui.pickModel(modelItems(models, o.folder));
  if (!model) return undefined;
  const datasets = await busy('looking for data files', datasetItems(o));
  if (datasets.length === 0) {
    ui.error('No JSONL, CSV or TSV file in this workspace: add your training data to it first.');
    return undefined;
  }
  const picked = await ui.pickDataset(datasets);
  if (!picked) return undefined;
  const preview = await readDatasetPreview(picked.path);
  if (!preview || preview.rows.length === 0) {
    ui.error(
      `${picked.value} has no rows that can be read${preview?.badLine ? ` (line ${preview.badLine} is not a JSON object)` : ''}.`,
    );
    return undefined;
  }
  const suggestions = suggestTasks(preview, model.info?.modelType);
  if (suggestions.length === 0) {
    ui.error(
      `No task fits the columns of ${picked.value} (${preview.columns.join(', ')}): a task needs a text column, token lists, SQuAD fields, chat messages or source/target texts.`,
    );
    return undefined;
  }
  const suggestion = await ui.confirmTask(suggestions, { ...picked, preview });
  if (!suggestion) return undefined;
  const name = await ui.fileName(`${SHORT_NAMES[suggestion.task]}.finetune.yaml`, (n) => existsSync(join(o.folder, n)));
  if (!name) return undefined;
  const validation = validationSibling(
    picked.value,
    datasets.map((d) => d.value),
  );
  const text = guidedConfigText(
    {
      model: model.value,
      ...(model.info ? { modelInfo: model.info } : {}),
      suggestion,
      train: picked.value,
      ...(validation ? { validation } : {}),
    },
    name.endsWith('.json') ? 'json' : 'yaml',
  );
  const path = join(o.folder, name);
  await writeFile(path, text, { flag: 'wx' });
  return path;
}
