// Shared by the tokenizer tests: the fixture tokenizers written to a temporary folder, and the
// texts they are checked on.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tokenizer } from '../../../src/engine/tokenize/tokenizer.js';
import {
  type BertOptions,
  type FixtureOptions,
  TRAINING_SENTENCES,
  writeAlbertTokenizer,
  writeBertTokenizer,
  writeGpt2Tokenizer,
  writeRobertaTokenizer,
} from '../../fixtures/tokenizers.js';
import { rng } from '../helpers/random.js';

export const FIXTURES = ['bert', 'bert-cased', 'roberta', 'gpt2', 'albert'] as const;
export type FixtureName = (typeof FIXTURES)[number];

let root: string | null = null;
let count = 0;

/** A fresh folder under this process's temporary root, removed when the process exits. */
export function tempDir(): string {
  if (root === null) {
    const made = mkdtempSync(join(tmpdir(), 'finetune-tokenize-'));
    root = made;
    process.on('exit', () => rmSync(made, { recursive: true, force: true }));
  }
  return join(root, `t${count++}`);
}

/** Writes a fixture tokenizer into a new folder and returns the folder. */
export function writeFixture(name: FixtureName, options: FixtureOptions & BertOptions = {}): string {
  const dir = tempDir();
  if (name === 'bert') writeBertTokenizer(dir, options);
  else if (name === 'bert-cased') writeBertTokenizer(dir, { ...options, cased: true });
  else if (name === 'roberta') writeRobertaTokenizer(dir, options);
  else if (name === 'gpt2') writeGpt2Tokenizer(dir, options);
  else writeAlbertTokenizer(dir, options);
  return dir;
}

const loaded = new Map<FixtureName, Tokenizer>();

export function fixture(name: FixtureName): Tokenizer {
  let t = loaded.get(name);
  if (!t) {
    t = Tokenizer.fromFolder(writeFixture(name));
    loaded.set(name, t);
  }
  return t;
}

/** Hand-picked hard cases: accents (composed and decomposed), CJK, emoji, spacing, specials. */
export const HARD_TEXTS: readonly string[] = [
  '',
  ' ',
  'Hello world!',
  'Café naïve résumé',
  'Cafe\u0301 nai\u0308ve re\u0301sume\u0301',
  'ÉCOLE Ångström Øre Straße İstanbul ΟΔΥΣΣΕΥΣ',
  '我喜欢自然语言处理',
  'I said 我喜欢自然语言处理 today.',
  'emoji 🤗 here 👍🏽 ok 👨‍👩‍👧 family',
  '  leading, trailing and   inner   spaces  ',
  'tabs\tand\nnewlines\r\nand\u00a0no-break spaces',
  "Don't stop: we're learning what they've tokenized!",
  'It costs $3.50, not 350 dollars (maybe 35%).',
  'fullwidth ＡＢＣ １２３ and ligature ﬁne ～ tilde',
  'Understanding unbelievable tokenizers requires understanding their vocabulary.',
  'supercalifragilisticexpialidocious antidisestablishmentarianism',
  `${'a'.repeat(120)} long`,
  'The [MASK] sat on the <mask> near <|endoftext|> the river.',
  'zero\u200bwidth joiner\u200d and control\u0007chars',
  'Ελληνικά, русский, العربية, हिन्दी',
];

/** Random sentences from the training vocabulary, mixed-case, with unseen words. */
export function randomTexts(seed: number, n: number): string[] {
  const rand = rng(seed);
  const words = TRAINING_SENTENCES.join(' ').split(/\s+/u);
  const extra = ['zebra', 'Quokka', 'xylophone', 'naïveté', 'München', '東京', 'ok!', '12,345', "isn't", '…'];
  const pool = [...words, ...extra];
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const len = 1 + Math.floor(rand() * 14);
    const picked: string[] = [];
    for (let k = 0; k < len; k++) {
      let w = pool[Math.floor(rand() * pool.length)] as string;
      if (rand() < 0.15) w = w.toUpperCase();
      picked.push(w);
    }
    out.push(picked.join(rand() < 0.1 ? '  ' : ' '));
  }
  return out;
}

/** Every test text: the hard cases, the training sentences and `n` random ones. */
export function allTexts(seed: number, n = 40): string[] {
  return [...HARD_TEXTS, ...TRAINING_SENTENCES, ...randomTexts(seed, n)];
}
