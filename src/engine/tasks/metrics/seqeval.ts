/**
 * Entity-level scores for token classification with seqeval's default semantics (mode=None, the
 * conlleval-compatible chunking; not `mode='strict'`), which is what Hugging Face's `seqeval`
 * metric and its token-classification examples report.
 *
 * Chunking follows seqeval's `get_entities` / `end_of_chunk` / `start_of_chunk` rule for rule:
 * - a tag is its first character (B, I, E, S, O, or anything else) and a type, the text after the
 *   first '-' of the rest ('_' when empty), so 'O' has type '_';
 * - a chunk ends before the current tag when the previous tag is E or S; when B or I is followed
 *   by B, S or O; or when the previous tag is not O (nor '.') and the type changes;
 * - a chunk starts at B or S; at I or E following E, S or O; or when the tag is not O (nor '.')
 *   and the type changes. So 'I-X' after 'O' or after another type opens a new chunk, and a
 *   lone 'E-X' is a one-token chunk.
 * - Sentences are chained into one sequence with an 'O' after each (an entity never spans two
 *   sentences), and entities are (type, start, end) in that chained sequence.
 *
 * Precision is correct/predicted entities, recall correct/true entities, F1 = 2PR/(P+R), each 0
 * when its denominator is 0 (seqeval's zero_division="warn"). Macro and weighted averages run
 * over the sorted union of the true and predicted types, weighted by true entities.
 */

/** (type, first token, last token), token positions in the chained sequence. */
export type Entity = readonly [type: string, start: number, end: number];

export interface EntityScores {
  precision: number;
  recall: number;
  f1: number;
}

export interface SeqevalResult {
  /** Per entity type; `number` is the count of true entities (the key Hugging Face uses). */
  perType: Record<string, EntityScores & { number: number }>;
  micro: EntityScores;
  macro: EntityScores;
  weighted: EntityScores;
  /** Token-level accuracy over all tags, 'O' included. */
  accuracy: number;
}

function splitTag(chunk: string): { tag: string; type: string } {
  const code = chunk.codePointAt(0);
  if (code === undefined) throw new Error('seqeval: empty tag');
  const tag = String.fromCodePoint(code);
  const rest = chunk.slice(tag.length);
  const dash = rest.indexOf('-');
  const type = dash < 0 ? rest : rest.slice(dash + 1);
  return { tag, type: type === '' ? '_' : type };
}

function endOfChunk(prevTag: string, tag: string, prevType: string, type: string): boolean {
  if (prevTag === 'E' || prevTag === 'S') return true;
  if ((prevTag === 'B' || prevTag === 'I') && (tag === 'B' || tag === 'S' || tag === 'O')) return true;
  return prevTag !== 'O' && prevTag !== '.' && prevType !== type;
}

function startOfChunk(prevTag: string, tag: string, prevType: string, type: string): boolean {
  if (tag === 'B' || tag === 'S') return true;
  if ((prevTag === 'E' || prevTag === 'S' || prevTag === 'O') && (tag === 'E' || tag === 'I')) return true;
  return tag !== 'O' && tag !== '.' && prevType !== type;
}

function isNested(seq: readonly string[] | readonly (readonly string[])[]): seq is readonly (readonly string[])[] {
  return seq.some((s) => Array.isArray(s));
}

/** Entities of one tag sequence, or of sentences chained with an 'O' after each (seqeval's `get_entities`). */
export function getEntities(seq: readonly string[] | readonly (readonly string[])[]): Entity[] {
  const flat: string[] = isNested(seq) ? seq.flatMap((s) => [...s, 'O']) : [...(seq as readonly string[])];
  flat.push('O'); // closes an entity that runs to the end
  const chunks: Entity[] = [];
  let prevTag = 'O';
  let prevType = ''; // seqeval's start state, as if an 'O' of no type came first
  let begin = 0;
  for (let i = 0; i < flat.length; i++) {
    const { tag, type } = splitTag(flat[i] as string);
    if (endOfChunk(prevTag, tag, prevType, type)) chunks.push([prevType, begin, i - 1]);
    if (startOfChunk(prevTag, tag, prevType, type)) begin = i;
    prevTag = tag;
    prevType = type;
  }
  return chunks;
}

function checkShapes(yTrue: readonly (readonly string[])[], yPred: readonly (readonly string[])[]): void {
  if (yTrue.length !== yPred.length) {
    throw new Error(`seqeval: ${yTrue.length} true sentences but ${yPred.length} predicted`);
  }
  for (let i = 0; i < yTrue.length; i++) {
    const t = (yTrue[i] as readonly string[]).length;
    const p = (yPred[i] as readonly string[]).length;
    if (t !== p) throw new Error(`seqeval: sentence ${i} has ${t} true tags but ${p} predicted`);
  }
}

/** Token accuracy over all sentences (seqeval's `accuracy_score`). */
export function tokenAccuracy(yTrue: readonly (readonly string[])[], yPred: readonly (readonly string[])[]): number {
  checkShapes(yTrue, yPred);
  let total = 0;
  let correct = 0;
  for (let i = 0; i < yTrue.length; i++) {
    const t = yTrue[i] as readonly string[];
    const p = yPred[i] as readonly string[];
    for (let j = 0; j < t.length; j++) {
      total++;
      if (t[j] === p[j]) correct++;
    }
  }
  if (total === 0) throw new Error('seqeval: no tokens to score');
  return correct / total;
}

function scoresOf(tp: number, pred: number, trueCount: number): EntityScores {
  const precision = pred === 0 ? 0 : tp / pred;
  const recall = trueCount === 0 ? 0 : tp / trueCount;
  const denom = precision + recall;
  return { precision, recall, f1: denom === 0 ? 0 : (2 * precision * recall) / denom };
}

function byType(entities: readonly Entity[]): Map<string, Set<string>> {
  const map = new Map<string, Set<string>>();
  for (const [type, start, end] of entities) {
    const spans = map.get(type) ?? new Set<string>();
    spans.add(`${start}:${end}`);
    map.set(type, spans);
  }
  return map;
}

/** Per-type, micro, macro and weighted entity scores and token accuracy (seqeval's `classification_report`). */
export function seqevalScores(
  yTrue: readonly (readonly string[])[],
  yPred: readonly (readonly string[])[],
): SeqevalResult {
  checkShapes(yTrue, yPred);
  const accuracy = tokenAccuracy(yTrue, yPred);
  const trueSpans = byType(getEntities(yTrue.map((s) => [...s])));
  const predSpans = byType(getEntities(yPred.map((s) => [...s])));
  const types = [...new Set([...trueSpans.keys(), ...predSpans.keys()])].sort();

  const perType: SeqevalResult['perType'] = {};
  let tpAll = 0;
  let predAll = 0;
  let trueAll = 0;
  for (const type of types) {
    const t = trueSpans.get(type) ?? new Set<string>();
    const p = predSpans.get(type) ?? new Set<string>();
    let tp = 0;
    for (const span of p) if (t.has(span)) tp++;
    perType[type] = { ...scoresOf(tp, p.size, t.size), number: t.size };
    tpAll += tp;
    predAll += p.size;
    trueAll += t.size;
  }

  const rows = types.map((type) => perType[type] as EntityScores & { number: number });
  // numpy's average over no types is NaN; with no entities anywhere we report 0 like micro does.
  const mean = (pick: (s: EntityScores) => number, weigh: (s: { number: number }) => number) => {
    const total = rows.reduce((a, s) => a + weigh(s), 0);
    return total === 0 ? 0 : rows.reduce((a, s) => a + pick(s) * weigh(s), 0) / total;
  };
  const average = (weigh: (s: { number: number }) => number): EntityScores => ({
    precision: mean((s) => s.precision, weigh),
    recall: mean((s) => s.recall, weigh),
    f1: mean((s) => s.f1, weigh),
  });
  return {
    perType,
    micro: scoresOf(tpAll, predAll, trueAll),
    macro: average(() => 1),
    weighted: average((s) => s.number),
    accuracy,
  };
}
