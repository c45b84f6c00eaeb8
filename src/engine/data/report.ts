import type { TaskName } from '../../shared/config.js';
import type { CleanCounts } from './clean.js';
import type { DedupReport } from './dedup.js';
import { BAD_ROWS_LISTED, type BadRow, type BadRows, formatSource } from './errors.js';
import type { LabelSet, TagSchemeReport } from './labels.js';
import type { Format } from './load.js';
import type { Label, RowLayout } from './records.js';
import type { LeakageReport } from './split.js';
import { type DataStats, renderStats } from './stats.js';

/**
 * What data preparation did, as one structured object: the trainer logs `renderReport` and writes
 * `reportJson` to the run directory / as an event; `finetune data stats` prints it.
 */
export interface FileReport {
  path: string;
  format: Format;
  /** Examples read successfully (before cleaning and de-duplication). */
  examples: number;
  /** Rows skipped as bad (`on_bad_rows: skip`). */
  skipped: number;
}

/** data.augment's part of the report (src/engine/augment/ fills it in). */
export interface AugmentSample {
  original: string;
  augmented: string[];
}

export interface AugmentReport {
  /** The operations applied, as the config names them. */
  methods: string[];
  before: number;
  after: number;
  /** Copies dropped because they came out equal to their original (no synonym found, nothing deleted, ...). */
  unchanged: number;
  /** Copies dropped because mention replacement made a tag the label set lacks (B-X in IOB1 data). */
  unknownTags: number;
  /** Milliseconds spent reading WordNet's index files. */
  wordnetLoadMs?: number;
  samples: AugmentSample[];
}

export interface DataReport {
  task: TaskName;
  /** The rows' layout where the data decides it (causal-lm: text, prompt-completion or messages). */
  layout?: RowLayout;
  files: { train: FileReport; validation?: FileReport };
  split?: { fraction: number; seed: number; stratified: boolean };
  skipped: { count: number; rows: BadRow[] };
  clean: { train: CleanCounts; validation?: CleanCounts };
  duplicates: { train: DedupReport; validation?: DedupReport };
  leakage: LeakageReport;
  /** Final sizes after cleaning, de-duplication and splitting. */
  sizes: { train: number; validation: number };
  labels?: { labels: Label[]; order: LabelSet['order']; note?: string };
  tagScheme?: TagSchemeReport;
  stats?: DataStats;
  augment?: AugmentReport;
  warnings: string[];
}

/** The report's warning for skipped bad rows. */
export function skippedWarning(count: number): string {
  return `${count} bad rows were skipped (data.on_bad_rows: skip)`;
}

/**
 * The report with rows skipped after preparation added (causal-lm: supervised rows the chat
 * template refuses, found when the rows are encoded): the count, the listed rows (still at most
 * BAD_ROWS_LISTED in all), each file's count and the warning.
 */
export function withSkipped(r: DataReport, later: BadRows): DataReport {
  if (later.count === 0) return r;
  const count = r.skipped.count + later.count;
  const file = (f: FileReport): FileReport => ({ ...f, skipped: f.skipped + (later.perFile.get(f.path) ?? 0) });
  const validation = r.files.validation;
  return {
    ...r,
    files: { train: file(r.files.train), ...(validation ? { validation: file(validation) } : {}) },
    skipped: { count, rows: [...r.skipped.rows, ...later.listed].slice(0, BAD_ROWS_LISTED) },
    warnings: [skippedWarning(count), ...r.warnings.filter((w) => w !== skippedWarning(r.skipped.count))],
  };
}

function cleanLine(name: string, c: CleanCounts): string {
  const parts = [
    c.html ? `${c.html} HTML stripped` : '',
    c.normalized ? `${c.normalized} normalised` : '',
    c.control ? `${c.control} control characters removed` : '',
    c.whitespace ? `${c.whitespace} whitespace collapsed` : '',
    c.lowercased ? `${c.lowercased} lowercased` : '',
    c.emptied ? `${c.emptied} dropped (no text left)` : '',
    c.answersLost ? `${c.answersLost} dropped (answer lost)` : '',
  ].filter(Boolean);
  return `  ${name}: ${c.examples} examples${parts.length > 0 ? `; ${parts.join(', ')}` : ', unchanged'}`;
}

function dedupLine(name: string, d: DedupReport): string {
  return `  ${name}: ${d.exact} exact duplicates removed (${d.conflicting} with a different label), ${d.near} near duplicates removed`;
}

function fileLine(name: string, f: FileReport): string {
  return `  ${name}: ${f.path} (${f.format}) ${f.examples} examples read${f.skipped ? `, ${f.skipped} bad rows skipped` : ''}`;
}

export function renderReport(r: DataReport): string {
  const lines = [`data (${r.task}${r.layout ? `, ${r.layout} rows` : ''}):`, fileLine('train', r.files.train)];
  if (r.files.validation) lines.push(fileLine('validation', r.files.validation));
  if (r.split) {
    lines.push(
      `  validation: ${r.split.fraction} of train held out (seed ${r.split.seed}${r.split.stratified ? ', stratified by label' : ''})`,
    );
  }
  if (r.skipped.count > 0) {
    lines.push(
      `skipped rows: ${r.skipped.count}${r.skipped.count > r.skipped.rows.length ? ` (first ${r.skipped.rows.length})` : ''}`,
    );
    for (const row of r.skipped.rows) lines.push(`  ${row.message}`);
  }
  lines.push('cleaning:', cleanLine('train', r.clean.train));
  if (r.clean.validation) lines.push(cleanLine('validation', r.clean.validation));
  lines.push('duplicates:', dedupLine('train', r.duplicates.train));
  if (r.duplicates.validation) lines.push(dedupLine('validation', r.duplicates.validation));
  for (const d of [r.duplicates.train, r.duplicates.validation]) {
    for (const c of d?.conflicts ?? []) {
      lines.push(
        `    conflict: ${formatSource(c.removed)} repeats ${formatSource(c.kept)} with label ${c.labels[1]} instead of ${c.labels[0]}`,
      );
    }
    for (const n of d?.nearExamples ?? []) {
      lines.push(`    near duplicate: ${formatSource(n.removed)} of ${formatSource(n.kept)}`);
    }
  }
  lines.push(`leakage: ${r.leakage.count} validation examples also in train`);
  for (const l of r.leakage.examples) {
    lines.push(`  ${formatSource(l.validation)} = ${formatSource(l.train)}: ${JSON.stringify(l.text)}`);
  }
  lines.push(`examples: ${r.sizes.train} train, ${r.sizes.validation} validation`);
  if (r.labels) {
    const order = r.labels.order === 'model-config' ? "the model config's label2id" : 'sorted';
    lines.push(`labels (${r.labels.labels.length}, ${order}): ${r.labels.labels.map(String).join(', ')}`);
  }
  if (r.augment) lines.push(...renderAugment(r.augment));
  let text = `${lines.join('\n')}\n`;
  if (r.stats) text += renderStats(r.stats);
  for (const w of r.warnings) text += `warning: ${w}\n`;
  return text;
}

/** The report as plain JSON (for the run directory and events). */
export function reportJson(r: DataReport): Record<string, unknown> {
  return JSON.parse(JSON.stringify(r)) as Record<string, unknown>;
}

/** The report as log lines. */
function renderAugment(r: AugmentReport): string[] {
  const lines = [
    `augmentation: ${r.before} training examples -> ${r.after} (${r.after - r.before} copies added${r.unchanged ? `, ${r.unchanged} unchanged copies dropped` : ''}${r.unknownTags ? `, ${r.unknownTags} dropped for tags outside the label set` : ''})`,
    ...r.methods.map((m) => `  ${m}`),
  ];
  if (r.wordnetLoadMs !== undefined) lines.push(`  WordNet index read in ${r.wordnetLoadMs} ms`);
  for (const s of r.samples) {
    lines.push(`  original:  ${s.original}`);
    for (const a of s.augmented) lines.push(`    augmented: ${a}`);
  }
  return lines;
}
