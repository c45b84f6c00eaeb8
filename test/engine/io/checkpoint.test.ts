import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { type TensorData, tensorOf } from '../../../src/engine/graph/types.js';
import {
  loadCheckpoint,
  parseSize,
  planShards,
  saveCheckpoint,
  WEIGHTS_FILE,
  WEIGHTS_INDEX,
  weightFiles,
} from '../../../src/engine/io/checkpoint.js';
import { pythonJson } from '../../../src/engine/io/hf-config.js';
import { writeSafetensors } from '../../../src/engine/io/safetensors.js';

const root = mkdtempSync(join(tmpdir(), 'checkpoint-test-'));
after(() => rmSync(root, { recursive: true, force: true }));
let folders = 0;
const freshFolder = () => {
  const path = join(root, `f${folders++}`);
  mkdirSync(path);
  return path;
};

/** Ten float32 tensors of 40 bytes each (10 elements), values tagged by tensor. */
const tenTensors = () =>
  new Map<string, TensorData>(
    Array.from({ length: 10 }, (_, i) => [
      `layer.${i}.weight`,
      tensorOf(
        'float32',
        [10],
        Array.from({ length: 10 }, (_, j) => i * 100 + j),
      ),
    ]),
  );

const sameWeights = (got: Map<string, TensorData>, want: Map<string, TensorData>) => {
  assert.deepEqual([...got.keys()].sort(), [...want.keys()].sort());
  for (const [name, t] of want)
    assert.deepEqual(Array.from(got.get(name)?.data as Float32Array), Array.from(t.data as Float32Array), name);
};

test('a checkpoint under the shard limit is one model.safetensors without an index', () => {
  const folder = freshFolder();
  const weights = tenTensors();
  const saved = saveCheckpoint(folder, weights);
  assert.deepEqual(saved, { files: [WEIGHTS_FILE], totalSize: 400 });
  assert.deepEqual(readdirSync(folder), [WEIGHTS_FILE]);
  sameWeights(loadCheckpoint(folder), weights);
});

test('above max_shard_size: numbered shards and an index as save_pretrained writes them', () => {
  const folder = freshFolder();
  const weights = tenTensors();
  const saved = saveCheckpoint(folder, weights, { maxShardSize: 120 });
  // 40-byte tensors, 120-byte limit: three per shard, so 3 + 3 + 3 + 1.
  assert.deepEqual(saved.files, [
    'model-00001-of-00004.safetensors',
    'model-00002-of-00004.safetensors',
    'model-00003-of-00004.safetensors',
    'model-00004-of-00004.safetensors',
  ]);
  const index = JSON.parse(readFileSync(join(folder, WEIGHTS_INDEX), 'utf8'));
  assert.deepEqual(index.metadata, { total_size: 400 });
  assert.equal(index.weight_map['layer.0.weight'], 'model-00001-of-00004.safetensors');
  assert.equal(index.weight_map['layer.9.weight'], 'model-00004-of-00004.safetensors');
  // transformers writes json.dumps(index, indent=2, sort_keys=True) + "\n".
  assert.equal(readFileSync(join(folder, WEIGHTS_INDEX), 'utf8'), pythonJson(index));
  assert.ok(
    readFileSync(join(folder, WEIGHTS_INDEX), 'utf8').startsWith(
      '{\n  "metadata": {\n    "total_size": 400\n  },\n  "weight_map": {\n',
    ),
  );
  sameWeights(loadCheckpoint(folder), weights);
  assert.equal(weightFiles(folder).length, 4);
});

test('a tensor larger than the limit gets a shard of its own', () => {
  const t = (n: number) => tensorOf('float32', [n], new Array(n).fill(0));
  const shards = planShards(
    [
      ['a', t(10)],
      ['big', t(100)],
      ['b', t(10)],
      ['c', t(20)],
    ],
    100,
  );
  assert.deepEqual(shards, [['big'], ['a', 'b'], ['c']]);
});

test('saving again replaces the previous layout instead of mixing two saves', () => {
  const folder = freshFolder();
  saveCheckpoint(folder, tenTensors(), { maxShardSize: 120 });
  const smaller = new Map([['only', tensorOf('float32', [2], [1, 2])]]);
  saveCheckpoint(folder, smaller);
  assert.deepEqual(readdirSync(folder), [WEIGHTS_FILE]);
  sameWeights(loadCheckpoint(folder), smaller);
  saveCheckpoint(folder, tenTensors(), { maxShardSize: '200B' });
  assert.ok(!existsSync(join(folder, WEIGHTS_FILE)));
  assert.equal(readdirSync(folder).filter((n) => n.endsWith('.safetensors')).length, 2);
});

test('sizes parse like huggingface_hub: decimal GB, binary GiB', () => {
  assert.equal(parseSize('5GB'), 5_000_000_000);
  assert.equal(parseSize('500MB'), 500_000_000);
  assert.equal(parseSize('2GiB'), 2 * 2 ** 30);
  assert.equal(parseSize('1.5 kb'), 1500);
  assert.equal(parseSize(1234), 1234);
  assert.throws(() => parseSize('big'), /max_shard_size "big" is not a size/);
});

test('an index that names a missing shard is an incomplete download', () => {
  const folder = freshFolder();
  saveCheckpoint(folder, tenTensors(), { maxShardSize: 200 });
  rmSync(join(folder, 'model-00002-of-00002.safetensors'));
  assert.throws(
    () => loadCheckpoint(folder),
    /lists shard model-00002-of-00002\.safetensors, which is not in the folder/,
  );
});

test('an index entry that its shard does not hold is reported with both names', () => {
  const folder = freshFolder();
  writeSafetensors(join(folder, 'model-00001-of-00001.safetensors'), [['a', tensorOf('float32', [1], [1])]]);
  writeFileSync(
    join(folder, WEIGHTS_INDEX),
    JSON.stringify({ weight_map: { a: 'model-00001-of-00001.safetensors', b: 'model-00001-of-00001.safetensors' } }),
  );
  assert.throws(
    () => loadCheckpoint(folder),
    /maps "b" to model-00001-of-00001\.safetensors, but that shard has no such tensor/,
  );
});

test('pickle-only folders are refused with the conversion command, without reading the file', () => {
  const folder = freshFolder();
  writeFileSync(join(folder, 'config.json'), '{}');
  // Not even a valid pickle: it must never be opened.
  writeFileSync(join(folder, 'pytorch_model.bin'), 'cos\nsystem\n(S"echo pwned"\ntR.');
  assert.throws(
    () => weightFiles(folder),
    (e: Error) =>
      e.message.includes('pytorch_model.bin') &&
      e.message.includes('arbitrary code') &&
      e.message.includes(`AutoModel.from_pretrained('${folder}')`) &&
      e.message.includes('safe_serialization=True') &&
      e.message.includes('refs/pr/'),
  );
  for (const other of ['tf_model.h5', 'flax_model.msgpack', 'model.ckpt']) {
    const f = freshFolder();
    writeFileSync(join(f, other), 'x');
    assert.throws(() => weightFiles(f), new RegExp(`only ${other.replace('.', '\\.')}`));
  }
});

test('a folder without weights says which files it expected', () => {
  const folder = freshFolder();
  writeFileSync(join(folder, 'config.json'), '{}');
  assert.throws(
    () => weightFiles(folder),
    /has no weights: expected model\.safetensors or model\.safetensors\.index\.json/,
  );
  writeSafetensors(join(folder, 'model-00001-of-00002.safetensors'), []);
  assert.throws(() => weightFiles(folder), /sharded weights .* but no model\.safetensors\.index\.json/);
});

test('pythonJson writes what json.dumps(indent=2, sort_keys=True) writes', () => {
  const value = {
    b: [1, 2.5, 'x'],
    a: { '10': 'ten', '2': 'two' },
    c: {},
    d: [],
    e: 'café',
    f: null,
    g: true,
    h: 1e-12,
  };
  const expected =
    '{\n  "a": {\n    "10": "ten",\n    "2": "two"\n  },\n  "b": [\n    1,\n    2.5,\n    "x"\n  ],\n  "c": {},\n  "d": [],\n' +
    '  "e": "caf\\u00e9",\n  "f": null,\n  "g": true,\n  "h": 1e-12\n}\n';
  assert.equal(pythonJson(value), expected);
});
