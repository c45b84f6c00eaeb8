import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse as parseYamlValue } from 'yaml';
import { nodeAt, toValue } from '../../src/shared/config-tree.js';
import {
  Budget,
  type ConfigFs,
  type Diagnostic,
  parseConfigText,
  validateConfig,
  validateConfigText,
} from '../../src/shared/config-validate.js';
import {
  MAX_ALIAS_VALUES,
  MAX_CONFIG_BYTES,
  MAX_CONFIG_DEPTH,
  MAX_DIAGNOSTICS,
  MAX_MODEL_JSON_BYTES,
} from '../../src/shared/limits.js';
import { aliasBomb, CONFIG_HEAD as HEAD, r } from './helpers.js';

// The validator runs in the extension host on every edit: whatever the text, it must answer with
// located diagnostics after bounded work (src/shared/limits.ts), never hang or overflow the stack.

// A hang guard, not a timing check (speed is the benchmark's): before the bound this ran for minutes.
const HANG_GUARD = { timeout: 60_000 };
const brief = (list: Diagnostic[]) => list.map((d) => ({ code: d.code, path: d.path, range: d.range }));

test('an alias bomb is answered with one located error', HANG_GUARD, () => {
  // 9 ** 8 = 43 million values once expanded; `finetune validate` ran past 30 s on it.
  const started = Date.now();
  const { diagnostics } = validateConfigText(aliasBomb(8, 9), 'yaml');
  // Where the count passes the limit: a (10) + b (91) + c (820) + d (7381) aliased values are
  // 8,289 (a itself is not), and e's first *d adds 7,381 more.
  assert.deepEqual(brief(diagnostics), [{ code: 'alias-limit', path: ['e', 0], range: r(8, 7, 8, 9) }]);
  assert.match(diagnostics[0]?.message ?? '', new RegExp(`more than ${MAX_ALIAS_VALUES} values .*\\*d at e\\[0\\]`));
  console.log(`# alias bomb validated in ${Date.now() - started} ms`);
});

test('an alias shares the anchored tree instead of copying it', () => {
  const parsed = parseConfigText('a: &a [1, [2, 3]]\nb: *a\n', 'yaml');
  const a = nodeAt(parsed.root, ['a']);
  const b = nodeAt(parsed.root, ['b']);
  assert.ok(a?.kind === 'array' && b?.kind === 'array');
  assert.equal(b.items, a.items);
  // Only the top takes the alias's place in the text.
  assert.deepEqual(parsed.lines.range(b.span), r(1, 3, 1, 5));
});

test('aliases resolve as the yaml library resolves them', () => {
  const texts = [
    'a: &x 1\nb: &x 2\nc: *x\n',
    'a: &x [&x 1, 2]\nb: *x\n',
    '&k key: 1\nv: *k\n',
    'a: &m {p: 1, q: [1, 2]}\nb: *m\nc: [*m, *m]\n',
    'list: [&i 1, *i, *i]\n',
  ];
  for (const text of texts) {
    assert.deepEqual(toValue(parseConfigText(text, 'yaml').root), parseYamlValue(text), text);
  }
});

test('an alias to its own ancestor, or to no anchor, is a located error', () => {
  const cycle = parseConfigText('a: &a [1, *a]\n', 'yaml');
  assert.deepEqual(brief(cycle.syntax), [{ code: 'alias-cycle', path: ['a', 1], range: r(0, 10, 0, 12) }]);
  const unknown = parseConfigText('model: *nothing\n', 'yaml');
  assert.deepEqual(brief(unknown.syntax), [{ code: 'alias-unknown', path: ['model'], range: r(0, 7, 0, 15) }]);
});

test('nesting past the limit is refused before the parsers recurse, with where it is', () => {
  const n = MAX_CONFIG_DEPTH;
  // At the limit: parsed.
  assert.equal(parseConfigText(`${'['.repeat(n)}${']'.repeat(n)}`, 'yaml').syntax.length, 0);
  assert.equal(parseConfigText(`${'['.repeat(n)}${']'.repeat(n)}`, 'json').syntax.length, 0);
  // One over: refused at the first bracket too deep.
  const yaml = parseConfigText(`x:\n  y: ${'['.repeat(n)}${']'.repeat(n)}\n`, 'yaml');
  assert.deepEqual(brief(yaml.syntax), [
    { code: 'too-deep', path: ['x', 'y', ...Array(n - 2).fill(0)], range: r(1, 5 + n - 2, 1, 5 + n - 1) },
  ]);
  assert.equal(yaml.root, undefined);
  const json = parseConfigText(`{"x": ${'['.repeat(n)}${']'.repeat(n)}}`, 'json');
  assert.deepEqual(brief(json.syntax), [{ code: 'too-deep', path: [], range: r(0, 6 + n - 1, 0, 6 + n) }]);
  // Far past it (the parsers overflow the stack near a thousand levels), in every shape.
  const deep = 50_000;
  const texts: [string, 'yaml' | 'json'][] = [
    [`${'['.repeat(deep)}${']'.repeat(deep)}`, 'yaml'],
    [`${'{a: '.repeat(deep)}1${'}'.repeat(deep)}`, 'yaml'],
    [`${'- '.repeat(deep)}x`, 'yaml'],
    [Array.from({ length: 600 }, (_, i) => `${' '.repeat(i)}- `).join('\n'), 'yaml'],
    [`${'['.repeat(deep)}${']'.repeat(deep)}`, 'json'],
    ['[}'.repeat(deep), 'json'],
  ];
  for (const [text, format] of texts) {
    const { diagnostics } = validateConfigText(text, format);
    assert.deepEqual(
      diagnostics.map((d) => d.code),
      ['too-deep'],
      text.slice(0, 20),
    );
  }
  // An alias may not nest the tree past the limit either.
  const half = Math.ceil(n / 2) + 1;
  const viaAlias = `a: &a ${'['.repeat(half)}${']'.repeat(half)}\nb: ${'['.repeat(half)}*a${']'.repeat(half)}\n`;
  assert.deepEqual(
    parseConfigText(viaAlias, 'yaml').syntax.map((d) => d.code),
    ['too-deep'],
  );
});

test('a config over the size limit is one error and is not parsed', () => {
  const text = `${HEAD}# ${'x'.repeat(MAX_CONFIG_BYTES)}\n`;
  for (const format of ['yaml', 'json'] as const) {
    const { parsed, diagnostics } = validateConfigText(text, format);
    assert.equal(parsed.root, undefined);
    assert.deepEqual(
      diagnostics.map((d) => [d.code, d.range]),
      [['too-large', r(0, 0, 0, 0)]],
    );
    assert.match(
      diagnostics[0]?.message ?? '',
      /The config file is 256\.1 KB, over the 256 KB a config may have: it is not read\./,
    );
  }
  // Bytes are counted in UTF-8: 100k three-byte characters are 300 KB.
  assert.equal(validateConfigText(`a: ${'€'.repeat(100_000)}\n`, 'yaml').diagnostics[0]?.code, 'too-large');
});

test('the diagnostics of one config are capped, and the rest counted in an error', () => {
  const keys = Array.from({ length: MAX_DIAGNOSTICS + 500 }, (_, i) => `k${i}: 1\n`).join('');
  const { diagnostics } = validateConfigText(`${HEAD}${keys}`, 'yaml');
  assert.equal(diagnostics.length, MAX_DIAGNOSTICS + 1);
  const last = diagnostics[MAX_DIAGNOSTICS];
  assert.deepEqual([last?.code, last?.severity], ['too-many', 'error']);
  assert.match(last?.message ?? '', /^500 more problems from here on are not listed/);
});

test('thousands of unknown keys: capped diagnostics, no hang (quadratic work took 30 s)', HANG_GUARD, () => {
  // Each unknown key used to rebuild the set of its mapping's keys: quadratic.
  const keys = Array.from({ length: 10_000 }, (_, i) => `lerning_${i}: 1\n`).join('');
  const started = Date.now();
  const { diagnostics } = validateConfigText(`${HEAD}training:\n${keys.replace(/^/gm, '  ')}`, 'yaml');
  assert.equal(diagnostics.length, MAX_DIAGNOSTICS + 1);
  console.log(`# 10,000 unknown keys validated in ${Date.now() - started} ms (quadratic took 30 s)`);
});

/** A clock that advances `step` ms per reading. */
function steppingClock(step: number): () => number {
  let t = 0;
  return () => {
    t += step;
    return t;
  };
}

test('a validation over its time budget stops between phases and says so', async () => {
  const text = `${HEAD}training:\n  epochs: 0\n`;
  // Spent after the parse: neither the schema nor the rules run.
  const early = validateConfigText(text, 'yaml', new Budget(50, steppingClock(100))).diagnostics;
  assert.deepEqual(
    early.map((d) => d.code),
    ['validation-stopped'],
  );
  assert.match(
    early[0]?.message ?? '',
    /^Validation stopped after 100 ms \(its budget is 50 ms\): the checks after the parse did not run\.$/,
  );
  // Spent after the schema (the epochs error): no rules, and no file checks, which never touch the disk.
  let touched = 0;
  const fs: ConfigFs = {
    exists: async () => {
      touched++;
      return true;
    },
    readText: async () => {
      touched++;
      return '{}';
    },
  };
  const late = await validateConfig(text, 'yaml', { fs, configDir: '/x' }, new Budget(150, steppingClock(100)));
  assert.deepEqual(
    late.map((d) => d.code),
    ['validation-stopped', 'minimum'],
  );
  assert.equal(touched, 0);
  // With time to spare, everything runs.
  const all = await validateConfig(text, 'yaml', { fs, configDir: '/x' }, new Budget(10_000, steppingClock(1)));
  assert.ok(!all.some((d) => d.code === 'validation-stopped'));
  assert.ok(touched > 0);
});

test('the validator tells its budget each phase it enters (what a stopped validation names)', async () => {
  const fs: ConfigFs = { exists: async () => false, readText: async () => undefined };
  const entered = async (text: string) => {
    const budget = new Budget(10_000);
    const phases: string[] = [];
    budget.onPhase = (phase) => phases.push(phase);
    await validateConfig(text, 'yaml', { fs, configDir: '/x' }, budget);
    return phases;
  };
  assert.deepEqual(await entered(`${HEAD}training:\n  epochs: 2\n`), [
    'the parse',
    'the schema checks',
    'the rules across keys',
    'the checks of the files the config names',
  ]);
  // A syntax error ends it after the parse.
  assert.deepEqual(await entered('model: [\n'), ['the parse']);
});

test("a model's config.json over its limit is reported on the model, not read whole", async () => {
  let asked = 0;
  const fs: ConfigFs = {
    exists: async () => true,
    readText: async () => assert.fail('the whole config.json was read'),
    readDir: async () => ['config.json', 'model.safetensors', 'tokenizer.json'],
    readHead: async (_path, bytes) => {
      asked = bytes;
      return ' '.repeat(bytes);
    },
  };
  const list = await validateConfig('model: ./m\ntask: text-classification\ndata: {train: t.csv}\n', 'yaml', {
    fs,
    configDir: '/w',
  });
  assert.ok(asked <= MAX_MODEL_JSON_BYTES + 4);
  const d = list.find((x) => x.code === 'model-config-too-large');
  assert.deepEqual([d?.path, d?.range], [['model'], r(0, 7, 0, 10)]);
  assert.match(d?.message ?? '', /^\.\/m\/config\.json is larger than 4 MB/);
});
