import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { weightFiles } from '../../../src/engine/io/checkpoint.js';
import { readHfConfig } from '../../../src/engine/io/hf-config.js';
import { Tokenizer } from '../../../src/engine/tokenize/index.js';
import { ConfigError, loadConfig } from '../../../src/engine/train/finetune.js';
import { FileTooLargeError, readTextBounded } from '../../../src/engine/util/bounded-read.js';
import { MAX_CONFIG_BYTES, MAX_MODEL_JSON_BYTES, MAX_TOKENIZER_BYTES } from '../../../src/shared/limits.js';

// Each reader of a file a user or a download supplies checks its size before reading it. The big
// files here are sparse (truncateSync), so they cost no disk and no time: only a reader that
// checks first stays fast and gives this error.
const dir = mkdtempSync(join(tmpdir(), 'file-limits-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A file of `size` bytes that starts with `head`. */
function sized(path: string, head: string, size: number): string {
  writeFileSync(path, head);
  truncateSync(path, size);
  return path;
}

function tooLarge(path: string, what: string): (e: unknown) => boolean {
  return (e) =>
    e instanceof FileTooLargeError &&
    e.file === path &&
    e.message.startsWith(`${path} is `) &&
    e.message.includes(what);
}

test('readTextBounded reads a file up to its limit and refuses one past it, naming it', () => {
  const path = sized(join(dir, 'eleven.txt'), 'hello world', 11);
  assert.equal(readTextBounded(path, 11, 'a test file'), 'hello world');
  assert.throws(
    () => readTextBounded(path, 10, 'a test file'),
    (e: unknown) => {
      assert.ok(e instanceof FileTooLargeError);
      assert.equal(e.message, `${path} is 11 bytes, more than the 10 bytes a test file may have`);
      return true;
    },
  );
  // A missing file is the file system's error, for the caller to word.
  assert.throws(() => readTextBounded(join(dir, 'missing'), 10, 'x'), { code: 'ENOENT' });
});

test("a model folder's config.json, tokenizer files and shard index have size limits", () => {
  const model = join(dir, 'model');
  mkdirSync(model);
  const config = sized(join(model, 'config.json'), '{"model_type": "bert"', MAX_MODEL_JSON_BYTES + 1);
  assert.throws(() => readHfConfig(model), tooLarge(config, "4 MB a model's config.json may have"));

  const tokenizer = sized(join(model, 'tokenizer.json'), '{', MAX_TOKENIZER_BYTES + 1);
  assert.throws(() => Tokenizer.fromFolder(model), tooLarge(tokenizer, '64 MB a tokenizer.json may have'));
  writeFileSync(tokenizer, '{}');
  const tokenizerConfig = sized(join(model, 'tokenizer_config.json'), '{', MAX_MODEL_JSON_BYTES + 1);
  assert.throws(() => Tokenizer.fromFolder(model), tooLarge(tokenizerConfig, 'a tokenizer_config.json may have'));

  const index = sized(join(model, 'model.safetensors.index.json'), '{', MAX_MODEL_JSON_BYTES + 1);
  assert.throws(() => weightFiles(model), tooLarge(index, 'a model.safetensors.index.json may have'));
});

test('a config file over the limit is a ConfigError at line 1, column 1, and is not read', () => {
  const path = sized(join(dir, 'big.finetune.yaml'), 'model: m\n', MAX_CONFIG_BYTES + 1);
  assert.throws(
    () => loadConfig(path),
    (e: unknown) =>
      e instanceof ConfigError &&
      e.diagnostics.length === 1 &&
      e.message.includes(
        `${path}:1:1: error: The config file is ${MAX_CONFIG_BYTES + 1} bytes, over the 256 KB a config may have`,
      ),
  );
});
