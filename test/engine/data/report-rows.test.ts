import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { dataCommand, dataStats } from '../../../src/engine/commands/data.js';
import { renderReport } from '../../../src/engine/data/report.js';
import { lengthHistogram } from '../../../src/engine/data/stats.js';
import { binRange, type DataReport } from '../../../src/shared/data-report.js';
import { checkDataReport } from '../../../src/shared/data-report-check.js';
import { REPORT_DATASET, writeReportDataset } from '../../fixtures/data-report-dataset.js';
import { tempDir } from './tmp.js';

/**
 * What the Data view reads from the report: token-length histograms, label counts per split, and
 * the file and line of each duplicate, leaked and bad row. Every expected number is counted by hand
 * from the dataset of test/fixtures/data-report-dataset.ts (its comment lists the lines).
 */
const tmp = tempDir('finetune-report-rows-');

test('lengthHistogram: width ceil(max_length/16), bins closed above, the 64th open above', () => {
  const nonzero = (counts: number[]) => counts.flatMap((c, i) => (c > 0 ? [[i, c]] : []));
  // max_length 32 -> width 2: 0 and 1 in bin 0, 8 in bin 3 (7..8), 9 in bin 4, 16 in 7, 17 in 8, 128 in 63.
  const a = lengthHistogram([0, 1, 8, 9, 16, 17, 128], 32);
  assert.deepEqual([a.width, a.counts.length, a.openEnded], [2, 64, undefined]);
  assert.deepEqual(nonzero(a.counts), [
    [0, 2],
    [3, 1],
    [4, 1],
    [7, 1],
    [8, 1],
    [63, 1],
  ]);
  // 130 would need a 65th bin: the 64th (127 and up) is open above and holds 128 and 130.
  const b = lengthHistogram([0, 1, 8, 9, 16, 17, 128, 130], 32);
  assert.deepEqual([b.width, b.counts.length, b.openEnded], [2, 64, true]);
  assert.deepEqual(nonzero(b.counts).slice(-1), [[63, 2]]);
  assert.deepEqual(binRange(63, 2), [127, 128]);
  // max_length 128 -> width 8: the cut is the end of bin 15, lengths 121..128; 129 opens bin 16.
  assert.deepEqual(binRange(15, 8), [121, 128]);
  assert.deepEqual(lengthHistogram([128, 129], 128).counts.slice(15), [1, 1]);
  // Every example fits max_length 512: bins of ceil(10 / 16) = 1 token up to the longest, 10.
  assert.deepEqual(lengthHistogram([3, 5, 10], 512), { width: 1, counts: [0, 0, 1, 0, 1, 0, 0, 0, 0, 1] });
  assert.deepEqual(lengthHistogram([], 8), { width: 1, counts: [0] });
});

test('data stats --format json: histograms, labels per split, and the file:line of every listed row', async () => {
  const config = writeReportDataset(tmp.dir);
  const train = join(tmp.dir, 'train.jsonl');
  const validation = join(tmp.dir, 'validation.jsonl');
  const checked = checkDataReport(JSON.parse(await dataStats(config, true)));
  assert.notEqual(typeof checked, 'string', String(checked));
  const r = checked as DataReport;

  // Bad rows: line 3 (malformed JSON) and line 8 (text not a string).
  assert.equal(r.skipped.count, 2);
  assert.deepEqual(
    r.skipped.rows.map((row) => [row.file, row.line, row.kind]),
    [
      [train, 3, 'malformed-json'],
      [train, 8, 'wrong-type'],
    ],
  );
  // Duplicates: lines 2 and 6 repeat line 1; line 6 with another label.
  const d = r.duplicates.train;
  assert.equal(d.exact, 2);
  assert.deepEqual(
    d.exactExamples.map((p) => [p.kept.line, p.removed.line]),
    [
      [1, 2],
      [1, 6],
    ],
  );
  assert.deepEqual(d.exactExamples[0]?.kept.file, train);
  assert.equal(d.conflicting, 1);
  assert.deepEqual(d.conflicts, [
    { kept: { file: train, line: 1 }, removed: { file: train, line: 6 }, labels: ['"pos"', '"neg"'] },
  ]);
  // Leakage: validation lines 1 and 3 are train lines 5 and 7.
  assert.equal(r.leakage.count, 2);
  assert.deepEqual(r.leakage.examples, [
    { text: 'd e', train: { file: train, line: 5 }, validation: { file: validation, line: 1 } },
    { text: 'x y z w', train: { file: train, line: 7 }, validation: { file: validation, line: 3 } },
  ]);

  // Lengths (whitespace words): train 3, 10, 2, 4, 20; validation 2, 3, 4. max_length 8 -> width 1.
  const stats = r.stats;
  assert.ok(stats);
  assert.equal(stats.maxLength, REPORT_DATASET.maxLength);
  const train20 = new Array<number>(20).fill(0);
  for (const n of REPORT_DATASET.trainLengths) train20[n - 1] = 1;
  assert.deepEqual(stats.train.histogram, { width: 1, counts: train20 });
  assert.deepEqual(stats.validation?.histogram, { width: 1, counts: [0, 1, 1, 1] });
  assert.deepEqual(stats.train.truncated, { count: 2, fraction: 0.4 });
  assert.deepEqual(stats.validation?.truncated, { count: 0, fraction: 0 });
  // Labels (sorted: neg, pos): train keeps lines 1 pos, 4 neg, 5 neg, 7 pos, 9 pos; validation neg, pos, pos.
  const counts = (s: typeof stats.train | undefined) => s?.labels?.map((l) => [l.label, l.count]);
  assert.deepEqual(counts(stats.train), [
    ['neg', 2],
    ['pos', 3],
  ]);
  assert.deepEqual(counts(stats.validation), [
    ['neg', 1],
    ['pos', 2],
  ]);

  // The text form is unchanged by the longer lists: the same lines as before.
  const text = renderReport(r);
  assert.match(text, /skipped rows: 2\n/);
  assert.match(text, /conflict: .*train\.jsonl:6 repeats .*train\.jsonl:1 with label "neg" instead of "pos"/);
  assert.match(text, /leakage: 2 validation examples also in train/);
  assert.doesNotMatch(text, /more in the JSON report/);
});

test('the text form names the first rows of a long list and says where the rest are', async () => {
  const config = writeReportDataset(tmp.dir);
  const r = checkDataReport(JSON.parse(await dataStats(config, true))) as DataReport;
  const leak = r.leakage.examples[0];
  assert.ok(leak);
  const many: DataReport = { ...r, leakage: { count: 9, examples: Array.from({ length: 9 }, () => leak) } };
  const text = renderReport(many);
  assert.equal(text.match(/ = .*train\.jsonl:5: "d e"/g)?.length, 5);
  assert.match(text, / {2}\.\.\. 4 more in the JSON report \(a run.s data-report\.json; data stats --format json\)\n/);
});

test('data stats: --format is text or json; --json is --format json', async () => {
  const config = writeReportDataset(tmp.dir);
  await assert.rejects(
    dataCommand.run(['stats', config, '--format', 'xml']),
    /--format is 'xml', expected text or json/,
  );
  await assert.rejects(dataCommand.run(['stats', config, '--json', '--format', 'text']), /contradict/);
});
