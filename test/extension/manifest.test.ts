import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { COMMAND_IDS, CONTEXT_KEYS, RUNS_VIEW_ID, VIEW_CONTAINER_ID } from '../../src/extension/ids.js';
import { allows, contextValue, RUN_STATES } from '../../src/extension/runs/run-state.js';
import { DEFAULT_RUNS_FOLDER } from '../../src/shared/run-directory.js';

/**
 * package.json "contributes" against the code: stable ids, menus that name real commands and
 * context keys, and run-item menus that agree with the run state machine.
 */
const root = join(__dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const contributes = pkg.contributes;

interface MenuItem {
  command: string;
  when?: string;
  group?: string;
}

test('commands: exactly the ids of the code, under the Fine-tune category', () => {
  const ids = contributes.commands.map((c: { command: string }) => c.command);
  assert.deepEqual([...ids].sort(), [...COMMAND_IDS].sort());
  for (const c of contributes.commands) assert.equal(c.category, 'Fine-tune', c.command);
  const title = (id: string) => contributes.commands.find((c: { command: string }) => c.command === id)?.title;
  assert.equal(title('finetune.startRun'), 'Start Fine-tune');
  assert.equal(title('finetune.newConfig'), 'New Fine-tune Config');
});

test('menus name contributed commands, and when clauses only our context keys', () => {
  const known = new Set<string>(COMMAND_IDS);
  const ours = new Set<string>([...Object.values(CONTEXT_KEYS), RUNS_VIEW_ID]);
  for (const [menu, items] of Object.entries(contributes.menus as Record<string, MenuItem[]>)) {
    for (const item of items) {
      assert.ok(known.has(item.command), `${menu}: ${item.command}`);
      for (const key of item.when?.match(/\bfinetune\.[A-Za-z]+\b/g) ?? []) assert.ok(ours.has(key), `${menu}: ${key}`);
    }
  }
  for (const w of contributes.viewsWelcome) {
    for (const key of w.when?.match(/\bfinetune\.[A-Za-z]+\b/g) ?? []) assert.ok(ours.has(key), key);
    for (const cmd of w.contents.match(/command:(finetune\.[A-Za-z]+)/g) ?? []) assert.ok(known.has(cmd.slice(8)), cmd);
  }
  const palette = new Map((contributes.menus.commandPalette as MenuItem[]).map((m) => [m.command, m.when]));
  assert.equal(palette.get('finetune.stopRun'), CONTEXT_KEYS.hasRunningRuns);
});

/** Which item commands a run item in this state shows, evaluating the `viewItem` part of the when clauses. */
function itemCommands(value: string): Set<string> {
  const shown = new Set<string>();
  for (const item of contributes.menus['view/item/context'] as MenuItem[]) {
    const when = item.when ?? '';
    assert.ok(when.includes(`view == ${RUNS_VIEW_ID}`), when);
    const eq = /viewItem == ([\w.]+)/.exec(when);
    const re = /viewItem =~ \/(.+?)\/(\s|$)/.exec(when);
    if ((eq && eq[1] === value) || (re?.[1] && new RegExp(re[1]).test(value))) shown.add(item.command);
  }
  return shown;
}

test('run item menus agree with the state machine', () => {
  const action = {
    'finetune.stopRun': 'stop',
    'finetune.resumeRun': 'resume',
    'finetune.deleteRun': 'delete',
    'finetune.exportModel': 'export',
  } as const;
  for (const state of RUN_STATES) {
    const shown = itemCommands(contextValue(state));
    for (const [command, act] of Object.entries(action))
      assert.equal(shown.has(command), allows(state, act), `${state}: ${command}`);
    assert.ok(shown.has('finetune.openRun') && shown.has('finetune.showEngineLog'), state);
    assert.equal(shown.has('finetune.fineTuneFromRun'), false, state);
  }
});

test('a completed pre-training run: the completed menu, Fine-tune from This Run, and Serve only for a causal LM', () => {
  const completed = itemCommands(contextValue('completed'));
  for (const task of ['masked-lm', 'causal-lm'] as const) {
    const shown = itemCommands(contextValue('completed', task));
    assert.ok(shown.has('finetune.fineTuneFromRun'), task);
    const others = [...shown].filter((c) => c !== 'finetune.fineTuneFromRun');
    const expected = [...completed].filter((c) => task === 'causal-lm' || c !== 'finetune.serveModel');
    assert.deepEqual(others.sort(), expected.sort(), task);
  }
  assert.ok(completed.has('finetune.serveModel'));
});

test('views, settings, validation, activation and trust', () => {
  assert.equal(pkg.main, './dist/extension.js');
  assert.equal(contributes.viewsContainers.activitybar[0].id, VIEW_CONTAINER_ID);
  assert.deepEqual(
    contributes.views[VIEW_CONTAINER_ID].map((v: { id: string; name: string }) => [v.id, v.name]),
    [[RUNS_VIEW_ID, 'Runs']],
  );
  const props = contributes.configuration.properties;
  assert.deepEqual(props['finetune.device'].enum, ['auto', 'cpu', 'cuda']);
  assert.equal(props['finetune.runsFolder'].default, DEFAULT_RUNS_FOLDER);
  assert.equal(props['finetune.maxConcurrentRuns'].default, 1);
  assert.equal(props['finetune.engineThreads'].default, 0);
  const jv = contributes.jsonValidation[0];
  assert.deepEqual(jv.fileMatch, ['*.finetune.json']);
  assert.ok(existsSync(join(root, jv.url)), `${jv.url} exists`);
  assert.ok(!pkg.activationEvents.includes('*'), 'no eager activation');
  assert.ok(pkg.activationEvents.includes('workspaceContains:**/*.finetune.{yaml,yml,json}'));
  assert.equal(pkg.capabilities.untrustedWorkspaces.supported, 'limited');
  assert.ok(pkg.capabilities.untrustedWorkspaces.restrictedConfigurations.includes('finetune.runsFolder'));
  assert.equal(pkg.engines.vscode, '^1.90.0');
});
