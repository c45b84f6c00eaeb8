import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, test } from 'node:test';
import { predictJsonl } from '../../src/engine/commands/jsonl-predict.js';
import { LineTooLongError, textLines } from '../../src/engine/util/text-lines.js';

const dir = mkdtempSync(join(tmpdir(), 'jsonl-predict-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function collect(lines: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const line of lines) out.push(line);
  return out;
}

test('textLines: LF and CRLF ends, a leading BOM stripped, a later U+FEFF kept', async () => {
  const text = '\uFEFFone\r\ntwo\n\uFEFFthree\n\nfour';
  assert.deepEqual(await collect(textLines(Readable.from([Buffer.from(text, 'utf8')]))), [
    'one',
    'two',
    '\uFEFFthree',
    '',
    'four',
  ]);
  // A BOM split across chunks is still one character.
  const bytes = Buffer.from('\uFEFF{"a":1}\n', 'utf8');
  const chunks = [bytes.subarray(0, 2), bytes.subarray(2)];
  assert.deepEqual(await collect(textLines(Readable.from(chunks))), ['{"a":1}']);
});

test('textLines: lone CR ends, a CRLF or a character split across chunks, and a bound on a line', async () => {
  const bytes = Buffer.from('a\rb\r\nc€\nd', 'utf8');
  for (let cut = 0; cut <= bytes.length; cut++) {
    const chunks = [bytes.subarray(0, cut), bytes.subarray(cut)];
    assert.deepEqual(await collect(textLines(Readable.from(chunks))), ['a', 'b', 'c€', 'd'], `cut at ${cut}`);
  }
  // Over the bound, in one chunk or growing over many: an error with the line's number.
  const long = ['ok\n', 'x'.repeat(50), 'x'.repeat(60), '\nnever\n'].map((s) => Buffer.from(s));
  await assert.rejects(collect(textLines(Readable.from(long), 100)), (e: unknown) => {
    assert.ok(e instanceof LineTooLongError);
    assert.equal(e.line, 2);
    return true;
  });
  await assert.rejects(collect(textLines(Readable.from([Buffer.from(`ok\n${'y'.repeat(101)}\n`)]), 100)), {
    message: 'line 2 is longer than 100 bytes, the most a line may have',
  });
});

test('predict reads a JSONL file that starts with a UTF-8 byte-order mark', async () => {
  const input = join(dir, 'bom.jsonl');
  const output = join(dir, 'out.jsonl');
  writeFileSync(input, '\uFEFF{"text":"first"}\r\n\r\n{"text":"second"}\r\n', 'utf8');
  const seen: [unknown, string][] = [];
  await predictJsonl(input, output, async (row, where) => {
    seen.push([row, where]);
    return { echo: (row as { text: string }).text };
  });
  assert.deepEqual(seen, [
    [{ text: 'first' }, `${input}:1`],
    [{ text: 'second' }, `${input}:3`],
  ]);
  assert.equal(readFileSync(output, 'utf8'), '{"echo":"first"}\n{"echo":"second"}\n');
});

test('predict still names file and line of a line that is not JSON', async () => {
  const input = join(dir, 'bad.jsonl');
  writeFileSync(input, '{"text":"ok"}\nnot json\n', 'utf8');
  await assert.rejects(
    predictJsonl(input, join(dir, 'bad-out.jsonl'), async () => ({})),
    new RegExp(`${input.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2: not valid JSON`),
  );
});
