// The segmentation lattice of one word under a unigram model, as tokenizers/src/models/unigram/
// lattice.rs builds it: a node per vocabulary piece starting at each character (shortest first),
// the unknown piece where no one-character piece exists, Viterbi (first best wins ties) and the
// forward-backward marginals of the EM step.

/** A unigram model being trained: pieces by id with their log probabilities. */
export class PieceModel {
  readonly ids = new Map<string, number>();
  /** Every proper prefix of a piece: a lattice stops extending a substring that is none (the trie's walk). */
  readonly prefixes = new Set<string>();
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
        for (let k = 1; k < piece.length; k++) this.prefixes.add(piece.slice(0, k));
      }
      if (score < min) min = score;
    }
    this.unkScore = min - 10; // K_UNK_PENALTY
  }
}

export interface Lattice {
  /** Per node: first character, length in characters, piece id, score. */
  starts: number[];
  lengths: number[];
  ids: number[];
  scores: number[];
  /** Node indexes beginning / ending at each character position 0..n. */
  begin: number[][];
  end: number[][];
  n: number;
}

/** The code points of a word and each one's UTF-16 offset (plus the end). */
function offsets(word: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < word.length; ) {
    out.push(i);
    const c = word.charCodeAt(i);
    i += c >= 0xd800 && c <= 0xdbff && i + 1 < word.length ? 2 : 1;
  }
  out.push(word.length);
  return out;
}

/** Builds the lattice; `skip` (a node start and length) is left out, for the second-best path. */
export function buildLattice(model: PieceModel, word: string, skip?: [number, number]): Lattice {
  const off = offsets(word);
  const n = off.length - 1;
  const lat: Lattice = { starts: [], lengths: [], ids: [], scores: [], begin: [], end: [], n };
  for (let i = 0; i <= n; i++) {
    lat.begin.push([]);
    lat.end.push([]);
  }
  const push = (start: number, length: number, id: number, score: number) => {
    const k = lat.ids.length;
    lat.starts.push(start);
    lat.lengths.push(length);
    lat.ids.push(id);
    lat.scores.push(score);
    (lat.begin[start] as number[]).push(k);
    (lat.end[start + length] as number[]).push(k);
  };
  for (let s = 0; s < n; s++) {
    let single = false;
    const maxLen = Math.min(model.maxPieceLength, n - s);
    for (let len = 1; len <= maxLen; len++) {
      const sub = word.slice(off[s], off[s + len]);
      const id = skip && skip[0] === s && skip[1] === len ? undefined : model.ids.get(sub);
      if (id !== undefined) {
        push(s, len, id, model.scores[id] as number);
        if (len === 1) single = true;
      }
      if (!model.prefixes.has(sub)) break;
    }
    if (!single) push(s, 1, 0, model.unkScore);
  }
  return lat;
}

/** The best segmentation's node indexes, in order (empty when the word cannot be segmented). */
export function viterbi(lat: Lattice): number[] {
  const best = new Float64Array(lat.ids.length);
  const prev = new Int32Array(lat.ids.length).fill(-2); // -1: the start of the word
  for (let pos = 0; pos <= lat.n; pos++) {
    for (const r of lat.begin[pos] ?? []) {
      if (pos === 0) {
        best[r] = lat.scores[r] as number;
        prev[r] = -1;
        continue;
      }
      let chosen = -2;
      let score = 0;
      for (const l of lat.end[pos] ?? []) {
        if (prev[l] === -2) continue;
        const s = (best[l] as number) + (lat.scores[r] as number);
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
  for (const l of lat.end[lat.n] ?? []) {
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
  const [lo, hi] = x > y ? [y, x] : [x, y];
  return hi > lo + 50 ? hi : hi + Math.log(Math.exp(lo - hi) + 1);
}

/** Adds `freq` times each node's marginal probability to `expected[id]`; returns log Z. */
export function addMarginals(lat: Lattice, freq: number, expected: Float64Array): number {
  const count = lat.ids.length;
  const alpha = new Float64Array(count);
  const beta = new Float64Array(count);
  for (let pos = 1; pos < lat.n; pos++) {
    for (const r of lat.begin[pos] ?? []) {
      let first = true;
      for (const l of lat.end[pos] ?? []) {
        alpha[r] = logSumExp(alpha[r] as number, (lat.scores[l] as number) + (alpha[l] as number), first);
        first = false;
      }
    }
  }
  for (let pos = lat.n - 1; pos > 0; pos--) {
    for (const l of lat.end[pos] ?? []) {
      let first = true;
      for (const r of lat.begin[pos] ?? []) {
        beta[l] = logSumExp(beta[l] as number, (lat.scores[r] as number) + (beta[r] as number), first);
        first = false;
      }
    }
  }
  let z = 0;
  let first = true;
  for (const l of lat.end[lat.n] ?? []) {
    z = logSumExp(z, (lat.scores[l] as number) + (alpha[l] as number), first);
    first = false;
  }
  for (let k = 0; k < count; k++) {
    const id = lat.ids[k] as number;
    expected[id] =
      (expected[id] as number) +
      freq * Math.exp((alpha[k] as number) + (lat.scores[k] as number) + (beta[k] as number) - z);
  }
  return z;
}
