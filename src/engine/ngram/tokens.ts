/** Lines of a corpus: an array, a generator, or an async stream such as util/text-lines' fileLines. */
export type Lines = Iterable<string> | AsyncIterable<string>;

/** Bad n-gram input or options: the message names the file, the order or the count at fault. */
export class NgramError extends Error {}

/** Token ids reserved ahead of the words: the padding `<s>`, the end `</s>` and `<unk>`. */
export const BOS = 0;
export const EOS = 1;
export const UNK = 2;

/** The words of one line: lower-cased, split on whitespace, empty strings dropped. */
export function tokenize(line: string): string[] {
  return line
    .toLowerCase()
    .split(/\s+/)
    .filter((w) => w.length > 0);
}

/**
 * The training vocabulary V as string -> id. `</s>` and `<unk>` are members from the start; the
 * padding `<s>` is not, so V's size is `size` and a literal "<s>" in the text is an ordinary word
 * (a fresh id), never confused with the padding that the counts treat specially.
 */
export class Vocabulary {
  private readonly ids = new Map<string, number>([
    ['</s>', EOS],
    ['<unk>', UNK],
  ]);
  private readonly words: string[] = ['<s>', '</s>', '<unk>'];

  /** |V|: training words + `</s>` + `<unk>`. */
  get size(): number {
    return this.ids.size;
  }

  /** One past the largest id (ids are dense from 0, `<s>` included): the length of per-word arrays. */
  get idLimit(): number {
    return this.words.length;
  }

  /** Id of a training word, adding it to V when new. */
  add(word: string): number {
    let id = this.ids.get(word);
    if (id === undefined) {
      id = this.words.length;
      this.ids.set(word, id);
      this.words.push(word);
    }
    return id;
  }

  /** Id of an evaluation word, or -1 when it is outside V (the caller maps it to `<unk>`). */
  lookup(word: string): number {
    return this.ids.get(word) ?? -1;
  }

  /** The words of V in id order (`</s>` and `<unk>` included, `<s>` not). */
  members(): string[] {
    return this.words.slice(1);
  }

  wordOf(id: number): string {
    const w = this.words[id];
    if (w === undefined) throw new RangeError(`no word with id ${id}`);
    return w;
  }
}

/** Growable Int32Array: the corpus is appended one sentence at a time without JS arrays of numbers. */
export class IntBuffer {
  data: Int32Array;
  length = 0;

  constructor(capacity = 1024) {
    this.data = new Int32Array(capacity);
  }

  push(value: number): void {
    if (this.length === this.data.length) {
      const bigger = new Int32Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = value;
  }

  /** The filled part (a view, no copy). */
  view(): Int32Array {
    return this.data.subarray(0, this.length);
  }
}

/**
 * The training text as one integer array: each sentence is `order - 1` paddings, its words and
 * `</s>`, and `starts` holds where each sentence begins (plus the end), so that n-gram windows
 * never cross from one sentence into the next.
 */
export class Corpus {
  readonly vocab = new Vocabulary();
  readonly tokens = new IntBuffer(1 << 16);
  readonly starts = new IntBuffer(1 << 10);
  /** Tokens at predicted positions (words and `</s>`), the padding excluded. */
  predicted = 0;

  constructor(readonly order: number) {}

  /** Appends one line; a line without tokens is skipped. */
  addLine(line: string): void {
    const words = tokenize(line);
    if (words.length === 0) return;
    this.starts.push(this.tokens.length);
    for (let i = 1; i < this.order; i++) this.tokens.push(BOS);
    for (const w of words) this.tokens.push(this.vocab.add(w));
    this.tokens.push(EOS);
    this.predicted += words.length + 1;
  }

  get sentences(): number {
    return this.starts.length;
  }

  /** Sentence boundaries with the end appended: sentence s spans [bounds[s], bounds[s + 1]). */
  bounds(): Int32Array {
    const b = new Int32Array(this.starts.length + 1);
    b.set(this.starts.view());
    b[this.starts.length] = this.tokens.length;
    return b;
  }
}
