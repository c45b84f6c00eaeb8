import { statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ResolvedConfig } from '../../shared/config.js';
import { tokenizedCorpus } from '../corpus/build.js';
import { workerCount } from '../corpus/pool.js';
import { dedupTexts, selectTexts } from '../corpus/select.js';
import type { TokenCorpus } from '../corpus/store.js';
import { DataError } from '../data/errors.js';
import { columnsFor } from '../data/records.js';
import type { CorpusStreaming, StreamedExamples } from '../tasks/task.js';
import type { RunDirectory } from './run-dir.js';

/**
 * The data of a streamed run (data.streaming, or data.train a folder): each corpus tokenized once
 * into the shared cache (corpus/build.ts) or found there, the texts selected as the in-memory
 * pipeline selects them (dedup, validation split), and the task's examples read from the cache a
 * batch at a time. The caches live beside the runs folder, in cache/tokens/.
 */
export interface StreamedRunData {
  train: StreamedExamples;
  validation: StreamedExamples | undefined;
  /** The data report (data-report.json) of a streamed run. */
  report: Record<string, unknown>;
  close(): void;
}

/** Whether the run streams its corpus: asked for, or a folder (which only a stream reads). */
export function streamsData(config: ResolvedConfig): boolean {
  if (config.data.streaming === true) return true;
  try {
    return statSync(config.data.train).isDirectory();
  } catch {
    return false;
  }
}

/** `<runs folder>/../cache/tokens`: shared by every run of the folder, so a second run hits. */
export function tokenCacheRoot(runDir: string): string {
  return join(dirname(dirname(runDir)), 'cache', 'tokens');
}

export async function streamedData(
  run: RunDirectory,
  config: ResolvedConfig,
  streaming: CorpusStreaming,
  tokenizerDir: string,
): Promise<StreamedRunData> {
  const d = config.data;
  // Refused before anything is tokenized: the answer does not depend on the corpus.
  if (d.clean.near_dedup) {
    throw new DataError(
      'config',
      'data.clean.near_dedup compares every text with every other in memory, which a streamed corpus does not hold',
      undefined,
      'data.clean.near_dedup: false with data.streaming (exact dedup, data.clean.dedup, works)',
    );
  }
  const workers = workerCount(d.tokenize_workers);
  const build = (input: string, configKey: string) =>
    tokenizedCorpus({
      input,
      configKey,
      tokenizerDir,
      encoding: streaming.encoding,
      clean: d.clean,
      columns: columnsFor(d),
      onBadRows: d.on_bad_rows,
      cacheRoot: tokenCacheRoot(run.path),
      workers,
      log: (line) => run.log('info', line),
    });
  const opened: TokenCorpus[] = [];
  const close = () => {
    for (const c of opened) c.close();
  };
  try {
    const train = await build(d.train, 'data.train');
    opened.push(train.corpus);
    const selection = selectTexts(train.corpus, {
      dedup: d.clean.dedup,
      validationSplit: d.validation_split,
      seed: config.training.seed,
    });
    const trainSet = streaming.open(train.corpus, selection.train);
    let validationSet: StreamedExamples | undefined;
    let validationReport: Record<string, unknown> | undefined;
    if (d.validation !== undefined) {
      const v = await build(d.validation, 'data.validation');
      opened.push(v.corpus);
      const kept = dedupTexts(v.corpus, d.clean.dedup);
      validationSet = streaming.open(v.corpus, kept.kept);
      validationReport = { ...summary(v.corpus, v.key, v.hit), duplicates: kept.duplicates };
    } else if (selection.validation.length > 0) {
      validationSet = streaming.open(train.corpus, selection.validation);
    }
    const report = {
      task: config.task,
      streamed: {
        train: { ...summary(train.corpus, train.key, train.hit), duplicates: selection.duplicates },
        ...(validationReport ? { validation: validationReport } : {}),
        ...(d.validation_split === undefined
          ? {}
          : { split: { fraction: d.validation_split, seed: config.training.seed } }),
      },
      sizes: { train: trainSet.count, validation: validationSet?.count ?? 0 },
    };
    run.log(
      'info',
      `streamed data: ${selection.train.length} training texts (${selection.duplicates} duplicates removed) -> ${trainSet.count} examples` +
        (validationSet ? `; ${validationSet.count} validation examples` : ''),
    );
    if (train.corpus.meta.skipped.count > 0)
      run.log('warn', `skipped rows: ${train.corpus.meta.skipped.count} (data.on_bad_rows: skip)`);
    return { train: trainSet, validation: validationSet, report, close };
  } catch (err) {
    close();
    throw err;
  }
}

function summary(corpus: TokenCorpus, key: string, hit: boolean): Record<string, unknown> {
  const m = corpus.meta;
  return {
    cache: key,
    hit,
    files: m.files,
    read: m.read,
    texts: m.texts,
    tokens: m.tokens,
    clean: m.counts,
    skipped: m.skipped,
  };
}
