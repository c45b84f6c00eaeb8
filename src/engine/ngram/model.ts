import { countLevels, type Level } from './counts.js';
import { checkOptions, DEFAULT_K, discountsOf, type ModelOptions, probability, type Smoothing } from './smoothing.js';
import { BOS, Corpus, type Lines, NgramError, UNK, type Vocabulary } from './tokens.js';

/** A trained n-gram language model: counts of every order, discounts, and p(w | h). */
export class NgramModel {
  readonly order: number;
  readonly smoothing: Smoothing;
  readonly vocab: Vocabulary;
  /** Per order k (index k-1): [D1, D2, D3+]; empty for MLE and add-k. */
  readonly discounts: [number, number, number][];
  /** Tokens of the training text at predicted positions (words and `</s>`). */
  readonly trainTokens: number;
  private readonly addK: number;

  private constructor(
    options: ModelOptions,
    corpus: Corpus,
    readonly levels: readonly Level[],
  ) {
    this.order = options.order;
    this.smoothing = options.smoothing;
    this.vocab = corpus.vocab;
    this.trainTokens = corpus.predicted;
    this.addK = options.k ?? DEFAULT_K;
    this.discounts = discountsOf(options, levels);
  }

  /** Counts a filled corpus (padded for `options.order`). */
  static fromCorpus(corpus: Corpus, options: ModelOptions): NgramModel {
    checkOptions(options);
    if (corpus.order !== options.order) {
      throw new NgramError(`corpus is padded for order ${corpus.order}, model asks for order ${options.order}`);
    }
    if (corpus.sentences === 0) throw new NgramError('training text has no tokens (every line is empty)');
    const kn = options.smoothing === 'kneser-ney' || options.smoothing === 'modified-kneser-ney';
    return new NgramModel(options, corpus, countLevels(corpus, kn));
  }

  /** |V|: training words + `</s>` + `<unk>`. */
  get vocabSize(): number {
    return this.vocab.size;
  }

  /** p(seq[i] | seq[i-order+1 .. i-1]) over token ids, the history padded with `<s>` (id 0). */
  probAt(seq: Int32Array, i: number): number {
    return probability(this.smoothing, this.levels, this.discounts, this.vocab.size, this.addK, seq, i);
  }

  /**
   * p(word | history) with words as strings: `history` is exactly order-1 tokens, where "<s>"
   * means the padding; words outside V stand for `<unk>`.
   */
  prob(word: string, history: readonly string[]): number {
    if (history.length !== this.order - 1) {
      throw new NgramError(`an order-${this.order} history has ${this.order - 1} tokens, got ${history.length}`);
    }
    const seq = Int32Array.from([...history, word], (w) => (w === '<s>' ? BOS : this.idOf(w)));
    return this.probAt(seq, this.order - 1);
  }

  /** Id of an evaluation word: its V id, or `<unk>`'s. */
  idOf(word: string): number {
    const id = this.vocab.lookup(word);
    return id < 0 ? UNK : id;
  }
}

/** Trains on lines held in memory (an array or a generator). */
export function trainNgram(lines: Iterable<string>, options: ModelOptions): NgramModel {
  checkOptions(options);
  const corpus = new Corpus(options.order);
  for (const line of lines) corpus.addLine(line);
  return NgramModel.fromCorpus(corpus, options);
}

/** Trains on lines from any source, e.g. a file stream ({@link fileLines}). */
export async function trainNgramFrom(lines: Lines, options: ModelOptions): Promise<NgramModel> {
  if (Symbol.iterator in lines) return trainNgram(lines, options);
  checkOptions(options);
  const corpus = new Corpus(options.order);
  for await (const line of lines) corpus.addLine(line);
  return NgramModel.fromCorpus(corpus, options);
}
