import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { BadRows, DataError, type Source } from '../../../src/engine/data/errors.js';
import { type LoadOptions, loadExamples } from '../../../src/engine/data/load.js';
import { columnsFor } from '../../../src/engine/data/records.js';
import { TASKS } from '../../../src/engine/tasks/registry.js';
import type { DataConfig, TaskName } from '../../../src/shared/config.js';
import { checkProperty, FUZZ_HANG_GUARD, named } from '../../property.js';
import { tempDir } from './tmp.js';

// Data files as bytes (rows of each task's layout, with wrong types and missing fields, then cut,
// spliced with invalid UTF-8, NUL, BOMs, line breaks, huge lines and deep nesting) through the
// loaders, in both on_bad_rows modes and with reads of every size: each either gives examples
// with their file and line, or stops with a DataError at file:line. Any other exception fails.

const tmp = tempDir();
const MAX_LINE = 2048;

/** A field value: mostly right, sometimes of another type or huge or deeply nested. */
const oddField = fc.oneof(
  { weight: 6, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  { weight: 1, arbitrary: fc.constantFrom('', ' ', '\0', '\uFEFF', '\u2028', 'a'.repeat(3 * MAX_LINE)) },
  // Nested arrays, written into the file by render() (fast-check can't print them this deep).
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 5000 }).map((n) => `__deep_${n}__`) },
);

const words = fc.array(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 6 }), { maxLength: 5 });

/** One row of a task, as an object (fields may be missing, or odd). */
function rowOf(task: TaskName): fc.Arbitrary<Record<string, unknown>> {
  const maybe = (r: Record<string, fc.Arbitrary<unknown>>) => fc.record(r, { requiredKeys: [] });
  if (task === 'token-classification')
    return maybe({ tokens: fc.oneof(words, oddField), tags: fc.oneof(words, oddField) });
  if (task === 'question-answering')
    return fc.tuple(fc.string({ maxLength: 30 }), fc.nat(), fc.nat(), oddField).map(([context, s, n, odd]) => {
      const start = s % (context.length + 1);
      const text = context.slice(start, start + (n % 5));
      return {
        id: String(s),
        question: 'q?',
        context,
        answers: n % 7 === 0 ? odd : { text: [text], answer_start: [start] },
      };
    });
  if (task === 'causal-lm') return maybe({ text: oddField });
  // Translation rows as Hugging Face's translation datasets, summarization rows by columns (SEQ2SEQ_COLUMNS).
  if (task === 'translation') return maybe({ translation: fc.oneof(maybe({ en: oddField, de: oddField }), oddField) });
  if (task === 'summarization') return maybe({ document: oddField, summary: oddField });
  return maybe({ text: oddField, label: fc.oneof(fc.constantFrom('pos', 'neg', 0, 1), oddField) });
}

/** How the seq2seq tasks' rows above name their texts. */
const SEQ2SEQ_COLUMNS: Partial<Record<TaskName, Partial<DataConfig>>> = {
  translation: { source_lang: 'en', target_lang: 'de' },
  summarization: { source_column: 'document', target_column: 'summary' },
};

const csvCell = (v: unknown): string => {
  const s = typeof v === 'string' ? v : (JSON.stringify(v) ?? '');
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
};

/** Byte edits: what a broken download, a wrong encoding or a stray binary file leaves. */
const byteEdit: fc.Arbitrary<(b: Buffer) => Buffer> = fc.oneof(
  fc.nat().map((n) => named(`truncate at ${n}`, (b: Buffer) => b.subarray(0, n % (b.length + 1)))),
  fc
    .tuple(
      fc.nat(),
      fc.constantFrom(
        [0xff],
        [0xc3],
        [0xc0, 0x80],
        [0xed, 0xa0, 0x80],
        [0xf4, 0x90, 0x80, 0x80],
        [0x00],
        [0xef, 0xbb, 0xbf],
        [0xff, 0xfe],
        [0x0d],
        [0x0a],
        [0x22],
        [0x2c],
        [0x5b],
      ),
    )
    .map(([n, bytes]) =>
      named(`insert bytes ${JSON.stringify(bytes)} at ${n}`, (b: Buffer) => {
        const at = n % (b.length + 1);
        return Buffer.concat([b.subarray(0, at), Buffer.from(bytes), b.subarray(at)]);
      }),
    ),
  fc.tuple(fc.nat(), fc.integer({ min: MAX_LINE - 2, max: 3 * MAX_LINE })).map(([n, size]) =>
    named(`insert ${size} x at ${n}`, (b: Buffer) => {
      const at = n % (b.length + 1);
      return Buffer.concat([b.subarray(0, at), Buffer.alloc(size, 0x78), b.subarray(at)]);
    }),
  ),
  fc
    .uint8Array({ maxLength: 64 })
    .map((u) => named(`append bytes ${JSON.stringify([...u])}`, (b: Buffer) => Buffer.concat([b, Buffer.from(u)]))),
  fc.constant(named('LF to CRLF', (b: Buffer) => Buffer.from(b.toString('latin1').replaceAll('\n', '\r\n'), 'latin1'))),
);

const TASK_NAMES = Object.keys(TASKS) as TaskName[];

const dataFile = fc
  .record({
    task: fc.constantFrom(...TASK_NAMES),
    format: fc.constantFrom('jsonl', 'csv', 'tsv'),
    mode: fc.constantFrom<'error' | 'skip'>('error', 'skip'),
    chunkBytes: fc.constantFrom(16, 100, 4096, 1 << 16),
    edits: fc.array(byteEdit, { maxLength: 3 }),
  })
  .chain((f) => fc.record({ f: fc.constant(f), rows: fc.array(rowOf(f.task), { maxLength: 12 }) }));

function render(format: string, rows: Record<string, unknown>[]): Buffer {
  const deep = (text: string) =>
    text.replace(/"?__deep_(\d+)__"?/g, (_, n) => `${'['.repeat(Number(n))}${']'.repeat(Number(n))}`);
  if (format === 'jsonl') return Buffer.from(deep(rows.map((r) => `${JSON.stringify(r)}\n`).join('')));
  const sep = format === 'csv' ? ',' : '\t';
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const line = (cells: string[]) => `${cells.join(sep)}\n`;
  return Buffer.from(deep(line(columns) + rows.map((r) => line(columns.map((c) => csvCell(r[c])))).join('')));
}

let inputs = 0;

test(
  'data files of every kind of damage: examples or a DataError at file:line, nothing else',
  FUZZ_HANG_GUARD,
  async () => {
    await checkProperty(
      'data loaders',
      dataFile,
      async ({ f, rows }) => {
        const bytes = f.edits.reduce((b, edit) => edit(b), render(f.format, rows));
        const file = tmp.write(`d${inputs++}.${f.format}`, bytes);
        // Lines as an editor counts them (a lone CR ends one too). csv-parse, on a file whose lines
        // end in CR CR LF (a CRLF file converted twice), counts the CR and the LF apart: its lines
        // are then bounded by the count of both.
        const text = bytes.toString('latin1');
        const lines = (f.format === 'jsonl' ? text.split(/\r\n|\r|\n/) : text.split(/\r|\n/)).length;
        const located = (s: Source | undefined, what: string) => {
          assert.ok(s, `${what} has no place`);
          assert.equal(s.file, file);
          assert.ok(
            Number.isInteger(s.line) && s.line >= 1 && s.line <= lines,
            `${what} at line ${s.line} of ${lines}`,
          );
        };
        const opts: LoadOptions = {
          rows: TASKS[f.task].data.rows,
          columns: columnsFor({ train: '', ...SEQ2SEQ_COLUMNS[f.task] }),
          badRows: new BadRows(f.mode),
          chunkBytes: f.chunkBytes,
          maxLineBytes: MAX_LINE,
        };
        try {
          for await (const e of loadExamples(file, opts)) located(e.source, 'an example');
        } catch (error) {
          if (!(error instanceof DataError)) throw error;
          located(error.source, `DataError '${error.message}'`);
          assert.ok(error.message.startsWith(`${file}:${error.source?.line}`), error.message);
        }
        for (const bad of opts.badRows.listed) located(bad, `skipped row '${bad.message}'`);
      },
      { numRuns: 300 },
    );
  },
);
