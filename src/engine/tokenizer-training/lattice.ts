// The segmentation lattice of one word under a unigram model, as tokenizers/src/models/unigram/
// lattice.rs builds it: a node per vocabulary piece starting at each character (shortest first),
// the unknown piece where no one-character piece exists, Viterbi (first best wins ties) and the
// forward-backward marginals of the EM step.
//
// The trainer builds a lattice per distinct word several times a round, so nothing here slices
// strings or allocates per node: pieces sit in a trie of character keys, words are read as those
// keys once (charKeys), and a lattice is flat typed arrays that the next word reuses.

/**
 * A word's characters as integer keys: a UTF-16 unit is its own key, a high surrogate followed
 * by another unit one key above 0xFFFF (the split the lattice has always used, so a piece matches
 * exactly the substrings it equals).
 */
export function charKeys(word: string): Int32Array {
  const out = new Int32Array(word.length);
  let n = 0;
  for (let i = 0; i < word.length; ) {
    const c = word.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < word.length) {
      out[n++] = 0x10000 + (c - 0xd800) * 0x10000 + word.charCodeAt(i + 1);
      i += 2;
    } else {
      out[n++] = c;
      i += 1;
    }
  }
  return out.subarray(0, n);
}

/** Pieces by their character keys: the trie the Rust lattice walks (common prefix search). */
class PieceTrie {
  /** Per node: its last character, first child, next sibling, piece id (-1 none). Node 0 is the root. */
  private label = new Int32Array(1024);
  private firstChild = new Int32Array(1024).fill(-1);
  private nextSibling = new Int32Array(1024).fill(-1);
  private piece = new Int32Array(1024).fill(-1);
  private size = 1;
  /** The root's children by key (the root is as wide as the alphabet; other nodes are narrow). */
  private readonly roots = new Map<number, number>();

  insert(keys: Int32Array, id: number): void {
    let node = 0;
    for (const key of keys) {
      let next = this.child(node, key);
      if (next < 0) {
        next = this.add(key);
        if (node === 0) this.roots.set(key, next);
        else {
          this.nextSibling[next] = this.firstChild[node] as number;
          this.firstChild[node] = next;
        }
      }
      node = next;
    }
    // As a map from strings: a later duplicate wins.
    this.piece[node] = id;
  }

  /** The child of `node` along `key`, or -1. */
  child(node: number, key: number): number {
    if (node === 0) return this.roots.get(key) ?? -1;
    for (let c = this.firstChild[node] as number; c >= 0; c = this.nextSibling[c] as number) {
      if (this.label[c] === key) return c;
    }
    return -1;
  }

  pieceAt(node: number): number {
    return this.piece[node] as number;
  }

  private add(key: number): number {
    if (this.size === this.label.length) {
      const grow = (a: Int32Array, fill: number) => {
        const b = new Int32Array(a.length * 2).fill(fill);
        b.set(a);
        return b;
      };
      this.label = grow(this.label, 0);
      this.firstChild = grow(this.firstChild, -1);
      this.nextSibling = grow(this.nextSibling, -1);
      this.piece = grow(this.piece, -1);
    }
    const node = this.size++;
    this.label[node] = key;
    return node;
  }
}

/** A unigram model being trained: pieces by id with their log probabilities. */
export class PieceModel {
  readonly ids = new Map<string, number>();
  readonly trie = new PieceTrie();
  readonly scores: Float64Array;
  readonly unkScore: number;

  /** `pieces[0]` is the unknown piece (score NaN), left out of lookups as the trainer's <UNK>. */
  constructor(
    readonly pieces: readonly (readonly [string, number])[],
    readonly maxPieceLength: number,
  ) {
    this.scores = new Float64Array(pieces.length);
    let min = Number.POSITIVE_INFINITY;
    for (const [i, [piece, score]] of pieces.entries()) {
      this.scores[i] = score;
      if (i > 0) {
        this.ids.set(piece, i);
        this.trie.insert(charKeys(piece), i);
      }
      if (score < min) min = score;
    }
    this.unkScore = min - 10; // K_UNK_PENALTY
  }
}

/** Nodes in the order the Rust lattice makes them: by first character, then by length. */
export class Lattice {
  /** Characters of the word. */
  n = 0;
  /** Nodes. */
  count = 0;
  /** Per node: first character, length in characters, piece id, score. */
  starts = new Int32Array(256);
  lengths = new Int32Array(256);
  ids = new Int32Array(256);
  scores = new Float64Array(256);
  /** Nodes beginning at character p are beginFrom[p] .. beginFrom[p + 1] - 1. */
  beginFrom = new Int32Array(64);
  /** Nodes ending at character p are endNodes[endFrom[p] .. endFrom[p + 1] - 1], in node order. */
  endFrom = new Int32Array(64);
  endNodes = new Int32Array(256);
  /** Per position: log of the paths' total weight before it (alpha) and after it (beta). */
  alpha = new Float64Array(64);
  beta = new Float64Array(64);

  /** Empties the lattice for a word of n characters, with room for `nodes` nodes. */
  reset(n: number, nodes: number): void {
    this.n = n;
    this.count = 0;
    if (nodes > this.ids.length) {
      const size = Math.max(nodes, this.ids.length * 2);
      this.starts = new Int32Array(size);
      this.lengths = new Int32Array(size);
      this.ids = new Int32Array(size);
      this.scores = new Float64Array(size);
      this.endNodes = new Int32Array(size);
    }
    if (n + 2 > this.beginFrom.length) {
      const size = Math.max(n + 2, this.beginFrom.length * 2);
      this.beginFrom = new Int32Array(size);
      this.endFrom = new Int32Array(size);
      this.alpha = new Float64Array(size);
      this.beta = new Float64Array(size);
    }
  }

  push(start: number, length: number, id: number, score: number): void {
    const k = this.count++;
    this.starts[k] = start;
    this.lengths[k] = length;
    this.ids[k] = id;
    this.scores[k] = score;
  }

  /** Fills the begin and end indexes once every node is pushed. */
  index(): void {
    const { n, count, starts, lengths, beginFrom, endFrom, endNodes } = this;
    beginFrom.fill(0, 0, n + 2);
    endFrom.fill(0, 0, n + 2);
    for (let k = 0; k < count; k++) {
      const b = (starts[k] as number) + 1;
      const e = b + (lengths[k] as number);
      beginFrom[b] = (beginFrom[b] as number) + 1;
      endFrom[e] = (endFrom[e] as number) + 1;
    }
    for (let p = 1; p <= n + 1; p++) {
      beginFrom[p] = (beginFrom[p] as number) + (beginFrom[p - 1] as number);
      endFrom[p] = (endFrom[p] as number) + (endFrom[p - 1] as number);
    }
    // endFrom[p] serves as the fill cursor of position p, ending at p + 1's start, then shifted back.
    for (let k = 0; k < count; k++) {
      const e = (starts[k] as number) + (lengths[k] as number);
      const at = endFrom[e] as number;
      endNodes[at] = k;
      endFrom[e] = at + 1;
    }
    for (let p = n + 1; p > 0; p--) endFrom[p] = endFrom[p - 1] as number;
    endFrom[0] = 0;
  }
}

/**
 * Builds the lattice of `word` (a string, or its charKeys); `skip` (a node start and length) is
 * left out, for the second-best path. `into` is reused when given.
 */
export function buildLattice(
  model: PieceModel,
  word: string | Int32Array,
  skip?: [number, number],
  into: Lattice = new Lattice(),
): Lattice {
  const keys = typeof word === 'string' ? charKeys(word) : word;
  const n = keys.length;
  const maxPieceLength = model.maxPieceLength;
  const lat = into;
  lat.reset(n, n * (Math.min(maxPieceLength, n) + 1));
  const trie = model.trie;
  for (let s = 0; s < n; s++) {
    let single = false;
    const maxLen = Math.min(maxPieceLength, n - s);
    let node = 0;
    for (let len = 1; len <= maxLen; len++) {
      node = trie.child(node, keys[s + len - 1] as number);
      if (node < 0) break;
      const id = trie.pieceAt(node);
      if (id >= 0 && !(skip && skip[0] === s && skip[1] === len)) {
        lat.push(s, len, id, model.scores[id] as number);
        if (len === 1) single = true;
      }
    }
    if (!single) lat.push(s, 1, 0, model.unkScore);
  }
  lat.index();
  return lat;
}

/** The best segmentation's node indexes, in order (empty when the word cannot be segmented). */
export function viterbi(lat: Lattice): number[] {
  const { n, count, scores, beginFrom, endFrom, endNodes } = lat;
  const best = new Float64Array(count);
  const prev = new Int32Array(count).fill(-2); // -1: the start of the word
  for (let pos = 0; pos <= n; pos++) {
    for (let r = beginFrom[pos] as number; r < (beginFrom[pos + 1] as number); r++) {
      if (pos === 0) {
        best[r] = scores[r] as number;
        prev[r] = -1;
        continue;
      }
      let chosen = -2;
      let score = 0;
      for (let j = endFrom[pos] as number; j < (endFrom[pos + 1] as number); j++) {
        const l = endNodes[j] as number;
        if (prev[l] === -2) continue;
        const s = (best[l] as number) + (scores[r] as number);
        if (chosen === -2 || s > score) {
          chosen = l;
          score = s;
        }
      }
      if (chosen !== -2) {
        best[r] = score;
        prev[r] = chosen;
      }
    }
  }
  let last = -2;
  let score = 0;
  for (let j = endFrom[n] as number; j < (endFrom[n + 1] as number); j++) {
    const l = endNodes[j] as number;
    if (prev[l] === -2) continue;
    if (last === -2 || (best[l] as number) > score) {
      last = l;
      score = best[l] as number;
    }
  }
  const path: number[] = [];
  for (let k = last; k >= 0; k = prev[k] as number) path.push(k);
  return path.reverse();
}

function logSumExp(x: number, y: number, init: boolean): number {
  if (init) return y;
  // Ordered as the Rust code does (not Math.min/max, which differ from it on NaN).
  let lo = x;
  let hi = y;
  if (x > y) {
    lo = y;
    hi = x;
  }
  return hi > lo + 50 ? hi : hi + Math.log(Math.exp(lo - hi) + 1);
}

/**
 * Adds `freq` times each node's marginal probability to `expected[id]`; returns log Z. The Rust
 * lattice gives every node beginning at a position the same alpha (and every node ending at one
 * the same beta), computed by the same sums in the same order: computed here once per position.
 */
export function addMarginals(lat: Lattice, freq: number, expected: Float64Array): number {
  const { n, count, starts, lengths, ids, scores, beginFrom, endFrom, endNodes, alpha, beta } = lat;
  alpha[0] = 0;
  for (let pos = 1; pos <= n; pos++) {
    let a = 0;
    let first = true;
    for (let j = endFrom[pos] as number; j < (endFrom[pos + 1] as number); j++) {
      const l = endNodes[j] as number;
      a = logSumExp(a, (scores[l] as number) + (alpha[starts[l] as number] as number), first);
      first = false;
    }
    alpha[pos] = a;
  }
  beta[n] = 0;
  for (let pos = n - 1; pos > 0; pos--) {
    let b = 0;
    let first = true;
    for (let r = beginFrom[pos] as number; r < (beginFrom[pos + 1] as number); r++) {
      b = logSumExp(b, (scores[r] as number) + (beta[(starts[r] as number) + (lengths[r] as number)] as number), first);
      first = false;
    }
    beta[pos] = b;
  }
  const z = alpha[n] as number;
  for (let k = 0; k < count; k++) {
    const id = ids[k] as number;
    const s = starts[k] as number;
    expected[id] =
      (expected[id] as number) +
      freq * Math.exp((alpha[s] as number) + (scores[k] as number) + (beta[s + (lengths[k] as number)] as number) - z);
  }
  return z;
}
