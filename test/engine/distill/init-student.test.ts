import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { everyOtherLayer, initStudent } from '../../../src/engine/distill/init-student.js';
import { readSafetensors } from '../../../src/engine/io/safetensors.js';
import { TASKS } from '../../../src/engine/tasks/registry.js';
import { Tokenizer } from '../../../src/engine/tokenize/index.js';
import { applyDefaults } from '../../../src/shared/config-validate.js';
import { FIXTURE_SENTENCES } from '../../fixtures/datasets.js';
import type { FamilyName } from '../../fixtures/tiny-configs.js';
import { writeTinyModel } from '../../fixtures/tiny-models.js';

const dir = mkdtempSync(join(tmpdir(), 'ft-distill-init-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function teacher(family: FamilyName, layers: Record<string, unknown>): string {
  const folder = join(dir, `${family}-teacher`);
  mkdirSync(folder, { recursive: true });
  writeTinyModel(folder, family, FIXTURE_SENTENCES, 3, layers);
  return folder;
}

test('every_other: student layer i is teacher layer 2i, at most half the teacher rounded up', () => {
  assert.deepEqual(everyOtherLayer(3, 6), [0, 2, 4]);
  assert.deepEqual(everyOtherLayer(3, 5), [0, 2, 4]);
  assert.deepEqual(everyOtherLayer(1, 1), [0]);
  assert.throws(
    () => everyOtherLayer(4, 6),
    /a student of 4 layers: every other layer of the teacher's 6 gives 1 to 3 layers/,
  );
  assert.throws(() => everyOtherLayer(0, 6), /a student of 0 layers/);
});

for (const [family, key, prefix] of [
  ['bert', 'num_hidden_layers', 'bert.encoder.layer.'],
  ['roberta', 'num_hidden_layers', 'roberta.encoder.layer.'],
  ['distilbert', 'n_layers', 'distilbert.transformer.layer.'],
] as const) {
  test(`distill init (${family}): the student's layers are the teacher's 0 and 2, the rest as it was, and it loads`, () => {
    const from = teacher(family, { [key]: 4 });
    const out = join(dir, `${family}-student`);
    const made = initStudent(from, 2, out);
    assert.deepEqual(made.teacherLayers, [0, 2]);
    const t = readSafetensors(join(from, 'model.safetensors')).tensors;
    const s = readSafetensors(join(out, 'model.safetensors')).tensors;
    const layerOf = (name: string) => (name.startsWith(prefix) ? Number(name.slice(prefix.length).split('.')[0]) : -1);
    let copied = 0;
    for (const [name, tensor] of t) {
      const k = layerOf(name);
      if (k < 0) assert.deepEqual(s.get(name)?.data, tensor.data, `${name} kept`);
      else if (k % 2 === 0) {
        const renamed = `${prefix}${k / 2}.${name.slice(prefix.length).split('.').slice(1).join('.')}`;
        assert.deepEqual(s.get(renamed)?.data, tensor.data, `${name} -> ${renamed}`);
        copied++;
      }
    }
    assert.ok(copied > 0);
    assert.equal([...s.keys()].filter((n) => layerOf(n) >= 2).length, 0, 'no layer 2 or 3 in the student');
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(config[key], 2);
    assert.equal(readFileSync(join(out, 'tokenizer.json'), 'utf8'), readFileSync(join(from, 'tokenizer.json'), 'utf8'));
    // Loads as a model folder: every base weight found, nothing unexpected (the fixture has no head).
    const recipe = TASKS['text-classification'].recipe({
      config: applyDefaults({ model: out, task: 'text-classification', data: { train: 'x.jsonl' } }),
      modelDir: out,
      tokenizer: Tokenizer.fromFolder(out),
      labelSet: {
        labels: ['a', 'b'],
        ids: new Map([
          ['a', 0],
          ['b', 1],
        ]),
        order: 'sorted',
      },
      seed: 0,
    });
    assert.deepEqual(recipe.loadReport.unexpected, []);
    assert.ok(
      recipe.loadReport.missing.every((n) => !n.includes('layer.')),
      recipe.loadReport.missing.join(', '),
    );
  });
}

test('distill init refuses ALBERT (one shared layer) and a student deeper than every other layer allows', () => {
  assert.throws(() => initStudent(teacher('albert', {}), 1, join(dir, 'albert-student')), /shares one layer's weights/);
  assert.throws(
    () => initStudent(teacher('bert', { num_hidden_layers: 4 }), 3, join(dir, 'deep')),
    /gives 1 to 2 layers/,
  );
});
