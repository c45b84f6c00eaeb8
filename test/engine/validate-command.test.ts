import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { validateFile } from '../../src/engine/commands/validate.js';
import { aliasBomb, fixture, ROOT } from '../shared/helpers.js';

let dir = '';

/** A fixture written into the temporary folder, as the path the user would pass. */
function fixtureFile(name: string): string {
  const file = join(dir, name);
  writeFileSync(file, fixture(name));
  return file;
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'finetune-validate-'));
});

after(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the command's body in this process, capturing what it prints. */
async function run(file: string, format: 'text' | 'json' = 'text'): Promise<{ code: number; out: string }> {
  let out = '';
  const code = await validateFile(file, { format, out: { write: (s: string) => (out += s) } });
  return { code, out };
}

test('text output: file:line:col (1-based), severity, message and code; exit 1 on errors', async () => {
  const file = fixtureFile('both-warmups.finetune.yaml');
  const { code, out } = await run(file);
  const shown = file;
  assert.equal(code, 1);
  assert.deepEqual(out.trimEnd().split('\n'), [
    // Only the config is in the folder: its model and data are missing.
    `${shown}:1:8: error: Model folder './models/bert-tiny' not found. [model-not-found]`,
    `${shown}:4:10: error: Data file 'data/train.jsonl' not found. [data-not-found]`,
    `${shown}:6:3: error: Set either warmup_ratio or warmup_steps, not both. [exclusive]`,
    `${shown}:7:3: error: Set either warmup_steps or warmup_ratio, not both. [exclusive]`,
    `${shown}: 4 error(s), 0 warning(s)`,
  ]);
});

test('--format json: the diagnostics with 0-based LSP ranges', async () => {
  const { code, out } = await run(fixtureFile('json-syntax.finetune.json'), 'json');
  assert.equal(code, 1);
  assert.deepEqual(JSON.parse(out), [
    {
      severity: 'error',
      message: "Expected ','.",
      code: 'syntax',
      range: { start: { line: 3, character: 2 }, end: { line: 3, character: 8 } },
    },
  ]);
});

test('the CLI runs `finetune validate`; warnings alone exit 0', () => {
  writeFileSync(join(dir, 'train.jsonl'), '{"text": "hello"}\n');
  const file = join(dir, 'warn.finetune.yaml');
  writeFileSync(file, 'model: org/model\ntask: causal-lm\ndata: {train: train.jsonl}\neval: {every: 10}\n');
  const cli = join(ROOT, 'src', 'engine', 'cli.ts');
  // Relative to the config's folder, as a user would type it; tsx is resolved from the project.
  const tsx = pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
  const child = spawnSync(process.execPath, ['--import', tsx, cli, 'validate', 'warn.finetune.yaml'], {
    cwd: dir,
    encoding: 'utf8',
  });
  assert.equal(child.status, 0, child.stderr);
  assert.equal(
    child.stdout,
    'warn.finetune.yaml:4:1: warning: There is no validation set, so no evaluation runs: set data.validation or data.validation_split. [no-validation]\nwarn.finetune.yaml: 0 error(s), 1 warning(s)\n',
  );
});

test('an alias bomb is one located error (a hang guard, not a timing check: it ran for minutes)', {
  timeout: 60_000,
}, async () => {
  const file = join(dir, 'bomb.finetune.yaml');
  writeFileSync(file, aliasBomb(8, 9));
  const started = Date.now();
  const { code, out } = await run(file);
  const ms = Date.now() - started;
  assert.equal(code, 1);
  assert.deepEqual(out.trimEnd().split('\n'), [
    `${file}:9:8: error: The aliases of this file expand to more than 10000 values (reached here, *d at e[0]): write the values out instead. [alias-limit]`,
    `${file}: 1 error(s), 0 warning(s)`,
  ]);
  console.log(`# alias bomb (8 levels of 9): finetune validate answered in ${ms} ms`);
});

test('a config over the size limit is reported without being read; a folder as data file is no crash', async () => {
  const big = join(dir, 'big.finetune.yaml');
  writeFileSync(big, 'model: m\n');
  truncateSync(big, 2 ** 40);
  const { code, out } = await run(big);
  assert.equal(code, 1);
  assert.match(
    out,
    /big\.finetune\.yaml:1:1: error: The config file is 1 TB, over the 256 KB a config may have: it is not read\. \[too-large\]/,
  );

  mkdirSync(join(dir, 'folder.jsonl'));
  const file = join(dir, 'folder.finetune.yaml');
  writeFileSync(file, 'model: org/model\ntask: causal-lm\ndata: {train: folder.jsonl}\n');
  assert.equal((await run(file)).code, 0);
});
