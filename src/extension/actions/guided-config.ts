import * as vscode from 'vscode';
import type { TaskSuggestion } from '../../shared/dataset-detect.js';
import { describeModelFolder } from '../../shared/node/model-scan.js';
import {
  type DatasetItem,
  type GuidedUi,
  type ModelChoice,
  runGuidedFlow,
  typedModel,
} from '../configs/guided-flow.js';
import { type ModelItem, modelItem } from '../configs/model-items.js';
import { CONFIG_FILE_RE } from '../ids.js';

/**
 * The QuickPicks of the guided New Fine-tune Config (configs/guided-flow.ts runs the steps): the
 * models found, with a typed Hub id accepted as it is and a folder browsed to; the workspace's
 * data files with their columns and first row; the tasks detected from the rows, best first.
 */
const TITLE = 'New Fine-tune Config';

/** The config's file name in a folder, checked as it is typed. */
export async function askConfigName(
  folderName: string,
  suggested: string,
  taken: (name: string) => boolean,
): Promise<string | undefined> {
  return vscode.window.showInputBox({
    title: TITLE,
    prompt: `File name, relative to ${folderName}`,
    value: suggested,
    valueSelection: [0, suggested.indexOf('.')],
    validateInput: (value) => {
      if (!CONFIG_FILE_RE.test(value)) return 'The name must end in .finetune.yaml, .finetune.yml or .finetune.json.';
      if (taken(value)) return `${value} already exists.`;
      return undefined;
    },
  });
}

type ModelPickItem = vscode.QuickPickItem & { choice?: ModelChoice; browse?: true };

const BROWSE: ModelPickItem = {
  label: '$(folder-opened) Browse for a model folder…',
  detail: 'A Hugging Face folder: config.json and model.safetensors (or shards)',
  alwaysShow: true,
  browse: true,
};

function pickItem(item: ModelItem): ModelPickItem {
  return {
    label: item.label,
    description: item.description,
    detail: item.detail,
    choice: { value: item.value, info: item.info },
  };
}

/** A model: one found, a typed Hub id, or a folder browsed to (undefined: cancelled). */
async function pickModel(items: ModelItem[], folder: string): Promise<ModelChoice | undefined> {
  const qp = vscode.window.createQuickPick<ModelPickItem>();
  qp.title = `${TITLE} (1/3): model`;
  qp.placeholder =
    items.length > 0
      ? 'Pick a model, or type a Hugging Face Hub id (org/name)'
      : 'No model in the workspace or the Hugging Face cache: type a Hub id (org/name) or browse';
  qp.matchOnDescription = true;
  qp.matchOnDetail = true;
  const found = items.map(pickItem);
  qp.items = [...found, BROWSE];
  qp.onDidChangeValue((value) => {
    const typed = typedModel(value);
    const listed = found.some((i) => i.choice?.value === value.trim());
    const extra: ModelPickItem[] =
      typed && !listed
        ? [
            {
              // The id in the description, not the label: a filtered list puts the items whose
              // label matches the typed text first, so typing a folder's name ("tiny-bert", also
              // a valid Hub id) and Enter takes that folder, not the text as a Hub id.
              label: '$(cloud) Hugging Face Hub id',
              description: typed.value,
              detail: 'Downloaded at the first run',
              alwaysShow: true,
              choice: typed,
            },
          ]
        : [];
    qp.items = [...extra, ...found, BROWSE];
  });
  const picked = await new Promise<ModelPickItem | undefined>((resolve) => {
    qp.onDidAccept(() => resolve(qp.selectedItems[0]));
    qp.onDidHide(() => resolve(undefined));
    qp.show();
  });
  qp.dispose();
  if (!picked?.browse) return picked?.choice;
  const uris = await vscode.window.showOpenDialog({
    canSelectFolders: true,
    canSelectFiles: false,
    openLabel: 'Use this model',
  });
  const dir = uris?.[0]?.fsPath;
  if (!dir) return undefined;
  const info = await describeModelFolder(dir, dir, 'workspace');
  if (!info) throw new Error(`${dir} has no config.json: it is not a Hugging Face model folder.`);
  return { value: modelItem(info, folder).value, info };
}

/** One row on one line, long values cut. */
function rowText(row: Record<string, unknown> | undefined): string {
  if (!row) return 'no rows';
  const text = Object.entries(row)
    .map(([k, v]) => `${k}: ${JSON.stringify(v)}`)
    .join(', ');
  return text.length > 160 ? `${text.slice(0, 159)}…` : text;
}

async function pickDataset(items: DatasetItem[]): Promise<DatasetItem | undefined> {
  const picked = await vscode.window.showQuickPick(
    items.map((d) => ({
      label: `$(file) ${d.value}`,
      description: d.preview ? `columns: ${d.preview.columns.join(', ')}` : 'not readable',
      detail: rowText(d.preview?.rows[0]),
      item: d,
    })),
    {
      title: `${TITLE} (2/3): training data`,
      placeHolder: 'Pick the training data (JSONL, CSV or TSV)',
      matchOnDescription: true,
    },
  );
  return picked?.item;
}

function columnsText(s: TaskSuggestion): string {
  const parts = Object.entries(s.data).map(([k, v]) => `${k.replace(/_column$/, '')}: ${v}`);
  return parts.length > 0 ? parts.join(' · ') : 'SQuAD columns';
}

async function confirmTask(
  suggestions: TaskSuggestion[],
  dataset: DatasetItem & { preview: { columns: string[]; rows: Record<string, unknown>[] } },
): Promise<TaskSuggestion | undefined> {
  const picked = await vscode.window.showQuickPick(
    suggestions.map((s, i) => ({
      label: `${s.support.supported ? '$(check)' : '$(warning)'} ${s.task}`,
      description: columnsText(s),
      detail: s.support.supported ? s.reason : `${s.reason}. Not for this model: ${s.support.reason ?? ''}`,
      picked: i === 0,
      suggestion: s,
    })),
    {
      title: `${TITLE} (3/3): task and columns`,
      placeHolder: `${dataset.value} has ${dataset.preview.columns.join(', ')}; first row: ${rowText(dataset.preview.rows[0])}`,
      matchOnDescription: true,
    },
  );
  return picked?.suggestion;
}

/** The guided flow in a workspace folder; opens the written config and returns its Uri. */
export async function guidedConfig(
  folder: vscode.WorkspaceFolder,
  roots: readonly string[],
): Promise<vscode.Uri | undefined> {
  const ui: GuidedUi = {
    pickModel: (items) => pickModel(items, folder.uri.fsPath),
    pickDataset,
    confirmTask,
    fileName: (suggested, taken) => askConfigName(folder.name, suggested, taken),
    error: (message) => void vscode.window.showErrorMessage(`Fine-tune: ${message}`),
    busy: <T>(what: string, work: Promise<T>): Promise<T> =>
      Promise.resolve(
        vscode.window.withProgress(
          { location: vscode.ProgressLocation.Window, title: `Fine-tune: ${what}` },
          () => work,
        ),
      ),
  };
  const path = await runGuidedFlow(ui, { folder: folder.uri.fsPath, roots });
  if (!path) return undefined;
  const uri = vscode.Uri.file(path);
  await vscode.window.showTextDocument(uri);
  return uri;
}
