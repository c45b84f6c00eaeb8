import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { distillationLoss } from '../../../src/engine/distill/kd-loss.js';
import { predictedMask } from '../../../src/engine/distill/lm-plan.js';
import { tensorNumbers, tensorOf, type Value } from '../../../src/engine/graph/types.js';
import { readSafetensors } from '../../../src/engine/io/safetensors.js';
import { IGNORE_INDEX } from '../../../src/engine/tasks/encoder/task-models.js';
import { resumeRun, trainFromConfig } from '../../../src/engine/train/finetune.js';
import {
  GPT2_FIXTURE_SENTENCES,
  patternedLmConfig,
  patternedSentences,
  writePatternedLmData,
  writeTinyGpt2,
} from '../../fixtures/tiny-gpt2.js';
import { gradCheck } from '../helpers/gradcheck.js';
import { testSeed } from '../helpers/random.js';
import { evalMetrics, lossByStep, readEvents } from '../helpers/run-events.js';
import { trainUntilStopped } from '../helpers/tiny-run.js';

/**
 * Causal-LM distillation (lm-plan.ts, lm-teacher.ts): the per-token KL over the vocabulary at the
 * positions the LM loss predicts, gradient-checked in the shape the student model feeds it; a tiny
 * GPT-2 teacher (2 layers, trained first) distilled into a 1-layer student with the same tokenizer,
 * which learns; resume exact (the teacher's logits are recomputed per batch, deterministically);
 * another tokenizer is refused, naming both.
 */
const dir = mkdtempSync(join(tmpdir(), 'ft-lm-distill-'));
after(() => rmSync(dir, { recursive: true, force: true }));
for (const [name, layers, seed] of [
  ['base', 2, 1],
  ['student', 1, 2],
] as const) {
  mkdirSync(join(dir, name));
  writeTinyGpt2(join(dir, name), GPT2_FIXTURE_SENTENCES, { seed, config: { n_layer: layers } });
}
mkdirSync(join(dir, 'other'));
writeTinyGpt2(join(dir, 'other'), ['a wholly different corpus', 'with other words in it'], { config: { n_layer: 1 } });
writePatternedLmData(dir, 160, patternedSentences(32, 2));

const config = (model: string, distillation = '') => patternedLmConfig({ model, epochs: 4, training: distillation });
const teacherRun = join(dir, 'teacher-run');
const distill = '  distillation:\n    teacher: teacher-run\n    temperature: 2\n    alpha: 0.5\n';
writeFileSync(join(dir, 'teacher.finetune.yaml'), config('./base'));
const studentConfig = join(dir, 'student.finetune.yaml');
writeFileSync(studentConfig, config('./student', distill));
writeFileSync(join(dir, 'other.finetune.yaml'), config('./other', distill));

test('per-token KL over the vocabulary: the mask keeps the predicted positions; gradient check in the [B, T, V] layout', async () => {
  const labels = tensorOf('int64', [2, 3], [4, IGNORE_INDEX, 1, 0, 5, IGNORE_INDEX]);
  assert.deepEqual(tensorNumbers(predictedMask(labels)), [1, 0, 1, 1, 1, 0]);
  const report = await gradCheck(
    {
      op: 'LogSoftmax',
      name: 'causal KD T=2 α=0.5 [2,3,6]',
      inputs: [
        { shape: [2, 3, 6] },
        { shape: [2, 3, 6], grad: false },
        { shape: [2, 3], grad: false, values: tensorNumbers(predictedMask(labels)) },
        { shape: [2, 3], kind: 'index', values: tensorNumbers(labels) },
      ],
      // As studentModel feeds it: rows of the vocabulary, one per token.
      build: (g, xs) =>
        distillationLoss(g, {
          student: g.reshape(xs[0] as Value, [-1, 6]),
          teacher: g.reshape(xs[1] as Value, [-1, 6]),
          kdMask: g.reshape(xs[2] as Value, [-1]),
          labels: g.reshape(xs[3] as Value, [-1]),
          temperature: 2,
          alpha: 0.5,
        }).loss,
    },
    testSeed(),
  );
  assert.ok(report.checked > 0);
});

test('a GPT-2 teacher distilled into a 1-layer student: the student learns; resume is exact', {
  timeout: 600_000,
}, async () => {
  assert.equal(
    (await trainFromConfig(join(dir, 'teacher.finetune.yaml'), teacherRun, { threads: 1 })).outcome,
    'completed',
  );
  const whole = join(dir, 'run-whole');
  assert.equal((await trainFromConfig(studentConfig, whole, { threads: 1 })).outcome, 'completed');
  const log = readFileSync(join(whole, 'engine.log'), 'utf8');
  assert.match(log, /teacher: .*teacher-run\/final \(same tokenizer, \d+ tokens\); its logits are computed per batch/);
  const losses = [...lossByStep(readEvents(whole)).values()];
  assert.equal(losses.length, 40);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  assert.ok(
    mean(losses.slice(-5)) < 0.5 * mean(losses.slice(0, 5)),
    `losses ${losses.slice(0, 5)} … ${losses.slice(-5)}`,
  );
  const teacherPpl = evalMetrics(teacherRun).at(-1)?.perplexity ?? Number.NaN;
  const ppl = evalMetrics(whole).flatMap((m) => (m.perplexity === undefined ? [] : [m.perplexity]));
  console.log(`teacher perplexity ${teacherPpl}, distilled student ${ppl.join(' → ')}`);
  assert.equal(ppl.length, 4);
  assert.ok((ppl.at(-1) ?? Number.NaN) < 0.5 * (ppl[0] ?? Number.NaN), `student perplexity ${ppl}`);

  // alpha 1: the teacher's distributions alone (no gold next tokens) still teach the language.
  const teacherOnly = join(dir, 'teacher-only.finetune.yaml');
  writeFileSync(teacherOnly, config('./student', distill.replace('alpha: 0.5', 'alpha: 1')));
  assert.equal((await trainFromConfig(teacherOnly, join(dir, 'run-alpha1'), { threads: 1 })).outcome, 'completed');
  const alone = evalMetrics(join(dir, 'run-alpha1')).flatMap((m) => (m.perplexity === undefined ? [] : [m.perplexity]));
  console.log(`alpha 1 (KL only): student perplexity ${alone.join(' → ')}`);
  assert.ok((alone.at(-1) ?? Number.NaN) < 0.5 * (alone[0] ?? Number.NaN), `alpha 1 perplexity ${alone}`);

  const resumed = join(dir, 'run-resumed');
  await trainUntilStopped(studentConfig, resumed, 15); // mid epoch 2
  assert.equal(await resumeRun(resumed, { threads: 1 }), 'completed');
  const want = lossByStep(readEvents(whole));
  const got = lossByStep(readEvents(resumed));
  assert.equal(got.size, want.size);
  for (const [step, loss] of want) assert.equal(got.get(step), loss, `step ${step} loss`);
  const a = readSafetensors(join(whole, 'final', 'model.safetensors')).tensors;
  const b = readSafetensors(join(resumed, 'final', 'model.safetensors')).tensors;
  for (const [name, t] of a) assert.deepEqual(b.get(name)?.data, t.data, `${name} after resume`);

  // A student with another tokenizer: refused before training, naming both tokenizer.json files.
  await assert.rejects(
    trainFromConfig(join(dir, 'other.finetune.yaml'), join(dir, 'run-other'), { threads: 1 }),
    /the teacher's tokenizer .*teacher-run\/final\/tokenizer\.json \(BPE, \d+ tokens\) is not the student's .*other\/tokenizer\.json \(BPE, \d+ tokens\)/,
  );
});
