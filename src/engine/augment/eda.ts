import { shuffle } from '../util/random.js';
import type { WordNet } from './wordnet.js';

/**
 * Easy Data Augmentation (Wei & Zou 2019), the four operations of their eda.py: synonym
 * replacement (SR), random insertion (RI), random swap (RS) and random deletion (RD), drawn from a
 * seeded `rand` instead of Python's global generator. Where this differs from eda.py:
 * - the original stays as written in the training set (eda.py appends it normalised);
 * - an operation whose rate is 0 is left out (eda.py still applies it once: n = max(1, int(0 * words)));
 * - RI inserts a random synonym of the chosen word (eda.py takes `synonyms[0]` of a list made from
 *   a Python set, an element that changes with the interpreter's hash seed);
 * - synonyms keep WordNet's order (first synset first) instead of a set's, so a seed gives one output.
 */

/** eda.py's stop words: never replaced by a synonym (nor chosen for insertion's synonym, as there). */
export const EDA_STOP_WORDS: ReadonlySet<string> = new Set(
  `i me my myself we our ours ourselves you your yours yourself yourselves he him his himself she her hers
herself it its itself they them their theirs themselves what which who whom this that these those am is are
was were be been being have has had having do does did doing a an the and but if or because as until while of
at by for with about against between into through during before after above below to from up down in out on
off over under again further then once here there when where why how all any both each few more most other
some such no nor not only own same so than too very s t can will just don should now`
    .split(/\s+/)
    .concat(['']),
);

export interface EdaRates {
  alpha_sr: number;
  alpha_ri: number;
  alpha_rs: number;
  p_rd: number;
}

/**
 * eda.py's get_only_chars: apostrophes removed, hyphens, tabs and newlines to spaces, lowercase,
 * every character outside a-z and space to a space, runs of spaces to one, a leading space dropped.
 */
export function edaNormalize(line: string): string {
  const lower = line
    .replace(/[’']/g, '')
    .replace(/[-\t\n]/g, ' ')
    .toLowerCase();
  return lower
    .replace(/[^a-z ]/g, ' ')
    .replace(/ +/g, ' ')
    .replace(/^ /, '');
}

/** The words of a normalised line (eda.py: split on spaces, empty strings dropped). */
export function edaWords(sentence: string): string[] {
  return edaNormalize(sentence)
    .split(' ')
    .filter((w) => w !== '');
}

/**
 * eda.py's get_synonyms: the lemma names of every synset of the word, `_` and `-` to spaces,
 * lowercased, characters outside a-z and space removed, the word itself left out.
 */
export function edaSynonyms(wordnet: WordNet, word: string): string[] {
  const found = new Set<string>();
  for (const synset of wordnet.synsets(word)) {
    for (const lemma of synset.lemmas) {
      found.add(
        lemma
          .replace(/[_-]/g, ' ')
          .toLowerCase()
          .replace(/[^a-z ]/g, ''),
      );
    }
  }
  found.delete(word);
  return [...found];
}

/** Python's random.randint(a, b): an integer in [a, b]. */
function randint(rand: () => number, a: number, b: number): number {
  return a + Math.floor(rand() * (b - a + 1));
}

function choice<T>(rand: () => number, items: readonly T[]): T {
  return items[Math.floor(rand() * items.length)] as T;
}

/**
 * SR: up to n distinct non-stop words, in random order, each replaced (everywhere it occurs) by a
 * random synonym; words without synonyms are passed over. A multiword synonym becomes several words.
 */
export function synonymReplacement(
  wordnet: WordNet,
  words: readonly string[],
  n: number,
  rand: () => number,
): string[] {
  let out = [...words];
  const candidates = shuffle([...new Set(words.filter((w) => !EDA_STOP_WORDS.has(w)))], rand);
  let replaced = 0;
  for (const word of candidates) {
    const synonyms = edaSynonyms(wordnet, word);
    if (synonyms.length >= 1) {
      const synonym = choice(rand, synonyms);
      out = out.map((w) => (w === word ? synonym : w));
      replaced++;
    }
    if (replaced >= n) break;
  }
  return out.join(' ').split(' ');
}

/** RI: n times, a synonym of a random word (up to 10 tries to find a word with one) inserted at a random position. */
export function randomInsertion(wordnet: WordNet, words: readonly string[], n: number, rand: () => number): string[] {
  const out = [...words];
  for (let k = 0; k < n; k++) {
    let synonyms: string[] = [];
    for (let tries = 0; synonyms.length < 1 && tries < 10; tries++) {
      synonyms = edaSynonyms(wordnet, out[randint(rand, 0, out.length - 1)] as string);
    }
    if (synonyms.length < 1) continue;
    const synonym = choice(rand, synonyms);
    out.splice(randint(rand, 0, out.length - 1), 0, synonym);
  }
  return out;
}

/** RS: n times, two random positions swapped (eda.py gives up on a swap after 3 draws of the same position). */
export function randomSwap(words: readonly string[], n: number, rand: () => number): string[] {
  const out = [...words];
  for (let k = 0; k < n; k++) {
    const i = randint(rand, 0, out.length - 1);
    let j = i;
    let gaveUp = false;
    for (let counter = 1; j === i; counter++) {
      j = randint(rand, 0, out.length - 1);
      // As eda.py: the fourth draw is made, then the swap is abandoned whatever it gave.
      if (counter > 3) {
        gaveUp = true;
        break;
      }
    }
    if (gaveUp) continue;
    [out[i], out[j]] = [out[j] as string, out[i] as string];
  }
  return out;
}

/** RD: each word deleted with probability p; a single word is kept, and if all go, one random word stays. */
export function randomDeletion(words: readonly string[], p: number, rand: () => number): string[] {
  if (words.length === 1) return [...words];
  const out = words.filter(() => rand() > p);
  if (out.length === 0) return [words[randint(rand, 0, words.length - 1)] as string];
  return out;
}

/**
 * eda.py's eda(): int(n_aug / 4) + 1 sentences from each operation (rate > 0) with
 * n = max(1, int(alpha * words)), normalised, shuffled, the first n_aug kept. The original is not
 * in the list (the training set keeps it). A sentence with no letters gives none.
 */
export function eda(wordnet: WordNet, sentence: string, rates: EdaRates, nAug: number, rand: () => number): string[] {
  const words = edaWords(sentence);
  if (words.length === 0) return [];
  const perOp = Math.floor(nAug / 4) + 1;
  const count = (alpha: number) => Math.max(1, Math.floor(alpha * words.length));
  const ops: (() => string[])[] = [];
  if (rates.alpha_sr > 0) ops.push(() => synonymReplacement(wordnet, words, count(rates.alpha_sr), rand));
  if (rates.alpha_ri > 0) ops.push(() => randomInsertion(wordnet, words, count(rates.alpha_ri), rand));
  if (rates.alpha_rs > 0) ops.push(() => randomSwap(words, count(rates.alpha_rs), rand));
  if (rates.p_rd > 0) ops.push(() => randomDeletion(words, rates.p_rd, rand));
  const sentences: string[] = [];
  for (const op of ops) for (let k = 0; k < perOp; k++) sentences.push(edaNormalize(op().join(' ')));
  return shuffle(sentences, rand).slice(0, nAug);
}
