import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { buildLabelSet } from '../../../src/engine/data/labels.js';
import type { Example } from '../../../src/engine/data/records.js';
import { TEACHER_CACHE_DIR } from '../../../src/engine/distill/logits-cache.js';
import { planDistillation } from '../../../src/engine/distill/plan.js';
import { openTeacher } from '../../../src/engine/distill/teacher.js';
import { readSafetensors } from '../../../src/engine/io/safetensors.js';
import { TASKS } from '../../../src/engine/tasks/registry.js';
import { Tokenizer } from '../../../src/engine/tokenize/index.js';
import { resumeRun, trainFromConfig } from '../../../src/engine/train/finetune.js';
import { applyDefaults } from '../../../src/shared/config-validate.js';
import { DISTILLATION_REPORT_FILE, type DistillationReport } from '../../../src/shared/run-directory.js';
import { FIXTURE_SENTENCES, nerRows, sentimentRows, toJsonl } from '../../fixtures/datasets.js';
import { writeTinyModel } from '../../fixtures/tiny-models.js';
import { finetune } from '../helpers/cli.js';
import { evalMetrics, lossByStep, readEvents } from '../helpers/run-events.js';
import { trainUntilStopped } from '../helpers/tiny-run.js';

/**
 * Distillation end to end on generated sentiment data: a 4-layer teacher trained from the CLI, a
 * 2-layer student made by `finetune distill init` (the teacher's layers 0 and 2), the student
 * distilled from the CLI with an unlabeled transfer set; then the logits cache (reuse, resume,
 * invalidation), label-set mismatch and token classification.
 */
const dir = mkdtempSync(join(tmpdir(), 'ft-distill-'));
after(() => rmSync(dir, { recursive: true, force: true }));
mkdirSync(join(dir, 'base'));
writeTinyModel(join(dir, 'base'), 'bert', FIXTURE_SENTENCES, 1, { num_hidden_layers: 4 });
writeFileSync(join(dir, 'train.jsonl'), toJsonl(sentimentRows(320, 1)));
writeFileSync(join(dir, 'val.jsonl'), toJsonl(sentimentRows(48, 2)));
writeFileSync(join(dir, 'unlabeled.jsonl'), toJsonl(sentimentRows(64, 3).map((r) => ({ text: r.text }))));
const teacherRun = join(dir, 'teacher-run');

const config = (model: string, extra = '', training = '') => `model: ${model}
task: text-classification
data:
  train: train.jsonl
  validation: val.jsonl
  max_length: 32
${extra}training:
  epochs: 8
  batch_size: 16
  learning_rate: 3.0e-3
  warmup_ratio: 0.1
  save_steps: 8
${training}eval:
  metrics: [accuracy]
device: cpu
`;
const studentConfig = join(dir, 'student.finetune.yaml');
writeFileSync(join(dir, 'teacher.finetune.yaml'), config('./base'));
writeFileSync(
  studentConfig,
  config(
    './student',
    '  unlabeled: unlabeled.jsonl\n',
    '  distillation:\n    teacher: teacher-run\n    temperature: 2\n    alpha: 0.5\n',
  ),
);

/** `finetune <args>` in the test's folder, which must succeed. */
async function cli(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  const r = await finetune(dir, ...args);
  assert.equal(r.code, 0, `finetune ${args.join(' ')}: ${r.stderr}\n${r.stdout}`);
  return r;
}

const lastAccuracy = (runDir: string) => evalMetrics(runDir).at(-1)?.accuracy ?? Number.NaN;
const engineLog = (runDir: string) => readFileSync(join(runDir, 'engine.log'), 'utf8');
const count = (text: string, what: string) => text.split(what).length - 1;

test('from the CLI: train a teacher, `distill init` a 2-layer student, distil it with unlabeled rows; the student learns', {
  timeout: 300_000,
}, async () => {
  await cli('train', 'teacher.finetune.yaml', '--run-dir', 'teacher-run', '--threads', '1');
  const teacherAccuracy = lastAccuracy(teacherRun);
  const init = await cli('distill', 'init', '--teacher', 'teacher-run', '--layers', '2', '--out', 'student');
  assert.match(init.stdout, /student with 2 layers \(teacher layers 0, 2\)/);
  await cli('train', 'student.finetune.yaml', '--run-dir', 'student-run', '--threads', '1');
  const studentRun = join(dir, 'student-run');
  const accuracy = lastAccuracy(studentRun);
  console.log(`teacher accuracy ${teacherAccuracy}, distilled 2-layer student ${accuracy} (48 validation rows)`);
  // Chance is 0.5 on these balanced labels; the student must be well above it.
  assert.ok(accuracy >= 0.75, `student accuracy ${accuracy}`);
  const log = engineLog(studentRun);
  assert.equal(count(log, 'teacher logits: computed for'), 1, log);
  // The labelled rows left after removing duplicates, then the unlabeled ones: all of them train.
  const labelled = Number(/examples: (\d+) train/.exec(log)?.[1]);
  const rows = Number(/teacher logits: computed for (\d+) examples/.exec(log)?.[1]);
  assert.ok(rows > labelled + 50, `${rows} rows with teacher logits, ${labelled} labelled`);
  const losses = [...lossByStep(readEvents(studentRun)).values()];
  assert.equal(losses.length, 8 * Math.ceil(rows / 16));
  // It learned: the distillation loss of its last steps is well under that of its first.
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  assert.ok(
    mean(losses.slice(-8)) < 0.5 * mean(losses.slice(0, 8)),
    `losses ${losses.slice(0, 8)} … ${losses.slice(-8)}`,
  );
  const student = readSafetensors(join(studentRun, 'final', 'model.safetensors')).tensors;
  assert.ok(!student.has('bert.encoder.layer.2.output.dense.weight'), 'the exported student has 2 layers');

  // final/distillation.json: the teacher beside the student, for the run panel.
  const report = JSON.parse(
    readFileSync(join(studentRun, 'final', DISTILLATION_REPORT_FILE), 'utf8'),
  ) as DistillationReport;
  const finalJson = (run: string) => JSON.parse(readFileSync(join(run, 'final', 'metrics.json'), 'utf8'));
  const numbers = (m: Record<string, unknown>) =>
    Object.fromEntries(Object.entries(m).filter(([, v]) => typeof v === 'number'));
  assert.deepEqual(report.teacher.metrics, numbers(finalJson(teacherRun)));
  assert.deepEqual(report.student.metrics, numbers(finalJson(studentRun)));
  const parameterCount = (run: string) =>
    [...readSafetensors(join(run, 'final', 'model.safetensors')).tensors.values()].reduce(
      (sum, t) => sum + t.dims.reduce((a, b) => a * b, 1),
      0,
    );
  assert.equal(report.teacher.parameters, parameterCount(teacherRun));
  assert.equal(report.student.parameters, parameterCount(studentRun));
  assert.ok(report.teacher.parameters > report.student.parameters);
  assert.deepEqual(report.latency, { examples: 50, threads: 1 });
  for (const ms of [report.teacher.latencyMs, report.student.latencyMs])
    assert.ok(typeof ms === 'number' && ms > 0 && ms < 1000, `latency ${ms}`);
  assert.match(log, /distillation: the student has [\d.]+x fewer parameters and runs [\d.]+x faster than the teacher/);
});

test('distillation resumes exactly, reading the teacher logits from the cache instead of running the teacher', {
  timeout: 300_000,
}, async () => {
  const whole = join(dir, 'run-whole');
  const resumed = join(dir, 'run-resumed');
  assert.equal((await trainFromConfig(studentConfig, whole, { threads: 1 })).outcome, 'completed');
  const stopAt = 30; // mid epoch 2
  await trainUntilStopped(studentConfig, resumed, stopAt);
  assert.equal(await resumeRun(resumed, { threads: 1 }), 'completed');
  const log = engineLog(resumed);
  assert.equal(count(log, 'teacher logits: computed'), 1, 'the teacher ran on the first start only');
  assert.equal(count(log, 'examples read from the cache'), 1, log);
  const want = lossByStep(readEvents(whole));
  const got = lossByStep(readEvents(resumed));
  assert.equal(got.size, want.size);
  for (const [step, loss] of want) assert.equal(got.get(step), loss, `step ${step} loss`);
  const a = readSafetensors(join(whole, 'final', 'model.safetensors')).tensors;
  const b = readSafetensors(join(resumed, 'final', 'model.safetensors')).tensors;
  for (const [name, t] of a) assert.deepEqual(b.get(name)?.data, t.data, `${name} after resume`);
});

/** planDistillation on the student's recipe, counting how often a teacher session is opened and run. */
async function plan(o: { teacher: string; rows: ReturnType<typeof sentimentRows>; cacheDir: string }) {
  const resolved = applyDefaults({
    model: join(dir, 'student'),
    task: 'text-classification',
    data: { train: 'x.jsonl', max_length: 32 },
    training: { distillation: { teacher: o.teacher } },
  });
  const examples: Example[] = o.rows.map((r, i) => ({
    kind: 'text',
    text: r.text,
    label: r.label,
    source: { file: 'x.jsonl', line: i + 1 },
  }));
  const labelSet = buildLabelSet(examples);
  const recipe = TASKS['text-classification'].recipe({
    config: resolved,
    modelDir: join(dir, 'student'),
    tokenizer: Tokenizer.fromFolder(join(dir, 'student')),
    labelSet,
    seed: 1,
  });
  const runs = { opened: 0, examples: 0 };
  const result = await planDistillation({
    config: resolved,
    recipe,
    model: recipe.model,
    examples,
    encoded: recipe.encode(examples),
    unlabeled: [],
    cacheDir: o.cacheDir,
    batchSize: 16,
    log: () => {},
    open: async (path, opts) => {
      runs.opened++;
      const teacher = await openTeacher(path, { ...opts, threads: 1 });
      return {
        ...teacher,
        logits: (xs, batchSize) => {
          runs.examples += xs.length;
          return teacher.logits(xs, batchSize);
        },
      };
    },
  });
  return { runs, result };
}

test('the logits cache: reused for the same teacher and data, recomputed when either changes', async () => {
  const cacheDir = join(dir, 'cache-test', TEACHER_CACHE_DIR);
  const rows = sentimentRows(40, 5);
  const first = await plan({ teacher: teacherRun, rows, cacheDir });
  assert.deepEqual(first.runs, { opened: 1, examples: 40 });
  const again = await plan({ teacher: teacherRun, rows, cacheDir });
  assert.deepEqual(again.runs, { opened: 0, examples: 0 }, 'the same teacher and data: read from the cache');
  // The same logits either way: the batch the student sees does not depend on where they came from.
  const batchOf = (p: typeof first) => p.result.collate(p.result.train.slice(0, 4)).teacher_logits?.data;
  assert.deepEqual(batchOf(again), batchOf(first));

  const changedData = rows.map((r, i) => (i === 7 ? { ...r, text: `${r.text} indeed` } : r));
  assert.deepEqual((await plan({ teacher: teacherRun, rows: changedData, cacheDir })).runs, {
    opened: 1,
    examples: 40,
  });
  const otherTeacher = join(dir, 'teacher-copy');
  cpSync(join(teacherRun, 'final'), otherTeacher, { recursive: true });
  const cfg = JSON.parse(readFileSync(join(otherTeacher, 'config.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(otherTeacher, 'config.json'), JSON.stringify({ ...cfg, note: 'changed' }));
  assert.deepEqual((await plan({ teacher: otherTeacher, rows, cacheDir })).runs, { opened: 1, examples: 40 });
  assert.deepEqual((await plan({ teacher: otherTeacher, rows, cacheDir })).runs, { opened: 0, examples: 0 });
});

test('a teacher with another label set is refused, naming both label sets', async () => {
  const rows = [...sentimentRows(20, 6), { text: 'the food was fine', label: 'neutral' as 'positive' }];
  await assert.rejects(
    plan({ teacher: teacherRun, rows, cacheDir: join(dir, 'cache-mismatch') }),
    /teacher .*teacher-run\/final\/config\.json id2label \[negative, positive\], student \(training data\) \[negative, neutral, positive\]/,
  );
});

test('token classification: a student distilled from a NER teacher learns the tags', { timeout: 300_000 }, async () => {
  const ner = join(dir, 'ner');
  mkdirSync(join(ner, 'model'), { recursive: true });
  writeTinyModel(join(ner, 'model'), 'bert', FIXTURE_SENTENCES);
  writeFileSync(join(ner, 'train.jsonl'), toJsonl(nerRows(96, 1)));
  writeFileSync(join(ner, 'val.jsonl'), toJsonl(nerRows(32, 2)));
  const nerConfig = (training: string) => `model: ./model
task: token-classification
data: {train: train.jsonl, validation: val.jsonl, max_length: 32}
training:
  epochs: 8
  batch_size: 8
  learning_rate: 3.0e-3
${training}eval: {metrics: [f1]}
device: cpu
`;
  writeFileSync(join(ner, 'teacher.finetune.yaml'), nerConfig(''));
  writeFileSync(join(ner, 'student.finetune.yaml'), nerConfig('  distillation: {teacher: teacher-run, alpha: 0.5}\n'));
  await trainFromConfig(join(ner, 'teacher.finetune.yaml'), join(ner, 'teacher-run'), { threads: 1 });
  const student = join(ner, 'student-run');
  assert.equal(
    (await trainFromConfig(join(ner, 'student.finetune.yaml'), student, { threads: 1 })).outcome,
    'completed',
  );
  const f1 = evalMetrics(student).at(-1)?.f1 ?? Number.NaN;
  console.log(`NER teacher f1 ${evalMetrics(join(ner, 'teacher-run')).at(-1)?.f1}, distilled student f1 ${f1}`);
  assert.ok(f1 > 0.8, `student f1 ${f1}`);
  assert.match(engineLog(student), /teacher logits: computed for \d+ examples/);
});

test('hidden_loss mse: the student also learns the teacher hidden states; a student of another hidden size is refused', {
  timeout: 300_000,
}, async () => {
  const hiddenConfig = join(dir, 'hidden.finetune.yaml');
  writeFileSync(
    hiddenConfig,
    config('./student', '', '  distillation:\n    teacher: teacher-run\n    hidden_loss: mse\n'),
  );
  const runDir = join(dir, 'run-hidden');
  assert.equal((await trainFromConfig(hiddenConfig, runDir, { threads: 1 })).outcome, 'completed');
  const accuracy = lastAccuracy(runDir);
  console.log(`student with hidden_loss mse: accuracy ${accuracy}`);
  assert.ok(accuracy >= 0.75, `accuracy ${accuracy}`);
  assert.match(engineLog(runDir), /teacher logits: computed for \d+ examples/);

  mkdirSync(join(dir, 'narrow'), { recursive: true });
  writeTinyModel(join(dir, 'narrow'), 'bert', FIXTURE_SENTENCES, 2, { hidden_size: 16, intermediate_size: 32 });
  const narrowConfig = join(dir, 'narrow.finetune.yaml');
  writeFileSync(
    narrowConfig,
    config('./narrow', '', '  distillation:\n    teacher: teacher-run\n    hidden_loss: mse\n'),
  );
  await assert.rejects(
    trainFromConfig(narrowConfig, join(dir, 'run-narrow'), { threads: 1 }),
    /the teacher .*teacher-run\/final has hidden size 32, the student 16/,
  );
});

test('student_layers_from_teacher: every_other starts the config model (its 2 layers) from teacher layers 0 and 2', {
  timeout: 300_000,
}, async () => {
  mkdirSync(join(dir, 'two-layers'), { recursive: true });
  writeTinyModel(join(dir, 'two-layers'), 'bert', FIXTURE_SENTENCES, 9);
  const everyOther = join(dir, 'every-other.finetune.yaml');
  writeFileSync(
    everyOther,
    config(
      './two-layers',
      '',
      '  distillation:\n    teacher: teacher-run\n    student_layers_from_teacher: every_other\n',
    ),
  );
  const runDir = join(dir, 'run-every-other');
  assert.equal((await trainFromConfig(everyOther, runDir, { threads: 1 })).outcome, 'completed');
  assert.match(engineLog(runDir), /the student starts from teacher layers 0, 2/);
  const init = readSafetensors(join(runDir, 'student-init', 'model.safetensors')).tensors;
  const teacher = readSafetensors(join(teacherRun, 'final', 'model.safetensors')).tensors;
  const name = (layer: number) => `bert.encoder.layer.${layer}.attention.self.query.weight`;
  assert.deepEqual(init.get(name(1))?.data, teacher.get(name(2))?.data);
  assert.ok(!init.has(name(2)));
  assert.ok(lastAccuracy(runDir) >= 0.75, `accuracy ${lastAccuracy(runDir)}`);

  const wide = join(dir, 'wide.finetune.yaml');
  mkdirSync(join(dir, 'wide'), { recursive: true });
  writeTinyModel(join(dir, 'wide'), 'bert', FIXTURE_SENTENCES, 9, { intermediate_size: 48 });
  writeFileSync(
    wide,
    config('./wide', '', '  distillation:\n    teacher: teacher-run\n    student_layers_from_teacher: every_other\n'),
  );
  await assert.rejects(
    trainFromConfig(wide, join(dir, 'run-wide'), { threads: 1 }),
    /intermediate_size is 48 in .*wide\/config\.json, 64 in .*teacher-run\/final\/config\.json/,
  );
});
