import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { JsonlTail } from '../../src/extension/panel/jsonl-tail.js';

const dir = mkdtempSync(join(tmpdir(), 'jsonl-tail-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const fresh = () => join(dir, `events-${n++}.jsonl`);

test('a file that does not exist yet reads as nothing', async () => {
  assert.deepEqual(await new JsonlTail(fresh()).read(), { values: [], reset: false, badLines: 0 });
});

test('each read returns only the lines appended since the last one', async () => {
  const path = fresh();
  const tail = new JsonlTail<{ step: number }>(path);
  writeFileSync(path, '{"step":1}\n{"step":2}\n');
  assert.deepEqual((await tail.read()).values, [{ step: 1 }, { step: 2 }]);
  assert.deepEqual((await tail.read()).values, []);
  appendFileSync(path, '{"step":3}\n');
  assert.deepEqual((await tail.read()).values, [{ step: 3 }]);
  assert.equal(tail.position, Buffer.byteLength('{"step":1}\n{"step":2}\n{"step":3}\n'));
});

test('a partial last line waits for the rest of it', async () => {
  const path = fresh();
  const tail = new JsonlTail(path);
  writeFileSync(path, '{"step":1}\n{"st');
  assert.deepEqual((await tail.read()).values, [{ step: 1 }]);
  appendFileSync(path, 'ep":2');
  assert.deepEqual((await tail.read()).values, []);
  appendFileSync(path, '}\n');
  assert.deepEqual((await tail.read()).values, [{ step: 2 }]);
});

test('a multi-byte character split between two reads decodes whole', async () => {
  const path = fresh();
  const tail = new JsonlTail<{ message: string }>(path);
  const line = Buffer.from('{"message":"naïve → 日本"}\n');
  const cut = line.indexOf(Buffer.from('日')) + 1; // inside the 3-byte character
  writeFileSync(path, line.subarray(0, cut));
  assert.deepEqual((await tail.read()).values, []);
  appendFileSync(path, line.subarray(cut));
  assert.deepEqual((await tail.read()).values, [{ message: 'naïve → 日本' }]);
});

test('complete lines that are not JSON are counted and skipped; blank lines ignored', async () => {
  const path = fresh();
  writeFileSync(path, '{"a":1}\nnot json\n\n{"a":2}\r\n');
  const r = await new JsonlTail(path).read();
  assert.deepEqual(r.values, [{ a: 1 }, { a: 2 }]);
  assert.equal(r.badLines, 1);
});

test('a file rewritten shorter, or replaced, is read again from its start', async () => {
  const path = fresh();
  const tail = new JsonlTail(path);
  writeFileSync(path, '{"a":1}\n{"a":2}\n');
  await tail.read();
  writeFileSync(path, '{"b":1}\n');
  assert.deepEqual(await tail.read(), { values: [{ b: 1 }], reset: true, badLines: 0 });
  const other = `${path}.new`;
  writeFileSync(other, '{"c":1}\n{"c":2}\n{"c":3}\n');
  renameSync(other, path);
  const r = await tail.read();
  assert.equal(r.reset, true);
  assert.deepEqual(r.values, [{ c: 1 }, { c: 2 }, { c: 3 }]);
});

test('large appends are read in chunks without losing a line', async () => {
  const path = fresh();
  const tail = new JsonlTail<{ i: number; pad: string }>(path);
  const pad = 'x'.repeat(200);
  const lines = Array.from({ length: 20_000 }, (_, i) => JSON.stringify({ i, pad })).join('\n');
  writeFileSync(path, `${lines}\n`); // ~4.3 MB: several 1 MiB chunks, lines cut at chunk edges
  const { values } = await tail.read();
  assert.equal(values.length, 20_000);
  assert.ok(values.every((v, i) => v.i === i && v.pad === pad));
});
