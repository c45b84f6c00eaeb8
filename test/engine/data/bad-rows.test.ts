import assert from 'node:assert/strict';
import { test } from 'node:test';
import { csvRows } from '../../../src/engine/data/csv.js';
import { BAD_ROWS_LISTED, BadRows, DataError, type DataErrorKind } from '../../../src/engine/data/errors.js';
import { loadExamples } from '../../../src/engine/data/load.js';
import { columnsFor } from '../../../src/engine/data/records.js';
import { TASKS } from '../../../src/engine/tasks/registry.js';
import type { TaskName } from '../../../src/shared/config.js';
import { prepare } from './resolved.js';
import { jsonl, tempDir } from './tmp.js';

const tmp = tempDir();
const good = JSON.stringify({ text: 'fine', label: 'a' });

interface Broken {
  name: string;
  content: string | Buffer;
  kind: DataErrorKind;
  line: number;
  column?: number;
  task?: TaskName;
}

// One broken file per mistake, with the exact place the error must point at.
const BROKEN: Broken[] = [
  { name: 'malformed.jsonl', content: `${good}\n{"text": "x", "label": }\n`, kind: 'malformed-json', line: 2 },
  {
    name: 'object-label.jsonl',
    content: `${good}\n${good}\n{"text":"x","label":{"a":1}}\n`,
    kind: 'wrong-type',
    line: 3,
  },
  { name: 'bool-label.jsonl', content: `{"text":"x","label":true}\n`, kind: 'wrong-type', line: 1 },
  { name: 'number-text.jsonl', content: `${good}\n{"text":12,"label":"a"}\n`, kind: 'wrong-type', line: 2 },
  { name: 'missing.jsonl', content: `${good}\n{"text":"x","Label":"a"}\n`, kind: 'missing-column', line: 2 },
  { name: 'empty.jsonl', content: `${good}\n\n{"text":"  ","label":"a"}\n`, kind: 'empty-text', line: 3 },
  { name: 'array-line.jsonl', content: `${good}\n[1,2]\n`, kind: 'wrong-type', line: 2 },
  {
    name: 'bad-utf8.jsonl',
    content: Buffer.concat([
      Buffer.from(`${good}\n{"text":"`),
      Buffer.from([0xc3, 0x28]),
      Buffer.from('","label":"a"}\n'),
    ]),
    kind: 'encoding',
    line: 2,
  },
  { name: 'too-many.csv', content: 'text,label\nok,a\nx,a,extra\n', kind: 'field-count', line: 3, column: 3 },
  { name: 'too-few.csv', content: 'text,label\nlonely\n', kind: 'field-count', line: 2, column: 2 },
  {
    name: 'closing-quote.csv',
    content: 'text,label\nok,a\n"two\nlines",a\n"x"y,a\n',
    kind: 'quoting',
    line: 5,
    column: 1,
  },
  { name: 'unclosed.csv', content: 'text,label\nok,a\n"never closed,a\nok,a\n', kind: 'quoting', line: 3 },
  { name: 'bare-quote.csv', content: 'text,label\nok,a\nsay "hi",a\n', kind: 'quoting', line: 3, column: 1 },
  { name: 'empty-field.csv', content: 'text,label\n,a\n', kind: 'empty-text', line: 2, column: 1 },
  { name: 'missing-col.csv', content: 'text,Label \nx,a\n', kind: 'missing-column', line: 1 },
  {
    name: 'bad-utf8.csv',
    content: Buffer.concat([Buffer.from('text,label\nok,a\nok,'), Buffer.from([0xff]), Buffer.from('\n')]),
    kind: 'encoding',
    line: 3,
    column: 2,
  },
  {
    name: 'tags.jsonl',
    content: jsonl([{ tokens: ['a', 'b'], tags: ['O'] }]),
    kind: 'inconsistent',
    line: 1,
    task: 'token-classification',
  },
  {
    name: 'answer.jsonl',
    content: jsonl([{ question: 'q', context: 'abc def', answers: { text: ['def'], answer_start: [3] } }]),
    kind: 'inconsistent',
    line: 1,
    task: 'question-answering',
  },
  {
    name: 'answers-shape.csv',
    content: 'question,context,answers\nq,abc,"{""text"":""abc""}"\n',
    kind: 'wrong-type',
    line: 2,
    column: 3,
    task: 'question-answering',
  },
];

async function drain(file: string, task: TaskName, badRows: BadRows): Promise<number> {
  let n = 0;
  for await (const _ of loadExamples(file, {
    rows: TASKS[task].data.rows,
    columns: columnsFor({ train: '' }),
    badRows,
  }))
    n++;
  return n;
}

for (const b of BROKEN) {
  test(`${b.name}: ${b.kind} at line ${b.line}${b.column ? `, column ${b.column}` : ''}`, async () => {
    const file = tmp.write(b.name, b.content);
    await assert.rejects(drain(file, b.task ?? 'text-classification', new BadRows('error')), (e: unknown) => {
      assert.ok(e instanceof DataError, String(e));
      assert.equal(e.kind, b.kind, e.message);
      assert.equal(e.source?.file, file);
      assert.equal(e.source?.line, b.line, e.message);
      if (b.name.endsWith('.csv')) assert.equal(e.source?.column, b.column, e.message);
      assert.ok(e.expected, `says what was expected: ${e.message}`);
      assert.ok(e.message.startsWith(`${file}:${b.line}`), e.message);
      return true;
    });
  });
}

test('skip mode: each broken row is dropped and listed, the rest of the file still loads', async () => {
  for (const b of BROKEN.filter((x) => x.kind !== 'missing-column' || !x.name.endsWith('.csv'))) {
    const file = tmp.write(`skip-${b.name}`, b.content);
    const badRows = new BadRows('skip');
    const loaded = await drain(file, b.task ?? 'text-classification', badRows);
    assert.equal(badRows.count, 1, b.name);
    assert.deepEqual(
      badRows.listed.map((r) => [r.kind, r.line, r.column]),
      [[b.kind, b.line, b.name.endsWith('.csv') ? b.column : undefined]],
      b.name,
    );
    const goodRows = { 'closing-quote.csv': 2, 'unclosed.csv': 2 }[b.name];
    if (goodRows !== undefined) assert.equal(loaded, goodRows, `${b.name} resumes after the broken record`);
  }
});

test('a missing JSON field names the fields the row has', async () => {
  const file = tmp.write('fields.jsonl', '{"sentence":"x","Label":"a"}\n');
  await assert.rejects(drain(file, 'text-classification', new BadRows('error')), (e: DataError) => {
    assert.match(e.message, /no 'text' field \(fields: sentence, Label\)/);
    assert.match(e.message, /expected a 'text' field \(data\.text_column\)/);
    return true;
  });
});

test('a header without a required column stops even in skip mode', async () => {
  const file = tmp.write('hdr.csv', 'text,Label \nx,a\n');
  await assert.rejects(drain(file, 'text-classification', new BadRows('skip')), (e: DataError) => {
    assert.match(e.message, /did you mean 'Label '/);
    return e.kind === 'missing-column';
  });
});

test('on_bad_rows: skip lists the first BAD_ROWS_LISTED and counts all; an all-bad file is an empty dataset', async () => {
  const lines: string[] = [];
  for (let i = 0; i < 300; i++) lines.push(i % 3 === 0 ? JSON.stringify({ text: `ok ${i}`, label: 'a' }) : '{broken');
  const file = tmp.write('many-bad.jsonl', `${lines.join('\n')}\n`);
  const { report, train } = await prepare(
    { train: file, on_bad_rows: 'skip' },
    { task: 'text-classification', baseDir: tmp.dir },
  );
  assert.equal(train.length, 100);
  assert.equal(report.skipped.count, 200);
  assert.equal(report.files.train.skipped, 200);
  assert.equal(BAD_ROWS_LISTED, 100);
  assert.equal(report.skipped.rows.length, BAD_ROWS_LISTED);
  assert.deepEqual(
    report.skipped.rows.slice(0, 3).map((r) => r.line),
    [2, 3, 5],
  );
  const allBad = tmp.write('all-bad.jsonl', '{\n{\n');
  await assert.rejects(
    prepare({ train: allBad, on_bad_rows: 'skip' }, { task: 'text-classification', baseDir: tmp.dir }),
    (e: DataError) => e.kind === 'empty-dataset' && /2 bad rows skipped/.test(e.message),
  );
  await assert.rejects(
    prepare({ train: file }, { task: 'text-classification', baseDir: tmp.dir }),
    (e: DataError) => e.kind === 'malformed-json' && e.source?.line === 2,
  );
});

test('an unclosed quote is cut off at the record size limit and parsing resumes on the next line', async () => {
  const rows = Array.from({ length: 50 }, (_, i) => `row ${i},a`);
  const file = tmp.write('runaway.csv', `text,label\n"open,a\n${rows.join('\n')}\n`);
  const badRows = new BadRows('skip');
  const lines: number[] = [];
  const required = [{ name: 'text', key: 'data.text_column' }];
  for await (const batch of csvRows(file, { delimiter: ',', required, badRows, chunkBytes: 16, maxRecord: 100 })) {
    for (const r of batch) lines.push(r.source.line);
  }
  assert.deepEqual(
    badRows.listed.map((r) => [r.kind, r.line]),
    [['quoting', 2]],
  );
  assert.match(badRows.listed[0]?.message ?? '', /never closed \(the record grew past 100 bytes\)/);
  assert.deepEqual(
    lines,
    rows.map((_, i) => i + 3),
  );
});
