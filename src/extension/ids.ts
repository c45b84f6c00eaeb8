/**
 * Identifiers the manifest (package.json "contributes") and the code share. They are public API:
 * keybindings, the end-to-end tests and users' settings refer to them, so never rename one.
 * No 'vscode' import: test/extension/manifest.test.ts checks package.json against these lists.
 */
export const COMMAND_IDS = [
  'finetune.startRun',
  'finetune.newConfig',
  'finetune.validateConfig',
  'finetune.stopRun',
  'finetune.resumeRun',
  'finetune.openRun',
  'finetune.openSweep',
  'finetune.compareRuns',
  'finetune.deleteRun',
  'finetune.exportModel',
  'finetune.trainTokenizer',
  'finetune.showEngineLog',
  'finetune.refreshRuns',
  'finetune.predictOnSelection',
  'finetune.serveModel',
  'finetune.fineTuneFromRun',
  'finetune.openExample',
  'finetune.showDataReport',
] as const;

export type CommandId = (typeof COMMAND_IDS)[number];

export const VIEW_CONTAINER_ID = 'finetune';
export const RUNS_VIEW_ID = 'finetune.runs';

/** Context keys set with `setContext`, read by `when` clauses in package.json. */
export const CONTEXT_KEYS = {
  hasRuns: 'finetune.hasRuns',
  hasConfigs: 'finetune.hasConfigs',
  hasRunningRuns: 'finetune.hasRunningRuns',
  hasResumableRuns: 'finetune.hasResumableRuns',
  hasDeletableRuns: 'finetune.hasDeletableRuns',
  hasCompletedRuns: 'finetune.hasCompletedRuns',
  canCompareRuns: 'finetune.canCompareRuns',
} as const;

/** Settings, under the `finetune.` section. */
export const SETTINGS = {
  section: 'finetune',
  device: 'device',
  runsFolder: 'runsFolder',
  maxConcurrentRuns: 'maxConcurrentRuns',
  engineThreads: 'engineThreads',
  openPanelOnStart: 'openPanelOnStart',
  servePort: 'serve.port',
} as const;

/** A config file by name: `*.finetune.yaml|yml|json` (DESIGN.md, "Config file"). */
export const CONFIG_FILE_RE = /\.finetune\.(ya?ml|json)$/i;
export const CONFIG_GLOB = '**/*.finetune.{yaml,yml,json}';

/** Open Example Project: the bundled example's config (in examples/sentiment) and the workspace folder it is copied to. */
export const EXAMPLE_CONFIG = 'sentiment.finetune.yaml';
export const EXAMPLE_FOLDER = 'sentiment-example';
