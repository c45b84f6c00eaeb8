/**
 * `model:` in a config is a folder or a Hub id. A Hub id resolves through the Hub cache (see
 * hub-cache.ts) and, when it is not there and going online is allowed, is downloaded into that
 * cache with @huggingface/hub, the way huggingface_hub does it, so Python finds it there too.
 *
 * Only the files training needs are fetched: config.json, the safetensors weights (the index
 * and the shards it names, or model.safetensors) and the tokenizer files. Each file is streamed
 * into blobs/<etag>.incomplete, renamed when complete, and linked from snapshots/<commit>/ by a
 * relative symlink (a copy where symlinks are not allowed, e.g. Windows without developer mode).
 * refs/<revision> is written last, so an interrupted download is resumed, not trusted.
 */

import { createWriteStream, existsSync, mkdirSync, renameSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { copyFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { downloadFile, HubApiError, type ListFileEntry, listFiles, modelInfo } from '@huggingface/hub';
import { MAX_MODEL_JSON_BYTES } from '../../shared/limits.js';
import { readJsonBounded } from '../util/bounded-read.js';
import { writeTextAtomic } from './atomic.js';
import { pickleRefusal, WEIGHTS_FILE, WEIGHTS_INDEX } from './checkpoint.js';
import {
  cachedSnapshot,
  type HubEnv,
  type HubId,
  hubEnv,
  hubToken,
  parseHubId,
  repoCacheFolder,
  snapshotComplete,
} from './hub-cache.js';
import { TOKENIZER_FILES } from './pretrained.js';

export interface ResolveOptions {
  /** Defaults to process.env: HF_HUB_CACHE, HF_HOME, HF_ENDPOINT, HF_TOKEN, HF_HUB_OFFLINE, ... */
  env?: NodeJS.ProcessEnv;
  /** Forces offline mode whatever the environment says. */
  offline?: boolean;
  /** Progress lines ("downloading config.json ..."). */
  log?: (message: string) => void;
  /** Replaces global fetch (proxies, tests). */
  fetch?: typeof fetch;
}

export interface ResolvedModel {
  /** The folder to load from. */
  folder: string;
  source: 'folder' | 'cache' | 'download';
  repo?: string;
  revision?: string;
  commit?: string;
}

const looksLikePath = (ref: string) =>
  ref.startsWith('.') || ref.startsWith('/') || ref.startsWith('~') || ref.includes('\\') || /^[A-Za-z]:/.test(ref);

/**
 * Turns `model:` into a folder: an existing folder as is; a Hub id from the cache; otherwise a
 * download (unless offline).
 */
export async function resolveModel(ref: string, options: ResolveOptions = {}): Promise<ResolvedModel> {
  if (existsSync(ref)) {
    if (!statSync(ref).isDirectory()) {
      throw new Error(`model "${ref}" is a file; give the folder that holds config.json and the weights`);
    }
    return { folder: ref, source: 'folder' };
  }
  const id = looksLikePath(ref) ? undefined : parseHubId(ref);
  if (!id) {
    throw new Error(`model "${ref}" is neither an existing folder nor a Hub id like "org/name" or "org/name@revision"`);
  }
  const env = hubEnv(options.env);
  const offline = options.offline === true || env.offline;
  const cached = cachedSnapshot(env.cacheDir, id);
  const base = { repo: id.repo, revision: id.revision };
  if (cached && snapshotComplete(cached.folder))
    return { ...base, folder: cached.folder, source: 'cache', commit: cached.commit };
  if (offline) {
    // An incomplete snapshot is still handed over: the loader then says exactly what is missing
    // (e.g. only pytorch_model.bin), which is more useful than "not cached".
    if (cached) return { ...base, folder: cached.folder, source: 'cache', commit: cached.commit };
    throw new Error(
      `model "${ref}" is not in the Hugging Face cache at ${repoCacheFolder(env.cacheDir, id.repo)} and offline mode is on ` +
        `(${env.offlineReason ?? 'offline: true'}). Download it once while online, point HF_HUB_CACHE/HF_HOME at the ` +
        'cache that has it, or set model: to a local folder',
    );
  }
  try {
    const downloaded = await downloadToCache(id, env, options);
    return { ...base, folder: downloaded.folder, source: 'download', commit: downloaded.commit };
  } catch (error) {
    // `models/bert-tiny` may be a mistyped local folder rather than a Hub id: say both.
    if (error instanceof Error && ref.includes('/'))
      error.message += ` (there is no local folder ${resolve(ref)} either)`;
    throw error;
  }
}

/** A Hub error with what to do about it. */
function explain(error: unknown, id: HubId, env: HubEnv): Error {
  if (error instanceof HubApiError) {
    const where = `${env.endpoint}/${id.repo} (revision ${id.revision})`;
    if (error.statusCode === 401 || error.statusCode === 403 || error.statusCode === 404) {
      return new Error(
        `${where}: HTTP ${error.statusCode}. The repository or revision does not exist, or it is private or gated: ` +
          `check the id, accept the model's terms on the Hub and set HF_TOKEN${hubToken(env) ? ' (a token is set: check its access)' : ''}`,
      );
    }
    return new Error(`${where}: HTTP ${error.statusCode} ${error.message}`);
  }
  if (
    error instanceof Error &&
    /fetch failed|ENOTFOUND|ECONNREFUSED|ETIMEDOUT|EAI_AGAIN/.test(`${error.message} ${String(error.cause)}`)
  ) {
    return new Error(
      `cannot reach ${env.endpoint} to download "${id.repo}" (${error.message}${error.cause ? `: ${String(error.cause)}` : ''}). ` +
        'Check the network or HF_ENDPOINT, or set HF_HUB_OFFLINE=1 and use a model that is already cached',
    );
  }
  return error instanceof Error ? error : new Error(String(error));
}

/** Downloads what training needs of `id` into the cache; returns the snapshot folder. */
export async function downloadToCache(
  id: HubId,
  env: HubEnv,
  options: Pick<ResolveOptions, 'log' | 'fetch'> = {},
): Promise<{ folder: string; commit: string }> {
  const token = hubToken(env);
  const common = {
    hubUrl: env.endpoint,
    ...(token ? { accessToken: token } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
  };
  try {
    const info = await modelInfo({ ...common, name: id.repo, revision: id.revision, additionalFields: ['sha'] });
    const commit = info.sha;
    if (!/^[0-9a-f]{40}$/.test(commit ?? ''))
      throw new Error(`${env.endpoint} returned no commit hash for ${id.repo}@${id.revision}`);
    const listing = new Map<string, ListFileEntry>();
    for await (const entry of listFiles({ ...common, repo: id.repo, revision: commit })) {
      if (entry.type === 'file') listing.set(entry.path, entry);
    }
    const storage = repoCacheFolder(env.cacheDir, id.repo);
    const snapshot = join(storage, 'snapshots', commit);
    const fetchFile = async (path: string): Promise<void> => {
      const entry = listing.get(path);
      if (!entry) throw new Error(`${id.repo}@${commit} has no file ${path}`);
      await fetchIntoCache(storage, snapshot, entry, async () => {
        options.log?.(`downloading ${id.repo}/${path} (${entry.size} bytes) from ${env.endpoint}`);
        const blob = await downloadFile({ ...common, repo: id.repo, path, revision: commit });
        if (!blob) throw new Error(`${env.endpoint}: ${id.repo}@${commit} lists ${path} but serves no such file`);
        return blob;
      });
    };

    if (!listing.has('config.json')) {
      throw new Error(`${id.repo}@${id.revision} has no config.json: it is not a transformers model repository`);
    }
    await fetchFile('config.json');
    if (listing.has(WEIGHTS_INDEX)) {
      await fetchFile(WEIGHTS_INDEX);
      const index = readJsonBounded(join(snapshot, WEIGHTS_INDEX), MAX_MODEL_JSON_BYTES, `a ${WEIGHTS_INDEX}`) as {
        weight_map?: Record<string, string>;
      };
      for (const shard of new Set(Object.values(index.weight_map ?? {}))) await fetchFile(shard);
    } else if (listing.has(WEIGHTS_FILE)) {
      await fetchFile(WEIGHTS_FILE);
    } else {
      const foreign = [...listing.keys()].filter((p) => /\.(bin|pt|pth|ckpt|h5|msgpack)$/.test(p));
      if (foreign.length > 0) throw pickleRefusal(`${id.repo}@${id.revision}`, foreign);
      throw new Error(`${id.repo}@${id.revision} has no ${WEIGHTS_FILE} or ${WEIGHTS_INDEX}`);
    }
    for (const name of TOKENIZER_FILES) if (listing.has(name)) await fetchFile(name);
    if (id.revision !== commit) writeTextAtomicIn(join(storage, 'refs', id.revision), commit);
    return { folder: snapshot, commit };
  } catch (error) {
    throw explain(error, id, env);
  }
}

function writeTextAtomicIn(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeTextAtomic(path, text);
}

/**
 * Puts one file into the cache: skips it when the snapshot already has it, reuses the blob when
 * another revision downloaded the same content, else streams it from `open`. The blob is named
 * by its etag as huggingface_hub names it: the LFS sha256 for large files, the git oid otherwise.
 */
async function fetchIntoCache(
  storage: string,
  snapshot: string,
  entry: ListFileEntry,
  open: () => Promise<Blob>,
): Promise<void> {
  const pointer = join(snapshot, entry.path);
  if (existsSync(pointer)) return;
  const etag = entry.lfs?.oid ?? entry.oid ?? entry.xetHash;
  if (!etag) throw new Error(`the Hub listing gives no oid for ${entry.path}`);
  const blobPath = join(storage, 'blobs', etag);
  mkdirSync(dirname(blobPath), { recursive: true });
  mkdirSync(dirname(pointer), { recursive: true });
  if (!existsSync(blobPath)) {
    const blob = await open();
    const incomplete = `${blobPath}.incomplete`;
    try {
      await pipeline(Readable.fromWeb(blob.stream() as WebReadableStream<Uint8Array>), createWriteStream(incomplete));
      const written = statSync(incomplete).size;
      if (written !== blob.size) {
        throw new Error(`download of ${entry.path} stopped at ${written} of ${blob.size} bytes; run again to retry`);
      }
    } catch (error) {
      rmSync(incomplete, { force: true });
      throw error;
    }
    renameSync(incomplete, blobPath);
  }
  // A dangling link left by a deleted blob would make symlinkSync fail and copyFile write through it.
  rmSync(pointer, { force: true });
  try {
    symlinkSync(relative(dirname(pointer), blobPath), pointer);
  } catch {
    await copyFile(blobPath, pointer);
  }
}
