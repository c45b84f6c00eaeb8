import type { QaExample } from '../../data/records.js';
import type { Tokenizer } from '../../tokenize/index.js';

/**
 * Extractive question answering preprocessing, as Hugging Face's run_qa.py does it: the question
 * and the context are encoded as a pair with only the context truncated (`only_second`; a
 * tokenizer that pads on the left, XLNet's, takes the context first and truncates `only_first`), a context
 * longer than the window is cut into overlapping windows (`doc_stride` tokens shared), and each
 * window gets the token positions of the answer, or the CLS position when it does not contain the
 * whole answer. A window keeps its example and the character offsets of its context tokens, so the
 * post-processing maps the windows' logits back to answer text in the original context.
 */
export interface QaWindow {
  inputIds: number[];
  tokenTypeIds: number[];
  /**
   * Token index of the answer's first / last token in the unpadded window; the CLS index when the
   * window lacks the answer. Left padding shifts them (the collator adds the padding).
   */
  startPosition: number;
  endPosition: number;
  /** [start, end) UTF-16 offsets in the context of each context token; null for question and specials. */
  offsets: ([number, number] | null)[];
  /** The word of each token within its sequence (the tokenizer's word_ids; null for specials). */
  wordIds: (number | null)[];
  /** The example this window is cut from (many windows share one). */
  example: QaExample;
  /** Which window of its example (0 = the first). */
  windowIndex: number;
}

export interface QaWindowOptions {
  /** Total window length, special tokens and question included. */
  maxLength: number;
  /** Tokens consecutive windows share (Hugging Face's doc_stride). */
  docStride: number;
}

/** Token positions of the answer in one window (HF's prepare_train_features, without its end-of-window quirk). */
export function answerPositions(
  offsets: readonly ([number, number] | null)[],
  startChar: number,
  endChar: number,
  clsIndex: number,
): { start: number; end: number } {
  let first = -1;
  let last = -1;
  offsets.forEach((o, t) => {
    if (o === null) return;
    if (first === -1) first = t;
    last = t;
  });
  const outside = { start: clsIndex, end: clsIndex };
  if (first === -1) return outside;
  const [windowStart] = offsets[first] as [number, number];
  const [, windowEnd] = offsets[last] as [number, number];
  if (!(windowStart <= startChar && windowEnd >= endChar)) return outside;
  // The last token starting at or before the answer's start, the first ending at or after its end.
  let start = first;
  for (let t = first; t <= last; t++) {
    const o = offsets[t];
    if (o && o[0] <= startChar) start = t;
  }
  let end = last;
  for (let t = last; t >= first; t--) {
    const o = offsets[t];
    if (o && o[1] >= endChar) end = t;
  }
  return { start, end };
}

/** The windows of one example; training and evaluation windows are the same. */
export function qaWindows(tokenizer: Tokenizer, e: QaExample, o: QaWindowOptions): QaWindow[] {
  // run_qa.py strips the left whitespace of questions: it only wastes tokens (and truncation room).
  const question = e.question.trimStart();
  // run_qa.py's pad_on_right: a tokenizer padding on the left (XLNet) takes the context first.
  const contextFirst = tokenizer.paddingSide === 'left';
  const contextIndex = contextFirst ? 0 : 1;
  let encodings: ReturnType<Tokenizer['encodeWithOverflow']>;
  try {
    encodings = tokenizer.encodeWithOverflow(question, e.context, {
      maxLength: o.maxLength,
      stride: o.docStride,
      contextFirst,
    });
  } catch (err) {
    const where = `${e.source.file}:${e.source.line}`;
    throw new Error(
      `${where}: ${(err as Error).message} (question answering: data.max_length ${o.maxLength}, data.doc_stride ${o.docStride})`,
    );
  }
  // Hugging Face trains on the first answer; evaluation scores against all of them.
  const answer = e.answers.text[0];
  const startChar = e.answers.answer_start[0];
  return encodings.map((enc, windowIndex) => {
    const offsets = enc.offsets.map((span, t) => (enc.sequenceIds[t] === contextIndex ? span : null));
    const cls = Math.max(0, tokenizer.clsTokenId === null ? 0 : enc.ids.indexOf(tokenizer.clsTokenId));
    const positions =
      answer === undefined || startChar === undefined
        ? { start: cls, end: cls }
        : answerPositions(offsets, startChar, startChar + answer.length, cls);
    return {
      inputIds: enc.ids,
      tokenTypeIds: enc.tokenTypeIds,
      startPosition: positions.start,
      endPosition: positions.end,
      offsets,
      wordIds: enc.wordIds,
      example: e,
      windowIndex,
    };
  });
}

/** The code point index of UTF-16 index `i` of `text` (SQuAD and Python count code points). */
export function codePointIndex(text: string, i: number): number {
  let n = 0;
  for (let k = 0; k < i && k < text.length; k++) {
    const unit = text.charCodeAt(k);
    // The second half of a surrogate pair does not start a code point.
    if (!(unit >= 0xdc00 && unit <= 0xdfff && k > 0 && isHighSurrogate(text.charCodeAt(k - 1)))) n++;
  }
  return n;
}

const isHighSurrogate = (unit: number) => unit >= 0xd800 && unit <= 0xdbff;
