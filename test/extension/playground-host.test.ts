import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { loadSeq2Seq } from '../../src/engine/inference/seq2seq-model.js';
import { PlaygroundHost, type PlaygroundRun } from '../../src/extension/panel/playground-host.js';
import { serveArgs } from '../../src/extension/runs/engine-process.js';
import type { HostMessage } from '../../src/shared/messages.js';
import { writeTinyFinetuned, writeTinySeq2SeqRun } from '../engine/serve/helpers.js';

/**
 * The run panel's Playground host (src/extension/panel/playground-host.ts) with the real
 * `finetune serve` behind it: a run's models and task, why a run has none, an input run through
 * the final model and posted as a result before the request settles (a classifier's labels, a
 * tiny T5's translation and summary with the request's time), and the refusals (a workspace that
 * is not trusted, an input of another task than the run's, what the server refuses).
 */
const ROOT = join(__dirname, '..', '..');
const TSX = pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;

let dir: string;
const runs = new Map<string, PlaygroundRun>();
const posted: HostMessage[] = [];
let trusted = true;
const children: ReturnType<typeof spawn>[] = [];
const host = new PlaygroundHost({
  start: (modelDir) => {
    const args = serveArgs(join(ROOT, 'src', 'engine', 'cli.ts'), modelDir, { device: 'cpu', threads: 1 }, 0, true);
    const child = spawn(process.execPath, ['--import', TSX, ...args], { stdio: 'pipe' });
    children.push(child);
    return child;
  },
  log: () => {},
  runOf: (runId) => {
    const run = runs.get(runId);
    if (!run) throw new Error(`Unknown run ${runId}.`);
    return run;
  },
  post: (m) => posted.push(m),
  checkTrust: () => {
    if (!trusted) throw new Error('not trusted');
  },
});

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'playground-host-'));
  const cls = join(dir, 'cls-20250101-120000');
  writeTinyFinetuned(cls, 'text-classification', ['negative', 'positive']);
  runs.set('cls', { dir: cls, task: 'text-classification' });
  const fresh = join(dir, 'fresh-20250101-120000');
  mkdirSync(fresh);
  runs.set('fresh', { dir: fresh, task: 'token-classification' });
  runs.set('unwritten', { dir: fresh, task: undefined });
  runs.set('odd', { dir: fresh, task: 'masked-lm' });
  for (const task of ['translation', 'summarization'] as const) {
    const run = join(dir, `${task}-20250101-120000`);
    writeTinySeq2SeqRun(run, task, task === 'translation' ? 'translate: ' : 'summarize: ');
    runs.set(task, { dir: run, task });
  }
});

after(() => {
  host.dispose();
  for (const c of children) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const last = () => posted.at(-1);

test("a run's models with its task, or why there is nothing to try", async () => {
  await host.handle({ type: 'playgroundModels', id: 1, runId: 'cls' });
  assert.deepEqual(last(), {
    type: 'playgroundModels',
    runId: 'cls',
    task: 'text-classification',
    models: [{ key: 'final', label: 'final model' }],
  });
  await host.handle({ type: 'playgroundModels', id: 2, runId: 'fresh' });
  assert.deepEqual(last(), {
    type: 'playgroundModels',
    runId: 'fresh',
    task: 'token-classification',
    models: [],
    unavailable: "No model yet: the playground becomes available with the run's first checkpoint.",
  });
  await host.handle({ type: 'playgroundModels', id: 3, runId: 'unwritten' });
  assert.equal((last() as { unavailable?: string }).unavailable, 'The run has not written its config.yaml yet.');
  await host.handle({ type: 'playgroundModels', id: 4, runId: 'odd' });
  assert.equal((last() as { unavailable?: string }).unavailable, 'No playground for task masked-lm.');
});

test('an input runs through the model; its result is posted before the request settles', async () => {
  const n = posted.length;
  const input = { task: 'text-classification', text: 'a fine film' } as const;
  await host.handle({ type: 'playgroundRun', id: 5, playId: 9, runId: 'cls', model: 'final', input });
  const result = posted.slice(n);
  assert.equal(result.length, 1);
  const m = result[0];
  assert.ok(m?.type === 'playgroundResult' && m.playId === 9 && m.result.task === 'text-classification');
  assert.deepEqual(m.result.labels.map((l) => l.label).sort(), ['negative', 'positive']);
});

test('refused: an untrusted workspace, another task than the run’s, a model key that is not one', async () => {
  const input = { task: 'text-classification', text: 'x' } as const;
  trusted = false;
  await assert.rejects(
    host.handle({ type: 'playgroundRun', id: 6, playId: 10, runId: 'cls', model: 'final', input }),
    /not trusted/,
  );
  trusted = true;
  await assert.rejects(
    host.handle({
      type: 'playgroundRun',
      id: 7,
      playId: 11,
      runId: 'cls',
      model: 'final',
      input: { task: 'token-classification', text: 'x' },
    }),
    /This run's task is text-classification, not token-classification\./,
  );
  await assert.rejects(
    host.handle({ type: 'playgroundRun', id: 8, playId: 12, runId: 'cls', model: '../../etc', input }),
    /Unknown model "..\/..\/etc"/,
  );
});

test('translation and summarization: the text and max new tokens sent to /predict, the generated text and time posted', async () => {
  // The reference: greedy generate() on the source with the run's source_prefix in front, as
  // `finetune predict` runs it (text2text-generation.ts); the tiny random T5 says whatever it says.
  // Both runs' final/ hold the same T5 (writeTinySeq2SeqRun's seed); only their prefixes differ.
  const direct = await loadSeq2Seq(join(dir, 'translation-20250101-120000', 'final'), { threads: 1 });
  try {
    for (const [task, prefix, playId] of [
      ['translation', 'translate: ', 20],
      ['summarization', 'summarize: ', 21],
    ] as const) {
      const n = posted.length;
      const source = 'big dog eats blue cat';
      const input = { task, text: source, maxTokens: 6 };
      const t0 = performance.now();
      await host.handle({ type: 'playgroundRun', id: playId, playId, runId: task, model: 'final', input });
      const wall = performance.now() - t0;
      const [m, ...more] = posted.slice(n);
      assert.equal(more.length, 0);
      assert.ok(m?.type === 'playgroundResult' && m.playId === playId && m.result.task === task);
      const result = m.result as { source: string; text: string; ms: number };
      const [expected] = await direct.generate([`${prefix}${source}`], { maxNewTokens: 6 });
      assert.equal(result.text, expected?.text, `${task}: the served text is the prefixed source's`);
      assert.equal(result.source, source);
      // The request's time: positive, and less than the whole call (which also started the server).
      assert.ok(result.ms > 0 && result.ms < wall, `${result.ms} ms of ${wall}`);
    }
  } finally {
    await direct.dispose();
  }
});

test("what the server refuses comes back as the request's error", async () => {
  // The page's check stops maxTokens over 4096; the host passes it on, and serve says why it refuses.
  const input = { task: 'summarization', text: 'a text', maxTokens: 5000 } as const;
  await assert.rejects(
    host.handle({ type: 'playgroundRun', id: 22, playId: 22, runId: 'summarization', model: 'final', input }),
    /^Error: The model server refused the request: parameters\.max_new_tokens must be an integer from 1 to 4096/,
  );
});
