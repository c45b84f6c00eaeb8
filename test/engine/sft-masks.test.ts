import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';
import type { ChatMessage } from '../../src/engine/chat/messages.js';
import { BadRows } from '../../src/engine/data/errors.js';
import type { Example } from '../../src/engine/data/records.js';
import { tensorNumbers } from '../../src/engine/graph/types.js';
import { type CausalLmRecipe, causalLmRecipe } from '../../src/engine/tasks/causal-lm/recipe.js';
import { Tokenizer } from '../../src/engine/tokenize/index.js';
import type { DataConfig, TrainingConfig } from '../../src/shared/config.js';
import { applyDefaults } from '../../src/shared/config-validate.js';
import { MISTRAL_TEMPLATE, writeChatGpt2 } from '../fixtures/chat.js';
import { toJsonl } from '../fixtures/datasets.js';
import { GPT2_FIXTURE_SENTENCES } from '../fixtures/tiny-gpt2.js';
import { prepare } from './data/resolved.js';

let dir: string;
let tokenizer: Tokenizer;
const source = { file: 'sft.jsonl', line: 3 };

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'sft-masks-'));
  writeChatGpt2(dir, GPT2_FIXTURE_SENTENCES, { config: { n_positions: 128, n_ctx: 128 } });
  tokenizer = Tokenizer.fromFolder(dir);
});

function recipe(data: Partial<DataConfig> = {}, training: TrainingConfig = {}, modelDir = dir): CausalLmRecipe {
  return causalLmRecipe({
    config: applyDefaults({ model: modelDir, task: 'causal-lm', data: { train: 'x', ...data }, training }),
    modelDir,
    tokenizer: Tokenizer.fromFolder(modelDir),
    labelSet: undefined,
    seed: 0,
  });
}

const chat = (messages: ChatMessage[]): Example => ({ kind: 'chat', messages, source });
/** A user turn and the assistant's reply. */
const turns = (user: string, reply: string): ChatMessage[] => [
  { role: 'user', content: user },
  { role: 'assistant', content: reply },
];
const completion = (prompt: string, text: string): Example => ({
  kind: 'completion',
  prompt,
  completion: text,
  source,
});

/** [token, mask] pairs of an encoded example. */
function masked(r: CausalLmRecipe, e: Example): [string, number][] {
  const [out] = r.encode([e]);
  assert.ok(out, 'the example is kept');
  return out.inputIds.map((id, t) => [tokenizer.idToToken(id) as string, out.lossMask?.[t] as number]);
}

// The expected tokens are the fixture's byte-level BPE pieces (Ġ a space, Ċ a newline) of the
// texts, written out by hand from the ChatML rendering; the masks follow TRL's definitions.
const SYSTEM_TOKENS = 's y s t e m Ċ Y ou Ġa r e Ġa Ġ help f u l Ġa s s i s t a n t .'.split(' ');
const header = (role: string[]): string[] => ['<|im_start|>', ...role, 'Ċ'];
const USER = ['u', 's', 'er'];
const ASSISTANT = 'a s s i s t a n t'.split(' ');
const unmasked = (tokens: string[]): [string, number][] => tokens.map((t) => [t, 0]);
const learned = (tokens: string[]): [string, number][] => tokens.map((t) => [t, 1]);

test('prompt-completion: tokenize(prompt + completion) + EOS, the loss from len(tokenize(prompt)) on', () => {
  const r = recipe();
  assert.deepEqual(masked(r, completion('the cat', ' sees the ball')), [
    ['the', 0],
    ['Ġcat', 0],
    ['Ġsees', 1],
    ['Ġthe', 1],
    ['Ġball', 1],
    ['<|endoftext|>', 1],
  ]);
  // An EOS already last is not doubled.
  assert.deepEqual(
    masked(r, completion('the cat', ' sees<|endoftext|>')).map(([t]) => t),
    ['the', 'Ġcat', 'Ġsees', '<|endoftext|>'],
  );
  // completion_only_loss: false trains on the prompt too.
  const all = masked(recipe({}, { completion_only_loss: false }), completion('the cat', ' sees the ball'));
  assert.deepEqual(
    all.map(([, m]) => m),
    [1, 1, 1, 1, 1, 1],
  );
});

test('messages: the loss covers each assistant reply and its <|im_end|>\\n, nothing else', () => {
  const r = recipe();
  const got = masked(
    r,
    chat([
      { role: 'user', content: 'the cat' },
      { role: 'assistant', content: 'sees a dog' },
      { role: 'user', content: 'a bird' },
      { role: 'assistant', content: 'finds the river' },
    ]),
  );
  assert.deepEqual(got, [
    ...unmasked(['<|im_start|>', ...SYSTEM_TOKENS, '<|im_end|>', 'Ċ']),
    ...unmasked([...header(USER), 'the', 'Ġcat', '<|im_end|>', 'Ċ']),
    ...unmasked(header(ASSISTANT)),
    ...learned(['s', 'ees', 'Ġa', 'Ġdog', '<|im_end|>', 'Ċ']),
    ...unmasked([...header(USER), 'a', 'Ġbird', '<|im_end|>', 'Ċ']),
    ...unmasked(header(ASSISTANT)),
    ...learned(['f', 'inds', 'Ġthe', 'Ġriver', '<|im_end|>', 'Ċ']),
  ]);
  // The ids are the whole rendering tokenized without special tokens (GPT-2 adds none anyway).
  const [e] = r.encode([chat(turns('x', 'y'))]);
  const text =
    '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nx<|im_end|>\n<|im_start|>assistant\ny<|im_end|>\n';
  assert.deepEqual(e?.inputIds, tokenizer.encode(text, null, { addSpecialTokens: false }).ids);
  // assistant_only_loss: false trains on the whole conversation.
  const whole = recipe({}, { assistant_only_loss: false }).encode([chat(turns('x', 'y'))])[0];
  assert.ok(whole?.lossMask?.every((m) => m === 1));
});

test('collate: labels are the next token where it is learned, -100 on masked tokens and padding', () => {
  const r = recipe();
  const examples = r.encode([completion('the cat', ' sees the ball'), completion('a dog', ' helps')]);
  const batch = r.collate(examples);
  const [a, b] = examples;
  assert.ok(a && b);
  const T = a.inputIds.length;
  assert.deepEqual(batch.labels?.dims, [2, T]);
  const labels = tensorNumbers(batch.labels as never);
  // Row 0: "the Ġcat | Ġsees Ġthe Ġball EOS": position t predicts token t + 1.
  assert.deepEqual(labels.slice(0, T), [-100, ...a.inputIds.slice(2), -100]);
  // Row 1: "a Ġdog | Ġhelps EOS" padded to T.
  const n = b.inputIds.length;
  assert.deepEqual(labels.slice(T, 2 * T), [
    ...new Array(n - 3).fill(-100),
    ...b.inputIds.slice(n - 2),
    ...new Array(T - n + 1).fill(-100),
  ]);
  assert.deepEqual(tensorNumbers(batch.attention_mask as never).slice(T), [
    ...new Array(n).fill(1),
    ...new Array(T - n).fill(0),
  ]);
  assert.deepEqual(tensorNumbers(batch.loss_weight as never), [1]);
});

test('long rows: truncated from the right and counted, or left out with data.on_long_rows: skip', () => {
  const long = completion('the cat', ' sees the ball every day and the bird finds the garden at night');
  const r = recipe({ max_length: 8 });
  const [cut] = r.encode([long]);
  assert.equal(cut?.inputIds.length, 8);
  assert.deepEqual(r.longRows.lines(8), ['long rows: 1 truncated to 8 tokens', '  sft.jsonl:3: 18 tokens']);
  const skip = recipe({ max_length: 8, on_long_rows: 'skip' });
  assert.deepEqual(skip.encode([long, completion('a', ' dog')]).length, 1);
  assert.equal(skip.longRows.skipped, 1);
  // A prompt that fills max_length leaves nothing to learn: left out, counted.
  const none = recipe({ max_length: 2 });
  assert.equal(none.encode([long]).length, 0);
  assert.equal(none.longRows.noTargets, 1);
});

/** Chat models whose templates fail in each way, written once: Mistral's, one whose prefixes differ, none. */
const models = {
  mistral: () => chatModel('sft-mistral-', MISTRAL_TEMPLATE),
  counting: () =>
    chatModel('sft-counting-', '{{ messages | length }}{% for m in messages %}{{ m.content }}{% endfor %}'),
  bare: () => {
    const folder = chatModel('sft-bare-');
    writeFileSync(join(folder, 'tokenizer_config.json'), JSON.stringify({ eos_token: '<|endoftext|>' }));
    return folder;
  },
};
const written = new Map<string, string>();
function chatModel(prefix: string, template?: string): string {
  let folder = written.get(prefix);
  if (!folder) {
    folder = mkdtempSync(join(tmpdir(), prefix));
    writeChatGpt2(folder, GPT2_FIXTURE_SENTENCES, template === undefined ? {} : { template });
    written.set(prefix, folder);
  }
  return folder;
}

/** The one-turn conversation "a" -> "b" encoded under the model in `modelDir`. */
const encodeAb = (modelDir: string, training: TrainingConfig = {}) =>
  recipe({}, training, modelDir).encode([chat(turns('a', 'b'))]);

test('located errors: a refused role sequence, a template whose prefixes differ, no template', () => {
  const refused = chat([
    { role: 'user', content: 'a' },
    { role: 'user', content: 'b' },
  ]);
  assert.throws(
    () => recipe({}, {}, models.mistral()).encode([refused]),
    /^DataError: sft\.jsonl:3: the chat template refused the conversation \(user, user\): Conversation roles must alternate user\/assistant\/user\/assistant\/\.\.\./,
  );
  // Mistral's template passes the prefix check: "<s>[INST] a [/INST]" then "b</s>".
  assert.equal(encodeAb(models.mistral()).length, 1);
  assert.throws(
    () => encodeAb(models.counting()),
    /sft\.jsonl:3: the chat template's rendering of messages\[:1\] with the generation prompt does not tokenize to a prefix/,
  );
  // Without assistant_only_loss the prefixes are not needed.
  assert.equal(encodeAb(models.counting(), { assistant_only_loss: false }).length, 1);
  assert.throws(
    () => encodeAb(models.bare()),
    /sft\.jsonl:3: messages rows need a chat template, and the model has none/,
  );
});

test('data: the format is detected from the first row or set; bad rows are located by file and line', async () => {
  const data = mkdtempSync(join(tmpdir(), 'sft-data-'));
  const file = join(data, 'chat.jsonl');
  writeFileSync(
    file,
    toJsonl([
      { messages: turns('hi', 'hello') },
      {
        conversations: [
          { from: 'human', value: 'hi' },
          { from: 'gpt', value: 'hey' },
        ],
      },
    ]),
  );
  const chatData = await prepare({ train: file }, { task: 'causal-lm', baseDir: data });
  assert.equal(chatData.report.layout, 'messages');
  assert.deepEqual(
    chatData.train.map((e) => (e.kind === 'chat' ? e.messages : e.kind)),
    [turns('hi', 'hello'), turns('hi', 'hey')],
  );
  /** Preparing `train` (with `format`) stops at the located row error `error`. */
  const rejects = (train: string, error: RegExp, format?: DataConfig['format']) =>
    assert.rejects(
      prepare({ train, ...(format === undefined ? {} : { format }) }, { task: 'causal-lm', baseDir: data }),
      error,
    );
  const pc = join(data, 'pc.jsonl');
  writeFileSync(pc, toJsonl([{ prompt: 'a', completion: 'b' }, { prompt: 'c' }]));
  await rejects(pc, new RegExp(`${pc.replaceAll('.', '\\.')}:2: no 'completion' field \\(fields: prompt\\)`));
  // data.format: text reads the same file as text rows, which it lacks.
  await rejects(pc, /pc\.jsonl:1: no 'text' field/, 'text');
  const empty = join(data, 'empty.jsonl');
  writeFileSync(empty, toJsonl([{ messages: turns('hi', 'ok') }, { messages: turns('hi', ' ') }]));
  await rejects(empty, /empty\.jsonl:2: 'messages'\[1\] is an empty assistant turn/);
  const shape = join(data, 'shape.jsonl');
  writeFileSync(shape, toJsonl([{ messages: [{ role: 'user', text: 'hi' }] }]));
  await rejects(shape, /shape\.jsonl:1: 'messages'\[0\]\.content is not a string/);
});

test('encode with the run’s BadRows: skip drops a row the template cannot mask, error throws it, no template is never skipped', () => {
  const counting = models.counting();
  const rows = [chat(turns('a', 'b')), completion('the cat', ' sees')];
  const skip = new BadRows('skip');
  assert.equal(recipe({}, {}, counting).encode(rows, skip).length, 1);
  assert.equal(skip.count, 1);
  assert.deepEqual(
    skip.listed.map((r) => [r.kind, r.file, r.line]),
    [['inconsistent', 'sft.jsonl', 3]],
  );
  assert.match(skip.listed[0]?.message ?? '', /^sft\.jsonl:3: the chat template's rendering of messages\[:1\]/);
  assert.throws(() => recipe({}, {}, counting).encode(rows, new BadRows('error')), /sft\.jsonl:3: the chat template's/);
  assert.throws(
    () => recipe({}, {}, models.bare()).encode(rows, new BadRows('skip')),
    /messages rows need a chat template/,
  );
});
