// The words (pre-tokens) a trainer counts: each text through the tokenizer's normalizer and
// pre-tokenizer, as Hugging Face's trainers are fed. The steps are those of the project's tokenizer
// (src/engine/tokenize), so training and encoding split text the same way; what is redone here is
// only speed: lines of printable ASCII take a string-only fast path (the normalizers written by
// layouts.ts reduce to at most `toLowerCase` and space squeezing on them), everything else goes
// through the aligned normalizer, and ByteLevel's byte mapping runs once per distinct word.
import { identity } from '../tokenize/aligned.js';
import type { Json } from '../tokenize/library.js';
import { type AlignedNormalizer, buildNormalizer } from '../tokenize/normalizers.js';
import { BERT_SPLIT, byteLevelText, GPT2_SPLIT } from '../tokenize/pretokenizers.js';

export type SplitKind = 'bert' | 'byte-level' | 'metaspace';

export interface WordSplitter {
  /** Adds each word of one text to `counts`. */
  count(text: string, counts: Map<string, number>): void;
  /** The word as the model sees it (ByteLevel: its byte characters); applied once per distinct word. */
  finish(word: string): string;
}

/** Printable ASCII plus tab and line ends: no normalizer used here changes these but for case and runs of spaces. */
const PLAIN = /^[\t\n\r\x20-\x7e]*$/;
const SPACE_RUNS = / {2,}/g;
// BERT_SPLIT and GPT2_SPLIT restricted to ASCII, where they match the same pieces: BERT's
// punctuation is then the four ASCII ranges, \p{L} is [A-Za-z] and \p{N} is [0-9]. Without the
// Unicode flag and property classes they run several times faster.
const BERT_SPLIT_ASCII = /[^\s!-/:-@[-`{-~]+|[!-/:-@[-`{-~]/g;
const GPT2_SPLIT_ASCII = /'s|'t|'re|'ve|'m|'ll|'d| ?[A-Za-z]+| ?[0-9]+| ?[^\sA-Za-z0-9]+|\s+(?!\S)|\s+/g;
const META = '\u2581';

export interface SplitterOptions {
  kind: SplitKind;
  /** The tokenizer.json "normalizer" the text goes through first. */
  normalizer: Json | null;
  /** What that normalizer does to a PLAIN line (test/engine/tokenizer-training/files.test.ts checks it). */
  plain: (text: string) => string;
}

function add(counts: Map<string, number>, word: string): void {
  counts.set(word, (counts.get(word) ?? 0) + 1);
}

/**
 * Metaspace (replacement ▁, prepend_scheme always, split): ▁ for spaces, one word per ▁. A PLAIN
 * line (no ▁ in it) is counted with its spaces standing for ▁, as one-byte strings that are
 * cheaper to slice and hash; `finish` turns them into ▁ once per distinct word (a word of any
 * other line has no space left, so the two forms of a word merge into one count).
 */
function metaspaceWords(text: string, plain: boolean, counts: Map<string, number>): void {
  if (text.length === 0) return;
  const mark = plain ? ' ' : META;
  let t = plain ? text : text.replaceAll(' ', META);
  if (!t.startsWith(mark)) t = mark + t;
  let start = 0;
  for (let i = t.indexOf(mark, 1); i !== -1; i = t.indexOf(mark, i + 1)) {
    add(counts, t.slice(start, i));
    start = i;
  }
  add(counts, t.slice(start));
}

export function wordSplitter(options: SplitterOptions): WordSplitter {
  const full: AlignedNormalizer | null = buildNormalizer(options.normalizer);
  const normalize = (text: string, plain: boolean) =>
    plain ? options.plain(text) : full ? full(identity(text)).text : text;
  /** Counts the matches of the ASCII regex on a PLAIN text, of the Unicode one otherwise. */
  const matches = (text: string, counts: Map<string, number>, ascii: RegExp, unicode: RegExp) => {
    const plain = PLAIN.test(text);
    for (const m of normalize(text, plain).matchAll(plain ? ascii : unicode)) if (m[0].length > 0) add(counts, m[0]);
  };
  switch (options.kind) {
    case 'bert':
      return { count: (text, counts) => matches(text, counts, BERT_SPLIT_ASCII, BERT_SPLIT), finish: (w) => w };
    case 'byte-level':
      return { count: (text, counts) => matches(text, counts, GPT2_SPLIT_ASCII, GPT2_SPLIT), finish: byteLevelText };
    case 'metaspace':
      return {
        count: (text, counts) => {
          const plain = PLAIN.test(text);
          metaspaceWords(normalize(text, plain), plain, counts);
        },
        finish: (w) => w.replaceAll(' ', META),
      };
  }
}

const PLAIN_SPACES = /[\t\n\r]/g;

/** The plain-line normalizers of the layouts. */
export const plainNormalizers = {
  identity: (t: string) => t,
  lowercase: (t: string) => t.toLowerCase(),
  /** Nmt's tab and line ends to spaces, then runs of spaces squeezed (SentencePiece). */
  sentencePiece: (t: string) => t.replace(PLAIN_SPACES, ' ').replace(SPACE_RUNS, ' '),
  sentencePieceLowercase: (t: string) => t.replace(PLAIN_SPACES, ' ').replace(SPACE_RUNS, ' ').toLowerCase(),
};
