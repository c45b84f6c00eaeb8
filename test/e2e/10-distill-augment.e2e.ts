// Distillation and augmentation from VS Code (issue #17's done-when): a teacher fine-tuned from the
// command palette, a 2-layer student distilled from its run, and a run with EDA augmentation, each
// started from the palette and completed; the run panel's Metrics tab shows the teacher beside the
// student.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { FIXTURE_SENTENCES, sentimentRows, toJsonl } from '../fixtures/datasets.js';
import { writeTinyModel } from '../fixtures/tiny-models.js';
import { emptyWorkspace, runDirs, scenario, waitFor } from './harness.js';

const config = (model: string, data = '', training = '') => `model: ${model}
task: text-classification
data:
  train: train.jsonl
  validation: validation.jsonl
  max_length: 32
${data}training:
  epochs: 4
  batch_size: 16
  learning_rate: 3.0e-3
  warmup_ratio: 0.1
${training}eval:
  metrics: [accuracy]
device: cpu
`;

/** teacher/ (4 layers) and student/ (2 layers) tiny BERTs on one vocabulary, the data, and two configs. */
function workspace(): string {
  const ws = emptyWorkspace('distill');
  for (const [name, layers] of [
    ['teacher', 4],
    ['student', 2],
  ] as const) {
    fs.mkdirSync(path.join(ws, name));
    writeTinyModel(path.join(ws, name), 'bert', FIXTURE_SENTENCES, 1, { num_hidden_layers: layers });
  }
  fs.writeFileSync(path.join(ws, 'train.jsonl'), toJsonl(sentimentRows(160, 1)));
  fs.writeFileSync(path.join(ws, 'validation.jsonl'), toJsonl(sentimentRows(32, 2)));
  fs.writeFileSync(path.join(ws, 'teacher.finetune.yaml'), config('./teacher'));
  fs.writeFileSync(
    path.join(ws, 'augmented.finetune.yaml'),
    config('./student', '  augment:\n    eda: {n_aug: 2, alpha_sr: 0.1, alpha_ri: 0.1, alpha_rs: 0.1, p_rd: 0.1}\n'),
  );
  return ws;
}

scenario('distill-augment', { trust: true, timeoutMs: 900_000 }, async (wb, server) => {
  const ws = workspace();
  await wb.openFolder(server.url, ws);
  /** Starts `name` from the palette and returns its run directory once completed. */
  const run = async (name: string): Promise<string> => {
    const before = new Set(runDirs(ws));
    await wb.openFile(name);
    await wb.startRunFromPalette(name);
    const dir = await waitFor(`a run directory for ${name}`, () => runDirs(ws).find((d) => !before.has(d)));
    // Completed on disk and in the Runs view's first row (the newest run).
    await wb.waitForCompletion(dir, new Set());
    return dir;
  };

  const teacher = await run('teacher.finetune.yaml');
  // The student distils from the teacher's run, as a user would point at it.
  fs.writeFileSync(
    path.join(ws, 'student.finetune.yaml'),
    config(
      './student',
      '',
      `  distillation:\n    teacher: ${path.relative(ws, teacher)}\n    temperature: 2\n    alpha: 0.5\n`,
    ),
  );
  const student = await run('student.finetune.yaml');
  const report = JSON.parse(fs.readFileSync(path.join(student, 'final', 'distillation.json'), 'utf8')) as {
    teacher: { parameters: number };
    student: { parameters: number };
  };
  assert.ok(report.teacher.parameters > report.student.parameters, JSON.stringify(report));

  // The student's run (the newest) in the panel: its Metrics tab shows the teacher beside it.
  await wb.runAction(0, 'Open Run');
  await wb.panelFrame().locator('#tab-metrics').click();
  const table = wb.panelFrame().locator('table.distillation-table');
  await table.waitFor({ timeout: 60_000 });
  const text = (await table.textContent()) ?? '';
  assert.match(text, /Teacher/);
  assert.match(text, /× smaller/);
  await wb.shot('distillation-table');

  const augmented = await run('augmented.finetune.yaml');
  const dataReport = JSON.parse(fs.readFileSync(path.join(augmented, 'data-report.json'), 'utf8')) as {
    augment?: { before: number; after: number };
  };
  assert.ok(
    dataReport.augment && dataReport.augment.after > dataReport.augment.before,
    JSON.stringify(dataReport.augment),
  );
});
