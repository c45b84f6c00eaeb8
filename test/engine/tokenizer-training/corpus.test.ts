// Reading the corpus (JSON lines, text files, folders) and the errors bad input gets, through
// trainTokenizer and through the `finetune tokenizer train` command line.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import { Tokenizer } from '../../../src/engine/tokenize/tokenizer.js';
import { lineBatches, TokenizerTrainingError } from '../../../src/engine/tokenizer-training/corpus.js';
import { type TrainTokenizerOptions, trainTokenizer } from '../../../src/engine/tokenizer-training/train.js';
import { tokenizerTrainArgs } from '../../../src/extension/runs/engine-process.js';

const root = join(__dirname, '..', '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'tokenizer-corpus-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text, 'utf8');
  return path;
}

const base = (inputs: string[], extra: Partial<TrainTokenizerOptions> = {}): TrainTokenizerOptions => ({
  type: 'wordpiece',
  vocabSize: 200,
  inputs,
  textColumn: 'text',
  minFrequency: 2,
  lowercase: false,
  out: join(dir, `out-${Math.random().toString(36).slice(2)}`),
  ...extra,
});

async function failure(options: TrainTokenizerOptions): Promise<string> {
  try {
    await trainTokenizer(options);
  } catch (err) {
    assert.ok(err instanceof TokenizerTrainingError, String(err));
    return err.message;
  }
  assert.fail('expected an error');
}

test('a JSON line without the text column is an error at its file and line, naming the keys', async () => {
  const path = file('missing.jsonl', '{"text": "one"}\n\n{"text": "two"}\n{"body": "three", "id": 3}\n');
  const message = await failure(base([path]));
  assert.match(
    message,
    /missing\.jsonl:4: no "text" column \(keys: body, id\); name the text column with --text-column/,
  );
});

test('bad JSON and non-string texts are errors at their line', async () => {
  assert.match(
    await failure(base([file('bad.jsonl', '{"text": "ok"}\n{"text": oops}\n')])),
    /bad\.jsonl:2: not valid JSON/,
  );
  assert.match(
    await failure(base([file('num.jsonl', '{"text": 5}\n')])),
    /num\.jsonl:1: "text" is a number, expected a string/,
  );
});

test('an empty corpus, a missing input and an empty folder are errors', async () => {
  assert.match(await failure(base([file('empty.txt', '\n  \n\n')])), /empty\.txt: the corpus has no text to train on/);
  assert.match(await failure(base([join(dir, 'nope.txt')])), /--input .*nope\.txt: no such file or folder/);
  mkdirSync(join(dir, 'bare'));
  file('bare/readme.md', 'not a text file\n');
  assert.match(await failure(base([join(dir, 'bare')])), /bare: the folder holds no \.txt file/);
});

test('a vocabulary smaller than the alphabet is an error that says how many tokens it takes', async () => {
  const path = file('abc.txt', 'abc abd abe\n');
  // WordPiece: 5 specials, a b c d e, ##b ##c ##d ##e = 14 tokens before any merge.
  assert.match(
    await failure(base([path], { vocabSize: 10 })),
    /--vocab-size 10 is below the 14 tokens the alphabet alone takes \(5 special tokens, 5 characters, and their ## forms\)/,
  );
  assert.match(await failure(base([path], { type: 'byte-level-bpe', vocabSize: 100 })), /below the 257 tokens/);
  // Unigram: 5 specials and the characters after Metaspace: ▁ a b c d e.
  assert.match(await failure(base([path], { type: 'unigram', vocabSize: 8 })), /below the 11 tokens/);
});

test('text files keep their line ends (across read chunks too), a folder gives its .txt files', async () => {
  // The BOM's 3 bytes put the CR at the end of the first 1 MiB read and its LF in the next.
  const big = `${'x'.repeat((1 << 20) - 4)}\r\nsecond\rthird\nlast`;
  const lines: string[] = [];
  let bytes = 0;
  for await (const batch of lineBatches(file('ends.txt', `\uFEFF${big}`))) {
    lines.push(...batch.lines);
    bytes += batch.bytes;
  }
  assert.equal(bytes, Buffer.byteLength(`\uFEFF${big}`));
  assert.deepEqual(
    lines.map((l) => l.slice(-8)),
    [`${'x'.repeat(6)}\r\n`, 'second\r', 'third\n', 'last'],
  );
  file('folder/a.txt', 'alpha beta\n');
  file('folder/sub/b.txt', 'gamma delta\nepsilon\n');
  file('folder/c.md', 'ignored zeta\n');
  const out = join(dir, 'folder-out');
  const summary = await trainTokenizer(base([join(dir, 'folder')], { minFrequency: 1, out }));
  assert.equal(summary.texts, 3);
  const tok = Tokenizer.fromFolder(out);
  assert.notEqual(tok.tokenToId('g'), null);
  assert.equal(tok.tokenToId('z'), null, 'c.md is not read');
});

test('--min-frequency: pairs seen fewer times are never merged', async () => {
  const path = file('freq.txt', `${'hug '.repeat(5)}${'pun '.repeat(3)}\n`);
  const vocab = async (minFrequency: number) => {
    const out = join(dir, `freq-${minFrequency}`);
    await trainTokenizer(base([path], { type: 'byte-level-bpe', vocabSize: 400, minFrequency, out }));
    return Tokenizer.fromFolder(out);
  };
  // Words: hug, Ġhug ×4, Ġpun ×3. Pairs: h+u and u+g 5, Ġ+h 4, Ġ+p, p+u and u+n 3.
  const four = await vocab(4);
  assert.notEqual(four.tokenToId('Ġhug'), null);
  assert.equal(four.tokenToId('un'), null);
  const two = await vocab(2);
  assert.notEqual(two.tokenToId('Ġpun'), null);
});

async function finetune(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return cli(['src/engine/cli.ts', 'tokenizer', ...args]);
}

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', ...args], { cwd: root });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

test('finetune tokenizer train: writes the files; bad input exits 1 with file:line, bad usage 2', async () => {
  const data = file('cli.jsonl', `${JSON.stringify({ text: 'Hello tokenizer world' })}\n`.repeat(20));
  const out = join(dir, 'cli-out');
  // The command line the extension's Train Tokenizer builds.
  const ok = await cli(
    tokenizerTrainArgs('src/engine/cli.ts', { type: 'wordpiece', vocabSize: 60, inputs: [data], lowercase: true, out }),
  );
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /wordpiece tokenizer, \d+ tokens, trained on 20 texts/);
  assert.equal(ok.stderr, '', 'no progress line when stderr is not a terminal');
  for (const name of ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'vocab.txt']) {
    assert.ok(existsSync(join(out, name)), name);
  }
  const missing = await finetune(
    'train',
    '--type',
    'bpe',
    '--vocab-size',
    '300',
    '--input',
    data,
    '--text-column',
    'body',
    '--out',
    out,
  );
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /cli\.jsonl:1: no "body" column \(keys: text\)/);
  const usage = await finetune(
    'train',
    '--type',
    'unigram',
    '--vocab-size',
    '300',
    '--min-frequency',
    '3',
    '--input',
    data,
    '--out',
    out,
  );
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /--min-frequency applies to wordpiece, bpe and byte-level-bpe, not unigram/);
  const type = await finetune('train', '--type', 'sentencepiece', '--vocab-size', '300', '--input', data, '--out', out);
  assert.equal(type.code, 2);
  assert.match(type.stderr, /--type must be one of wordpiece, bpe, byte-level-bpe, unigram/);
});
