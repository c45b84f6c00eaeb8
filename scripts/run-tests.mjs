// Runs every test/**/*.test.ts with Node's built-in test runner, TypeScript loaded through tsx.
//
//   node scripts/run-tests.mjs                          all tests
//   node scripts/run-tests.mjs graph autodiff           only files whose path contains "graph" or "autodiff"
//   node scripts/run-tests.mjs --test-name-pattern=adam  extra flags (starting with "--") go to `node --test`
//
// The spec reporter ends with the summary lines (ℹ tests N, ℹ pass N, ℹ fail N, ...). Each test file
// runs in its own process, at most two at a time. Exits with the test runner's exit code.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const testDir = join(root, 'test');

/** Every *.test.ts under dir, recursively. */
function findTests(dir) {
  const found = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...findTests(path));
    else if (entry.isFile() && entry.name.endsWith('.test.ts')) found.push(path);
  }
  return found;
}

const args = process.argv.slice(2);
const flags = args.filter((arg) => arg.startsWith('-'));
const filters = args.filter((arg) => !arg.startsWith('-'));

let files = findTests(testDir)
  .map((path) => relative(root, path).split(sep).join('/'))
  .sort();
if (filters.length > 0) files = files.filter((file) => filters.some((filter) => file.includes(filter)));

if (files.length === 0) {
  const what = filters.length > 0 ? `matching ${filters.map((f) => `"${f}"`).join(' or ')}` : 'at all';
  console.error(`run-tests: no test/**/*.test.ts files ${what}`);
  process.exit(1);
}

const nodeArgs = ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=2', ...flags, ...files];
const child = spawn(process.execPath, nodeArgs, { cwd: root, stdio: 'inherit' });

// Ctrl+C reaches the child through the terminal's process group; don't die before it reports.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));

child.on('exit', (code, signal) => {
  if (signal) {
    console.error(`run-tests: test runner killed by ${signal}`);
    process.exit(1);
  }
  process.exit(code ?? 1);
});
