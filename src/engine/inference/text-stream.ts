/**
 * Turns generated token ids into text deltas as they arrive, for streaming. Byte-level BPE splits
 * a multi-byte character (an emoji, most CJK) across tokens; decoding a prefix that ends inside
 * one gives U+FFFD for the partial bytes. The delta is therefore held back while the decoded text
 * ends in U+FFFD, and while it does not extend what was already emitted (a decoder that rewrites
 * earlier text once it sees more), so no half character is ever sent and the deltas concatenate
 * to exactly `finish()`'s full text.
 */
export class TextStream {
  private readonly ids: number[] = [];
  private emitted = '';

  constructor(private readonly decode: (ids: readonly number[]) => string) {}

  /** The new token's text, or '' while it is held back. */
  push(id: number): string {
    this.ids.push(id);
    const text = this.decode(this.ids);
    if (text.endsWith('\uFFFD') || !text.startsWith(this.emitted)) return '';
    return this.take(text);
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
