import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError } from '../../src/engine/commands/command.js';
import { scoreCommand } from '../../src/engine/commands/score.js';
import { corpusBleu } from '../../src/engine/tasks/metrics/bleu.js';
import { ROOT } from '../shared/helpers.js';
import { tempDir } from './data/tmp.js';
import { finetune as finetuneIn } from './helpers/cli.js';
import { near } from './tasks/near.js';

// `finetune score` end to end: the CLI source run through tsx in a child process, on files the test
// writes.

const { write: file } = tempDir('score-cli-');

const finetune = (...args: string[]) => finetuneIn(ROOT, 'score', ...args);
/** `finetune score --metric M --predictions P --references R...` plus extra options. */
const score = (metric: string, predictionsFile: string, referenceFiles: string[], ...extra: string[]) =>
  finetune(
    '--metric',
    metric,
    '--predictions',
    predictionsFile,
    ...referenceFiles.flatMap((r) => ['--references', r]),
    ...extra,
  );

/** The single JSON line of a successful run. */
function jsonLine(r: { code: number; stdout: string; stderr: string }): Record<string, unknown> {
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n');
  assert.deepEqual(lines.slice(1), [''], 'exactly one line');
  return JSON.parse(lines[0] as string);
}

// sacreBLEU's README example (test/test_bleu.py): 48.530827 with its two reference files. The
// predictions file has a byte-order mark, CRLF line ends and trailing spaces, which change nothing.
const predictions = file(
  'hyp.txt',
  "\uFEFFThe dog bit the man.  \r\nIt wasn't surprising.\r\nThe man had just bitten him.\r\n",
);
const ref1 = file('ref1.txt', 'The dog bit the man.\nIt was not unexpected.\nThe man bit him first.\n');
const ref2 = file('ref2.txt', 'The dog had bit the man.\nNo one was surprised.\nThe man had bitten the dog.\n');

test("bleu: one JSON line with sacreBLEU's score, statistics and signature", async () => {
  const out = jsonLine(await score('bleu', predictions, [ref1, ref2]));
  assert.deepEqual(Object.keys(out), [
    'name',
    'score',
    'signature',
    'counts',
    'totals',
    'precisions',
    'bp',
    'sys_len',
    'ref_len',
  ]);
  assert.equal(out.name, 'BLEU');
  near(out.score as number, 48.530827, 'BLEU', 1e-6);
  assert.equal(out.signature, 'nrefs:2|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0');
  // The statistics are the API's for the same lines.
  const api = corpusBleu(
    ['The dog bit the man.', "It wasn't surprising.", 'The man had just bitten him.'],
    [
      ['The dog bit the man.', 'It was not unexpected.', 'The man bit him first.'],
      ['The dog had bit the man.', 'No one was surprised.', 'The man had bitten the dog.'],
    ],
  );
  assert.deepEqual(
    [out.counts, out.totals, out.sys_len, out.ref_len],
    [api.counts, api.totals, api.sysLen, api.refLen],
  );
});

test('bleu --tokenize intl --lowercase changes the signature', async () => {
  const out = jsonLine(await score('bleu', predictions, [ref1, ref2], '--tokenize', 'intl'));
  near(out.score as number, 43.91623493, 'intl BLEU (sacreBLEU test/test_bleu.py)', 1e-6);
  const lc = jsonLine(await score('bleu', predictions, [ref1], '--lowercase'));
  assert.equal(lc.signature, 'nrefs:1|case:lc|eff:no|tok:13a|smooth:exp|version:2.6.0');
});

test('chrf: name, score and signature', async () => {
  const chrfHyp = file('c-hyp.txt', 'ab\n');
  const chrfRef = file('c-ref.txt', 'abc\n');
  // Hand-worked in chrf.test.ts: "ab" vs "abc" is 7/11.
  const out = jsonLine(await score('chrf', chrfHyp, [chrfRef]));
  assert.deepEqual(out, {
    name: 'chrF2',
    score: out.score,
    signature: 'nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:2.6.0',
  });
  near(out.score as number, 700 / 11, 'chrF2', 1e-12);
  const pp = jsonLine(await score('chrf', chrfHyp, [chrfRef], '--word-order', '2'));
  assert.equal(pp.name, 'chrF2++');
});

test('rouge: mean precision, recall and fmeasure per type; --newline splits rougeLsum sentences', async () => {
  const hyp = file('r-hyp.txt', 'c d<n>a b\nx\n');
  const ref = file('r-ref.txt', 'a b c d\nx\n');
  const out = jsonLine(await score('rouge', hyp, [ref], '--newline', '<n>'));
  assert.deepEqual(Object.keys(out), [
    'name',
    'aggregate',
    'examples',
    'nrefs',
    'stemmer',
    'rouge1',
    'rouge2',
    'rougeL',
    'rougeLsum',
  ]);
  assert.deepEqual([out.name, out.aggregate, out.examples, out.nrefs, out.stemmer], ['ROUGE', 'mean', 2, 1, false]);
  // Example 1 as in rouge.test.ts: rougeL 1/2, rougeLsum 1; example 2 is a perfect match.
  near((out.rougeL as { fmeasure: number }).fmeasure, (1 / 2 + 1) / 2, 'rougeL');
  near((out.rougeLsum as { fmeasure: number }).fmeasure, 1, 'rougeLsum');
  const types = jsonLine(await score('rouge', hyp, [ref], '--rouge-types', 'rouge1,rougeL'));
  assert.deepEqual(Object.keys(types).slice(5), ['rouge1', 'rougeL']);
  // Without --newline, "<n>" is just a separator of tokens and rougeLsum equals rougeL.
  const plain = jsonLine(await score('rouge', hyp, [ref]));
  assert.deepEqual(plain.rougeLsum, plain.rougeL);
});

test('a references file with another line count names both files and counts', async () => {
  const short = file('short.txt', 'The dog bit the man.\n');
  const r = await score('bleu', predictions, [ref1, short]);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.equal(
    r.stderr,
    `finetune score: --references file '${short}' has 1 lines but --predictions file '${predictions}' has 3\n`,
  );
});

test('a missing file is named', async () => {
  const missing = `${file('present.txt', '')}.missing`;
  const r = await score('chrf', predictions, [missing]);
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    new RegExp(
      `^finetune score: cannot open --references file '${missing.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}': ENOENT`,
    ),
  );
});

test('usage errors: missing options, options of another metric, bad values', async () => {
  // In process: the command throws UsageError, which cli.ts prints with the usage, exit 2.
  const files = ['--predictions', predictions, '--references', ref1];
  const cases: [string[], RegExp][] = [
    [files, /--metric is required/],
    [['--metric', 'bleu', '--references', ref1], /--predictions is required/],
    [['--metric', 'bleu', '--predictions', predictions], /--references is required/],
    [['--metric', 'meteor', ...files], /--metric must be one of bleu, chrf, rouge/],
    [['--metric', 'rouge', '--tokenize', 'intl', ...files], /--tokenize applies to --metric bleu, not rouge/],
    [['--metric', 'bleu', '--tokenize', 'moses', ...files], /--tokenize must be one of 13a, intl, zh, none/],
    [
      ['--metric', 'bleu', '--smooth-value', '0.5', ...files],
      /--smooth-value applies to --smooth-method floor or add-k/,
    ],
    [['--metric', 'rouge', '--rouge-types', 'rouge1,rougeW', ...files], /'rougeW' is not one of/],
    [['--metric', 'chrf', '--beta', '0', ...files], /--beta must be positive/],
    [['--metric', 'chrf', '--char-order', '0', ...files], /cannot both be 0/],
    [['--metric', 'rouge', '--newline', '', ...files], /--newline must not be empty/],
  ];
  for (const [args, message] of cases) {
    await assert.rejects(
      scoreCommand.run(args),
      (err: Error) => err instanceof UsageError && message.test(err.message),
    );
  }
  // Through the CLI: the message, then the usage, exit 2.
  const r = await finetune('--metric', 'bleu', '--predictions', predictions);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^finetune score: --references is required\n\nusage: finetune score/);
});
