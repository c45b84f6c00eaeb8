import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TokenizerType } from '../../engine/tokenizer-training/layouts.js';
import { trainTokenizer } from '../../engine/tokenizer-training/train.js';
import { rng } from '../../engine/util/random.js';
import { zipfSampler } from './ngram.js';
import { type BenchSuite, peakRssMb } from './suite.js';

/**
 * `finetune tokenizer train` on a generated corpus: a JSON-lines file of English-like text (words
 * built from syllables, drawn from a Zipf law, with punctuation, capitals and 3% of lines with
 * accented words), read, pre-tokenized and counted as a stream, then trained. Reports MB/s over
 * the whole command (target >= 5 MB/s), the split between reading and training, and the peak
 * memory, which follows the distinct words rather than the corpus size.
 */
const CORPUS_MB = 40;
const VOCAB_WORDS = 30_000;
const ZIPF = 1.1;
const SYLLABLES = ['ka', 'lo', 'mi', 'ter', 'sen', 'ra', 'pul', 'de', 'vi', 'on', 'ing', 'ed', 'st', 'ro', 'bu', 'ne'];
const CASES: { type: TokenizerType; vocabSize: number; mb: number }[] = [
  { type: 'wordpiece', vocabSize: 8000, mb: CORPUS_MB },
  { type: 'byte-level-bpe', vocabSize: 8000, mb: CORPUS_MB },
  { type: 'bpe', vocabSize: 8000, mb: CORPUS_MB },
  { type: 'unigram', vocabSize: 8000, mb: CORPUS_MB },
];

/** Writes about `mb` megabytes of {"text": ...} lines; returns the file's size in bytes. */
export async function writeCorpus(path: string, mb: number): Promise<number> {
  const rand = rng(7);
  const words = Array.from({ length: VOCAB_WORDS }, () => {
    const n = 1 + Math.floor(rand() * 4);
    return Array.from({ length: n }, () => SYLLABLES[Math.floor(rand() * SYLLABLES.length)]).join('');
  });
  const rank = zipfSampler(VOCAB_WORDS, ZIPF, rand);
  const word = () => words[rank()] as string;
  const out = createWriteStream(path);
  let bytes = 0;
  while (bytes < mb * 1e6) {
    const n = 8 + Math.floor(rand() * 40);
    const ws = Array.from({ length: n }, word);
    ws[0] = (ws[0] as string).charAt(0).toUpperCase() + (ws[0] as string).slice(1);
    if (rand() < 0.03) ws[Math.floor(rand() * n)] = 'café naïve';
    const line = `${JSON.stringify({ text: `${ws.join(' ')}${rand() < 0.5 ? '.' : ', and more!'}` })}\n`;
    bytes += Buffer.byteLength(line);
    if (!out.write(line)) await new Promise<void>((ok) => out.once('drain', () => ok()));
  }
  await new Promise<void>((ok, fail) => out.end((err?: Error | null) => (err ? fail(err) : ok())));
  return (await stat(path)).size;
}

export const tokenizerSuite: BenchSuite = {
  name: 'tokenizer',
  summary: `tokenizer training, ${CORPUS_MB} MB of generated JSON lines, vocabulary 8000`,
  async run(log) {
    const dir = await mkdtemp(join(tmpdir(), 'bench-tokenizer-'));
    const results: Record<string, unknown>[] = [];
    try {
      const corpus = join(dir, 'corpus.jsonl');
      const bytes = await writeCorpus(corpus, CORPUS_MB);
      for (const c of CASES) {
        const t0 = performance.now();
        let readDone = t0;
        const summary = await trainTokenizer({
          type: c.type,
          vocabSize: c.vocabSize,
          inputs: [corpus],
          textColumn: 'text',
          minFrequency: 2,
          lowercase: false,
          out: join(dir, c.type),
          onProgress: (p) => {
            if (p.phase === 'train') readDone = performance.now();
          },
        });
        const total = (performance.now() - t0) / 1000;
        const read = (readDone - t0) / 1000;
        const mbPerS = bytes / 1e6 / total;
        log(
          `${c.type.padEnd(15)} ${(bytes / 1e6).toFixed(1)} MB in ${total.toFixed(1)} s = ${mbPerS.toFixed(1)} MB/s` +
            `  (read+count ${read.toFixed(1)} s = ${(bytes / 1e6 / read).toFixed(1)} MB/s, train ${(total - read).toFixed(1)} s)` +
            `  ${summary.words} distinct words, vocabulary ${summary.vocabSize}`,
        );
        results.push({
          case: `tokenizer-${c.type}`,
          corpus_bytes: bytes,
          total_s: Number(total.toFixed(2)),
          read_s: Number(read.toFixed(2)),
          train_s: Number((total - read).toFixed(2)),
          mb_per_s: Number(mbPerS.toFixed(2)),
          distinct_words: summary.words,
          vocab_size: summary.vocabSize,
        });
      }
      // Streaming: memory follows the distinct words, not the corpus size.
      const rss = await peakRssMb();
      log(`peak RSS over all cases ${rss.toFixed(0)} MiB for a ${(bytes / 1e6).toFixed(0)} MB corpus`);
      for (const r of results) r.suite_peak_rss_mb = Math.round(rss);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    return results;
  },
};
