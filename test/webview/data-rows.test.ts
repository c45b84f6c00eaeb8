import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { resolveDataRow } from '../../src/extension/panel/data-rows.js';

/**
 * The host's resolution of the Data tab's `openDataRow` (src/extension/panel/data-rows.ts): a
 * report's file, absolute or relative to the run (or the config's folder), opens only inside the
 * workspace or the run's folder, links followed; anything else is refused with the path named.
 */
const root = realpathSync(mkdtempSync(join(tmpdir(), 'finetune-data-rows-')));
after(() => rmSync(root, { recursive: true, force: true }));

const workspace = join(root, 'ws');
const runDir = join(root, 'runs', 'demo-20250101-120000');
const outside = join(root, 'outside');
for (const d of [join(workspace, 'data'), runDir, outside]) mkdirSync(d, { recursive: true });
writeFileSync(join(workspace, 'data', 'train.jsonl'), '{"text": "a", "label": "x"}\n');
writeFileSync(join(runDir, 'copied.jsonl'), '{}\n');
writeFileSync(join(outside, 'secret.jsonl'), '{}\n');
symlinkSync(join(outside, 'secret.jsonl'), join(workspace, 'data', 'link.jsonl'));
symlinkSync(workspace, join(root, 'ws-link'));

test('a file of the workspace opens, absolute or relative to the config folder', async () => {
  const file = join(workspace, 'data', 'train.jsonl');
  assert.deepEqual(await resolveDataRow(file, 3, { base: workspace, workspace: [workspace] }), { path: file, line: 3 });
  assert.deepEqual(await resolveDataRow('data/train.jsonl', 1, { base: workspace, workspace: [workspace] }), {
    path: file,
    line: 1,
  });
  // A workspace opened through a link contains the same files.
  const viaLink = join(root, 'ws-link');
  assert.equal((await resolveDataRow('data/train.jsonl', 1, { base: viaLink, workspace: [viaLink] })).path, file);
});

test("a run's file resolves against the run folder and opens there, outside the workspace too", async () => {
  const place = await resolveDataRow('copied.jsonl', 2, { base: runDir, workspace: [workspace], runDir });
  assert.deepEqual(place, { path: join(runDir, 'copied.jsonl'), line: 2 });
  await assert.rejects(
    resolveDataRow('copied.jsonl', 2, { base: runDir, workspace: [workspace] }),
    /Refused to open .*copied\.jsonl: it is outside the workspace\./,
  );
});

test('paths outside the workspace and the run, links out of it, missing files and bad lines are refused', async () => {
  const where = { base: workspace, workspace: [workspace], runDir };
  await assert.rejects(
    resolveDataRow(join(outside, 'secret.jsonl'), 1, where),
    /Refused to open .*secret\.jsonl: it is outside the workspace and the run's folder\./,
  );
  await assert.rejects(resolveDataRow('../outside/secret.jsonl', 1, where), /Refused to open/);
  await assert.rejects(resolveDataRow('data/link.jsonl', 1, where), /Refused to open .*link\.jsonl/);
  await assert.rejects(resolveDataRow('data/none.jsonl', 1, where), /The data file .*none\.jsonl does not exist/);
  // The workspace folder itself is not a data file inside it.
  await assert.rejects(resolveDataRow('.', 1, where), /Refused to open/);
  await assert.rejects(resolveDataRow('data', 1, where), /data is not a file/);
  for (const line of [0, -1, 1.5, Number.NaN])
    await assert.rejects(resolveDataRow('data/train.jsonl', line, where), /is not a 1-based line number/);
});
