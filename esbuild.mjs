// Bundles the project with esbuild.
//
//   node esbuild.mjs            build every bundle once
//   node esbuild.mjs --watch    build, then rebuild on change until interrupted
//   node esbuild.mjs --minify   minify as well (for packaging)
//
// Each entry of `bundles` is one output file. A bundle whose entry point does not exist yet is
// skipped with a note, so the build works while the source tree grows.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = dirname(fileURLToPath(import.meta.url));
const watch = process.argv.includes('--watch');
const minify = process.argv.includes('--minify');

/**
 * Options every Node bundle shares. onnxruntime-node is a native addon: it stays a runtime require.
 * tsx is named only where the engine runs from its TypeScript sources (corpus/pool.ts starting a
 * worker under tests), never in a bundle.
 */
const node = {
  platform: 'node',
  // ESM builds first: some packages' UMD "main" (jsonc-parser) hides its requires from the bundler.
  mainFields: ['module', 'main'],
  format: 'cjs',
  target: 'node20',
  external: ['onnxruntime-node', 'tsx'],
};

/** @type {Array<{ name: string } & import('esbuild').BuildOptions>} */
const bundles = [
  { name: 'engine CLI', ...node, entryPoints: ['src/engine/cli.ts'], outfile: 'dist/cli.js' },
  { name: 'benchmarks', ...node, entryPoints: ['src/tools/bench/main.ts'], outfile: 'dist/bench.js' },
  // The corpus tokenizer threads (src/engine/corpus/worker.ts): the engine (cli.js, bench.js) starts
  // them from this file, next to its own bundle.
  {
    name: 'corpus tokenizer worker',
    ...node,
    entryPoints: ['src/engine/corpus/worker.ts'],
    outfile: 'dist/corpus-worker.js',
  },
  // The extension host: 'vscode' is provided by VS Code at run time. It never imports the engine;
  // onnxruntime-node stays external so that a stray import could not bundle the native addon.
  {
    name: 'extension',
    ...node,
    external: ['vscode', 'onnxruntime-node'],
    entryPoints: ['src/extension/extension.ts'],
    outfile: 'dist/extension.js',
  },
  // The extension host's config validation worker thread (src/extension/validation/config-worker.ts):
  // the host starts it from this file, so it is a bundle of its own.
  {
    name: 'config validation worker',
    ...node,
    external: ['vscode', 'onnxruntime-node'],
    entryPoints: ['src/extension/validation/config-worker.ts'],
    outfile: 'dist/config-worker.js',
  },
  // The run panel (browser); the CSS it imports (uPlot's) is written next to it as dist/webview.css.
  {
    name: 'webview',
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    entryPoints: ['src/webview/main.ts'],
    outfile: 'dist/webview.js',
  },
];

/** Prints one line per build (and per rebuild in watch mode). */
function reporter(name) {
  return {
    name: 'report',
    setup(build) {
      let started = 0;
      build.onStart(() => {
        started = Date.now();
      });
      build.onEnd((result) => {
        const ms = Date.now() - started;
        const outfile = build.initialOptions.outfile;
        if (result.errors.length > 0) console.error(`[esbuild] ${name}: ${result.errors.length} error(s)`);
        else console.log(`[esbuild] ${name} -> ${outfile} (${ms} ms)`);
      });
    },
  };
}

async function main() {
  const contexts = [];
  let failed = false;
  for (const { name, ...options } of bundles) {
    const missing = options.entryPoints.filter((entry) => !existsSync(join(root, entry)));
    if (missing.length > 0) {
      console.log(`[esbuild] ${name}: skipped, entry point ${missing.join(', ')} does not exist yet`);
      continue;
    }
    const config = {
      absWorkingDir: root,
      bundle: true,
      sourcemap: true,
      minify,
      logLevel: 'warning',
      ...options,
      plugins: [...(options.plugins ?? []), reporter(name)],
    };
    if (watch) {
      const ctx = await esbuild.context(config);
      await ctx.watch();
      contexts.push(ctx);
    } else {
      try {
        await esbuild.build(config);
      } catch {
        failed = true; // esbuild has already printed the errors
      }
    }
  }
  if (watch) {
    console.log('[esbuild] watching for changes (Ctrl+C to stop)');
    const stop = async () => {
      await Promise.all(contexts.map((ctx) => ctx.dispose()));
      process.exit(0);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  } else if (failed) {
    process.exit(1);
  }
}

await main();
