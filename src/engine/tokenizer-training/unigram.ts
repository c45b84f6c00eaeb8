// The Unigram trainer of Hugging Face `tokenizers` (tokenizers/src/models/unigram/trainer.rs):
// seed pieces from frequent substrings, EM (n_sub_iterations = 2 per round, digamma M-step,
// pieces under an expected count of 0.5 dropped), then prune the pieces whose removal loses the
// least likelihood, keeping max(1.1 × vocab, 0.75 × current) per round, until 1.1 × the
// vocabulary size remains; finally the required characters, the best pieces up to the size and
// the special tokens.
//
// test/engine/tokenizer-training/reference.test.ts checks the result against tokenizers 0.23.2.
// Differences, on purpose or forced: the seeds are the substrings (2 to 16 characters) that occur
// at least twice among the distinct words and are followed by more than one different character,
// which are the internal nodes of the suffix tree the Rust trainer reads from esaxx, found here
// by counting instead of a suffix array; sorting ties (equal counts) follow the Rust sort keys
// (count, then the string, both descending), and required characters missing from the model get
// their penalty in code-point order (the Rust set iterates in hash order). Pruning keeps the
// trainer's loss, including its `alternatives.len() - 1` term, which counts all pieces.
import { addMarginals, buildLattice, charKeys, Lattice, PieceModel, viterbi } from './lattice.js';

export interface UnigramOptions {
  vocabSize: number;
  specialTokens: readonly string[];
  /** Must be one of the special tokens or is added before them (id 0). */
  unkToken: string | null;
  shrinkingFactor?: number;
  nSubIterations?: number;
  maxPieceLength?: number;
  seedSize?: number;
}

export interface UnigramResult {
  pieces: [string, number][];
  unkId: number;
}

type Piece = [string, number];
/** A distinct word: its character keys (lattice.ts) and count. */
type Word = { keys: Int32Array; count: number };

function digamma(v: number): number {
  let x = v;
  let result = 0;
  while (x < 7) {
    result -= 1 / x;
    x += 1;
  }
  x -= 1 / 2;
  const xx = 1 / x;
  const xx2 = xx * xx;
  const xx4 = xx2 * xx2;
  return result + Math.log(x) + (1 / 24) * xx2 - (7 / 960) * xx4 + (31 / 8064) * xx4 * xx2 - (127 / 30720) * xx4 * xx4;
}

const byDesc = (a: string, b: string) => (a < b ? 1 : a > b ? -1 : 0);

function toLogProb(pieces: Piece[]): void {
  const logsum = Math.log(pieces.reduce((s, p) => s + p[1], 0));
  for (const p of pieces) p[1] = Math.log(p[1]) - logsum;
}

/** Characters by weighted count, then the repeated right-branching substrings by count × length. */
export function seedPieces(words: ReadonlyMap<string, number>, maxPieceLength: number, seedSize: number): Piece[] {
  const chars = new Map<string, number>();
  const freq = new Map<string, number>();
  /** The one character that has followed the substring, or '' once two different ones have. */
  const follower = new Map<string, string>();
  for (const [word, count] of words) {
    const cps = [...word];
    for (const ch of cps) chars.set(ch, (chars.get(ch) ?? 0) + count);
    for (let s = 0; s < cps.length; s++) {
      let sub = cps[s] as string;
      for (let e = s + 1; e < cps.length && e - s < maxPieceLength; e++) {
        sub += cps[e];
        const next = e + 1 < cps.length ? (cps[e + 1] as string) : '\0';
        freq.set(sub, (freq.get(sub) ?? 0) + 1);
        const seen = follower.get(sub);
        if (seen === undefined) follower.set(sub, next);
        else if (seen !== next) follower.set(sub, '');
      }
    }
  }
  const seeds: Piece[] = [...chars.entries()].sort((a, b) => b[1] - a[1] || byDesc(a[0], b[0]));
  const subs: Piece[] = [];
  for (const [sub, f] of freq) {
    if (f >= 2 && follower.get(sub) === '') subs.push([sub, f * [...sub].length]);
  }
  subs.sort((a, b) => b[1] - a[1] || byDesc(a[0], b[0]));
  for (const p of subs) {
    if (seeds.length >= seedSize) break;
    seeds.push(p);
  }
  toLogProb(seeds);
  return seeds;
}

function eStep(model: PieceModel, words: readonly Word[]): Float64Array {
  const expected = new Float64Array(model.pieces.length);
  const lat = new Lattice();
  for (const w of words) addMarginals(buildLattice(model, w.keys, undefined, lat), w.count, expected);
  return expected;
}

function mStep(pieces: readonly Piece[], expected: Float64Array): Piece[] {
  const kept: Piece[] = [];
  let sum = 0;
  for (const [i, [piece]] of pieces.entries()) {
    const f = expected[i] as number;
    if (i === 0) kept.push([piece, Number.NaN]);
    else if (f >= 0.5) {
      kept.push([piece, f]);
      sum += f;
    }
  }
  const logsum = digamma(sum);
  return kept.map(([p, f]) => [p, digamma(f) - logsum]);
}

/** Drops the pieces whose loss is smallest, down to `target` pieces (a trainer round). */
function prune(model: PieceModel, pieces: readonly Piece[], words: readonly Word[], target: number): Piece[] {
  const alwaysKeep = new Array<boolean>(pieces.length).fill(true);
  const alternatives: number[][] = pieces.map(() => []);
  alwaysKeep[0] = false;
  const lat = new Lattice();
  for (let id = 1; id < pieces.length; id++) {
    const keys = charKeys((pieces[id] as Piece)[0]);
    if (buildLattice(model, keys, undefined, lat).n <= 1) continue; // one path only
    const best = viterbi(lat);
    if (best.length >= 2) alwaysKeep[id] = false;
    else {
      // The second-best segmentation: the best one that does not use the piece itself.
      buildLattice(model, keys, [0, keys.length], lat);
      alternatives[id] = viterbi(lat).map((k) => lat.ids[k] as number);
    }
  }
  const freq = new Float64Array(pieces.length);
  const inverted: number[][] = pieces.map(() => []);
  let vsum = 0;
  for (const [i, { keys, count }] of words.entries()) {
    vsum += count;
    buildLattice(model, keys, undefined, lat);
    for (const k of viterbi(lat)) {
      const id = lat.ids[k] as number;
      freq[id] = (freq[id] as number) + count;
      (inverted[id] as number[]).push(i);
    }
  }
  const sum = freq.reduce((s, f) => s + f, 0);
  const logsum = Math.log(sum);
  const kept: Piece[] = [pieces[0] as Piece];
  const candidates: [number, number][] = [];
  for (let id = 1; id < pieces.length; id++) {
    const fid = freq[id] as number;
    const alts = alternatives[id] as number[];
    if (fid === 0 && !alwaysKeep[id]) continue;
    if (alts.length === 0) {
      kept.push(pieces[id] as Piece);
      continue;
    }
    let f = 0;
    for (const n of inverted[id] as number[]) f += (words[n] as Word).count;
    if (f === 0 || Number.isNaN(f)) continue;
    f /= vsum;
    const logprobSp = Math.log(fid) - logsum;
    // As the Rust trainer: `alternatives.len()` there is the number of pieces.
    const logsumAlt = Math.log(sum + fid * (pieces.length - 1));
    let logprobAlt = 0;
    for (const n of alts) logprobAlt += Math.log((freq[n] as number) + fid) - logsumAlt;
    candidates.push([id, f * (logprobSp - logprobAlt)]);
  }
  const prunedSize = target;
  candidates.sort((a, b) => b[1] - a[1]);
  for (const [id] of candidates) {
    if (kept.length === prunedSize) break;
    kept.push(pieces[id] as Piece);
  }
  return kept;
}

function finalize(model: PieceModel, words: ReadonlyMap<string, number>, options: UnigramOptions): UnigramResult {
  const required = new Set<string>();
  for (const w of words.keys()) for (const ch of w) required.add(ch);
  const cp = (s: string) => s.codePointAt(0) as number;
  const minScore = Math.min(...model.pieces.filter(([, s]) => !Number.isNaN(s)).map(([, s]) => s));
  const existing = new Map(model.pieces.map(([p, s]) => [p, s]));
  const inserted = new Set<string>(['<UNK>']);
  const pieces: Piece[] = [];
  let penalty = 0;
  for (const c of [...required].sort((a, b) => cp(a) - cp(b))) {
    const score = existing.get(c);
    inserted.add(c);
    if (score !== undefined) pieces.push([c, score]);
    else {
      pieces.push([c, minScore + penalty]);
      penalty += 0.0001;
    }
  }
  const specials = [...options.specialTokens];
  let unkId = options.unkToken === null ? -1 : specials.indexOf(options.unkToken);
  if (options.unkToken !== null && unkId < 0) {
    specials.unshift(options.unkToken);
    unkId = 0;
  }
  const room = options.vocabSize - specials.length;
  for (const [piece, score] of model.pieces) {
    if (pieces.length >= room) break;
    if (inserted.has(piece)) continue;
    inserted.add(piece);
    pieces.push([piece, Number.isNaN(score) ? 0 : score]);
  }
  pieces.sort((a, b) => b[1] - a[1]);
  return { pieces: [...specials.map((s): Piece => [s, 0]), ...pieces], unkId };
}

/** Trains a unigram model on word counts. */
export function trainUnigram(words: ReadonlyMap<string, number>, options: UnigramOptions): UnigramResult {
  const maxPieceLength = options.maxPieceLength ?? 16;
  const shrinking = options.shrinkingFactor ?? 0.75;
  const subIterations = options.nSubIterations ?? 2;
  const list: Word[] = [...words].map(([text, count]) => ({ keys: charKeys(text), count }));
  let pieces: Piece[] = [['<UNK>', Number.NaN], ...seedPieces(words, maxPieceLength, options.seedSize ?? 1_000_000)];
  const desired = Math.floor((options.vocabSize * 11) / 10);
  let model = new PieceModel(pieces, maxPieceLength);
  for (;;) {
    for (let i = 0; i < subIterations; i++) {
      pieces = mStep(pieces, eStep(model, list));
      model = new PieceModel(pieces, maxPieceLength);
    }
    if (pieces.length <= desired) break;
    const before = pieces.length;
    pieces = prune(model, pieces, list, Math.max(desired, Math.floor(before * shrinking)));
    model = new PieceModel(pieces, maxPieceLength);
    if (pieces.length >= before) break; // nothing left to prune
  }
  return finalize(model, words, options);
}
