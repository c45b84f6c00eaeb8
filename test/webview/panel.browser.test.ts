import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { configEdit } from '../../src/extension/panel/config-edit.js';
import { CONFIG_SCHEMA } from '../../src/shared/config-schema.js';
import { validateConfigText } from '../../src/shared/config-validate.js';
import type { ConfigState, JsonValue } from '../../src/shared/messages.js';
import { applyEdits } from '../shared/helpers.js';
import {
  failNextRequest,
  nextPosted,
  posted,
  probeChart,
  run,
  send,
  settle,
  status,
  stepEvents,
  T0,
  unexpectedViolations,
  violations,
  waitForPoints,
  waitForReady,
} from './harness/page.js';
import { ARTIFACTS, browserSkip, openPanel, type PanelSession } from './harness/session.js';
import { schemaLeaves } from './helpers.js';

/**
 * The run panel's bundle (dist/webview.js) in real headless Chromium, on a page served with the
 * extension's own HTML and Content Security Policy, with the harness playing the host. Each state
 * is saved as a screenshot in test-artifacts/webview/.
 */
const skip = browserSkip('the run panel browser tests');

const BLUE: [number, number, number] = [0x37, 0x94, 0xff]; // --vscode-charts-blue (harness dark theme)
const ORANGE: [number, number, number] = [0xd1, 0x86, 0x16]; // --vscode-charts-orange

const CONFIG_TEXT = `# demo config
model: ./models/bert-tiny   # a folder
task: text-classification
data:
  train: data/train.jsonl
training:
  method: full
  epochs: 0                 # invalid on purpose
  learning_rate: 2.0e-5
eval:
  metrics: [accuracy, f1]
`;

function configState(text: string, version = 1): ConfigState {
  return {
    uri: 'file:///work/space/demo.finetune.yaml',
    fileName: 'demo.finetune.yaml',
    format: 'yaml',
    text,
    version,
  };
}

/** What the extension does with an editConfig: the real edit function on the text. */
function applyEdit(text: string, path: (string | number)[], value: JsonValue | undefined): string {
  return applyEdits(text, configEdit(text, 'yaml', path, value));
}

async function shot(page: Page, name: string): Promise<void> {
  await settle(page);
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: false });
}

describe('run panel in Chromium', { skip }, () => {
  let session: PanelSession | undefined;
  let page: Page;
  let text = CONFIG_TEXT;
  const runA = 'demo-20250101-120000';
  const runB = 'demo-20250101-130000';

  before(async () => {
    session = await openPanel();
    page = session.page;
    assert.deepEqual(session.errors, []);
  });

  after(() => session?.close());

  test('the form renders every schema field, with help text and the validator messages', async () => {
    await send(page, {
      type: 'init',
      config: configState(text),
      runs: [run(runA, { status: status(), config: { training: { learning_rate: 2e-5 } } })],
      trusted: true,
      target: { runDirs: [`/work/space/.finetune/runs/${runA}`] },
    });
    await page.click('#tab-config');
    for (const leaf of schemaLeaves(CONFIG_SCHEMA)) {
      assert.equal(await page.locator(`[data-path="${leaf}"]`).count(), 1, `field ${leaf}`);
    }
    const lrHelp = CONFIG_SCHEMA.properties?.training?.properties?.learning_rate?.description ?? '';
    assert.ok((await page.locator('[data-path="training.learning_rate"] .help').textContent())?.includes(lrHelp));
    const expected = validateConfigText(text, 'yaml').diagnostics.find((d) => d.path.join('.') === 'training.epochs');
    assert.ok(expected, 'the validator flags epochs: 0');
    const row = page.locator('[data-path="training.epochs"]');
    assert.match((await row.getAttribute('class')) ?? '', /invalid/);
    assert.ok((await row.locator('.field-message').textContent())?.includes(expected.message));
    assert.equal(await page.locator('[data-group="training.lora"]').isHidden(), true, 'LoRA hidden with method: full');
    await row.scrollIntoViewIfNeeded();
    await shot(page, '01-form');
  });

  test('editing fields posts editConfig messages, and the file coming back updates the form', async () => {
    let n = (await posted(page)).length;
    const lr = page.locator('[data-path="training.learning_rate"] vscode-text-field input');
    await lr.fill('3e-5');
    await lr.press('Enter');
    const edit = await nextPosted(page, 'editConfig', n);
    assert.deepEqual(edit.path, ['training', 'learning_rate']);
    assert.equal(edit.value, 3e-5);
    text = applyEdit(text, edit.path, edit.value);
    assert.ok(text.includes('  learning_rate: 0.00003\n') && text.includes('# invalid on purpose'));
    await send(page, { type: 'config', config: configState(text, 2) });

    n = (await posted(page)).length;
    await page.locator('[data-path="training.method"] vscode-dropdown').click();
    await page.locator('[data-path="training.method"] vscode-option[value="lora"]').click();
    const method = await nextPosted(page, 'editConfig', n);
    assert.deepEqual([method.path, method.value], [['training', 'method'], 'lora']);
    text = applyEdit(text, method.path, method.value);

    n = (await posted(page)).length;
    await page.locator('[data-path="eval.metrics"]').getByRole('checkbox', { name: 'recall', exact: true }).click();
    const metrics = await nextPosted(page, 'editConfig', n);
    assert.deepEqual(
      [metrics.path, metrics.value],
      [
        ['eval', 'metrics'],
        ['accuracy', 'f1', 'recall'],
      ],
    );
    text = applyEdit(text, metrics.path, metrics.value);

    n = (await posted(page)).length;
    const epochs = page.locator('[data-path="training.epochs"] vscode-text-field input');
    await epochs.fill('');
    await epochs.press('Enter');
    const removed = await nextPosted(page, 'editConfig', n);
    assert.deepEqual(removed.path, ['training', 'epochs']);
    assert.equal(removed.value, undefined, 'an emptied field removes the key');
    text = applyEdit(text, removed.path, removed.value);

    await send(page, { type: 'config', config: configState(text, 3) });
    await settle(page);
    assert.equal(await page.locator('[data-group="training.lora"]').isVisible(), true, 'LoRA shown with method: lora');
    assert.equal(
      await page
        .locator('[data-path="training.learning_rate"] vscode-text-field')
        .evaluate((e) => (e as HTMLInputElement).value),
      '0.00003',
    );
    assert.doesNotMatch((await page.locator('[data-path="training.epochs"]').getAttribute('class')) ?? '', /invalid/);

    await failNextRequest(page, 'The file changed on disk.');
    await page.locator('[data-path="training.seed"] vscode-text-field input').fill('7');
    await page.locator('[data-path="training.seed"] vscode-text-field input').press('Enter');
    await page.locator('.notice', { hasText: 'The file changed on disk.' }).waitFor();
    await page.locator('[data-group="training.lora"]').scrollIntoViewIfNeeded();
    await shot(page, '02-form-edited-lora');
  });

  test('a stream of events draws the training and evaluation curves', async () => {
    await page.click('#tab-charts');
    for (let batch = 0; batch < 10; batch++) {
      const events = stepEvents(batch * 100 + 1, 100);
      if (batch % 2 === 1)
        events.push({
          type: 'eval',
          step: (batch + 1) * 100,
          metrics: { loss: 1.5 - batch * 0.1, accuracy: 0.5 + batch * 0.04 },
          t: T0 + (batch + 1) * 20_000,
        });
      await send(page, { type: 'events', runs: [{ runId: runA, events }] });
      await page.waitForTimeout(20);
    }
    await waitForPoints(page, 'loss', 1000);
    await waitForPoints(page, 'eval-accuracy', 5);
    for (const id of ['loss', 'eval-loss', 'eval-accuracy', 'lr'])
      assert.equal(await page.locator(`[data-chart="${id}"]`).count(), 1, id);
    const probe = await probeChart(page, 'loss', BLUE);
    assert.ok(probe.matching > 300, `the loss curve has ${probe.matching} pixels of the run's colour`);
    assert.ok((await probeChart(page, 'lr', BLUE)).matching > 300);
    assert.equal(await page.locator('[data-chart="loss"]').getAttribute('data-series'), '2', 'raw and smoothed');
    await shot(page, '03-charts-streamed');
  });

  test('the smoothing slider changes the drawn line', async () => {
    const before = await probeChart(page, 'loss', BLUE);
    await page.locator('input.smoothing').fill('0.99');
    await settle(page);
    const smoothed = await probeChart(page, 'loss', BLUE);
    assert.notEqual(smoothed.fingerprint, before.fingerprint);
    assert.equal(await page.locator('.slider-value').textContent(), '0.990');
    await shot(page, '04-smoothing-0.99');
    await page.locator('input.smoothing').fill('0');
    await settle(page);
    assert.equal(
      await page.locator('[data-chart="loss"]').getAttribute('data-series'),
      '1',
      'no smoothing: the raw line only',
    );
    assert.notEqual((await probeChart(page, 'loss', BLUE)).fingerprint, smoothed.fingerprint);
    await page.locator('input.smoothing').fill('0.6');
  });

  test('a second run overlays, with a legend naming it and how its config differs', async () => {
    await send(page, {
      type: 'run',
      run: {
        id: runB,
        dir: `/work/space/.finetune/runs/${runB}`,
        status: status({ startedAt: new Date(T0 + 3600_000).toISOString() }),
        config: { training: { learning_rate: 5e-5 } },
      },
      events: stepEvents(1, 800, { lr: 5e-5, scale: 0.8 }),
    });
    await page.locator('[data-chart="loss"][data-series="4"]').waitFor();
    const legend = (await page.locator('[data-chart="loss"] .u-legend').textContent()) ?? '';
    assert.ok(legend.includes(`${runA} (learning_rate=0.00002)`), legend);
    assert.ok(legend.includes(`${runB} (learning_rate=0.00005)`), legend);
    assert.ok((await probeChart(page, 'loss', ORANGE)).matching > 300, 'the second run is drawn in its own colour');
    assert.equal(await page.locator('.run-toggle').count(), 2);
    await shot(page, '05-overlay-two-runs');
    for (const axis of ['epoch', 'relative', 'wall']) {
      await page.locator('.toolbar vscode-dropdown').first().click();
      await page.locator(`.toolbar vscode-option[value="${axis}"]`).click();
      await settle(page);
      assert.equal(await page.locator('[data-chart="loss"]').getAttribute('data-series'), '4', axis);
    }
    await shot(page, '06-overlay-wall-time');
  });

  test('a chart exports as PNG through the host', async () => {
    const n = (await posted(page)).length;
    await page.locator('[data-chart="loss"] vscode-button', { hasText: 'Export PNG' }).click();
    const request = await nextPosted(page, 'exportPng', n);
    assert.equal(request.fileName, 'training-loss.png');
    const png = Buffer.from(request.dataUrl.slice(request.dataUrl.indexOf(',') + 1), 'base64');
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    writeFileSync(join(ARTIFACTS, '07-exported-loss-chart.png'), png);
  });

  test('Start, Stop and Resume follow the run state and post commands', async () => {
    const disabled = (c: string) =>
      page.locator(`vscode-button[data-command="${c}"]`).evaluate((e) => (e as HTMLButtonElement).disabled);
    assert.deepEqual([await disabled('start'), await disabled('stop'), await disabled('resume')], [true, false, true]);
    const n = (await posted(page)).length;
    await page.locator('vscode-button[data-command="stop"]').click();
    const stop = await nextPosted(page, 'command', n);
    assert.deepEqual([stop.command, stop.runId], ['stop', runB]);
    await send(page, {
      type: 'events',
      runs: [{ runId: runB, events: [{ type: 'checkpoint', step: 800, path: 'checkpoints/step-800', t: T0 }] }],
    });
    await send(page, {
      type: 'run',
      run: {
        id: runB,
        dir: `/r/${runB}`,
        status: status({ state: 'stopped', step: 800 }),
        config: { training: { learning_rate: 5e-5 } },
      },
    });
    await settle(page);
    assert.deepEqual([await disabled('start'), await disabled('stop'), await disabled('resume')], [false, true, false]);
  });

  test('logs are virtualised, filtered and searchable', async () => {
    const levels = ['debug', 'info', 'info', 'warn', 'error'] as const;
    const logs = Array.from({ length: 5000 }, (_, i) => ({
      type: 'log' as const,
      level: levels[i % 5] as (typeof levels)[number],
      message: `line ${i}: epoch ${Math.floor(i / 1000)}`,
      t: T0 + i,
    }));
    await send(page, { type: 'events', runs: [{ runId: runB, events: logs }] });
    await page.click('#tab-logs');
    await settle(page);
    assert.equal(await page.locator('.log-count').textContent(), '4,000 of 5,000 lines', 'debug hidden at level info');
    const rows = await page.locator('.log-row').count();
    assert.ok(rows > 10 && rows < 100, `${rows} rows in the DOM for 4,000 lines`);
    assert.ok(
      (await page.locator('.log-row').last().textContent())?.includes('line 4999'),
      'follow mode shows the newest line',
    );
    const search = page.locator('.logs-view vscode-text-field input');
    await search.fill('epoch 3');
    await settle(page);
    assert.equal(await page.locator('.log-count').textContent(), '800 of 5,000 lines');
    await shot(page, '08-logs');
    await search.fill('');
  });

  test('metrics: best and final per run, and the confusion matrix', async () => {
    const cm = {
      labels: ['negative', 'positive'],
      matrix: [
        [41, 9],
        [6, 44],
      ],
    };
    await send(page, {
      type: 'run',
      run: {
        id: runA,
        dir: `/r/${runA}`,
        status: status({ state: 'completed', step: 1000 }),
        config: { training: { learning_rate: 2e-5 } },
        finalMetrics: { accuracy: 0.85, confusion_matrix: cm },
      },
    });
    await page.click('#tab-metrics');
    await settle(page);
    const row = page.locator(`.metrics-table tr[data-run="${runA}"]`);
    assert.ok((await row.textContent())?.includes('0.86 / 0.85'), (await row.textContent()) ?? '');
    assert.equal(await page.locator('.confusion-matrix td').count(), 4);
    assert.equal(await page.locator('.confusion-matrix td.diagonal').first().textContent(), '41');
    await shot(page, '09-metrics');
  });

  test('state survives the page being hidden and shown (reloaded)', async () => {
    await page.reload();
    await waitForReady(page, 1);
    await send(page, {
      type: 'init',
      config: configState(text, 4),
      runs: [run(runA, { status: status(), events: stepEvents(1, 50) })],
      trusted: false,
      target: { runDirs: [] },
    });
    await settle(page);
    assert.equal(await page.locator('vscode-panels').getAttribute('activeid'), 'tab-metrics');
    assert.equal(await page.locator('input.smoothing').inputValue(), '0.6');
    assert.equal(
      await page.locator('vscode-button[data-command="start"]').evaluate((e) => (e as HTMLButtonElement).disabled),
      true,
      'untrusted',
    );
  });

  test('light and high-contrast themes', async () => {
    for (const theme of ['light', 'high-contrast']) {
      const other = await (session as PanelSession).openPage(theme);
      await send(other, {
        type: 'init',
        config: configState(text),
        runs: [
          run(runA, {
            status: status({ step: 600 }),
            events: [...stepEvents(1, 600), { type: 'eval', step: 600, metrics: { loss: 0.9, f1: 0.7 }, t: T0 }],
          }),
          run(runB, {
            status: status({ startedAt: new Date(T0 + 1).toISOString() }),
            events: stepEvents(1, 400, { scale: 0.7 }),
          }),
        ],
        trusted: true,
        target: { runDirs: [] },
      });
      await other.click('#tab-charts');
      await waitForPoints(other, 'loss', 600);
      await shot(other, `10-theme-${theme}`);
      assert.deepEqual(unexpectedViolations(await violations(other)), []);
      await other.close();
    }
  });

  test("a masked-LM run charts its MLM loss, perplexity and masked-token accuracy (the engine's eval metrics)", async () => {
    const other = await (session as PanelSession).openPage('dark');
    // As src/engine/tasks/masked-lm/recipe.ts evaluates: loss, perplexity = exp(loss), accuracy.
    const evals = [6.1, 5.2, 4.6].map((loss, i) => ({
      type: 'eval' as const,
      step: (i + 1) * 100,
      metrics: { loss, perplexity: Math.exp(loss), accuracy: 0.1 + 0.08 * i },
      t: T0 + (i + 1) * 20_000,
    }));
    await send(other, {
      type: 'init',
      runs: [
        run('pretrain-20250101-120000', {
          status: status({ step: 300 }),
          config: { task: 'masked-lm', training: { init: 'scratch' } },
          events: [...stepEvents(1, 300), ...evals],
        }),
      ],
      trusted: true,
      target: { runDirs: [] },
    });
    await other.click('#tab-charts');
    await waitForPoints(other, 'eval-accuracy', 3);
    assert.deepEqual(await other.locator('.chart h3').allTextContents(), [
      'Training loss (masked LM)',
      'Evaluation loss (masked LM)',
      'Evaluation perplexity',
      'Masked-token accuracy',
      'Learning rate',
    ]);
    await waitForPoints(other, 'eval-perplexity', 3);
    assert.ok((await probeChart(other, 'eval-perplexity', BLUE)).matching > 20, 'the perplexity curve is drawn');
    assert.ok((await probeChart(other, 'eval-accuracy', BLUE)).matching > 20, 'the accuracy curve is drawn');
    await shot(other, '11-masked-lm-charts');
    await other.close();
  });

  test('nothing broke the Content Security Policy', async () => {
    assert.deepEqual(unexpectedViolations(await violations(page)), []);
  });
});
