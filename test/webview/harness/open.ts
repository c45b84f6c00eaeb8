import type { Page } from 'playwright-core';
import { type Browser, buildWebview, launchChromium } from './browser.js';
import { waitForReady } from './page.js';
import { type Harness, startHarness } from './server.js';

/** The panel's bundle built, served by the harness, and open in Chromium once it has posted `ready`. */
export interface PanelPage {
  harness: Harness;
  browser: Browser;
  page: Page;
  /** Uncaught errors of the page. */
  errors: string[];
  close(): Promise<void>;
}

export async function openPanelPage(root: string): Promise<PanelPage> {
  await buildWebview(root);
  const harness = await startHarness(root);
  const browser = await launchChromium();
  const page = await browser.context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${harness.origin}/?theme=dark`);
  await waitForReady(page);
  return {
    harness,
    browser,
    page,
    errors,
    close: async () => {
      await browser.close();
      await harness.close();
    },
  };
}
