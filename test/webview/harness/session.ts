import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { type Browser, browserUnavailable, buildWebview, launchChromium } from './browser.js';
import { waitForReady } from './page.js';
import { type Harness, startHarness } from './server.js';

/**
 * One browser test file's setting: the panel's bundle built, served by the harness with the
 * extension's HTML and CSP, and open in a fresh headless Chromium page, ready for the host's
 * messages. What the run panel and the Chat tab tests share.
 */
export const ROOT = resolve(__dirname, '..', '..', '..');
/** Where the browser tests save their screenshots. */
export const ARTIFACTS = join(ROOT, 'test-artifacts', 'webview');

/** The reason `what` (the file's tests) are skipped here, logged once; undefined where Chromium is present. */
export function browserSkip(what: string): string | undefined {
  const why = browserUnavailable();
  if (why) console.log(`# skipping ${what}: ${why}`);
  return why;
}

export interface PanelSession {
  page: Page;
  /** Uncaught errors of the page so far (`pageerror`). */
  errors: string[];
  /** Another page of the same browser with the panel in `theme` (dark, light, high-contrast), ready. */
  openPage(theme: string): Promise<Page>;
  close(): Promise<void>;
}

/** Builds and serves the panel, opens it with the dark theme and waits for its `ready`. */
export async function openPanel(): Promise<PanelSession> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await buildWebview(ROOT);
  let harness: Harness | undefined;
  let browser: Browser | undefined;
  const close = async () => {
    await browser?.close();
    await harness?.close();
  };
  try {
    harness = await startHarness(ROOT);
    browser = await launchChromium();
    const { origin } = harness;
    const { context } = browser;
    const openPage = async (theme: string) => {
      const page = await context.newPage();
      await page.goto(`${origin}/?theme=${theme}`);
      await waitForReady(page);
      return page;
    };
    const errors: string[] = [];
    const page = await context.newPage();
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${origin}/?theme=dark`);
    await waitForReady(page);
    return { page, errors, openPage, close };
  } catch (err) {
    await close();
    throw err;
  }
}
