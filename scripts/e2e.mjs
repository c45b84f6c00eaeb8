// `npm run test:e2e`: the packaged extension in a real VS Code (code-server), driven by chromium.
//
//   1. scripts/e2e-setup.mjs: Node 24 + code-server into .e2e/ (first use only; needs the npm
//      registry and Debian's packages), chromium checked.
//   2. `npm run package`: the .vsix under test (skip with FINETUNE_E2E_VSIX=<file>).
//   3. code-server --install-extension <vsix> into a fresh .e2e/run/extensions.
//   4. test/e2e/*.e2e.ts with node's test runner, one file at a time (each scenario starts its own
//      code-server and browser). Screenshots and, on failure, logs: test-artifacts/e2e/.
//
//   node scripts/e2e.mjs [filter...]   only the scenario files whose name contains a filter
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { codeServerEntry, nodeBin, setup } from './e2e-setup.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const t0 = Date.now();
const since = () => `${((Date.now() - t0) / 1000).toFixed(1)} s`;

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, ...opts });
  if (r.status !== 0) {
    console.error(`e2e: ${cmd} ${args.join(' ')} exited with ${r.status ?? r.signal}`);
    process.exit(1);
  }
}

setup();
console.error(`e2e: setup done (${since()})`);

const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
let vsix = process.env.FINETUNE_E2E_VSIX;
if (!vsix) {
  run('npm', ['run', 'package']);
  vsix = path.join(root, `${pkg.name}-linux-x64-${pkg.version}.vsix`);
}
console.error(`e2e: ${vsix} (${(fs.statSync(vsix).size / 2 ** 20).toFixed(1)} MiB) (${since()})`);

const runDir = path.join(root, '.e2e', 'run');
fs.rmSync(runDir, { recursive: true, force: true });
fs.mkdirSync(runDir, { recursive: true });
run(
  nodeBin,
  [
    codeServerEntry,
    '--user-data-dir',
    path.join(runDir, 'install-user-data'),
    '--extensions-dir',
    path.join(runDir, 'extensions'),
    '--install-extension',
    path.resolve(vsix),
  ],
  { env: { ...process.env, XDG_CONFIG_HOME: path.join(runDir, 'config') } },
);
console.error(`e2e: extension installed (${since()})`);

const artifacts = path.join(root, 'test-artifacts', 'e2e');
fs.rmSync(artifacts, { recursive: true, force: true });
fs.mkdirSync(artifacts, { recursive: true });

const filters = process.argv.slice(2);
const files = fs
  .readdirSync(path.join(root, 'test', 'e2e'))
  .filter((f) => f.endsWith('.e2e.ts'))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort()
  .map((f) => path.join('test', 'e2e', f));
if (files.length === 0) {
  console.error('e2e: no scenario matched');
  process.exit(1);
}
const r = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=1', ...files],
  { stdio: 'inherit', cwd: root },
);
console.error(`e2e: done in ${since()}; screenshots in ${path.relative(root, artifacts)}/`);
process.exit(r.status ?? 1);
