import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { FileTail, lastLines } from '../../src/extension/runs/file-tail.js';

const dir = mkdtempSync(join(tmpdir(), 'file-tail-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const fresh = () => join(dir, `events-${n++}.jsonl`);

/** What the panel makes of lines: blank ones skipped, the rest JSON. */
const json = (lines: string[]) => lines.filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as unknown);

test('a file that does not exist yet reads as nothing', async () => {
  assert.deepEqual(await new FileTail(fresh()).read(), { text: '', restarted: false });
  assert.deepEqual(await new FileTail(fresh()).readLines(), { lines: [], restarted: false });
});

test('each read returns only what was appended since the last one', async () => {
  const path = fresh();
  const text = new FileTail(path);
  const lines = new FileTail(path);
  writeFileSync(path, '{"step":1}\n{"step":2}\n');
  assert.deepEqual(await text.read(), { text: '{"step":1}\n{"step":2}\n', restarted: false });
  assert.deepEqual(json((await lines.readLines()).lines), [{ step: 1 }, { step: 2 }]);
  assert.deepEqual(await text.read(), { text: '', restarted: false });
  assert.deepEqual((await lines.readLines()).lines, []);
  appendFileSync(path, '{"step":3}\n');
  assert.equal((await text.read()).text, '{"step":3}\n');
  assert.deepEqual(json((await lines.readLines()).lines), [{ step: 3 }]);
});

test('readLines: a partial last line waits for the rest of it', async () => {
  const path = fresh();
  const tail = new FileTail(path);
  writeFileSync(path, '{"step":1}\n{"st');
  assert.deepEqual(json((await tail.readLines()).lines), [{ step: 1 }]);
  appendFileSync(path, 'ep":2');
  assert.deepEqual((await tail.readLines()).lines, []);
  appendFileSync(path, '}\n');
  assert.deepEqual(json((await tail.readLines()).lines), [{ step: 2 }]);
});

test('a multi-byte character split between two reads decodes whole', async () => {
  const path = fresh();
  const tail = new FileTail(path);
  const text = new FileTail(path);
  const line = Buffer.from('{"message":"naïve → 日本"}\n');
  const cut = line.indexOf(Buffer.from('日')) + 1; // inside the 3-byte character
  writeFileSync(path, line.subarray(0, cut));
  assert.deepEqual((await tail.readLines()).lines, []);
  assert.equal((await text.read()).text, '{"message":"naïve → ');
  appendFileSync(path, line.subarray(cut));
  assert.deepEqual(json((await tail.readLines()).lines), [{ message: 'naïve → 日本' }]);
  assert.equal((await text.read()).text, '日本"}\n');
});

test('readLines: blank lines and lines that are not JSON come through for the caller to skip', async () => {
  const path = fresh();
  writeFileSync(path, '{"a":1}\nnot json\n\n{"a":2}\r\n');
  assert.deepEqual((await new FileTail(path).readLines()).lines, ['{"a":1}', 'not json', '', '{"a":2}\r']);
});

test('a file rewritten shorter, or replaced, is read again from its start', async () => {
  const path = fresh();
  const tail = new FileTail(path);
  writeFileSync(path, '{"a":1}\n{"a":2}\n{"a":');
  await tail.readLines();
  writeFileSync(path, '{"b":1}\n');
  // The partial line of the old file is dropped with it.
  assert.deepEqual(await tail.readLines(), { lines: ['{"b":1}'], restarted: true });
  const other = `${path}.new`;
  writeFileSync(other, '{"c":1}\n{"c":2}\n{"c":3}\n');
  renameSync(other, path);
  const r = await tail.readLines();
  assert.equal(r.restarted, true);
  assert.deepEqual(json(r.lines), [{ c: 1 }, { c: 2 }, { c: 3 }]);

  const log = fresh();
  const text = new FileTail(log);
  writeFileSync(log, 'INFO one\nINFO two\n');
  await text.read();
  writeFileSync(log, 'INFO new\n');
  assert.deepEqual(await text.read(), { text: 'INFO new\n', restarted: true });
});

test('large appends are read in chunks without losing a line', async () => {
  const path = fresh();
  const tail = new FileTail(path);
  const pad = 'x'.repeat(200);
  const lines = Array.from({ length: 20_000 }, (_, i) => JSON.stringify({ i, pad })).join('\n');
  writeFileSync(path, `${lines}\n`); // ~4.3 MB: several 1 MiB chunks, lines cut at chunk edges
  const values = json((await tail.readLines()).lines) as { i: number; pad: string }[];
  assert.equal(values.length, 20_000);
  assert.ok(values.every((v, i) => v.i === i && v.pad === pad));
});

test('lastLines: the last non-empty lines, [] for a missing file', async () => {
  const path = fresh();
  writeFileSync(path, 'a\nb\n\nc\r\nd\n');
  assert.deepEqual(await lastLines(path, 3), ['b', 'c', 'd']);
  // Reading only the end: the first line read may be cut, so it is dropped.
  assert.deepEqual(await lastLines(path, 3, 6), ['c', 'd']);
  assert.deepEqual(await lastLines(path, 3, 5), ['d']);
  assert.deepEqual(await lastLines(fresh(), 3), []);
});
