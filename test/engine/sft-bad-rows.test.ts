import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { trainFromConfig } from '../../src/engine/train/finetune.js';
import { MISTRAL_TEMPLATE, writeChatGpt2 } from '../fixtures/chat.js';
import { toJsonl } from '../fixtures/datasets.js';
import { GPT2_FIXTURE_SENTENCES } from '../fixtures/tiny-gpt2.js';
import { tempDir } from './data/tmp.js';

// Supervised rows found bad at any stage follow data.on_bad_rows: the loader's (a missing column,
// an empty assistant turn) and the encoder's (a conversation the chat template refuses). With
// `skip` each is dropped and listed in data-report.json by file, line and reason; by default the
// run stops with the located error. A chat GPT-2 with Mistral's template, which refuses roles
// that do not alternate (raise_exception), stands for any chat model.

const tmp = tempDir();
const turns = (...pairs: [string, string][]) => pairs.map(([role, content]) => ({ role, content }));
const good = (i: number) => ({
  messages: turns(['user', `the cat ${i}`], ['assistant', 'sees the ball every day']),
});

/** Line 3: refused by the template (user, user); line 5: an empty assistant turn; line 7: no messages. */
const ROWS = [
  good(1),
  good(2),
  { messages: turns(['user', 'a dog'], ['user', 'helps']) },
  good(3),
  { messages: turns(['user', 'the bird'], ['assistant', ' ']) },
  good(4),
  { prompt: 'my friend', completion: ' calls' },
  // Longer than max_length: truncated, as data.on_long_rows says, not a bad row.
  { messages: turns(['user', 'the teacher'], ['assistant', 'likes a book in the morning and the river at night']) },
];

before(() => {
  mkdirSync(join(tmp.dir, 'model'));
  writeChatGpt2(join(tmp.dir, 'model'), GPT2_FIXTURE_SENTENCES, { template: MISTRAL_TEMPLATE });
});

/** A run over `rows` with data.on_bad_rows as given (absent: the default). */
async function train(name: string, rows: readonly object[], onBadRows?: 'skip' | 'error') {
  const data = tmp.write(`${name}.jsonl`, toJsonl(rows));
  const config = tmp.write(
    `${name}.finetune.yaml`,
    `model: ./model
task: causal-lm
data: {train: ${name}.jsonl, format: messages, max_length: 28, shuffle: false${onBadRows ? `, on_bad_rows: ${onBadRows}` : ''}}
training: {epochs: 1, batch_size: 2, learning_rate: 1.0e-3, seed: 1}
device: cpu
`,
  );
  const runDir = join(tmp.dir, `${name}-run`);
  return { data, runDir, result: trainFromConfig(config, runDir, { threads: 1 }) };
}

test('on_bad_rows: skip drops the refused, empty and incomplete rows and lists each by file, line and reason', async () => {
  const { data, runDir, result } = await train('skip', ROWS, 'skip');
  assert.equal((await result).outcome, 'completed');
  const report = JSON.parse(readFileSync(join(runDir, 'data-report.json'), 'utf8'));
  assert.equal(report.skipped.count, 3);
  assert.deepEqual(
    report.skipped.rows.map((r: { kind: string; file: string; line: number }) => [r.kind, r.file, r.line]),
    [
      // The loader's rows come first (found while reading), then the encoder's.
      ['empty-text', data, 5],
      ['missing-column', data, 7],
      ['inconsistent', data, 3],
    ],
  );
  assert.match(
    report.skipped.rows[2].message,
    /^.*skip\.jsonl:3: the chat template refused the conversation \(user, user\): Conversation roles must alternate/,
  );
  assert.equal(report.files.train.skipped, 3);
  assert.ok(report.warnings.includes('3 bad rows were skipped (data.on_bad_rows: skip)'), report.warnings);
  // Counted once: the loader's warning for its 2 rows is replaced, not kept beside the new one.
  assert.ok(!report.warnings.includes('2 bad rows were skipped (data.on_bad_rows: skip)'));
  assert.deepEqual(report.encoding.slice(0, 1), ['long rows: 1 truncated to 28 tokens']);
  assert.equal(report.sizes.train, 6); // what preparation kept; encoding then dropped line 3
  const log = readFileSync(join(runDir, 'engine.log'), 'utf8');
  assert.match(log, /skipped rows while encoding: 1 \(data\.on_bad_rows: skip\)/);
});

test('on_bad_rows: error (the default) stops at the refused conversation with its file and line', async () => {
  const { result } = await train('error', ROWS.slice(0, 4));
  await assert.rejects(result, /error\.jsonl:3: the chat template refused the conversation \(user, user\)/);
});

test('skip: a training file with nothing left after encoding is an error, not an empty run', async () => {
  const { result } = await train('none', [ROWS[2] as object], 'skip');
  await assert.rejects(result, /no training examples left after encoding \(1 prepared, 1 skipped as bad\)/);
});
