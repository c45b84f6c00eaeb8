import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { tokenizedCorpus } from '../../engine/corpus/build.js';
import { tokenizeJob } from '../../engine/corpus/tokenize-job.js';
import { BadRows } from '../../engine/data/errors.js';
import { loadBatches } from '../../engine/data/load.js';
import { columnsFor } from '../../engine/data/records.js';
import { Tokenizer } from '../../engine/tokenize/index.js';
import { trainTokenizer } from '../../engine/tokenizer-training/train.js';
import { CONFIG_DEFAULTS } from '../../shared/config-defaults.js';
import { type BenchSuite, peakRssMb } from './suite.js';
import { writeCorpus } from './tokenizer.js';

/**
 * Corpus tokenization into the on-disk cache (data.streaming): a generated JSON-lines corpus
 * (the tokenizer suite's text, 200 MB or `--mb N`) tokenized with a WordPiece tokenizer.json
 * trained here on its first megabytes, read as a stream, cleaned (the default data.clean),
 * tokenized by 1 thread and by one per core, and written to the cache. Reports MB/s of corpus
 * (target >= 10 MB/s on a 1 GB corpus with all threads), MB per CPU-second (what a core gives,
 * readable on a machine other work shares), and a second, cached read (cache hit). First, one
 * thread's work alone: tokenizeJob in this thread over the corpus's first IN_PROCESS_MB, timed
 * by CPU time around the jobs only (what each thread must give: 10 MB/s on 2 cores is 5 MB per
 * CPU-second with nothing else).
 */
const DEFAULT_MB = 200;
const IN_PROCESS_MB = 20;
const TOKENIZER_SAMPLE_MB = 5;

export const tokenizeCorpusSuite: BenchSuite = {
  name: 'tokenize-corpus',
  summary: `corpus tokenization into the cache, ${DEFAULT_MB} MB of generated JSON lines (--mb N), WordPiece 8000`,
  async run(log, args) {
    const mb = args.mb ?? DEFAULT_MB;
    const dir = await mkdtemp(join(tmpdir(), 'bench-tokenize-corpus-'));
    const results: Record<string, unknown>[] = [];
    try {
      const sample = join(dir, 'sample.jsonl');
      await writeCorpus(sample, TOKENIZER_SAMPLE_MB);
      const tokenizerDir = join(dir, 'tokenizer');
      await trainTokenizer({
        type: 'wordpiece',
        vocabSize: 8000,
        inputs: [sample],
        textColumn: 'text',
        minFrequency: 2,
        lowercase: true,
        out: tokenizerDir,
      });
      const corpus = join(dir, 'corpus.jsonl');
      const bytes = await writeCorpus(corpus, mb);
      const job = await inProcess(corpus, tokenizerDir, Math.min(mb, IN_PROCESS_MB));
      log(
        `in-process tokenizeJob ${job.mb.toFixed(0)} MB: CPU ${job.cpuSeconds.toFixed(1)} s = ${(job.mb / job.cpuSeconds).toFixed(2)} MB per CPU-second (one thread's work; load average ${loadavg()[0]?.toFixed(1)})`,
      );
      results.push({
        case: 'tokenize-job-in-process',
        corpus_bytes: Math.round(job.mb * 1e6),
        cpu_s: Number(job.cpuSeconds.toFixed(2)),
        mb_per_cpu_s: Number((job.mb / job.cpuSeconds).toFixed(3)),
      });
      const cores = availableParallelism();
      const threads = [...new Set([1, cores])];
      for (const workers of threads) {
        const cacheRoot = join(dir, `cache-${workers}`);
        const lines: string[] = [];
        const request = {
          input: corpus,
          configKey: 'data.train',
          tokenizerDir,
          encoding: { maxLength: null, blankAsEmpty: false },
          clean: CONFIG_DEFAULTS.data.clean,
          columns: columnsFor({}),
          onBadRows: 'error' as const,
          cacheRoot,
          workers,
          log: (line: string) => lines.push(line),
        };
        const t0 = performance.now();
        const cpu0 = process.cpuUsage();
        const built = await tokenizedCorpus(request);
        const seconds = (performance.now() - t0) / 1000;
        // CPU time of the whole process (main thread and tokenizer threads): on a shared machine
        // MB per CPU-second says what a core gives, whatever the other load.
        const used = process.cpuUsage(cpu0);
        const cpuSeconds = (used.user + used.system) / 1e6;
        const tokens = built.corpus.meta.tokens;
        built.corpus.close();
        const t1 = performance.now();
        const again = await tokenizedCorpus(request);
        const hitSeconds = (performance.now() - t1) / 1000;
        again.corpus.close();
        const mbPerS = bytes / 1e6 / seconds;
        log(
          `${String(workers).padStart(2)} thread${workers === 1 ? ' ' : 's'}  ${(bytes / 1e6).toFixed(0)} MB in ${seconds.toFixed(1)} s = ${mbPerS.toFixed(1)} MB/s` +
            `  (${tokens} tokens, ${(tokens / seconds / 1e6).toFixed(2)} M tokens/s; CPU ${cpuSeconds.toFixed(1)} s = ${(bytes / 1e6 / cpuSeconds).toFixed(2)} MB per CPU-second;` +
            ` cache hit ${hitSeconds.toFixed(1)} s, hashing the file; load average ${loadavg()[0]?.toFixed(1)})`,
        );
        results.push({
          case: `tokenize-corpus-${workers}-threads`,
          corpus_bytes: bytes,
          threads: workers,
          cores,
          seconds: Number(seconds.toFixed(2)),
          mb_per_s: Number(mbPerS.toFixed(2)),
          cpu_s: Number(cpuSeconds.toFixed(2)),
          mb_per_cpu_s: Number((bytes / 1e6 / cpuSeconds).toFixed(3)),
          tokens,
          cache_hit_s: Number(hitSeconds.toFixed(2)),
        });
        await rm(cacheRoot, { recursive: true, force: true });
      }
      const rss = await peakRssMb();
      log(`peak RSS of the main thread's process ${rss.toFixed(0)} MiB for a ${(bytes / 1e6).toFixed(0)} MB corpus`);
      for (const r of results) r.suite_peak_rss_mb = Math.round(rss);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    return results;
  },
};

/**
 * tokenizeJob over the first `mb` of the corpus in this thread, as a tokenizer thread runs it;
 * only the jobs are timed. Bytes are the corpus's: each text's JSON line, as writeCorpus wrote it.
 */
async function inProcess(
  corpus: string,
  tokenizerDir: string,
  mb: number,
): Promise<{ mb: number; cpuSeconds: number }> {
  const tokenizer = Tokenizer.fromFolder(tokenizerDir);
  const init = { tokenizerDir, clean: CONFIG_DEFAULTS.data.clean, encoding: { maxLength: null, blankAsEmpty: false } };
  const options = { rows: 'text' as const, columns: columnsFor({}), badRows: new BadRows('error') };
  let bytes = 0;
  let micros = 0;
  let id = 0;
  for await (const batch of loadBatches(corpus, options)) {
    const texts = batch.map((e) => (e.kind === 'text' ? e.text : ''));
    for (const text of texts) bytes += Buffer.byteLength(JSON.stringify({ text })) + 1;
    const cpu0 = process.cpuUsage();
    tokenizeJob(tokenizer, init, { id: id++, texts });
    const used = process.cpuUsage(cpu0);
    micros += used.user + used.system;
    if (bytes >= mb * 1e6) break;
  }
  return { mb: bytes / 1e6, cpuSeconds: micros / 1e6 };
}
