import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { type BrowserContext, chromium } from 'playwright-core';

/**
 * Debian's Chromium driven by playwright-core (never a browser download), in a fresh profile
 * that is deleted afterwards; and the panel's bundle, built the way esbuild.mjs builds it.
 */
export { CHROMIUM, CHROMIUM_ARGS } from '../../chromium.js';

import { CHROMIUM, CHROMIUM_ARGS } from '../../chromium.js';

/** Why the browser tests cannot run here, or undefined when they can. In CI they must run. */
export function browserUnavailable(): string | undefined {
  if (existsSync(CHROMIUM)) return undefined;
  const why = `${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium) to run the browser tests`;
  if (process.env.CI) throw new Error(`${why}; .ci/run installs it, so CI must have it.`);
  return why;
}

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

export async function launchChromium(): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'finetune-chromium-'));
  // launchPersistentContext is playwright's way to pass a user data directory: a fresh one here.
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [...CHROMIUM_ARGS],
    viewport: { width: 1280, height: 900 },
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** The webview entry of esbuild.mjs, alone (the engine bundles are not needed here). */
export async function buildWebview(root: string): Promise<void> {
  await build({
    absWorkingDir: root,
    entryPoints: ['src/webview/main.ts'],
    outfile: 'dist/webview.js',
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    sourcemap: true,
    logLevel: 'warning',
  });
}
