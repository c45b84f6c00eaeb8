import assert from 'node:assert/strict';
import { lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { tensorOf } from '../../../src/engine/graph/types.js';
import { loadCheckpoint, saveCheckpoint } from '../../../src/engine/io/checkpoint.js';
import { resolveModel } from '../../../src/engine/io/hub-download.js';
import { writeSafetensors } from '../../../src/engine/io/safetensors.js';
import { type FakeHub, startFakeHub } from './fake-hub.js';

const root = mkdtempSync(join(tmpdir(), 'hub-download-test-'));
const COMMIT = 'c0ffee'.padEnd(40, '0');
const SHARDED_COMMIT = 'deadbeef'.padEnd(40, '1');
let hub: FakeHub;

/** Bytes of a safetensors file with the given float32 tensors. */
function safetensorsBytes(name: string, tensors: [string, number[]][]): Buffer {
  const path = join(root, name);
  writeSafetensors(
    path,
    tensors.map(([n, v]) => [n, tensorOf('float32', [v.length], v)] as const),
  );
  return readFileSync(path);
}

/** A sharded checkpoint's files, as save_pretrained lays them out. */
function shardedFiles(): Record<string, Buffer> {
  const folder = mkdtempSync(join(root, 'sharded-'));
  const weights = new Map(['a', 'b', 'c'].map((n, i) => [n, tensorOf('float32', [4], [i, i, i, i])]));
  const saved = saveCheckpoint(folder, weights, { maxShardSize: 20 });
  return Object.fromEntries([...saved.files, saved.index as string].map((f) => [f, readFileSync(join(folder, f))]));
}

before(async () => {
  hub = await startFakeHub({
    'org/tiny': {
      commit: COMMIT,
      files: {
        'config.json': JSON.stringify({ model_type: 'bert' }),
        'model.safetensors': safetensorsBytes('tiny.safetensors', [['w', [1, 2, 3]]]),
        'tokenizer.json': '{"version":"1.0"}',
        'vocab.txt': '[PAD]\n',
        'pytorch_model.bin': 'pickle: never downloaded',
        'README.md': '# tiny',
      },
      lfs: ['model.safetensors', 'pytorch_model.bin'],
    },
    'org/sharded': { commit: SHARDED_COMMIT, files: { 'config.json': '{}', ...shardedFiles() } },
    'org/pickled': {
      commit: COMMIT,
      files: { 'config.json': '{}', 'pytorch_model.bin': 'x' },
      lfs: ['pytorch_model.bin'],
    },
  });
});
after(async () => {
  await hub.close();
  rmSync(root, { recursive: true, force: true });
});

test('a model that is not cached is downloaded into the cache layout, then resolved offline-free from it', async () => {
  const cache = mkdtempSync(join(root, 'cache-'));
  const env = { HF_HOME: root, HF_HUB_CACHE: cache, HF_ENDPOINT: hub.url };
  const logs: string[] = [];
  const first = await resolveModel('org/tiny', { env, log: (m) => logs.push(m) });
  const storage = join(cache, 'models--org--tiny');
  const snapshot = join(storage, 'snapshots', COMMIT);
  assert.deepEqual(first, { folder: snapshot, source: 'download', repo: 'org/tiny', revision: 'main', commit: COMMIT });
  assert.equal(readFileSync(join(storage, 'refs', 'main'), 'utf8'), COMMIT);
  // Snapshot entries are relative symlinks into blobs/; LFS blobs are named by sha256.
  const link = join(snapshot, 'model.safetensors');
  assert.ok(lstatSync(link).isSymbolicLink());
  assert.match(readlinkSync(link), /^\.\.\/\.\.\/blobs\/[0-9a-f]{64}$/);
  assert.match(readlinkSync(join(snapshot, 'config.json')), /^\.\.\/\.\.\/blobs\/[0-9a-f]{40}$/);
  assert.deepEqual(Array.from(loadCheckpoint(snapshot).get('w')?.data as Float32Array), [1, 2, 3]);
  assert.equal(readFileSync(join(snapshot, 'vocab.txt'), 'utf8'), '[PAD]\n');
  const fetched = hub.requests.filter((r) => r.includes('/resolve/'));
  assert.ok(!fetched.some((r) => r.includes('pytorch_model.bin') || r.includes('README.md')), fetched.join('\n'));
  assert.ok(logs.some((l) => l.includes('org/tiny/model.safetensors')));

  const before = hub.requests.length;
  const second = await resolveModel('org/tiny', { env });
  assert.equal(second.source, 'cache');
  assert.equal(second.folder, snapshot);
  assert.equal(hub.requests.length, before, 'the second resolve must not touch the server');
});

test('sharded repositories fetch the index and every shard it names', async () => {
  const cache = mkdtempSync(join(root, 'cache-'));
  const resolved = await resolveModel('org/sharded', {
    env: { HF_HOME: root, HF_HUB_CACHE: cache, HF_ENDPOINT: hub.url },
  });
  assert.equal(resolved.commit, SHARDED_COMMIT);
  const weights = loadCheckpoint(resolved.folder);
  assert.deepEqual([...weights.keys()].sort(), ['a', 'b', 'c']);
  assert.deepEqual(Array.from(weights.get('c')?.data as Float32Array), [2, 2, 2, 2]);
});

test('a repository with only pickle weights is refused before anything is downloaded', async () => {
  const cache = mkdtempSync(join(root, 'cache-'));
  await assert.rejects(
    resolveModel('org/pickled', { env: { HF_HOME: root, HF_HUB_CACHE: cache, HF_ENDPOINT: hub.url } }),
    /org\/pickled@main has no safetensors weights, only pytorch_model\.bin.*safe_serialization=True/s,
  );
  assert.ok(!hub.requests.some((r) => r.includes('org/pickled/resolve/pytorch_model.bin')));
});

test('unknown repositories say to check the id or set HF_TOKEN; the token is sent', async () => {
  const cache = mkdtempSync(join(root, 'cache-'));
  await assert.rejects(
    resolveModel('org/missing', {
      env: { HF_HOME: root, HF_HUB_CACHE: cache, HF_ENDPOINT: hub.url, HF_TOKEN: 'hf_secret' },
    }),
    (e: Error) =>
      e.message.includes(`${hub.url}/org/missing`) &&
      e.message.includes('HTTP 404') &&
      e.message.includes('HF_TOKEN') &&
      e.message.includes(`no local folder ${join(process.cwd(), 'org', 'missing')} either`),
  );
  assert.ok(hub.authorizations.includes('Bearer hf_secret'));
});

test('an unreachable endpoint is reported with the endpoint and the offline alternative', async () => {
  const cache = mkdtempSync(join(root, 'cache-'));
  // Port 9 on 127.0.0.1 (discard) has no listener here: the connection is refused at once.
  await assert.rejects(
    resolveModel('org/tiny', { env: { HF_HOME: root, HF_HUB_CACHE: cache, HF_ENDPOINT: 'http://127.0.0.1:9' } }),
    /cannot reach http:\/\/127\.0\.0\.1:9 .*HF_HUB_OFFLINE=1/s,
  );
});
