/**
 * The Hugging Face Hub cache: where it is and how a Hub id maps into it are in
 * src/shared/node/hub-cache.ts (the extension's validation reads it too); the token and whether a
 * snapshot is complete enough to train from are the engine's.
 */

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MAX_MODEL_JSON_BYTES } from '../../shared/limits.js';
import type { HubEnv } from '../../shared/node/hub-cache.js';
import { readJsonBounded } from '../util/bounded-read.js';
import { WEIGHTS_FILE, WEIGHTS_INDEX } from './checkpoint.js';

export {
  cachedCommit,
  cachedSnapshot,
  DEFAULT_ENDPOINT,
  type HubEnv,
  type HubId,
  hubEnv,
  parseHubId,
  repoCacheFolder,
} from '../../shared/node/hub-cache.js';

/** The token to send: the environment's, else the login file's, else none (public models). */
export function hubToken(env: HubEnv): string | undefined {
  if (env.token) return env.token;
  try {
    return readFileSync(env.tokenFile, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether a snapshot has what training needs: config.json and complete safetensors weights
 * (every shard the index lists). Symlinks whose blob is gone count as absent.
 */
export function snapshotComplete(folder: string): boolean {
  const has = (name: string) => existsSync(join(folder, name));
  if (!has('config.json')) return false;
  if (has(WEIGHTS_INDEX)) {
    try {
      const index = readJsonBounded(join(folder, WEIGHTS_INDEX), MAX_MODEL_JSON_BYTES, `a ${WEIGHTS_INDEX}`) as {
        weight_map?: Record<string, string>;
      };
      const shards = new Set(Object.values(index.weight_map ?? {}));
      return shards.size > 0 && [...shards].every(has);
    } catch {
      return false;
    }
  }
  return has(WEIGHTS_FILE);
}
