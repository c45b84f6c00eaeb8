import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generationOptions } from '../../src/engine/commands/causal-lm-commands.js';
import { intOption, numberOption, UsageError } from '../../src/engine/commands/command.js';
import { ngramCommand } from '../../src/engine/commands/ngram.js';

const usage = (message: RegExp) => (err: unknown) => err instanceof UsageError && message.test(err.message);

test('numberOption and intOption read numbers and pass an absent flag through', () => {
  assert.equal(numberOption(undefined, 'x'), undefined);
  assert.equal(numberOption('0.5', 'x'), 0.5);
  assert.equal(numberOption('-2', 'x'), -2);
  assert.equal(numberOption('0', 'x'), 0);
  assert.equal(intOption(undefined, 'n'), undefined);
  assert.equal(intOption('0', 'n'), 0);
  assert.equal(intOption('12', 'n'), 12);
  assert.throws(() => numberOption('x', 'temperature'), usage(/^--temperature must be a number, got 'x'$/));
  assert.throws(() => numberOption('Infinity', 'x'), usage(/must be a number/));
  assert.throws(() => intOption('1.5', 'seed'), usage(/^--seed must be a non-negative integer, got '1.5'$/));
  assert.throws(() => intOption('-1', 'seed'), usage(/non-negative integer/));
});

test('a blank value is an error, not 0 (Number("") is 0)', () => {
  for (const blank of ['', ' ', '\t']) {
    assert.throws(() => numberOption(blank, 'temperature'), usage(/^--temperature must be a number, got '\s*'$/));
    assert.throws(() => intOption(blank, 'seed'), usage(/^--seed must be a non-negative integer, got '\s*'$/));
  }
  // `--temperature=` used to mean temperature 0 (greedy sampling), `--top-k=` top-k 0.
  assert.throws(() => generationOptions({ temperature: '' }), usage(/--temperature must be a number, got ''/));
  assert.throws(() => generationOptions({ 'top-p': '' }), usage(/--top-p must be a number/));
  assert.throws(() => generationOptions({ 'top-k': '' }), usage(/--top-k must be a non-negative integer/));
  assert.throws(() => generationOptions({ 'max-new-tokens': '' }), usage(/--max-new-tokens/));
  assert.throws(() => generationOptions({ seed: ' ' }), usage(/--seed/));
  assert.deepEqual(generationOptions({ temperature: '0.7', 'top-k': '5', seed: '3' }), {
    doSample: true,
    temperature: 0.7,
    topK: 5,
    seed: 3,
    useCache: true,
  });
});

test('ngram keeps refusing a blank --discount or --k (the shared numberOption)', async () => {
  await assert.rejects(
    ngramCommand.run(['--order', '2', '--smoothing', 'kneser-ney', '--discount=', '--train', 'a', '--eval', 'b']),
    usage(/^--discount must be a number, got ''$/),
  );
  await assert.rejects(
    ngramCommand.run(['--order', '2', '--smoothing', 'laplace', '--k=', '--train', 'a', '--eval', 'b']),
    usage(/^--k must be a number, got ''$/),
  );
});
