// Our trainers against Hugging Face `tokenizers` 0.23.2 itself: test/fixtures/tokenizer-training/
// hf-reference.json holds what its ByteLevelBPETokenizer and SentencePieceUnigramTokenizer train
// on corpus.jsonl there (make_hf_reference.py, the script that wrote it, says how).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { TokenizerType } from '../../../src/engine/tokenizer-training/layouts.js';
import { trainTokenizer } from '../../../src/engine/tokenizer-training/train.js';

const fixtures = join(__dirname, '..', '..', 'fixtures', 'tokenizer-training');
const reference = JSON.parse(readFileSync(join(fixtures, 'hf-reference.json'), 'utf8')) as {
  vocab_size: number;
  bpe: { vocab: Record<string, number>; merges: [string, string][] };
  unigram: { unk_id: number; vocab: [string, number][] };
};
const dir = mkdtempSync(join(tmpdir(), 'tokenizer-reference-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function model(type: TokenizerType): Promise<Record<string, unknown>> {
  const out = join(dir, type);
  await trainTokenizer({
    type,
    vocabSize: reference.vocab_size,
    inputs: [join(fixtures, 'corpus.jsonl')],
    textColumn: 'text',
    minFrequency: 2,
    lowercase: false,
    out,
  });
  return JSON.parse(readFileSync(join(out, 'tokenizer.json'), 'utf8')).model;
}

test('bpe: the vocabulary, ids and merges of Hugging Face ByteLevelBPETokenizer, exactly', async () => {
  const ours = await model('bpe');
  assert.deepEqual(ours.vocab, reference.bpe.vocab);
  assert.deepEqual(ours.merges, reference.bpe.merges);
});

test('unigram: the pieces and scores of SentencePieceUnigramTokenizer, up to its hash-order ties', async () => {
  const ours = (await model('unigram')) as { unk_id: number; vocab: [string, number][] };
  const theirs = reference.unigram.vocab;
  assert.equal(ours.unk_id, reference.unigram.unk_id);
  assert.equal(ours.vocab.length, theirs.length);
  // Position by position the scores agree: the same pieces, sorted the same way up to ties...
  for (const [i, [, score]] of ours.vocab.entries()) {
    const want = (theirs[i] as [string, number])[1];
    assert.ok(Math.abs(score - want) < 1e-9, `position ${i}: ${score} vs ${want}`);
  }
  // ...and piece by piece too, except the characters the model lost, which finalize() adds back
  // at the lowest score plus 0.0001 per character in the order the Rust trainer's hash set
  // iterates (ours: code-point order): their scores differ by whole penalty steps.
  const mine = new Map(ours.vocab);
  for (const [piece, want] of theirs) {
    const score = mine.get(piece);
    assert.ok(score !== undefined, `${piece} missing`);
    const steps = (score - want) / 0.0001;
    assert.ok(Math.abs(steps - Math.round(steps)) < 1e-6, `${piece}: ${score} vs ${want}`);
    if (Math.round(steps) !== 0) assert.equal([...piece].length, 1, `${piece}: only added characters may differ`);
  }
});
