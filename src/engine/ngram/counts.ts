import { PairTable } from './pair-table.js';
import type { Corpus } from './tokens.js';

/**
 * The counts of one order k of an n-gram model, every array indexed by integer ids:
 * a k-gram's id comes from `table` (the pair (id of its first k-1 tokens, last token)); at k = 1
 * it is the word id itself. A history is a (k-1)-gram, so its id is an id of order k-1 (the one
 * empty history of k = 1 is id 0).
 */
export interface Level {
  k: number;
  /** k-gram ids (null at k = 1, where the id is the word id). */
  table: PairTable | null;
  /** Number of k-gram ids (windows of training sentences, counted or not). */
  size: number;
  /**
   * The count this order uses, per k-gram id: the raw count c(h w) at the highest order, the
   * continuation count N1+(• h w) below it (when continuation counts were asked for).
   */
  count: Int32Array;
  /** c_k(h) = Σ_w count(h w), per history id. */
  histTotal: Int32Array;
  /** Per history id: the number of words w whose count(h w) is exactly 1, exactly 2, 3 or more. */
  histN1: Int32Array;
  histN2: Int32Array;
  histN3: Int32Array;
  /** n1..n4: how many k-grams have count exactly 1, 2, 3, 4 (the modified-KN discounts' input). */
  countsOfCounts: [number, number, number, number];
  /** Whether `count` holds continuation counts (false at the highest order). */
  continuation: boolean;
}

/**
 * Counts of every order 1..order of a corpus padded for that order. Counts are taken at predicted
 * positions only (each word and `</s>`, never the padding). With `continuation`, orders below the
 * highest hold continuation counts: N1+(• h w) is the number of distinct tokens v for which the
 * (k+1)-gram (v h w) ends at a predicted position. Its left neighbour always exists (the padding
 * is order-1 long) and may be `<s>`; an n-gram ending in `<s>` never ends at a predicted position,
 * so `<s>` never gets a continuation count. Without it (MLE, add-k) only the highest order is
 * counted and the lower levels carry ids only.
 */
export function countLevels(corpus: Corpus, continuation: boolean): Level[] {
  const order = corpus.order;
  const tok = corpus.tokens.view();
  const bounds = corpus.bounds();
  const sentences = corpus.sentences;
  const ids = kgramIds(tok, bounds, sentences, order);

  const sizes = ids.tables.map((t, i) => (i === 0 ? corpus.vocab.idLimit : (t as PairTable).size));
  const counts = sizes.map((n) => new Int32Array(n));

  // Highest order: raw counts of the n-gram ending at each predicted position.
  const top = counts[order - 1] as Int32Array;
  const topIds = ids.starting[order - 1] as Int32Array;
  forPredicted(bounds, sentences, order, (i) => {
    (top[topIds[i - order + 1] as number] as number)++;
  });

  // Lower orders: one continuation count per distinct (k+1)-gram seen ending at a predicted position.
  if (continuation) {
    for (let k = order - 1; k >= 1; k--) {
      const longer = ids.starting[k] as Int32Array;
      const shorter = ids.starting[k - 1] as Int32Array;
      const seen = new Uint8Array(sizes[k] as number);
      const count = counts[k - 1] as Int32Array;
      forPredicted(bounds, sentences, order, (i) => {
        const g = longer[i - k] as number;
        if (seen[g] === 0) {
          seen[g] = 1;
          (count[shorter[i - k + 1] as number] as number)++;
        }
      });
    }
  }

  const levels: Level[] = [];
  for (let k = 1; k <= order; k++) {
    const table = ids.tables[k - 1] ?? null;
    const histories = k === 1 ? 1 : (sizes[k - 2] as number);
    levels.push(
      summarize(k, table, counts[k - 1] as Int32Array, histories, continuation && k < order, sizes[k - 1] as number),
    );
  }
  return levels;
}

/** Ids of every k-gram window (k = 1..order) inside one sentence; `starting[k-1][j]` = id of the window at j. */
function kgramIds(
  tok: Int32Array,
  bounds: Int32Array,
  sentences: number,
  order: number,
): { tables: (PairTable | null)[]; starting: Int32Array[] } {
  const tables: (PairTable | null)[] = [null];
  const starting: Int32Array[] = [tok];
  for (let k = 2; k <= order; k++) {
    const prev = starting[k - 2] as Int32Array;
    const cur = new Int32Array(tok.length);
    const table = new PairTable(Math.max(1024, tok.length >> 2));
    for (let s = 0; s < sentences; s++) {
      const end = bounds[s + 1] as number;
      for (let j = bounds[s] as number; j + k <= end; j++)
        cur[j] = table.insert(prev[j] as number, tok[j + k - 1] as number);
    }
    tables.push(table);
    starting.push(cur);
  }
  return { tables, starting };
}

/** Calls `fn` with every predicted position: each sentence's tokens after its order-1 paddings. */
function forPredicted(bounds: Int32Array, sentences: number, order: number, fn: (i: number) => void): void {
  for (let s = 0; s < sentences; s++) {
    const end = bounds[s + 1] as number;
    for (let i = (bounds[s] as number) + order - 1; i < end; i++) fn(i);
  }
}

/** Per-history totals and N1/N2/N3+ of one order, and its counts of counts. */
function summarize(
  k: number,
  table: PairTable | null,
  count: Int32Array,
  histories: number,
  continuation: boolean,
  size: number,
): Level {
  const histTotal = new Int32Array(histories);
  const histN1 = new Int32Array(histories);
  const histN2 = new Int32Array(histories);
  const histN3 = new Int32Array(histories);
  const coc: [number, number, number, number] = [0, 0, 0, 0];
  const prefix = table?.prefix;
  for (let g = 0; g < size; g++) {
    const c = count[g] as number;
    if (c === 0) continue;
    const h = prefix ? (prefix[g] as number) : 0;
    (histTotal[h] as number) += c;
    if (c === 1) (histN1[h] as number)++;
    else if (c === 2) (histN2[h] as number)++;
    else (histN3[h] as number)++;
    if (c <= 4) (coc[c - 1] as number)++;
  }
  return { k, table, size, count, histTotal, histN1, histN2, histN3, countsOfCounts: coc, continuation };
}
