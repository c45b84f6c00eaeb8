import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  configHighlights,
  listCheckpoints,
  listFinal,
  listRunDirs,
  parseStatus,
  RunReader,
  readRunConfig,
  readRunInfo,
  readStatusFile,
} from '../../src/extension/runs/run-reader.js';
import { isPidAlive } from '../../src/shared/node/run-claims.js';
import { DISTILLATION_REPORT_FILE, type RunStatus } from '../../src/shared/run-directory.js';
import { aliasBomb } from '../shared/helpers.js';
import { deadPid, tempDir } from './helpers.js';

function writeStatus(dir: string, fields: Partial<RunStatus>): void {
  const status: RunStatus = {
    state: 'running',
    pid: process.pid,
    startedAt: '2025-03-01T10:00:00.000Z',
    updatedAt: '2025-03-01T10:01:00.000Z',
    step: 0,
    totalSteps: 100,
    epoch: 0,
    ...fields,
  };
  writeFileSync(join(dir, 'status.json'), JSON.stringify(status));
}

const stepLine = (step: number, t: number) =>
  `${JSON.stringify({ type: 'step', step, epoch: 0, loss: 0.5, lr: 1e-5, tokensPerSec: 10, t })}\n`;

function runDir(t: import('node:test').TestContext, name = 'bert-20250301-100000'): string {
  const dir = join(tempDir(t), name);
  mkdirSync(dir);
  return dir;
}

const reader = (dir: string) => new RunReader(dir, { isAlive: isPidAlive });

test('a running run with a live pid: state, step from the events, ETA', async (t) => {
  const dir = runDir(t);
  writeStatus(dir, { step: 10 });
  writeFileSync(join(dir, 'events.jsonl'), stepLine(10, 0) + stepLine(20, 10_000));
  const run = await reader(dir).read();
  assert.equal(run.id, 'bert-20250301-100000');
  assert.equal(run.state, 'running');
  assert.equal(run.died, false);
  assert.equal(run.events.lastStep?.step, 20);
  // 1 s a step, 80 steps left.
  assert.equal(run.eta, 80_000);
  assert.equal(run.startedAt, Date.parse('2025-03-01T10:00:00.000Z'));
});

test('events.jsonl: a partial last line is skipped, then read once complete, incrementally', async (t) => {
  const dir = runDir(t);
  writeStatus(dir, {});
  const events = join(dir, 'events.jsonl');
  const line = stepLine(2, 2000);
  writeFileSync(events, stepLine(1, 1000) + line.slice(0, 15));
  const r = reader(dir);
  let run = await r.read();
  assert.equal(run.events.lines, 1);
  assert.equal(run.events.badLines, 0);
  assert.equal(run.events.lastStep?.step, 1);
  appendFileSync(events, line.slice(15));
  run = await r.read();
  assert.equal(run.events.lines, 2);
  assert.equal(run.events.lastStep?.step, 2);
  // Replaced by a shorter file (a run folder reused): read again from the start.
  writeFileSync(events, stepLine(1, 5));
  run = await r.read();
  assert.equal(run.events.lines, 1);
  assert.equal(run.events.lastStep?.t, 5);
});

test('missing files: only a log, or an empty folder, read without throwing', async (t) => {
  const dir = runDir(t, 'lonely-20250301-100000');
  writeFileSync(join(dir, 'engine.log'), 'INFO starting\nERROR could not read config\n');
  const run = await reader(dir).read();
  assert.equal(run.state, 'failed');
  assert.match(run.reason ?? '', /status\.json is missing/);
  assert.match(run.reason ?? '', /ERROR could not read config$/);
  assert.equal(run.events.lines, 0);
  assert.equal(run.startedAt, new Date(2025, 2, 1, 10, 0, 0).getTime(), 'time from the run id');

  const empty = runDir(t, 'empty');
  const snap = await reader(empty).read();
  assert.equal(snap.state, 'failed');
  assert.equal(snap.events.lines, 0);
});

test('a dead pid: running on disk is shown as failed with the last log lines', async (t) => {
  const dir = runDir(t);
  const pid = deadPid();
  writeStatus(dir, { state: 'running', pid, step: 40 });
  const log = Array.from({ length: 20 }, (_, i) => `2025-03-01T10:00:${String(i).padStart(2, '0')}Z INFO step ${i}`);
  writeFileSync(join(dir, 'engine.log'), `${log.join('\n')}\nFATAL: killed by the OOM killer\n`);
  const run = await reader(dir).read();
  assert.equal(run.state, 'failed');
  assert.equal(run.died, true);
  assert.match(run.reason ?? '', new RegExp(`pid ${pid}`));
  assert.match(run.reason ?? '', /FATAL: killed by the OOM killer$/);
  assert.ok(!(run.reason ?? '').includes('step 0\n'), 'only the last lines');
  assert.equal(run.eta, undefined);
});

test('after a resume, a stale status.json (another pid) does not decide the state', async (t) => {
  const dir = runDir(t);
  writeStatus(dir, { state: 'stopped', pid: deadPid(), step: 50 });
  const r = reader(dir);
  const starting = await r.read(process.pid);
  assert.equal(starting.state, 'queued');
  assert.equal(starting.reason, 'starting');
  assert.equal(starting.status?.step, 50, 'the old status still shows progress');
  const gone = await r.read(deadPid());
  assert.equal(gone.state, 'failed');
  assert.equal(gone.died, true);
  writeStatus(dir, { state: 'running', pid: process.pid, step: 51 });
  assert.equal((await r.read(process.pid)).state, 'running');
});

test('a stop request is reported with its time', async (t) => {
  const dir = runDir(t);
  writeStatus(dir, {});
  assert.equal((await reader(dir).read()).stopRequestedAt, undefined);
  writeFileSync(join(dir, 'stop-requested'), '');
  assert.equal(typeof (await reader(dir).read()).stopRequestedAt, 'number');
});

test('parseStatus: good, broken JSON, bad state', () => {
  const ok = parseStatus(
    '{"state":"completed","pid":3,"startedAt":"a","updatedAt":"b","step":9,"totalSteps":9,"epoch":1,"best":{"metric":"f1","value":0.9,"step":8}}',
  );
  assert.equal(typeof ok, 'object');
  assert.deepEqual((ok as RunStatus).best, { metric: 'f1', value: 0.9, step: 8 });
  assert.match(parseStatus('{"state":') as string, /not valid JSON/);
  assert.match(parseStatus('{"state":"paused"}') as string, /state "paused", expected one of queued/);
  assert.match(parseStatus('3') as string, /not a JSON object/);
  // A cluster job's run: queued with Slurm's pending reason and its job, for the Runs view.
  const queued = parseStatus(
    '{"state":"queued","pid":3,"step":0,"reason":"pending: Priority","job":{"scheduler":"slurm","id":"17_2","host":"login1","schedulerState":"PENDING","extra":1}}',
  ) as RunStatus;
  assert.deepEqual(
    [queued.reason, queued.job],
    ['pending: Priority', { scheduler: 'slurm', id: '17_2', host: 'login1', schedulerState: 'PENDING' }],
  );
  assert.equal((parseStatus('{"state":"cancelled","job":{"scheduler":"pbs","id":"1"}}') as RunStatus).job, undefined);
});

test('listRunDirs, listCheckpoints, listFinal, readRunConfig, configHighlights', async (t) => {
  const root = tempDir(t);
  for (const name of ['a-20250101-000000', 'b-20250102-000000', 'not-a-run', '.hidden']) mkdirSync(join(root, name));
  writeFileSync(join(root, 'a-20250101-000000', 'status.json'), '{}');
  writeFileSync(join(root, 'b-20250102-000000', 'engine.log'), '');
  writeFileSync(join(root, '.hidden', 'status.json'), '{}');
  writeFileSync(join(root, 'stray.txt'), '');
  assert.deepEqual((await listRunDirs(root)).map((d) => d.slice(root.length + 1)).sort(), [
    'a-20250101-000000',
    'b-20250102-000000',
  ]);
  assert.deepEqual(await listRunDirs(join(root, 'missing')), []);

  const dir = join(root, 'a-20250101-000000');
  for (const name of ['step-100', 'step-20', 'step-30.tmp', 'junk'])
    mkdirSync(join(dir, 'checkpoints', name), { recursive: true });
  assert.deepEqual(
    (await listCheckpoints(dir)).map((c) => c.step),
    [20, 100],
  );
  assert.deepEqual(await listFinal(dir), []);
  mkdirSync(join(dir, 'final'));
  writeFileSync(join(dir, 'final', 'model.onnx'), '');
  writeFileSync(join(dir, 'final', 'config.json'), '');
  assert.deepEqual(await listFinal(dir), ['config.json', 'model.onnx']);

  assert.equal(await readRunConfig(dir), undefined);
  writeFileSync(
    join(dir, 'config.yaml'),
    'model: ./bert\ntask: text-classification\ndata: { train: t.jsonl, max_length: 64 }\ntraining: { epochs: 2, learning_rate: 2.0e-5, lora: { r: 4 } }\n',
  );
  assert.deepEqual(configHighlights(await readRunConfig(dir)), [
    ['model', './bert'],
    ['task', 'text-classification'],
    ['epochs', '2'],
    ['learning rate', '2e-5'],
    ['max length', '64'],
    ['LoRA r', '4'],
  ]);
  writeFileSync(join(dir, 'config.yaml'), '- a list\n');
  assert.equal(await readRunConfig(dir), undefined);
});

test('a run directory reads into status, config and final metrics, each optional', async (t) => {
  const dir = runDir(t, 'demo-20250101-120000');
  mkdirSync(join(dir, 'final'));
  assert.deepEqual(await readRunInfo(dir), { id: 'demo-20250101-120000', dir });
  writeFileSync(
    join(dir, 'status.json'),
    JSON.stringify({ state: 'completed', step: 9, totalSteps: 9, epoch: 1, pid: 1 }),
  );
  writeFileSync(join(dir, 'config.yaml'), 'model: x # comment\ntraining:\n  learning_rate: 3.0e-5\n');
  writeFileSync(
    join(dir, 'final', 'metrics.json'),
    JSON.stringify({
      accuracy: 0.9,
      confusion_matrix: {
        labels: ['neg', 'pos'],
        matrix: [
          [4, 1],
          [0, 5],
        ],
      },
    }),
  );
  const info = await readRunInfo(dir);
  assert.equal(info.status?.state, 'completed');
  assert.deepEqual(info.config, { model: 'x', training: { learning_rate: 3e-5 } });
  assert.equal(info.finalMetrics?.accuracy, 0.9);
  assert.deepEqual(info.finalMetrics?.confusion_matrix?.labels, ['neg', 'pos']);
});

test('final/distillation.json reads into the run info when it has the report shape, else is left out', async (t) => {
  const dir = runDir(t, 'student-20250101-120000');
  mkdirSync(join(dir, 'final'));
  const side = (path: string, parameters: number, latencyMs?: number) => ({
    path,
    metrics: { accuracy: 0.9 },
    parameters,
    ...(latencyMs === undefined ? {} : { latencyMs }),
  });
  const report = {
    teacher: side('/t/final', 400, 4),
    student: side(join(dir, 'final'), 100, 1),
    latency: { examples: 50, threads: 1 },
  };
  const file = join(dir, 'final', DISTILLATION_REPORT_FILE);
  writeFileSync(file, JSON.stringify(report));
  assert.deepEqual((await readRunInfo(dir)).distillation, report);
  // A teacher folder without model.onnx has no latency: still a report.
  const bare = { ...report, teacher: side('/models/t', 400) };
  writeFileSync(file, JSON.stringify(bare));
  assert.deepEqual((await readRunInfo(dir)).distillation, bare);
  for (const broken of [
    { ...report, student: { ...report.student, parameters: '100' } },
    { ...report, teacher: { ...report.teacher, metrics: { accuracy: 'high' } } },
    { teacher: report.teacher, student: report.student },
  ]) {
    writeFileSync(file, JSON.stringify(broken));
    assert.equal((await readRunInfo(dir)).distillation, undefined, JSON.stringify(broken));
  }
  writeFileSync(file, '{"teacher": ');
  assert.equal((await readRunInfo(dir)).distillation, undefined);
});

test('a status.json the runs view would reject is left out of the run info too', async (t) => {
  const dir = runDir(t, 'odd-20250101-120000');
  writeFileSync(join(dir, 'status.json'), JSON.stringify({ state: 'exploded', step: 1 }));
  assert.equal((await readRunInfo(dir)).status, undefined);
  writeFileSync(join(dir, 'status.json'), JSON.stringify({ state: 'running' }));
  assert.equal((await readRunInfo(dir)).status?.step, 0);
});

test('readStatusFile: missing is neither status nor error; broken says why', async (t) => {
  const dir = runDir(t);
  assert.deepEqual(await readStatusFile(dir), {});
  writeFileSync(join(dir, 'status.json'), '{"state":');
  assert.match((await readStatusFile(dir)).error ?? '', /not valid JSON/);
  writeStatus(dir, { step: 7 });
  assert.equal((await readStatusFile(dir)).status?.step, 7);
  const odd = runDir(t, 'odd-20250101-120000');
  mkdirSync(join(odd, 'status.json')); // unreadable as a file
  assert.match((await readStatusFile(odd)).error ?? '', /^status\.json: /);
});

test('the panel gets config.yaml as parsed, the runs view only a mapping', async (t) => {
  const dir = runDir(t);
  writeFileSync(join(dir, 'config.yaml'), '- a list\n');
  assert.deepEqual((await readRunInfo(dir)).config, ['a list']);
  assert.equal(await readRunConfig(dir), undefined);
  writeFileSync(join(dir, 'config.yaml'), 'model: [unclosed\n');
  assert.equal('config' in (await readRunInfo(dir)), false);
});

test('run files are read within bounds: a huge status.json is an error, an alias bomb config is left out', async (t) => {
  const dir = runDir(t);
  writeFileSync(join(dir, 'status.json'), '{"state": "running"}');
  truncateSync(join(dir, 'status.json'), 2 ** 40); // sparse: only a reader that measures first is quick
  assert.equal(
    (await readStatusFile(dir)).error,
    'status.json: the file is 1 TB, more than the 4 MB a run file may have',
  );
  // yaml's parse() would throw on it (its maxAliasCount); the bounded parse says so without expanding it.
  writeFileSync(join(dir, 'config.yaml'), aliasBomb(9, 9));
  assert.equal('config' in (await readRunInfo(dir)), false);
  writeFileSync(join(dir, 'config.yaml'), 'model: m\nshared: &s {r: 4}\nlora: *s\n');
  assert.deepEqual((await readRunInfo(dir)).config, { model: 'm', shared: { r: 4 }, lora: { r: 4 } });
});
