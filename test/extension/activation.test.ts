import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';

/**
 * What activation loads: the static import graph of src/extension/extension.ts. The engine and
 * onnxruntime-node must never be in it (they run in the engine's own process), and the modules
 * the unit tests load in plain Node must not reach 'vscode'.
 */
const root = resolve(__dirname, '..', '..');
const IMPORT =
  /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|require\(\s*['"]([^'"]+)['"]\s*\)/g;

function graph(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    for (const m of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const spec = m[1] ?? m[2] ?? m[3] ?? '';
      if (spec.startsWith('.')) visit(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
      else packages.add(spec);
    }
  };
  visit(resolve(root, entry));
  return { files, packages };
}

test('activation never loads the engine or onnxruntime-node', () => {
  const { files, packages } = graph('src/extension/extension.ts');
  const rel = [...files].map((f) => relative(root, f));
  assert.deepEqual(
    rel.filter((f) => !f.startsWith(join('src', 'extension')) && !f.startsWith(join('src', 'shared'))),
    [],
  );
  assert.ok(!packages.has('onnxruntime-node'));
  assert.ok(packages.has('vscode'));
});

const PURE = [
  'lifecycle.ts',
  'ids.ts',
  'run-context.ts',
  'configs/discovery.ts',
  'configs/templates.ts',
  // The guided New Fine-tune Config's steps and the model scan's items: tested without VS Code.
  'configs/guided-flow.ts',
  'configs/model-items.ts',
  'configs/model-catalog.ts',
  'runs/events.ts',
  'runs/progress.ts',
  'runs/run-state.ts',
  'runs/run-reader.ts',
  'runs/file-tail.ts',
  'panel/run-follower.ts',
  'panel/panel-requests.ts',
  'runs/engine-process.ts',
  'runs/run-queue.ts',
  'runs/run-session.ts',
  'runs/runs-watcher.ts',
  'runs/runs-root.ts',
  'runs/run-owner.ts',
  'runs/engine-launcher.ts',
  'runs/slurm-jobs.ts',
  'runs/config-runs.ts',
  'validation/config-fs.ts',
  // A worker thread has no 'vscode' module at all.
  'validation/config-worker.ts',
  'validation/worker-client.ts',
  'chat/chat-session.ts',
  'chat/chat-models.ts',
  'serve/model-server.ts',
  'panel/playground-host.ts',
  'serve/sse.ts',
];

test('the pure modules do not reach vscode', () => {
  for (const file of PURE) {
    const { packages } = graph(join('src/extension', file));
    assert.ok(!packages.has('vscode'), file);
  }
});
