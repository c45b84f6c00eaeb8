import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { parse as parseYamlValue, stringify as yamlText } from 'yaml';
import { completeConfig, hoverConfig } from '../../src/shared/config-assist.js';
import { LineIndex } from '../../src/shared/config-tree.js';
import {
  type ConfigFormat,
  type ConfigFs,
  type Diagnostic,
  formatOf,
  resolveConfig,
  validateConfig,
} from '../../src/shared/config-validate.js';
import { MAX_CONFIG_BYTES } from '../../src/shared/limits.js';
import { checkProperty, FUZZ_HANG_GUARD, named } from '../property.js';
import { CONFIG_FIXTURES } from './config-fixtures.js';
import { CONFIG_HEAD } from './helpers.js';

// Configs mutated from the fixtures (text edits, values of other types and ranges, unicode,
// deleted, duplicated and renamed keys, YAML aliases, alias bombs, deep nesting) through
// everything the editor runs on a config: the validator with its file checks, resolveConfig,
// completion and hover. None may throw, every diagnostic must lie within the text, and no input
// may take seconds.

const FIXTURES = Object.entries(CONFIG_FIXTURES).map(([name, text]) => ({ text, format: formatOf(name) }));
const GOOD = ['good.finetune.yaml', 'good.finetune.json'].map((n) => parseYamlValue(CONFIG_FIXTURES[n] as string));

/** Text YAML and JSON give meaning to, for insertions. */
const TOKENS = [
  ...['&a ', '*a', '*b', '<<: *a\n', '[', ']', '{', '}', ': ', ', ', '- ', '? ', '"', "'", '#', '|\n', '>-\n'],
  ...['\t', '\r', '\n', '\r\n', '\0', '\uFEFF', '\u2028', '\uD800', '\uDFFF', '😀', 'é', '\u0301', '\\u12'],
  ...['---\n', '...\n', '%YAML 1.1\n', '!!binary ', '!tag ', '.nan', '.inf', '-.inf', '0x1F', '1e999', '~', 'null'],
];

const at = (t: string, n: number) => n % (t.length + 1);
const lineList = (t: string) => t.split('\n');

type Edit = (text: string) => string;

const textEdit: fc.Arbitrary<Edit> = fc.oneof(
  fc.nat().map((n) => named(`truncate at ${n}`, (t: string) => t.slice(0, at(t, n)))),
  fc
    .tuple(fc.nat(), fc.oneof(fc.constantFrom(...TOKENS), fc.string({ unit: 'binary', maxLength: 6 })))
    .map(([n, s]) =>
      named(`insert ${JSON.stringify(s)} at ${n}`, (t: string) => t.slice(0, at(t, n)) + s + t.slice(at(t, n))),
    ),
  fc
    .tuple(fc.nat(), fc.nat({ max: 40 }))
    .map(([n, k]) => named(`delete ${k} at ${n}`, (t: string) => t.slice(0, at(t, n)) + t.slice(at(t, n) + k))),
  // A line repeated: duplicate keys, or a list item twice.
  fc.tuple(fc.nat(), fc.nat()).map(([i, j]) =>
    named(`copy line ${i} before line ${j}`, (t: string) => {
      const ls = lineList(t);
      ls.splice(j % (ls.length + 1), 0, ls[i % ls.length] as string);
      return ls.join('\n');
    }),
  ),
  // A value anchored on one line and aliased on another.
  fc.tuple(fc.nat(), fc.nat()).map(([i, j]) =>
    named(`anchor &x on line ${i}, alias *x on line ${j}`, (t: string) => {
      const ls = lineList(t);
      const a = i % ls.length;
      const b = j % ls.length;
      ls[a] = (ls[a] as string).replace(/: (\S)/, ': &x $1');
      ls[b] = (ls[b] as string).replace(/: .*$/, ': *x');
      return ls.join('\n');
    }),
  ),
);

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A value of another type or range, unicode included. */
const oddValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.double(),
  fc.integer({ min: -(2 ** 53), max: 2 ** 53 }),
  fc.constantFrom(0, -1, 1e-30, 1e30, 2 ** 31, Number.MAX_VALUE, '', ' ', 'all', 'epoch', '2e-5', 'yes', 'NFKC'),
  fc.string({ unit: 'grapheme', maxLength: 30 }),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.array(fc.string({ maxLength: 8 }), { maxLength: 10 }),
);

/** Every path of keys and indices in a value. */
function paths(v: unknown, at: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = [at];
  if (Array.isArray(v)) v.forEach((x, i) => void out.push(...paths(x, [...at, i])));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) out.push(...paths(x, [...at, k]));
  return out;
}

/** Whether `node` is `v` or lies anywhere within it. */
function contains(v: unknown, node: unknown): boolean {
  if (v === node) return true;
  return v !== null && typeof v === 'object' && Object.values(v).some((x) => contains(x, node));
}

type ValueEdit = (root: Record<string, Json>) => void;

function withParent(
  root: unknown,
  path: (string | number)[],
  f: (parent: Record<string | number, unknown>, key: string | number) => void,
) {
  let node = root as Record<string | number, unknown>;
  for (const step of path.slice(0, -1)) node = node[step] as Record<string | number, unknown>;
  const key = path[path.length - 1];
  if (key !== undefined && node && typeof node === 'object') f(node, key);
}

const valueEdit: fc.Arbitrary<ValueEdit> = fc.oneof(
  fc.tuple(fc.nat(), oddValue).map(([n, v]) =>
    named(`set value ${n} to ${fc.stringify(v)}`, (root: Record<string, Json>) => {
      const ps = paths(root).slice(1);
      withParent(root, ps[n % ps.length] ?? [], (p, k) => {
        p[k] = v;
      });
    }),
  ),
  fc.nat().map((n) =>
    named(`delete value ${n}`, (root: Record<string, Json>) => {
      const ps = paths(root).slice(1);
      withParent(root, ps[n % ps.length] ?? [], (p, k) => {
        if (Array.isArray(p)) p.splice(Number(k), 1);
        else delete p[k];
      });
    }),
  ),
  // A key renamed: a typo, another case, unicode.
  fc.tuple(fc.nat(), fc.string({ unit: 'grapheme', maxLength: 3 })).map(([n, s]) =>
    named(`rename key ${n} with ${JSON.stringify(s)}`, (root: Record<string, Json>) => {
      const ps = paths(root).filter((p) => typeof p[p.length - 1] === 'string');
      withParent(root, ps[n % ps.length] ?? [], (p, k) => {
        if (Array.isArray(p)) return;
        p[`${String(k).slice(1)}${s}`] = p[k];
        delete p[k];
      });
    }),
  ),
  // One value at two places: yaml.stringify writes it as an anchor and an alias.
  fc.tuple(fc.nat(), fc.nat()).map(([i, j]) =>
    named(`share value ${i} at ${j}`, (root: Record<string, Json>) => {
      const ps = paths(root).slice(1);
      const from = ps[i % ps.length] ?? [];
      let shared: unknown;
      withParent(root, from, (p, k) => {
        shared = p[k];
      });
      if (shared === null || typeof shared !== 'object') return;
      const to = ps[j % ps.length] ?? [];
      // Not inside itself: no config (nor JSON) holds a value within itself. Compared by identity, since
      // an earlier share makes one object reachable by two paths.
      withParent(root, to, (p, k) => {
        if (!contains(shared, p)) p[k] = shared;
      });
    }),
  ),
);

const mutatedText = fc.record({
  seed: fc.constantFrom(...FIXTURES),
  edits: fc.array(textEdit, { minLength: 1, maxLength: 4 }),
});

const mutatedValue = fc.record({
  seed: fc.constantFrom(...GOOD),
  edits: fc.array(valueEdit, { minLength: 1, maxLength: 5 }),
  format: fc.constantFrom<ConfigFormat>('yaml', 'json'),
});

/** An alias bomb, or nesting, under a key the schema reads or one it does not know. */
const pathological = fc.record({
  key: fc.constantFrom('eval:\n  metrics', 'data:\n  clean', 'extra', 'training:\n  lora'),
  levels: fc.integer({ min: 1, max: 12 }),
  width: fc.integer({ min: 1, max: 12 }),
  nesting: fc.integer({ min: 0, max: 200 }),
  shape: fc.constantFrom('bomb', 'flow', 'map'),
});

function pathologicalText(p: { key: string; levels: number; width: number; nesting: number; shape: string }): string {
  if (p.shape === 'flow') return `${CONFIG_HEAD}${p.key}: ${'['.repeat(p.nesting)}x${']'.repeat(p.nesting)}\n`;
  if (p.shape === 'map') return `${CONFIG_HEAD}${p.key}: ${'{a: '.repeat(p.nesting)}x${'}'.repeat(p.nesting)}\n`;
  const names = Array.from({ length: p.levels }, (_, i) => `l${i}`);
  let text = 'anchors:\n';
  names.forEach((n, i) => {
    const item = i === 0 ? 'x' : `*${names[i - 1]}`;
    text += `  ${n}: &${n} [${Array(p.width).fill(item).join(', ')}]\n`;
  });
  return `${text}${CONFIG_HEAD}${p.key}: *${names[names.length - 1]}\n`;
}

/** A file system with whatever a model folder and data files might hold. */
const fakeFs: fc.Arbitrary<ConfigFs> = fc
  .record({
    exists: fc.boolean(),
    configJson: fc.oneof(
      fc.json({ maxDepth: 3 }),
      fc.string(),
      fc.constant('{"max_position_embeddings": 8, "num_hidden_layers": 1}'),
    ),
    listing: fc.option(
      fc.array(fc.constantFrom('config.json', 'model.safetensors', 'pytorch_model.bin', 'tokenizer.json')),
    ),
    data: fc.oneof(fc.string({ unit: 'binary' }), fc.constant('{"text": "a", "label": 1}\n{"words": []}\n[1]\n')),
  })
  .map(({ exists, configJson, listing, data }) => ({
    exists: async () => exists,
    readText: async (path: string) => (path.endsWith('config.json') ? configJson : data),
    readHead: async (path: string, bytes: number) => (path.endsWith('config.json') ? configJson : data).slice(0, bytes),
    ...(listing ? { readDir: async () => listing } : {}),
  }));

/** Every diagnostic names a place inside the text, with a code and a message. */
function assertLocated(text: string, list: Diagnostic[]): void {
  const lines = new LineIndex(text);
  for (const d of list) {
    const { start, end } = d.range;
    for (const p of [start, end]) {
      assert.ok(p.line >= 0 && p.line < lines.lineCount, `${d.code}: line ${p.line} of ${lines.lineCount}`);
      // A span may end on the CR of a CRLF line break (the yaml library's ranges include it); LSP
      // clients clamp a character past the line's end, so that one position is allowed.
      const crlf = text[lines.lineEnd(p.line)] === '\r' ? 1 : 0;
      const length = lines.lineEnd(p.line) - lines.lineStart(p.line) + crlf;
      assert.ok(p.character >= 0 && p.character <= length, `${d.code}: character ${p.character} of ${length}`);
    }
    assert.ok(start.line < end.line || (start.line === end.line && start.character <= end.character), d.code);
    assert.ok(d.code !== '' && d.message !== '' && Array.isArray(d.path), JSON.stringify(d));
  }
}

/** Everything the editor runs on a config; a failure quotes the text it failed on. */
async function everything(text: string, format: ConfigFormat, fs: ConfigFs, cursor: number): Promise<void> {
  try {
    await editorRuns(text, format, fs, cursor);
  } catch (error) {
    throw new Error(`${(error as Error).message}\non the ${format} text ${JSON.stringify(text.slice(0, 3000))}`, {
      cause: error,
    });
  }
}

async function editorRuns(text: string, format: ConfigFormat, fs: ConfigFs, cursor: number): Promise<void> {
  const list = await validateConfig(text, format, { fs, configDir: '/work' });
  assertLocated(text, list);
  if (text.length <= MAX_CONFIG_BYTES) assert.ok(!list.some((d) => d.code === 'too-large'));
  const { config, diagnostics } = resolveConfig(text, format);
  assertLocated(text, diagnostics);
  assert.equal(
    config === undefined,
    diagnostics.some((d) => d.severity === 'error'),
  );
  const position = new LineIndex(text).positionAt(cursor % (text.length + 1));
  completeConfig(text, format, position);
  hoverConfig(text, format, position);
}

test('mutated config texts: never a crash, every diagnostic located, no hang', FUZZ_HANG_GUARD, async () => {
  await checkProperty(
    'config text mutations',
    fc.tuple(mutatedText, fakeFs, fc.nat()),
    async ([{ seed, edits }, fs, cursor]) => {
      const text = edits.reduce((t, edit) => edit(t), seed.text);
      await everything(text, seed.format, fs, cursor);
    },
    { numRuns: 400 },
  );
});

test(
  'mutated config values (types, ranges, unicode, keys, aliases): never a crash, located, no hang',
  FUZZ_HANG_GUARD,
  async () => {
    await checkProperty(
      'config value mutations',
      fc.tuple(mutatedValue, fakeFs, fc.nat()),
      async ([{ seed, edits, format }, fs, cursor]) => {
        const root = structuredClone(seed) as Record<string, Json>;
        for (const edit of edits) edit(root);
        const text = format === 'json' ? JSON.stringify(root, null, 2) : yamlText(root);
        await everything(text, format, fs, cursor);
      },
      { numRuns: 400 },
    );
  },
);

test('alias bombs and deep nesting anywhere in a config: answered quickly, located', FUZZ_HANG_GUARD, async () => {
  await checkProperty(
    'config alias bombs and nesting',
    fc.tuple(pathological, fakeFs, fc.nat()),
    async ([p, fs, cursor]) => {
      await everything(pathologicalText(p), 'yaml', fs, cursor);
    },
    { numRuns: 150 },
  );
});
