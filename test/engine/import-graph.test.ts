import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { test } from 'node:test';

/**
 * The folder layering of src/, read from the import statements themselves: a unit is a folder of
 * src/engine (`graph`, `models`, `tasks`, ...; a file directly in src/engine, such as `runtime.ts`,
 * is a unit of its own) or one of the other sides (`shared`, `extension`, `webview`, `tools`).
 * Imports inside a unit are free; between units they must form no cycle, so every folder sits
 * below the ones that use it and a new family or task never reaches back up.
 */
const SRC = resolve(__dirname, '../../src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return e.name.endsWith('.ts') ? [path] : [];
  });
}

function unitOf(file: string): string {
  const parts = relative(SRC, file).split(sep);
  if (parts[0] !== 'engine') return parts[0] as string;
  return parts.length > 2 ? (parts[1] as string) : (parts[1] as string).replace(/\.ts$/, '');
}

/** Relative import specifiers of a file: `import ... from`, `export ... from`, `import('...')`. */
function importsOf(text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(/(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)) found.push(m[1] as string);
  return found;
}

/** unit -> unit -> one import that makes the edge (`file -> specifier`), for messages. */
function unitGraph(): Map<string, Map<string, string>> {
  const graph = new Map<string, Map<string, string>>();
  for (const file of sourceFiles(SRC)) {
    const from = unitOf(file);
    const edges = graph.get(from) ?? new Map<string, string>();
    graph.set(from, edges);
    for (const spec of importsOf(readFileSync(file, 'utf8'))) {
      const to = unitOf(resolve(dirname(file), spec));
      if (to !== from && !edges.has(to)) edges.set(to, `${relative(SRC, file)} -> ${spec}`);
    }
  }
  return graph;
}

/** A cycle of units (with the import behind each edge), or undefined. */
function findCycle(graph: Map<string, Map<string, string>>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (unit: string): string[] | undefined => {
    if (state.get(unit) === 'done') return undefined;
    if (state.get(unit) === 'open') return [...path.slice(path.indexOf(unit)), unit];
    state.set(unit, 'open');
    path.push(unit);
    for (const next of graph.get(unit)?.keys() ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(unit, 'done');
    return undefined;
  };
  for (const unit of graph.keys()) {
    const cycle = visit(unit);
    if (cycle) return cycle;
  }
  return undefined;
}

const graph = unitGraph();

test('import graph: no cycle between the folders of src/', () => {
  const cycle = findCycle(graph);
  const why = cycle?.slice(1).map((to, i) => graph.get(cycle[i] as string)?.get(to));
  assert.equal(cycle, undefined, `folder cycle ${cycle?.join(' -> ')}:\n  ${why?.join('\n  ')}`);
});

test('import graph: each folder imports only the folders below it', () => {
  // What each unit must never import (the layers above it). The lists are checked in both
  // directions by the cycle test; these pin the ones the layout depends on.
  const never: Record<string, readonly string[]> = {
    shared: ['engine', 'extension', 'webview', 'tools'],
    webview: ['extension', 'engine', 'tools'],
    extension: ['engine', 'webview', 'tools'],
    graph: ['models', 'tasks', 'step', 'train', 'inference', 'methods', 'commands'],
    models: ['io', 'data', 'tasks', 'step', 'train', 'inference', 'methods', 'commands', 'runtime'],
    step: ['tasks', 'train', 'inference', 'methods', 'commands'],
    tasks: ['train', 'inference', 'methods', 'commands', 'runtime'],
    inference: ['distill', 'train', 'methods', 'commands'],
    methods: ['train', 'inference', 'commands'],
    // A distillation's teacher is an inference session inside training: train -> distill -> inference.
    distill: ['train', 'methods', 'commands'],
    train: ['commands'],
  };
  const engineUnits = new Set(
    [...graph.keys()].filter((u) => !['shared', 'extension', 'webview', 'tools'].includes(u)),
  );
  const problems: string[] = [];
  for (const [unit, banned] of Object.entries(never)) {
    const edges = graph.get(unit);
    assert.ok(edges, `no unit '${unit}' under src/: update this test with the layout`);
    for (const [to, where] of edges) {
      const isBanned = banned.includes(to) || (banned.includes('engine') && engineUnits.has(to));
      if (isBanned) problems.push(`${unit} imports ${to} (${where})`);
    }
  }
  assert.deepEqual(problems, []);
});

test('import graph: the walk sees the known layers (a parser regression would pass vacuously)', () => {
  assert.ok(graph.get('tasks')?.has('models'), 'tasks -> models');
  assert.ok(graph.get('train')?.has('tasks'), 'train -> tasks');
  assert.ok(graph.get('inference')?.has('step'), 'inference -> step');
  assert.ok(graph.get('distill')?.has('inference'), 'distill -> inference');
  assert.ok(graph.get('extension')?.has('shared'), 'extension -> shared');
});
