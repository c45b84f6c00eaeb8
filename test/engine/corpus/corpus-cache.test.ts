import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { tokenizedCorpus } from '../../../src/engine/corpus/build.js';
import { Tokenizer } from '../../../src/engine/tokenize/index.js';
import { FIXTURE_SENTENCES, sentimentRows, toJsonl } from '../../fixtures/datasets.js';
import { writeTinyModel } from '../../fixtures/tiny-models.js';
import { request } from './helpers.js';

/**
 * The tokenized-corpus cache (src/engine/corpus): built once, found again by its key (the files'
 * contents, the tokenizer, the settings), rebuilt when any of them changes, never read from a
 * write that did not finish, and the same tokens as the tokenizer gives text by text.
 */
let dir = '';
let model = '';
let corpus = '';

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'corpus-cache-'));
  model = join(dir, 'model');
  mkdirSync(model);
  writeTinyModel(model, 'bert', FIXTURE_SENTENCES);
  corpus = join(dir, 'text.jsonl');
  writeFileSync(corpus, toJsonl(sentimentRows(300, 1).map((r) => ({ text: r.text }))));
});

after(() => rmSync(dir, { recursive: true, force: true }));

const HANG_GUARD = { timeout: 120_000 };

test('a second build is a cache hit: nothing tokenized, the log says so, the same tokens', HANG_GUARD, async () => {
  const cache = join(dir, 'cache-hit');
  const log: string[] = [];
  let chunks = 0;
  const first = await tokenizedCorpus(
    request(corpus, model, cache, { log: (l) => log.push(l), onChunk: () => chunks++ }),
  );
  assert.equal(first.hit, false);
  assert.ok(chunks > 0);
  const firstIds = first.corpus.span(0, first.corpus.meta.tokens).ids;
  first.corpus.close();
  chunks = 0;
  const second = await tokenizedCorpus(
    request(corpus, model, cache, { log: (l) => log.push(l), onChunk: () => chunks++ }),
  );
  assert.equal(second.hit, true);
  assert.equal(chunks, 0, 'a cache hit tokenizes nothing');
  assert.equal(second.key, first.key);
  assert.ok(
    log.some((l) => l === `tokenization cache hit ${first.key} (300 texts, ${firstIds.length} tokens)`),
    log.join('\n'),
  );
  assert.deepEqual(second.corpus.span(0, second.corpus.meta.tokens).ids, firstIds);
  // The tokens are the tokenizer's, text after text (the texts are clean already).
  const tokenizer = Tokenizer.fromFolder(model);
  const texts = sentimentRows(300, 1).map((r) => r.text);
  texts.forEach((text, i) => {
    assert.deepEqual(Array.from(second.corpus.text(i).ids), tokenizer.encode(text, null).ids, `text ${i}`);
  });
  second.corpus.close();
});

test('the cache is the same whatever the thread count: results are written in corpus order', HANG_GUARD, async () => {
  const build = async (workers: number) => {
    const b = await tokenizedCorpus(
      request(corpus, model, join(dir, `cache-threads-${workers}`), { workers, chunkBytes: 256 }),
    );
    const out = {
      key: b.key,
      ids: b.corpus.span(0, b.corpus.meta.tokens),
      offsets: b.corpus.offsets,
      hashes: b.corpus.hashes,
    };
    b.corpus.close();
    return out;
  };
  const one = await build(1);
  const three = await build(3);
  assert.equal(three.key, one.key);
  assert.deepEqual(three, one);
});

test('the cache is rebuilt when the file, the tokenizer or a setting changes', HANG_GUARD, async () => {
  const cache = join(dir, 'cache-invalidate');
  const copy = join(dir, 'changing.jsonl');
  writeFileSync(copy, readFileSync(corpus));
  const build = async (over = {}, tokenizerDir = model) => {
    const b = await tokenizedCorpus(request(copy, tokenizerDir, cache, over));
    b.corpus.close();
    return b;
  };
  const base = await build();
  assert.equal((await build()).hit, true);
  appendFileSync(copy, `${JSON.stringify({ text: 'one more line of text' })}\n`);
  const edited = await build();
  assert.equal(edited.hit, false);
  assert.notEqual(edited.key, base.key);
  assert.equal(edited.corpus.texts, 301);
  // Another tokenizer: the same vocabulary behind a lowercasing normalizer.
  const other = join(dir, 'other-model');
  mkdirSync(other);
  writeTinyModel(other, 'bert', FIXTURE_SENTENCES);
  const tj = JSON.parse(readFileSync(join(other, 'tokenizer.json'), 'utf8'));
  tj.normalizer = { type: 'Lowercase' };
  writeFileSync(join(other, 'tokenizer.json'), JSON.stringify(tj));
  const retokenized = await build({}, other);
  assert.equal(retokenized.hit, false);
  assert.notEqual(retokenized.key, edited.key);
  const truncated = await build({ encoding: { maxLength: 8, blankAsEmpty: true } });
  assert.equal(truncated.hit, false);
  assert.notEqual(truncated.key, edited.key);
  const cleaned = await build({ clean: { ...request(copy, model, cache).clean, lowercase: true } });
  assert.equal(cleaned.hit, false);
  assert.equal((await build()).hit, true, 'the earlier cache is still there');
});

test('a build killed mid-write leaves nothing a later build trusts', HANG_GUARD, async () => {
  const cache = join(dir, 'cache-killed');
  const child = spawnSync(
    process.execPath,
    ['--import', 'tsx', join(__dirname, 'fixtures', 'build-and-die.ts'), corpus, model, cache],
    { encoding: 'utf8' },
  );
  assert.equal(child.signal, 'SIGKILL', child.stderr);
  const left = readdirSync(cache);
  assert.equal(left.length, 1, left.join(', '));
  assert.match(left[0] as string, /^[0-9a-f]{64}\.tmp-\d+-[0-9a-f]+$/, 'only a temporary folder');
  assert.ok(!existsSync(join(cache, left[0] as string, 'meta.json')));
  const log: string[] = [];
  const built = await tokenizedCorpus(request(corpus, model, cache, { log: (l) => log.push(l) }));
  assert.equal(built.hit, false);
  assert.ok(!log.some((l) => l.startsWith('tokenization cache hit')));
  assert.deepEqual(readdirSync(cache), [built.key], "the dead build's temporary folder is removed");
  assert.equal(built.corpus.texts, 300);
  built.corpus.close();
  // A cache folder damaged after the fact (a token file cut short) is not trusted either.
  const ids = join(cache, built.key, 'ids.u32');
  writeFileSync(ids, readFileSync(ids).subarray(0, 8));
  const again = await tokenizedCorpus(request(corpus, model, cache));
  assert.equal(again.hit, false);
  assert.equal(again.corpus.meta.tokens * 4, readFileSync(ids).length);
  again.corpus.close();
});

test('a folder of .txt files: every file, in path order, one text per non-blank line', HANG_GUARD, async () => {
  const folder = join(dir, 'texts');
  mkdirSync(join(folder, 'b'), { recursive: true });
  writeFileSync(join(folder, 'b', 'two.txt'), 'the second file\r\n\r\nhas two lines\n');
  writeFileSync(join(folder, 'a.txt'), 'first file line one\n   \nline two');
  writeFileSync(join(folder, 'c.txt'), 'third file\n');
  writeFileSync(join(folder, 'notes.md'), 'not text of the corpus\n');
  const cache = join(dir, 'cache-folder');
  const built = await tokenizedCorpus(request(folder, model, cache));
  const tokenizer = Tokenizer.fromFolder(model);
  const expected = ['first file line one', 'line two', 'the second file', 'has two lines', 'third file'];
  assert.equal(built.corpus.texts, expected.length);
  expected.forEach((text, i) => {
    assert.deepEqual(Array.from(built.corpus.text(i).ids), tokenizer.encode(text, null).ids, text);
  });
  assert.deepEqual(
    built.corpus.meta.files.map((f) => f.path),
    ['a.txt', join('b', 'two.txt'), 'c.txt'].map((f) => join(folder, f)),
  );
  built.corpus.close();
  // A file added to the folder is a new corpus.
  writeFileSync(join(folder, 'd.txt'), 'a fourth file\n');
  const grown = await tokenizedCorpus(request(folder, model, cache));
  assert.equal(grown.hit, false);
  assert.equal(grown.corpus.texts, expected.length + 1);
  grown.corpus.close();
  await assert.rejects(
    tokenizedCorpus(request(join(dir, 'nothing-here'), model, cache)),
    /data\.train .*nothing-here: no such file or folder/,
  );
});
