/**
 * A hash table from a pair of non-negative int32 (the id of an n-gram's first k-1 tokens, its last
 * token) to a dense id 0, 1, 2, ... in insertion order: every k-gram of a corpus becomes one small
 * integer, chained level by level, so counts live in typed arrays indexed by that id instead of
 * in maps of strings. Open addressing with linear probing; slots hold ids, and the pair of each id
 * is kept once in `prefix`/`last`, which also lets a caller walk from an n-gram to its history.
 */
export class PairTable {
  /** Per id: the first part of the pair (for an n-gram, the id of its history). */
  prefix: Int32Array;
  /** Per id: the second part of the pair (for an n-gram, its last token). */
  last: Int32Array;
  size = 0;
  private slots: Int32Array;
  private mask: number;

  constructor(expected = 1024) {
    let capacity = 16;
    while (capacity < expected * 2) capacity *= 2;
    this.slots = new Int32Array(capacity).fill(-1);
    this.mask = capacity - 1;
    this.prefix = new Int32Array(Math.max(16, expected));
    this.last = new Int32Array(Math.max(16, expected));
  }

  /** The id of (a, b), or -1 when the pair was never inserted. */
  find(a: number, b: number): number {
    const { slots, mask, prefix, last } = this;
    let s = hash(a, b) & mask;
    for (;;) {
      const id = slots[s] as number;
      if (id < 0) return -1;
      if (prefix[id] === a && last[id] === b) return id;
      s = (s + 1) & mask;
    }
  }

  /** The id of (a, b), given the next free id when the pair is new. */
  insert(a: number, b: number): number {
    const { slots, mask, prefix, last } = this;
    let s = hash(a, b) & mask;
    for (;;) {
      const id = slots[s] as number;
      if (id < 0) break;
      if (prefix[id] === a && last[id] === b) return id;
      s = (s + 1) & mask;
    }
    const id = this.size++;
    if (id === this.prefix.length) this.growPairs();
    this.prefix[id] = a;
    this.last[id] = b;
    slots[s] = id;
    // Half full at most: linear probing stays short.
    if (this.size * 2 > slots.length) this.rehash();
    return id;
  }

  private growPairs(): void {
    const n = this.prefix.length * 2;
    const prefix = new Int32Array(n);
    prefix.set(this.prefix);
    const last = new Int32Array(n);
    last.set(this.last);
    this.prefix = prefix;
    this.last = last;
  }

  private rehash(): void {
    const slots = new Int32Array(this.slots.length * 2).fill(-1);
    const mask = slots.length - 1;
    for (let id = 0; id < this.size; id++) {
      let s = hash(this.prefix[id] as number, this.last[id] as number) & mask;
      while ((slots[s] as number) >= 0) s = (s + 1) & mask;
      slots[s] = id;
    }
    this.slots = slots;
    this.mask = mask;
  }
}

/** 32-bit mix of two ints (multiply-xorshift), so consecutive ids spread over the slots. */
function hash(a: number, b: number): number {
  let h = Math.imul(a, 0x9e3779b1) ^ Math.imul(b + 0x7f4a7c15, 0x85ebca77);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  return h >>> 0;
}
