// Stop a running run from the Runs view: state `stopped`, a checkpoint exists; resume it from the
// Runs view: it completes.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { makeWorkspace, readStatus, runDirs, scenario, UI_TIMEOUT, waitFor, withEpochs } from './harness.js';

scenario('stop-resume', { trust: true, timeoutMs: 480_000 }, async (wb, server) => {
  // 100 epochs: about 40 s of training on one thread, time to stop it mid-way.
  const ws = makeWorkspace('stop', withEpochs(100));
  const runDir = await wb.startSentimentRun(server.url, ws);
  const checkpoints = path.join(runDir, 'checkpoints');
  const hasCheckpoint = () =>
    fs.existsSync(checkpoints) && fs.readdirSync(checkpoints).some((n) => n.startsWith('step-'));

  // Running, with a checkpoint written (one per epoch), before stopping.
  await waitFor(
    'the run to be running past its first checkpoint',
    () => {
      const s = readStatus(runDir);
      return s?.state === 'running' && hasCheckpoint();
    },
    120_000,
  );
  const rows = await wb.runRows();
  await rows.first().waitFor({ timeout: UI_TIMEOUT });
  await wb.shot('running');
  await wb.runAction(0, 'Stop Run');

  const stopped = await waitFor(
    'state stopped',
    () => {
      const s = readStatus(runDir);
      return s?.state === 'stopped' ? s : undefined;
    },
    120_000,
  );
  assert.ok(stopped.step < stopped.totalSteps, `stopped at ${stopped.step}/${stopped.totalSteps}`);
  assert.ok(hasCheckpoint(), 'a checkpoint exists after the stop');
  await waitFor('the Runs view to show the run stopped', async () => /stopped/.test(await wb.runDescription(0)));
  await wb.shot('stopped');

  await wb.runAction(0, 'Resume Run');
  await waitFor('the run to run again', () => readStatus(runDir)?.state === 'running', 120_000);
  await wb.shot('resumed');
  const done = await waitFor(
    'the resumed run to complete',
    () => {
      const s = readStatus(runDir);
      return s?.state === 'completed' ? s : undefined;
    },
    300_000,
  );
  assert.equal(done.step, done.totalSteps);
  assert.equal(runDirs(ws).length, 1, 'resume continues the same run directory');
  await waitFor('the Runs view to show the run completed', async () => /completed/.test(await wb.runDescription(0)));
});
