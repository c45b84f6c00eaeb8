import { type NgramModel, trainNgramFrom } from './model.js';
import type { ModelOptions } from './smoothing.js';
import { BOS, EOS, type Lines, NgramError, tokenize, UNK } from './tokens.js';

export interface PerplexityResult {
  /** exp(-(1/M) Σ log p(w_i | h)); Infinity when some token has probability 0. */
  perplexity: number;
  /** M: evaluation tokens, every word and each sentence's `</s>`. */
  tokens: number;
  /** Evaluation words outside the training vocabulary (scored as `<unk>`; `</s>` never counts). */
  oov: number;
  /** Tokens the model gives probability 0 (MLE with an unseen event); perplexity is Infinity when > 0. */
  zeroProbTokens: number;
}

/** Accumulates log-probabilities line by line, so evaluation text is streamed, never held whole. */
export class PerplexityMeter {
  private seq = new Int32Array(64);
  private logSum = 0;
  private tokens = 0;
  private oov = 0;
  private zero = 0;

  constructor(private readonly model: NgramModel) {}

  /** Scores one line as a sentence (padded like training); a line without tokens is skipped. */
  addLine(line: string): void {
    const words = tokenize(line);
    if (words.length === 0) return;
    const pad = this.model.order - 1;
    const length = pad + words.length + 1;
    if (this.seq.length < length) this.seq = new Int32Array(length * 2);
    const seq = this.seq;
    seq.fill(BOS, 0, pad);
    for (let j = 0; j < words.length; j++) {
      let id = this.model.vocab.lookup(words[j] as string);
      if (id < 0) {
        id = UNK;
        this.oov++;
      }
      seq[pad + j] = id;
    }
    seq[length - 1] = EOS;
    for (let i = pad; i < length; i++) {
      const p = this.model.probAt(seq, i);
      if (p > 0) this.logSum += Math.log(p);
      else this.zero++;
    }
    this.tokens += length - pad;
  }

  result(): PerplexityResult {
    if (this.tokens === 0) throw new NgramError('evaluation text has no tokens (every line is empty)');
    const perplexity = this.zero > 0 ? Number.POSITIVE_INFINITY : Math.exp(-this.logSum / this.tokens);
    return { perplexity, tokens: this.tokens, oov: this.oov, zeroProbTokens: this.zero };
  }
}

/** Perplexity of a trained model on lines from any source (an array, a generator, a file stream). */
export async function evaluatePerplexity(model: NgramModel, lines: Lines): Promise<PerplexityResult> {
  const meter = new PerplexityMeter(model);
  if (Symbol.iterator in lines) for (const line of lines) meter.addLine(line);
  else for await (const line of lines) meter.addLine(line);
  return meter.result();
}

export interface NgramPerplexityOptions extends ModelOptions {
  trainLines: Lines;
  evalLines: Lines;
}

/**
 * Trains an n-gram model on `trainLines` and returns its perplexity on `evalLines` (the causal-lm
 * trainer's baseline: order 3, modified-kneser-ney). Bad options, empty text, or a corpus too small
 * for modified-KN's discounts throw an NgramError saying which.
 */
export async function ngramPerplexity(options: NgramPerplexityOptions): Promise<PerplexityResult> {
  const { trainLines, evalLines, ...modelOptions } = options;
  const model = await trainNgramFrom(trainLines, modelOptions);
  return evaluatePerplexity(model, evalLines);
}
