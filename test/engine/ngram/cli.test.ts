import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError } from '../../../src/engine/commands/command.js';
import { ngramCommand } from '../../../src/engine/commands/ngram.js';
import { ROOT } from '../../shared/helpers.js';
import { tempDir } from '../data/tmp.js';
import { finetune as finetuneIn } from '../helpers/cli.js';

// `finetune ngram` end to end: the CLI source run through tsx in a child process, on files the
// test writes.

const { write: file } = tempDir('ngram-cli-');

// Corpus A of hand.test.ts, written with a byte-order mark and CRLF line ends, which must change nothing.
const train = file('train.txt', '\uFEFFa b a\r\nB  a c\r\n\r\n');
const evalFile = file('eval.txt', 'b a zebra\n');

const finetune = (...args: string[]) => finetuneIn(ROOT, 'ngram', ...args);

test('--format json prints one line with smoothing, order, perplexity, tokens, oov', async () => {
  const r = await finetune(
    ...['--order', '2', '--smoothing', 'kneser-ney', '--train', train, '--eval', evalFile, '--format', 'json'],
  );
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 1);
  const out = JSON.parse(lines[0] as string);
  assert.deepEqual(Object.keys(out), ['smoothing', 'order', 'perplexity', 'tokens', 'oov']);
  // The hand-worked order-2 Kneser-Ney probabilities of hand.test.ts for "b a zebra </s>".
  const p1 = (n: number) => (n - 0.75) / 7 + ((0.75 * 4) / 7) * (1 / 5);
  const probs = [
    (1 - 0.75) / 2 + ((0.75 * 2) / 2) * p1(2),
    (2 - 0.75) / 2 + ((0.75 * 1) / 2) * p1(2),
    ((0.75 * 3) / 3) * ((0.75 * 4) / 7) * (1 / 5),
    p1(2),
  ];
  const want = Math.exp(-probs.reduce((s, p) => s + Math.log(p), 0) / 4);
  assert.equal(out.smoothing, 'kneser-ney');
  assert.equal(out.order, 2);
  assert.ok(Math.abs(out.perplexity - want) <= 1e-12 * want, `perplexity ${out.perplexity}, expected ${want}`);
  assert.deepEqual([out.tokens, out.oov], [4, 1]);
});

test('an MLE event never seen in training gives perplexity "inf" and the count of such tokens', async () => {
  // p(a|a) = 0: "a" never follows "a" in training; the other tokens are seen.
  const unseen = file('unseen.txt', 'a a\nb a\n');
  const r = await finetune(
    '--order',
    '2',
    '--smoothing',
    'mle',
    '--train',
    train,
    '--eval',
    unseen,
    '--format',
    'json',
  );
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), {
    smoothing: 'mle',
    order: 2,
    perplexity: 'inf',
    tokens: 6,
    oov: 0,
    zero_prob_tokens: 1,
  });
  const text = await finetune('--order', '2', '--smoothing', 'mle', '--train', train, '--eval', unseen);
  assert.equal(text.stdout, '2-gram mle: perplexity inf (1 token with probability 0) over 6 tokens, 0 OOV\n');
});

test('the human-readable line gives the perplexity, the token count and the OOV count', async () => {
  const r = await finetune(
    '--order',
    '1',
    '--smoothing',
    'laplace',
    '--k',
    '0.5',
    '--train',
    train,
    '--eval',
    evalFile,
  );
  assert.equal(r.code, 0, r.stderr);
  // Unigram counts a 3, b 2, c 1, </s> 2 of 8, |V| = 5: add-0.5 p(b), p(a), p(<unk>), p(</s>).
  const probs = [2.5 / 10.5, 3.5 / 10.5, 0.5 / 10.5, 2.5 / 10.5];
  const ppl = Math.exp(-probs.reduce((s, p) => s + Math.log(p), 0) / 4);
  assert.equal(r.stdout, `1-gram laplace: perplexity ${ppl.toFixed(4)} over 4 tokens, 1 OOV\n`);
});

test('a missing file is an error naming its path; bad options are usage errors', async () => {
  const missing = `${file('present.txt', '')}.missing`;
  const r = await finetune('--order', '3', '--smoothing', 'mle', '--train', missing, '--eval', evalFile);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`cannot open --train file '${missing.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}'`));

  // The CLI turns a UsageError into exit code 2 with the usage text.
  const u = await finetune('--order', '6', '--smoothing', 'mle', '--train', train, '--eval', evalFile);
  assert.equal(u.code, 2, u.stderr);
  assert.match(u.stderr, /--order must be an integer from 1 to 5, got '6'/);
  assert.match(u.stderr, /usage: finetune ngram/);

  // Every other bad option is a UsageError too, raised before any file is read.
  const cases: [string[], RegExp][] = [
    [['--order', '0', '--smoothing', 'mle'], /--order must be an integer from 1 to 5, got '0'/],
    [['--order', 'two', '--smoothing', 'mle'], /--order must be an integer from 1 to 5, got 'two'/],
    [['--smoothing', 'mle'], /--order is required/],
    [['--order', '2', '--smoothing', 'good-turing'], /--smoothing must be one of .*got 'good-turing'/],
    [['--order', '2', '--smoothing', 'kneser-ney', '--discount', '2'], /discount must be in \[0, 1\], got 2/],
    [['--order', '2', '--smoothing', 'kneser-ney', '--discount', 'x'], /--discount must be a number, got 'x'/],
    [['--order', '2', '--smoothing', 'modified-kneser-ney', '--discount', '0.5'], /--discount applies to/],
    [['--order', '2', '--smoothing', 'mle', '--k', '2'], /--k applies to --smoothing laplace only/],
    [['--order', '2', '--smoothing', 'laplace', '--k=-1'], /k must be a positive number, got -1/],
    [['--order', '2', '--smoothing', 'mle', '--format', 'xml'], /--format must be one of json, text/],
  ];
  for (const [args, message] of cases) {
    await assert.rejects(
      ngramCommand.run([...args, '--train', train, '--eval', evalFile]),
      (err: unknown) => err instanceof UsageError && message.test(err.message),
      args.join(' '),
    );
  }
  await assert.rejects(
    ngramCommand.run(['--order', '2', '--smoothing', 'mle', '--train', train]),
    /--eval is required/,
  );
});
