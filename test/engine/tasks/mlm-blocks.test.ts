import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Example } from '../../../src/engine/data/records.js';
import { computeStats } from '../../../src/engine/data/stats.js';
import { encodeMlmTexts } from '../../../src/engine/tasks/masked-lm/blocks.js';
import { TASKS } from '../../../src/engine/tasks/registry.js';
import { Tokenizer } from '../../../src/engine/tokenize/index.js';
import { writeBertTokenizer } from '../../fixtures/tokenizers.js';

/** run_mlm.py's two preparations: group_texts (concatenate, cut, drop the remainder) and line_by_line. */
const TEXTS = ['the cat sat', 'a dog ran far away', '   ', 'the cat ran'];

function tokenizer(): Tokenizer {
  const dir = mkdtempSync(join(tmpdir(), 'mlm-blocks-'));
  try {
    writeBertTokenizer(dir, { training: TEXTS });
    return Tokenizer.fromFolder(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const examples: Example[] = TEXTS.map((text, i) => ({
  kind: 'text',
  text,
  source: { file: 'train.jsonl', line: i + 1 },
}));

test('group_texts: every text with its specials, concatenated, cut into max_length blocks, the remainder dropped', () => {
  const tok = tokenizer();
  const all = TEXTS.flatMap((t) => tok.encode(t).ids);
  const blocks = encodeMlmTexts(tok, examples, { maxLength: 4, lineByLine: false });
  assert.equal(blocks.length, Math.floor(all.length / 4));
  assert.deepEqual(
    blocks.flatMap((b) => b.inputIds),
    all.slice(0, blocks.length * 4),
  );
  const cls = tok.clsTokenId as number;
  const flat = blocks.flatMap((b) => b.inputIds.map((id, t) => [id, b.specialMask[t], b.wordIds[t]] as const));
  for (const [id, special, word] of flat) {
    assert.equal(special === 1, id === cls || id === tok.sepTokenId, 'specials are [CLS] and [SEP]');
    assert.equal(word === null, special === 1, 'specials have no word');
  }
  // Words never span two texts: the word ids of the tokens of each text are disjoint.
  const words = flat.map(([, , w]) => w).filter((w): w is number => w !== null);
  assert.deepEqual(
    words,
    [...words].sort((a, b) => a - b),
    'word ids grow through the concatenation',
  );
  assert.throws(
    () => encodeMlmTexts(tok, examples, { maxLength: 500, lineByLine: false }),
    /fewer than one block of data\.max_length 500/,
  );
});

test('line_by_line: one example per non-blank text, truncated to max_length, keeping its line', () => {
  const tok = tokenizer();
  const lines = encodeMlmTexts(tok, examples, { maxLength: 5, lineByLine: true });
  assert.deepEqual(
    lines.map((l) => l.line),
    [1, 2, 4],
  );
  assert.deepEqual(lines[1]?.inputIds, tok.encode('a dog ran far away', null, { maxLength: 5 }).ids);
  // Offsets that touch make one word: for WordPiece, a `##` piece continues the word before it.
  const tokens = tok.encode('the cat sat', null, { maxLength: 5 }).tokens;
  let word = 0;
  const expected = tokens.map((t) => (t === '[CLS]' || t === '[SEP]' ? null : t.startsWith('##') ? word : ++word));
  assert.ok(
    tokens.some((t) => t.startsWith('##')),
    `a word split in pieces: ${tokens.join(' ')}`,
  );
  assert.deepEqual(lines[0]?.wordIds, expected);
});

test('the data report warns of truncation for line_by_line only: grouped texts are cut into blocks, not truncated', () => {
  const tok = tokenizer();
  const counter = { countTokens: (text: string) => tok.encode(text).ids.length };
  const opts = { counter, counterName: 'model tokenizer', maxLength: 3 };
  const truncation = (grouped: boolean) =>
    computeStats(examples, [], { ...opts, grouped }).warnings.filter((w) => w.includes('will be truncated'));
  assert.equal(truncation(false).length, 1);
  assert.deepEqual(truncation(true), []);
  // The report says so, for the Data tab (which then marks no bin as truncated).
  assert.equal(computeStats(examples, [], { ...opts, grouped: true }).grouped, true);
  assert.equal(computeStats(examples, [], { ...opts, grouped: false }).grouped, undefined);
  const grouped = TASKS['masked-lm'].data.grouped;
  assert.equal(grouped?.({ train: 'x', line_by_line: false }), true);
  assert.equal(grouped?.({ train: 'x', line_by_line: true }), false);
});
