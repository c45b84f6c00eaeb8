import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkDataReport, parseDataReport } from '../../src/shared/data-report-check.js';
import { minimalReport } from './data-report-fixture.js';

/**
 * The checked reader of data-report.json (src/shared/data-report-check.ts): what the Data tab reads
 * must be there with its type, a wrong part is named by its JSON path, and the engine's own output
 * passes (test/engine/data/report-rows.test.ts checks a full report through it).
 */
const mutate = (change: (r: Record<string, unknown>) => void): unknown => {
  const r = JSON.parse(JSON.stringify(minimalReport())) as Record<string, unknown>;
  change(r);
  return r;
};

test('a well-formed report reads back as it is', () => {
  assert.deepEqual(checkDataReport(minimalReport()), minimalReport());
  assert.deepEqual(parseDataReport(JSON.stringify(minimalReport())), minimalReport());
});

test('a report written before exactExamples existed reads with an empty list', () => {
  const old = mutate((r) => {
    delete (r.duplicates as { train: Record<string, unknown> }).train.exactExamples;
  });
  const checked = checkDataReport(old);
  assert.ok(typeof checked !== 'string');
  assert.deepEqual(checked.duplicates.train.exactExamples, []);
});

test('each wrong part is named by its path', () => {
  const cases: [(r: Record<string, unknown>) => void, string][] = [
    [(r) => delete r.task, 'task is not a string'],
    [(r) => ((r.files as Record<string, unknown>).train = { path: 1 }), 'files.train.examples is not a count'],
    [(r) => ((r.clean as Record<string, unknown>).validation = {}), 'clean.validation.examples is not a count'],
    [
      (r) => ((r.skipped as Record<string, unknown>).rows = [{ file: 'a', line: 1 }]),
      'skipped.rows[0] has no kind and message',
    ],
    [
      (r) =>
        ((r.duplicates as { train: Record<string, unknown> }).train.exactExamples = [
          { kept: { file: 'a', line: 1 }, removed: { file: 'a', line: -2 } },
        ]),
      'duplicates.train.exactExamples[0].removed.line is not a 1-based line number',
    ],
    [(r) => ((r.sizes as Record<string, unknown>).train = 1.5), 'sizes.train is not a count'],
    [(r) => (r.warnings = [1]), 'warnings is not a list of strings'],
    [
      (r) =>
        (r.stats = {
          counter: 'w',
          maxLength: 8,
          warnings: [],
          train: {
            examples: 1,
            tokens: { p50: 1, p90: 1, p99: 1, max: 1, mean: 1 },
            truncated: { count: 0, fraction: 0 },
            histogram: { width: 0, counts: [1] },
          },
        }),
      'stats.train.histogram.width is not a positive integer',
    ],
  ];
  for (const [change, problem] of cases) assert.equal(checkDataReport(mutate(change)), problem);
  assert.equal(
    checkDataReport(mutate((r) => ((r.leakage as Record<string, unknown>).examples = new Array(1001).fill(null)))),
    'leakage.examples has 1001 entries, more than 1000',
  );
});

test("a streamed run's report and text that is not JSON are refused with the reason", () => {
  assert.match(String(checkDataReport({ task: 'causal-lm', streamed: {}, sizes: {} })), /a streamed run's report/);
  assert.match(
    String(parseDataReport('{"task":', '/runs/r/data-report.json')),
    /^\/runs\/r\/data-report\.json is not valid JSON/,
  );
  assert.equal(checkDataReport([]), 'not a JSON object');
});
