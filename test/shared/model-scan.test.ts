import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { SafetensorsFile } from '../../src/engine/io/safetensors.js';
import { formatParameters, modelItems } from '../../src/extension/configs/model-items.js';
import { repoCacheFolder } from '../../src/shared/node/hub-cache.js';
import { findModelFolders, scanHubCache, scanWorkspaceModels } from '../../src/shared/node/model-scan.js';
import { tempDir } from '../extension/helpers.js';
import { FIXTURE_SENTENCES } from '../fixtures/datasets.js';
import { writeTinyDecoder } from '../fixtures/tiny-decoders.js';
import { writeTinyModel } from '../fixtures/tiny-models.js';

/**
 * The model picker's scan (src/shared/node/model-scan.ts) on a Hugging Face cache laid out as
 * huggingface_hub writes it (refs/<ref> -> commit, snapshots/<commit>/ files symlinked into
 * blobs/), and on workspace folders. The expected parameter counts come from the engine's own
 * safetensors reader (SafetensorsFile), not from the code under test.
 */
const C_MAIN = '1'.repeat(40);
const C_OLD = '2'.repeat(40);
const C_PR = '3'.repeat(40);
const C_LOOSE = '4'.repeat(40);

/** Moves every file of `src` into the repo's blobs and links it from snapshots/<commit>/, as the cache stores downloads. */
function cacheSnapshot(cacheDir: string, repo: string, commit: string, src: string, refs: string[] = []): void {
  const storage = repoCacheFolder(cacheDir, repo);
  const snapshot = join(storage, 'snapshots', commit);
  mkdirSync(join(storage, 'blobs'), { recursive: true });
  mkdirSync(snapshot, { recursive: true });
  for (const name of readdirSync(src)) {
    const blob = `${commit.slice(0, 8)}-${name}`;
    renameSync(join(src, name), join(storage, 'blobs', blob));
    symlinkSync(`../../blobs/${blob}`, join(snapshot, name));
  }
  for (const ref of refs) {
    mkdirSync(join(storage, 'refs', ref, '..'), { recursive: true });
    writeFileSync(join(storage, 'refs', ref), `${commit}\n`);
  }
}

/** A folder holding the given files (JSON objects are written as JSON). */
function folder(t: TestContext, files: Record<string, string | object>): string {
  const dir = tempDir(t, 'model-src-');
  for (const [name, content] of Object.entries(files))
    writeFileSync(join(dir, name), typeof content === 'string' ? content : JSON.stringify(content));
  return dir;
}

/** Parameters and bytes of a folder's safetensors files, by the engine's reader and stat. */
function expected(dir: string): { parameters: number; dtypes: Set<string> } {
  let parameters = 0;
  const dtypes = new Set<string>();
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.safetensors'))) {
    const st = SafetensorsFile.open(join(dir, name));
    for (const e of st.entries.values()) {
      parameters += e.shape.reduce((a, b) => a * b, 1);
      dtypes.add(e.dtype);
    }
    st.close();
  }
  return { parameters, dtypes };
}

const folderSize = (dir: string) => readdirSync(dir).reduce((s, n) => s + statSync(join(dir, n)).size, 0);

test('the cache scan resolves refs to snapshots through symlinked blobs, sharded or not, and says why a model is not supported', async (t) => {
  const cache = tempDir(t, 'hub-');
  // A BERT at main, an older snapshot no ref points to (not listed), and a PR revision.
  const bert = tempDir(t, 'bert-');
  writeTinyModel(bert, 'bert', FIXTURE_SENTENCES);
  const bertFacts = expected(bert);
  const bertBytes = folderSize(bert);
  cacheSnapshot(cache, 'org/tiny-bert', C_MAIN, bert, ['main']);
  cacheSnapshot(cache, 'org/tiny-bert', C_OLD, folder(t, { 'config.json': { model_type: 'bert' } }));
  const pr = tempDir(t, 'bert-pr-');
  writeTinyModel(pr, 'bert', FIXTURE_SENTENCES, 2);
  cacheSnapshot(cache, 'org/tiny-bert', C_PR, pr, ['pr/1']);
  // A Llama in two bfloat16 shards listed by model.safetensors.index.json.
  const llama = tempDir(t, 'llama-');
  writeTinyDecoder(llama, 'llama', { shards: 2, dtype: 'bfloat16' });
  const llamaFacts = expected(llama);
  const llamaBytes = folderSize(llama);
  assert.ok(readdirSync(llama).includes('model.safetensors.index.json'));
  cacheSnapshot(cache, 'org/tiny-llama', C_MAIN, llama, ['main']);
  // A family the engine does not train, a pickle-only model, a download cut short, a repo without refs.
  cacheSnapshot(cache, 'google/pegasus-xsum', C_MAIN, folder(t, { 'config.json': { model_type: 'pegasus' } }), [
    'main',
  ]);
  cacheSnapshot(
    cache,
    'org/pickled',
    C_MAIN,
    folder(t, { 'config.json': { model_type: 'bert' }, 'pytorch_model.bin': 'PK' }),
    ['main'],
  );
  const partial = folder(t, {
    'config.json': { model_type: 'llama' },
    'model.safetensors.index.json': {
      weight_map: { a: 'model-00001-of-00002.safetensors', b: 'model-00002-of-00002.safetensors' },
    },
  });
  cacheSnapshot(cache, 'org/partial', C_MAIN, partial, ['main']);
  const loose = tempDir(t, 'loose-');
  writeTinyModel(loose, 'distilbert', FIXTURE_SENTENCES);
  cacheSnapshot(cache, 'org/loose', C_LOOSE, loose);
  // Not models: a dataset repo, and a file in the cache's root.
  mkdirSync(join(cache, 'datasets--org--data', 'refs'), { recursive: true });
  writeFileSync(join(cache, 'version.txt'), '1');

  const models = await scanHubCache({ HF_HUB_CACHE: cache });
  const byId = new Map(models.map((m) => [m.id, m]));
  assert.deepEqual(
    models.map((m) => m.id),
    [
      'google/pegasus-xsum',
      `org/loose@${C_LOOSE}`,
      'org/partial',
      'org/pickled',
      'org/tiny-bert',
      'org/tiny-bert@pr/1',
      'org/tiny-llama',
    ],
  );

  const main = byId.get('org/tiny-bert');
  assert.equal(main?.dir, join(repoCacheFolder(cache, 'org/tiny-bert'), 'snapshots', C_MAIN));
  assert.equal(main?.modelType, 'bert');
  assert.equal(main?.parameters, bertFacts.parameters);
  assert.deepEqual(main?.dtypes, [...bertFacts.dtypes]);
  // Size on disk: the blobs' sizes (symlinks followed), not the links'.
  assert.equal(main?.bytes, bertBytes);
  assert.equal(main?.weights, 'safetensors');
  assert.deepEqual(main?.support, { supported: true });
  assert.deepEqual(main?.tasks, ['text-classification', 'token-classification', 'question-answering', 'masked-lm']);
  assert.equal(byId.get('org/tiny-bert@pr/1')?.dir, join(repoCacheFolder(cache, 'org/tiny-bert'), 'snapshots', C_PR));

  const sharded = byId.get('org/tiny-llama');
  assert.equal(sharded?.parameters, llamaFacts.parameters);
  assert.deepEqual(sharded?.dtypes, ['BF16']);
  assert.equal(sharded?.bytes, llamaBytes);
  assert.deepEqual(sharded?.tasks, ['causal-lm']);

  const bart = byId.get('google/pegasus-xsum');
  assert.equal(bart?.support.supported, false);
  assert.match(bart?.support.reason ?? '', /model_type 'pegasus' is not a family this engine trains/);
  assert.equal(bart?.weights, 'missing');
  assert.match(byId.get('org/pickled')?.support.reason ?? '', /pickle checkpoint/);
  const cut = byId.get('org/partial');
  assert.equal(cut?.parameters, undefined);
  assert.match(cut?.support.reason ?? '', /missing or unreadable \(an unfinished download\?\)/);
  assert.equal(byId.get(`org/loose@${C_LOOSE}`)?.modelType, 'distilbert');

  // The picker's items: supported first, each with family, parameters, dtype and size.
  const items = modelItems(models, '/elsewhere');
  assert.deepEqual(
    items.map((i) => i.value),
    [
      `org/loose@${C_LOOSE}`,
      'org/tiny-bert',
      'org/tiny-bert@pr/1',
      'org/tiny-llama',
      'google/pegasus-xsum',
      'org/partial',
      'org/pickled',
    ],
  );
  const llamaItem = items.find((i) => i.value === 'org/tiny-llama');
  assert.match(
    llamaItem?.description ?? '',
    /^Hugging Face cache · llama · [\d.]+[KM]? parameters · BF16 · [\d.]+ (bytes|KB|MB)$/,
  );
  assert.equal(llamaItem?.detail, 'Trains: causal-lm');
  assert.match(
    items.find((i) => i.value === 'google/pegasus-xsum')?.detail ?? '',
    /^Not supported: model_type 'pegasus'/,
  );
});

test('the workspace scan finds model folders (config.json + safetensors), not inside dependencies, hidden folders or other models', async (t) => {
  const ws = tempDir(t, 'ws-');
  const model = join(ws, 'models', 'tiny-bert');
  mkdirSync(model, { recursive: true });
  writeTinyModel(model, 'bert', FIXTURE_SENTENCES);
  // A checkpoint inside the model folder, a copy in node_modules and one in a hidden folder: not listed.
  for (const inner of [join(model, 'checkpoint-1'), join(ws, 'node_modules', 'm'), join(ws, '.cache', 'm')]) {
    mkdirSync(inner, { recursive: true });
    for (const f of ['config.json', 'model.safetensors']) writeFileSync(join(inner, f), readFileSync(join(model, f)));
  }
  // config.json alone is not a model folder.
  mkdirSync(join(ws, 'settings'));
  writeFileSync(join(ws, 'settings', 'config.json'), '{}');

  assert.deepEqual(await findModelFolders([ws]), [model]);
  const [info] = await scanWorkspaceModels([ws]);
  assert.equal(info?.source, 'workspace');
  assert.equal(info?.parameters, expected(model).parameters);
  const [item] = modelItems(info ? [info] : [], ws);
  assert.equal(item?.value, './models/tiny-bert');
  assert.match(item?.label ?? '', /^\$\(check\) \.\/models\/tiny-bert$/);
  // From a config elsewhere, the folder is named absolutely.
  assert.equal(modelItems(info ? [info] : [], join(ws, '..', 'other'))[0]?.value, model);
});

test('parameter counts read as model cards write them', () => {
  assert.equal(formatParameters(124_439_808), '124M');
  assert.equal(formatParameters(1_100_048_384), '1.1B');
  assert.equal(formatParameters(6_738_415_616), '6.7B');
  assert.equal(formatParameters(66_955_010), '67M');
  assert.equal(formatParameters(4_400), '4.4K');
  assert.equal(formatParameters(44), '44');
});
