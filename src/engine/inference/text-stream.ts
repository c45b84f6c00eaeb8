/**
 * Turns generated token ids into text deltas as they arrive, for streaming, and watches for stop
 * strings.
 *
 * Byte-level BPE splits a multi-byte character (an emoji, most CJK) across tokens; decoding a
 * prefix that ends inside one gives U+FFFD for the partial bytes. The delta is therefore held back
 * while the decoded text ends in U+FFFD, and while it does not extend what was already emitted (a
 * decoder that rewrites earlier text once it sees more), so no half character is ever sent.
 *
 * Stop strings (OpenAI's / vLLM's `stop`, include_stop_str_in_output=false) are matched in the
 * decoded text, so one that spans several tokens, or ends inside a character split over tokens,
 * is found once its last byte is generated. The text's end that is a prefix of some stop string is
 * held back too: a delta is never text that later turns out to start a stop string. Once one
 * matches, `stopAt` is its index and the reply is the text before it. Either way the deltas
 * concatenate to exactly `finish()`'s full text.
 */
export class TextStream {
  private readonly ids: number[] = [];
  private emitted = '';
  /** Index in the decoded text of the first stop string found, or -1. */
  stopAt = -1;

  constructor(
    private readonly decode: (ids: readonly number[]) => string,
    private readonly stopStrings: readonly string[] = [],
  ) {}

  /** The new token's text, or '' while it is held back (always '' once a stop string matched). */
  push(id: number): string {
    if (this.stopAt >= 0) return '';
    this.ids.push(id);
    const text = this.decode(this.ids);
    this.stopAt = firstStop(text, this.stopStrings);
    if (this.stopAt >= 0) return '';
    if (text.endsWith('\uFFFD') || !text.startsWith(this.emitted)) return '';
    const safe = text.slice(0, text.length - stopPrefixLength(text, this.stopStrings));
    return safe.length > this.emitted.length ? this.take(safe) : '';
  }

  /** What is still held back, given the final text of the whole generation. */
  finish(finalText: string): string {
    // A final text that does not extend the deltas cannot be reconciled; never seen with the
    // tokenizer decoders we support, and the deltas already sent cannot be taken back.
    return finalText.startsWith(this.emitted) ? this.take(finalText) : '';
  }

  private take(text: string): string {
    const delta = text.slice(this.emitted.length);
    this.emitted = text;
    return delta;
  }
}

/** Index of the earliest occurrence of any stop string in `text`, or -1 (vLLM stops at the first). */
export function firstStop(text: string, stopStrings: readonly string[]): number {
  let first = -1;
  for (const stop of stopStrings) {
    const at = text.indexOf(stop);
    if (at >= 0 && (first < 0 || at < first)) first = at;
  }
  return first;
}

/** Length of the longest end of `text` that is a proper prefix of some stop string (what may still become one). */
export function stopPrefixLength(text: string, stopStrings: readonly string[]): number {
  let longest = 0;
  for (const stop of stopStrings) {
    for (let k = Math.min(stop.length - 1, text.length); k > longest; k--) {
      if (text.endsWith(stop.slice(0, k))) {
        longest = k;
        break;
      }
    }
  }
  return longest;
}
