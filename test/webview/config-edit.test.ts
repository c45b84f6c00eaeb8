import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse } from 'yaml';
import { ConfigEditError, configEdit } from '../../src/extension/panel/config-edit.js';
import type { ConfigFormat } from '../../src/shared/config-tree.js';
import { parseConfigText } from '../../src/shared/config-tree.js';
import type { JsonValue } from '../../src/shared/messages.js';
import { applyEdits } from '../shared/helpers.js';

const YAML = `# Fine-tune config for the sentiment demo
model: ./models/bert-tiny          # folder, or a Hub id
task: text-classification
data:
  train: data/train.jsonl          # jsonl | csv | tsv
  clean: { normalize: NFKC, lowercase: false, dedup: true }
training:
  method: full                     # full | freeze | lora
  learning_rate: 2.0e-5
  warmup_ratio: 0.1                # or warmup_steps (not both)
eval:
  metrics: [accuracy, f1]
  early_stopping:
    patience: 3
# trailing comment
device: auto
`;

function edit(text: string, path: (string | number)[], value: JsonValue | undefined, format: ConfigFormat = 'yaml') {
  return applyEdits(text, configEdit(text, format, path, value));
}

/** Lines of `after` that are not in `before`, and the reverse: what an edit touched. */
function changedLines(before: string, after: string): { removed: string[]; added: string[] } {
  const a = before.split('\n');
  const b = after.split('\n');
  return { removed: a.filter((l) => !b.includes(l)), added: b.filter((l) => !a.includes(l)) };
}

test('replacing a value changes only that value, keeping its comment in its column', () => {
  const out = edit(YAML, ['model'], 'google-bert/bert-base-uncased');
  assert.deepEqual(changedLines(YAML, out), {
    removed: ['model: ./models/bert-tiny          # folder, or a Hub id'],
    added: ['model: google-bert/bert-base-uncased # folder, or a Hub id'],
  });
  const lr = edit(YAML, ['training', 'learning_rate'], 3e-5);
  assert.deepEqual(changedLines(YAML, lr), {
    removed: ['  learning_rate: 2.0e-5'],
    added: ['  learning_rate: 0.00003'],
  });
  const short = edit(YAML, ['training', 'method'], 'lora');
  assert.ok(short.includes('  method: lora                     # full | freeze | lora\n'));
});

test('a value inside a flow mapping stays in the flow mapping', () => {
  const out = edit(YAML, ['data', 'clean', 'lowercase'], true);
  assert.deepEqual(changedLines(YAML, out).added, ['  clean: { normalize: NFKC, lowercase: true, dedup: true }']);
  const added = edit(YAML, ['data', 'clean', 'near_dedup'], true);
  assert.deepEqual(changedLines(YAML, added).added, [
    '  clean: { normalize: NFKC, lowercase: false, dedup: true, near_dedup: true }',
  ]);
  const quoted = edit(YAML, ['data', 'clean', 'normalize'], 'a, b');
  assert.deepEqual(parse(quoted).data.clean.normalize, 'a, b');
});

test('lists keep their style: flow stays flow, block stays block', () => {
  const flow = edit(YAML, ['eval', 'metrics'], ['accuracy', 'f1', 'recall']);
  assert.deepEqual(changedLines(YAML, flow).added, ['  metrics: [accuracy, f1, recall]']);
  const block = 'eval:\n  metrics:\n    - accuracy # first\n    - f1\ndevice: cpu\n';
  const out = edit(block, ['eval', 'metrics'], ['f1', 'recall']);
  assert.equal(out, 'eval:\n  metrics:\n    - f1\n    - recall\ndevice: cpu\n');
});

test('a new key goes after the last key of its mapping, at its indentation', () => {
  const out = edit(YAML, ['training', 'epochs'], 5);
  assert.ok(out.includes('  warmup_ratio: 0.1                # or warmup_steps (not both)\n  epochs: 5\neval:\n'));
  assert.deepEqual(changedLines(YAML, out), { removed: [], added: ['  epochs: 5'] });
  const top = edit(YAML, ['output_dir'], 'out dir: x');
  assert.ok(top.endsWith('device: auto\noutput_dir: "out dir: x"\n'));
  assert.equal(parse(top).output_dir, 'out dir: x');
});

test('missing parents are created as nested block mappings', () => {
  const out = edit(YAML, ['training', 'lora', 'r'], 16);
  assert.deepEqual(changedLines(YAML, out), { removed: [], added: ['  lora:', '    r: 16'] });
  assert.equal(parse(out).training.lora.r, 16);
  const fresh = edit('model: x\n', ['eval', 'early_stopping', 'patience'], 2);
  assert.equal(fresh, 'model: x\neval:\n  early_stopping:\n    patience: 2\n');
});

test('removing a key removes its line (comment included); an emptied mapping goes too', () => {
  const out = edit(YAML, ['training', 'warmup_ratio'], undefined);
  assert.deepEqual(changedLines(YAML, out), {
    removed: ['  warmup_ratio: 0.1                # or warmup_steps (not both)'],
    added: [],
  });
  const emptied = edit(YAML, ['eval', 'early_stopping', 'patience'], undefined);
  assert.ok(!emptied.includes('early_stopping'));
  assert.ok(emptied.includes('  metrics: [accuracy, f1]\n# trailing comment\n'));
  assert.equal(edit(YAML, ['training', 'epochs'], undefined), YAML, 'removing a missing key changes nothing');
});

test('every other byte of the file is untouched, comments included', () => {
  for (const [path, value] of [
    [['training', 'learning_rate'], 1e-4],
    [['task'], 'token-classification'],
    [['eval', 'every'], 100],
    [['device'], undefined],
  ] as [string[], JsonValue | undefined][]) {
    const out = edit(YAML, path, value);
    for (const comment of YAML.match(/#.*$/gm) ?? [])
      assert.ok(out.includes(comment), `${path.join('.')} lost ${comment}`);
    assert.ok(parseConfigText(out, 'yaml').syntax.length === 0, `${path.join('.')} broke the syntax`);
    const expected = parse(YAML);
    let target = expected;
    for (const k of path.slice(0, -1)) target = target[k] ??= {};
    if (value === undefined) delete target[path[path.length - 1] as string];
    else target[path[path.length - 1] as string] = value;
    assert.deepEqual(parse(out), expected);
  }
});

const JSONC = `{
  // the model
  "model": "x",
  "training": { "epochs": 3 }
}
`;

test('JSON: values replaced in place, comments kept, siblings not re-formatted', () => {
  assert.equal(edit(JSONC, ['training', 'epochs'], 5, 'json'), JSONC.replace('3', '5'));
  const added = edit(JSONC, ['eval', 'metrics'], ['f1'], 'json');
  assert.equal(
    added,
    '{\n  // the model\n  "model": "x",\n  "training": { "epochs": 3 },\n  "eval": {\n    "metrics": [\n      "f1"\n    ]\n  }\n}\n',
  );
  const inline = edit(JSONC, ['training', 'batch_size'], 8, 'json');
  assert.ok(inline.includes('"training": { "epochs": 3, "batch_size": 8 }'));
  const removed = edit(JSONC, ['training', 'epochs'], undefined, 'json');
  assert.equal(removed, '{\n  // the model\n  "model": "x"\n}\n');
});

test('a file with syntax errors is not edited (the edit would be a guess)', () => {
  assert.throws(() => configEdit('model: [unclosed\n', 'yaml', ['task'], 'x'), ConfigEditError);
  assert.throws(() => configEdit('{"model": ', 'json', ['task'], 'x'), ConfigEditError);
});

test('an empty file gets its first key', () => {
  assert.equal(edit('', ['model'], 'x'), 'model: x\n');
  assert.deepEqual(JSON.parse(edit('', ['model'], 'x', 'json')), { model: 'x' });
});

test('CRLF files keep CRLF line ends', () => {
  const crlf = 'model: x\r\ntraining:\r\n  epochs: 3\r\n';
  assert.equal(edit(crlf, ['training', 'seed'], 7), 'model: x\r\ntraining:\r\n  epochs: 3\r\n  seed: 7\r\n');
});
