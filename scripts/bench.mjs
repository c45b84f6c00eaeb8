// `npm run bench [-- --only <suite>]`: builds, runs the engine suites (dist/bench.js), then the
// chart redraw benchmark in Chromium (suite name "chart"), passing --only through to both.
import { spawnSync } from 'node:child_process';

const args = process.argv.slice(2);
const onlyIndex = args.indexOf('--only');
const only = onlyIndex >= 0 ? args[onlyIndex + 1] : undefined;
const run = (cmd, cmdArgs) => {
  const r = spawnSync(cmd, cmdArgs, { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
};
run(process.execPath, ['esbuild.mjs']);
if (only !== 'chart') run(process.execPath, ['dist/bench.js', ...args]);
if (only === undefined || only === 'chart') run(process.execPath, ['--import', 'tsx', 'scripts/bench-chart.mjs']);
