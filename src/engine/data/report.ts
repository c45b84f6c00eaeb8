import type { CleanCounts, DataReport, DedupReport, FileReport } from '../../shared/data-report.js';
import { BAD_ROWS_LISTED, type BadRows, formatSource } from './errors.js';
import { renderStats } from './stats.js';

/**
 * What data preparation did, as one structured object (its type is the run-directory contract in
 * src/shared/data-report.ts): the trainer logs `renderReport` and writes `reportJson` to the run
 * directory; `finetune data stats` prints either.
 */
export type { DataReport, FileReport };

/** The text form names this many rows of each list (the JSON has up to ROWS_LISTED). */
const TEXT_ROWS = 5;
const TEXT_BAD_ROWS = 20;

/** The first `n` of a list, and a line saying how many more the JSON form has. */
function firstOf<T>(items: readonly T[], n: number, indent: string): { shown: readonly T[]; more: string[] } {
  const rest = items.length - n;
  return {
    shown: items.slice(0, n),
    more:
      rest > 0
        ? [`${indent}... ${rest} more in the JSON report (a run's data-report.json; data stats --format json)`]
        : [],
  };
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
    const rows = firstOf(r.skipped.rows, TEXT_BAD_ROWS, '  ');
    for (const row of rows.shown) lines.push(`  ${row.message}`);
    lines.push(...rows.more);
  }
  lines.push('cleaning:', cleanLine('train', r.clean.train));
  if (r.clean.validation) lines.push(cleanLine('validation', r.clean.validation));
  lines.push('duplicates:', dedupLine('train', r.duplicates.train));
  if (r.duplicates.validation) lines.push(dedupLine('validation', r.duplicates.validation));
  for (const d of [r.duplicates.train, r.duplicates.validation]) {
    const conflicts = firstOf(d?.conflicts ?? [], TEXT_ROWS, '    ');
    for (const c of conflicts.shown) {
      lines.push(
        `    conflict: ${formatSource(c.removed)} repeats ${formatSource(c.kept)} with label ${c.labels[1]} instead of ${c.labels[0]}`,
      );
    }
    lines.push(...conflicts.more);
    const near = firstOf(d?.nearExamples ?? [], TEXT_ROWS, '    ');
    for (const n of near.shown) lines.push(`    near duplicate: ${formatSource(n.removed)} of ${formatSource(n.kept)}`);
    lines.push(...near.more);
  }
  lines.push(`leakage: ${r.leakage.count} validation examples also in train`);
  const leaks = firstOf(r.leakage.examples, TEXT_ROWS, '  ');
  for (const l of leaks.shown) {
    lines.push(`  ${formatSource(l.validation)} = ${formatSource(l.train)}: ${JSON.stringify(l.text)}`);
  }
  lines.push(...leaks.more);
  lines.push(`examples: ${r.sizes.train} train, ${r.sizes.validation} validation`);
  if (r.labels) {
    const order = r.labels.order === 'model-config' ? "the model config's label2id" : 'sorted';
    lines.push(`labels (${r.labels.labels.length}, ${order}): ${r.labels.labels.map(String).join(', ')}`);
  }
  let text = `${lines.join('\n')}\n`;
  if (r.stats) text += renderStats(r.stats);
  for (const w of r.warnings) text += `warning: ${w}\n`;
  return text;
}

/** The report as plain JSON (for the run directory and events). */
export function reportJson(r: DataReport): Record<string, unknown> {
  return JSON.parse(JSON.stringify(r)) as Record<string, unknown>;
}
