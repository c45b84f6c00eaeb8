import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { nodeConfigFs } from '../../src/engine/commands/validate.js';
import { type ConfigFs, type Diagnostic, resolvePath, validateConfig } from '../../src/shared/config-validate.js';
import { r, writeUnder } from './helpers.js';

let dir = '';

const write = (rel: string, text: string): void => writeUnder(dir, rel, text);

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'finetune-config-'));
  const bert = {
    architectures: ['BertForMaskedLM'],
    model_type: 'bert',
    max_position_embeddings: 64,
    num_hidden_layers: 2,
  };
  write('models/bert-tiny/config.json', JSON.stringify(bert));
  write('models/bert-tiny/model.safetensors', '');
  write('models/bert-tiny/tokenizer.json', '{}');
  write('models/pickled/config.json', JSON.stringify(bert));
  write('models/pickled/pytorch_model.bin', '');
  write('models/empty/README.md', '');
  write('models/config-only/config.json', JSON.stringify(bert));
  write('models/config-only/tokenizer.json', '{}');
  write('data/train.jsonl', '{"text": "good", "target": 1}\n{"text": "bad", "target": 0}\n');
  write('data/val.csv', '"text",label\nfine,1\n');
  write('data/broken.jsonl', '{"text": "a", "label": 1}\nnot json\n');
});

after(() => rmSync(dir, { recursive: true, force: true }));

async function check(text: string, fs: ConfigFs = nodeConfigFs): Promise<Diagnostic[]> {
  return validateConfig(text, 'yaml', { fs, configDir: dir });
}

function brief(ds: Diagnostic[]) {
  return ds.map((d) => [d.severity, d.code, d.range]);
}

const HEAD = 'model: ./models/bert-tiny\ntask: text-classification\n';

test('a config whose model, data and columns all exist has no diagnostics', async () => {
  const text = `${HEAD}data:\n  train: data/train.jsonl\n  validation: data/val.csv\n  label_column: target\n  max_length: 64\n`;
  // val.csv has `label`, not `target`: the one problem, at label_column's value.
  const ds = await check(text);
  assert.deepEqual(brief(ds), [['error', 'column-not-found', r(5, 16, 5, 22)]]);
  assert.equal(ds[0]?.message, "Column 'target' not found in 'data/val.csv'; its columns are: text, label.");
  assert.deepEqual(
    await check(`${HEAD}data:\n  train: data/train.jsonl\n  label_column: target\n  max_length: 64\n`),
    [],
  );
});

test('a missing model folder is an error on the model value; a Hub id is left to run time', async () => {
  const ds = await check('model: ./models/missing\ntask: causal-lm\ndata: {train: data/train.jsonl}\n');
  assert.deepEqual(brief(ds), [['error', 'model-not-found', r(0, 7, 0, 23)]]);
  assert.equal(ds[0]?.message, "Model folder './models/missing' not found.");
  assert.deepEqual(await check('model: openai-community/gpt2\ntask: causal-lm\ndata: {train: data/train.jsonl}\n'), []);
});

test('a column missing from a JSONL file: at data.train for a default, at the column key when named', async () => {
  const byDefault = await check(`${HEAD}data:\n  train: data/train.jsonl\n  max_length: 32\n`);
  assert.deepEqual(brief(byDefault), [['error', 'column-not-found', r(3, 9, 3, 25)]]);
  assert.equal(
    byDefault[0]?.message,
    "Column 'label' (the default label_column) not found in 'data/train.jsonl'; its columns are: text, target.",
  );
  const named = await check(`${HEAD}data:\n  train: data/train.jsonl\n  label_column: targt\n  max_length: 32\n`);
  assert.deepEqual(brief(named), [['error', 'column-not-found', r(4, 16, 4, 21)]]);
  assert.deepEqual(named[0]?.fixes?.[0]?.edits, [{ range: r(4, 16, 4, 21), newText: 'target' }]);
});

test('missing data files, unreadable rows', async () => {
  const ds = await check(`${HEAD}data:\n  train: data/broken.jsonl\n  validation: data/nope.jsonl\n  max_length: 32\n`);
  assert.deepEqual(brief(ds), [
    ['error', 'data-bad-row', r(3, 9, 3, 26)],
    ['error', 'data-not-found', r(4, 14, 4, 29)],
  ]);
  assert.equal(ds[0]?.message, "Line 2 of 'data/broken.jsonl' is not a JSON object.");
});

test("max_length beyond the model's positions, freeze_layers beyond its layers", async () => {
  const explicit = await check(
    `${HEAD}data: {train: data/val.csv, max_length: 128}\ntraining: {method: freeze, freeze_layers: 3}\n`,
  );
  assert.deepEqual(brief(explicit), [
    ['error', 'max-length', r(2, 40, 2, 43)],
    ['error', 'freeze-layers-range', r(3, 42, 3, 43)],
  ]);
  assert.equal(explicit[0]?.message, "max_length 128 exceeds the 64 positions of './models/bert-tiny'.");
  const byDefault = await check(`${HEAD}data: {train: data/val.csv}\n`);
  assert.deepEqual(brief(byDefault), [['error', 'max-length', r(0, 7, 0, 25)]]);
});

test('an encoder for causal-lm is a warning on the model', async () => {
  const ds = await check('model: ./models/bert-tiny\ntask: causal-lm\ndata: {train: data/val.csv, max_length: 64}\n');
  assert.deepEqual(brief(ds), [['warning', 'task-architecture', r(0, 7, 0, 25)]]);
  assert.match(ds[0]?.message ?? '', /is an encoder \(BertForMaskedLM\)/);
});

test('XLNet saved as XLNetLMHeadModel (xlnet-base-cased) is an encoder for the encoder tasks and the permutation LM for causal-lm: no warning', async () => {
  write('models/xlnet-tiny/config.json', JSON.stringify({ architectures: ['XLNetLMHeadModel'], model_type: 'xlnet' }));
  write('models/xlnet-tiny/model.safetensors', '');
  write('models/xlnet-tiny/tokenizer.json', '{}');
  // (val.csv lacks the token and QA columns: only the task/architecture diagnostic matters here.)
  for (const task of ['text-classification', 'token-classification', 'question-answering', 'causal-lm']) {
    const ds = await check(`model: ./models/xlnet-tiny\ntask: ${task}\ndata: {train: data/val.csv, max_length: 64}\n`);
    assert.deepEqual(
      ds.filter((d) => d.code === 'task-architecture').map((d) => d.message),
      [],
      task,
    );
  }
  // A decoder of a family that is not an encoder still gets the hint.
  write('models/gpt2-tiny/config.json', JSON.stringify({ architectures: ['GPT2LMHeadModel'], model_type: 'gpt2' }));
  write('models/gpt2-tiny/model.safetensors', '');
  write('models/gpt2-tiny/tokenizer.json', '{}');
  const ds = await check(
    'model: ./models/gpt2-tiny\ntask: text-classification\ndata: {train: data/val.csv, max_length: 64}\n',
  );
  assert.deepEqual(brief(ds), [['warning', 'task-architecture', r(0, 7, 0, 25)]]);
});

test('model folders without safetensors, without config.json', async () => {
  const pickled = await check(
    'model: models/pickled\ntask: text-classification\ndata: {train: data/val.csv, max_length: 8}\n',
  );
  assert.deepEqual(
    pickled.map((d) => d.code),
    ['model-pickle', 'tokenizer-missing'],
  );
  const empty = await check('model: models/empty\ntask: text-classification\ndata: {train: data/val.csv}\n');
  assert.deepEqual(brief(empty), [['error', 'model-config-missing', r(0, 7, 0, 19)]]);
});

test('a folder with config.json and a tokenizer but no weights: an error naming training.init, none with init scratch', async () => {
  const data = 'data: {train: data/val.csv, max_length: 8}\n';
  const pretrained = await check(`model: models/config-only\ntask: masked-lm\n${data}`);
  assert.deepEqual(
    pretrained.map((d) => d.code),
    ['model-weights-missing'],
  );
  assert.match(pretrained[0]?.message ?? '', /set training\.init: scratch/);
  assert.deepEqual(await check(`model: models/config-only\ntask: masked-lm\n${data}training: {init: scratch}\n`), []);
});

test('a file system with only exists and readText (as in a browser) gives the same answers', async () => {
  const minimal: ConfigFs = {
    exists: nodeConfigFs.exists,
    readText: nodeConfigFs.readText,
  };
  const text = `${HEAD}data:\n  train: data/train.jsonl\n  validation: data/nope.jsonl\n  max_length: 128\n`;
  assert.deepEqual(await check(text, minimal), await check(text));
  assert.equal((await check(text, minimal)).length, 3);
});

test('a head cut in the middle of a line (within the rows sampled) is not a bad row', async () => {
  const row = `${JSON.stringify({ text: 'x'.repeat(5000), label: 1 })}\n`;
  write('data/big.jsonl', row.repeat(30));
  assert.ok(readFileSync(join(dir, 'data/big.jsonl')).length > 64 * 1024);
  assert.deepEqual(await check(`${HEAD}data: {train: data/big.jsonl, max_length: 64}\n`), []);
  // Two-byte characters: the cut falls inside the 17th line, of a head of about 32 Ki characters.
  write('data/accents.jsonl', `${JSON.stringify({ text: 'é'.repeat(2000), label: 1 })}\n`.repeat(30));
  assert.deepEqual(await check(`${HEAD}data: {train: data/accents.jsonl, max_length: 64}\n`), []);
});

test('resolvePath joins and folds relative paths and keeps absolute ones', () => {
  assert.equal(resolvePath('/work/cfg', './models/../data/t.jsonl'), '/work/cfg/data/t.jsonl');
  assert.equal(resolvePath('/work/cfg/', '/abs/t.jsonl'), '/abs/t.jsonl');
  assert.equal(resolvePath('C:\\work\\cfg', '..\\data\\t.csv'), 'C:/work/data/t.csv');
  assert.equal(resolvePath('/a', '../../b'), '/b');
});
