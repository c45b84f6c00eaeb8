import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BadRows, type DataError } from '../../../src/engine/data/errors.js';
import { readLineChunks } from '../../../src/engine/data/lines.js';
import { formatOf, type LoadOptions, loadExamples } from '../../../src/engine/data/load.js';
import { columnsFor, type Example } from '../../../src/engine/data/records.js';
import { TASKS } from '../../../src/engine/tasks/registry.js';
import type { DataConfig, TaskName } from '../../../src/shared/config.js';
import { jsonl, tempDir } from './tmp.js';

const tmp = tempDir();

function opts(task: TaskName = 'text-classification', cfg: Partial<DataConfig> = {}, chunkBytes?: number): LoadOptions {
  return {
    rows: TASKS[task].data.rows,
    columns: columnsFor({ train: '', ...cfg }),
    badRows: new BadRows('error'),
    ...(chunkBytes === undefined ? {} : { chunkBytes }),
  };
}

async function load(file: string, o: LoadOptions = opts()): Promise<Example[]> {
  const out: Example[] = [];
  for await (const e of loadExamples(file, o)) out.push(e);
  return out;
}

const brief = (es: Example[]) =>
  es.map((e) => (e.kind === 'text' ? [e.text, e.pair, e.label, e.source.line] : [e.kind, e.source.line]));

test('JSONL: rows with their lines, blank lines and CRLF tolerated, columns from the config', async () => {
  const file = tmp.write(
    'a.jsonl',
    `${JSON.stringify({ sentence: 'good film', y: 'pos' })}\r\n\n${JSON.stringify({ sentence: 'bad', y: 'neg', extra: 1 })}\n`,
  );
  const es = await load(file, opts('text-classification', { text_column: 'sentence', label_column: 'y' }));
  assert.deepEqual(brief(es), [
    ['good film', undefined, 'pos', 1],
    ['bad', undefined, 'neg', 3],
  ]);
  assert.equal(es[0]?.source.file, file);
});

test('plain text: one example per line as datasets\' "text" loader, CRLF and blank lines skipped, bad bytes located', async () => {
  const bytes = Buffer.concat([
    Buffer.from('first line\r\n\n  \nsecond, "quoted" line\n'),
    Buffer.from([0xff, 0x0a]),
    Buffer.from('last'),
  ]);
  const file = tmp.write('a.txt', bytes);
  const skip: LoadOptions = { ...opts('masked-lm'), badRows: new BadRows('skip') };
  const es = await load(file, skip);
  assert.deepEqual(brief(es), [
    ['first line', undefined, undefined, 1],
    ['second, "quoted" line', undefined, undefined, 4],
    ['last', undefined, undefined, 6],
  ]);
  assert.deepEqual(
    skip.badRows.listed.map((r) => [r.kind, r.line]),
    [['encoding', 5]],
  );
  // The line is the text column, whatever its name; a task that needs a label finds none.
  assert.deepEqual(
    brief(await load(file, { ...opts('masked-lm', { text_column: 'body' }), badRows: new BadRows('skip') })).length,
    3,
  );
  await assert.rejects(load(tmp.write('b.txt', 'just text\n'), opts('text-classification')), /label/);
});

test('CSV: RFC 4180 quoting, multi-line fields keep the start line, integer labels, text pairs', async () => {
  const file = tmp.write('a.csv', 'premise,hypothesis,label\r\n"a, b","say ""hi""",1\r\n"two\nlines",x,0\r\nlast,y,2');
  const es = await load(file, opts('text-classification', { text_column: 'premise', text_pair_column: 'hypothesis' }));
  assert.deepEqual(brief(es), [
    ['a, b', 'say "hi"', 1, 2],
    ['two\nlines', 'x', 0, 3],
    ['last', 'y', 2, 5],
  ]);
});

test('TSV: tab-separated, bare quotes inside a field are text', async () => {
  const file = tmp.write('a.tsv', 'text\tlabel\na 5" screen\tpos\n"quoted\tfield"\tneg\n');
  assert.deepEqual(brief(await load(file)), [
    ['a 5" screen', undefined, 'pos', 2],
    ['quoted\tfield', undefined, 'neg', 3],
  ]);
});

test('a UTF-8 BOM is removed (JSONL and CSV), a U+FEFF later in the file is kept', async () => {
  const bom = '\uFEFF';
  const j = tmp.write('bom.jsonl', `${bom}${jsonl([{ text: `x${bom}`, label: 'a' }])}`);
  const c = tmp.write('bom.csv', `${bom}text,label\nhi,a\n`);
  assert.deepEqual(brief(await load(j)), [[`x${bom}`, undefined, 'a', 1]]);
  assert.deepEqual(brief(await load(c)), [['hi', undefined, 'a', 2]]);
});

test('UTF-16 files and unknown extensions are refused with what is expected', async () => {
  const u16 = tmp.write('u16.jsonl', Buffer.from('\uFEFF{"text":"a","label":"b"}\n', 'utf16le'));
  await assert.rejects(load(u16), (e: DataError) => e.kind === 'format' && /UTF-16/.test(e.message));
  assert.throws(
    () => formatOf('data.parquet'),
    (e: DataError) => e.kind === 'format' && /\.jsonl/.test(e.message),
  );
  assert.equal(formatOf('x.JSON'), 'jsonl');
  const arr = tmp.write('arr.json', '[\n{"text":"a","label":1}\n]\n');
  await assert.rejects(load(arr), (e: DataError) => e.kind === 'format' && e.source?.line === 1);
  await assert.rejects(load(`${tmp.dir}/missing.jsonl`), (e: DataError) => e.kind === 'format');
});

test('chunk boundaries do not change rows or lines (tiny reads cut multi-byte characters and quoted fields)', async () => {
  const rows = Array.from({ length: 40 }, (_, i) => ({ text: `é ${'ü'.repeat(i % 7)} 𝄞 ${i}`, label: i % 3 }));
  const j = tmp.write('many.jsonl', jsonl(rows));
  const csv = tmp.write('many.csv', `text,label\n${rows.map((r) => `"${r.text}\n""q""",${r.label}`).join('\n')}\n`);
  const whole = await load(j);
  for (const chunk of [3, 7, 64]) {
    assert.deepEqual(await load(j, opts('text-classification', {}, chunk)), whole);
    const es = await load(csv, opts('text-classification', {}, chunk));
    assert.equal(es.length, 40);
    assert.deepEqual(
      es.map((e) => e.source.line),
      rows.map((_, i) => 2 + 2 * i),
    );
  }
});

test('the line reader streams: chunks of bounded size with consecutive line numbers', async () => {
  const file = tmp.write('lines.txt', 'x'.repeat(100).concat('\n').repeat(1000));
  let next = 1;
  for await (const c of readLineChunks(file, 4096)) {
    assert.equal(c.firstLine, next);
    assert.ok(c.bytes.length <= 4096 + 101);
    next += c.lineCount;
  }
  assert.equal(next, 1001);
});

test('token classification: JSON arrays, or in CSV JSON arrays / space-separated items', async () => {
  const j = tmp.write('ner.jsonl', jsonl([{ tokens: ['John', 'lives'], ner_tags: ['B-PER', 'O'] }]));
  const c = tmp.write('ner.csv', 'tokens,tags\n"[""Paris"",""is""]",1 0\nRome is,B-LOC O\n');
  assert.deepEqual(
    (await load(j, opts('token-classification', { tags_column: 'ner_tags' }))).map(
      (e) => e.kind === 'tokens' && e.tags,
    ),
    [['B-PER', 'O']],
  );
  const es = await load(c, opts('token-classification'));
  assert.deepEqual(
    es.map((e) => (e.kind === 'tokens' ? [e.tokens, e.tags] : [])),
    [
      [
        ['Paris', 'is'],
        [1, 0],
      ],
      [
        ['Rome', 'is'],
        ['B-LOC', 'O'],
      ],
    ],
  );
});

test('question answering: SQuAD fields, answers checked against the context', async () => {
  const context = 'The cat sat on the mat.';
  const file = tmp.write(
    'qa.jsonl',
    jsonl([
      { id: 'q1', question: 'Where?', context, answers: { text: ['the mat'], answer_start: [15] } },
      { id: 2, question: 'Who?', context, answers: { text: [], answer_start: [] } },
    ]),
  );
  const es = await load(file, opts('question-answering'));
  assert.deepEqual(
    es.map((e) => e.kind === 'qa' && [e.id, e.answers.answer_start]),
    [
      ['q1', [15]],
      ['2', []],
    ],
  );
  const csv = tmp.write(
    'qa.csv',
    `question,context,answers\nWhere?,${JSON.stringify(context)},"{""text"":[""cat""],""answer_start"":[4]}"\n`,
  );
  assert.equal((await load(csv, opts('question-answering'))).length, 1);
});

test('causal LM needs only text', async () => {
  const file = tmp.write('lm.jsonl', jsonl([{ text: 'once upon a time' }]));
  const [e] = await load(file, opts('causal-lm'));
  assert.deepEqual(e?.kind === 'text' && [e.text, e.label], ['once upon a time', undefined]);
});
