import type { Dirent } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { TaskName } from '../config-tasks.js';
import { type ModelSupport, modelSupport, tasksOf } from '../model-support.js';
import { hubEnv, repoCacheFolder } from './hub-cache.js';
import { readJsonObject, readSafetensorsHeader, weightFiles } from './safetensors-header.js';

/**
 * The models a user has on this machine, for the model picker: Hugging Face folders in the
 * workspace and models in the Hugging Face cache, each described from its config.json and the
 * safetensors headers (never the weights). No 'vscode' import, so the tests run it on folders
 * they write.
 */
export interface ModelInfo {
  /** What `model:` takes: the folder (workspace) or the Hub id, `@revision` when not main (cache). */
  id: string;
  source: 'workspace' | 'cache';
  /** The folder read: the workspace folder, or the cached snapshot. */
  dir: string;
  /** config.json's model_type. */
  modelType?: string;
  architectures: string[];
  /** Total elements of the stored tensors (all shards); undefined when the weights can't be read. */
  parameters?: number;
  /** The stored dtypes (safetensors names), by the parameters each holds, most first. */
  dtypes: string[];
  /** Bytes of the folder's files, symlinks (the cache's blobs) followed. */
  bytes: number;
  /** Positions the model takes (max_position_embeddings, n_positions or n_ctx). */
  positions?: number;
  /** Where the weights are: safetensors, only a pickle (refused), or none readable. */
  weights: 'safetensors' | 'pickle' | 'missing';
  /** The tasks the engine trains it for. */
  tasks: TaskName[];
  support: ModelSupport;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
/** Folders the walks never enter or count: dependencies, VCS data, hidden folders (runs live in .finetune). */
const SKIP = (name: string) => name.startsWith('.') || name === 'node_modules' || name === '__pycache__';
/** Bounds on a walk, so a huge workspace or a cache of thousands of files stays quick. */
const MAX_ENTRIES = 5000;

async function listDir(dir: string): Promise<Dirent[]> {
  return readdir(dir, { withFileTypes: true }).catch(() => []);
}

/** Bytes of every file under `dir` (symlinks followed, as the cache's snapshot files are links to blobs). */
export async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  let seen = 0;
  const visit = async (d: string, depth: number): Promise<void> => {
    for (const e of await listDir(d)) {
      if (++seen > MAX_ENTRIES) return;
      const s = await stat(join(d, e.name)).catch(() => undefined);
      if (s?.isFile()) total += s.size;
      else if (s?.isDirectory() && depth < 3) await visit(join(d, e.name), depth + 1);
    }
  };
  await visit(dir, 0);
  return total;
}

/** A model folder described from config.json and the weights' headers; undefined without a config.json. */
export async function describeModelFolder(
  dir: string,
  id: string,
  source: ModelInfo['source'],
): Promise<ModelInfo | undefined> {
  const config = await readJsonObject(join(dir, 'config.json'));
  if (!config) return undefined;
  const modelType = typeof config.model_type === 'string' && config.model_type !== '' ? config.model_type : undefined;
  const architectures = Array.isArray(config.architectures)
    ? config.architectures.filter((a): a is string => typeof a === 'string')
    : [];
  const byDtype = new Map<string, number>();
  let parameters: number | undefined;
  const files = await weightFiles(dir);
  for (const file of files ?? []) {
    const tensors = await readSafetensorsHeader(join(dir, file));
    // A shard missing or cut short (a download stopped half way): the count would be wrong.
    if (!tensors) {
      parameters = undefined;
      byDtype.clear();
      break;
    }
    for (const t of tensors) {
      const n = t.shape.reduce((a, b) => a * b, 1);
      parameters = (parameters ?? 0) + n;
      byDtype.set(t.dtype, (byDtype.get(t.dtype) ?? 0) + n);
    }
  }
  const names = new Set((await listDir(dir)).map((e) => e.name));
  const weights: ModelInfo['weights'] =
    parameters !== undefined
      ? 'safetensors'
      : names.has('pytorch_model.bin') || names.has('pytorch_model.bin.index.json')
        ? 'pickle'
        : 'missing';
  const positions = num(config.max_position_embeddings) ?? num(config.n_positions) ?? num(config.n_ctx);
  let support = modelSupport(modelType);
  if (support.supported && weights === 'pickle')
    support = {
      supported: false,
      reason: 'only pytorch_model.bin, a pickle checkpoint, which is not loaded for safety: convert it to safetensors',
    };
  else if (support.supported && weights === 'missing')
    support = {
      supported: false,
      reason:
        files === undefined
          ? 'no model.safetensors (or sharded index): only training.init: scratch can use it'
          : 'a weight file is missing or unreadable (an unfinished download?)',
    };
  return {
    id,
    source,
    dir,
    ...(modelType ? { modelType } : {}),
    architectures,
    ...(parameters !== undefined ? { parameters } : {}),
    dtypes: [...byDtype.entries()].sort((a, b) => b[1] - a[1]).map(([d]) => d),
    bytes: await folderBytes(dir),
    ...(positions !== undefined ? { positions } : {}),
    weights,
    tasks: modelType ? tasksOf(modelType) : [],
    support,
  };
}

/** Ref names under refs/ (`main`, `v1.0`, `pr/3` for refs/pr/3), each with its commit. */
async function refsOf(repoDir: string): Promise<{ ref: string; commit: string }[]> {
  const out: { ref: string; commit: string }[] = [];
  const visit = async (dir: string, prefix: string): Promise<void> => {
    for (const e of await listDir(dir)) {
      const path = join(dir, e.name);
      if (e.isDirectory()) await visit(path, `${prefix}${e.name}/`);
      else {
        const commit = (await readFile(path, 'utf8').catch(() => '')).trim();
        if (/^[0-9a-f]{40}$/.test(commit)) out.push({ ref: `${prefix}${e.name}`, commit });
      }
    }
  };
  await visit(join(repoDir, 'refs'), '');
  // main first, then the others by name.
  return out.sort((a, b) => (a.ref === 'main' ? -1 : b.ref === 'main' ? 1 : a.ref.localeCompare(b.ref)));
}

/**
 * The models in the Hugging Face cache (HF_HUB_CACHE, else HF_HOME/hub, else
 * ~/.cache/huggingface/hub), each revision resolved as huggingface_hub resolves it: refs/<ref>
 * holds the commit whose snapshots/<commit>/ folder has the files. A repo whose refs point nowhere
 * still lists its snapshots, by commit. Datasets and spaces are not models and are skipped.
 */
export async function scanHubCache(env: NodeJS.ProcessEnv = process.env): Promise<ModelInfo[]> {
  const cacheDir = hubEnv(env).cacheDir;
  const out: ModelInfo[] = [];
  for (const e of await listDir(cacheDir)) {
    if (!e.isDirectory() || !e.name.startsWith('models--')) continue;
    const repo = e.name.slice('models--'.length).split('--').join('/');
    const repoDir = repoCacheFolder(cacheDir, repo);
    const described = new Set<string>();
    for (const { ref, commit } of await refsOf(repoDir)) {
      const info = await describeModelFolder(
        join(repoDir, 'snapshots', commit),
        ref === 'main' ? repo : `${repo}@${ref}`,
        'cache',
      );
      if (info) out.push(info);
      described.add(commit);
    }
    if (described.size > 0) continue;
    for (const s of await listDir(join(repoDir, 'snapshots'))) {
      const info = await describeModelFolder(join(repoDir, 'snapshots', s.name), `${repo}@${s.name}`, 'cache');
      if (info) out.push(info);
    }
  }
  return out.sort((a, b) => a.id.localeCompare(b.id));
}

/** Whether a folder's names make it a Hugging Face model folder: config.json and safetensors weights. */
function looksLikeModel(names: ReadonlySet<string>): boolean {
  return (
    names.has('config.json') &&
    [...names].some((n) => n.endsWith('.safetensors') || n.endsWith('.safetensors.index.json'))
  );
}

/**
 * Hugging Face model folders under `roots` (config.json + *.safetensors), at most `maxDepth` levels
 * down; a model folder's own subfolders (checkpoints) are not entered. Dependencies and hidden
 * folders are skipped.
 */
export async function findModelFolders(roots: readonly string[], maxDepth = 4): Promise<string[]> {
  const found: string[] = [];
  let seen = 0;
  const visit = async (dir: string, depth: number): Promise<void> => {
    const entries = await listDir(dir);
    seen += entries.length;
    if (looksLikeModel(new Set(entries.filter((e) => !e.isDirectory()).map((e) => e.name)))) {
      found.push(dir);
      return;
    }
    if (depth >= maxDepth) return;
    for (const e of entries)
      if (e.isDirectory() && !SKIP(e.name) && seen < MAX_ENTRIES) await visit(join(dir, e.name), depth + 1);
  };
  for (const root of roots) await visit(root, 0);
  return found.sort();
}

/** The workspace's model folders, described (ids are the absolute folders). */
export async function scanWorkspaceModels(roots: readonly string[]): Promise<ModelInfo[]> {
  const out: ModelInfo[] = [];
  for (const dir of await findModelFolders(roots)) {
    const info = await describeModelFolder(dir, dir, 'workspace');
    if (info) out.push(info);
  }
  return out;
}
