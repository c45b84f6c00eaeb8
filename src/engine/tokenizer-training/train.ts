// `finetune tokenizer train`: streams the corpus into word counts, trains the model the type calls
// for and writes the tokenizer files.
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { trainBpe } from './bpe.js';
import { corpusFiles, corpusTexts, TokenizerTrainingError } from './corpus.js';
import { type Layout, layoutFor, type TokenizerType, type TrainedModel } from './layouts.js';
import { wordSplitter } from './pre-tokenize.js';
import { trainUnigram } from './unigram.js';

export interface TrainTokenizerOptions {
  type: TokenizerType;
  vocabSize: number;
  inputs: readonly string[];
  /** The text column of JSON-lines inputs. */
  textColumn: string;
  /** BPE and WordPiece: pairs seen fewer times are not merged. */
  minFrequency: number;
  lowercase: boolean;
  out: string;
  /** Called while reading (about every megabyte) and when each phase starts. */
  onProgress?: (p: TrainingProgress) => void;
}

export type TrainingProgress =
  | { phase: 'read'; bytes: number; totalBytes: number; texts: number; words: number }
  | { phase: 'train'; words: number };

export interface TrainTokenizerSummary {
  texts: number;
  bytes: number;
  /** Distinct words (pre-tokens) counted. */
  words: number;
  vocabSize: number;
  files: string[];
}

const PROGRESS_EVERY = 1 << 20;

/** Distinct words of the corpus with their counts, in first-seen order, as the model sees them. */
async function countWords(options: TrainTokenizerOptions, layout: Layout) {
  const files = await corpusFiles(options.inputs);
  let totalBytes = 0;
  for (const f of files) totalBytes += (await stat(f)).size;
  const splitter = wordSplitter(layout.splitter);
  const raw = new Map<string, number>();
  let bytes = 0;
  let texts = 0;
  let next = PROGRESS_EVERY;
  for await (const batch of corpusTexts(files, options.textColumn)) {
    for (const text of batch.lines) splitter.count(text, raw);
    texts += batch.lines.length;
    bytes += batch.bytes;
    if (bytes >= next && options.onProgress) {
      next = bytes + PROGRESS_EVERY;
      options.onProgress({ phase: 'read', bytes, totalBytes, texts, words: raw.size });
    }
  }
  if (raw.size === 0) {
    throw new TokenizerTrainingError(`${files.join(', ')}: the corpus has no text to train on (${texts} texts read)`);
  }
  const words = new Map<string, number>();
  for (const [w, n] of raw) {
    const key = splitter.finish(w);
    words.set(key, (words.get(key) ?? 0) + n);
  }
  return { words, texts, bytes };
}

function distinctChars(words: ReadonlyMap<string, number>): number {
  const chars = new Set<string>();
  for (const w of words.keys()) for (const ch of w) chars.add(ch);
  return chars.size;
}

function train(options: TrainTokenizerOptions, layout: Layout, words: Map<string, number>): TrainedModel {
  const specials = layout.specialTokens;
  if (options.type === 'unigram') {
    const needed = specials.length + distinctChars(words);
    if (options.vocabSize < needed) {
      throw new TokenizerTrainingError(
        `--vocab-size ${options.vocabSize} is below the ${needed} tokens the alphabet alone takes ` +
          `(${specials.length} special tokens and the corpus's ${needed - specials.length} characters)`,
      );
    }
    const result = trainUnigram(words, {
      vocabSize: options.vocabSize,
      specialTokens: specials,
      unkToken: layout.unkToken,
    });
    return { kind: 'Unigram', ...result };
  }
  const result = trainBpe(words, {
    vocabSize: options.vocabSize,
    minFrequency: options.minFrequency,
    specialTokens: specials,
    initialAlphabet: layout.initialAlphabet,
    limitAlphabet: layout.limitAlphabet,
    continuingSubwordPrefix: layout.continuingSubwordPrefix,
  });
  if (result.vocab.length > options.vocabSize) {
    const forms = layout.continuingSubwordPrefix ? `, and their ${layout.continuingSubwordPrefix} forms` : '';
    throw new TokenizerTrainingError(
      `--vocab-size ${options.vocabSize} is below the ${result.vocab.length} tokens the alphabet alone takes ` +
        `(${specials.length} special tokens, ${result.alphabetSize} characters${forms})`,
    );
  }
  if (options.type === 'wordpiece') return { kind: 'WordPiece', vocab: result.vocab };
  return { kind: 'BPE', vocab: result.vocab, merges: result.merges };
}

export async function trainTokenizer(options: TrainTokenizerOptions): Promise<TrainTokenizerSummary> {
  const layout = layoutFor(options.type, options.lowercase);
  const { words, texts, bytes } = await countWords(options, layout);
  options.onProgress?.({ phase: 'train', words: words.size });
  const model = train(options, layout, words);
  const files = layout.files(model);
  await mkdir(options.out, { recursive: true });
  for (const [name, text] of Object.entries(files)) await writeFile(join(options.out, name), text);
  const vocabSize = model.kind === 'Unigram' ? model.pieces.length : model.vocab.length;
  return { texts, bytes, words: words.size, vocabSize, files: Object.keys(files) };
}
