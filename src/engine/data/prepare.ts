import { resolve } from 'node:path';
import type { ResolvedDataConfig, TaskName } from '../../shared/config.js';
import { Cleaner } from './clean.js';
import { type DedupReport, dedupExact, dedupNear, emptyDedupReport } from './dedup.js';
import { BadRows, DataError } from './errors.js';
import { buildLabelSet, checkTagScheme, checkValidationLabels, type LabelSet } from './labels.js';
import { formatOf, loadBatches } from './load.js';
import { columnsFor, type DataFormat, type Example, type RowLayout } from './records.js';
import { type DataReport, type FileReport, skippedWarning } from './report.js';
import { checkLeakage, splitValidation } from './split.js';
import { computeStats, type TokenCounter } from './stats.js';

/**
 * The data pipeline before training: load (streamed) and clean each file, remove duplicates,
 * hold out the validation split, fix the label set, check validation labels and train/validation
 * leakage, and (given a token counter) compute statistics. Everything it did is in `report`.
 */
export interface PrepareOptions {
  /** The task, as the report names it. */
  task: TaskName;
  /** Its data format (the task plugin's). */
  format: DataFormat;
  /** Folder the data paths are relative to (the config file's). */
  baseDir: string;
  /** training.seed (the validation split's). */
  seed: number;
  /** The model config's label2id, when it has one. */
  label2id?: Record<string, number>;
  /** Token counting for statistics; without it no statistics are computed. */
  tokens?: { counter: TokenCounter; name: string };
  chunkBytes?: number;
}

export interface PreparedData {
  train: Example[];
  validation: Example[];
  labels?: LabelSet;
  report: DataReport;
}

interface Loaded {
  examples: Example[];
  /** The layout its rows were read with (detected from the first row for `sft`). */
  layout: RowLayout | undefined;
  file: FileReport;
  clean: Cleaner;
  duplicates: DedupReport;
}

async function loadFile(
  path: string,
  cfg: ResolvedDataConfig,
  opts: Pick<PrepareOptions, 'chunkBytes'>,
  badRows: BadRows,
  rows: RowLayout | 'sft',
): Promise<Loaded> {
  const format = formatOf(path);
  let layout: RowLayout | undefined;
  const cleaner = new Cleaner(cfg.clean);
  const before = badRows.perFile.get(path) ?? 0;
  let examples: Example[] = [];
  for await (const batch of loadBatches(path, {
    rows,
    onLayout: (l) => {
      layout = l;
    },
    columns: columnsFor(cfg),
    badRows,
    ...(opts.chunkBytes === undefined ? {} : { chunkBytes: opts.chunkBytes }),
  })) {
    // Cleaned as they arrive, so the raw texts of a large file are not all kept at once.
    for (const e of batch) {
      const c = cleaner.example(e);
      if (c) examples.push(c);
    }
  }
  const duplicates = emptyDedupReport();
  if (cfg.clean.dedup) examples = dedupExact(examples, duplicates);
  if (cfg.clean.near_dedup) examples = dedupNear(examples, duplicates);
  const skipped = (badRows.perFile.get(path) ?? 0) - before;
  const file: FileReport = { path, format, examples: cleaner.counts.examples, skipped };
  if (examples.length === 0) {
    throw new DataError(
      'empty-dataset',
      `${path}: no examples left (${file.examples} read, ${skipped} bad rows skipped, ${cleaner.counts.emptied + cleaner.counts.answersLost} dropped by cleaning, ${duplicates.exact + duplicates.near} duplicates removed)`,
      undefined,
      'at least one usable example',
    );
  }
  return { examples, layout, file, clean: cleaner, duplicates };
}

/**
 * data.unlabeled (distillation's transfer set): text rows without labels, loaded and cleaned as
 * the training file is, bad rows following data.on_bad_rows.
 */
export async function loadUnlabeled(
  path: string,
  cfg: ResolvedDataConfig,
  opts: Pick<PrepareOptions, 'chunkBytes'> = {},
): Promise<Example[]> {
  const badRows = new BadRows(cfg.on_bad_rows);
  return (await loadFile(path, cfg, opts, badRows, 'text')).examples;
}

export async function prepareData(cfg: ResolvedDataConfig, opts: PrepareOptions): Promise<PreparedData> {
  if (cfg.validation !== undefined && cfg.validation_split !== undefined) {
    throw new DataError('config', 'data.validation and data.validation_split are both set', undefined, 'one of them');
  }
  const badRows = new BadRows(cfg.on_bad_rows);
  const seed = opts.seed;
  // A language-modelling dataset is read in data.format's layout, else the first training row's;
  // the validation file is read in the training file's.
  const rows = opts.format.rows === 'sft' ? (cfg.format ?? 'sft') : opts.format.rows;
  const train = await loadFile(resolve(opts.baseDir, cfg.train), cfg, opts, badRows, rows);
  let trainExamples = train.examples;
  let validationExamples: Example[] = [];
  let validation: Loaded | undefined;
  let split: DataReport['split'];
  if (cfg.validation !== undefined) {
    validation = await loadFile(resolve(opts.baseDir, cfg.validation), cfg, opts, badRows, train.layout ?? rows);
    validationExamples = validation.examples;
  } else if (cfg.validation_split !== undefined) {
    // Stratify classes, not regression targets (a float label is its own stratum of one).
    const regression = trainExamples.some(
      (e) => e.kind === 'text' && typeof e.label === 'number' && !Number.isInteger(e.label),
    );
    const stratified = opts.format.labels === 'classes' && !regression;
    const parts = splitValidation(trainExamples, cfg.validation_split, seed, stratified);
    if (parts.validation.length === 0 || parts.train.length === 0) {
      throw new DataError(
        'empty-dataset',
        `data.validation_split ${cfg.validation_split} of ${trainExamples.length} examples leaves ${parts.validation.length} for validation and ${parts.train.length} for training`,
        undefined,
        'a split that leaves examples on both sides',
      );
    }
    trainExamples = parts.train;
    validationExamples = parts.validation;
    split = { fraction: cfg.validation_split, seed, stratified };
  }

  let labels: LabelSet | undefined;
  if (opts.format.labels !== undefined) {
    labels = buildLabelSet(trainExamples, opts.label2id);
    checkValidationLabels(validationExamples, labels);
  }
  const tagScheme = opts.format.labels === 'tags' && labels ? checkTagScheme(trainExamples, labels) : undefined;
  const leakage = checkLeakage(trainExamples, validationExamples);
  const stats = opts.tokens
    ? computeStats(trainExamples, validationExamples, {
        counter: opts.tokens.counter,
        counterName: opts.tokens.name,
        maxLength: opts.format.reportedLength?.(cfg) ?? cfg.max_length,
        grouped: opts.format.grouped?.(cfg) ?? false,
        ...(labels ? { labels } : {}),
      })
    : undefined;

  const warnings: string[] = [];
  if (badRows.count > 0) warnings.push(skippedWarning(badRows.count));
  const conflicting = train.duplicates.conflicting + (validation?.duplicates.conflicting ?? 0);
  if (conflicting > 0) warnings.push(`${conflicting} duplicated texts have different labels (first one kept)`);
  if (leakage.count > 0) warnings.push(`${leakage.count} validation examples also occur in the training data`);
  if (labels?.note) warnings.push(labels.note);
  if (tagScheme?.first) {
    const f = tagScheme.first;
    warnings.push(
      `${tagScheme.violations} tags break IOB2 (an I- tag must follow B- or I- of its type); first at ${f.file}:${f.line}: ${f.tag} after ${f.previous}`,
    );
  }

  const report: DataReport = {
    task: opts.task,
    ...(opts.format.rows === 'sft' && train.layout ? { layout: train.layout } : {}),
    files: { train: train.file, ...(validation ? { validation: validation.file } : {}) },
    ...(split ? { split } : {}),
    skipped: { count: badRows.count, rows: badRows.listed },
    clean: { train: train.clean.counts, ...(validation ? { validation: validation.clean.counts } : {}) },
    duplicates: { train: train.duplicates, ...(validation ? { validation: validation.duplicates } : {}) },
    leakage,
    sizes: { train: trainExamples.length, validation: validationExamples.length },
    ...(labels
      ? { labels: { labels: labels.labels, order: labels.order, ...(labels.note ? { note: labels.note } : {}) } }
      : {}),
    ...(tagScheme ? { tagScheme } : {}),
    ...(stats ? { stats } : {}),
    warnings,
  };
  return { train: trainExamples, validation: validationExamples, ...(labels ? { labels } : {}), report };
}
