import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createRunner, randomBatch, type ThroughputCase } from '../../src/tools/bench/engine-case.js';
import { profileTrainStep } from '../../src/tools/bench/profile.js';

const TINY: ThroughputCase = {
  name: 'tiny',
  layers: 1,
  hidden: 16,
  heads: 2,
  intermediate: 32,
  vocab: 50,
  seq: 8,
  batch: 2,
  threads: 1,
};

const dir = mkdtempSync(join(tmpdir(), 'runner-profile-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('a StepRunner with profilePrefix traces its train step only, one model_run per step', async () => {
  const runner = await createRunner(TINY, { profilePrefix: join(dir, 'train') });
  const batch = randomBatch(TINY);
  try {
    for (let i = 0; i < 3; i++) await runner.step(batch, 1e-3);
    await runner.evaluate(batch);
    runner.endProfiling();
  } finally {
    await runner.dispose();
  }
  const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  assert.equal(files.length, 1, `one trace, of the train step: ${files.join(', ')}`);
  assert.ok(files[0]?.startsWith('train'));
  const events = JSON.parse(readFileSync(join(dir, files[0] as string), 'utf8')) as { cat?: string; name?: string }[];
  assert.equal(events.filter((e) => e.cat === 'Session' && e.name === 'model_run').length, 3);
  assert.ok(
    events.some((e) => e.cat === 'Node' && e.name?.startsWith('grad/')),
    'backward nodes in the trace',
  );
});

test('profileTrainStep summarizes the runs after the warm-up step', async () => {
  const p = await profileTrainStep(TINY, 2);
  assert.equal(p.runs, 2);
  assert.ok(p.totalMs > 0 && p.runMs >= p.totalMs, `kernel ${p.totalMs} ms within run ${p.runMs} ms`);
  const parts = p.byPart.map((x) => x.part);
  for (const part of ['forward matmul', 'backward matmul']) assert.ok(parts.includes(part), parts.join(', '));
  assert.ok(p.byNode.length > 0 && p.byOp.length > 0);
});
