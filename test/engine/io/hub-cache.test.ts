import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { tensorOf } from '../../../src/engine/graph/types.js';
import {
  cachedSnapshot,
  hubEnv,
  hubToken,
  parseHubId,
  repoCacheFolder,
  snapshotComplete,
} from '../../../src/engine/io/hub-cache.js';
import { resolveModel } from '../../../src/engine/io/hub-download.js';
import { writeSafetensors } from '../../../src/engine/io/safetensors.js';

const root = mkdtempSync(join(tmpdir(), 'hub-cache-test-'));
after(() => rmSync(root, { recursive: true, force: true }));

const COMMIT = 'a'.repeat(40);
const OTHER = 'b'.repeat(40);
/** A fetch that fails the test if anything tries the network. */
const noNetwork = (() => {
  throw new Error('the network was used');
}) as unknown as typeof fetch;

/** Lays out a cached repo as huggingface_hub does: blobs, snapshot symlinks, refs. */
function cacheRepo(
  cacheDir: string,
  repo: string,
  refs: Record<string, string>,
  commit: string,
  complete = true,
): string {
  const storage = repoCacheFolder(cacheDir, repo);
  const snapshot = join(storage, 'snapshots', commit);
  mkdirSync(join(storage, 'blobs'), { recursive: true });
  mkdirSync(snapshot, { recursive: true });
  mkdirSync(join(storage, 'refs'), { recursive: true });
  for (const [ref, hash] of Object.entries(refs)) writeFileSync(join(storage, 'refs', ref), hash);
  writeFileSync(join(storage, 'blobs', 'cfg'), JSON.stringify({ model_type: 'bert' }));
  symlinkSync('../../blobs/cfg', join(snapshot, 'config.json'));
  if (complete) {
    writeSafetensors(join(storage, 'blobs', 'weights'), [['w', tensorOf('float32', [1], [1])]]);
    symlinkSync('../../blobs/weights', join(snapshot, 'model.safetensors'));
  }
  return snapshot;
}

test('the cache folder follows HF_HUB_CACHE, then HF_HOME/hub, then XDG_CACHE_HOME, then ~/.cache', () => {
  assert.equal(hubEnv({ HF_HUB_CACHE: '/a', HF_HOME: '/b', XDG_CACHE_HOME: '/c' }).cacheDir, '/a');
  assert.equal(hubEnv({ HUGGINGFACE_HUB_CACHE: '/old' }).cacheDir, '/old');
  assert.equal(hubEnv({ HF_HOME: '/b', XDG_CACHE_HOME: '/c' }).cacheDir, join('/b', 'hub'));
  assert.equal(hubEnv({ XDG_CACHE_HOME: '/c' }).cacheDir, join('/c', 'huggingface', 'hub'));
  assert.equal(hubEnv({}).cacheDir, join(homedir(), '.cache', 'huggingface', 'hub'));
  assert.equal(hubEnv({ HF_HOME: '~/hf' }).cacheDir, join(homedir(), 'hf', 'hub'));
});

test('offline flags, endpoint and token come from the environment', () => {
  const home = join(root, 'home');
  mkdirSync(home);
  assert.equal(hubEnv({ HF_HOME: home }).offline, false);
  assert.equal(hubEnv({ HF_HOME: home, HF_HUB_OFFLINE: '1' }).offline, true);
  assert.equal(hubEnv({ HF_HOME: home, TRANSFORMERS_OFFLINE: 'true' }).offlineReason, 'TRANSFORMERS_OFFLINE=true');
  assert.equal(hubEnv({ HF_HOME: home, HF_HUB_OFFLINE: '0' }).offline, false);
  assert.equal(hubEnv({ HF_HOME: home }).endpoint, 'https://huggingface.co');
  assert.equal(hubEnv({ HF_HOME: home, HF_ENDPOINT: 'http://mirror.local/' }).endpoint, 'http://mirror.local');
  assert.equal(hubToken(hubEnv({ HF_HOME: home })), undefined);
  writeFileSync(join(home, 'token'), 'hf_fromfile\n');
  assert.equal(hubEnv({ HF_HOME: home }).tokenFile, join(home, 'token'));
  assert.equal(hubToken(hubEnv({ HF_HOME: home })), 'hf_fromfile');
  assert.equal(hubToken(hubEnv({ HF_HOME: home, HF_TOKEN: 'hf_env' })), 'hf_env');
});

test('Hub ids: org/name, name, @revision; paths and invalid names are not ids', () => {
  assert.deepEqual(parseHubId('google-bert/bert-base-uncased'), {
    repo: 'google-bert/bert-base-uncased',
    revision: 'main',
  });
  assert.deepEqual(parseHubId('gpt2'), { repo: 'gpt2', revision: 'main' });
  assert.deepEqual(parseHubId('org/m@v1.0'), { repo: 'org/m', revision: 'v1.0' });
  assert.deepEqual(parseHubId('org/m@refs/pr/3'), { repo: 'org/m', revision: 'refs/pr/3' });
  for (const bad of ['a/b/c', 'org/m@', 'org--x/m', 'org/m..x', '-org/m', 'org/m.', 'has space/m']) {
    assert.equal(parseHubId(bad), undefined, bad);
  }
});

test('a cached model resolves through refs/main to its snapshot, without the network', async () => {
  const cache = join(root, 'cache1');
  const snapshot = cacheRepo(cache, 'org/tiny', { main: `${COMMIT}\n` }, COMMIT);
  assert.deepEqual(cachedSnapshot(cache, { repo: 'org/tiny', revision: 'main' }), { folder: snapshot, commit: COMMIT });
  assert.ok(snapshotComplete(snapshot));
  const resolved = await resolveModel('org/tiny', { env: { HF_HUB_CACHE: cache }, fetch: noNetwork });
  assert.deepEqual(resolved, { folder: snapshot, source: 'cache', repo: 'org/tiny', revision: 'main', commit: COMMIT });
});

test('HF_HOME locates the cache; tags and commit hashes resolve too', async () => {
  const home = join(root, 'hfhome');
  const cache = join(home, 'hub');
  cacheRepo(cache, 'tiny', { main: COMMIT }, COMMIT);
  const tagged = cacheRepo(cache, 'tiny', { v2: OTHER }, OTHER);
  const env = { HF_HOME: home };
  assert.equal((await resolveModel('tiny@v2', { env, fetch: noNetwork })).folder, tagged);
  assert.equal((await resolveModel(`tiny@${OTHER}`, { env, fetch: noNetwork })).folder, tagged);
  assert.equal((await resolveModel('tiny', { env, fetch: noNetwork })).commit, COMMIT);
});

test('offline and not cached: the error names the cache path and the offline switch', async () => {
  const cache = join(root, 'empty-cache');
  await assert.rejects(
    resolveModel('org/absent', { env: { HF_HUB_CACHE: cache, HF_HUB_OFFLINE: '1' }, fetch: noNetwork }),
    (e: Error) =>
      e.message.includes(`is not in the Hugging Face cache at ${join(cache, 'models--org--absent')}`) &&
      e.message.includes('offline mode is on (HF_HUB_OFFLINE=1)'),
  );
  await assert.rejects(
    resolveModel('org/absent', { env: { HF_HUB_CACHE: cache }, offline: true, fetch: noNetwork }),
    /offline: true/,
  );
});

test('offline with an incomplete snapshot hands it over so the loader can say what is missing', async () => {
  const cache = join(root, 'partial');
  const snapshot = cacheRepo(cache, 'org/partial', { main: COMMIT }, COMMIT, false);
  assert.equal(snapshotComplete(snapshot), false);
  const resolved = await resolveModel('org/partial', { env: { HF_HUB_CACHE: cache, TRANSFORMERS_OFFLINE: '1' } });
  assert.equal(resolved.folder, snapshot);
});

test('an existing folder is used as is; a missing path is not mistaken for a Hub id', async () => {
  const folder = join(root, 'local-model');
  mkdirSync(folder);
  assert.deepEqual(await resolveModel(folder, { fetch: noNetwork }), { folder, source: 'folder' });
  await assert.rejects(
    resolveModel('./models/absent', { fetch: noNetwork }),
    /neither an existing folder nor a Hub id/,
  );
  const file = join(root, 'file.txt');
  writeFileSync(file, '');
  await assert.rejects(resolveModel(file), /is a file; give the folder/);
});
