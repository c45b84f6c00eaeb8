#!/usr/bin/env node
// Launcher for the `finetune` CLI: runs the esbuild bundle of src/engine/cli.ts.
const path = require('node:path');

const bundle = path.join(__dirname, '..', 'dist', 'cli.js');
try {
  require.resolve(bundle);
} catch {
  process.stderr.write(
    `finetune: the CLI is not built (${bundle} is missing).\n` +
      `Run \`npm run build\` in ${path.resolve(__dirname, '..')} first (\`npm install\` also builds it).\n`,
  );
  process.exit(1);
}
require(bundle);
