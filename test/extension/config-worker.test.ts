import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { RecordingConfigFs, validateInEditor } from '../../src/extension/validation/config-fs.js';
import {
  CONFIG_WORKER_OPTIONS,
  ConfigValidator,
  type ConfigValidatorOptions,
  GAVE_UP_CODE,
  type ValidationJob,
} from '../../src/extension/validation/worker-client.js';
import type { WorkerRequest } from '../../src/extension/validation/worker-protocol.js';
import { aliasBomb, fillToLimit, CONFIG_HEAD as HEAD, ROOT, r } from '../shared/helpers.js';
import { tempDir } from './helpers.js';

// The extension host's config validation worker (src/extension/validation/worker-client.ts) driven
// in plain Node: against the real worker (config-worker.ts, loaded through tsx where the extension
// loads its bundle) for what it answers, and against a misbehaving stand-in for a worker that
// hangs or dies.

const TSX = require.resolve('tsx/cjs');
const REAL_WORKER = join(ROOT, 'src', 'extension', 'validation', 'config-worker.ts');
const MISBEHAVING_WORKER = join(__dirname, 'fixtures', 'misbehaving-worker.ts');
// A hang guard, not a timing check.
const HANG_GUARD = { timeout: 60_000 };

/** Starts `file` (TypeScript) as a worker with the extension's options; `sent` records its requests. */
function tsWorker(file: string, sent: WorkerRequest[] = []): ConfigValidatorOptions['start'] {
  return () => {
    const source = `require(${JSON.stringify(TSX)}); require(${JSON.stringify(file)});`;
    const worker = new Worker(source, { ...CONFIG_WORKER_OPTIONS, eval: true });
    const post = worker.postMessage.bind(worker);
    worker.postMessage = (message: WorkerRequest) => {
      sent.push(message);
      post(message);
    };
    return worker;
  };
}

function client(t: { after(fn: () => void): void }, options: ConfigValidatorOptions): ConfigValidator {
  const validator = new ConfigValidator(options);
  t.after(() => validator.dispose());
  return validator;
}

const job = (key: string, version: number, text: string): ValidationJob => ({ key, version, text, format: 'yaml' });
const codes = (list: readonly { code: string }[]) => list.map((d) => d.code);
/** A config whose only problem is the schema error of `key: value` in training. */
const withTraining = (key: string, value: string) => `${HEAD}training:\n  ${key}: ${value}\n`;

test(
  'the worker answers with the shared validator, file checks and the paths they read included',
  HANG_GUARD,
  async (t) => {
    const validator = client(t, { start: tsWorker(REAL_WORKER) });
    const bomb = await validator.validate(job('bomb', 1, aliasBomb(8, 9)));
    // As in test/shared/config-bounds.test.ts: one located error where the alias count passes the limit.
    assert.deepEqual(
      bomb.diagnostics.map((d) => ({ code: d.code, range: d.range })),
      [{ code: 'alias-limit', range: r(8, 7, 8, 9) }],
    );
    const dir = tempDir(t);
    const text = 'model: ./no-model\ntask: text-classification\ndata:\n  train: data/train.jsonl\n';
    const outcome = await validator.validate({ ...job('files', 1, text), configDir: dir });
    // One code path: what the editor's validation gives in this thread.
    const here = await validateInEditor(text, 'yaml', { fs: new RecordingConfigFs(), configDir: dir });
    assert.deepEqual(outcome.diagnostics, here);
    assert.ok(codes(outcome.diagnostics).includes('data-not-found'));
    assert.ok(outcome.touched.includes(join(dir, 'data', 'train.jsonl')), outcome.touched.join('\n'));
  },
);

test('jobs of different configs are answered one at a time, in the order asked', HANG_GUARD, async (t) => {
  const sent: WorkerRequest[] = [];
  const validator = client(t, { start: tsWorker(REAL_WORKER, sent) });
  const answered: string[] = [];
  const keys = ['a', 'b', 'c'];
  const outcomes = await Promise.all(
    keys.map((key, i) =>
      validator.validate(job(key, 1, withTraining('epochs', String(-i)))).then((o) => {
        answered.push(o.job.key);
        return o;
      }),
    ),
  );
  assert.deepEqual(answered, keys);
  assert.deepEqual(
    sent.map((m) => m.text),
    keys.map((_, i) => withTraining('epochs', String(-i))),
  );
  // Each its own: 0 and -1 and -2 are all under the minimum, each message quoting its value.
  for (const [i, o] of outcomes.entries()) assert.match(o.diagnostics[0]?.message ?? '', new RegExp(`${-i}`));
});

test('a newer version replaces a queued one, and the answer of one in the worker is dropped', HANG_GUARD, async (t) => {
  const sent: WorkerRequest[] = [];
  const validator = client(t, { start: tsWorker(REAL_WORKER, sent) });
  const v1 = validator.validate(job('doc', 1, withTraining('epochs', '0'))); // sent at once
  const other = validator.validate(job('other', 1, withTraining('epochs', '0'))); // queued
  const v2 = validator.validate(job('doc', 2, withTraining('learning_rate', '-1'))); // replaces v1's answer
  const v3 = validator.validate(job('doc', 3, withTraining('warmup_ratio', '7'))); // replaces v2, not sent yet
  const late = validator.validate(job('doc', 2, withTraining('learning_rate', '-1'))); // older than v3: v3's answer
  const [a, b, c, d] = await Promise.all([v1, v2, v3, late]);
  for (const o of [a, b, c, d]) {
    assert.equal(o?.job.version, 3);
    assert.deepEqual(
      o?.diagnostics.map((x) => x.path.join('.')),
      ['training.warmup_ratio'],
    );
  }
  assert.deepEqual((await other).job.key, 'other');
  // v1 ran (its answer unused), then the other config, then v3; v2 never reached the worker.
  assert.deepEqual(
    sent.map((m) => m.text),
    [withTraining('epochs', '0'), withTraining('epochs', '0'), withTraining('warmup_ratio', '7')],
  );
});

test(
  'a validation past the time limit stops the worker, says where it was, and the next job gets a new worker',
  HANG_GUARD,
  async (t) => {
    const logged: string[] = [];
    // The stand-in hangs for good: the limit only has to pass once.
    const validator = client(t, { start: tsWorker(MISBEHAVING_WORKER), timeoutMs: 1000, log: (l) => logged.push(l) });
    const first = await validator.validate(job('a', 1, 'ok'));
    const hang = validator.validate(job('b', 1, 'hang'));
    const queued = validator.validate(job('c', 1, 'ok'));
    const stopped = await hang;
    assert.deepEqual(codes(stopped.diagnostics), [GAVE_UP_CODE]);
    assert.deepEqual(stopped.diagnostics[0]?.range, r(0, 0, 0, 0));
    assert.match(
      stopped.diagnostics[0]?.message ?? '',
      /^Validation gave up during the fixture phase: it took more than 1 s and was stopped, so the problems of this file are not shown/,
    );
    assert.match(logged.join('\n'), /b gave up during the fixture phase/);
    // The job queued behind it is answered, by a new worker thread.
    const after = await queued;
    assert.deepEqual(after.diagnostics, []);
    assert.notEqual(after.touched[0], first.touched[0]);
  },
);

test('a worker that dies is replaced, and the job it ran is answered with why', HANG_GUARD, async (t) => {
  const validator = client(t, { start: tsWorker(MISBEHAVING_WORKER) });
  const threads = new Set<string>();
  threads.add(String((await validator.validate(job('a', 1, 'ok'))).touched[0]));
  const exited = await validator.validate(job('b', 1, 'exit'));
  assert.deepEqual(codes(exited.diagnostics), [GAVE_UP_CODE]);
  assert.match(exited.diagnostics[0]?.message ?? '', /during the fixture phase: the validator exited with code 7, so/);
  threads.add(String((await validator.validate(job('a', 2, 'ok'))).touched[0]));
  const threw = await validator.validate(job('b', 2, 'throw'));
  assert.match(threw.diagnostics[0]?.message ?? '', /the validator failed \(thrown in the worker\), so/);
  threads.add(String((await validator.validate(job('a', 3, 'ok'))).touched[0]));
  assert.equal(threads.size, 3);
});

test('an exception in the validator rejects the callers; the worker lives on', HANG_GUARD, async (t) => {
  const validator = client(t, { start: tsWorker(MISBEHAVING_WORKER) });
  const before = await validator.validate(job('a', 1, 'ok'));
  await assert.rejects(validator.validate(job('b', 1, 'fail')), /Validating the config failed: a validator bug/);
  assert.deepEqual((await validator.validate(job('a', 2, 'ok'))).touched, before.touched);
});

test('disposing rejects what is pending and stops the worker', HANG_GUARD, async (t) => {
  let worker: Worker | undefined;
  const start = tsWorker(MISBEHAVING_WORKER);
  const validator = client(t, {
    start: () => {
      worker = start();
      return worker;
    },
  });
  await validator.validate(job('a', 1, 'ok'));
  const exit = new Promise((resolve) => worker?.once('exit', resolve));
  const hang = validator.validate(job('b', 1, 'hang'));
  const queued = validator.validate(job('c', 1, 'ok'));
  validator.dispose();
  await assert.rejects(hang, /disposed/);
  await assert.rejects(queued, /disposed/);
  await exit;
  await assert.rejects(validator.validate(job('d', 1, 'ok')), /disposed/);
});

/** Nested flow sequences up to the depth limit, filling the size limit: seconds of parsing. */
const PATHOLOGICAL = fillToLimit(aliasBomb(8, 9), (i) => `n${i}: ${'['.repeat(60)}x${']'.repeat(60)}\n`);

test(
  'a pathological config at the size limit is answered by the worker while this thread runs on',
  HANG_GUARD,
  async (t) => {
    // No time limit here: this measures the validation, on however busy a machine.
    const validator = client(t, { start: tsWorker(REAL_WORKER), timeoutMs: 600_000 });
    await validator.validate(job('warm-up', 1, HEAD)); // the worker's start is not the validation's time
    // The longest this thread's event loop waits meanwhile, printed (not asserted) as the validation's time.
    let longest = 0;
    let last = performance.now();
    const ticker = setInterval(() => {
      const now = performance.now();
      longest = Math.max(longest, now - last);
      last = now;
    }, 5);
    const started = performance.now();
    const outcome = await validator.validate(job('big', 1, PATHOLOGICAL));
    const took = performance.now() - started;
    clearInterval(ticker);
    assert.deepEqual(
      outcome.diagnostics.map((d) => ({ code: d.code, range: d.range })),
      [{ code: 'alias-limit', range: r(8, 7, 8, 9) }],
    );
    const inThread = performance.now();
    await validateInEditor(PATHOLOGICAL, 'yaml', undefined);
    const blocked = performance.now() - inThread;
    console.log(
      `# ${PATHOLOGICAL.length} bytes: ${took.toFixed(0)} ms in the worker, this thread's longest wait meanwhile ` +
        `${longest.toFixed(0)} ms; the same validation in this thread blocks it ${blocked.toFixed(0)} ms`,
    );
  },
);
