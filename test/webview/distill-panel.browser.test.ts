import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { DistillationReport } from '../../src/shared/run-directory.js';
import { run, send, settle, status, stepEvents, unexpectedViolations, violations } from './harness/page.js';
import { ARTIFACTS, browserSkip, openPanel, type PanelSession } from './harness/session.js';

/**
 * A distillation run in the panel (real headless Chromium, the extension's HTML and CSP): its
 * final/distillation.json (the engine's shape, run-directory.ts) shows the teacher beside the
 * student on the Metrics tab, with the student's size and latency relative to the teacher; a run
 * that completes while the panel is open gains the table from its `run` message.
 */
const skip = browserSkip('the distillation panel browser tests');

const REPORT: DistillationReport = {
  teacher: {
    path: '/work/space/.finetune/runs/teacher-20250101-110000/final',
    metrics: { accuracy: 0.95, loss: 0.2 },
    parameters: 4_657_922,
    latencyMs: 5.5,
  },
  student: {
    path: '/work/space/.finetune/runs/student-20250101-120000/final',
    metrics: { accuracy: 0.9375, loss: 0.25 },
    parameters: 1_129_602,
    latencyMs: 1.1,
  },
  latency: { examples: 50, threads: 1 },
};

describe('distillation run in the panel', { skip }, () => {
  let session: PanelSession | undefined;
  let page: Page;

  before(async () => {
    session = await openPanel();
    page = session.page;
  });

  after(() => session?.close());

  test('teacher and student side by side: metrics with their difference, parameters and latency ratios', async () => {
    const done = status({ step: 100, totalSteps: 100, state: 'completed' });
    await send(page, {
      type: 'init',
      runs: [
        run('student-20250101-120000', {
          status: done,
          finalMetrics: { accuracy: 0.9375, loss: 0.25 },
          distillation: REPORT,
          events: stepEvents(1, 100),
        }),
        // A run without distillation.json has no such table.
        run('plain-20250101-130000', { status: done, finalMetrics: { accuracy: 0.9 }, events: stepEvents(1, 100) }),
      ],
      trusted: true,
      target: { runDirs: [] },
    });
    await page.click('#tab-metrics');
    await settle(page);
    const table = page.locator('.distillation-table');
    assert.equal(await table.count(), 1);
    assert.equal(await page.locator('section.distillation').getAttribute('data-run'), 'student-20250101-120000');
    assert.deepEqual(await table.locator('thead th').allTextContents(), [
      '',
      'Teacher',
      'Student',
      'Student vs teacher',
    ]);
    const rows = await table
      .locator('tbody tr')
      .evaluateAll((trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent ?? '')));
    assert.deepEqual(rows, [
      ['accuracy', '0.95', '0.9375', '-0.0125'],
      ['loss', '0.2', '0.25', '+0.05'],
      // 4657922 / 1129602 = 4.12; 5.5 / 1.1 = 5.0
      ['parameters', '4,657,922', '1,129,602', '4.1× smaller'],
      ['latency (ms)', '5.50', '1.10', '5.0× faster'],
    ]);
    await page.screenshot({ path: join(ARTIFACTS, '30-distillation.png'), fullPage: true });

    // The plain run completes as a distillation run would: its `run` message brings the report
    // (a teacher folder without model.onnx: no teacher latency, no ratio).
    const bare = {
      ...REPORT,
      teacher: { path: '/models/teacher', metrics: {}, parameters: 2_000_000 },
      student: { ...REPORT.student, path: '/work/space/.finetune/runs/plain-20250101-130000/final' },
    };
    await send(page, {
      type: 'run',
      run: { ...run('plain-20250101-130000', { status: done, finalMetrics: { accuracy: 0.9 } }), distillation: bare },
    });
    await settle(page);
    assert.equal(await page.locator('.distillation-table').count(), 2);
    const second = page.locator('section.distillation[data-run="plain-20250101-130000"] tbody tr');
    const cells = await second.evaluateAll((trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent ?? '')));
    assert.deepEqual(cells, [
      ['accuracy', '—', '0.9375', '—'],
      ['loss', '—', '0.25', '—'],
      ['parameters', '2,000,000', '1,129,602', '1.8× smaller'],
      ['latency (ms)', '—', '1.10', '—'],
    ]);
    assert.deepEqual(unexpectedViolations(await violations(page)), []);
    assert.deepEqual((session as PanelSession).errors, []);
  });
});
