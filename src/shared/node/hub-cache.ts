/**
 * The Hugging Face Hub cache, laid out as huggingface_hub (Python) and @huggingface/hub write it,
 * so models a user already downloaded with either are found offline:
 *
 *   <cache>/models--<org>--<name>/refs/<revision>        text: the commit hash
 *   <cache>/models--<org>--<name>/snapshots/<commit>/    the files (symlinks into blobs/)
 *   <cache>/models--<org>--<name>/blobs/<etag>           the content
 *
 * <cache> is HF_HUB_CACHE, else HUGGINGFACE_HUB_CACHE (older name), else $HF_HOME/hub, else
 * $XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub.
 */

import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

// Here rather than in the engine: the extension host's config validation finds cached Hub models
// the way the engine will (src/engine/io/hub-cache.ts adds the token and the completeness check).
export const DEFAULT_ENDPOINT = 'https://huggingface.co';
const COMMIT = /^[0-9a-f]{40}$/;

/** Everything about the Hub that comes from the environment. */
export interface HubEnv {
  cacheDir: string;
  /** HF_HUB_OFFLINE or TRANSFORMERS_OFFLINE set to a true value. */
  offline: boolean;
  /** Which variable made it offline, for messages. */
  offlineReason?: string;
  /** HF_ENDPOINT, without a trailing slash. */
  endpoint: string;
  /** HF_TOKEN (or the older HUGGING_FACE_HUB_TOKEN). */
  token?: string;
  /** The file `huggingface-cli login` writes the token to; read only when going online. */
  tokenFile: string;
}

const expandHome = (path: string): string => (path.startsWith('~') ? join(homedir(), path.slice(1)) : path);

/** huggingface_hub's truthy values for boolean variables. */
const isTrue = (value: string | undefined): boolean => ['1', 'ON', 'YES', 'TRUE'].includes((value ?? '').toUpperCase());

export function hubEnv(env: NodeJS.ProcessEnv = process.env): HubEnv {
  const hfHome = expandHome(env.HF_HOME ?? join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'huggingface'));
  const cacheDir = expandHome(env.HF_HUB_CACHE ?? env.HUGGINGFACE_HUB_CACHE ?? join(hfHome, 'hub'));
  const offlineVar = ['HF_HUB_OFFLINE', 'TRANSFORMERS_OFFLINE'].find((v) => isTrue(env[v]));
  const result: HubEnv = {
    cacheDir,
    tokenFile: expandHome(env.HF_TOKEN_PATH ?? join(hfHome, 'token')),
    offline: offlineVar !== undefined,
    endpoint: (env.HF_ENDPOINT ?? DEFAULT_ENDPOINT).replace(/\/+$/, ''),
  };
  if (offlineVar) result.offlineReason = `${offlineVar}=${env[offlineVar]}`;
  const token = env.HF_TOKEN ?? env.HUGGING_FACE_HUB_TOKEN;
  if (token) result.token = token;
  return result;
}

export interface HubId {
  /** `org/name` or `name`. */
  repo: string;
  /** Branch, tag, commit hash or `refs/pr/<N>`; `main` when not given. */
  revision: string;
}

/**
 * Parses `org/name`, `name`, optionally `@revision`. Returns undefined for anything that is not
 * a valid Hub id (the caller then treats it as a path). Names follow the Hub's rules: letters,
 * digits, `-`, `_`, `.`, no `--` or `..`, at most 96 characters.
 */
export function parseHubId(ref: string): HubId | undefined {
  const at = ref.indexOf('@');
  const repo = at < 0 ? ref : ref.slice(0, at);
  const revision = at < 0 ? 'main' : ref.slice(at + 1);
  const parts = repo.split('/');
  if (parts.length > 2 || revision === '' || /\s/.test(revision) || revision.includes('..')) return undefined;
  const valid = (p: string) =>
    /^[A-Za-z0-9][\w.-]*$/.test(p) && !p.includes('--') && !p.includes('..') && p.length <= 96 && !p.endsWith('.');
  return parts.every(valid) ? { repo, revision } : undefined;
}

/** `<cache>/models--org--name`. */
export function repoCacheFolder(cacheDir: string, repo: string): string {
  return join(cacheDir, `models--${repo.split('/').join('--')}`);
}

/** The commit a revision points to in the cache, if it was downloaded. */
export function cachedCommit(cacheDir: string, id: HubId): string | undefined {
  if (COMMIT.test(id.revision)) return id.revision;
  try {
    const commit = readFileSync(join(repoCacheFolder(cacheDir, id.repo), 'refs', id.revision), 'utf8').trim();
    return COMMIT.test(commit) ? commit : undefined;
  } catch {
    return undefined;
  }
}

/** The cached snapshot folder of a revision, when it exists. */
export function cachedSnapshot(cacheDir: string, id: HubId): { folder: string; commit: string } | undefined {
  const commit = cachedCommit(cacheDir, id);
  if (!commit) return undefined;
  const folder = join(repoCacheFolder(cacheDir, id.repo), 'snapshots', commit);
  return existsSync(folder) && statSync(folder).isDirectory() ? { folder, commit } : undefined;
}

/** The cached snapshot folder of a Hub id (`org/name[@revision]`), or undefined when it isn't cached. */
export function cachedModelFolder(id: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const hub = parseHubId(id);
  return hub ? cachedSnapshot(hubEnv(env).cacheDir, hub)?.folder : undefined;
}
