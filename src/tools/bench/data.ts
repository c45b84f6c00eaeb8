import { createWriteStream, writeFileSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BadRows } from '../../engine/data/errors.js';
import { loadBatches } from '../../engine/data/load.js';
import { columnsFor } from '../../engine/data/records.js';
import { rng } from '../../engine/util/random.js';
import { type BenchSuite, peakRssMb } from './suite.js';

/**
 * Loader throughput: a generated JSONL file of text-classification rows (about TARGET_MB), read,
 * decoded, parsed and mapped to examples with their lines. Target: at least 50 MB/s. The peak RSS
 * shows the file is streamed, not held whole.
 */
const TARGET_MB = 200;
const WORDS = 'the a model data train loss token label great terrible movie plot actor scene film story value'.split(
  ' ',
);

async function generate(file: string, bytes: number): Promise<number> {
  const rand = rng(7);
  const out = createWriteStream(file);
  let written = 0;
  let i = 0;
  while (written < bytes) {
    const lines: string[] = [];
    for (let k = 0; k < 1000; k++, i++) {
      const n = 10 + Math.floor(rand() * 50);
      const words = Array.from({ length: n }, () => WORDS[Math.floor(rand() * WORDS.length)] as string);
      lines.push(JSON.stringify({ id: i, text: `${words.join(' ')} café №${i}`, label: rand() < 0.5 ? 'pos' : 'neg' }));
    }
    const block = `${lines.join('\n')}\n`;
    written += Buffer.byteLength(block);
    if (!out.write(block)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  return (await stat(file)).size;
}

/** Linux: restart the peak-RSS count, so it measures the load and not the file's generation. */
function resetPeakRss(): void {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
  } catch {
    // Elsewhere the peak includes the generation: still an upper bound.
  }
}

export const dataSuite: BenchSuite = {
  name: 'data',
  summary: `JSONL loader throughput on a generated ${TARGET_MB} MB file (target >= 50 MB/s)`,
  async run(log) {
    const dir = await mkdtemp(join(tmpdir(), 'finetune-bench-data-'));
    try {
      const file = join(dir, 'train.jsonl');
      const size = await generate(file, TARGET_MB * 1e6);
      resetPeakRss();
      const t0 = performance.now();
      let examples = 0;
      for await (const batch of loadBatches(file, {
        rows: 'labelled-text',
        columns: columnsFor({ train: file }),
        badRows: new BadRows('error'),
      })) {
        examples += batch.length;
      }
      const seconds = (performance.now() - t0) / 1000;
      const mbPerSec = size / 1e6 / seconds;
      const rss = await peakRssMb();
      log(
        `jsonl-load  ${(size / 1e6).toFixed(0)} MB  ${examples} examples  ${seconds.toFixed(2)} s  ${mbPerSec.toFixed(1)} MB/s (target 50)  peak RSS while loading ${rss.toFixed(0)} MiB`,
      );
      return [
        {
          case: 'jsonl-load',
          mb: Math.round(size / 1e6),
          examples,
          seconds: Number(seconds.toFixed(2)),
          mb_per_s: Number(mbPerSec.toFixed(1)),
          target_mb_per_s: 50,
          peak_rss_mb: Math.round(rss),
        },
      ];
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};
