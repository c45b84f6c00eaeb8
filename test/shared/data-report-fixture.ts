import type { DataReport } from '../../src/shared/data-report.js';

/** The smallest well-formed data report (no statistics, nothing listed), for the reader's and guards' tests. */
export function minimalReport(): DataReport {
  const clean = {
    examples: 2,
    html: 0,
    normalized: 0,
    control: 0,
    whitespace: 0,
    lowercased: 0,
    emptied: 0,
    answersLost: 0,
  };
  const dedup = { exact: 0, exactExamples: [], conflicting: 0, conflicts: [], near: 0, nearExamples: [] };
  return {
    task: 'text-classification',
    files: { train: { path: '/ws/train.jsonl', format: 'jsonl', examples: 2, skipped: 0 } },
    skipped: { count: 0, rows: [] },
    clean: { train: clean },
    duplicates: { train: dedup },
    leakage: { count: 0, examples: [] },
    sizes: { train: 2, validation: 0 },
    warnings: [],
  };
}
